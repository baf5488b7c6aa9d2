-- Identity hardening: session stages for MFA, failed-login throttling that
-- survives restarts and is shared by every instance, personal API tokens,
-- TOTP and recovery codes.

-- 'full': signed in. 'mfa_pending': password accepted, second factor not
-- yet. 'enrol_required': the organization requires MFA and the user has
-- none yet; only enrolment is allowed. 'password_change_required': signed
-- in with a one-time password; only a password change is allowed.
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full'
    CHECK (stage IN ('full', 'mfa_pending', 'enrol_required', 'password_change_required'));

-- One row per throttled subject ('account:<email>' or 'ip:<address>').
CREATE TABLE auth_throttle (
    subject         TEXT    PRIMARY KEY NOT NULL,
    failures        INTEGER NOT NULL,
    last_failure_at TEXT    NOT NULL,
    blocked_until   TEXT
);

CREATE TABLE api_tokens (
    id              BLOB PRIMARY KEY NOT NULL,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    token_hash      BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    expires_at      TEXT
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Set by an operator's password reset: the password works once, to set a new one.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_secret BLOB;
-- A secret shown during enrolment, kept until a code confirms it.
ALTER TABLE users ADD COLUMN totp_pending_secret BLOB;
-- The last accepted TOTP time step: a code is accepted once.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;

CREATE TABLE recovery_codes (
    id              BLOB PRIMARY KEY NOT NULL,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash       BLOB NOT NULL,
    used_at         TEXT
);
CREATE UNIQUE INDEX recovery_codes_hash_key ON recovery_codes (user_id, code_hash);
