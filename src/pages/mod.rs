//! One module per page, and the addresses of all of them.

mod account;
mod auth;
mod invite;
mod not_found;
mod org_audit;
mod org_audit_stream;
mod org_detail;
mod org_domains;
mod organizations;
pub mod paths;
mod status;
mod verify;
mod workspaces;

pub use account::{AccountPage, MfaRequiredPage, PasswordRequiredPage};
pub use auth::{LoginPage, MfaStepPage, RegisterPage};
pub use invite::InvitePage;
pub use not_found::NotFound;
pub use org_detail::OrgDetailPage;
pub use organizations::OrganizationsPage;
pub use verify::{CheckInboxPage, ConfirmEmailPage, VerifyEmailPage};
pub use workspaces::{WorkspaceDetailPage, WorkspacesPage};
