-- Verified domains (issue 10, section 2); see ../postgres/0008_verified_domains.sql
-- for what each column means.

DROP INDEX organizations_domain_key;
CREATE INDEX organizations_domain_idx ON organizations (lower(domain));

ALTER TABLE organizations ADD COLUMN auto_join BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE organization_domains (
    organization_id BLOB    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    domain          TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'unverified',
    method          TEXT,
    token           TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    verified_at     TEXT,
    checked_at      TEXT,
    check_error     TEXT,
    PRIMARY KEY (organization_id, domain),
    CONSTRAINT organization_domains_status CHECK (status IN ('unverified', 'verified')),
    CONSTRAINT organization_domains_method CHECK (method IS NULL OR method IN ('dns_txt', 'idp', 'operator')),
    CONSTRAINT organization_domains_proof CHECK ((status = 'verified') = (method IS NOT NULL AND verified_at IS NOT NULL))
);
CREATE UNIQUE INDEX organization_domains_verified_key ON organization_domains (domain) WHERE status = 'verified';

INSERT INTO organization_domains (organization_id, domain, status, token, created_at)
SELECT id, lower(domain), 'unverified', lower(hex(randomblob(16))), created_at
FROM organizations
WHERE lower(domain) NOT LIKE '%.invalid';
