//! Audit streams (migration 0018): where each organization's stream
//! stands, and the lease an instance holds while it delivers. Every write
//! of the delivery worker is conditional on the lease it holds (and, for
//! an advance, on the seq it started from), so several instances, an admin
//! rewinding the stream meanwhile, or a lease that expired under a slow
//! receiver never move a stream to a seq that was not acknowledged.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditStreamRecord {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub secret_sealed: Vec<u8>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
    pub last_delivered_seq: i64,
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub failures: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_owner: Option<Uuid>,
    pub lease_until: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, organization_id, url, secret_sealed, enabled, created_at, created_by, updated_at, last_delivered_seq, \
                       last_delivered_at, last_attempt_at, last_error, failures, next_attempt_at, lease_owner, lease_until";

pub struct NewAuditStreamRow<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: &'a str,
    pub secret_sealed: &'a [u8],
    pub enabled: bool,
    pub created_by: Option<Uuid>,
    pub last_delivered_seq: i64,
    pub now: DateTime<Utc>,
}

/// What an admin's change sets (each present field), making the stream
/// due at `now` with its failures forgotten.
#[derive(Debug, Default)]
pub struct AuditStreamUpdate<'a> {
    pub url: Option<&'a str>,
    pub enabled: Option<bool>,
    pub last_delivered_seq: Option<i64>,
    pub secret_sealed: Option<&'a [u8]>,
}

impl Db {
    pub async fn insert_audit_stream(&mut self, s: &NewAuditStreamRow<'_>) -> DbResult<AuditStreamRecord> {
        let sql = format!(
            "INSERT INTO audit_streams (id, organization_id, url, secret_sealed, enabled, created_at, created_by, updated_at, \
             last_delivered_seq, failures, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $8, 0, $6) RETURNING {COLUMNS}"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditStreamRecord>(&sql)
            .bind(s.id)
            .bind(s.organization_id)
            .bind(s.url)
            .bind(s.secret_sealed)
            .bind(s.enabled)
            .bind(s.now)
            .bind(s.created_by)
            .bind(s.last_delivered_seq)
            .fetch_one(c)
            .await)?)
    }

    pub async fn audit_stream_of_org(&mut self, org: Uuid) -> DbResult<Option<AuditStreamRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_streams WHERE organization_id = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditStreamRecord>(&sql).bind(org).fetch_optional(c).await)?)
    }

    /// Applies an admin's change; answers the row as it is now.
    pub async fn update_audit_stream(&mut self, id: Uuid, u: &AuditStreamUpdate<'_>, now: DateTime<Utc>) -> DbResult<AuditStreamRecord> {
        let sql = format!(
            "UPDATE audit_streams SET url = COALESCE($2, url), enabled = COALESCE($3, enabled), \
             last_delivered_seq = COALESCE($4, last_delivered_seq), secret_sealed = COALESCE($5, secret_sealed), \
             failures = 0, next_attempt_at = $6, updated_at = $6 WHERE id = $1 RETURNING {COLUMNS}"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditStreamRecord>(&sql)
            .bind(id)
            .bind(u.url)
            .bind(u.enabled)
            .bind(u.last_delivered_seq)
            .bind(u.secret_sealed)
            .bind(now)
            .fetch_one(c)
            .await)?)
    }

    pub async fn delete_audit_stream(&mut self, id: Uuid) -> DbResult<bool> {
        let n = on_conn!(self, |c| sqlx::query("DELETE FROM audit_streams WHERE id = $1")
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Enabled streams due at `now` whose lease is free: candidates only,
    /// read without a lock; `claim_audit_stream` decides.
    pub async fn due_audit_streams(&mut self, now: DateTime<Utc>, limit: i64) -> DbResult<Vec<AuditStreamRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_streams WHERE enabled AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at LIMIT $2"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditStreamRecord>(&sql).bind(now).bind(limit).fetch_all(c).await)?)
    }

    /// Takes stream `id` for `owner` until `until`, if it is still enabled,
    /// due and free: a conditional UPDATE, so of several instances exactly
    /// one gets it (PostgreSQL re-checks the condition on the row it locks;
    /// SQLite runs writers one at a time). Answers the row as taken.
    pub async fn claim_audit_stream(
        &mut self,
        id: Uuid,
        owner: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<Option<AuditStreamRecord>> {
        let sql = format!(
            "UPDATE audit_streams SET lease_owner = $2, lease_until = $4 WHERE id = $1 AND enabled AND next_attempt_at <= $3 \
             AND (lease_until IS NULL OR lease_until < $3) RETURNING {COLUMNS}"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditStreamRecord>(&sql)
            .bind(id)
            .bind(owner)
            .bind(now)
            .bind(until)
            .fetch_optional(c)
            .await)?)
    }

    /// The receiver acknowledged everything up to `to`: moves the stream
    /// there from `from`, only while `owner` holds the lease and nobody
    /// moved the stream meanwhile (an admin's rewind wins) nor disabled it
    /// (the batch counts as not sent; it goes again when enabled). Extends the
    /// lease to `until` for the next batch. False when the condition failed.
    pub async fn advance_audit_stream(
        &mut self,
        id: Uuid,
        owner: Uuid,
        from: i64,
        to: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<bool> {
        let n = on_conn!(self, |c| sqlx::query(
            "UPDATE audit_streams SET last_delivered_seq = $4, last_delivered_at = $5, last_attempt_at = $5, last_error = NULL, \
             failures = 0, next_attempt_at = $5, lease_until = $6 \
             WHERE id = $1 AND enabled AND lease_owner = $2 AND last_delivered_seq = $3"
        )
        .bind(id)
        .bind(owner)
        .bind(from)
        .bind(to)
        .bind(now)
        .bind(until)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// A failed attempt: one more failure, why, and when to try again;
    /// releases the lease. Only while `owner` holds it.
    pub async fn fail_audit_stream(
        &mut self,
        id: Uuid,
        owner: Uuid,
        error: &str,
        now: DateTime<Utc>,
        due: DateTime<Utc>,
    ) -> DbResult<bool> {
        let n = on_conn!(self, |c| sqlx::query(
            "UPDATE audit_streams SET failures = failures + 1, last_error = $3, last_attempt_at = $4, next_attempt_at = $5, \
             lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2"
        )
        .bind(id)
        .bind(owner)
        .bind(error)
        .bind(now)
        .bind(due)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Gives the lease back (nothing more to send for now).
    pub async fn release_audit_stream(&mut self, id: Uuid, owner: Uuid) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE audit_streams SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2"
        )
        .bind(id)
        .bind(owner)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Streams in id order after `after`, for re-sealing their secrets.
    pub async fn audit_stream_secrets_after(&mut self, after: Option<Uuid>, limit: i64) -> DbResult<Vec<(Uuid, Vec<u8>)>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, (Uuid, Vec<u8>)>(
            "SELECT id, secret_sealed FROM audit_streams WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        )
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await)?)
    }

    /// Replaces a sealed secret if it is still `old` (a rotation by an
    /// admin meanwhile wins).
    pub async fn reseal_audit_stream_secret(&mut self, id: Uuid, old: &[u8], new: &[u8]) -> DbResult<bool> {
        let n = on_conn!(self, |c| sqlx::query("UPDATE audit_streams SET secret_sealed = $3 WHERE id = $1 AND secret_sealed = $2")
            .bind(id)
            .bind(old)
            .bind(new)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
