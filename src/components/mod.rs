//! Reusable pieces of the console's look.

mod form;
mod icons;
mod shell;

pub use form::{ErrorBanner, TextField};
pub use icons::{Icon, IconKind};
pub use shell::{AuthCard, ConsoleLayout};
