use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

/// Where a session was opened: the browser gets it as a cookie, an API
/// client as a bearer token. Both work either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Browser,
    Api,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Browser => "browser",
            SessionKind::Api => "api",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub struct NewSession<'a> {
    pub id: Uuid,
    pub token_hash: &'a [u8],
    pub user_id: Uuid,
    pub kind: SessionKind,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

impl Db {
    pub async fn insert_session(&mut self, new: &NewSession<'_>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, kind, created_at, last_seen_at, expires_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)"
        )
        .bind(new.id)
        .bind(new.token_hash)
        .bind(new.user_id)
        .bind(new.kind.as_str())
        .bind(new.now)
        .bind(new.expires_at)
        .bind(new.ip)
        .bind(new.user_agent)
        .execute(c)
        .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn session_by_token_hash(&mut self, hash: &[u8]) -> DbResult<Option<SessionRecord>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, SessionRecord>(
            "SELECT id, user_id, created_at, last_seen_at, expires_at FROM sessions WHERE token_hash = $1"
        )
        .bind(hash)
        .fetch_optional(c)
        .await)?)
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
        let done = on_conn!(self, |c| sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(c).await
            .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Removes sessions past their expiry; returns how many.
    pub async fn delete_expired_sessions(&mut self, now: DateTime<Utc>) -> DbResult<u64> {
        let done = on_conn!(self, |c| sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done)
    }
}
