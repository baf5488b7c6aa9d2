-- How the actor of an event was authenticated for the request (issue 13,
-- "context: session kind"): password, password_mfa, sso, api_token,
-- operator (the command line); NULL for the system and on older rows. The
-- hash's canonical JSON leaves it out when NULL, so earlier events keep
-- their hashes.
ALTER TABLE audit_events ADD COLUMN session_kind TEXT
    CHECK (session_kind IN ('password', 'password_mfa', 'sso', 'api_token', 'operator'));

-- How a session was signed in, so events can say so: password,
-- password_mfa or sso. NULL for sessions opened before this migration.
ALTER TABLE sessions ADD COLUMN auth_method TEXT CHECK (auth_method IN ('password', 'password_mfa', 'sso'));

-- A throttled subject's refusal is recorded once per block: the block
-- whose refusal is already in the audit log, known by its last counted
-- attempt (last_failure_at, which does not move while the subject is
-- blocked).
ALTER TABLE auth_throttle ADD COLUMN refusal_recorded_for TEXT;

-- The append-only trigger names every column that may not change.
DROP TRIGGER audit_events_no_update;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN NOT (
    OLD.seq IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
    AND NEW.id = OLD.id AND NEW.organization_id IS OLD.organization_id AND NEW.actor_user_id IS OLD.actor_user_id
    AND NEW.action = OLD.action AND NEW.target_type IS OLD.target_type AND NEW.target_id IS OLD.target_id
    AND NEW.details = OLD.details AND NEW.ip IS OLD.ip AND NEW.created_at = OLD.created_at AND NEW.outcome = OLD.outcome
    AND NEW.actor_kind IS OLD.actor_kind AND NEW.actor_email IS OLD.actor_email AND NEW.actor_role IS OLD.actor_role
    AND NEW.target_name IS OLD.target_name AND NEW.reason_code IS OLD.reason_code AND NEW.user_agent IS OLD.user_agent
    AND NEW.request_id IS OLD.request_id AND NEW.session_kind IS OLD.session_kind
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
