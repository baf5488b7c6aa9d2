-- Verified identities (issue 10, section 3); see ../postgres/0009_identity_tombstones.sql
-- for what each table means.

CREATE TABLE removed_identities (
    organization_id BLOB    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    issuer          TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    email           TEXT    NOT NULL,
    removed_at      TEXT    NOT NULL,
    PRIMARY KEY (organization_id, issuer, subject)
);

CREATE TABLE oidc_api_nonces (
    nonce_hash      BLOB    PRIMARY KEY NOT NULL,
    expires_at      TEXT    NOT NULL
);
CREATE INDEX oidc_api_nonces_expires_idx ON oidc_api_nonces (expires_at);

CREATE TABLE email_confirmations (
    user_id         BLOB    PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email           TEXT    NOT NULL,
    token_hash      BLOB    NOT NULL,
    expires_at      TEXT    NOT NULL,
    last_sent_at    TEXT    NOT NULL,
    CONSTRAINT email_confirmations_token_key UNIQUE (token_hash)
);

ALTER TABLE oidc_flows ADD COLUMN link_user_id BLOB REFERENCES users (id) ON DELETE CASCADE;
