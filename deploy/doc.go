// Package deploy holds the checks of ofpdp's deployment artefacts, run by `make test`: the static
// release build (`make build`), the container image (Dockerfile, `make image`), the Helm chart in
// helm/ofpdp (helm lint, helm template, and every rendered object decoded strictly into its
// Kubernetes API type, so a misspelt or misplaced field fails here and not at `kubectl apply`),
// and the Prometheus alert rules in prometheus/ (promtool check rules and promtool test rules).
//
// It is a module of its own so that the Kubernetes API types never enter ofpdp's module graph.
// Tools that are missing (podman, promtool) skip their test with the reason, except under
// CI=true, where a skipped check is a failure (the same rule as internal/storetest).
package deploy
