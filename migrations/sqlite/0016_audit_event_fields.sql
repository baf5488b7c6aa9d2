-- Audit events say who acted as they were then, what the target was
-- called, why a refusal was refused and which request it was (issue 13).
-- All nullable: the hash's canonical JSON leaves an absent field out, so
-- events chained before this migration keep their hashes.
-- actor_kind NULL on older rows: a user when actor_user_id is set, else
-- the system (what those rows meant; their hashes did not cover a kind).
ALTER TABLE audit_events ADD COLUMN actor_kind TEXT CHECK (actor_kind IN ('user', 'operator', 'system'));
ALTER TABLE audit_events ADD COLUMN actor_email TEXT;
ALTER TABLE audit_events ADD COLUMN actor_role TEXT;
ALTER TABLE audit_events ADD COLUMN target_name TEXT;
ALTER TABLE audit_events ADD COLUMN reason_code TEXT;
ALTER TABLE audit_events ADD COLUMN user_agent TEXT;
ALTER TABLE audit_events ADD COLUMN request_id TEXT;

-- Reading the log (newest first by seq, filtered): one index per filter
-- that narrows a chain, each ending in seq so a page is an index range.
CREATE INDEX audit_events_action_idx ON audit_events (organization_id, action, seq);
CREATE INDEX audit_events_actor_idx ON audit_events (organization_id, actor_user_id, seq);
CREATE INDEX audit_events_target_idx ON audit_events (organization_id, target_id, seq);
CREATE INDEX audit_events_time_idx ON audit_events (organization_id, created_at);

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
    AND NEW.request_id IS OLD.request_id
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
