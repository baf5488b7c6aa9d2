//! Sign-in attempt counters, in the database so they survive restarts and
//! every app instance sees the same ones.

use chrono::{DateTime, Utc};

use super::{on_conn, Db, DbResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThrottleRecord {
    pub subject: String,
    pub failures: i64,
    pub last_failure_at: DateTime<Utc>,
    pub blocked_until: Option<DateTime<Utc>>,
}

impl Db {
    pub async fn throttle_get(&mut self, subject: &str) -> DbResult<Option<ThrottleRecord>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, ThrottleRecord>(
            "SELECT subject, failures, last_failure_at, blocked_until FROM auth_throttle WHERE subject = $1"
        )
        .bind(subject)
        .fetch_optional(c)
        .await)?)
    }

    /// Reserves one attempt: counts it now, before the attempt is checked,
    /// unless the subject is blocked. `None` means blocked (nothing
    /// changed). One statement, so concurrent reservations each see the
    /// others: on PostgreSQL the upsert locks the row until the
    /// transaction ends and re-reads it after waiting, and SQLite runs one
    /// write transaction at a time.
    pub async fn throttle_reserve(&mut self, subject: &str, now: DateTime<Utc>, forget_before: DateTime<Utc>) -> DbResult<Option<i64>> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>(
            "INSERT INTO auth_throttle (subject, failures, last_failure_at) VALUES ($1, 1, $2) \
             ON CONFLICT (subject) DO UPDATE SET \
               failures = CASE WHEN auth_throttle.last_failure_at < $3 THEN 1 ELSE auth_throttle.failures + 1 END, \
               last_failure_at = $2 \
             WHERE auth_throttle.blocked_until IS NULL OR auth_throttle.blocked_until <= $2 \
             RETURNING failures"
        )
        .bind(subject)
        .bind(now)
        .bind(forget_before)
        .fetch_optional(c)
        .await)?)
    }

    /// Blocks the subject until `until`, or longer if it is already.
    pub async fn throttle_block_at_least(&mut self, subject: &str, until: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE auth_throttle SET blocked_until = \
               CASE WHEN blocked_until IS NULL OR blocked_until < $2 THEN $2 ELSE blocked_until END \
             WHERE subject = $1"
        )
        .bind(subject)
        .bind(until)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Claims the recording of the refusal of `subject`'s current block:
    /// true the first time for a block (the caller records it), false while
    /// the same block lasts, or when the subject is not blocked at `now`.
    /// A block is known by the last counted attempt (`last_failure_at`),
    /// which nothing moves while the subject is blocked (a refused attempt
    /// is not counted), whereas `blocked_until` may still be pushed out by
    /// the failures of attempts reserved before it. One conditional UPDATE,
    /// so of concurrent refusals (on any instance) exactly one gets true:
    /// PostgreSQL re-checks the condition after waiting for the row, SQLite
    /// runs one writer at a time.
    pub async fn throttle_claim_refusal_record(&mut self, subject: &str, now: DateTime<Utc>) -> DbResult<bool> {
        let claimed = on_conn!(self, |c| sqlx::query(
            "UPDATE auth_throttle SET refusal_recorded_for = last_failure_at \
             WHERE subject = $1 AND blocked_until > $2 \
               AND (refusal_recorded_for IS NULL OR refusal_recorded_for <> last_failure_at)"
        )
        .bind(subject)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(claimed > 0)
    }

    /// Gives one reserved attempt back. The block the reservation set
    /// (`block_set`) goes with it, unless something later replaced it.
    pub async fn throttle_refund(&mut self, subject: &str, block_set: Option<DateTime<Utc>>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE auth_throttle SET \
               failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END, \
               blocked_until = CASE WHEN blocked_until = $2 THEN NULL ELSE blocked_until END \
             WHERE subject = $1"
        )
        .bind(subject)
        .bind(block_set)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn throttle_clear(&mut self, subject: &str) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("DELETE FROM auth_throttle WHERE subject = $1")
            .bind(subject)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
