-- Consent updates that still have to reach PayNet (negative-tests C11; design.md §5, §3.9): when
-- the customer's PATCH to PayNet failed with an unknown outcome, a compensating status-only update
-- waits here until the outbox worker delivers it, PayNet refuses it, or it is abandoned.
-- Same dialect as 00001: TEXT, BIGINT instants in Unix nanoseconds (0 = none).

-- +goose Up
CREATE TABLE consent_update_outbox (
    consent_id      TEXT PRIMARY KEY, -- one compensating update per consent; the first enqueued wins
    status          TEXT NOT NULL,    -- status to send: rejected | failed
    reason          TEXT NOT NULL,    -- why (short code, e.g. patch_failed); never sent, for operators
    attempts        BIGINT NOT NULL,  -- deliveries tried (counted when claimed)
    next_attempt_at BIGINT NOT NULL,  -- due from this instant
    lease_until     BIGINT NOT NULL,  -- a worker holds it until then (0 = free)
    last_error      TEXT NOT NULL,    -- the last delivery error, no bodies
    created_at      BIGINT NOT NULL,
    done_at         BIGINT NOT NULL,  -- 0 while pending
    outcome         TEXT NOT NULL     -- "" while pending; delivered | refused: <code> | abandoned
);
CREATE INDEX consent_update_outbox_due ON consent_update_outbox (done_at, next_attempt_at);

-- +goose Down
DROP TABLE consent_update_outbox;
