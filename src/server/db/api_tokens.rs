//! Personal API tokens: named, optionally expiring bearer credentials.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, user_id, name, created_at, last_used_at, expires_at";

impl Db {
    pub async fn insert_api_token(
        &mut self,
        user_id: Uuid,
        name: &str,
        token_hash: &[u8],
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> DbResult<ApiTokenRecord> {
        let sql = format!(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, ApiTokenRecord>(&sql)
            .bind(Uuid::now_v7())
            .bind(user_id)
            .bind(name)
            .bind(token_hash)
            .bind(now)
            .bind(expires_at)
            .fetch_one(c)
            .await)?)
    }

    pub async fn api_token_by_hash(&mut self, hash: &[u8]) -> DbResult<Option<ApiTokenRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, ApiTokenRecord>(&sql).bind(hash).fetch_optional(c).await)?)
    }

    pub async fn api_tokens_of_user(&mut self, user_id: Uuid) -> DbResult<Vec<ApiTokenRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, ApiTokenRecord>(&sql).bind(user_id).fetch_all(c).await)?)
    }

    /// Revokes one of the user's tokens; false when the user has no such token.
    pub async fn delete_api_token(&mut self, user_id: Uuid, id: Uuid) -> DbResult<bool> {
        let n = on_conn!(self, |c| sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Revokes every token of a user; returns how many.
    pub async fn delete_api_tokens_of_user(&mut self, user_id: Uuid) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?)
    }

    pub async fn touch_api_token(&mut self, id: Uuid, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
