# ofpdp container image. It builds nothing: `make image` builds the static binary (CGO_ENABLED=0)
# and copies it, with the host's CA bundle, into the build context (bin/image/). Run it with a
# read-only root filesystem: ofpdp writes only to its database (PostgreSQL, or an SQLite file on a
# mounted volume) and reads its configuration, keys and certificates from mounted files.
FROM scratch

ARG VERSION=v0.2.0-dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown

LABEL org.opencontainers.image.title="ofpdp" \
      org.opencontainers.image.description="Data Provider server for PayNet's Open Finance Platform" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/ofpdp/ofpdp" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${BUILD_DATE}"

COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY ofpdp /usr/local/bin/ofpdp

ENV PATH=/usr/local/bin
WORKDIR /var/lib/ofpdp
# A numeric user, so Kubernetes' runAsNonRoot can verify it without an /etc/passwd.
USER 65532:65532

# api (mTLS, PayNet), web (customers' browsers), ops (metrics and health; set ops.addr to :9090
# in a container, its default is loopback).
EXPOSE 8443 8444 9090

ENTRYPOINT ["ofpdp", "serve"]
