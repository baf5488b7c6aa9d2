//! Where workspaces really run. The reconciler asks a [`WorkspaceEngine`]
//! to make a workspace's container exist, run, stop or go, and to tell what
//! it looks like now; it never assumes an answer it did not get. Docker is
//! the one driver today (`docker.rs`); with no engine connected workspaces
//! can still be allocated but nothing is shown as running.

mod docker;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

pub use docker::DockerEngine;

/// Labels every container and volume of ours carries, in the API's id
/// forms, so the engine side can be matched to rows (orphans found by
/// label after a crash).
pub const LABEL_WORKSPACE: &str = "neosc.workspace";
pub const LABEL_ORGANIZATION: &str = "neosc.organization";
/// Which NeoSC installation made it (the id of its default organization):
/// several installations, or test runs, may share one engine, and each
/// sweeps only its own orphans.
pub const LABEL_INSTALLATION: &str = "neosc.installation";

/// What a workspace's container is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    pub installation: Uuid,
    pub workspace_id: Uuid,
    pub organization_id: Uuid,
    /// A local image; the engine is never asked to pull one.
    pub image: String,
    /// Overrides the image's command when set (templates may keep a
    /// minimal image busy).
    pub command: Option<Vec<String>>,
    /// Thousandths of a CPU.
    pub vcpu_millicores: i64,
    pub memory_mib: i64,
    /// Accounted; enforced only where the storage driver supports sizes.
    pub storage_gib: i64,
    /// `None`: no network at all.
    pub network: Option<String>,
}

impl ContainerSpec {
    pub fn nano_cpus(&self) -> i64 {
        self.vcpu_millicores * 1_000_000
    }

    pub fn memory_bytes(&self) -> i64 {
        self.memory_mib * 1024 * 1024
    }

    pub fn labels(&self) -> HashMap<String, String> {
        HashMap::from([
            (LABEL_WORKSPACE.to_owned(), workspace_label(self.workspace_id)),
            (LABEL_ORGANIZATION.to_owned(), crate::model::OrgId(self.organization_id).to_string()),
            (LABEL_INSTALLATION.to_owned(), self.installation.to_string()),
        ])
    }
}

/// The label value (and name stem) of a workspace: its API id.
pub fn workspace_label(workspace_id: Uuid) -> String {
    crate::model::WorkspaceId(workspace_id).to_string()
}

/// What the engine says a workspace's container is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// No container with this workspace's label.
    Missing,
    /// Created, never started (or being set up).
    Created,
    Running,
    /// Stopped by itself or by us; `oom_killed` when the kernel's memory
    /// limit ended it.
    Exited {
        code: i64,
        oom_killed: bool,
    },
    /// Any other engine state (paused, restarting, dead, removing), in the
    /// engine's words.
    Other(String),
}

/// A container of ours as found on the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub container_id: String,
    pub workspace_id: Uuid,
    pub organization_id: Option<Uuid>,
}

/// The limits a container actually has, read back from the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedLimits {
    pub nano_cpus: i64,
    pub memory_bytes: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine does not answer (socket missing, daemon down): the state
    /// of workspaces is unknown, not failed.
    #[error("the workspace engine is unreachable: {0}")]
    Unavailable(String),
    /// The engine answered with a refusal; its words are kept for the
    /// workspace's timeline.
    #[error("{0}")]
    Refused(String),
}

pub type EngineResult<T> = Result<T, EngineError>;
pub type EngineFuture<'a, T> = Pin<Box<dyn Future<Output = EngineResult<T>> + Send + 'a>>;

/// The seam between the reconciler and a container engine. Every operation
/// is idempotent, so a reconciler that crashed half-way can simply do it
/// again: `ensure` finds the container it made before instead of making a
/// second one, `remove` of something gone succeeds.
pub trait WorkspaceEngine: Send + Sync {
    /// A short name for logs and the health endpoint ("docker").
    fn name(&self) -> &'static str;

    /// Whether the engine answers now.
    fn ping(&self) -> EngineFuture<'_, ()>;

    /// Makes the container (and its home volume) exist, stopped or as it
    /// is; returns its engine id. Never leaves two containers for one
    /// workspace.
    fn ensure<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, String>;

    fn start(&self, workspace_id: Uuid) -> EngineFuture<'_, ()>;

    /// Stops within `grace_secs`, then kills.
    fn stop(&self, workspace_id: Uuid, grace_secs: i32) -> EngineFuture<'_, ()>;

    /// Removes the container and its volume; nothing there is success.
    fn remove(&self, workspace_id: Uuid) -> EngineFuture<'_, ()>;

    fn observe(&self, workspace_id: Uuid) -> EngineFuture<'_, Observed>;

    /// The limits the engine applied to the workspace's container.
    fn limits(&self, workspace_id: Uuid) -> EngineFuture<'_, Option<AppliedLimits>>;

    /// Every container of workspaces of `installation`, for finding orphans.
    fn list(&self, installation: Uuid) -> EngineFuture<'_, Vec<Found>>;

    /// Sets the CPU and memory limits of an existing container (a resize
    /// applied at the next start), keeping the container and its home.
    fn apply_limits<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, ()>;

    /// Whether the engine has the image locally (nothing is ever pulled).
    fn has_image<'a>(&'a self, image: &'a str) -> EngineFuture<'a, bool>;
}
