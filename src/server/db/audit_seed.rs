//! Audit events in bulk, for `neosc dev seed-audit` and `make bench`
//! (scripts/bench-audit.sh). The application never calls this.
//!
//! The rows arrive hashed and chained (`service::audit_seed` computes them
//! with the same canonical JSON and SHA-256 as `service::audit::record`);
//! this module only writes them, many per statement: on SQLite a multi-row
//! `INSERT … VALUES` (the caller's transaction holds many of them), on
//! PostgreSQL one `INSERT … SELECT FROM UNNEST(arrays)` per batch. As in
//! `seed`, the text differs per backend and is picked by [`Db::backend`].
//! The chain heads (`audit_heads`) are the caller's to move, with
//! `take_audit_head` / `set_audit_head` as `record` does, in the same
//! transaction as the rows they end.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use super::audit::AuditExtras;
use super::{on_conn, Backend, Db, DbResult};

/// One event as stored, chained already. Owned, so batches can be made on
/// another thread than the one writing them.
#[derive(Debug, Clone)]
pub struct SeedAuditRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub actor_user_id: Option<Uuid>,
    pub action: &'static str,
    pub outcome: &'static str,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub details: Value,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub more: AuditExtras,
}

/// A seed organization and the people who act in its events.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeedActor {
    pub id: Uuid,
    pub email: String,
    pub name: String,
}

const COLUMNS: &str = "id, organization_id, actor_user_id, action, outcome, target_type, target_id, details, ip, created_at, seq, \
                       prev_hash, hash, actor_kind, actor_email, actor_role, target_name, reason_code, user_agent, request_id";
const COLUMN_COUNT: usize = 20;

/// Rows per SQLite statement: 20 binds each, well under SQLite's limit of
/// 32,766 variables.
pub const SQLITE_ROWS_PER_STATEMENT: usize = 500;

impl Db {
    /// The seed organizations (`seed-org-<n>`) numbered `first..=last`, in
    /// number order: `(id, name)`.
    pub async fn seed_orgs_numbered(&mut self, first: i64, last: i64) -> DbResult<Vec<(Uuid, String)>> {
        let rows = on_conn!(self, |c| sqlx::query_as::<_, (Uuid, String, String)>(
            "SELECT id, name, slug FROM organizations WHERE slug LIKE 'seed-org-%'"
        )
        .fetch_all(c)
        .await)?;
        let mut numbered: Vec<(i64, Uuid, String)> = rows
            .into_iter()
            .filter_map(|(id, name, slug)| {
                let n = slug.strip_prefix("seed-org-")?.parse::<i64>().ok()?;
                (first..=last).contains(&n).then_some((n, id, name))
            })
            .collect();
        numbered.sort_by_key(|(n, _, _)| *n);
        Ok(numbered.into_iter().map(|(_, id, name)| (id, name)).collect())
    }

    /// The members of one organization, oldest first: the actors of its
    /// seeded events.
    pub async fn seed_actors_of(&mut self, org: Uuid) -> DbResult<Vec<SeedActor>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, SeedActor>(
            "SELECT id, email, name FROM users WHERE organization_id = $1 ORDER BY created_at, id"
        )
        .bind(org)
        .fetch_all(c)
        .await)?)
    }

    /// Readies the transaction for bulk inserts (SQLite: a larger page
    /// cache, as `seed_prepare` sets; PostgreSQL: commits that do not wait
    /// for the disk, which a seed can afford to lose).
    pub async fn seed_audit_prepare(&mut self) -> DbResult<()> {
        let sql = match self.backend() {
            Backend::Sqlite => "PRAGMA cache_size = -262144",
            Backend::Postgres => "SET LOCAL synchronous_commit = off",
        };
        on_conn!(self, |c| sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Writes `rows` (any number) as they are.
    pub async fn seed_audit_rows(&mut self, rows: &[SeedAuditRow]) -> DbResult<u64> {
        match self.backend() {
            Backend::Sqlite => {
                let mut written = 0;
                for chunk in rows.chunks(SQLITE_ROWS_PER_STATEMENT) {
                    written += self.seed_audit_rows_sqlite(chunk).await?;
                }
                Ok(written)
            }
            Backend::Postgres => self.seed_audit_rows_postgres(rows).await,
        }
    }

    async fn seed_audit_rows_sqlite(&mut self, rows: &[SeedAuditRow]) -> DbResult<u64> {
        let mut sql = String::with_capacity(120 + rows.len() * COLUMN_COUNT * 2 + rows.len() * 3);
        sql.push_str("INSERT INTO audit_events (");
        sql.push_str(COLUMNS);
        sql.push_str(") VALUES ");
        for r in 0..rows.len() {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            // Anonymous `?`: sqlx looks up the name of every numbered
            // parameter (`$n`), which SQLite finds by walking a list of
            // them all, so 10,000 `$n` binds cost 10,000² steps; `?` has
            // no name and binds in order.
            sql.push_str(&["?"; COLUMN_COUNT].join(","));
            sql.push(')');
        }
        Ok(on_conn!(self, |c| {
            let mut q = sqlx::query(&sql);
            for e in rows {
                q = q
                    .bind(e.id)
                    .bind(e.organization_id)
                    .bind(e.actor_user_id)
                    .bind(e.action)
                    .bind(e.outcome)
                    .bind(e.target_type)
                    .bind(e.target_id.as_deref())
                    .bind(Json(&e.details))
                    .bind(e.ip.as_deref())
                    .bind(e.created_at)
                    .bind(e.seq)
                    .bind(e.prev_hash.as_str())
                    .bind(e.hash.as_str())
                    .bind(e.more.actor_kind.as_deref())
                    .bind(e.more.actor_email.as_deref())
                    .bind(e.more.actor_role.as_deref())
                    .bind(e.more.target_name.as_deref())
                    .bind(e.more.reason_code.as_deref())
                    .bind(e.more.user_agent.as_deref())
                    .bind(e.more.request_id.as_deref());
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?)
    }

    async fn seed_audit_rows_postgres(&mut self, rows: &[SeedAuditRow]) -> DbResult<u64> {
        let sql = format!(
            "INSERT INTO audit_events ({COLUMNS}) SELECT id, organization_id, actor_user_id, action, outcome, target_type, target_id, \
             details::jsonb, ip, created_at, seq, prev_hash, hash, actor_kind, actor_email, actor_role, target_name, reason_code, \
             user_agent, request_id FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], \
             $8::text[], $9::text[], $10::timestamptz[], $11::int8[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], \
             $17::text[], $18::text[], $19::text[], $20::text[]) AS t({COLUMNS})"
        );
        let texts = |f: fn(&SeedAuditRow) -> Option<&str>| rows.iter().map(f).collect::<Vec<Option<&str>>>();
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let orgs: Vec<Uuid> = rows.iter().map(|r| r.organization_id).collect();
        let actors: Vec<Option<Uuid>> = rows.iter().map(|r| r.actor_user_id).collect();
        let details: Vec<String> = rows.iter().map(|r| r.details.to_string()).collect();
        let times: Vec<DateTime<Utc>> = rows.iter().map(|r| r.created_at).collect();
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        // Arrays are PostgreSQL's alone: no `on_conn!` here.
        let super::Inner::Postgres(h) = &mut self.0 else {
            return Err(super::DbError::UnsupportedUrl("UNNEST arrays on SQLite".into()));
        };
        Ok(sqlx::query(&sql)
            .bind(&ids)
            .bind(&orgs)
            .bind(&actors)
            .bind(texts(|r| Some(r.action)))
            .bind(texts(|r| Some(r.outcome)))
            .bind(texts(|r| r.target_type))
            .bind(texts(|r| r.target_id.as_deref()))
            .bind(&details)
            .bind(texts(|r| r.ip.as_deref()))
            .bind(&times)
            .bind(&seqs)
            .bind(texts(|r| Some(r.prev_hash.as_str())))
            .bind(texts(|r| Some(r.hash.as_str())))
            .bind(texts(|r| r.more.actor_kind.as_deref()))
            .bind(texts(|r| r.more.actor_email.as_deref()))
            .bind(texts(|r| r.more.actor_role.as_deref()))
            .bind(texts(|r| r.more.target_name.as_deref()))
            .bind(texts(|r| r.more.reason_code.as_deref()))
            .bind(texts(|r| r.more.user_agent.as_deref()))
            .bind(texts(|r| r.more.request_id.as_deref()))
            .execute(h.conn())
            .await?
            .rows_affected())
    }

    /// After the commit, outside a transaction: statistics for the
    /// planner as the server would find them once background work settled
    /// (PostgreSQL: VACUUM ANALYZE, as autovacuum would run it on a table
    /// that grew this much; SQLite: the WAL checkpointed into the file).
    pub async fn seed_audit_settle(&mut self) -> DbResult<()> {
        let sql = match self.backend() {
            Backend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
            Backend::Postgres => "VACUUM (ANALYZE) audit_events, audit_heads",
        };
        on_conn!(self, |c| sqlx::raw_sql(sql).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
