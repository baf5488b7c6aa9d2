//! The console's UI kit and frames. Pages compose these; the looks live in
//! the component classes of `style/tailwind.css`.

mod async_view;
mod current_user;
mod dialog;
mod focus;
mod form;
mod icons;
mod reauth;
mod security;
mod shell;
mod table;
mod tabs;
mod toast;
mod ui;
mod workspace_status;

pub use async_view::{loading, AsyncView, LoadError};
pub use current_user::{use_current_user, CurrentUser, CurrentUserProvider};
pub use dialog::Dialog;
pub use focus::focus_id;
pub use form::{field_error, ErrorBanner, TextField};
pub use icons::{Icon, IconKind};
pub use reauth::ReauthForm;
pub use security::{PasswordChangeForm, TotpEnrolment};
pub use shell::{AuthCard, ConsoleLayout};
pub use table::{Column, DataTable, CELL, CELL_ACTIONS, CELL_MUTED};
pub use tabs::{TabKey, Tabs};
pub use toast::{toast_outcome, use_toasts, ToastHost, Toasts};
pub use ui::{button_class, submit_button, Badge, Button, Card, EmptyState, PageHeader, Size, Tone, UsageBar, Variant};
pub use workspace_status::WorkspaceStatusView;
