-- The customer's address and user agent with each web audit entry (docs/security.md, audit).
-- Expand only: the columns have defaults, so a binary that does not write them keeps working.

-- +goose Up
ALTER TABLE audit ADD COLUMN client_addr TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit DROP COLUMN user_agent;
ALTER TABLE audit DROP COLUMN client_addr;
