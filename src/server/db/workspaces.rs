//! Workspaces and the quotas they count against. The usage columns of
//! `organization_quotas` are kept by triggers in the same transaction as
//! every workspace change, and named CHECKs refuse the change that would
//! pass a limit (see migrations/*/0005_workspaces.sql), so these queries
//! never count or compare: a refused change comes back as a
//! `Constraint::Quota*` error.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};
use crate::model::{DesiredState, QuotaUse, WorkspaceStatus};

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

    /// `quotas_of`, locking the row on PostgreSQL until the transaction
    /// ends: a change of limits reads and writes them whole, so two at once
    /// must not both start from the same old values.
    pub async fn quotas_of_for_update(&mut self, org_id: Uuid) -> DbResult<Option<QuotaRecord>> {
        let sql = format!(
            "SELECT {QUOTA_COLUMNS} FROM organization_quotas WHERE organization_id = $1{}",
            self.for_update_of("organization_quotas")
        );
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

/// A workspace row with its owner's and template's names, as services and
/// the reconciler read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkspaceRecord {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub owner_email: Option<String>,
    pub template_id: Option<Uuid>,
    pub template_name: Option<String>,
    pub image: Option<String>,
    /// JSON array of strings, from the template.
    pub command: Option<String>,
    pub name: String,
    pub vcpu_millicores: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
    pub desired_state: DesiredState,
    pub status: WorkspaceStatus,
    pub status_reason: String,
    pub suspended_reason: Option<String>,
    pub intent_reason: String,
    pub engine_ref: Option<String>,
    pub autostop_at: Option<DateTime<Utc>>,
    pub generation: i64,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub lease_owner: Option<Uuid>,
    pub lease_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

const WORKSPACE_SELECT: &str = "SELECT w.id, w.organization_id, w.owner_id, u.name AS owner_name, u.email AS owner_email, \
     w.template_id, t.name AS template_name, t.image, t.command, w.name, w.vcpu_millicores, w.memory_mib, w.storage_gib, \
     w.desired_state, w.status, w.status_reason, w.suspended_reason, w.intent_reason, w.engine_ref, w.autostop_at, \
     w.generation, w.attempts, w.next_attempt_at, w.lease_owner, w.lease_until, w.created_at, w.updated_at, w.deleted_at \
     FROM workspaces w LEFT JOIN users u ON u.id = w.owner_id LEFT JOIN workspace_templates t ON t.id = w.template_id";

/// Which workspaces a list shows. `organization_id` None: every
/// organization (platform admins only; the service decides).
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkspaceQuery {
    pub organization_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub status: Option<WorkspaceStatus>,
    /// Deleted rows are kept for the audit trail; lists leave them out
    /// unless asked for by status.
    pub limit: i64,
    pub offset: i64,
}

/// A change of what a workspace should be doing, as a service decided it.
#[derive(Debug, Clone)]
pub struct Intent<'a> {
    pub desired_state: DesiredState,
    /// The status to show until the reconciler reports (e.g. `starting`).
    pub status: WorkspaceStatus,
    pub status_reason: &'a str,
    pub suspended_reason: Option<&'a str>,
    /// Why, for the reason the reconciler writes when it gets there.
    pub intent_reason: &'a str,
    pub autostop_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// What the reconciler found or made, written only if the intent it worked
/// towards is still the current one (`generation`) and it still holds the
/// lease.
#[derive(Debug, Clone)]
pub struct Observation<'a> {
    pub status: WorkspaceStatus,
    pub status_reason: &'a str,
    pub engine_ref: Option<&'a str>,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// One step of a timeline, with the actor's email.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkspaceEventRecord {
    pub occurred_at: DateTime<Utc>,
    pub actor_email: Option<String>,
    pub from_status: String,
    pub to_status: String,
    pub reason: String,
}

/// A workspace_templates row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRecord {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub image: String,
    pub command: Option<String>,
    pub default_vcpu: i64,
    pub default_memory_mib: i64,
    pub default_storage_gib: i64,
    pub max_vcpu: i64,
    pub max_memory_mib: i64,
    pub max_storage_gib: i64,
    pub created_at: DateTime<Utc>,
}

const TEMPLATE_COLUMNS: &str = "id, name, description, image, command, default_vcpu, default_memory_mib, default_storage_gib, \
                                max_vcpu, max_memory_mib, max_storage_gib, created_at";

impl Db {
    /// A workspace of `org_id`, deleted ones included.
    pub async fn workspace_of_org(&mut self, org_id: Uuid, id: Uuid) -> DbResult<Option<WorkspaceRecord>> {
        let sql = format!("{WORKSPACE_SELECT} WHERE w.id = $1 AND w.organization_id = $2");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, WorkspaceRecord>(&sql).bind(id).bind(org_id).fetch_optional(c).await)?)
    }

    /// The same, row locked until the transaction ends.
    pub async fn workspace_of_org_for_update(&mut self, org_id: Uuid, id: Uuid) -> DbResult<Option<WorkspaceRecord>> {
        let sql = format!("{WORKSPACE_SELECT} WHERE w.id = $1 AND w.organization_id = $2{}", self.for_update_of("w"));
        Ok(on_conn!(self, |c| sqlx::query_as::<_, WorkspaceRecord>(&sql).bind(id).bind(org_id).fetch_optional(c).await)?)
    }

    /// Which organization a workspace belongs to, whoever asks: only for
    /// deciding between "yours", "another organization's" and "none".
    pub async fn workspace_organization(&mut self, id: Uuid) -> DbResult<Option<Uuid>> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, Uuid>("SELECT organization_id FROM workspaces WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await)?)
    }

    /// A workspace by id alone: for the reconciler, which works for every
    /// organization.
    pub async fn workspace_by_id(&mut self, id: Uuid) -> DbResult<Option<WorkspaceRecord>> {
        let sql = format!("{WORKSPACE_SELECT} WHERE w.id = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, WorkspaceRecord>(&sql).bind(id).fetch_optional(c).await)?)
    }

    /// One page, oldest first, and how many match in all.
    pub async fn list_workspaces(&mut self, q: &WorkspaceQuery) -> DbResult<(Vec<WorkspaceRecord>, i64)> {
        // Absent filters are NULL parameters, so there is one query text.
        let filter = "WHERE ($1 IS NULL OR w.organization_id = $1) AND ($2 IS NULL OR w.owner_id = $2) \
                      AND (($3 IS NULL AND w.desired_state <> 'deleted') OR w.status = $3)";
        let sql = format!("{WORKSPACE_SELECT} {filter} ORDER BY w.created_at, w.id LIMIT $4 OFFSET $5");
        let rows = on_conn!(self, |c| sqlx::query_as::<_, WorkspaceRecord>(&sql)
            .bind(q.organization_id)
            .bind(q.owner_id)
            .bind(q.status)
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(c)
            .await)?;
        let count = format!("SELECT COUNT(*) FROM workspaces w {filter}");
        let total = on_conn!(self, |c| sqlx::query_scalar::<_, i64>(&count)
            .bind(q.organization_id)
            .bind(q.owner_id)
            .bind(q.status)
            .fetch_one(c)
            .await)?;
        Ok((rows, total))
    }

    /// Records what someone asked of a workspace. The usage trigger
    /// re-counts the quotas in this statement, so a start past a limit is
    /// refused here; the reconciler is told by `next_attempt_at` and the new
    /// `generation`.
    pub async fn set_workspace_intent(&mut self, id: Uuid, intent: &Intent<'_>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE workspaces SET desired_state = $2, status = $3, status_reason = $4, suspended_reason = $5, intent_reason = $6, \
             autostop_at = $7, updated_at = $8, next_attempt_at = $8, attempts = 0, generation = generation + 1 WHERE id = $1"
        )
        .bind(id)
        .bind(intent.desired_state)
        .bind(intent.status)
        .bind(intent.status_reason)
        .bind(intent.suspended_reason)
        .bind(intent.intent_reason)
        .bind(intent.autostop_at)
        .bind(intent.now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Renames and resizes (the service allows resizing only when stopped,
    /// so no running reservation changes, but storage is re-counted).
    pub async fn set_workspace_shape(&mut self, id: Uuid, name: &str, size: (i64, i64, i64), now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE workspaces SET name = $2, vcpu_millicores = $3, memory_mib = $4, storage_gib = $5, updated_at = $6, \
             next_attempt_at = $6, generation = generation + 1 WHERE id = $1"
        )
        .bind(id)
        .bind(name)
        .bind(size.0)
        .bind(size.1)
        .bind(size.2)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes up to `limit` due workspaces for `owner` until `until`: a
    /// conditional UPDATE, so of several instances racing for one row
    /// exactly one gets it (PostgreSQL re-checks the condition after the
    /// row lock; SQLite runs writers one at a time). Returns the ids taken.
    pub async fn claim_due_workspaces(&mut self, owner: Uuid, now: DateTime<Utc>, until: DateTime<Utc>, limit: i64) -> DbResult<Vec<Uuid>> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, Uuid>(
            "UPDATE workspaces SET lease_owner = $1, lease_until = $3 WHERE id IN (\
                SELECT id FROM workspaces WHERE status <> 'deleted' AND next_attempt_at <= $2 \
                AND (lease_until IS NULL OR lease_until < $2) ORDER BY next_attempt_at LIMIT $4) \
             AND status <> 'deleted' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2) RETURNING id"
        )
        .bind(owner)
        .bind(now)
        .bind(until)
        .bind(limit)
        .fetch_all(c)
        .await)?)
    }

    /// Writes what the reconciler observed, if it still holds the lease and
    /// the intent is still `generation`; releases the lease. False when the
    /// intent changed meanwhile (the workspace is then due at once).
    pub async fn record_observation(&mut self, id: Uuid, owner: Uuid, generation: i64, o: &Observation<'_>) -> DbResult<bool> {
        let done = on_conn!(self, |c| sqlx::query(
            "UPDATE workspaces SET status = $4, status_reason = $5, engine_ref = $6, attempts = $7, next_attempt_at = $8, \
             lease_owner = NULL, lease_until = NULL, deleted_at = CASE WHEN $4 = 'deleted' THEN $9 ELSE deleted_at END \
             WHERE id = $1 AND lease_owner = $2 AND generation = $3"
        )
        .bind(id)
        .bind(owner)
        .bind(generation)
        .bind(o.status)
        .bind(o.status_reason)
        .bind(o.engine_ref)
        .bind(o.attempts)
        .bind(o.next_attempt_at)
        .bind(o.now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 {
            self.release_workspace_lease(id, owner, o.now).await?;
        }
        Ok(done == 1)
    }

    /// Gives a lease back so the workspace is due at `due`.
    pub async fn release_workspace_lease(&mut self, id: Uuid, owner: Uuid, due: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE workspaces SET lease_owner = NULL, lease_until = NULL, next_attempt_at = $3 WHERE id = $1 AND lease_owner = $2"
        )
        .bind(id)
        .bind(owner)
        .bind(due)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The reconciler ends a workspace's wish to run (it failed, its
    /// process ended, auto-stop): desired becomes stopped, releasing its
    /// vCPU and memory in the same statement. Only while it holds the lease
    /// at `generation`; false otherwise.
    pub async fn settle_workspace(
        &mut self,
        id: Uuid,
        owner: Uuid,
        generation: i64,
        status: WorkspaceStatus,
        reason: &str,
        now: DateTime<Utc>,
    ) -> DbResult<bool> {
        let done = on_conn!(self, |c| sqlx::query(
            "UPDATE workspaces SET desired_state = 'stopped', status = $4, status_reason = $5, autostop_at = NULL, attempts = 0, \
             next_attempt_at = $6, updated_at = $6, generation = generation + 1, lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_owner = $2 AND generation = $3"
        )
        .bind(id)
        .bind(owner)
        .bind(generation)
        .bind(status)
        .bind(reason)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Running workspaces whose auto-stop time has come.
    pub async fn workspaces_due_for_autostop(&mut self, now: DateTime<Utc>, limit: i64) -> DbResult<Vec<(Uuid, Uuid)>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, (Uuid, Uuid)>(
            "SELECT id, organization_id FROM workspaces WHERE desired_state = 'running' AND autostop_at IS NOT NULL \
             AND autostop_at <= $1 ORDER BY autostop_at LIMIT $2"
        )
        .bind(now)
        .bind(limit)
        .fetch_all(c)
        .await)?)
    }

    /// Whether the engine may keep a container for this workspace: it
    /// exists and is not deleted (orphan sweep).
    pub async fn workspace_is_live(&mut self, id: Uuid) -> DbResult<bool> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM workspaces WHERE id = $1 AND status <> 'deleted'")
            .bind(id)
            .fetch_one(c)
            .await)?
            > 0)
    }

    pub async fn insert_workspace_event(
        &mut self,
        ws: &WorkspaceRecord,
        actor: Option<Uuid>,
        from: WorkspaceStatus,
        to: WorkspaceStatus,
        reason: &str,
        now: DateTime<Utc>,
    ) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO workspace_events (id, workspace_id, organization_id, occurred_at, actor_user_id, from_status, to_status, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(Uuid::now_v7())
        .bind(ws.id)
        .bind(ws.organization_id)
        .bind(now)
        .bind(actor)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(reason)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A workspace's timeline, newest first.
    pub async fn workspace_events(&mut self, id: Uuid, limit: i64) -> DbResult<Vec<WorkspaceEventRecord>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, WorkspaceEventRecord>(
            "SELECT e.occurred_at, u.email AS actor_email, e.from_status, e.to_status, e.reason FROM workspace_events e \
             LEFT JOIN users u ON u.id = e.actor_user_id WHERE e.workspace_id = $1 ORDER BY e.occurred_at DESC, e.id DESC LIMIT $2"
        )
        .bind(id)
        .bind(limit)
        .fetch_all(c)
        .await)?)
    }

    /// How many workspaces (not deleted) a user owns.
    pub async fn workspaces_owned(&mut self, user_id: Uuid) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT workspaces_owned FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(c)
            .await)?
        .unwrap_or(0))
    }

    pub async fn list_templates(&mut self) -> DbResult<Vec<TemplateRecord>> {
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM workspace_templates ORDER BY lower(name)");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, TemplateRecord>(&sql).fetch_all(c).await)?)
    }

    pub async fn template_by_id(&mut self, id: Uuid) -> DbResult<Option<TemplateRecord>> {
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM workspace_templates WHERE id = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, TemplateRecord>(&sql).bind(id).fetch_optional(c).await)?)
    }

    pub async fn insert_template(&mut self, t: &TemplateRecord) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO workspace_templates (id, name, description, image, command, default_vcpu, default_memory_mib, \
             default_storage_gib, max_vcpu, max_memory_mib, max_storage_gib, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)"
        )
        .bind(t.id)
        .bind(&t.name)
        .bind(&t.description)
        .bind(&t.image)
        .bind(&t.command)
        .bind(t.default_vcpu)
        .bind(t.default_memory_mib)
        .bind(t.default_storage_gib)
        .bind(t.max_vcpu)
        .bind(t.max_memory_mib)
        .bind(t.max_storage_gib)
        .bind(t.created_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
