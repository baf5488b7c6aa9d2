-- What the reconciler needs beyond 0005.
--
-- `generation` counts changes of intent (desired state, size, suspension):
-- the reconciler remembers the generation it worked towards and writes what
-- it observed only if nobody changed the intent meanwhile, so a slow engine
-- call never overwrites a newer request with a stale status.
ALTER TABLE workspaces ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
-- Who asked for the current intent and why, for the status reason the
-- reconciler writes when it gets there ("stopped by ann@…").
ALTER TABLE workspaces ADD COLUMN intent_reason TEXT NOT NULL DEFAULT '';
-- Rows made before the reconciler existed are due now.
UPDATE workspaces SET next_attempt_at = created_at WHERE next_attempt_at IS NULL;
