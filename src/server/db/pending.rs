//! Registrations waiting for their email link (`pending_registrations`).
//! They are not users: no organization, no seat, no count.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRecord {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub organization_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_sent_at: DateTime<Utc>,
    pub sends: i64,
}

pub struct NewPending<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub organization_name: Option<&'a str>,
    pub token_hash: &'a [u8],
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, email, name, password_hash, organization_name, created_at, expires_at, last_sent_at, \
                       CAST(sends AS BIGINT) AS sends";

impl Db {
    pub async fn insert_pending(&mut self, new: &NewPending<'_>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO pending_registrations \
             (id, email, name, password_hash, organization_name, token_hash, created_at, expires_at, last_sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)"
        )
        .bind(new.id)
        .bind(new.email)
        .bind(new.name)
        .bind(new.password_hash)
        .bind(new.organization_name)
        .bind(new.token_hash)
        .bind(new.now)
        .bind(new.expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The live registration a link names, row locked until the
    /// transaction ends: using it and resending it never cross.
    pub async fn pending_by_token_hash_for_update(&mut self, hash: &[u8], now: DateTime<Utc>) -> DbResult<Option<PendingRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM pending_registrations WHERE token_hash = $1 AND expires_at > $2{}",
            self.for_update_of("pending_registrations")
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, PendingRecord>(&sql).bind(hash).bind(now).fetch_optional(c).await)?)
    }

    /// The newest live registration of an address: the one a sign-in with
    /// its password and a resend are about.
    pub async fn newest_pending_for_email(&mut self, email: &str, now: DateTime<Utc>) -> DbResult<Option<PendingRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM pending_registrations WHERE email = $1 AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, PendingRecord>(&sql).bind(email).bind(now).fetch_optional(c).await)?)
    }

    /// `newest_pending_for_email` by id, locked, for a resend that acts on
    /// the row as it was checked.
    pub async fn pending_by_id_for_update(&mut self, id: Uuid, now: DateTime<Utc>) -> DbResult<Option<PendingRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM pending_registrations WHERE id = $1 AND expires_at > $2{}",
            self.for_update_of("pending_registrations")
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, PendingRecord>(&sql).bind(id).bind(now).fetch_optional(c).await)?)
    }

    /// A new link for a pending registration: the old one stops working.
    /// The expiry stays: a registration lives 24 hours from its creation
    /// however often its link is resent.
    pub async fn reissue_pending(&mut self, id: Uuid, token_hash: &[u8], now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE pending_registrations SET token_hash = $2, last_sent_at = $3, sends = sends + 1 WHERE id = $1"
        )
        .bind(id)
        .bind(token_hash)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Deletes every pending registration of an address, live or not: the
    /// address now has its real account. Answers how many went.
    pub async fn delete_pending_for_email(&mut self, email: &str) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query("DELETE FROM pending_registrations WHERE email = $1")
            .bind(email)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// The sweeper: one conditional statement, so several instances on one
    /// database may run it at once and each row goes exactly once.
    pub async fn delete_expired_pending(&mut self, now: DateTime<Utc>) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query("DELETE FROM pending_registrations WHERE expires_at <= $1")
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Live pending registrations, for the test suites and the operator.
    pub async fn count_pending(&mut self, now: DateTime<Utc>) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pending_registrations WHERE expires_at > $1")
            .bind(now)
            .fetch_one(c)
            .await)?)
    }

    /// Every pending registration row, expired ones included (the sweeper
    /// has not run yet): what the sweep test watches go.
    pub async fn count_pending_rows(&mut self) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pending_registrations").fetch_one(c).await)?)
    }
}
