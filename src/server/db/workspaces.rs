//! Workspaces and the quotas they count against. The usage columns of
//! `organization_quotas` are kept by triggers in the same transaction as
//! every workspace change, and named CHECKs refuse the change that would
//! pass a limit (see migrations/*/0005_workspaces.sql), so these queries
//! never count or compare: a refused change comes back as a
//! `Constraint::Quota*` error.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};
use crate::model::{DesiredState, QuotaUse};

/// An organization's quotas: limits and what is used of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct QuotaRecord {
    pub max_workspaces: Option<i64>,
    pub max_running: Option<i64>,
    pub max_vcpu: Option<i64>,
    pub max_memory_mib: Option<i64>,
    pub max_storage_gib: Option<i64>,
    pub max_workspaces_per_user: Option<i64>,
    pub workspaces_used: i64,
    pub running_used: i64,
    pub vcpu_used: i64,
    pub memory_mib_used: i64,
    pub storage_gib_used: i64,
}

impl QuotaRecord {
    pub fn workspaces(&self) -> QuotaUse {
        QuotaUse { used: self.workspaces_used, limit: self.max_workspaces }
    }
    pub fn running(&self) -> QuotaUse {
        QuotaUse { used: self.running_used, limit: self.max_running }
    }
    pub fn vcpu(&self) -> QuotaUse {
        QuotaUse { used: self.vcpu_used, limit: self.max_vcpu }
    }
    pub fn memory_mib(&self) -> QuotaUse {
        QuotaUse { used: self.memory_mib_used, limit: self.max_memory_mib }
    }
    pub fn storage_gib(&self) -> QuotaUse {
        QuotaUse { used: self.storage_gib_used, limit: self.max_storage_gib }
    }
}

/// The limits a platform admin sets; None is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaLimits {
    pub max_workspaces: Option<i64>,
    pub max_running: Option<i64>,
    pub max_vcpu: Option<i64>,
    pub max_memory_mib: Option<i64>,
    pub max_storage_gib: Option<i64>,
    pub max_workspaces_per_user: Option<i64>,
}

/// A workspace to allocate.
#[derive(Debug, Clone)]
pub struct NewWorkspace<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub template_id: Option<Uuid>,
    pub name: &'a str,
    pub vcpu_millicores: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
    pub desired_state: DesiredState,
    pub now: DateTime<Utc>,
}

const QUOTA_COLUMNS: &str = "max_workspaces, max_running, max_vcpu, max_memory_mib, max_storage_gib, max_workspaces_per_user, \
                             workspaces_used, running_used, vcpu_used, memory_mib_used, storage_gib_used";

impl Db {
    /// Allocates a workspace; refused by a quota constraint when it does
    /// not fit (a running one reserves its vCPU and memory at once).
    pub async fn insert_workspace(&mut self, new: &NewWorkspace<'_>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO workspaces (id, organization_id, owner_id, template_id, name, vcpu_millicores, memory_mib, storage_gib, \
             desired_state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
        )
        .bind(new.id)
        .bind(new.organization_id)
        .bind(new.owner_id)
        .bind(new.template_id)
        .bind(new.name)
        .bind(new.vcpu_millicores)
        .bind(new.memory_mib)
        .bind(new.storage_gib)
        .bind(new.desired_state)
        .bind(new.now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Changes what a workspace of `org_id` should be doing; false when
    /// there is no such workspace there. Starting may be refused by the
    /// running, vCPU or memory quota; stopping and deleting release.
    pub async fn set_workspace_desired_state(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        desired: DesiredState,
        now: DateTime<Utc>,
    ) -> DbResult<bool> {
        let changed = on_conn!(self, |c| sqlx::query(
            "UPDATE workspaces SET desired_state = $1, updated_at = $2 WHERE id = $3 AND organization_id = $4"
        )
        .bind(desired)
        .bind(now)
        .bind(id)
        .bind(org_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// The organization's quotas and usage. Every organization has the row
    /// (a trigger makes it with the organization).
    pub async fn quotas_of(&mut self, org_id: Uuid) -> DbResult<Option<QuotaRecord>> {
        let sql = format!("SELECT {QUOTA_COLUMNS} FROM organization_quotas WHERE organization_id = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, QuotaRecord>(&sql).bind(org_id).fetch_optional(c).await)?)
    }

    /// Sets every limit; refused by a quota constraint when a new limit is
    /// below what is used now (the per-user limit excepted: it applies to
    /// new allocations only).
    pub async fn set_quota_limits(&mut self, org_id: Uuid, limits: &QuotaLimits) -> DbResult<Option<QuotaRecord>> {
        let sql = format!(
            "UPDATE organization_quotas SET max_workspaces = $1, max_running = $2, max_vcpu = $3, max_memory_mib = $4, \
             max_storage_gib = $5, max_workspaces_per_user = $6 WHERE organization_id = $7 RETURNING {QUOTA_COLUMNS}"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, QuotaRecord>(&sql)
            .bind(limits.max_workspaces)
            .bind(limits.max_running)
            .bind(limits.max_vcpu)
            .bind(limits.max_memory_mib)
            .bind(limits.max_storage_gib)
            .bind(limits.max_workspaces_per_user)
            .bind(org_id)
            .fetch_optional(c)
            .await)?)
    }

    /// Inserts a named, unsized, stopped workspace (the demo data's).
    pub async fn insert_named_workspace(&mut self, org_id: Uuid, name: &str, now: DateTime<Utc>) -> DbResult<Uuid> {
        let id = Uuid::now_v7();
        self.insert_workspace(&NewWorkspace {
            id,
            organization_id: org_id,
            owner_id: None,
            template_id: None,
            name,
            vcpu_millicores: 0,
            memory_mib: 0,
            storage_gib: 0,
            desired_state: DesiredState::Stopped,
            now,
        })
        .await?;
        Ok(id)
    }

    /// Counts the workspaces of an organization row by row; what
    /// `workspaces_count` must always equal.
    pub async fn count_workspaces(&mut self, org_id: Uuid) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM workspaces WHERE organization_id = $1 AND desired_state <> 'deleted'"
        )
        .bind(org_id)
        .fetch_one(c)
        .await)?)
    }
}
