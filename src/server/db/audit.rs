use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

/// One audit event. Written in the same transaction as the change it
/// describes, so the trail never claims a change that did not happen nor
/// misses one that did. `seq`, `prev_hash` and `hash` place it in its
/// organization's chain (see `service::audit`).
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub action: &'a str,
    pub outcome: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<String>,
    pub details: Value,
    pub ip: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub more: AuditExtras,
}

/// The fields added to events by migration 0016. Absent (NULL) on older
/// rows, and left out of those rows' canonical JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditExtras {
    pub actor_kind: Option<String>,
    pub actor_email: Option<String>,
    pub actor_role: Option<String>,
    pub target_name: Option<String>,
    pub reason_code: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// Added by migration 0021: how the actor was authenticated.
    pub session_kind: Option<String>,
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

/// An event with everything its hash covers, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChainedAuditRecord {
    pub seq: Option<i64>,
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub action: String,
    pub outcome: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub details: Json<Value>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
    #[sqlx(flatten)]
    pub more: AuditExtras,
}

/// Where a chain ends: the last seq and its hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

pub(crate) const CHAINED_COLUMNS: &str = "seq, id, organization_id, actor_user_id, action, outcome, target_type, target_id, \
                                          details, ip, created_at, prev_hash, hash, actor_kind, actor_email, actor_role, \
                                          target_name, reason_code, user_agent, request_id, session_kind";

/// The filter naming one chain: an organization's, or the installation's.
pub(super) fn chain_filter(org: Option<Uuid>) -> &'static str {
    match org {
        Some(_) => "organization_id = $1",
        None => "organization_id IS NULL AND $1 IS NULL",
    }
}

impl Db {
    pub async fn insert_audit_event(&mut self, e: &NewAuditEvent<'_>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO audit_events (id, organization_id, actor_user_id, action, outcome, target_type, target_id, details, ip, \
             created_at, seq, prev_hash, hash, actor_kind, actor_email, actor_role, target_name, reason_code, user_agent, \
             request_id, session_kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        )
        .bind(e.id)
        .bind(e.organization_id)
        .bind(e.actor_user_id)
        .bind(e.action)
        .bind(e.outcome)
        .bind(e.target_type)
        .bind(e.target_id.as_deref())
        .bind(Json(&e.details))
        .bind(e.ip)
        .bind(e.now)
        .bind(e.seq)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .bind(e.more.actor_kind.as_deref())
        .bind(e.more.actor_email.as_deref())
        .bind(e.more.actor_role.as_deref())
        .bind(e.more.target_name.as_deref())
        .bind(e.more.reason_code.as_deref())
        .bind(e.more.user_agent.as_deref())
        .bind(e.more.request_id.as_deref())
        .bind(e.more.session_kind.as_deref())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes the head of chain `key` for this transaction and answers it as
    /// it is (`genesis` hash at seq 0 for a chain without one yet). The
    /// upsert is a write, so on PostgreSQL it holds the head row's lock
    /// until commit: writers of one chain queue here, one at a time.
    pub async fn take_audit_head(&mut self, key: &str, genesis: &str) -> DbResult<AuditHead> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditHead>(
            "INSERT INTO audit_heads (chain_key, seq, hash) VALUES ($1, 0, $2) \
             ON CONFLICT (chain_key) DO UPDATE SET seq = audit_heads.seq RETURNING seq, hash"
        )
        .bind(key)
        .bind(genesis)
        .fetch_one(c)
        .await)?)
    }

    /// Moves the head of chain `key`, taken by `take_audit_head` in this
    /// transaction, to the event just chained.
    pub async fn set_audit_head(&mut self, key: &str, head: &AuditHead) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE chain_key = $1")
            .bind(key)
            .bind(head.seq)
            .bind(&head.hash)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The head of chain `key` as committed, without taking it.
    pub async fn audit_head(&mut self, key: &str) -> DbResult<Option<AuditHead>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditHead>("SELECT seq, hash FROM audit_heads WHERE chain_key = $1")
            .bind(key)
            .fetch_optional(c)
            .await)?)
    }

    /// Up to `limit` events of one chain with seq in (`after`, `up_to`], in
    /// seq order.
    pub async fn audit_chain_page(&mut self, org: Option<Uuid>, after: i64, up_to: i64, limit: i64) -> DbResult<Vec<ChainedAuditRecord>> {
        let sql = format!(
            "SELECT {CHAINED_COLUMNS} FROM audit_events WHERE {} AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
            chain_filter(org)
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, ChainedAuditRecord>(&sql)
            .bind(org)
            .bind(after)
            .bind(up_to)
            .bind(limit)
            .fetch_all(c)
            .await)?)
    }

    /// The chains (organization or installation) that have events without
    /// a seq yet: written before the chain existed.
    pub async fn audit_unchained_chains(&mut self) -> DbResult<Vec<Option<Uuid>>> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, Option<Uuid>>(
            "SELECT DISTINCT organization_id FROM audit_events WHERE seq IS NULL"
        )
        .fetch_all(c)
        .await)?)
    }

    /// Up to `limit` unchained events of one chain, oldest first.
    pub async fn audit_unchained_page(&mut self, org: Option<Uuid>, limit: i64) -> DbResult<Vec<ChainedAuditRecord>> {
        let sql = format!(
            "SELECT {CHAINED_COLUMNS} FROM audit_events WHERE {} AND seq IS NULL ORDER BY created_at, id LIMIT $2",
            chain_filter(org)
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, ChainedAuditRecord>(&sql).bind(org).bind(limit).fetch_all(c).await)?)
    }

    /// Places an unchained event in its chain: the one update the
    /// append-only trigger lets through. False when someone chained it
    /// first.
    pub async fn chain_audit_event(&mut self, id: Uuid, seq: i64, prev_hash: &str, hash: &str) -> DbResult<bool> {
        let n = on_conn!(self, |c| sqlx::query(
            "UPDATE audit_events SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1 AND seq IS NULL AND hash IS NULL"
        )
        .bind(id)
        .bind(seq)
        .bind(prev_hash)
        .bind(hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Every organization's id, for verifying all chains.
    pub async fn audit_chain_orgs(&mut self) -> DbResult<Vec<Uuid>> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, Uuid>("SELECT id FROM organizations ORDER BY id").fetch_all(c).await)?)
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
