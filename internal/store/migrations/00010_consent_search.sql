-- Consent management (spec paynet-dp.md §7.3, §7.4): staff search consents by the bank's customer
-- reference and the customer's linked-accounts pages list theirs. customer_ref is the customer_ref
-- of the authorization (authz), written by store.Authorize; '' until the customer decides. Rows
-- decided before this migration keep '' and are found through authz (store.SearchConsents).
-- Same dialect as 00001.

-- +goose Up
ALTER TABLE consents ADD COLUMN customer_ref TEXT NOT NULL DEFAULT '';
CREATE INDEX consents_customer_ref ON consents (customer_ref);
CREATE INDEX consents_created_at ON consents (created_at, consent_id);

-- +goose Down
DROP INDEX consents_created_at;
DROP INDEX consents_customer_ref;
ALTER TABLE consents DROP COLUMN customer_ref;
