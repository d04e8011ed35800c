// Package outbox delivers the consent updates that did not reach PayNet (negative-tests C11;
// spec paynet-dp.md §3.2.1, §5.2; design.md §3.9, §5).
//
// When the customer's PATCH /v1/consents/{consent_id} fails with an unknown outcome (network
// error, timeout, 5xx or 429 after all of paynet.Client's attempts), PayNet may or may not have
// applied it while the DP recorded the journey as failed or rejected. The customer journey
// (internal/web) then stores a compensating, status-only update in the store's outbox: failed
// after an authorization PayNet did not confirm, or the same rejected/failed status that did not
// get through. A Worker, running in every replica, claims due items under a lease (so two replicas
// never send the same item at once), PATCHes {consent_id, status} through the same paynet.Client,
// and ends each item as delivered, refused (a definite 4xx: logged at ERROR for an operator to
// reconcile) or abandoned after MaxAttempts, retrying in between with exponential backoff
// (1, 2, 4 … minutes, capped at 30). Its metrics are ofpdp_consent_update_outbox_pending and
// ofpdp_consent_update_outbox_total{outcome}.
package outbox
