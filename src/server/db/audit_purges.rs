//! Retention of the audit log: the purge rows that say where each chain
//! now starts, and the bounded deletes behind them (see
//! `service::audit_retention`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

/// Where a purged chain starts again: events up to `seq` are gone; the
/// event after it must carry `hash` as its `prev_hash`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditPurge {
    pub seq: i64,
    pub hash: String,
}

/// An organization that keeps its events for a number of days.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RetentionRule {
    pub id: Uuid,
    pub audit_retention_days: i64,
}

impl Db {
    /// The latest purge of one chain (None: the installation's).
    pub async fn latest_audit_purge(&mut self, org: Option<Uuid>) -> DbResult<Option<AuditPurge>> {
        let sql = format!(
            "SELECT purged_through_seq AS seq, hash FROM audit_purges WHERE {} ORDER BY purged_through_seq DESC LIMIT 1",
            super::audit::chain_filter(org)
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditPurge>(&sql).bind(org).fetch_optional(c).await)?)
    }

    /// Organizations with a retention period.
    pub async fn audit_retention_rules(&mut self) -> DbResult<Vec<RetentionRule>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, RetentionRule>(
            "SELECT id, audit_retention_days FROM organizations WHERE audit_retention_days IS NOT NULL ORDER BY id"
        )
        .fetch_all(c)
        .await)?)
    }

    /// The newest chained event of `org` older than `before` that lies
    /// after `after` (the last purge): the point a purge may cut at. The
    /// events before `after` are already gone, so this reads at most the
    /// events recorded between two purges' cut-offs.
    pub async fn audit_purge_point(&mut self, org: Uuid, after: i64, before: DateTime<Utc>) -> DbResult<Option<AuditPurge>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, AuditPurge>(
            "SELECT seq, hash FROM audit_events WHERE organization_id = $1 AND seq > $2 AND created_at < $3 \
             AND hash IS NOT NULL ORDER BY seq DESC LIMIT 1"
        )
        .bind(org)
        .bind(after)
        .bind(before)
        .fetch_optional(c)
        .await)?)
    }

    /// Writes a purge row; false when another instance wrote it first.
    pub async fn insert_audit_purge(&mut self, org: Uuid, point: &AuditPurge, before: DateTime<Utc>, now: DateTime<Utc>) -> DbResult<bool> {
        let n = on_conn!(self, |c| sqlx::query(
            "INSERT INTO audit_purges (organization_id, purged_through_seq, hash, purged_before, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
        )
        .bind(org)
        .bind(point.seq)
        .bind(&point.hash)
        .bind(before)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Deletes up to `limit` events of `org` with seq up to `through`, the
    /// oldest first (the triggers let only purged seqs go).
    pub async fn delete_purged_audit_events(&mut self, org: Uuid, through: i64, limit: i64) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query(
            "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE organization_id = $1 AND seq <= $2 \
             ORDER BY seq LIMIT $3)"
        )
        .bind(org)
        .bind(through)
        .bind(limit)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }
}
