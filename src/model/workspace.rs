//! Workspaces: what an organization runs on the workspace engine. The
//! desired state is what people asked for; the status is what the
//! reconciler last saw the engine do, with its reason, so "why did my
//! workspace stop?" always has an answer.

use serde::{Deserialize, Serialize};

/// What the workspace should be doing. Quotas count against it: every
/// workspace not `deleted` counts for count and storage, every `running`
/// one reserves its vCPU and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum DesiredState {
    Running,
    Stopped,
    Deleted,
}

/// What the workspace is doing, as last observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceStatus {
    /// Allocated; nothing made on an engine yet (or no engine connected).
    Pending,
    Provisioning,
    Starting,
    Running,
    Stopping,
    Stopped,
    /// Held stopped by an admin; the owner cannot start it.
    Suspended,
    Deleting,
    Deleted,
    /// The engine refused or the workspace died; the reason says how.
    Failed,
    /// The engine cannot be read right now.
    Unknown,
}

impl WorkspaceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceStatus::Pending => "pending",
            WorkspaceStatus::Provisioning => "provisioning",
            WorkspaceStatus::Starting => "starting",
            WorkspaceStatus::Running => "running",
            WorkspaceStatus::Stopping => "stopping",
            WorkspaceStatus::Stopped => "stopped",
            WorkspaceStatus::Suspended => "suspended",
            WorkspaceStatus::Deleting => "deleting",
            WorkspaceStatus::Deleted => "deleted",
            WorkspaceStatus::Failed => "failed",
            WorkspaceStatus::Unknown => "unknown",
        }
    }
}

/// One quota of an organization: its limit (None: unlimited) and what is
/// used of it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QuotaUse {
    pub used: i64,
    pub limit: Option<i64>,
}

impl QuotaUse {
    /// Whether `more` fits under the limit.
    pub fn fits(&self, more: i64) -> bool {
        self.limit.is_none_or(|l| self.used + more <= l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_fits_up_to_its_limit_and_none_is_unlimited() {
        let q = QuotaUse { used: 3, limit: Some(5) };
        assert!(q.fits(2));
        assert!(!q.fits(3));
        assert!(QuotaUse { used: i64::MAX / 2, limit: None }.fits(1));
    }

    #[test]
    fn states_are_snake_case_in_json() {
        assert_eq!(serde_json::to_string(&WorkspaceStatus::Provisioning).unwrap(), "\"provisioning\"");
        assert_eq!(serde_json::from_str::<DesiredState>("\"deleted\"").unwrap(), DesiredState::Deleted);
        assert!(serde_json::from_str::<DesiredState>("\"paused\"").is_err());
    }
}
