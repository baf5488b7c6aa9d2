//! `/api/organizations/{id}/audit/…`: the organization's audit log (issue
//! 13). Org admins of the organization and platform admins; another
//! organization's answers 404. `/api/audit`: the installation's own events,
//! for platform admins.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::problems::{BadRequest, Forbidden, NotFound, Unauthorized};
use super::schema::OrganizationId;
use super::{ApiPath, ApiQuery, Authenticated, Meta};
use crate::model::{AuditFilter, AuditOutcome, AuditPage};
use crate::server::error::ServiceError;
use crate::server::service::audit::{self, ChainReport};
use crate::server::service::audit_log::{self, Export, ExportFormat};
use crate::server::service::org_id;
use crate::server::state::AppState;

/// The filter's query parameters as sent: read here one by one, so a value
/// that does not parse is refused naming its parameter.
#[derive(Debug, Default, Deserialize)]
pub struct RawFilter {
    action: Option<String>,
    actor: Option<String>,
    target: Option<String>,
    outcome: Option<String>,
    ip: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
    limit: Option<String>,
    /// Exports only.
    format: Option<String>,
}

fn invalid(field: &'static str, message: String) -> ServiceError {
    ServiceError::Validation { field: Some(field), message }
}

/// An empty value is refused like any other that does not parse: the
/// parameter is left out for "no bound".
fn time(field: &'static str, v: Option<&str>) -> Result<Option<DateTime<Utc>>, ServiceError> {
    v.map(|t| {
        DateTime::parse_from_rfc3339(t.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| invalid(field, format!("{field} must be an RFC 3339 time (2026-11-27T00:00:00Z), not “{t}”.")))
    })
    .transpose()
}

fn int(field: &'static str, v: Option<&str>) -> Result<Option<i64>, ServiceError> {
    v.map(|t| t.trim().parse::<i64>().map_err(|_| invalid(field, format!("{field} must be a whole number, not “{t}”.")))).transpose()
}

impl RawFilter {
    fn filter(&self) -> Result<AuditFilter, ServiceError> {
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some(o) => Some(
                AuditOutcome::parse(o)
                    .ok_or_else(|| invalid("outcome", format!("“{o}” is not an outcome: success, denied or failure.")))?,
            ),
        };
        Ok(AuditFilter {
            action: self.action.clone(),
            actor: self.actor.clone(),
            target: self.target.clone(),
            outcome,
            ip: self.ip.clone(),
            from: time("from", self.from.as_deref())?,
            to: time("to", self.to.as_deref())?,
            before: int("before", self.before.as_deref())?,
            limit: int("limit", self.limit.as_deref())?,
        })
    }
}

/// List the organization's audit events
///
/// Newest first, a page at a time: pass a page's `next_before` as `before` for the next (older) one; no
/// `next_before` means the log is done. Every filter narrows: `action` (exact, or `*` for any characters:
/// `*_workspace`), `actor` (a user id, an email address, `system` or `operator`), `target` (an id), `outcome`,
/// `ip` (an address or a CIDR network), `from` (inclusive) and `to` (exclusive). With a network, one request reads
/// at most 5,000 events: a page may then hold fewer than `limit` events, even none, and still carry a
/// `next_before` to go on from. Reading the log records nothing.
#[utoipa::path(get, path = "/api/organizations/{id}/audit", tag = "audit", operation_id = "listAuditEvents",
    params(("id" = OrganizationId, Path, description = "The organization's id"), AuditFilter),
    responses(
        (status = 200, description = "One page of events, newest first", body = AuditPage, example = json!({
            "events": [{
                "seq": 42, "id": "0190c7a2-0000-7000-8000-000000000042", "occurred_at": "2026-11-27T18:00:00.123456Z",
                "organization_id": "org-0190c7a2-0000-7000-8000-0000000000aa", "action": "remove_user_from_org",
                "outcome": "success",
                "actor": { "kind": "user", "id": "usr-0190c7a2-0000-7000-8000-0000000000bb", "email": "ada@example.com", "role": "org_admin" },
                "target": { "type": "user", "id": "usr-0190c7a2-0000-7000-8000-0000000000cc", "name": "Grace" },
                "context": { "ip": "192.0.2.7", "user_agent": "curl/8.5.0", "request_id": "7f0c5a7e-1b9e-4c55-9d53-2b1f0c6c3a10" },
                "details": { "email": "grace@example.com" },
                "hash": "5a61f78712f611b4228585d3129bdd4c58cad5ae48f00f9fa741e72482126d34",
                "prev_hash": "4f7795e90df84fad0a00b36e5fd1d1e09f2df9f69048119e05a481a50fca9372"
            }],
            "next_before": 42
        })),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
pub async fn list(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiQuery(raw): ApiQuery<RawFilter>,
) -> Result<axum::Json<AuditPage>, ServiceError> {
    let org = org_id(&id)?;
    Ok(axum::Json(audit_log::list(&state, &principal, org, &raw.filter()?, &meta).await?))
}

/// List the installation's own audit events
///
/// The events of no organization (sign-ins of unknown addresses, secret key rotations, start-up work), with the
/// filters, paging and order of the organizations' list. Platform admins only.
#[utoipa::path(get, path = "/api/audit", tag = "audit", operation_id = "listInstallationAuditEvents",
    params(AuditFilter),
    responses(
        (status = 200, description = "One page of events, newest first", body = AuditPage),
        BadRequest, Unauthorized, Forbidden,
    ))]
pub async fn list_installation(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiQuery(raw): ApiQuery<RawFilter>,
) -> Result<axum::Json<AuditPage>, ServiceError> {
    Ok(axum::Json(audit_log::list_installation(&state, &principal, &raw.filter()?, &meta).await?))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormatParam {
    Csv,
    Jsonl,
}

/// The export's parameters: the list's filters without the paging.
// Describes the parameters for the document; the handler reads them with
// `RawFilter`, which names the parameter a bad value came in.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExportQuery {
    /// `csv` (default) or `jsonl`.
    #[param(inline)]
    format: Option<ExportFormatParam>,
    /// An action name, or a pattern with `*` standing for any characters.
    #[param(pattern = r"^[a-z0-9_*]*$", max_length = 100)]
    action: Option<String>,
    /// A user id (`usr-…`), an email address, `system` or `operator`.
    actor: Option<String>,
    /// The target's public id.
    #[param(max_length = 200)]
    target: Option<String>,
    outcome: Option<AuditOutcome>,
    /// A client address, or a network in CIDR notation.
    ip: Option<String>,
    /// Events at or after this instant (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Events before this instant (RFC 3339).
    to: Option<DateTime<Utc>>,
}

/// Export the organization's audit log
///
/// Every event matching the filters, oldest first, streamed (any size, constant memory on the server), up to the
/// chain's head when the export starts: events recorded meanwhile are left for the next export. The export itself
/// is recorded (`export_audit_log`, with the filter and format) before the head is read.
///
/// `format=jsonl`: one event per line, in the list's shape, then a last line
/// `{"manifest": {"organization_id", "format", "filter", "count", "first_seq", "last_seq", "head_seq", "head_hash",
/// "exported_at"}}`. `format=csv` (RFC 4180, CRLF): a header row `seq, occurred_at, action, outcome, reason_code,
/// actor_kind, actor_id, actor_email, actor_role, target_type, target_id, target_name, ip, user_agent, request_id,
/// session_kind, details (JSON), hash, prev_hash`, one row per event, and as its last line the same manifest as a comment:
/// `# manifest: {…}`. A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` so
/// spreadsheets do not run it. `head_seq`/`head_hash` let the file be checked against a later `verify`; a file
/// without its manifest line was cut short.
#[utoipa::path(get, path = "/api/organizations/{id}/audit/export", tag = "audit", operation_id = "exportAuditLog",
    params(("id" = OrganizationId, Path, description = "The organization's id"), ExportQuery),
    responses(
        (status = 200, description = "The export, as an attachment `audit-<org>-<from>-<to>.<format>`", content(
            (String = "text/csv", example = "seq,occurred_at,action,outcome,reason_code,actor_kind,actor_id,actor_email,actor_role,target_type,target_id,target_name,ip,user_agent,request_id,session_kind,details,hash,prev_hash\r\n1,2026-11-27T18:00:00.123456Z,create_organization,success,,user,usr-…,ada@example.com,org_admin,organization,org-…,Acme,192.0.2.7,curl/8.5.0,7f0c…,api_token,\"{\"\"name\"\":\"\"Acme\"\"}\",5a61…,0000…\r\n# manifest: {\"count\":1,…}\r\n"),
            (String = "application/x-ndjson", example = "{\"seq\":1,\"action\":\"create_organization\",…}\n{\"manifest\":{\"count\":1,\"head_seq\":1,…}}\n"),
        )),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
pub async fn export(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiQuery(raw): ApiQuery<RawFilter>,
) -> Result<Response, ServiceError> {
    let org = org_id(&id)?;
    let format = ExportFormat::parse(raw.format.as_deref())?;
    let filter = raw.filter()?;
    let export = audit_log::start_export(&state, &principal, org, &filter, format, &meta).await?;
    let disposition = format!("attachment; filename=\"{}\"", export.file_name());
    let mut res = Body::from_stream(export_stream(export)).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(ServiceError::internal)?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

enum Step {
    Start(Export),
    Pages(Export),
    Done,
}

/// The export's body: the CSV header, a chunk per page, the manifest. A
/// failure midway ends the body with an error, so the client sees a cut
/// transfer (and no manifest), never a file that looks whole.
fn export_stream(export: Export) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures_util::stream::unfold(Step::Start(export), |step| async move {
        match step {
            Step::Start(e) => {
                let head = match e.format {
                    ExportFormat::Csv => audit_log::csv_header(),
                    ExportFormat::Jsonl => String::new(),
                };
                Some((Ok(Bytes::from(head)), Step::Pages(e)))
            }
            Step::Pages(mut e) => match e.next_page().await {
                Ok(Some(events)) => {
                    let chunk: String = events
                        .iter()
                        .map(|ev| match e.format {
                            ExportFormat::Csv => audit_log::csv_row(ev),
                            ExportFormat::Jsonl => audit_log::jsonl_row(ev),
                        })
                        .collect();
                    Some((Ok(Bytes::from(chunk)), Step::Pages(e)))
                }
                Ok(None) => {
                    let manifest = e.manifest();
                    let line = match e.format {
                        ExportFormat::Csv => audit_log::csv_manifest(&manifest),
                        ExportFormat::Jsonl => format!("{manifest}\n"),
                    };
                    Some((Ok(Bytes::from(line)), Step::Done))
                }
                Err(err) => {
                    tracing::error!(error = %err, "audit export failed midway");
                    Some((Err(std::io::Error::other("the audit export failed midway")), Step::Done))
                }
            },
            Step::Done => None,
        }
    })
}

/// Verify the audit log's hash chain
///
/// Replays the organization's events from seq 1 to the current head: each event must be present, follow the one
/// before (`prev_hash`) and hash to its stored `hash` (SHA-256 of the previous hash and the event's canonical JSON).
/// Answers `intact` with the head's seq and hash (keep them: a later answer must extend them), or the first seq
/// that does not hold and why.
#[utoipa::path(get, path = "/api/organizations/{id}/audit/verify", tag = "audit", operation_id = "verifyAuditLog",
    params(("id" = OrganizationId, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "What the replay found", body = ChainReport),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn verify(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<ChainReport>, ServiceError> {
    Ok(axum::Json(audit::verify_org(&state, &principal, org_id(&id)?, &meta).await?))
}
