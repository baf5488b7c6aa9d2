//! Workspaces: what an organization runs on the workspace engine. The
//! desired state is what people asked for; the status is what the
//! reconciler last saw the engine do, with its reason, so "why did my
//! workspace stop?" always has an answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{OrgId, TemplateId, UserId, WorkspaceId};

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

impl DesiredState {
    pub fn as_str(self) -> &'static str {
        match self {
            DesiredState::Running => "running",
            DesiredState::Stopped => "stopped",
            DesiredState::Deleted => "deleted",
        }
    }
}

impl WorkspaceStatus {
    /// Words for a status dot or badge.
    pub fn label(self) -> &'static str {
        match self {
            WorkspaceStatus::Pending => "Pending",
            WorkspaceStatus::Provisioning => "Provisioning",
            WorkspaceStatus::Starting => "Starting",
            WorkspaceStatus::Running => "Running",
            WorkspaceStatus::Stopping => "Stopping",
            WorkspaceStatus::Stopped => "Stopped",
            WorkspaceStatus::Suspended => "Suspended",
            WorkspaceStatus::Deleting => "Deleting",
            WorkspaceStatus::Deleted => "Deleted",
            WorkspaceStatus::Failed => "Failed",
            WorkspaceStatus::Unknown => "Unknown",
        }
    }

    /// Whether the reconciler still has work to do towards a desired state
    /// (pages keep polling while any workspace is in such a state).
    pub fn is_transitional(self) -> bool {
        matches!(
            self,
            WorkspaceStatus::Pending
                | WorkspaceStatus::Provisioning
                | WorkspaceStatus::Starting
                | WorkspaceStatus::Stopping
                | WorkspaceStatus::Deleting
                | WorkspaceStatus::Unknown
        )
    }
}

/// A size: thousandths of a CPU, MiB of memory, GiB of home storage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceSize {
    /// Thousandths of a CPU (1000 = one vCPU).
    pub vcpu: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
}

/// The largest size any template may offer: 64 vCPU, 256 GiB of memory,
/// 4 TiB of storage, beyond any one container host we expect. The API
/// refuses larger sizes before a template is even read; its schema states
/// the same numbers (literals there, held equal by a test).
pub const LARGEST_SIZE: WorkspaceSize = WorkspaceSize { vcpu: 64_000, memory_mib: 256 * 1024, storage_gib: 4096 };

/// Below this the kernel's memory limit kills the container's init.
pub const MIN_MEMORY_MIB: i64 = 6;

impl WorkspaceSize {
    /// "1.5 vCPU · 2 GiB RAM · 10 GiB disk".
    pub fn describe(&self) -> String {
        format!("{} vCPU · {} RAM · {} GiB disk", format_vcpu(self.vcpu), format_mib(self.memory_mib), self.storage_gib)
    }
}

/// Millicores as people read them: "0.5", "2", "1.25".
pub fn format_vcpu(millicores: i64) -> String {
    let whole = millicores / 1000;
    let frac = millicores % 1000;
    if frac == 0 {
        whole.to_string()
    } else {
        let s = format!("{whole}.{frac:03}");
        s.trim_end_matches('0').to_owned()
    }
}

/// MiB as people read them: "512 MiB", "2 GiB", "1.5 GiB".
pub fn format_mib(mib: i64) -> String {
    if mib >= 1024 && mib % 128 == 0 {
        let gib = mib as f64 / 1024.0;
        let s = format!("{gib:.2}");
        format!("{} GiB", s.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!("{mib} MiB")
    }
}

/// Who a workspace belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceOwner {
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "usr-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub id: UserId,
    pub name: String,
    pub email: String,
}

/// The template a workspace was made from, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateRef {
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "tpl-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub id: TemplateId,
    pub name: String,
}

/// A workspace as the API and the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Workspace {
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "ws-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub id: WorkspaceId,
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "org-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub organization_id: OrgId,
    pub name: String,
    /// None when the owner's account was deleted.
    pub owner: Option<WorkspaceOwner>,
    /// None for workspaces made before templates existed.
    pub template: Option<TemplateRef>,
    /// Thousandths of a CPU.
    pub vcpu: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
    pub desired_state: DesiredState,
    pub status: WorkspaceStatus,
    /// Why it is in this status, in words ("out of memory (exit 137)").
    pub status_reason: String,
    /// Set while an admin holds it suspended.
    pub suspended_reason: Option<String>,
    /// The engine's id of its container, once made.
    pub engine_ref: Option<String>,
    /// When auto-stop will stop it, while it runs.
    pub autostop_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Workspace {
    pub fn size(&self) -> WorkspaceSize {
        WorkspaceSize { vcpu: self.vcpu, memory_mib: self.memory_mib, storage_gib: self.storage_gib }
    }
}

/// One step of a workspace's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceEvent {
    pub occurred_at: DateTime<Utc>,
    /// The person's email, or None for the system (reconciler, auto-stop).
    pub actor: Option<String>,
    pub from_status: String,
    pub to_status: String,
    pub reason: String,
}

/// A workspace with its timeline, newest event first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceDetail {
    #[serde(flatten)]
    pub workspace: Workspace,
    pub events: Vec<WorkspaceEvent>,
}

/// What workspaces are made from; platform admins manage them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceTemplate {
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "tpl-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub id: TemplateId,
    pub name: String,
    pub description: String,
    /// A local image on the engine; never pulled from a registry.
    pub image: String,
    /// Overrides the image's command, if set.
    pub command: Option<Vec<String>>,
    pub default_vcpu: i64,
    pub default_memory_mib: i64,
    pub default_storage_gib: i64,
    pub max_vcpu: i64,
    pub max_memory_mib: i64,
    pub max_storage_gib: i64,
}

impl WorkspaceTemplate {
    pub fn default_size(&self) -> WorkspaceSize {
        WorkspaceSize { vcpu: self.default_vcpu, memory_mib: self.default_memory_mib, storage_gib: self.default_storage_gib }
    }

    pub fn max_size(&self) -> WorkspaceSize {
        WorkspaceSize { vcpu: self.max_vcpu, memory_mib: self.max_memory_mib, storage_gib: self.max_storage_gib }
    }

    /// Refuses a size above the template's maximum, or not positive.
    pub fn check_size(&self, size: &WorkspaceSize) -> Result<(), super::ValidationError> {
        use super::ValidationError as V;
        let checks = [
            ("vcpu", size.vcpu, self.max_vcpu, format!("{} vCPU", format_vcpu(self.max_vcpu))),
            ("memory_mib", size.memory_mib, self.max_memory_mib, format_mib(self.max_memory_mib)),
            ("storage_gib", size.storage_gib, self.max_storage_gib, format!("{} GiB", self.max_storage_gib)),
        ];
        for (field, value, max, max_words) in checks {
            if value <= 0 {
                return Err(V::new(field, format!("{field} must be positive.")));
            }
            if value > max {
                return Err(V::new(field, format!("The template {} allows at most {max_words}.", self.name)));
            }
        }
        Ok(())
    }
}

/// An organization's limits; None is unlimited. The field names are the
/// API's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Quotas {
    pub max_workspaces: Option<i64>,
    pub max_running: Option<i64>,
    /// Thousandths of a CPU, over running workspaces.
    pub max_vcpu: Option<i64>,
    pub max_memory_mib: Option<i64>,
    pub max_storage_gib: Option<i64>,
    pub max_workspaces_per_user: Option<i64>,
}

/// Every quota of an organization with what is used of it.
/// `workspaces_per_user.used` is the caller's own count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrganizationUsage {
    pub workspaces: QuotaUse,
    pub running: QuotaUse,
    pub vcpu: QuotaUse,
    pub memory_mib: QuotaUse,
    pub storage_gib: QuotaUse,
    pub workspaces_per_user: QuotaUse,
}

/// A quota a request would pass: what the 409 problem and the create
/// dialog both say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QuotaRefusal {
    /// The quota's field name (`max_running`, `max_vcpu`, …).
    pub quota: String,
    pub used: i64,
    pub requested: i64,
    pub limit: i64,
}

impl std::fmt::Display for QuotaRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, unit): (&str, fn(i64) -> String) = match self.quota.as_str() {
            "max_workspaces" => ("workspaces", |n| n.to_string()),
            "max_running" => ("running workspaces", |n| n.to_string()),
            "max_vcpu" => ("vCPU of running workspaces", format_vcpu),
            "max_memory_mib" => ("memory of running workspaces", format_mib),
            "max_storage_gib" => ("storage", |n| format!("{n} GiB")),
            "max_workspaces_per_user" => ("workspaces for this owner", |n| n.to_string()),
            _ => ("of this quota", |n| n.to_string()),
        };
        write!(
            f,
            "Quota exceeded: the organization allows {} {what}; {} in use, this needs {} more.",
            unit(self.limit),
            unit(self.used),
            unit(self.requested)
        )
    }
}

/// One quota by its API name, what is used of it, and what one workspace
/// needs of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaNeed {
    pub quota: &'static str,
    pub usage: QuotaUse,
    pub needs: i64,
    /// Reserved by starting (running, vCPU, memory); the others are taken
    /// by allocating, whether it starts or not.
    pub on_start: bool,
}

impl QuotaNeed {
    fn refusal(&self) -> Option<QuotaRefusal> {
        (!self.usage.fits(self.needs)).then(|| QuotaRefusal {
            quota: self.quota.into(),
            used: self.usage.used,
            requested: self.needs,
            limit: self.usage.limit.unwrap_or(i64::MAX),
        })
    }
}

impl OrganizationUsage {
    /// Every quota with what a workspace of `size` needs of it, in the
    /// order a refusal names the first one passed: the one list the create
    /// dialog's warning and the server's 409 numbers are both read from.
    pub fn needs(&self, size: &WorkspaceSize) -> [QuotaNeed; 6] {
        let need = |quota, usage, needs, on_start| QuotaNeed { quota, usage, needs, on_start };
        [
            need("max_workspaces", self.workspaces, 1, false),
            need("max_storage_gib", self.storage_gib, size.storage_gib, false),
            need("max_workspaces_per_user", self.workspaces_per_user, 1, false),
            need("max_running", self.running, 1, true),
            need("max_vcpu", self.vcpu, size.vcpu, true),
            need("max_memory_mib", self.memory_mib, size.memory_mib, true),
        ]
    }

    /// The first quota that allocating (and, when `start`, starting) a
    /// workspace of `size` for an owner who has `owner_count` would pass.
    pub fn refusal(&self, size: &WorkspaceSize, start: bool, owner_count: Option<i64>) -> Option<QuotaRefusal> {
        let per_user = QuotaUse { used: owner_count.unwrap_or(self.workspaces_per_user.used), ..self.workspaces_per_user };
        let usage = Self { workspaces_per_user: per_user, ..*self };
        usage.needs(size).iter().filter(|n| start || !n.on_start).find_map(QuotaNeed::refusal)
    }

    /// The quotas starting a stopped workspace of `size` would pass.
    pub fn start_refusal(&self, size: &WorkspaceSize) -> Option<QuotaRefusal> {
        self.needs(size).iter().filter(|n| n.on_start).find_map(QuotaNeed::refusal)
    }
}

/// What creating a workspace asks for; absent sizes take the template's
/// defaults, an absent owner is the caller, an absent organization the
/// caller's (only platform admins name another).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWorkspaceRequest {
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "tpl-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub template_id: TemplateId,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, example = "usr-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub owner_id: Option<UserId>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, example = "org-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub organization_id: Option<OrgId>,
    #[serde(default)]
    pub vcpu: Option<i64>,
    #[serde(default)]
    pub memory_mib: Option<i64>,
    #[serde(default)]
    pub storage_gib: Option<i64>,
    /// Start it once made (default true).
    #[serde(default)]
    pub start: Option<bool>,
}

/// A rename or resize; absent fields stay. Resizing needs the workspace
/// stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkspaceChanges {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub vcpu: Option<i64>,
    #[serde(default)]
    pub memory_mib: Option<i64>,
    #[serde(default)]
    pub storage_gib: Option<i64>,
}

/// A new template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTemplateRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub image: String,
    #[serde(default)]
    pub command: Option<Vec<String>>,
    pub default_vcpu: i64,
    pub default_memory_mib: i64,
    pub default_storage_gib: i64,
    pub max_vcpu: i64,
    pub max_memory_mib: i64,
    pub max_storage_gib: i64,
}

/// A workspace name: 1–63 characters, letters, digits, `-`, `_`, `.` and
/// spaces, starting with a letter or digit.
pub fn check_workspace_name(raw: &str) -> Result<String, super::ValidationError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(super::ValidationError::new("name", "Give the workspace a name."));
    }
    if name.chars().count() > 63 {
        return Err(super::ValidationError::new("name", "A workspace name has at most 63 characters."));
    }
    if !name.chars().next().is_some_and(char::is_alphanumeric)
        || !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
    {
        return Err(super::ValidationError::new(
            "name",
            "A workspace name starts with a letter or digit and holds letters, digits, spaces, '-', '_' and '.'.",
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(format_vcpu(500), "0.5");
        assert_eq!(format_vcpu(2000), "2");
        assert_eq!(format_vcpu(1250), "1.25");
        assert_eq!(format_mib(512), "512 MiB");
        assert_eq!(format_mib(2048), "2 GiB");
        assert_eq!(format_mib(1536), "1.5 GiB");
    }

    #[test]
    fn a_refusal_names_the_first_quota_passed_with_its_numbers() {
        let q = |used, limit| QuotaUse { used, limit };
        let usage = OrganizationUsage {
            workspaces: q(3, Some(10)),
            running: q(2, Some(5)),
            vcpu: q(3000, Some(4000)),
            memory_mib: q(1024, None),
            storage_gib: q(30, Some(100)),
            workspaces_per_user: q(1, Some(3)),
        };
        let size = WorkspaceSize { vcpu: 2000, memory_mib: 512, storage_gib: 10 };
        let r = usage.refusal(&size, true, None).unwrap();
        assert_eq!((r.quota.as_str(), r.used, r.requested, r.limit), ("max_vcpu", 3000, 2000, 4000));
        assert_eq!(r.to_string(), "Quota exceeded: the organization allows 4 vCPU of running workspaces; 3 in use, this needs 2 more.");
        assert!(usage.refusal(&size, false, None).is_none(), "a stopped workspace reserves no vCPU");
        assert_eq!(usage.refusal(&size, false, Some(3)).unwrap().quota, "max_workspaces_per_user");
        assert_eq!(usage.start_refusal(&size), Some(r), "starting passes the same quota, whatever the allocation ones say");
        assert!(usage.start_refusal(&WorkspaceSize { vcpu: 1000, ..size }).is_none());
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(check_workspace_name("  dev box-1 ").unwrap(), "dev box-1");
        assert!(check_workspace_name("").is_err());
        assert!(check_workspace_name("-x").is_err());
        assert!(check_workspace_name("a/b").is_err());
        assert!(check_workspace_name(&"a".repeat(64)).is_err());
    }

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
