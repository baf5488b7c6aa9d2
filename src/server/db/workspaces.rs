use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

impl Db {
    /// Inserts a workspace; the organization's `workspaces_count` follows by
    /// trigger. The full workspace feature (quotas, lifecycle) extends this
    /// table later.
    pub async fn insert_workspace(&mut self, org_id: Uuid, name: &str, now: DateTime<Utc>) -> DbResult<Uuid> {
        let id = Uuid::now_v7();
        on_conn!(self, |c| sqlx::query("INSERT INTO workspaces (id, organization_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(org_id)
            .bind(name)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(id)
    }
}

impl Db {
    /// Counts the workspaces of an organization row by row; what
    /// `workspaces_count` must always equal.
    pub async fn count_workspaces(&mut self, org_id: Uuid) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM workspaces WHERE organization_id = $1")
            .bind(org_id)
            .fetch_one(c)
            .await)?)
    }
}
