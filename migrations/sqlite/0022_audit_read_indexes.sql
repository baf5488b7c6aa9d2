-- Reading the audit log at 10,000,000 events (issue 13 benchmark, see
-- db::audit_read for the plans).
-- A time range (from/to) is read from the time index and sorted by seq:
-- with seq in the index the range is read from the index alone (no table
-- row per event in the range), and only the page's rows are fetched. The
-- old (organization_id, created_at) index is a prefix of the new one.
DROP INDEX audit_events_time_idx;
CREATE INDEX audit_events_time_idx ON audit_events (organization_id, created_at, seq);
-- actor=<email> compares the email the event recorded (the person as they
-- were then): without an index it read the whole chain backwards for a
-- rare actor.
CREATE INDEX audit_events_actor_email_idx ON audit_events (organization_id, actor_email, seq);
