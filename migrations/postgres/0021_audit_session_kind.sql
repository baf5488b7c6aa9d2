-- How the actor of an event was authenticated for the request (issue 13,
-- "context: session kind"): password, password_mfa, sso, api_token,
-- operator (the command line); NULL for the system and on older rows. The
-- hash's canonical JSON leaves it out when NULL, so earlier events keep
-- their hashes. The append-only trigger (0014) compares whole rows, so it
-- covers this column as well.
ALTER TABLE audit_events ADD COLUMN session_kind TEXT
    CHECK (session_kind IN ('password', 'password_mfa', 'sso', 'api_token', 'operator'));

-- How a session was signed in, so events can say so: password,
-- password_mfa or sso. NULL for sessions opened before this migration.
ALTER TABLE sessions ADD COLUMN auth_method TEXT CHECK (auth_method IN ('password', 'password_mfa', 'sso'));

-- A throttled subject's refusal is recorded once per block: the block
-- whose refusal is already in the audit log, known by its last counted
-- attempt (last_failure_at, which does not move while the subject is
-- blocked).
ALTER TABLE auth_throttle ADD COLUMN refusal_recorded_for TIMESTAMPTZ;
