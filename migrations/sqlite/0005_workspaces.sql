-- Workspaces on a real engine: templates, the full workspace row, its
-- timeline, and per-organization quotas held by the database itself; see
-- ../postgres/0005_workspaces.sql for what counts. SQLite serialises
-- writers, so the triggers' updates and the named CHECKs are exact here too.

CREATE TABLE workspace_templates (
    id                  BLOB PRIMARY KEY NOT NULL,
    name                TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    image               TEXT    NOT NULL,
    command             TEXT,
    default_vcpu        INTEGER NOT NULL,
    default_memory_mib  INTEGER NOT NULL,
    default_storage_gib INTEGER NOT NULL,
    max_vcpu            INTEGER NOT NULL,
    max_memory_mib      INTEGER NOT NULL,
    max_storage_gib     INTEGER NOT NULL,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    CONSTRAINT workspace_templates_sizes CHECK (
        default_vcpu > 0 AND default_memory_mib > 0 AND default_storage_gib > 0
        AND default_vcpu <= max_vcpu AND default_memory_mib <= max_memory_mib AND default_storage_gib <= max_storage_gib)
);
CREATE UNIQUE INDEX workspace_templates_name_key ON workspace_templates (lower(name));

ALTER TABLE organizations ADD COLUMN autostop_after_hours INTEGER CHECK (autostop_after_hours IS NULL OR autostop_after_hours > 0);
ALTER TABLE organizations ADD COLUMN self_service_workspaces BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN workspaces_owned INTEGER NOT NULL DEFAULT 0 CHECK (workspaces_owned >= 0);

-- SQLite cannot add constrained columns to a table in place: the table is
-- made anew and the rows (a name only, so far) copied over.
DROP TRIGGER workspaces_count_insert;
DROP TRIGGER workspaces_count_delete;
DROP TRIGGER workspaces_count_move;
CREATE TABLE workspaces_new (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL REFERENCES organizations (id),
    owner_id         BLOB REFERENCES users (id) ON DELETE SET NULL,
    template_id      BLOB REFERENCES workspace_templates (id),
    name             TEXT    NOT NULL,
    vcpu_millicores  INTEGER NOT NULL DEFAULT 0 CHECK (vcpu_millicores >= 0),
    memory_mib       INTEGER NOT NULL DEFAULT 0 CHECK (memory_mib >= 0),
    storage_gib      INTEGER NOT NULL DEFAULT 0 CHECK (storage_gib >= 0),
    desired_state    TEXT    NOT NULL DEFAULT 'stopped' CHECK (desired_state IN ('running', 'stopped', 'deleted')),
    status           TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'provisioning', 'starting',
        'running', 'stopping', 'stopped', 'suspended', 'deleting', 'deleted', 'failed', 'unknown')),
    status_reason    TEXT    NOT NULL DEFAULT '',
    suspended_reason TEXT,
    engine_ref       TEXT,
    autostop_at      TEXT,
    lease_owner      BLOB,
    lease_until      TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    deleted_at       TEXT
);
INSERT INTO workspaces_new (id, organization_id, name, created_at, updated_at)
    SELECT id, organization_id, name, created_at, created_at FROM workspaces;
DROP TABLE workspaces;
ALTER TABLE workspaces_new RENAME TO workspaces;
CREATE INDEX workspaces_organization_idx ON workspaces (organization_id);
CREATE UNIQUE INDEX workspaces_name_key ON workspaces (organization_id, lower(name)) WHERE desired_state <> 'deleted';
CREATE INDEX workspaces_org_created_idx ON workspaces (organization_id, created_at, id);
CREATE INDEX workspaces_owner_idx ON workspaces (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX workspaces_due_idx ON workspaces (next_attempt_at) WHERE status <> 'deleted';

CREATE TABLE workspace_events (
    id              BLOB PRIMARY KEY NOT NULL,
    workspace_id    BLOB NOT NULL REFERENCES workspaces (id),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    occurred_at     TEXT NOT NULL,
    actor_user_id   BLOB,
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX workspace_events_workspace_idx ON workspace_events (workspace_id, occurred_at, id);

CREATE TABLE organization_quotas (
    organization_id         BLOB PRIMARY KEY NOT NULL REFERENCES organizations (id),
    max_workspaces          INTEGER CHECK (max_workspaces IS NULL OR max_workspaces >= 0),
    max_running             INTEGER CHECK (max_running IS NULL OR max_running >= 0),
    max_vcpu                INTEGER CHECK (max_vcpu IS NULL OR max_vcpu >= 0),
    max_memory_mib          INTEGER CHECK (max_memory_mib IS NULL OR max_memory_mib >= 0),
    max_storage_gib         INTEGER CHECK (max_storage_gib IS NULL OR max_storage_gib >= 0),
    max_workspaces_per_user INTEGER CHECK (max_workspaces_per_user IS NULL OR max_workspaces_per_user >= 0),
    workspaces_used         INTEGER NOT NULL DEFAULT 0 CHECK (workspaces_used >= 0),
    running_used            INTEGER NOT NULL DEFAULT 0 CHECK (running_used >= 0),
    vcpu_used               INTEGER NOT NULL DEFAULT 0 CHECK (vcpu_used >= 0),
    memory_mib_used         INTEGER NOT NULL DEFAULT 0 CHECK (memory_mib_used >= 0),
    storage_gib_used        INTEGER NOT NULL DEFAULT 0 CHECK (storage_gib_used >= 0),
    CONSTRAINT quota_workspaces CHECK (max_workspaces IS NULL OR workspaces_used <= max_workspaces),
    CONSTRAINT quota_running    CHECK (max_running IS NULL OR running_used <= max_running),
    CONSTRAINT quota_vcpu       CHECK (max_vcpu IS NULL OR vcpu_used <= max_vcpu),
    CONSTRAINT quota_memory     CHECK (max_memory_mib IS NULL OR memory_mib_used <= max_memory_mib),
    CONSTRAINT quota_storage    CHECK (max_storage_gib IS NULL OR storage_gib_used <= max_storage_gib)
);
INSERT INTO organization_quotas (organization_id, workspaces_used)
    SELECT o.id, (SELECT COUNT(*) FROM workspaces w WHERE w.organization_id = o.id) FROM organizations o;

CREATE TRIGGER organizations_quotas_row AFTER INSERT ON organizations BEGIN
    INSERT INTO organization_quotas (organization_id) VALUES (NEW.id);
END;

-- What one row contributes: counted while not deleted (count, storage),
-- reserved while desired running (running, vCPU, memory).
CREATE TRIGGER workspaces_usage_insert AFTER INSERT ON workspaces BEGIN
    UPDATE organization_quotas SET
        workspaces_used  = workspaces_used  + (NEW.desired_state <> 'deleted'),
        storage_gib_used = storage_gib_used + (CASE WHEN NEW.desired_state <> 'deleted' THEN NEW.storage_gib ELSE 0 END),
        running_used     = running_used     + (NEW.desired_state = 'running'),
        vcpu_used        = vcpu_used        + (CASE WHEN NEW.desired_state = 'running' THEN NEW.vcpu_millicores ELSE 0 END),
        memory_mib_used  = memory_mib_used  + (CASE WHEN NEW.desired_state = 'running' THEN NEW.memory_mib ELSE 0 END)
    WHERE organization_id = NEW.organization_id;
    UPDATE organizations SET workspaces_count = workspaces_count + (NEW.desired_state <> 'deleted') WHERE id = NEW.organization_id;
    UPDATE users SET workspaces_owned = workspaces_owned + 1 WHERE id = NEW.owner_id AND NEW.desired_state <> 'deleted';
    SELECT RAISE(ABORT, 'CHECK constraint failed: quota_workspaces_per_user')
    WHERE NEW.desired_state <> 'deleted' AND NEW.owner_id IS NOT NULL
      AND (SELECT workspaces_owned FROM users WHERE id = NEW.owner_id)
        > (SELECT max_workspaces_per_user FROM organization_quotas WHERE organization_id = NEW.organization_id);
END;

CREATE TRIGGER workspaces_usage_update AFTER UPDATE OF desired_state, owner_id, vcpu_millicores, memory_mib, storage_gib ON workspaces BEGIN
    UPDATE organization_quotas SET
        workspaces_used  = workspaces_used  - (OLD.desired_state <> 'deleted') + (NEW.desired_state <> 'deleted'),
        storage_gib_used = storage_gib_used
            - (CASE WHEN OLD.desired_state <> 'deleted' THEN OLD.storage_gib ELSE 0 END)
            + (CASE WHEN NEW.desired_state <> 'deleted' THEN NEW.storage_gib ELSE 0 END),
        running_used     = running_used - (OLD.desired_state = 'running') + (NEW.desired_state = 'running'),
        vcpu_used        = vcpu_used
            - (CASE WHEN OLD.desired_state = 'running' THEN OLD.vcpu_millicores ELSE 0 END)
            + (CASE WHEN NEW.desired_state = 'running' THEN NEW.vcpu_millicores ELSE 0 END),
        memory_mib_used  = memory_mib_used
            - (CASE WHEN OLD.desired_state = 'running' THEN OLD.memory_mib ELSE 0 END)
            + (CASE WHEN NEW.desired_state = 'running' THEN NEW.memory_mib ELSE 0 END)
    WHERE organization_id = NEW.organization_id;
    UPDATE organizations SET workspaces_count = workspaces_count - (OLD.desired_state <> 'deleted') + (NEW.desired_state <> 'deleted')
    WHERE id = NEW.organization_id;
    UPDATE users SET workspaces_owned = workspaces_owned - 1 WHERE id = OLD.owner_id AND OLD.desired_state <> 'deleted';
    UPDATE users SET workspaces_owned = workspaces_owned + 1 WHERE id = NEW.owner_id AND NEW.desired_state <> 'deleted';
    SELECT RAISE(ABORT, 'CHECK constraint failed: quota_workspaces_per_user')
    WHERE NEW.desired_state <> 'deleted' AND NEW.owner_id IS NOT NULL
      AND (OLD.desired_state = 'deleted' OR OLD.owner_id IS NOT NEW.owner_id)
      AND (SELECT workspaces_owned FROM users WHERE id = NEW.owner_id)
        > (SELECT max_workspaces_per_user FROM organization_quotas WHERE organization_id = NEW.organization_id);
END;

CREATE TRIGGER workspaces_usage_delete AFTER DELETE ON workspaces BEGIN
    UPDATE organization_quotas SET
        workspaces_used  = workspaces_used  - (OLD.desired_state <> 'deleted'),
        storage_gib_used = storage_gib_used - (CASE WHEN OLD.desired_state <> 'deleted' THEN OLD.storage_gib ELSE 0 END),
        running_used     = running_used     - (OLD.desired_state = 'running'),
        vcpu_used        = vcpu_used        - (CASE WHEN OLD.desired_state = 'running' THEN OLD.vcpu_millicores ELSE 0 END),
        memory_mib_used  = memory_mib_used  - (CASE WHEN OLD.desired_state = 'running' THEN OLD.memory_mib ELSE 0 END)
    WHERE organization_id = OLD.organization_id;
    UPDATE organizations SET workspaces_count = workspaces_count - (OLD.desired_state <> 'deleted') WHERE id = OLD.organization_id;
    UPDATE users SET workspaces_owned = workspaces_owned - 1 WHERE id = OLD.owner_id AND OLD.desired_state <> 'deleted';
END;
