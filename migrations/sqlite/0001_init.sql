-- NeoSC schema, SQLite flavour. Ids are UUIDv7 stored as 16-byte BLOBs,
-- timestamps RFC 3339 TEXT in UTC, booleans INTEGER 0/1. The PostgreSQL
-- flavour in ../postgres has the same tables, columns and rules.

CREATE TABLE organizations (
    id               BLOB    PRIMARY KEY NOT NULL,
    name             TEXT    NOT NULL,
    slug             TEXT    NOT NULL,
    domain           TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    seat_limit       INTEGER CHECK (seat_limit IS NULL OR seat_limit >= 0),
    require_mfa      INTEGER NOT NULL DEFAULT 0,
    -- The identity provider's id for this organization (Zitadel org id), so
    -- renames on either side never split a tenant.
    external_id      TEXT,
    is_default       INTEGER NOT NULL DEFAULT 0,
    users_count      INTEGER NOT NULL DEFAULT 0 CHECK (users_count >= 0),
    workspaces_count INTEGER NOT NULL DEFAULT 0 CHECK (workspaces_count >= 0),
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    -- The seat limit holds even under concurrent joins: the count is bumped
    -- by a trigger in the joining transaction, and this check fails it.
    CHECK (seat_limit IS NULL OR users_count <= seat_limit)
);
CREATE UNIQUE INDEX organizations_name_key   ON organizations (lower(name));
CREATE UNIQUE INDEX organizations_slug_key   ON organizations (slug);
CREATE UNIQUE INDEX organizations_domain_key ON organizations (lower(domain));
CREATE UNIQUE INDEX organizations_external_id_key ON organizations (external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX organizations_one_default ON organizations (is_default) WHERE is_default = 1;

CREATE TABLE users (
    id              BLOB    PRIMARY KEY NOT NULL,
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    email           TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    -- NULL for accounts that only sign in through SSO.
    password_hash   TEXT,
    role            TEXT    NOT NULL CHECK (role IN ('platform_admin', 'org_admin', 'user')),
    status          TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    mfa_enabled     INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_organization_idx ON users (organization_id, created_at);

CREATE TABLE workspaces (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX workspaces_organization_idx ON workspaces (organization_id);

-- Server-side sessions. Only a SHA-256 of the token is stored, so a leaked
-- database does not hand out live sessions.
CREATE TABLE sessions (
    id              BLOB PRIMARY KEY NOT NULL,
    token_hash      BLOB NOT NULL,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('browser', 'api')),
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    ip              TEXT,
    user_agent      TEXT
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Append-only audit trail. organization_id is NULL only for installation
-- level events that concern no tenant.
CREATE TABLE audit_events (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB REFERENCES organizations (id),
    actor_user_id   BLOB,
    action          TEXT NOT NULL,
    target_type     TEXT,
    target_id       TEXT,
    details         TEXT NOT NULL DEFAULT '{}',
    ip              TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX audit_events_org_idx ON audit_events (organization_id, id);

-- Counts on organizations are kept by the database itself, in the same
-- transaction as the row change, whichever code path makes it.
CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
    UPDATE organizations SET users_count = users_count + 1 WHERE id = NEW.organization_id;
END;
CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
    UPDATE organizations SET users_count = users_count - 1 WHERE id = OLD.organization_id;
END;
CREATE TRIGGER users_count_move AFTER UPDATE OF organization_id ON users
WHEN OLD.organization_id <> NEW.organization_id BEGIN
    UPDATE organizations SET users_count = users_count - 1 WHERE id = OLD.organization_id;
    UPDATE organizations SET users_count = users_count + 1 WHERE id = NEW.organization_id;
END;
CREATE TRIGGER workspaces_count_insert AFTER INSERT ON workspaces BEGIN
    UPDATE organizations SET workspaces_count = workspaces_count + 1 WHERE id = NEW.organization_id;
END;
CREATE TRIGGER workspaces_count_delete AFTER DELETE ON workspaces BEGIN
    UPDATE organizations SET workspaces_count = workspaces_count - 1 WHERE id = OLD.organization_id;
END;
CREATE TRIGGER workspaces_count_move AFTER UPDATE OF organization_id ON workspaces
WHEN OLD.organization_id <> NEW.organization_id BEGIN
    UPDATE organizations SET workspaces_count = workspaces_count - 1 WHERE id = OLD.organization_id;
    UPDATE organizations SET workspaces_count = workspaces_count + 1 WHERE id = NEW.organization_id;
END;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
