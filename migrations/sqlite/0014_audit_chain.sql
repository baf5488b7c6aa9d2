-- Tamper-evident audit log (issue 13, first slice): every organization's
-- events, and the installation's (organization_id NULL), form a hash chain
-- (seq gapless from 1, hash = SHA-256(prev_hash || canonical JSON)).
-- Rows written before this migration stay unchained here (seq, hash NULL);
-- the start-up pass (service::audit::chain_unchained) chains them in order,
-- since hashes are computed in Rust.
DROP TRIGGER audit_events_no_update;
DROP TRIGGER audit_events_no_delete;

ALTER TABLE audit_events ADD COLUMN seq INTEGER;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
ALTER TABLE audit_events ADD COLUMN outcome TEXT NOT NULL DEFAULT 'success'
    CHECK (outcome IN ('success', 'denied', 'failure'));

-- Same mapping as service::audit::outcome_of, for the rows already there.
UPDATE audit_events SET outcome = 'denied'
    WHERE action IN ('login_throttled', 'cross_org_access_denied');
UPDATE audit_events SET outcome = 'failure'
    WHERE action IN ('login_failed', 'mfa_failed', 'sso_login_failed', 'verify_domain_failed', 'reauthentication_failed');

-- One seq per chain. NULLs are distinct in a unique index, so the
-- installation chain has a partial index of its own.
CREATE UNIQUE INDEX audit_events_chain_seq ON audit_events (organization_id, seq);
CREATE UNIQUE INDEX audit_events_installation_seq ON audit_events (seq) WHERE organization_id IS NULL;

-- The head of each chain: the writer of the next event takes this row
-- (an upsert, so the row lock on PostgreSQL) to read seq and prev_hash.
-- chain_key: the organization's id (hyphenated, lower case) or 'installation'.
CREATE TABLE audit_heads (
    chain_key TEXT PRIMARY KEY NOT NULL,
    seq       INTEGER NOT NULL,
    hash      TEXT NOT NULL
);

-- Still append-only. The one update allowed is chaining a row written
-- before the chain existed: seq, prev_hash and hash go from NULL to values,
-- nothing else changes.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN NOT (
    OLD.seq IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
    AND NEW.id = OLD.id AND NEW.organization_id IS OLD.organization_id AND NEW.actor_user_id IS OLD.actor_user_id
    AND NEW.action = OLD.action AND NEW.target_type IS OLD.target_type AND NEW.target_id IS OLD.target_id
    AND NEW.details = OLD.details AND NEW.ip IS OLD.ip AND NEW.created_at = OLD.created_at AND NEW.outcome = OLD.outcome
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
