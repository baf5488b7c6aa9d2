use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

/// A users row with its organization's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub organization_status: String,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub status: String,
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
    pub role: &'a str,
    pub now: DateTime<Utc>,
}

const SELECT: &str = "SELECT u.id, u.organization_id, o.name AS organization_name, o.status AS organization_status, \
                      u.email, u.name, u.password_hash, u.role, u.status, u.mfa_enabled, u.created_at \
                      FROM users u JOIN organizations o ON o.id = u.organization_id";

impl Db {
    /// Inserts the user; the organization's `users_count` follows by trigger,
    /// and its seat limit check refuses the row when the organization is full.
    pub async fn insert_user(&mut self, new: &NewUser<'_>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO users (id, organization_id, email, name, password_hash, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
        )
        .bind(new.id)
        .bind(new.organization_id)
        .bind(new.email)
        .bind(new.name)
        .bind(new.password_hash)
        .bind(new.role)
        .bind(new.now)
        .execute(c)
        .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn user_by_email(&mut self, email: &str) -> DbResult<Option<UserRecord>> {
        let sql = format!("{SELECT} WHERE u.email = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, UserRecord>(&sql).bind(email).fetch_optional(c).await)?)
    }

    pub async fn user_by_id(&mut self, id: Uuid) -> DbResult<Option<UserRecord>> {
        let sql = format!("{SELECT} WHERE u.id = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, UserRecord>(&sql).bind(id).fetch_optional(c).await)?)
    }

    pub async fn count_users_with_role(&mut self, role: &str) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE role = $1")
            .bind(role)
            .fetch_one(c)
            .await)?)
    }

    /// Replaces the stored password hash (used when the hashing parameters
    /// changed and on password resets).
    pub async fn set_password_hash(&mut self, user_id: Uuid, hash: &str, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
            .bind(user_id)
            .bind(hash)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Db {
    /// Counts the members of an organization row by row; what
    /// `users_count` must always equal.
    pub async fn count_members(&mut self, org_id: Uuid) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE organization_id = $1")
            .bind(org_id)
            .fetch_one(c)
            .await)?)
    }

    pub async fn count_users(&mut self) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(c).await)?)
    }
}
