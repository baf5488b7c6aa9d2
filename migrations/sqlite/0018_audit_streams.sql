-- Streaming an organization's audit events to its SIEM over HTTPS
-- webhooks (issue 13). One stream per organization. The database is the
-- source of truth of where a stream stands: `last_delivered_seq` is the
-- last seq of the organization's chain the receiver acknowledged (2xx), so
-- any instance, after any restart, goes on from there. Several instances
-- share the work through the lease (`lease_owner`, `lease_until`), taken
-- by a conditional UPDATE.
CREATE TABLE audit_streams (
    id                 BLOB    PRIMARY KEY,
    organization_id    BLOB    NOT NULL UNIQUE REFERENCES organizations (id) ON DELETE CASCADE,
    url                TEXT    NOT NULL,
    -- The HMAC key, sealed like the TOTP secrets (`auth::secret_box`,
    -- the stream's id as associated data).
    secret_sealed      BLOB    NOT NULL,
    enabled            INTEGER NOT NULL DEFAULT 1,
    created_at         TEXT    NOT NULL,
    created_by         BLOB,
    updated_at         TEXT    NOT NULL,
    last_delivered_seq INTEGER NOT NULL DEFAULT 0,
    last_delivered_at  TEXT,
    last_attempt_at    TEXT,
    last_error         TEXT,
    -- Failed deliveries in a row; 0 after a success.
    failures           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT    NOT NULL,
    lease_owner        BLOB,
    lease_until        TEXT,
    CONSTRAINT audit_streams_seq CHECK (last_delivered_seq >= 0),
    CONSTRAINT audit_streams_failures CHECK (failures >= 0)
);
CREATE INDEX audit_streams_due_idx ON audit_streams (next_attempt_at);
