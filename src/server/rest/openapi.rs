//! What the whole document says beyond its operations: title, servers,
//! security schemes (bearer token and session cookie, one of them required
//! unless an operation says `security(())`), tags; and serving it.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use super::schema::{OrganizationId, TemplateId, UserId, WorkspaceId};
use crate::model::PasswordPolicy;
use crate::server::error::Problem;
use crate::server::state::AppState;

const DESCRIPTION: &str = "Multi-tenant admin console for secure cloud workspaces.

**Authentication.** Sign in with `POST /api/auth/login` and send the token as `Authorization: Bearer …`; \
personal API tokens (`nsc_pat_…`, `POST /api/account/tokens`) work the same way. The console's browser \
session (cookie `neosc_session`, `__Host-neosc_session` when served over https) is accepted as well. \
Operations without a lock are public.

**Errors** are `application/problem+json` (RFC 9457) with a stable `type` \
(`https://neosc.dev/problems/validation`, `…/unauthorized`, `…/forbidden`, `…/not-found`, `…/conflict`, \
`…/too-many-requests`, `…/unavailable`), a `detail` for people and, for validation errors, the `field`.

**Tenancy.** The caller's organization always comes from the credential. Anything of another organization \
answers 404, as if it did not exist.

**Cross-site requests.** A state-changing request a browser sends from another site (`Origin` or \
`Sec-Fetch-Site` of another origin) is refused with 403.";

#[derive(OpenApi)]
#[openapi(
    info(title = "NeoSC API", description = DESCRIPTION),
    servers((url = "/", description = "The NeoSC installation that serves this document")),
    security(("bearer" = []), ("cookie" = [])),
    // Path parameter types are not collected by `routes!` (bodies are).
    components(schemas(Problem, OrganizationId, UserId, WorkspaceId, TemplateId)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Registration and sign-in"),
        (name = "account", description = "The caller's password, sessions, API tokens and second factor"),
        (name = "users", description = "Admin actions on other accounts"),
        (name = "organizations", description = "Tenants, their members and invitations"),
        (name = "invitations", description = "The invitee's side of an invitation"),
        (name = "domains", description = "An organization's domains and their DNS verification"),
        (name = "audit", description = "An organization's audit log and its hash chain"),
        (name = "workspaces", description = "Workspaces on the workspace engine, their templates and lifecycle"),
        (name = "sso (browser)", description = "The browser's redirect flow of single sign-on; not for API clients"),
    )
)]
struct Base;

/// The document with its global parts, for `rest::api()` to add routes to.
pub(super) fn base() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Base::openapi())
}

/// The finished document: `rest::api()`'s routes and `Base`.
pub(super) fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    // utoipa copies Cargo.toml's (absent) license as an empty name.
    if doc.info.license.as_ref().is_some_and(|l| l.name.is_empty()) {
        doc.info.license = None;
    }
    doc
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A session token from `POST /api/auth/login` (or the other sign-in operations), or a personal API token `nsc_pat_…`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "neosc_session",
                "The console's browser session (`__Host-neosc_session` when NeoSC is served over https)",
            ))),
        );
    }
}

/// `/api/openapi.json`, serialized once. The password fields' `minLength`
/// is this installation's `NEOSC_PASSWORD_MIN_LENGTH`.
#[derive(Clone)]
pub(super) struct Served {
    doc: Arc<utoipa::openapi::OpenApi>,
    bytes: Arc<OnceLock<Bytes>>,
}

impl Served {
    pub(super) fn new(doc: utoipa::openapi::OpenApi) -> Self {
        Served { doc: Arc::new(doc), bytes: Arc::new(OnceLock::new()) }
    }
}

/// Writes the configured password policy into every schema that takes a
/// new password (the fields named `password` or `new_password`).
pub fn apply_password_policy(doc: &mut Value, policy: PasswordPolicy) {
    let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
    for schema in schemas.values_mut() {
        let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else { continue };
        for (name, prop) in props.iter_mut() {
            if (name == "password" || name == "new_password") && prop.get("minLength").is_some() {
                prop["minLength"] = policy.min_chars.into();
                prop["maxLength"] = policy.max_chars.into();
            }
        }
    }
}

pub(super) async fn document(State(state): State<AppState>, Extension(served): Extension<Served>) -> Response {
    let bytes = served.bytes.get_or_init(|| {
        let mut value = serde_json::to_value(&*served.doc).expect("the OpenAPI document serializes");
        apply_password_policy(&mut value, state.config.password_policy);
        Bytes::from(serde_json::to_vec(&value).expect("JSON serializes"))
    });
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes.clone()).into_response()
}

/// The document as `utoipa::OpenApi`, for tests and tools:
/// `ApiDoc::openapi()` is what `/api/openapi.json` serves (with the default
/// password policy).
pub struct ApiDoc;

impl OpenApi for ApiDoc {
    fn openapi() -> utoipa::openapi::OpenApi {
        super::document()
    }
}
