//! The workspace pages: the list, one workspace, and the parts the
//! organization page borrows (its Workspaces tab).

mod create;
mod detail;
mod list;
mod live;
mod table;
mod usage;

pub use detail::WorkspaceDetailPage;
pub use list::WorkspacesPage;
pub(crate) use table::WorkspaceTable;
pub(crate) use usage::{QuotaForm, UsagePanel};
