-- Verified identities (issue 10, section 3). See ../sqlite/0009_identity_tombstones.sql
-- for the twin.

-- A removed member's identities at the provider, kept like their email in
-- `removed_members`: whoever signs in with (issuer, subject) again is not
-- made a member anew, whatever email the provider now sends. Only an
-- account made by a new invitation lets them back in.
CREATE TABLE removed_identities (
    organization_id UUID        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    issuer          TEXT        NOT NULL,
    subject         TEXT        NOT NULL,
    -- The address the member had when removed (for the admins' record).
    email           TEXT        NOT NULL,
    removed_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, issuer, subject)
);

-- Nonces NeoSC issued to API clients for `POST /api/auth/sso`: the ID token
-- an API client exchanges must carry one, and each works once, so a token
-- taken from somewhere else (a browser's sign-in, a logout URL) is useless.
CREATE TABLE oidc_api_nonces (
    nonce_hash      BYTEA       PRIMARY KEY,
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_api_nonces_expires_idx ON oidc_api_nonces (expires_at);
