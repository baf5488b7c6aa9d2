-- Signed checkpoints of the audit hash chains (issue 13, tamper evidence):
-- at most one per chain per UTC day, naming the chain's head (seq, hash)
-- as it stood, signed with the installation's Ed25519 key. The statement
-- signed is rebuilt from these columns (service::audit_checkpoints):
-- {"chain":…,"seq":…,"hash":…,"signed_at":…,"key_id":…}.
-- chain_key: as in audit_heads (the organization's id, or 'installation').
CREATE TABLE audit_checkpoints (
    chain_key TEXT    NOT NULL,
    day       TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    hash      TEXT    NOT NULL,
    signed_at TEXT    NOT NULL,
    key_id    TEXT    NOT NULL,
    signature TEXT    NOT NULL,
    PRIMARY KEY (chain_key, day)
);

-- Append-only, like audit_events: a checkpoint is only worth something if
-- it cannot be replaced by one over a rewritten chain.
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
