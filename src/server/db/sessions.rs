use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};
pub use crate::model::{SessionKind, SessionStage};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: SessionKind,
    pub stage: SessionStage,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// How it was signed in (`password`, `password_mfa`, `sso`); NULL for
    /// sessions opened before migration 0021.
    pub auth_method: Option<String>,
}

const SESSION_COLUMNS: &str = "id, user_id, kind, stage, created_at, last_seen_at, expires_at, ip, user_agent, auth_method";

pub struct NewSession<'a> {
    pub id: Uuid,
    pub token_hash: &'a [u8],
    pub user_id: Uuid,
    pub kind: SessionKind,
    pub stage: SessionStage,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// The ID token of an SSO sign-in (the hint for RP-initiated logout).
    pub id_token: Option<&'a str>,
    /// `password`, `password_mfa` or `sso` (see `service::auth::AuthMethod`).
    pub auth_method: &'a str,
}

impl Db {
    pub async fn insert_session(&mut self, new: &NewSession<'_>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, kind, created_at, last_seen_at, expires_at, ip, user_agent, stage, id_token, \
             auth_method) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11)"
        )
        .bind(new.id)
        .bind(new.token_hash)
        .bind(new.user_id)
        .bind(new.kind)
        .bind(new.now)
        .bind(new.expires_at)
        .bind(new.ip)
        .bind(new.user_agent)
        .bind(new.stage)
        .bind(new.id_token)
        .bind(new.auth_method)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn session_by_token_hash(&mut self, hash: &[u8]) -> DbResult<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, SessionRecord>(&sql).bind(hash).fetch_optional(c).await)?)
    }

    pub async fn touch_session(&mut self, id: Uuid, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_session(&mut self, id: Uuid) -> DbResult<bool> {
        let done =
            on_conn!(self, |c| sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    pub async fn count_sessions(&mut self) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions").fetch_one(c).await)?)
    }
}

impl Db {
    /// A user's sessions, newest first.
    pub async fn sessions_of_user(&mut self, user_id: Uuid) -> DbResult<Vec<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id DESC");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, SessionRecord>(&sql).bind(user_id).fetch_all(c).await)?)
    }

    /// Ends one session of one user; false when that user has no such
    /// session (someone else's id ends nothing).
    pub async fn delete_session_of_user(&mut self, user_id: Uuid, id: Uuid) -> DbResult<bool> {
        let done = on_conn!(self, |c| sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Ends every session of a user, except `keep` if given; returns how many.
    pub async fn delete_sessions_of_user(&mut self, user_id: Uuid, keep: Option<Uuid>) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)")
            .bind(user_id)
            .bind(keep)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?)
    }
}

impl Db {
    /// Ends the session a token names, if any (sign-in replaces the one the
    /// browser still carried, so no session id survives a sign-in).
    pub async fn delete_session_by_token_hash(&mut self, hash: &[u8]) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
