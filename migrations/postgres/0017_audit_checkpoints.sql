-- Signed checkpoints of the audit hash chains (issue 13, tamper evidence):
-- at most one per chain per UTC day, naming the chain's head (seq, hash)
-- as it stood, signed with the installation's Ed25519 key. The statement
-- signed is rebuilt from these columns (service::audit_checkpoints):
-- {"chain":…,"seq":…,"hash":…,"signed_at":…,"key_id":…}.
-- chain_key: as in audit_heads (the organization's id, or 'installation').
CREATE TABLE audit_checkpoints (
    chain_key TEXT        NOT NULL,
    day       DATE        NOT NULL,
    seq       BIGINT      NOT NULL,
    hash      TEXT        NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL,
    key_id    TEXT        NOT NULL,
    signature TEXT        NOT NULL,
    PRIMARY KEY (chain_key, day)
);

-- Append-only, like audit_events: a checkpoint is only worth something if
-- it cannot be replaced by one over a rewritten chain.
CREATE FUNCTION neosc_audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only';
END $$;
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION neosc_audit_checkpoints_append_only();
