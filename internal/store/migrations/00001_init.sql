-- ofpdp storage (design.md §5). One dialect for SQLite and PostgreSQL: TEXT for ids, JSON and
-- base64, BIGINT for versions, counters and instants (Unix nanoseconds, UTC).

-- +goose Up
CREATE TABLE consents (
    consent_id  TEXT PRIMARY KEY,
    dc_id       TEXT NOT NULL,
    status      TEXT NOT NULL,   -- local status: PayNet's, or the customer's decision (store.Authorize)
    updated_at  BIGINT NOT NULL, -- PayNet's updated_at
    data        TEXT NOT NULL,   -- the consent as PayNet sent it (JSON of consent.Consent)
    authz       TEXT,            -- the customer's decision (JSON), NULL until decided
    version     BIGINT NOT NULL, -- compare-and-swap counter
    created_at  BIGINT NOT NULL, -- when this DP first stored it
    modified_at BIGINT NOT NULL
);
CREATE INDEX consents_dc_id ON consents (dc_id);

-- Append-only history of every accepted event (design §3.6: raw event, verified signature header, time).
CREATE TABLE consent_events (
    consent_id     TEXT NOT NULL REFERENCES consents (consent_id),
    seq            BIGINT NOT NULL,
    event_type     TEXT NOT NULL,
    action         TEXT NOT NULL,
    raw            TEXT NOT NULL,
    sig_alg        TEXT NOT NULL,
    sig_kid        TEXT NOT NULL,
    sig_jti        TEXT NOT NULL,
    sig_iat        BIGINT NOT NULL,
    interaction_id TEXT NOT NULL,
    received_at    BIGINT NOT NULL,
    PRIMARY KEY (consent_id, seq)
);

-- Browser sessions: only the hash of the session id is stored (design §5).
CREATE TABLE sessions (
    id_hash         TEXT PRIMARY KEY,
    consent_id      TEXT NOT NULL,
    data            TEXT NOT NULL, -- base64
    created_at      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    idle_expiry     BIGINT NOT NULL,
    absolute_expiry BIGINT NOT NULL,
    version         BIGINT NOT NULL
);
CREATE INDEX sessions_absolute_expiry ON sessions (absolute_expiry);

-- Failed logins for lockout across replicas; user_hash = SHA-256 hex of the lower-cased username.
CREATE TABLE login_attempts (
    user_hash  TEXT NOT NULL,
    failed_at  BIGINT NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts (user_hash, failed_at);
CREATE INDEX login_attempts_failed_at ON login_attempts (failed_at);

-- Replay protection (design §3.2): one row per namespaced jti until it expires.
CREATE TABLE replay (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX replay_expires_at ON replay (expires_at);

-- PATCH attempts to PayNet and their outcome.
CREATE TABLE outbound_calls (
    id             TEXT PRIMARY KEY, -- UUIDv7
    consent_id     TEXT NOT NULL,
    method         TEXT NOT NULL,
    url            TEXT NOT NULL,
    interaction_id TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    error_text     TEXT NOT NULL,
    attempt        BIGINT NOT NULL,
    http_status    BIGINT NOT NULL,
    started_at     BIGINT NOT NULL,
    duration_ns    BIGINT NOT NULL
);
CREATE INDEX outbound_calls_consent ON outbound_calls (consent_id, started_at);

-- Append-only audit trail, no PII.
CREATE TABLE audit (
    id             TEXT PRIMARY KEY, -- UUIDv7
    occurred_at    BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    consent_id     TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    interaction_id TEXT NOT NULL,
    detail         TEXT NOT NULL
);
CREATE INDEX audit_occurred_at ON audit (occurred_at);
CREATE INDEX audit_consent ON audit (consent_id);

-- +goose Down
DROP TABLE audit;
DROP TABLE outbound_calls;
DROP TABLE replay;
DROP TABLE login_attempts;
DROP TABLE sessions;
DROP TABLE consent_events;
DROP TABLE consents;
