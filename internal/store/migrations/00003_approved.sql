-- What the customer approved (consent.Approved; design.md §3.9, docs/security.md "Consent widening
-- after approval"): the consent_purpose, permissions and expiration_datetime of the consent as
-- the journey read it before the decision, as JSON with the member names of spec §5.1. NULL until
-- an authorization is recorded; the selected accounts stay in authz. Events after it may only
-- narrow it, and data is served on its intersection with PayNet's consent.
-- Same dialect as 00001.

-- +goose Up
ALTER TABLE consents ADD COLUMN approved TEXT;
-- Consents authorized before this migration: PayNet's consent as stored now is the best record
-- there is of what the customer approved. authz is written by store.Authorize (JSON, "status" first).
UPDATE consents SET approved = data WHERE authz LIKE '{"status":"authorized"%';

-- +goose Down
ALTER TABLE consents DROP COLUMN approved;
