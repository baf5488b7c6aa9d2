//! Deletes what no request will accept any more: expired and idle
//! sessions, abandoned SSO flows, spent ID-token and API nonces, throttle
//! counters past their window, expired address-confirmation links and
//! registrations whose link went unused; and audit events past their
//! organization's retention (`service::audit_retention`). Unauthenticated requests create
//! most of these rows, so without this they grow without bound.
//!
//! Several instances may sweep one database at once and need no leader:
//! every delete is conditional and bounded (`BATCH` rows per statement, a
//! transaction each), so two passes at the same moment delete each row
//! once between them and never hold a long write lock.

use std::time::Duration;

use chrono::Duration as ChronoDuration;

use super::db::DbResult;
use super::service;
use super::state::AppState;

/// Rows per statement.
const BATCH: i64 = 500;

/// What one pass deleted, per kind of row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub sessions: u64,
    pub oidc_flows: u64,
    pub oidc_used_tokens: u64,
    pub oidc_api_nonces: u64,
    pub throttle: u64,
    pub email_confirmations: u64,
    pub pending_registrations: u64,
    /// Audit events past their organization's retention.
    pub audit_events: u64,
}

impl SweepReport {
    pub fn total(&self) -> u64 {
        self.sessions
            + self.oidc_flows
            + self.oidc_used_tokens
            + self.oidc_api_nonces
            + self.throttle
            + self.email_confirmations
            + self.pending_registrations
            + self.audit_events
    }
}

/// Starts the background task: a pass now, then one every `interval`.
pub fn spawn(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let report = sweep_once(&state).await;
            if report.total() > 0 {
                tracing::info!(?report, "swept expired rows");
            } else {
                tracing::debug!("sweep: nothing expired");
            }
        }
    })
}

/// One pass over every kind of row, each to the end. A kind that fails
/// (database away) is logged and left for the next pass; the others still
/// go.
pub async fn sweep_once(state: &AppState) -> SweepReport {
    let now = state.clock.now();
    let idle = ChronoDuration::from_std(state.config.session_idle).unwrap_or(ChronoDuration::days(36_500));
    let idle_before = now.checked_sub_signed(idle).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    // A counter is forgotten once its last failure is older than the
    // longest window any policy counts failures in.
    let window = service::throttle::ACCOUNT.window.max(service::throttle::IP.window);
    let forget_before = now - window;
    let sessions = drain(state, "sessions", |db| Box::pin(db.sweep_sessions(now, idle_before, BATCH))).await;
    let oidc_flows = drain(state, "oidc_flows", |db| Box::pin(db.sweep_oidc_flows(now, BATCH))).await;
    let oidc_used_tokens = drain(state, "oidc_used_tokens", |db| Box::pin(db.sweep_oidc_used_tokens(now, BATCH))).await;
    let oidc_api_nonces = drain(state, "oidc_api_nonces", |db| Box::pin(db.sweep_oidc_api_nonces(now, BATCH))).await;
    let throttle = drain(state, "auth_throttle", |db| Box::pin(db.sweep_throttle(now, forget_before, BATCH))).await;
    let email_confirmations = drain(state, "email_confirmations", |db| Box::pin(db.sweep_email_confirmations(now, BATCH))).await;
    // Registrations free their address and leave an audit event; that
    // rule lives with them.
    let pending_registrations = match service::verification::sweep(state).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e.log_detail(), "could not sweep expired pending registrations");
            0
        }
    };
    let audit_events = service::audit_retention::purge_expired(state).await;
    SweepReport {
        sessions,
        oidc_flows,
        oidc_used_tokens,
        oidc_api_nonces,
        throttle,
        email_confirmations,
        pending_registrations,
        audit_events,
    }
}

type Step<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = DbResult<u64>> + Send + 'a>>;

/// Runs one bounded delete in its own transaction until it deletes less
/// than a batch; answers how many rows went.
async fn drain(state: &AppState, what: &'static str, step: impl for<'a> Fn(&'a mut super::db::Db) -> Step<'a>) -> u64 {
    let mut total = 0;
    loop {
        let batch = async {
            let mut db = state.store.begin().await?;
            let n = step(&mut db).await?;
            db.commit().await?;
            Ok::<_, super::db::DbError>(n)
        }
        .await;
        match batch {
            Ok(n) => {
                total += n;
                if n < BATCH as u64 {
                    return total;
                }
            }
            Err(e) => {
                tracing::warn!(table = what, error = %e, "could not sweep expired rows");
                return total;
            }
        }
    }
}
