//! The only place with SQL. One store API with SQLite and PostgreSQL behind
//! it: every query is written once, with `$n` placeholders and types both
//! drivers understand (UUID, chrono timestamps, i64, bool, JSON), and
//! compiled for each backend by `on_conn!`. Schema differences live in the
//! per-backend migrations only.
//!
//! Callers get a [`Db`] handle: `Store::conn` for a pooled connection in
//! autocommit mode (reads, and single statements that decide nothing),
//! `Store::begin` for a transaction (on SQLite that is `BEGIN IMMEDIATE`, so
//! read-then-write never hits a busy snapshot). A decision and the change it
//! guards belong in one transaction: read what the decision rests on there,
//! with the `…_for_update` queries, which lock the rows on PostgreSQL (SQLite's
//! immediate transactions are serialised already). Each area's queries are
//! `impl Db` blocks in their own module.

mod api_tokens;
mod audit;
mod audit_checkpoints;
mod audit_purges;
mod audit_read;
mod audit_seed;
mod audit_streams;
mod constraint;
mod domains;
mod email_confirmations;
mod invitations;
mod mfa;
mod orgs;
mod pending;
mod seed;
mod sessions;
mod sso;
mod sweep;
mod throttle;
mod users;
mod workspaces;

pub use api_tokens::ApiTokenRecord;
pub use audit::{AuditExtras, AuditHead, AuditRecord, ChainedAuditRecord, NewAuditEvent};
pub use audit_checkpoints::{CheckpointRecord, MovedChain};
pub use audit_purges::{AuditPurge, RetentionRule};
pub use audit_read::{ActionMatch, ActorMatch, AuditQuery, AuditRange};
pub use audit_seed::{SeedActor, SeedAuditRow};
pub use audit_streams::{AuditStreamRecord, AuditStreamUpdate, NewAuditStreamRow};
pub use constraint::Constraint;
pub use domains::DomainRecord;
pub use invitations::{InvitationRecord, NewInvitation};
pub use mfa::{StoredTotpSecrets, TotpColumn};
pub use orgs::{NewOrganization, OrgRecord};
pub use pending::{NewPending, PendingRecord};
pub use seed::{SeedRun, SeededOrgCounts};
pub use sessions::{NewSession, SessionKind, SessionRecord, SessionStage};
pub use sso::{NewOidcFlow, OidcFlowRecord};
pub use sweep::SweptTable;
pub use throttle::ThrottleRecord;
pub use users::{NewUser, UserRecord};
pub use workspaces::{
    Intent, NewWorkspace, Observation, QuotaLimits, QuotaRecord, TemplateRecord, WorkspaceEventRecord, WorkspaceQuery, WorkspaceRecord,
};

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Database, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Which database an URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported DATABASE_URL {0:?}: use sqlite://path or postgres://…")]
    UnsupportedUrl(String),
    /// A constraint services answer for refused the change (a taken email,
    /// a full organization…). Violations of other constraints stay `Sqlx`:
    /// they are bugs, not answers.
    #[error("constraint {constraint:?} refused the change")]
    Constraint {
        constraint: Constraint,
        #[source]
        source: sqlx::Error,
    },
    #[error(transparent)]
    Sqlx(sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) => match Constraint::of(db.as_ref()) {
                Some(constraint) => DbError::Constraint { constraint, source: e },
                None => DbError::Sqlx(e),
            },
            _ => DbError::Sqlx(e),
        }
    }
}

impl DbError {
    /// The known constraint that refused the change, if that is what happened.
    pub fn constraint(&self) -> Option<Constraint> {
        match self {
            DbError::Constraint { constraint, .. } => Some(*constraint),
            _ => None,
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// The connection pool of whichever backend `DATABASE_URL` named.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Store {
    pub async fn connect(url: &str) -> DbResult<Self> {
        match Backend::from_url(url) {
            Some(Backend::Sqlite) => {
                let opts = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true);
                if let Some(dir) = opts.get_filename().parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| DbError::Sqlx(sqlx::Error::Io(e)))?;
                    }
                }
                let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
                Ok(Store::Sqlite(pool))
            }
            Some(Backend::Postgres) => {
                let opts = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect_with(opts).await?;
                Ok(Store::Postgres(pool))
            }
            None => Err(DbError::UnsupportedUrl(url.to_owned())),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations of this backend that have not run yet. Safe to
    /// call from several instances at once: sqlx takes an advisory lock on
    /// PostgreSQL and SQLite serialises writers.
    pub async fn migrate(&self) -> DbResult<()> {
        match self {
            Store::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Store::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A pooled connection in autocommit mode: every statement commits on
    /// its own. Meant for reads; a write here must not depend on a read.
    pub async fn conn(&self) -> DbResult<Db> {
        Ok(Db(match self {
            Store::Sqlite(p) => Inner::Sqlite(Handle::Pooled(p.acquire().await?)),
            Store::Postgres(p) => Inner::Postgres(Handle::Pooled(p.acquire().await?)),
        }))
    }

    /// A transaction for a change; nothing is kept unless `Db::commit` runs
    /// (dropping the handle, or `Db::rollback`, discards it).
    pub async fn begin(&self) -> DbResult<Db> {
        Ok(Db(match self {
            Store::Sqlite(p) => Inner::Sqlite(Handle::Tx(p.begin_with("BEGIN IMMEDIATE").await?)),
            Store::Postgres(p) => Inner::Postgres(Handle::Tx(p.begin().await?)),
        }))
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(p) => p.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }
}

enum Handle<DB: Database> {
    Pooled(PoolConnection<DB>),
    Tx(Transaction<'static, DB>),
}

impl<DB: Database> Handle<DB> {
    fn conn(&mut self) -> &mut DB::Connection {
        match self {
            Handle::Pooled(c) => c,
            Handle::Tx(t) => t,
        }
    }
}

enum Inner {
    Sqlite(Handle<Sqlite>),
    Postgres(Handle<Postgres>),
}

/// One connection or transaction of either backend.
pub struct Db(Inner);

/// Runs the same query code against whichever backend `$db` holds: `$c` is
/// bound to a `&mut SqliteConnection` or a `&mut PgConnection`.
macro_rules! on_conn {
    ($db:expr, |$c:ident| $body:expr) => {
        match &mut $db.0 {
            $crate::server::db::Inner::Sqlite(h) => {
                let $c = h.conn();
                $body
            }
            $crate::server::db::Inner::Postgres(h) => {
                let $c = h.conn();
                $body
            }
        }
    };
}
pub(crate) use on_conn;

impl Db {
    /// Which database this handle talks to.
    pub fn backend(&self) -> Backend {
        match self.0 {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Whether this handle is a transaction (`Store::begin`) rather than an
    /// autocommit connection.
    pub fn in_transaction(&self) -> bool {
        matches!(self.0, Inner::Sqlite(Handle::Tx(_)) | Inner::Postgres(Handle::Tx(_)))
    }

    /// Makes the transaction's changes permanent. On a read handle it does
    /// nothing.
    pub async fn commit(self) -> DbResult<()> {
        match self.0 {
            Inner::Sqlite(Handle::Tx(t)) => t.commit().await?,
            Inner::Postgres(Handle::Tx(t)) => t.commit().await?,
            _ => {}
        }
        Ok(())
    }

    /// Discards the transaction's changes and releases its locks now,
    /// rather than when the connection goes back to the pool. On a
    /// connection handle it does nothing.
    pub async fn rollback(self) -> DbResult<()> {
        match self.0 {
            Inner::Sqlite(Handle::Tx(t)) => t.rollback().await?,
            Inner::Postgres(Handle::Tx(t)) => t.rollback().await?,
            _ => {}
        }
        Ok(())
    }

    /// The row-lock clause for a `SELECT` whose rows a transaction is about
    /// to act on: ` FOR NO KEY UPDATE OF <table>` on PostgreSQL, nothing on
    /// SQLite, which has no row locks and needs none (its write transactions
    /// run one at a time). The one place where a query's text depends on the
    /// backend.
    ///
    /// `NO KEY UPDATE` is the lock an `UPDATE` of non-key columns takes: it
    /// serialises the deciders but not the foreign-key checks of inserts
    /// that merely point at the row (an audit event or a session naming the
    /// organization or the user). `FOR UPDATE` would block those, and a
    /// sign-in holding its user while recording an event in the
    /// organization could then deadlock with an admin holding the
    /// organization while waiting for that user.
    fn for_update_of(&self, table: &str) -> String {
        match self.0 {
            Inner::Sqlite(_) => String::new(),
            Inner::Postgres(_) => format!(" FOR NO KEY UPDATE OF {table}"),
        }
    }

    pub async fn ping(&mut self) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("SELECT 1").execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
