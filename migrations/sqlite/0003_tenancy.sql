-- Tenancy: invitations, the record of removed members (so a domain rule
-- cannot quietly let them back in), and the index that makes a page of
-- organizations one range read.

CREATE INDEX organizations_created_idx ON organizations (created_at, id);

CREATE TABLE invitations (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    email           TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('org_admin', 'user')),
    token_hash      BLOB NOT NULL,
    invited_by      BLOB,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    accepted_at     TEXT,
    revoked_at      TEXT
);
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
CREATE INDEX invitations_org_idx ON invitations (organization_id, created_at);
-- One open invitation per address and organization.
CREATE UNIQUE INDEX invitations_open_key ON invitations (organization_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE removed_members (
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    email           TEXT NOT NULL,
    removed_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, email)
);
