//! Development data in bulk, for `neosc dev seed` and `make bench`: many
//! organizations, users and workspaces made by a few set-based statements
//! in the caller's transaction, never one round trip per row. The
//! application never calls this.
//!
//! Unlike the rest of this module the SQL differs per backend (a recursive
//! CTE and `printf`/`unhex` on SQLite, `generate_series` and `to_hex` on
//! PostgreSQL), so each method picks its text by [`Db::backend`]. Rows are
//! numbered: organization `k` of a run is `Seed Org <first + k>` with
//! domain `seed<first + k>.test`, user `n` is `u<n>@seed<first + k>.test`
//! where `k` is the organization it falls into (users are spread evenly, in
//! contiguous blocks). Ids are valid UUIDv7 computed from the row's
//! `created_at` and its number, so they are unique, increase in insertion
//! order (every index but the email one is appended to) and never need a
//! round trip to make.
//!
//! Counts: on SQLite the `*_count` triggers keep `users_count` and
//! `workspaces_count` as they always do. On PostgreSQL the row triggers
//! would run a million dynamic UPDATEs, so `seed_prepare` disables the two
//! count triggers inside the transaction (which locks `users` and
//! `workspaces` until commit, so nothing else can change membership
//! meanwhile) and `seed_finish` sets the counts with one grouped UPDATE and
//! enables them again. Disabling a trigger is transactional: if the seed
//! fails, the rows and the trigger change roll back together.

use chrono::{DateTime, Utc};

use super::{on_conn, Backend, Db, DbResult};

/// The numbering and timeline of one seeding run.
#[derive(Debug, Clone, Copy)]
pub struct SeedRun {
    /// Seed organizations that existed before; this run's are numbered after them.
    pub number_offset: i64,
    pub orgs: i64,
    pub users: i64,
    pub workspaces: i64,
    /// Milliseconds since the epoch just before the first organization's
    /// `created_at`: organization `k` is made at `base_ms + k`, user `n` at
    /// `base_ms + orgs + n`, workspace `w` at `base_ms + orgs + users + w`,
    /// all before `now`.
    pub base_ms: i64,
    /// Twelve random bits carried by every id of this run.
    pub salt: i64,
}

impl SeedRun {
    pub fn new(number_offset: i64, orgs: i64, users: i64, workspaces: i64, now: DateTime<Utc>, salt: u16) -> Self {
        let base_ms = now.timestamp_millis() - orgs - users - workspaces - 1;
        Self { number_offset, orgs, users, workspaces, base_ms, salt: i64::from(salt & 0xfff) }
    }

    /// The slug of this run's organization `k` (1-based).
    pub fn org_slug(&self, k: i64) -> String {
        format!("seed-org-{}", self.number_offset + k)
    }
}

/// An organization's stored counts next to counts of its rows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeededOrgCounts {
    pub slug: String,
    pub users_count: i64,
    pub users_counted: i64,
    pub workspaces_count: i64,
    pub workspaces_counted: i64,
}

// Row expressions of each dialect. `$1` is `base_ms`, `$2` the salt.
// SQLite: a UUIDv7 from a millisecond timestamp and a counter, and the
// timestamp as the RFC 3339 text sqlx writes.
macro_rules! sqlite_v7 {
    ($ms:literal, $n:literal) => {
        concat!("unhex(printf('%012x7%03x8%015x', ", $ms, ", $2, ", $n, "))")
    };
}
macro_rules! sqlite_ts {
    ($ms:literal) => {
        concat!("strftime('%Y-%m-%dT%H:%M:%f+00:00', (", $ms, ") / 1000.0, 'unixepoch')")
    };
}
macro_rules! pg_v7 {
    ($ms:literal, $n:literal) => {
        concat!(
            "(lpad(to_hex(",
            $ms,
            "), 12, '0') || '7' || lpad(to_hex($2::bigint), 3, '0') || '8' || lpad(to_hex(",
            $n,
            "), 15, '0'))::uuid"
        )
    };
}
macro_rules! pg_ts {
    ($ms:literal) => {
        concat!("(timestamptz 'epoch' + (", $ms, ") * interval '1 millisecond')")
    };
}

impl Db {
    /// Seed organizations made by earlier runs.
    pub async fn seed_existing_orgs(&mut self) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM organizations WHERE slug LIKE 'seed-org-%'")
            .fetch_one(c)
            .await)?)
    }

    /// Readies the transaction for bulk inserts: a larger page cache on
    /// SQLite; on PostgreSQL the count triggers are disabled until
    /// `seed_finish` (see the module comment).
    pub async fn seed_prepare(&mut self) -> DbResult<()> {
        let statements: &[&str] = match self.backend() {
            Backend::Sqlite => &["PRAGMA cache_size = -262144"],
            Backend::Postgres => {
                &["ALTER TABLE users DISABLE TRIGGER users_count_change", "ALTER TABLE workspaces DISABLE TRIGGER workspaces_usage"]
            }
        };
        for sql in statements {
            on_conn!(self, |c| sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Inserts the run's organizations.
    pub async fn seed_orgs(&mut self, run: &SeedRun) -> DbResult<u64> {
        let sql = match self.backend() {
            Backend::Sqlite => concat!(
                "WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < $4) ",
                "INSERT INTO organizations (id, name, slug, domain, created_at, updated_at) ",
                "SELECT id, 'Seed Org ' || num, 'seed-org-' || num, 'seed' || num || '.test', ts, ts FROM (SELECT ",
                sqlite_v7!("$1 + k", "k"),
                " AS id, $3 + k AS num, ",
                sqlite_ts!("$1 + k"),
                " AS ts FROM s)"
            ),
            Backend::Postgres => concat!(
                "INSERT INTO organizations (id, name, slug, domain, created_at, updated_at) ",
                "SELECT id, 'Seed Org ' || num, 'seed-org-' || num, 'seed' || num || '.test', ts, ts FROM (SELECT ",
                pg_v7!("$1 + k", "k"),
                " AS id, $3 + k AS num, ",
                pg_ts!("$1 + k"),
                " AS ts ",
                "FROM generate_series(1::bigint, $4::bigint) AS s(k)) AS o"
            ),
        };
        Ok(on_conn!(self, |c| sqlx::query(sql)
            .bind(run.base_ms)
            .bind(run.salt)
            .bind(run.number_offset)
            .bind(run.orgs)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Inserts the run's users `from..=to` (1-based): no password (they
    /// cannot sign in), role `user`, in contiguous blocks per organization.
    pub async fn seed_users(&mut self, run: &SeedRun, from: i64, to: i64) -> DbResult<u64> {
        let sql = match self.backend() {
            Backend::Sqlite => concat!(
                "WITH RECURSIVE s(n) AS (SELECT $5 UNION ALL SELECT n + 1 FROM s WHERE n < $6) ",
                "INSERT INTO users (id, organization_id, email, name, password_hash, role, created_at, updated_at) ",
                "SELECT ",
                sqlite_v7!("$1 + $4 + n", "n"),
                ", ",
                sqlite_v7!("$1 + k", "k"),
                ", ",
                "'u' || n || '@seed' || ($3 + k) || '.test', 'Seed User ' || n, NULL, 'user', ts, ts ",
                "FROM (SELECT n, ((n - 1) * $4) / $7 + 1 AS k, ",
                sqlite_ts!("$1 + $4 + n"),
                " AS ts FROM s)"
            ),
            Backend::Postgres => concat!(
                "INSERT INTO users (id, organization_id, email, name, password_hash, role, created_at, updated_at) ",
                "SELECT ",
                pg_v7!("$1 + $4 + n", "n"),
                ", ",
                pg_v7!("$1 + k", "k"),
                ", ",
                "'u' || n || '@seed' || ($3 + k) || '.test', 'Seed User ' || n, NULL, 'user', ts, ts ",
                "FROM (SELECT n, ((n - 1) * $4) / $7 + 1 AS k, ",
                pg_ts!("$1 + $4 + n"),
                " AS ts ",
                "FROM generate_series($5::bigint, $6::bigint) AS s(n)) AS u"
            ),
        };
        Ok(on_conn!(self, |c| sqlx::query(sql)
            .bind(run.base_ms)
            .bind(run.salt)
            .bind(run.number_offset)
            .bind(run.orgs)
            .bind(from)
            .bind(to)
            .bind(run.users)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Inserts the run's workspaces `from..=to` (1-based), spread like the users.
    pub async fn seed_workspaces(&mut self, run: &SeedRun, from: i64, to: i64) -> DbResult<u64> {
        let sql = match self.backend() {
            Backend::Sqlite => concat!(
                "WITH RECURSIVE s(n) AS (SELECT $5 UNION ALL SELECT n + 1 FROM s WHERE n < $6) ",
                "INSERT INTO workspaces (id, organization_id, name, created_at, updated_at) ",
                "SELECT ",
                sqlite_v7!("$1 + $3 + $4 + n", "n"),
                ", ",
                sqlite_v7!("$1 + k", "k"),
                ", ",
                "'Seed Workspace ' || n, ",
                sqlite_ts!("$1 + $3 + $4 + n"),
                ", ",
                sqlite_ts!("$1 + $3 + $4 + n"),
                " ",
                "FROM (SELECT n, ((n - 1) * $3) / $7 + 1 AS k FROM s)"
            ),
            Backend::Postgres => concat!(
                "INSERT INTO workspaces (id, organization_id, name, created_at, updated_at) ",
                "SELECT ",
                pg_v7!("$1 + $3 + $4 + n", "n"),
                ", ",
                pg_v7!("$1 + k", "k"),
                ", ",
                "'Seed Workspace ' || n, ",
                pg_ts!("$1 + $3 + $4 + n"),
                ", ",
                pg_ts!("$1 + $3 + $4 + n"),
                " ",
                "FROM (SELECT n, ((n - 1) * $3) / $7 + 1 AS k FROM generate_series($5::bigint, $6::bigint) AS s(n)) AS w"
            ),
        };
        Ok(on_conn!(self, |c| sqlx::query(sql)
            .bind(run.base_ms)
            .bind(run.salt)
            .bind(run.orgs)
            .bind(run.users)
            .bind(from)
            .bind(to)
            .bind(run.workspaces)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Makes the counts of the run's organizations exact and undoes
    /// `seed_prepare`. SQLite's triggers already counted every row; on
    /// PostgreSQL one grouped UPDATE counts them (the tables are locked, so
    /// nothing else changed them) and the triggers are enabled again.
    pub async fn seed_finish(&mut self, run: &SeedRun) -> DbResult<()> {
        match self.backend() {
            Backend::Sqlite => {
                on_conn!(self, |c| sqlx::query("PRAGMA cache_size = -2000").execute(c).await.map(|r| r.rows_affected()))?;
            }
            Backend::Postgres => {
                // This run's organization ids are the range v7(k = 1) ..= v7(k = orgs).
                let sql = concat!(
                    "UPDATE organizations o SET users_count = COALESCE(c.users, 0), workspaces_count = COALESCE(c.workspaces, 0) ",
                    "FROM (SELECT COALESCE(u.id, w.id) AS id, u.n AS users, w.n AS workspaces ",
                    "  FROM (SELECT organization_id AS id, COUNT(*) AS n FROM users ",
                    "        WHERE organization_id BETWEEN ",
                    pg_v7!("$1 + $3", "$3"),
                    " AND ",
                    pg_v7!("$1 + $4", "$4"),
                    "        GROUP BY organization_id) AS u ",
                    "  FULL JOIN (SELECT organization_id AS id, COUNT(*) AS n FROM workspaces ",
                    "        WHERE organization_id BETWEEN ",
                    pg_v7!("$1 + $3", "$3"),
                    " AND ",
                    pg_v7!("$1 + $4", "$4"),
                    "        GROUP BY organization_id) AS w ON w.id = u.id) AS c ",
                    "WHERE o.id = c.id"
                );
                on_conn!(self, |c| sqlx::query(sql)
                    .bind(run.base_ms)
                    .bind(run.salt)
                    .bind(1_i64)
                    .bind(run.orgs)
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected()))?;
                // Seeded workspaces are stopped and unsized: they count, and
                // reserve nothing.
                on_conn!(self, |c| sqlx::query(concat!(
                    "UPDATE organization_quotas q SET workspaces_used = o.workspaces_count FROM organizations o ",
                    "WHERE q.organization_id = o.id AND o.id BETWEEN ",
                    pg_v7!("$1 + $3", "$3"),
                    " AND ",
                    pg_v7!("$1 + $4", "$4"),
                ))
                .bind(run.base_ms)
                .bind(run.salt)
                .bind(1_i64)
                .bind(run.orgs)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
                for sql in ["ALTER TABLE users ENABLE TRIGGER users_count_change", "ALTER TABLE workspaces ENABLE TRIGGER workspaces_usage"]
                {
                    on_conn!(self, |c| sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()))?;
                }
            }
        }
        Ok(())
    }

    /// After the commit, outside a transaction: leaves the database as it
    /// would be once the background work settled, so a benchmark right
    /// after the seed does not race it (PostgreSQL: VACUUM ANALYZE, which
    /// autovacuum would otherwise start a minute later; SQLite: the WAL
    /// checkpointed into the database file).
    pub async fn seed_settle(&mut self) -> DbResult<()> {
        let sql = match self.backend() {
            Backend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
            Backend::Postgres => "VACUUM (ANALYZE) organizations, users, workspaces",
        };
        on_conn!(self, |c| sqlx::raw_sql(sql).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The stored counts of the organization `slug` next to counts of its rows.
    pub async fn seed_org_counts(&mut self, slug: &str) -> DbResult<Option<SeededOrgCounts>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, SeededOrgCounts>(
            "SELECT o.slug, o.users_count, \
             (SELECT COUNT(*) FROM users u WHERE u.organization_id = o.id) AS users_counted, \
             o.workspaces_count, \
             (SELECT COUNT(*) FROM workspaces w WHERE w.organization_id = o.id) AS workspaces_counted \
             FROM organizations o WHERE o.slug = $1"
        )
        .bind(slug)
        .fetch_optional(c)
        .await)?)
    }

    /// `(sum of users_count, users, sum of workspaces_count, workspaces)`
    /// over the whole installation: equal pairs mean every count is right
    /// in total.
    pub async fn seed_count_totals(&mut self) -> DbResult<(i64, i64, i64, i64)> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, (i64, i64, i64, i64)>(
            "SELECT CAST(COALESCE((SELECT SUM(users_count) FROM organizations), 0) AS BIGINT), \
             (SELECT COUNT(*) FROM users), \
             CAST(COALESCE((SELECT SUM(workspaces_count) FROM organizations), 0) AS BIGINT), \
             (SELECT COUNT(*) FROM workspaces)"
        )
        .fetch_one(c)
        .await)?)
    }
}
