//! What the sweeper deletes: rows nothing will accept any more. Each
//! statement deletes at most `limit` rows, so one pass never holds a long
//! write lock, and is conditional, so several instances sweeping at once
//! each delete what is still there and nothing else. Rows that can change
//! (a touched session, a resent link, a new failure) have the condition
//! repeated outside the sub-select: PostgreSQL re-checks that one on the
//! row it locks, so a row renewed meanwhile stays.

use chrono::{DateTime, Utc};

use super::{on_conn, Db, DbResult};

impl Db {
    /// Sessions past their absolute expiry or unused for the idle time
    /// (`last_seen_at` at or before `idle_before`): sign-in refuses both.
    pub async fn sweep_sessions(&mut self, now: DateTime<Utc>, idle_before: DateTime<Utc>, limit: i64) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query(
            "DELETE FROM sessions WHERE id IN \
             (SELECT id FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2 LIMIT $3) \
             AND (expires_at <= $1 OR last_seen_at <= $2)"
        )
        .bind(now)
        .bind(idle_before)
        .bind(limit)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// SSO sign-ins that were started and never came back (a finished one
    /// deleted its flow already).
    pub async fn sweep_oidc_flows(&mut self, now: DateTime<Utc>, limit: i64) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query(
            "DELETE FROM oidc_flows WHERE id_hash IN (SELECT id_hash FROM oidc_flows WHERE expires_at <= $1 LIMIT $2)"
        )
        .bind(now)
        .bind(limit)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Exchanged ID tokens kept against replay, once the token itself has
    /// expired (a replay is refused on the expiry then).
    pub async fn sweep_oidc_used_tokens(&mut self, now: DateTime<Utc>, limit: i64) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query(
            "DELETE FROM oidc_used_tokens WHERE token_hash IN \
             (SELECT token_hash FROM oidc_used_tokens WHERE expires_at <= $1 LIMIT $2)"
        )
        .bind(now)
        .bind(limit)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    pub async fn sweep_oidc_api_nonces(&mut self, now: DateTime<Utc>, limit: i64) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query(
            "DELETE FROM oidc_api_nonces WHERE nonce_hash IN \
             (SELECT nonce_hash FROM oidc_api_nonces WHERE expires_at <= $1 LIMIT $2)"
        )
        .bind(now)
        .bind(limit)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Failure counters whose last failure is older than the window (the
    /// next failure would start from one anyway) and that block nobody.
    pub async fn sweep_throttle(&mut self, now: DateTime<Utc>, forget_before: DateTime<Utc>, limit: i64) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query(
            "DELETE FROM auth_throttle WHERE subject IN \
             (SELECT subject FROM auth_throttle WHERE last_failure_at < $2 AND (blocked_until IS NULL OR blocked_until <= $1) LIMIT $3) \
             AND last_failure_at < $2 AND (blocked_until IS NULL OR blocked_until <= $1)"
        )
        .bind(now)
        .bind(forget_before)
        .bind(limit)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Address-confirmation links past their expiry.
    pub async fn sweep_email_confirmations(&mut self, now: DateTime<Utc>, limit: i64) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query(
            "DELETE FROM email_confirmations WHERE user_id IN \
             (SELECT user_id FROM email_confirmations WHERE expires_at <= $1 LIMIT $2) AND expires_at <= $1"
        )
        .bind(now)
        .bind(limit)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Rows of each swept table, expired or not: what the sweep test
    /// watches.
    pub async fn count_rows(&mut self, table: SweptTable) -> DbResult<i64> {
        let sql = match table {
            SweptTable::Sessions => "SELECT COUNT(*) FROM sessions",
            SweptTable::OidcFlows => "SELECT COUNT(*) FROM oidc_flows",
            SweptTable::OidcApiNonces => "SELECT COUNT(*) FROM oidc_api_nonces",
            SweptTable::AuthThrottle => "SELECT COUNT(*) FROM auth_throttle",
            SweptTable::EmailConfirmations => "SELECT COUNT(*) FROM email_confirmations",
        };
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>(sql).fetch_one(c).await)?)
    }
}

#[derive(Debug, Clone, Copy)]
pub enum SweptTable {
    Sessions,
    OidcFlows,
    OidcApiNonces,
    AuthThrottle,
    EmailConfirmations,
}
