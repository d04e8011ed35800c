-- Named leases (design.md §5: several replicas share one database): background jobs that must
-- run on one replica at a time, such as the retention purge, claim a row here with one atomic
-- upsert. Same dialect as 00001: TEXT, BIGINT instants in Unix nanoseconds.

-- +goose Up
CREATE TABLE leases (
    name        TEXT PRIMARY KEY, -- the job, e.g. "retention-purge"
    holder      TEXT NOT NULL,    -- the replica holding it (random per process)
    lease_until BIGINT NOT NULL   -- held until this instant; 0 = released
);

-- +goose Down
DROP TABLE leases;
