//! The constraints services turn into answers, by name. Each backend says
//! which constraint refused a row in its own way: PostgreSQL names it
//! (`constraint()`: the index or constraint name from the migrations),
//! SQLite puts the columns or the index into the message text. Both are
//! matched exactly here, once, so services match a [`Constraint`] and never
//! a string.

use sqlx::error::{DatabaseError, ErrorKind};

/// A UNIQUE or CHECK constraint of the schema that a service relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// `users_email_key`: one account per address.
    UserEmail,
    /// `organizations_name_key`: names are unique regardless of case.
    OrgName,
    /// `organization_domains_verified_key`: a domain is verified by one
    /// organization at most.
    VerifiedDomain,
    /// `organization_domains_pkey`: an organization claims a domain once.
    DomainClaim,
    /// `organizations_slug_key`.
    OrgSlug,
    /// `organizations_external_id_key`: one organization per provider id.
    OrgExternalId,
    /// `organizations_seat_limit`: `users_count <= seat_limit`, the check
    /// that makes seat limits hold under concurrent joins.
    SeatLimit,
    /// `invitations_open_key`: one open invitation per address and
    /// organization.
    OpenInvitation,
    /// `quota_workspaces`: workspaces not deleted ≤ `max_workspaces`.
    QuotaWorkspaces,
    /// `quota_running`: workspaces desired running ≤ `max_running`.
    QuotaRunning,
    /// `quota_vcpu`: millicores of running workspaces ≤ `max_vcpu`.
    QuotaVcpu,
    /// `quota_memory`: MiB of running workspaces ≤ `max_memory_mib`.
    QuotaMemory,
    /// `quota_storage`: GiB of workspaces not deleted ≤ `max_storage_gib`.
    QuotaStorage,
    /// `quota_workspaces_per_user`: raised by the usage trigger when an
    /// owner would pass `max_workspaces_per_user`.
    QuotaWorkspacesPerUser,
    /// `workspaces_name_key`: one live workspace of a name per organization.
    WorkspaceName,
    /// `workspace_templates_name_key`.
    TemplateName,
}

/// Name (PostgreSQL) and message (SQLite) of each constraint. The SQLite
/// texts follow from the migrations: a unique index on plain columns is
/// reported by its columns, one on an expression by its name, an unnamed
/// CHECK by its expression.
const KNOWN: [(Constraint, &str, &str); 16] = [
    (Constraint::UserEmail, "users_email_key", "UNIQUE constraint failed: users.email"),
    (Constraint::OrgName, "organizations_name_key", "UNIQUE constraint failed: index 'organizations_name_key'"),
    (Constraint::VerifiedDomain, "organization_domains_verified_key", "UNIQUE constraint failed: organization_domains.domain"),
    (
        Constraint::DomainClaim,
        "organization_domains_pkey",
        "UNIQUE constraint failed: organization_domains.organization_id, organization_domains.domain",
    ),
    (Constraint::OrgSlug, "organizations_slug_key", "UNIQUE constraint failed: organizations.slug"),
    (Constraint::OrgExternalId, "organizations_external_id_key", "UNIQUE constraint failed: organizations.external_id"),
    (Constraint::SeatLimit, "organizations_seat_limit", "CHECK constraint failed: seat_limit IS NULL OR users_count <= seat_limit"),
    (Constraint::OpenInvitation, "invitations_open_key", "UNIQUE constraint failed: invitations.organization_id, invitations.email"),
    (Constraint::QuotaWorkspaces, "quota_workspaces", "CHECK constraint failed: quota_workspaces"),
    (Constraint::QuotaRunning, "quota_running", "CHECK constraint failed: quota_running"),
    (Constraint::QuotaVcpu, "quota_vcpu", "CHECK constraint failed: quota_vcpu"),
    (Constraint::QuotaMemory, "quota_memory", "CHECK constraint failed: quota_memory"),
    (Constraint::QuotaStorage, "quota_storage", "CHECK constraint failed: quota_storage"),
    // SQLite reports a trigger's RAISE as a trigger constraint, with this text.
    (Constraint::QuotaWorkspacesPerUser, "quota_workspaces_per_user", "CHECK constraint failed: quota_workspaces_per_user"),
    (Constraint::WorkspaceName, "workspaces_name_key", "UNIQUE constraint failed: index 'workspaces_name_key'"),
    (Constraint::TemplateName, "workspace_templates_name_key", "UNIQUE constraint failed: index 'workspace_templates_name_key'"),
];

impl Constraint {
    /// The known constraint a unique or check violation names, if any.
    pub(super) fn of(e: &dyn DatabaseError) -> Option<Self> {
        // `Other`: SQLite's kind for a trigger's RAISE (the per-user quota).
        if !matches!(e.kind(), ErrorKind::UniqueViolation | ErrorKind::CheckViolation | ErrorKind::Other) {
            return None;
        }
        match e.constraint() {
            // PostgreSQL.
            Some(name) => KNOWN.iter().find(|(_, pg, _)| *pg == name),
            // SQLite names no constraint; its message is exact.
            None => KNOWN.iter().find(|(_, _, sqlite)| *sqlite == e.message()),
        }
        .map(|(c, _, _)| *c)
    }
}
