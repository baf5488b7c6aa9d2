//! Failed sign-in counters, in the database so they survive restarts and
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

    /// Counts one more failure and returns the new count. Failures older
    /// than `forget_before` are forgotten first. On PostgreSQL the upsert
    /// locks the row until the transaction ends, so concurrent failures
    /// each count.
    pub async fn throttle_fail(&mut self, subject: &str, now: DateTime<Utc>, forget_before: DateTime<Utc>) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>(
            "INSERT INTO auth_throttle (subject, failures, last_failure_at) VALUES ($1, 1, $2) \
             ON CONFLICT (subject) DO UPDATE SET \
               failures = CASE WHEN auth_throttle.last_failure_at < $3 THEN 1 ELSE auth_throttle.failures + 1 END, \
               last_failure_at = $2 \
             RETURNING failures"
        )
        .bind(subject)
        .bind(now)
        .bind(forget_before)
        .fetch_one(c)
        .await)?)
    }

    pub async fn throttle_block(&mut self, subject: &str, until: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE auth_throttle SET blocked_until = $2 WHERE subject = $1")
            .bind(subject)
            .bind(until)
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
