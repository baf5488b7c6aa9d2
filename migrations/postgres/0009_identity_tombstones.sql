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

-- A link that confirms an existing account's address (an account made from
-- an invitation link the admin saw, or one from before verified email). It
-- works only for the signed-in account it was made for: the mailbox's owner
-- and the account's password must be the same person. One live link per
-- account; asking again replaces it.
CREATE TABLE email_confirmations (
    user_id         UUID        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- The address it confirms: a link for an address the account no longer
    -- has confirms nothing.
    email           TEXT        NOT NULL,
    token_hash      BYTEA       NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    last_sent_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT email_confirmations_token_key UNIQUE (token_hash)
);

-- A sign-in flow started from the account page to link the signed-in
-- account to a provider identity ("Link Zitadel account"): whose account.
-- NULL: an ordinary sign-in.
ALTER TABLE oidc_flows ADD COLUMN link_user_id UUID REFERENCES users (id) ON DELETE CASCADE;
