-- Zitadel SSO (OpenID Connect relying party).

-- A sign-in in flight: the browser holds a random cookie whose SHA-256 is
-- the key, so state, nonce and PKCE verifier are bound to that browser and
-- used once (the row is deleted when the callback reads it).
CREATE TABLE oidc_flows (
    id_hash         BLOB PRIMARY KEY NOT NULL,
    state           TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    pkce_verifier   TEXT NOT NULL,
    return_to       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);
CREATE INDEX oidc_flows_expires_idx ON oidc_flows (expires_at);

-- Who a person is at an identity provider: (issuer, sub), never the email.
CREATE TABLE user_identities (
    issuer          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email           TEXT,
    created_at      TEXT NOT NULL,
    last_login_at   TEXT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

-- ID tokens that API clients exchanged for a session: each works once.
CREATE TABLE oidc_used_tokens (
    token_hash      BLOB PRIMARY KEY NOT NULL,
    expires_at      TEXT NOT NULL
);
CREATE INDEX oidc_used_tokens_expires_idx ON oidc_used_tokens (expires_at);

-- The last SSO sign-in showed a second factor (the token's `amr`).
ALTER TABLE users ADD COLUMN sso_mfa INTEGER NOT NULL DEFAULT 0;
-- The ID token of an SSO session: the `id_token_hint` of RP-initiated logout.
ALTER TABLE sessions ADD COLUMN id_token TEXT;
