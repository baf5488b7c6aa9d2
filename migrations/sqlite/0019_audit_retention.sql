-- Audit retention (issue 13): an organization may keep its events for a
-- number of days (NULL: for ever, the default). Purging old events writes
-- a purge row first, naming the last purged seq and its hash, so what
-- remains still verifies: the first remaining event must follow that hash.
ALTER TABLE organizations ADD COLUMN audit_retention_days INTEGER
    CHECK (audit_retention_days IS NULL OR audit_retention_days > 0);

-- organization_id NULL: the installation's chain.
CREATE TABLE audit_purges (
    organization_id    BLOB REFERENCES organizations (id),
    purged_through_seq INTEGER NOT NULL CHECK (purged_through_seq > 0),
    hash               TEXT NOT NULL,
    purged_before      TEXT NOT NULL,
    created_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_purges_chain_seq ON audit_purges (organization_id, purged_through_seq);
CREATE UNIQUE INDEX audit_purges_installation_seq ON audit_purges (purged_through_seq) WHERE organization_id IS NULL;

-- Purge rows are kept for ever, as written.
CREATE TRIGGER audit_purges_no_update BEFORE UPDATE ON audit_purges BEGIN
    SELECT RAISE(ABORT, 'audit_purges is append-only');
END;
CREATE TRIGGER audit_purges_no_delete BEFORE DELETE ON audit_purges BEGIN
    SELECT RAISE(ABORT, 'audit_purges is append-only');
END;

-- The one deletion allowed from the audit log: events a purge row covers.
DROP TRIGGER audit_events_no_delete;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (
    SELECT 1 FROM audit_purges p
    WHERE p.organization_id IS OLD.organization_id AND OLD.seq IS NOT NULL AND p.purged_through_seq >= OLD.seq
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
