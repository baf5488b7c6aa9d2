-- Audit events say who acted as they were then, what the target was
-- called, why a refusal was refused and which request it was (issue 13).
-- All nullable: the hash's canonical JSON leaves an absent field out, so
-- events chained before this migration keep their hashes. The append-only
-- trigger (0014) compares whole rows, so it covers these columns as well.
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
