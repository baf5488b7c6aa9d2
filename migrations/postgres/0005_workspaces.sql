-- Workspaces on a real engine: templates, the full workspace row, its
-- timeline, and per-organization quotas held by the database itself.
--
-- Quotas hold under any concurrency the same way seat limits do: every
-- change to a workspace row updates its organization's usage row in the
-- same transaction (a trigger; the row lock serialises writers of one
-- organization) and named CHECKs refuse the change that would pass a limit.
-- What counts: every workspace not deleted counts for `workspaces` and
-- `storage`; only those whose desired state is running count for
-- `running`, `vcpu` and `memory`, so starting reserves and stopping
-- releases.

CREATE TABLE workspace_templates (
    id                  UUID        PRIMARY KEY,
    name                TEXT        NOT NULL,
    description         TEXT        NOT NULL DEFAULT '',
    -- A local image; the engine is never asked to pull.
    image               TEXT        NOT NULL,
    -- JSON array of strings overriding the image's command, or NULL.
    command             TEXT,
    default_vcpu        BIGINT      NOT NULL,
    default_memory_mib  BIGINT      NOT NULL,
    default_storage_gib BIGINT      NOT NULL,
    max_vcpu            BIGINT      NOT NULL,
    max_memory_mib      BIGINT      NOT NULL,
    max_storage_gib     BIGINT      NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT workspace_templates_sizes CHECK (
        default_vcpu > 0 AND default_memory_mib > 0 AND default_storage_gib > 0
        AND default_vcpu <= max_vcpu AND default_memory_mib <= max_memory_mib AND default_storage_gib <= max_storage_gib)
);
CREATE UNIQUE INDEX workspace_templates_name_key ON workspace_templates (lower(name));

ALTER TABLE organizations
    ADD COLUMN autostop_after_hours BIGINT CHECK (autostop_after_hours IS NULL OR autostop_after_hours > 0),
    ADD COLUMN self_service_workspaces BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE users ADD COLUMN workspaces_owned BIGINT NOT NULL DEFAULT 0 CHECK (workspaces_owned >= 0);

-- Rows written before this migration: a name only. They become stopped
-- workspaces of size zero, with no template, waiting for an admin.
ALTER TABLE workspaces
    ADD COLUMN owner_id         UUID REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN template_id      UUID REFERENCES workspace_templates (id),
    ADD COLUMN vcpu_millicores  BIGINT NOT NULL DEFAULT 0 CHECK (vcpu_millicores >= 0),
    ADD COLUMN memory_mib       BIGINT NOT NULL DEFAULT 0 CHECK (memory_mib >= 0),
    ADD COLUMN storage_gib      BIGINT NOT NULL DEFAULT 0 CHECK (storage_gib >= 0),
    ADD COLUMN desired_state    TEXT NOT NULL DEFAULT 'stopped' CHECK (desired_state IN ('running', 'stopped', 'deleted')),
    ADD COLUMN status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'provisioning', 'starting',
        'running', 'stopping', 'stopped', 'suspended', 'deleting', 'deleted', 'failed', 'unknown')),
    ADD COLUMN status_reason    TEXT NOT NULL DEFAULT '',
    -- Set while an admin holds it suspended; the owner cannot start it.
    ADD COLUMN suspended_reason TEXT,
    ADD COLUMN engine_ref       TEXT,
    ADD COLUMN autostop_at      TIMESTAMPTZ,
    -- The reconciler instance working on it, until when (a conditional
    -- UPDATE takes it, so several instances never work on one workspace).
    ADD COLUMN lease_owner      UUID,
    ADD COLUMN lease_until      TIMESTAMPTZ,
    ADD COLUMN attempts         BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at  TIMESTAMPTZ,
    ADD COLUMN updated_at       TIMESTAMPTZ,
    ADD COLUMN deleted_at       TIMESTAMPTZ;
UPDATE workspaces SET updated_at = created_at;
ALTER TABLE workspaces ALTER COLUMN updated_at SET NOT NULL;
CREATE UNIQUE INDEX workspaces_name_key ON workspaces (organization_id, lower(name)) WHERE desired_state <> 'deleted';
CREATE INDEX workspaces_org_created_idx ON workspaces (organization_id, created_at, id);
CREATE INDEX workspaces_owner_idx ON workspaces (owner_id) WHERE owner_id IS NOT NULL;
-- What the reconciler scans: everything not finished, by when it is due.
CREATE INDEX workspaces_due_idx ON workspaces (next_attempt_at) WHERE status <> 'deleted';

CREATE TABLE workspace_events (
    id              UUID        PRIMARY KEY,
    workspace_id    UUID        NOT NULL REFERENCES workspaces (id),
    organization_id UUID        NOT NULL REFERENCES organizations (id),
    occurred_at     TIMESTAMPTZ NOT NULL,
    -- NULL: the system (reconciler, auto-stop).
    actor_user_id   UUID,
    from_status     TEXT        NOT NULL,
    to_status       TEXT        NOT NULL,
    reason          TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX workspace_events_workspace_idx ON workspace_events (workspace_id, occurred_at, id);

CREATE TABLE organization_quotas (
    organization_id         UUID   PRIMARY KEY REFERENCES organizations (id),
    -- Limits; NULL is unlimited.
    max_workspaces          BIGINT CHECK (max_workspaces IS NULL OR max_workspaces >= 0),
    max_running             BIGINT CHECK (max_running IS NULL OR max_running >= 0),
    max_vcpu                BIGINT CHECK (max_vcpu IS NULL OR max_vcpu >= 0),
    max_memory_mib          BIGINT CHECK (max_memory_mib IS NULL OR max_memory_mib >= 0),
    max_storage_gib         BIGINT CHECK (max_storage_gib IS NULL OR max_storage_gib >= 0),
    max_workspaces_per_user BIGINT CHECK (max_workspaces_per_user IS NULL OR max_workspaces_per_user >= 0),
    -- Usage, kept by neosc_workspace_usage().
    workspaces_used         BIGINT NOT NULL DEFAULT 0 CHECK (workspaces_used >= 0),
    running_used            BIGINT NOT NULL DEFAULT 0 CHECK (running_used >= 0),
    vcpu_used               BIGINT NOT NULL DEFAULT 0 CHECK (vcpu_used >= 0),
    memory_mib_used         BIGINT NOT NULL DEFAULT 0 CHECK (memory_mib_used >= 0),
    storage_gib_used        BIGINT NOT NULL DEFAULT 0 CHECK (storage_gib_used >= 0),
    CONSTRAINT quota_workspaces CHECK (max_workspaces IS NULL OR workspaces_used <= max_workspaces),
    CONSTRAINT quota_running    CHECK (max_running IS NULL OR running_used <= max_running),
    CONSTRAINT quota_vcpu       CHECK (max_vcpu IS NULL OR vcpu_used <= max_vcpu),
    CONSTRAINT quota_memory     CHECK (max_memory_mib IS NULL OR memory_mib_used <= max_memory_mib),
    CONSTRAINT quota_storage    CHECK (max_storage_gib IS NULL OR storage_gib_used <= max_storage_gib)
);

-- Every organization has its usage row, made with it.
CREATE FUNCTION neosc_organization_quotas_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO organization_quotas (organization_id) VALUES (NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER organizations_quotas_row AFTER INSERT ON organizations
    FOR EACH ROW EXECUTE FUNCTION neosc_organization_quotas_row();

-- The old triggers counted rows; a workspace now counts until it is deleted.
DROP TRIGGER workspaces_count_change ON workspaces;
DROP TRIGGER workspaces_count_move ON workspaces;

CREATE FUNCTION neosc_workspace_usage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d_count BIGINT := 0; d_running BIGINT := 0; d_vcpu BIGINT := 0; d_memory BIGINT := 0; d_storage BIGINT := 0;
    org UUID;
    per_user BIGINT;
    owned BIGINT;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        org := OLD.organization_id;
        IF OLD.desired_state <> 'deleted' THEN
            d_count := d_count - 1; d_storage := d_storage - OLD.storage_gib;
            IF OLD.owner_id IS NOT NULL THEN
                UPDATE users SET workspaces_owned = workspaces_owned - 1 WHERE id = OLD.owner_id;
            END IF;
        END IF;
        IF OLD.desired_state = 'running' THEN
            d_running := d_running - 1; d_vcpu := d_vcpu - OLD.vcpu_millicores; d_memory := d_memory - OLD.memory_mib;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        org := NEW.organization_id;
        IF NEW.desired_state <> 'deleted' THEN
            d_count := d_count + 1; d_storage := d_storage + NEW.storage_gib;
            IF NEW.owner_id IS NOT NULL THEN
                UPDATE users SET workspaces_owned = workspaces_owned + 1 WHERE id = NEW.owner_id
                    RETURNING workspaces_owned INTO owned;
                SELECT max_workspaces_per_user INTO per_user FROM organization_quotas WHERE organization_id = org;
                -- Only a change that adds to the owner's count is refused:
                -- lowering the limit never breaks workspaces that exist.
                IF per_user IS NOT NULL AND owned > per_user AND (TG_OP = 'INSERT' OR OLD.desired_state = 'deleted'
                        OR OLD.owner_id IS DISTINCT FROM NEW.owner_id) THEN
                    RAISE EXCEPTION 'CHECK constraint failed: quota_workspaces_per_user'
                        USING ERRCODE = 'check_violation', CONSTRAINT = 'quota_workspaces_per_user';
                END IF;
            END IF;
        END IF;
        IF NEW.desired_state = 'running' THEN
            d_running := d_running + 1; d_vcpu := d_vcpu + NEW.vcpu_millicores; d_memory := d_memory + NEW.memory_mib;
        END IF;
    END IF;
    IF d_count <> 0 OR d_running <> 0 OR d_vcpu <> 0 OR d_memory <> 0 OR d_storage <> 0 THEN
        UPDATE organization_quotas SET
            workspaces_used = workspaces_used + d_count, running_used = running_used + d_running,
            vcpu_used = vcpu_used + d_vcpu, memory_mib_used = memory_mib_used + d_memory,
            storage_gib_used = storage_gib_used + d_storage
        WHERE organization_id = org;
    END IF;
    IF d_count <> 0 THEN
        UPDATE organizations SET workspaces_count = workspaces_count + d_count WHERE id = org;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER workspaces_usage AFTER INSERT OR DELETE OR UPDATE OF desired_state, owner_id, vcpu_millicores, memory_mib, storage_gib
    ON workspaces FOR EACH ROW EXECUTE FUNCTION neosc_workspace_usage();

-- Usage of what exists now.
INSERT INTO organization_quotas (organization_id, workspaces_used, storage_gib_used)
    SELECT o.id, (SELECT COUNT(*) FROM workspaces w WHERE w.organization_id = o.id),
           (SELECT COALESCE(SUM(w.storage_gib), 0) FROM workspaces w WHERE w.organization_id = o.id)
    FROM organizations o;
