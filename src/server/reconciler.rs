//! Drives every workspace from what the engine shows to what people asked
//! for, and records what it finds. Every instance runs one; they share the
//! work through leases in the database:
//!
//! - a workspace is taken by a conditional UPDATE (`claim_due_workspaces`),
//!   so of several instances exactly one works on it, and a lease that
//!   expires (its instance died, even by `kill -9`) lets another finish;
//! - every engine operation is idempotent (`WorkspaceEngine`), so finishing
//!   someone else's half-done work is doing it again;
//! - what the reconciler found is written only if the intent it worked
//!   towards is still current (`generation`): a request made meanwhile is
//!   never overwritten by a stale status, the workspace is simply due again.
//!
//! Besides, it stops workspaces whose auto-stop time came and removes
//! containers of ours that belong to no live workspace (found by label).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::auth::credentials::RequestMeta;
use super::db::{Intent, Observation, WorkspaceRecord};
use super::engine::{ContainerSpec, EngineError, Observed, WorkspaceEngine};
use super::error::{ServiceError, ServiceResult};
use super::service::audit::{self, action, Event, Target};
use super::service::workspaces::NO_ENGINE;
use super::state::AppState;
use crate::model::{DesiredState, WorkspaceId, WorkspaceStatus};

/// How the reconciler paces itself (`NEOSC_RECONCILE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Between two passes.
    pub interval: Duration,
    /// How long a claimed workspace stays ours without a word from us.
    pub lease: Duration,
    /// How often a settled workspace is looked at again (to notice a
    /// container that exited, was OOM-killed or removed by hand).
    pub observe: Duration,
    /// Engine refusals in a row before a workspace is `failed`.
    pub max_attempts: i64,
}

impl Default for Pace {
    fn default() -> Self {
        Self { interval: Duration::from_millis(500), lease: Duration::from_secs(60), observe: Duration::from_secs(10), max_attempts: 5 }
    }
}

/// Workspaces one pass takes at most; they are worked on concurrently.
const BATCH: i64 = 16;
/// Seconds a container gets to stop before it is killed.
const STOP_GRACE_SECS: i32 = 10;
/// Passes between two orphan sweeps.
const SWEEP_EVERY: u64 = 60;

pub struct Reconciler {
    state: AppState,
    /// The installation's id (its default organization's), labelled on
    /// every container; read once.
    installation: tokio::sync::OnceCell<Uuid>,
    /// This instance, as lease owner.
    instance: Uuid,
    pace: Pace,
}

/// What one look at a workspace came to.
#[derive(Debug)]
enum Outcome {
    /// Where it is now; the intent stays.
    Observed { status: WorkspaceStatus, reason: String, engine_ref: Option<String>, again_in: Option<Duration> },
    /// It will not run any more (died, process ended, gave up): desired
    /// becomes stopped, releasing its reservation, and for a failure the
    /// audit trail says so.
    Settled { status: WorkspaceStatus, reason: String, failure: Option<serde_json::Value> },
    /// The engine refused; try again later (or give up, see `max_attempts`).
    Refused(String),
    /// The engine did not answer: the status is unknown, not failed.
    Unreachable(String),
}

fn ms(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// 1 s, 2 s, 4 s … up to a minute.
fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(0, 6) as u32).min(Duration::from_secs(60))
}

impl Reconciler {
    pub fn new(state: AppState, pace: Pace) -> Self {
        Self { state, installation: tokio::sync::OnceCell::new(), instance: Uuid::now_v7(), pace }
    }

    /// Runs passes until the process ends.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let this = Arc::new(self);
        tokio::spawn(async move {
            let mut passes = 0u64;
            loop {
                if let Err(e) = this.pass(passes.is_multiple_of(SWEEP_EVERY)).await {
                    tracing::warn!(error = %e.log_detail(), "reconciler pass failed");
                }
                passes += 1;
                tokio::time::sleep(this.pace.interval).await;
            }
        })
    }

    /// One pass: auto-stops, (sometimes) the orphan sweep, then every due
    /// workspace this instance could claim. Returns how many it worked on.
    pub async fn pass(self: &Arc<Self>, sweep: bool) -> ServiceResult<usize> {
        self.autostop().await?;
        if sweep {
            self.sweep_orphans().await;
        }
        let now = self.state.clock.now();
        let ids = {
            let mut db = self.state.store.begin().await?;
            let ids = db.claim_due_workspaces(self.instance, now, now + ms(self.pace.lease), BATCH).await?;
            db.commit().await?;
            ids
        };
        let mut work = JoinSet::new();
        for id in ids.iter().copied() {
            let this = self.clone();
            work.spawn(async move {
                if let Err(e) = this.work_on(id).await {
                    tracing::warn!(workspace = %WorkspaceId(id), error = %e.log_detail(), "reconciling a workspace failed");
                    // Let it be due again soon rather than after the lease.
                    if let Ok(mut db) = this.state.store.conn().await {
                        let due = this.state.clock.now() + ms(backoff(1));
                        let _ = db.release_workspace_lease(id, this.instance, due).await;
                    }
                }
            });
        }
        while work.join_next().await.is_some() {}
        Ok(ids.len())
    }

    async fn installation(&self) -> ServiceResult<Uuid> {
        self.installation
            .get_or_try_init(|| async {
                let org = self.state.store.conn().await?.default_org().await?;
                org.map(|o| o.id).ok_or_else(|| ServiceError::bug("no default organization"))
            })
            .await
            .copied()
    }

    async fn work_on(&self, id: Uuid) -> ServiceResult<()> {
        let Some(ws) = self.state.store.conn().await?.workspace_by_id(id).await? else { return Ok(()) };
        if ws.lease_owner != Some(self.instance) {
            return Ok(());
        }
        let outcome = match &self.state.engine {
            None => without_engine(&ws),
            Some(engine) => match drive(engine.as_ref(), self.installation().await?, &ws).await {
                Ok(outcome) => outcome,
                Err(EngineError::Unavailable(why)) => Outcome::Unreachable(why),
                Err(EngineError::Refused(why)) => Outcome::Refused(why),
            },
        };
        self.record(&ws, outcome).await
    }

    /// Writes an outcome, its timeline step when the status changes, and the
    /// audit event of a failure, in one transaction.
    async fn record(&self, ws: &WorkspaceRecord, outcome: Outcome) -> ServiceResult<()> {
        let now = self.state.clock.now();
        let steady = Some(self.pace.observe);
        let (outcome, attempts) = match outcome {
            Outcome::Refused(why) if ws.attempts + 1 >= self.pace.max_attempts => (
                Outcome::Settled {
                    status: WorkspaceStatus::Failed,
                    reason: format!("the engine refused {} times: {why}", ws.attempts + 1),
                    failure: Some(json!({ "engine": why })),
                },
                0,
            ),
            Outcome::Refused(why) => (
                Outcome::Observed {
                    status: ws.status,
                    reason: format!("retrying (attempt {} of {}): {why}", ws.attempts + 1, self.pace.max_attempts),
                    engine_ref: ws.engine_ref.clone(),
                    again_in: Some(backoff(ws.attempts + 1)),
                },
                ws.attempts + 1,
            ),
            Outcome::Unreachable(why) => (
                Outcome::Observed {
                    status: WorkspaceStatus::Unknown,
                    reason: format!("the workspace engine is unreachable: {why}"),
                    engine_ref: ws.engine_ref.clone(),
                    again_in: Some(backoff(ws.attempts.min(3))),
                },
                ws.attempts,
            ),
            other => (other, 0),
        };
        let mut db = self.state.store.begin().await?;
        let (status, reason, written, failure) = match outcome {
            Outcome::Observed { status, reason, engine_ref, again_in } => {
                let again = again_in.or(steady).filter(|_| status != WorkspaceStatus::Deleted).map(|d| now + ms(d));
                let o = Observation {
                    status,
                    status_reason: &reason,
                    engine_ref: engine_ref.as_deref(),
                    attempts,
                    next_attempt_at: again,
                    now,
                };
                let written = db.record_observation(ws.id, self.instance, ws.generation, &o).await?;
                (status, reason, written, None)
            }
            Outcome::Settled { status, reason, failure } => {
                let written = db.settle_workspace(ws.id, self.instance, ws.generation, status, &reason, now).await?;
                (status, reason, written, failure)
            }
            Outcome::Refused(_) | Outcome::Unreachable(_) => unreachable!("mapped above"),
        };
        if !written {
            // Someone changed the intent meanwhile: nothing to record, the
            // workspace is due again at once.
            db.commit().await?;
            return Ok(());
        }
        if status != ws.status {
            db.insert_workspace_event(ws, None, ws.status, status, &reason, now).await?;
        }
        if let Some(details) = failure {
            audit::record(
                &mut db,
                now,
                &RequestMeta::default(),
                Event {
                    org: Some(ws.organization_id),
                    actor: None,
                    action: action::WORKSPACE_FAILED,
                    target: Some(Target { kind: "workspace", id: WorkspaceId(ws.id).to_string() }),
                    details: json!({ "reason": reason, "status": status, "details": details }),
                },
            )
            .await?;
        }
        db.commit().await?;
        Ok(())
    }

    /// Stops running workspaces whose auto-stop time has come. The row is
    /// locked and re-checked, so with several instances one stops it.
    async fn autostop(&self) -> ServiceResult<()> {
        let now = self.state.clock.now();
        let due = self.state.store.conn().await?.workspaces_due_for_autostop(now, 100).await?;
        // The hours only word the reason; an organization's workspaces
        // started together come due together, so read them once per
        // organization rather than once per workspace.
        let mut hours_of: HashMap<Uuid, Option<i64>> = HashMap::new();
        for (id, org_id) in due {
            let mut db = self.state.store.begin().await?;
            let Some(ws) = db.workspace_of_org_for_update(org_id, id).await? else { continue };
            if ws.desired_state != DesiredState::Running || ws.autostop_at.is_none_or(|at| at > now) {
                continue;
            }
            let hours = match hours_of.get(&org_id) {
                Some(hours) => *hours,
                None => {
                    let hours = db.org_by_id(org_id).await?.and_then(|o| o.autostop_after_hours);
                    *hours_of.entry(org_id).or_insert(hours)
                }
            };
            let reason = match hours {
                Some(h) => format!("stopped: auto-stop after {h} h"),
                None => "stopped: auto-stop".to_owned(),
            };
            let status = if self.state.engine.is_some() { WorkspaceStatus::Stopping } else { WorkspaceStatus::Pending };
            let intent = Intent {
                desired_state: DesiredState::Stopped,
                status,
                status_reason: &reason,
                suspended_reason: None,
                intent_reason: &reason,
                autostop_at: None,
                now,
            };
            db.set_workspace_intent(id, &intent).await?;
            db.insert_workspace_event(&ws, None, ws.status, status, &reason, now).await?;
            audit::record(
                &mut db,
                now,
                &RequestMeta::default(),
                Event {
                    org: Some(org_id),
                    actor: None,
                    action: action::STOP_WORKSPACE,
                    target: Some(Target { kind: "workspace", id: WorkspaceId(id).to_string() }),
                    details: json!({ "autostop": true, "after_hours": hours }),
                },
            )
            .await?;
            db.commit().await?;
        }
        Ok(())
    }

    /// Removes containers of ours whose workspace is deleted or unknown (a
    /// crash between the engine call and the database write, a restore of
    /// an older database). Rows are committed before their containers are
    /// made, so a container without a live row is an orphan.
    pub async fn sweep_orphans(&self) -> usize {
        let Some(engine) = &self.state.engine else { return 0 };
        let Ok(installation) = self.installation().await else { return 0 };
        let found = match engine.list(installation).await {
            Ok(found) => found,
            Err(e) => {
                tracing::debug!(error = %e, "orphan sweep: engine not readable");
                return 0;
            }
        };
        let mut removed = 0;
        for f in found {
            let live = match self.state.store.conn().await {
                Ok(mut db) => db.workspace_is_live(f.workspace_id).await,
                Err(e) => Err(e),
            };
            match live {
                Ok(false) => match engine.remove(f.workspace_id).await {
                    Ok(()) => {
                        removed += 1;
                        tracing::info!(workspace = %WorkspaceId(f.workspace_id), container = %f.container_id, "removed an orphan container");
                    }
                    Err(e) => tracing::warn!(workspace = %WorkspaceId(f.workspace_id), error = %e, "could not remove an orphan container"),
                },
                Ok(true) => {}
                Err(e) => tracing::warn!(error = %ServiceError::from(e).log_detail(), "orphan sweep: database not readable"),
            }
        }
        removed
    }
}

/// With no engine nothing runs: a workspace meant to run waits, one meant
/// to stop is stopped (or suspended), and a deletion has nothing to remove
/// that NeoSC knows of (a container made under an earlier engine is swept
/// by label once one is connected again).
fn without_engine(ws: &WorkspaceRecord) -> Outcome {
    let engine_ref = ws.engine_ref.clone();
    let (status, reason) = match (ws.desired_state, &ws.suspended_reason, ws.status) {
        (DesiredState::Deleted, _, _) => {
            return Outcome::Observed {
                status: WorkspaceStatus::Deleted,
                reason: format!("{} ({NO_ENGINE})", ws.intent_reason),
                engine_ref: None,
                again_in: None,
            }
        }
        (DesiredState::Running, _, _) => (WorkspaceStatus::Pending, NO_ENGINE.to_owned()),
        (DesiredState::Stopped, Some(why), _) => (WorkspaceStatus::Suspended, format!("suspended by admin: {why}")),
        (DesiredState::Stopped, None, WorkspaceStatus::Failed | WorkspaceStatus::Stopped) => (ws.status, ws.status_reason.clone()),
        (DesiredState::Stopped, None, _) => (WorkspaceStatus::Stopped, ws.intent_reason.clone()),
    };
    Outcome::Observed { status, reason, engine_ref, again_in: None }
}

fn spec_of(installation: Uuid, ws: &WorkspaceRecord) -> Result<ContainerSpec, EngineError> {
    let image = ws.image.clone().ok_or_else(|| EngineError::Refused("the workspace has no template, so no image to run".into()))?;
    let command = match &ws.command {
        Some(c) => Some(serde_json::from_str::<Vec<String>>(c).map_err(|e| EngineError::Refused(format!("the template's command: {e}")))?),
        None => None,
    };
    Ok(ContainerSpec {
        installation,
        workspace_id: ws.id,
        organization_id: ws.organization_id,
        image,
        command,
        vcpu_millicores: ws.vcpu_millicores,
        memory_mib: ws.memory_mib,
        storage_gib: ws.storage_gib,
        network: None,
    })
}

/// Why a container that was running is not any more.
fn death(code: i64, oom_killed: bool) -> Outcome {
    if oom_killed {
        Outcome::Settled {
            status: WorkspaceStatus::Failed,
            reason: format!("out of memory (exit {code})"),
            failure: Some(json!({ "exit_code": code, "oom_killed": true })),
        }
    } else if code == 0 {
        Outcome::Settled { status: WorkspaceStatus::Stopped, reason: "its process ended (exit 0)".into(), failure: None }
    } else {
        Outcome::Settled {
            status: WorkspaceStatus::Failed,
            reason: format!("exited with code {code}"),
            failure: Some(json!({ "exit_code": code, "oom_killed": false })),
        }
    }
}

/// One step of the state machine, engine side.
async fn drive(engine: &dyn WorkspaceEngine, installation: Uuid, ws: &WorkspaceRecord) -> Result<Outcome, EngineError> {
    let steady = |status, reason: String, engine_ref| Outcome::Observed { status, reason, engine_ref, again_in: None };
    match ws.desired_state {
        DesiredState::Deleted => {
            engine.remove(ws.id).await?;
            Ok(steady(WorkspaceStatus::Deleted, ws.intent_reason.clone(), None))
        }
        DesiredState::Stopped => {
            let seen = engine.observe(ws.id).await?;
            if matches!(seen, Observed::Running | Observed::Other(_)) {
                engine.stop(ws.id, STOP_GRACE_SECS).await?;
            }
            let engine_ref = if seen == Observed::Missing { None } else { ws.engine_ref.clone() };
            Ok(match (&ws.suspended_reason, ws.status) {
                (Some(why), _) => steady(WorkspaceStatus::Suspended, format!("suspended by admin: {why}"), engine_ref),
                // A failure or an earlier stop keeps its reason.
                (None, WorkspaceStatus::Failed | WorkspaceStatus::Stopped) => steady(ws.status, ws.status_reason.clone(), engine_ref),
                (None, _) => steady(WorkspaceStatus::Stopped, ws.intent_reason.clone(), engine_ref),
            })
        }
        DesiredState::Running => {
            // "Desired running, status stopping" is a restart: stop first.
            if ws.status == WorkspaceStatus::Stopping {
                engine.stop(ws.id, STOP_GRACE_SECS).await?;
            }
            let seen = engine.observe(ws.id).await?;
            let mut note = None;
            match seen {
                Observed::Running if ws.status == WorkspaceStatus::Running => {
                    return Ok(steady(WorkspaceStatus::Running, ws.status_reason.clone(), ws.engine_ref.clone()));
                }
                Observed::Exited { code, oom_killed } if ws.status == WorkspaceStatus::Running => return Ok(death(code, oom_killed)),
                Observed::Missing if ws.status == WorkspaceStatus::Running => {
                    note = Some("its container was removed outside NeoSC; made a new one (the home volume is kept)");
                }
                _ => {}
            }
            let spec = spec_of(installation, ws)?;
            let engine_ref = engine.ensure(&spec).await?;
            // A resize while stopped is applied before it starts again.
            let applied = engine.limits(ws.id).await?;
            if applied.is_some_and(|a| a.nano_cpus != spec.nano_cpus() || a.memory_bytes != spec.memory_bytes()) {
                engine.apply_limits(&spec).await?;
            }
            engine.start(ws.id).await?;
            Ok(match engine.observe(ws.id).await? {
                Observed::Running => {
                    let reason = note.map(str::to_owned).unwrap_or_else(|| ws.intent_reason.clone());
                    steady(WorkspaceStatus::Running, reason, Some(engine_ref))
                }
                Observed::Exited { code, oom_killed } => death(code, oom_killed),
                Observed::Missing => Outcome::Refused("the container vanished right after it was started".into()),
                Observed::Created => Outcome::Observed {
                    status: WorkspaceStatus::Starting,
                    reason: ws.intent_reason.clone(),
                    engine_ref: Some(engine_ref),
                    again_in: Some(Duration::from_secs(1)),
                },
                Observed::Other(state) => Outcome::Refused(format!("the engine shows the container {state}")),
            })
        }
    }
}
