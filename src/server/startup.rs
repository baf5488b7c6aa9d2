//! Builds the application: state, migrations, bootstrap data, router. Used
//! by `main` and by the integration tests, so both run the same thing.

use std::sync::Arc;

use axum::handler::Handler;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use super::auth::audit_key::{AuditSigner, SigningKeySource};
use super::auth::key_file;
use super::auth::oidc::OidcProvider;
use super::auth::password::PasswordHasher;
use super::clock::{Clock, SystemClock};
use super::config::{Config, EngineChoice};
use super::db::Store;
use super::engine::{DockerEngine, WorkspaceEngine};
use super::mailer::Mailer;
use super::reconciler::Reconciler;
use super::serve::{serve, ConnectionLimits};
use super::state::AppState;
use super::{assets, request_id, rest, service, web};
use crate::app::{shell, App};

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Connects, migrates, bootstraps and binds; nothing is served until
    /// `run_until_stopped`.
    pub async fn build(config: Config, leptos_options: LeptosOptions) -> anyhow::Result<Self> {
        Self::build_with_clock(config, leptos_options, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(config: Config, leptos_options: LeptosOptions, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let site_addr = leptos_options.site_addr;
        let state = connect(config, leptos_options, clock).await?;
        let listener = TcpListener::bind(site_addr).await?;
        service::bootstrap::run(&state).await.map_err(|e| anyhow::anyhow!("start-up: {}", e.log_detail()))?;
        // Secrets stored before encryption at rest, or under a key rotated
        // away from, are sealed under the current key now (idempotent, and
        // safe while other instances do the same).
        service::secret_keys::seal_stored_secrets(&state).await.map_err(|e| anyhow::anyhow!("start-up: {}", e.log_detail()))?;
        // Pays for the dummy hash now rather than in the first sign-in.
        let _ = state.hasher.verify_dummy(String::new()).await;
        discover_sso(&state).await;
        Ok(Self { listener, state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self { listener, state } = self;
        super::sweeper::spawn(state.clone(), state.config.sweep_interval);
        super::audit_checkpointer::spawn(state.clone(), state.config.audit_checkpoint_interval);
        Reconciler::new(state.clone(), state.config.reconcile).spawn();
        super::audit_delivery::Delivery::new(state.clone()).spawn();
        let limits = ConnectionLimits {
            header_read_timeout: state.config.header_read_timeout,
            max_requests: state.config.max_requests_per_connection,
        };
        let app = router(state);
        serve(listener, app, limits, shutdown_signal()).await;
        Ok(())
    }
}

/// Connects and migrates; the state operator commands work with.
pub async fn connect(config: Config, leptos_options: LeptosOptions, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    // Events written before the hash chain existed join it now, before
    // this instance records any (idempotent; safe with other instances).
    service::audit::chain_unchained(&store).await.map_err(|e| anyhow::anyhow!("start-up: {}", e.log_detail()))?;
    let hasher = PasswordHasher::new(config.argon2, config.hash_queue_timeout);
    let oidc = config.oidc.clone().map(|c| OidcProvider::new(c, clock.clone())).transpose()?;
    let mailer = Arc::new(Mailer::from_config(&config.mail)?);
    if !mailer.is_configured() {
        tracing::warn!(
            "mail is not configured (NEOSC_SMTP_URL unset): confirmation and invitation mails are only written to the log;              development only"
        );
    }
    let engine = connect_engine(&config).await;
    let keys = key_file::load(&config.secrets)?;
    tracing::info!(key = keys.keyring.current_id(), previous = ?keys.keyring.previous_ids(), source = ?keys.source, "secret key loaded");
    if matches!(keys.source, key_file::KeySource::File(_)) && matches!(store.backend(), super::db::Backend::Postgres) {
        tracing::warn!(
            "the secret key comes from this instance's key file: every instance on this PostgreSQL must use the same \
             key, so set NEOSC_SECRET_KEY on each when you run more than one"
        );
    }
    let secrets = Arc::new(keys.keyring);
    let audit_signer = Arc::new(AuditSigner::load(config.audit_signing_key.as_ref(), &config.secrets.data_dir)?);
    tracing::info!(key_id = audit_signer.key_id(), source = ?audit_signer.source, "audit checkpoint signing key loaded (Ed25519)");
    if matches!(audit_signer.source, SigningKeySource::File(_)) && matches!(store.backend(), super::db::Backend::Postgres) {
        tracing::warn!(
            "the audit signing key comes from this instance's key file: every instance on this PostgreSQL must sign with \
             the same key, so set NEOSC_AUDIT_SIGNING_KEY on each when you run more than one"
        );
    }
    Ok(AppState { leptos_options, config: Arc::new(config), store, hasher, clock, mailer, oidc, engine, secrets, audit_signer })
}

/// The workspace engine `NEOSC_WORKSPACE_ENGINE` asks for. An engine that
/// does not answer never stops the console: named explicitly, it is used
/// once it answers (workspaces show `unknown` meanwhile); on `auto`, there
/// is none.
async fn connect_engine(config: &Config) -> Option<Arc<dyn WorkspaceEngine>> {
    let host = &config.docker_host;
    match config.engine {
        EngineChoice::None => {
            tracing::info!("no workspace engine (NEOSC_WORKSPACE_ENGINE=none): workspaces are allocated but stay pending");
            None
        }
        EngineChoice::Auto => match DockerEngine::connect(host).await {
            Ok(engine) => {
                tracing::info!(%host, "workspace engine: Docker");
                Some(Arc::new(engine))
            }
            Err(e) => {
                tracing::warn!(%host, error = %e, "no workspace engine: Docker does not answer, so workspaces stay pending \
                    (set NEOSC_WORKSPACE_ENGINE=docker to wait for it)");
                None
            }
        },
        EngineChoice::Docker => match DockerEngine::connect(host).await {
            Ok(engine) => {
                tracing::info!(%host, "workspace engine: Docker");
                Some(Arc::new(engine))
            }
            Err(e) => match DockerEngine::unconnected(host) {
                Ok(engine) => {
                    tracing::error!(%host, error = %e, "workspace engine: Docker does not answer yet; workspaces show unknown until it does");
                    Some(Arc::new(engine))
                }
                Err(e) => {
                    tracing::error!(%host, error = %e, "workspace engine: NEOSC_DOCKER_HOST is unusable; no engine");
                    None
                }
            },
        },
    }
}

/// The whole HTTP surface: JSON API, server functions, pages, static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    // The bundle: precompressed files, cached by whether their name is
    // content-hashed (src/server/assets.rs).
    let pkg_dir = format!("{}/{}", options.site_root, options.site_pkg_dir);
    let pkg = Router::new().fallback_service(assets::site_files(&pkg_dir)).layer(from_fn(assets::static_cache));
    // Other site files (the favicon), else the not-found page.
    let files_or_not_found = leptos_axum::file_and_error_handler_with_context::<AppState, _>(leptos::nonce::provide_nonce, shell)
        .layer(from_fn(assets::static_cache));
    Router::new()
        .merge(rest::router())
        .leptos_routes_with_context(&state, routes, leptos::nonce::provide_nonce, move || shell(options.clone()))
        .nest(&format!("/{}", state.leptos_options.site_pkg_dir), pkg)
        .fallback(files_or_not_found)
        .layer(from_fn_with_state(state.clone(), web::page_guard))
        .layer(from_fn_with_state(state.clone(), web::origin_check))
        .layer(from_fn_with_state(state.clone(), web::security_headers))
        // Outside security_headers, so its no-store for /api and /auth stays.
        .layer(from_fn(assets::page_cache))
        // Outside the layers that read or set headers of the plain answer.
        .layer(from_fn(assets::fuse_streams))
        .layer(assets::compression())
        // Innermost first: the id is readable by the problem renderer, comes
        // back on the response, names the span of every log line, and is
        // made when the client sent none (or one not worth keeping).
        .layer(from_fn(request_id::scope))
        .layer(PropagateRequestIdLayer::new(request_id::HEADER))
        .layer(TraceLayer::new_for_http().make_span_with(request_id::span::<axum::body::Body>))
        .layer(SetRequestIdLayer::new(request_id::HEADER, request_id::MakeUuid))
        .layer(from_fn(request_id::sanitize))
        .with_state(state)
}

/// Reads the identity provider's metadata once at start-up, so a wrong
/// issuer shows in the log now rather than at the first click. A failure
/// does not stop the console: password sign-in keeps working, and SSO
/// retries discovery when someone uses it.
async fn discover_sso(state: &AppState) {
    let Some(oidc) = &state.oidc else {
        tracing::info!("SSO is not configured (NEOSC_OIDC_ISSUER unset); password sign-in only");
        return;
    };
    match oidc.discover().await {
        Ok(()) => tracing::info!(issuer = oidc.issuer(), "SSO ready"),
        Err(e) => tracing::error!(
            issuer = oidc.issuer(),
            error = %e.detail,
            "SSO discovery failed: check NEOSC_OIDC_ISSUER (it must equal the provider's `issuer` exactly) and that the \
             provider is reachable; sign-in through SSO is refused until discovery succeeds"
        ),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
