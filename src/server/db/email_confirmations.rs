//! `email_confirmations`: one live link per account that confirms its
//! address (see the migration for when one is made).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

impl Db {
    /// When the account's last link went out, if it has a live one.
    pub async fn email_confirmation_sent_at(&mut self, user_id: Uuid, now: DateTime<Utc>) -> DbResult<Option<DateTime<Utc>>> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, DateTime<Utc>>(
            "SELECT last_sent_at FROM email_confirmations WHERE user_id = $1 AND expires_at > $2"
        )
        .bind(user_id)
        .bind(now)
        .fetch_optional(c)
        .await)?)
    }

    /// Makes the account's link, replacing an older one.
    pub async fn upsert_email_confirmation(
        &mut self,
        user_id: Uuid,
        email: &str,
        token_hash: &[u8],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO email_confirmations (user_id, email, token_hash, expires_at, last_sent_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id) DO UPDATE SET email = $2, token_hash = $3, expires_at = $4, last_sent_at = $5"
        )
        .bind(user_id)
        .bind(email)
        .bind(token_hash)
        .bind(expires_at)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Uses the link: true once, when it is the account's, live, and for
    /// the address the account has now. The account's address is marked
    /// confirmed in the same statement's transaction by the caller.
    pub async fn take_email_confirmation(&mut self, user_id: Uuid, email: &str, token_hash: &[u8], now: DateTime<Utc>) -> DbResult<bool> {
        let taken = on_conn!(self, |c| sqlx::query(
            "DELETE FROM email_confirmations WHERE user_id = $1 AND email = $2 AND token_hash = $3 AND expires_at > $4"
        )
        .bind(user_id)
        .bind(email)
        .bind(token_hash)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(taken == 1)
    }

    pub async fn set_email_verified(&mut self, user_id: Uuid, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE users SET email_verified_at = $2, updated_at = $2 WHERE id = $1")
            .bind(user_id)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
