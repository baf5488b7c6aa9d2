use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};
use crate::model::{OrgStatus, Role, UserStatus};

/// A users row with its organization's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub organization_status: OrgStatus,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub role: Role,
    pub status: UserStatus,
    /// TOTP is set up (the password sign-in asks for a code).
    pub mfa_enabled: bool,
    /// The last SSO sign-in showed a second factor at the provider.
    pub sso_mfa: bool,
    /// Linked to an identity at the SSO provider (`user_identities`).
    pub sso_linked: bool,
    pub must_change_password: bool,
    pub organization_require_mfa: bool,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_pending_secret: Option<Vec<u8>>,
    /// When the owner last proved they read `email`; NULL: never.
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
    pub role: Role,
    /// `Some(now)` when the way the account is made proves the mailbox.
    pub email_verified_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

const SELECT: &str = "SELECT u.id, u.organization_id, o.name AS organization_name, o.status AS organization_status, \
                      u.email, u.name, u.password_hash, u.role, u.status, u.mfa_enabled, u.sso_mfa, u.must_change_password, \
                      o.require_mfa AS organization_require_mfa, u.totp_secret, u.totp_pending_secret, u.email_verified_at, u.created_at, \
                      EXISTS (SELECT 1 FROM user_identities i WHERE i.user_id = u.id) AS sso_linked \
                      FROM users u JOIN organizations o ON o.id = u.organization_id";

impl Db {
    /// Inserts the user; the organization's `users_count` follows by trigger,
    /// and its seat limit check refuses the row when the organization is full.
    pub async fn insert_user(&mut self, new: &NewUser<'_>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO users (id, organization_id, email, name, password_hash, role, email_verified_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $7)"
        )
        .bind(new.id)
        .bind(new.organization_id)
        .bind(new.email)
        .bind(new.name)
        .bind(new.password_hash)
        .bind(new.role)
        .bind(new.now)
        .bind(new.email_verified_at)
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

    /// The user, row locked until the transaction ends (see
    /// `Db::for_update_of`), for a decision about them and the change it
    /// guards. Only the user's row is locked, not their organization's: a
    /// transaction that locks both takes the organization first
    /// (`org_of_user_for_update`), so two never wait on each other.
    pub async fn user_by_id_for_update(&mut self, id: Uuid) -> DbResult<Option<UserRecord>> {
        let sql = format!("{SELECT} WHERE u.id = $1{}", self.for_update_of("u"));
        Ok(on_conn!(self, |c| sqlx::query_as::<_, UserRecord>(&sql).bind(id).fetch_optional(c).await)?)
    }

    pub async fn count_users_with_role(&mut self, role: Role) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE role = $1").bind(role).fetch_one(c).await)?)
    }

    /// Replaces the stored password hash: after a change, on a rehash with new
    /// parameters, or with `must_change` for an operator's one-time password.
    pub async fn set_password_hash(&mut self, user_id: Uuid, hash: &str, must_change: bool, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE users SET password_hash = $2, must_change_password = $4, updated_at = $3 WHERE id = $1")
            .bind(user_id)
            .bind(hash)
            .bind(now)
            .bind(must_change)
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

impl Db {
    pub async fn set_user_role(&mut self, user_id: Uuid, role: Role, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
            .bind(user_id)
            .bind(role)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_user_status(&mut self, user_id: Uuid, status: UserStatus, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE users SET status = $2, updated_at = $3 WHERE id = $1")
            .bind(user_id)
            .bind(status)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Active platform admins: the last one may not be demoted or disabled.
    pub async fn count_active_platform_admins(&mut self) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE role = $1 AND status = $2")
            .bind(Role::PlatformAdmin)
            .bind(UserStatus::Active)
            .fetch_one(c)
            .await)?)
    }
}

impl Db {
    /// Serialises changes to who is a platform admin, so two admins
    /// demoting each other at once cannot leave none. PostgreSQL takes a row
    /// lock on the default organization; SQLite's writer lock already
    /// serialises every write transaction.
    pub async fn lock_platform_admins(&mut self) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE organizations SET updated_at = updated_at WHERE is_default = $1")
            .bind(true)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Db {
    /// One page of an organization's members, oldest first, optionally only
    /// those whose name or email contains `search`.
    pub async fn members_of_org(&mut self, org_id: Uuid, search: Option<&str>, limit: i64, offset: i64) -> DbResult<Vec<UserRecord>> {
        let sql = format!(
            "{SELECT} WHERE u.organization_id = $1 AND ($2 IS NULL OR lower(u.name) LIKE $2 ESCAPE '\\' OR u.email LIKE $2 ESCAPE '\\') \
             ORDER BY u.created_at, u.id LIMIT $3 OFFSET $4"
        );
        let pattern = search.map(super::orgs::like_pattern);
        Ok(on_conn!(self, |c| sqlx::query_as::<_, UserRecord>(&sql)
            .bind(org_id)
            .bind(pattern.as_deref())
            .bind(limit)
            .bind(offset)
            .fetch_all(c)
            .await)?)
    }

    pub async fn count_members_matching(&mut self, org_id: Uuid, search: Option<&str>) -> DbResult<i64> {
        let pattern = search.map(super::orgs::like_pattern);
        Ok(on_conn!(self, |c| {
            sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users u WHERE u.organization_id = $1 AND ($2 IS NULL OR lower(u.name) LIKE $2 ESCAPE '\\' OR u.email LIKE $2 ESCAPE '\\')"
        )
        .bind(org_id)
        .bind(pattern.as_deref())
        .fetch_one(c)
        .await
        })?)
    }

    /// Active org admins of an organization: the last one stays.
    pub async fn count_active_org_admins(&mut self, org_id: Uuid) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users WHERE organization_id = $1 AND role = $2 AND status = $3"
        )
        .bind(org_id)
        .bind(Role::OrgAdmin)
        .bind(UserStatus::Active)
        .fetch_one(c)
        .await)?)
    }

    /// Deletes an account; its sessions, API tokens and recovery codes go
    /// with it (ON DELETE CASCADE) and the organization's count follows by
    /// trigger. Audit events keep the id as text.
    pub async fn delete_user(&mut self, user_id: Uuid) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends every session of every member of an organization (suspension).
    pub async fn delete_sessions_of_org(&mut self, org_id: Uuid) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE organization_id = $1)")
            .bind(org_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?)
    }
}
