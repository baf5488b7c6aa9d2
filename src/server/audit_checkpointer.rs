//! Signs the day's checkpoint of every audit chain that moved (see
//! `service::audit_checkpoints`): a pass at start, then one every
//! `NEOSC_AUDIT_CHECKPOINT_INTERVAL_SECS`. A chain gets at most one
//! checkpoint per UTC day, so the interval only decides how soon after
//! midnight (or after a chain's first events of the day) it is written.
//!
//! Several instances need no leader: each signs on its own, and the one
//! row per chain and day goes to whichever insert comes first (the other
//! does nothing).

use std::time::Duration;

use super::service::audit_checkpoints;
use super::state::AppState;

/// Starts the background task.
pub fn spawn(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            pass(&state).await;
        }
    })
}

/// One pass, logged. A failure (database away) waits for the next pass.
pub async fn pass(state: &AppState) {
    match audit_checkpoints::checkpoint_all(state).await {
        Ok(pass) if !pass.written.is_empty() || !pass.broken.is_empty() => {
            tracing::info!(written = ?pass.written, taken = ?pass.taken, broken = ?pass.broken, "audit checkpoints signed")
        }
        Ok(_) => tracing::debug!("audit checkpoints: no chain moved"),
        Err(e) => tracing::warn!(error = %e.log_detail(), "could not sign audit checkpoints"),
    }
}
