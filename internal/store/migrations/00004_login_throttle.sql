-- Login throttling and the session cap per consent (design.md §5 login_attempts; docs/security.md "Sign-in attempts"): one counter
-- row per key (a hashed username, a hashed username and client address, a hashed client address,
-- a consent, or the global counter), reserved atomically before the core bank is asked, so that
-- parallel requests cannot overrun a limit. Replaces the per-failure rows of login_attempts.
-- Same dialect as 00001: TEXT, BIGINT instants in Unix nanoseconds (0 = none).

-- +goose Up
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY, -- kind prefix + hash; never a username or an address in clear
    attempts     BIGINT NOT NULL,  -- attempts reserved in the current window (failures and ones in flight)
    window_start BIGINT NOT NULL,  -- first attempt of the window; the counter restarts after the window
    next_at      BIGINT NOT NULL   -- past the limit, the next attempt is allowed from here (0 = now)
);
CREATE INDEX login_throttle_window_start ON login_throttle (window_start);
DROP TABLE login_attempts;
-- The journey caps the sessions of one consent (CountSessions).
CREATE INDEX sessions_consent_id ON sessions (consent_id);

-- +goose Down
DROP INDEX sessions_consent_id;
CREATE TABLE login_attempts (
    user_hash  TEXT NOT NULL,
    failed_at  BIGINT NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts (user_hash, failed_at);
CREATE INDEX login_attempts_failed_at ON login_attempts (failed_at);
DROP TABLE login_throttle;
