//! Reusable pieces of the console's look.

mod form;
mod icons;
mod security;
mod shell;
mod toast;

pub use form::{ErrorBanner, TextField};
pub use icons::{Icon, IconKind};
pub use security::{PasswordChangeForm, TotpEnrolment};
pub(crate) use security::{field_error, primary_button, submit_button};
pub use shell::{AuthCard, ConsoleLayout};
pub use toast::{toast_outcome, use_toasts, ToastHost, Toasts};
