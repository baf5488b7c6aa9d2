//! Server functions of the audit page's stream panel: the same service
//! calls as `/api/organizations/{id}/audit/stream`. Plain form fields, so
//! an `ActionForm` can post them.

use leptos::prelude::*;

use crate::model::{AppError, AuditStream, CreatedAuditStream};

#[cfg(feature = "ssr")]
fn org_uuid(raw: &str) -> Result<uuid::Uuid, AppError> {
    crate::server::service::org_id(raw).map_err(crate::server::sfn::fail)
}

/// An optional seq field: empty is none.
#[cfg(feature = "ssr")]
fn seq_field(raw: Option<&str>) -> Result<Option<i64>, AppError> {
    use crate::server::error::ServiceError;
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) => n.parse::<i64>().map(Some).map_err(|_| {
            crate::server::sfn::fail(ServiceError::Validation {
                field: Some("start_seq"),
                message: "start_seq must be a whole number.".into(),
            })
        }),
    }
}

/// A yes/no field: `true`/`on`/`1` or `false`/`off`/`0`; empty is none.
#[cfg(feature = "ssr")]
fn flag_field(field: &'static str, raw: Option<&str>) -> Result<Option<bool>, AppError> {
    use crate::server::error::ServiceError;
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some("true" | "on" | "1") => Ok(Some(true)),
        Some("false" | "off" | "0") => Ok(Some(false)),
        Some(_) => {
            Err(crate::server::sfn::fail(ServiceError::Validation { field: Some(field), message: format!("{field} is true or false.") }))
        }
    }
}

/// The organization's stream; `None` when it has none.
#[server(prefix = "/api/fn", endpoint = "get_audit_stream")]
pub async fn get_audit_stream(org: String) -> Result<Option<AuditStream>, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::audit_stream::find(&call.state, &principal, org_uuid(&org)?, &call.meta).await.map_err(sfn::fail)
}

/// Creates the stream; the answer holds the secret, shown once. An empty
/// `secret` has one generated; `enabled` defaults to true.
#[server(prefix = "/api/fn", endpoint = "create_audit_stream")]
pub async fn create_audit_stream(
    org: String,
    url: String,
    secret: Option<String>,
    start_seq: Option<String>,
    from_beginning: Option<String>,
    enabled: Option<String>,
) -> Result<CreatedAuditStream, AppError> {
    use crate::model::NewAuditStream;
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    let request = NewAuditStream {
        url,
        secret: secret.filter(|s| !s.trim().is_empty()),
        start_seq: seq_field(start_seq.as_deref())?,
        from_beginning: flag_field("from_beginning", from_beginning.as_deref())?.unwrap_or(false),
        enabled: flag_field("enabled", enabled.as_deref())?,
    };
    service::audit_stream::create(&call.state, &principal, org_uuid(&org)?, &request, &call.meta).await.map_err(sfn::fail)
}

/// Changes what is sent (non-empty fields only).
#[server(prefix = "/api/fn", endpoint = "update_audit_stream")]
pub async fn update_audit_stream(
    org: String,
    url: Option<String>,
    enabled: Option<String>,
    start_seq: Option<String>,
) -> Result<AuditStream, AppError> {
    use crate::model::AuditStreamChanges;
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    let changes = AuditStreamChanges {
        url: url.filter(|u| !u.trim().is_empty()),
        enabled: flag_field("enabled", enabled.as_deref())?,
        start_seq: seq_field(start_seq.as_deref())?,
    };
    service::audit_stream::update(&call.state, &principal, org_uuid(&org)?, &changes, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "delete_audit_stream")]
pub async fn delete_audit_stream(org: String) -> Result<(), AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::audit_stream::delete(&call.state, &principal, org_uuid(&org)?, &call.meta).await.map_err(sfn::fail)
}

/// A new secret, shown once.
#[server(prefix = "/api/fn", endpoint = "rotate_audit_stream_secret")]
pub async fn rotate_audit_stream_secret(org: String) -> Result<CreatedAuditStream, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::audit_stream::rotate_secret(&call.state, &principal, org_uuid(&org)?, &call.meta).await.map_err(sfn::fail)
}
