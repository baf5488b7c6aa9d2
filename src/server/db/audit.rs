use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

/// One audit event. Written in the same transaction as the change it
/// describes, so the trail never claims a change that did not happen nor
/// misses one that did.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub organization_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<String>,
    pub details: Value,
    pub ip: Option<&'a str>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub details: Json<Value>,
    pub created_at: DateTime<Utc>,
}

impl Db {
    pub async fn insert_audit_event(&mut self, e: &NewAuditEvent<'_>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO audit_events (id, organization_id, actor_user_id, action, target_type, target_id, details, ip, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(Uuid::now_v7())
        .bind(e.organization_id)
        .bind(e.actor_user_id)
        .bind(e.action)
        .bind(e.target_type)
        .bind(e.target_id.as_deref())
        .bind(Json(&e.details))
        .bind(e.ip)
        .bind(e.now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest events of one organization, newest first.
    pub async fn audit_events_of_org(&mut self, org_id: Uuid, limit: i64) -> DbResult<Vec<AuditRecord>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditRecord>(
            "SELECT id, organization_id, actor_user_id, action, target_type, target_id, details, created_at \
             FROM audit_events WHERE organization_id = $1 ORDER BY id DESC LIMIT $2"
        )
        .bind(org_id)
        .bind(limit)
        .fetch_all(c)
        .await)?)
    }
}

impl Db {
    /// The newest events with one action, across organizations (sign-in
    /// failures may belong to none).
    pub async fn audit_events_with_action(&mut self, action: &str, limit: i64) -> DbResult<Vec<AuditRecord>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditRecord>(
            "SELECT id, organization_id, actor_user_id, action, target_type, target_id, details, created_at \
             FROM audit_events WHERE action = $1 ORDER BY id DESC LIMIT $2"
        )
        .bind(action)
        .bind(limit)
        .fetch_all(c)
        .await)?)
    }

    pub async fn count_audit_events(&mut self) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_events").fetch_one(c).await)?)
    }
}
