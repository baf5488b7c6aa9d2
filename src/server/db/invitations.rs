//! Invitations to join an organization, by one-time link.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};
use crate::model::Role;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRecord {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The link was answered to the inviting admin, not only mailed: using
    /// it proves nothing about the mailbox.
    pub link_shown: bool,
}

pub struct NewInvitation<'a> {
    pub organization_id: Uuid,
    pub email: &'a str,
    pub role: Role,
    pub token_hash: &'a [u8],
    pub invited_by: Uuid,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub link_shown: bool,
}

const COLUMNS: &str = "id, organization_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at, link_shown";

impl Db {
    pub async fn insert_invitation(&mut self, new: &NewInvitation<'_>) -> DbResult<InvitationRecord> {
        let sql = format!(
            "INSERT INTO invitations (id, organization_id, email, role, token_hash, invited_by, created_at, expires_at, link_shown) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, InvitationRecord>(&sql)
            .bind(Uuid::now_v7())
            .bind(new.organization_id)
            .bind(new.email)
            .bind(new.role)
            .bind(new.token_hash)
            .bind(new.invited_by)
            .bind(new.now)
            .bind(new.expires_at)
            .bind(new.link_shown)
            .fetch_one(c)
            .await)?)
    }

    /// An organization's invitations that are neither accepted nor revoked,
    /// newest first (expired ones included, so admins can resend them).
    pub async fn open_invitations(&mut self, org_id: Uuid) -> DbResult<Vec<InvitationRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM invitations WHERE organization_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL \
             ORDER BY created_at DESC, id DESC"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, InvitationRecord>(&sql).bind(org_id).fetch_all(c).await)?)
    }

    /// One invitation of one organization; another organization's id finds nothing.
    pub async fn invitation_of_org(&mut self, org_id: Uuid, id: Uuid) -> DbResult<Option<InvitationRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM invitations WHERE id = $1 AND organization_id = $2");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, InvitationRecord>(&sql).bind(id).bind(org_id).fetch_optional(c).await)?)
    }

    /// `invitation_of_org`, row locked until the transaction ends, for a
    /// revoke or resend that must act on the invitation as it was checked.
    pub async fn invitation_of_org_for_update(&mut self, org_id: Uuid, id: Uuid) -> DbResult<Option<InvitationRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM invitations WHERE id = $1 AND organization_id = $2{}", self.for_update_of("invitations"));
        Ok(on_conn!(self, |c| sqlx::query_as::<_, InvitationRecord>(&sql).bind(id).bind(org_id).fetch_optional(c).await)?)
    }

    pub async fn invitation_by_token_hash(&mut self, hash: &[u8]) -> DbResult<Option<InvitationRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM invitations WHERE token_hash = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, InvitationRecord>(&sql).bind(hash).fetch_optional(c).await)?)
    }

    /// `invitation_by_token_hash`, row locked: accepting checks the link
    /// again where it uses it up.
    pub async fn invitation_by_token_hash_for_update(&mut self, hash: &[u8]) -> DbResult<Option<InvitationRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM invitations WHERE token_hash = $1{}", self.for_update_of("invitations"));
        Ok(on_conn!(self, |c| sqlx::query_as::<_, InvitationRecord>(&sql).bind(hash).fetch_optional(c).await)?)
    }

    /// A new link for an open invitation: the old token stops working.
    pub async fn reissue_invitation(&mut self, id: Uuid, token_hash: &[u8], expires_at: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE invitations SET token_hash = $2, expires_at = $3 WHERE id = $1")
            .bind(id)
            .bind(token_hash)
            .bind(expires_at)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn revoke_invitation(&mut self, id: Uuid, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE invitations SET revoked_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks an open invitation accepted; false when someone else got there
    /// first (each link works once).
    pub async fn accept_invitation(&mut self, id: Uuid, now: DateTime<Utc>) -> DbResult<bool> {
        let n = on_conn!(self, |c| sqlx::query(
            "UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL"
        )
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Remembers that `email` was removed from an organization, so the
    /// domain rule cannot let them back in; only an invitation can.
    pub async fn mark_removed(&mut self, org_id: Uuid, email: &str, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO removed_members (organization_id, email, removed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (organization_id, email) DO UPDATE SET removed_at = $3"
        )
        .bind(org_id)
        .bind(email)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn was_removed(&mut self, org_id: Uuid, email: &str) -> DbResult<bool> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM removed_members WHERE organization_id = $1 AND email = $2"
        )
        .bind(org_id)
        .bind(email)
        .fetch_one(c)
        .await)?
            > 0)
    }

    pub async fn clear_removed(&mut self, org_id: Uuid, email: &str) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("DELETE FROM removed_members WHERE organization_id = $1 AND email = $2")
            .bind(org_id)
            .bind(email)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
