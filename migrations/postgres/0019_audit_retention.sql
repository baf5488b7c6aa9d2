-- Audit retention (issue 13): an organization may keep its events for a
-- number of days (NULL: for ever, the default). Purging old events writes
-- a purge row first, naming the last purged seq and its hash, so what
-- remains still verifies: the first remaining event must follow that hash.
ALTER TABLE organizations ADD COLUMN audit_retention_days BIGINT
    CHECK (audit_retention_days IS NULL OR audit_retention_days > 0);

-- organization_id NULL: the installation's chain.
CREATE TABLE audit_purges (
    organization_id    UUID REFERENCES organizations (id),
    purged_through_seq BIGINT NOT NULL CHECK (purged_through_seq > 0),
    hash               TEXT NOT NULL,
    purged_before      TIMESTAMPTZ NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX audit_purges_chain_seq ON audit_purges (organization_id, purged_through_seq);
CREATE UNIQUE INDEX audit_purges_installation_seq ON audit_purges (purged_through_seq) WHERE organization_id IS NULL;

-- Purge rows are kept for ever, as written.
CREATE FUNCTION neosc_audit_purges_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_purges is append-only';
END $$;
CREATE TRIGGER audit_purges_append_only BEFORE UPDATE OR DELETE ON audit_purges
    FOR EACH ROW EXECUTE FUNCTION neosc_audit_purges_append_only();

-- The one deletion allowed from the audit log: events a purge row covers
-- (besides chaining rows from before 0014, as before).
CREATE OR REPLACE FUNCTION neosc_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.hash IS NULL
       AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
       AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND OLD.seq IS NOT NULL AND EXISTS (
        SELECT 1 FROM audit_purges p
        WHERE p.organization_id IS NOT DISTINCT FROM OLD.organization_id AND p.purged_through_seq >= OLD.seq
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
