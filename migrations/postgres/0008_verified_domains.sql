-- Verified domains (issue 10, section 2): a domain counts once its owner
-- proved control of its DNS. See ../sqlite/0008_verified_domains.sql for the
-- twin.

-- `organizations.domain` stays the primary domain, shown everywhere, but it
-- no longer places anyone and no longer has to be unique: an unverified
-- claim blocks nobody. Who owns a domain is `organization_domains` below.
DROP INDEX organizations_domain_key;
CREATE INDEX organizations_domain_idx ON organizations (lower(domain));

-- Whether a registrant whose verified address is at one of the
-- organization's verified domains joins it without an invitation.
ALTER TABLE organizations ADD COLUMN auto_join BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE organization_domains (
    organization_id UUID        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Lower case, no trailing dot.
    domain          TEXT        NOT NULL,
    status          TEXT        NOT NULL DEFAULT 'unverified',
    -- How it was proven: a TXT record NeoSC looked up, the identity
    -- provider's word (NEOSC_OIDC_TRUST_IDP_DOMAINS), or an operator's
    -- (`neosc org verify-domain`).
    method          TEXT,
    -- The value of `_neosc-challenge.<domain> TXT "neosc-verify=<token>"`.
    -- Not a secret: it is published in DNS; it only has to be unguessable
    -- before the admin asks for it.
    token           TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    verified_at     TIMESTAMPTZ,
    -- The last lookup's outcome, so the page can say what DNS returned.
    checked_at      TIMESTAMPTZ,
    check_error     TEXT,
    PRIMARY KEY (organization_id, domain),
    CONSTRAINT organization_domains_status CHECK (status IN ('unverified', 'verified')),
    CONSTRAINT organization_domains_method CHECK (method IS NULL OR method IN ('dns_txt', 'idp', 'operator')),
    CONSTRAINT organization_domains_proof CHECK ((status = 'verified') = (method IS NOT NULL AND verified_at IS NOT NULL))
);
-- A domain is verified by at most one organization; claims are free.
CREATE UNIQUE INDEX organization_domains_verified_key ON organization_domains (domain) WHERE status = 'verified';

-- Every organization keeps its primary domain as a claim to prove. Nothing
-- is verified by this migration: the domains were never proven, so after it
-- nobody is placed by domain until an admin verifies (or an operator vouches
-- with `neosc org verify-domain`). SSO placeholders are never claims.
INSERT INTO organization_domains (organization_id, domain, status, token, created_at)
SELECT id, lower(domain), 'unverified', md5(random()::text || id::text || clock_timestamp()::text), created_at
FROM organizations
WHERE lower(domain) NOT LIKE '%.invalid';
