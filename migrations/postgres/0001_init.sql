-- NeoSC schema, PostgreSQL flavour. Same tables, columns and rules as
-- ../sqlite, with native types.

CREATE TABLE organizations (
    id               UUID        PRIMARY KEY,
    name             TEXT        NOT NULL,
    slug             TEXT        NOT NULL,
    domain           TEXT        NOT NULL,
    status           TEXT        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    seat_limit       BIGINT      CHECK (seat_limit IS NULL OR seat_limit >= 0),
    require_mfa      BOOLEAN     NOT NULL DEFAULT FALSE,
    -- The identity provider's id for this organization (Zitadel org id), so
    -- renames on either side never split a tenant.
    external_id      TEXT,
    is_default       BOOLEAN     NOT NULL DEFAULT FALSE,
    users_count      BIGINT      NOT NULL DEFAULT 0 CHECK (users_count >= 0),
    workspaces_count BIGINT      NOT NULL DEFAULT 0 CHECK (workspaces_count >= 0),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    -- The seat limit holds even under concurrent joins: the count is bumped
    -- by a trigger in the joining transaction (row lock on the organization),
    -- and this check fails it.
    CONSTRAINT organizations_seat_limit CHECK (seat_limit IS NULL OR users_count <= seat_limit)
);
CREATE UNIQUE INDEX organizations_name_key   ON organizations (lower(name));
CREATE UNIQUE INDEX organizations_slug_key   ON organizations (slug);
CREATE UNIQUE INDEX organizations_domain_key ON organizations (lower(domain));
CREATE UNIQUE INDEX organizations_external_id_key ON organizations (external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX organizations_one_default ON organizations (is_default) WHERE is_default;

CREATE TABLE users (
    id              UUID        PRIMARY KEY,
    organization_id UUID        NOT NULL REFERENCES organizations (id),
    email           TEXT        NOT NULL,
    name            TEXT        NOT NULL,
    -- NULL for accounts that only sign in through SSO.
    password_hash   TEXT,
    role            TEXT        NOT NULL CHECK (role IN ('platform_admin', 'org_admin', 'user')),
    status          TEXT        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    mfa_enabled     BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_organization_idx ON users (organization_id, created_at);

CREATE TABLE workspaces (
    id              UUID        PRIMARY KEY,
    organization_id UUID        NOT NULL REFERENCES organizations (id),
    name            TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX workspaces_organization_idx ON workspaces (organization_id);

-- Server-side sessions. Only a SHA-256 of the token is stored, so a leaked
-- database does not hand out live sessions.
CREATE TABLE sessions (
    id              UUID        PRIMARY KEY,
    token_hash      BYTEA       NOT NULL,
    user_id         UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT        NOT NULL CHECK (kind IN ('browser', 'api')),
    created_at      TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    ip              TEXT,
    user_agent      TEXT
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Append-only audit trail. organization_id is NULL only for installation
-- level events that concern no tenant.
CREATE TABLE audit_events (
    id              UUID        PRIMARY KEY,
    organization_id UUID        REFERENCES organizations (id),
    actor_user_id   UUID,
    action          TEXT        NOT NULL,
    target_type     TEXT,
    target_id       TEXT,
    details         JSONB       NOT NULL DEFAULT '{}',
    ip              TEXT,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_events_org_idx ON audit_events (organization_id, id);

-- Counts on organizations are kept by the database itself, in the same
-- transaction as the row change, whichever code path makes it.
CREATE FUNCTION neosc_maintain_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    col TEXT := TG_ARGV[0];
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        EXECUTE format('UPDATE organizations SET %I = %I - 1 WHERE id = $1', col, col) USING OLD.organization_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE format('UPDATE organizations SET %I = %I + 1 WHERE id = $1', col, col) USING NEW.organization_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER users_count_change AFTER INSERT OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION neosc_maintain_count('users_count');
CREATE TRIGGER users_count_move AFTER UPDATE OF organization_id ON users
    FOR EACH ROW WHEN (OLD.organization_id IS DISTINCT FROM NEW.organization_id)
    EXECUTE FUNCTION neosc_maintain_count('users_count');
CREATE TRIGGER workspaces_count_change AFTER INSERT OR DELETE ON workspaces
    FOR EACH ROW EXECUTE FUNCTION neosc_maintain_count('workspaces_count');
CREATE TRIGGER workspaces_count_move AFTER UPDATE OF organization_id ON workspaces
    FOR EACH ROW WHEN (OLD.organization_id IS DISTINCT FROM NEW.organization_id)
    EXECUTE FUNCTION neosc_maintain_count('workspaces_count');

CREATE FUNCTION neosc_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION neosc_append_only();
