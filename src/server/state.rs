use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::auth::audit_key::AuditSigner;
use super::auth::oidc::OidcProvider;
use super::auth::password::PasswordHasher;
use super::auth::secret_box::Keyring;
use super::clock::Clock;
use super::config::Config;
use super::db::Store;
use super::engine::WorkspaceEngine;
use super::mailer::SharedMailer;

/// What every request handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub store: Store,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    pub mailer: SharedMailer,
    /// Zitadel SSO, when configured.
    pub oidc: Option<OidcProvider>,
    /// Where workspaces run; None: allocation only, nothing runs.
    pub engine: Option<Arc<dyn WorkspaceEngine>>,
    /// The keys TOTP secrets are sealed with at rest.
    pub secrets: Arc<Keyring>,
    /// The key that signs audit checkpoints.
    pub audit_signer: Arc<AuditSigner>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
