-- Verified email (issue 10, section 1): a mailbox counts once its owner
-- proved control of it. See ../sqlite/0007_verified_email.sql for the twin.

-- When NeoSC last saw proof that the account's owner reads this address:
-- a registration link used, an invitation that went only by mail, an
-- operator's word, or an identity provider's `email_verified`. NULL: not
-- proven. Accounts from before this migration were made without proof and
-- stay NULL.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ;

-- Whether the invitation's link was shown to the inviting admin (answered by
-- the API, copied from the console). A shown link proves nothing about the
-- mailbox, so an account made from it is not verified. Invitations from
-- before this migration always showed their link.
ALTER TABLE invitations ADD COLUMN link_shown BOOLEAN NOT NULL DEFAULT TRUE;

-- A registration waiting for its link to be used. Not a users row: until
-- the mailbox is proven the registrant belongs to no organization, takes no
-- seat and counts in no users_count. The address is not unique here, so a
-- squatter's pending row never blocks the owner: whichever link is used
-- first makes the account and deletes every other row of that address.
CREATE TABLE pending_registrations (
    id                UUID        PRIMARY KEY,
    email             TEXT        NOT NULL,
    name              TEXT        NOT NULL,
    password_hash     TEXT        NOT NULL,
    -- The organization the registrant asked to join or create; NULL: the
    -- email's domain decides, when the link is used.
    organization_name TEXT,
    token_hash        BYTEA       NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    expires_at        TIMESTAMPTZ NOT NULL,
    -- The resend throttle: when the last link went out, and how many did.
    last_sent_at      TIMESTAMPTZ NOT NULL,
    sends             INTEGER     NOT NULL DEFAULT 1,
    CONSTRAINT pending_registrations_token_key UNIQUE (token_hash),
    CONSTRAINT pending_registrations_sends CHECK (sends >= 1),
    CONSTRAINT pending_registrations_expiry CHECK (expires_at > created_at)
);
CREATE INDEX pending_registrations_email_idx ON pending_registrations (email, created_at);
-- The sweeper's `DELETE … WHERE expires_at <= now`.
CREATE INDEX pending_registrations_expires_idx ON pending_registrations (expires_at);
