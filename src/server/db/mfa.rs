//! TOTP secrets, replay protection and recovery codes.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

/// The stored (sealed, or from before encryption plain) TOTP secrets of
/// one account, for the pass that re-encrypts them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredTotpSecrets {
    pub id: Uuid,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_pending_secret: Option<Vec<u8>>,
}

/// Which of the two secret columns a re-encryption writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpColumn {
    Active,
    Pending,
}

impl Db {
    /// Accounts holding a TOTP secret, in id order after `after`, at most
    /// `limit`: pages of a pass over all of them.
    pub async fn totp_secrets_after(&mut self, after: Option<Uuid>, limit: i64) -> DbResult<Vec<StoredTotpSecrets>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, StoredTotpSecrets>(
            "SELECT id, totp_secret, totp_pending_secret FROM users \
             WHERE (totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL) AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        )
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await)?)
    }

    /// Replaces one stored secret by its re-encryption, only if it still
    /// is `old`: an enrolment or another instance's pass in between wins,
    /// and the same pass run twice changes nothing the second time.
    pub async fn reseal_totp_secret(&mut self, user_id: Uuid, column: TotpColumn, old: &[u8], new: &[u8]) -> DbResult<bool> {
        let sql = match column {
            TotpColumn::Active => "UPDATE users SET totp_secret = $3 WHERE id = $1 AND totp_secret = $2",
            TotpColumn::Pending => "UPDATE users SET totp_pending_secret = $3 WHERE id = $1 AND totp_pending_secret = $2",
        };
        let n = on_conn!(self, |c| sqlx::query(sql).bind(user_id).bind(old).bind(new).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Stores the secret shown during enrolment until a code confirms it.
    pub async fn set_totp_pending(&mut self, user_id: Uuid, secret: Option<&[u8]>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE users SET totp_pending_secret = $2 WHERE id = $1")
            .bind(user_id)
            .bind(secret)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Turns MFA on with `secret`, or off with `None`; `step` is the time
    /// step of the code that confirmed it, which may not be used again.
    pub async fn set_totp(&mut self, user_id: Uuid, secret: Option<&[u8]>, step: Option<i64>, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE users SET totp_secret = $2, totp_pending_secret = NULL, mfa_enabled = $3, totp_last_step = $4, \
             updated_at = $5 WHERE id = $1"
        )
        .bind(user_id)
        .bind(secret)
        .bind(secret.is_some())
        .bind(step)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records `step` as used, atomically: false when it (or a later step)
    /// was used already, which is how a replayed code is refused even by
    /// two instances at once.
    pub async fn claim_totp_step(&mut self, user_id: Uuid, step: i64) -> DbResult<bool> {
        let n = on_conn!(self, |c| sqlx::query(
            "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)"
        )
        .bind(user_id)
        .bind(step)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn replace_recovery_codes(&mut self, user_id: Uuid, hashes: &[Vec<u8>]) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        for hash in hashes {
            on_conn!(self, |c| sqlx::query("INSERT INTO recovery_codes (id, user_id, code_hash) VALUES ($1, $2, $3)")
                .bind(Uuid::now_v7())
                .bind(user_id)
                .bind(hash)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Uses up a recovery code; false when it is unknown or already used.
    pub async fn use_recovery_code(&mut self, user_id: Uuid, hash: &[u8], now: DateTime<Utc>) -> DbResult<bool> {
        let n = on_conn!(self, |c| sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL"
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn unused_recovery_codes(&mut self, user_id: Uuid) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .fetch_one(c)
            .await)?)
    }
}
