//! The audit log as its readers see it: one event with who did what to
//! what, from where, how it ended, and where it sits in its organization's
//! hash chain. The REST API, the server functions of the audit page, the
//! exports and the SIEM stream all hand out this one shape.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How an event ended: the change was made (`success`), the caller was not
/// allowed (`denied`), or the attempt did not work (`failure`: a wrong
/// password, a DNS record not there yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Denied,
    Failure,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(AuditOutcome::Success),
            "denied" => Some(AuditOutcome::Denied),
            "failure" => Some(AuditOutcome::Failure),
            _ => None,
        }
    }
}

/// Who acted. `kind` is `user` (a signed-in person or API token; `id`,
/// `email` and `role` as they were when it happened), `operator` (the
/// `neosc` command line on the server) or `system` (the server itself: the
/// reconciler, the sweeper, start-up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditActor {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// What the event is about: `kind` (`user`, `workspace`, `organization`,
/// …), its public id, and its display name when it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditTarget {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Where the request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The `X-Request-Id` of the request, as in the server's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// How the actor was authenticated for the request: `password`,
    /// `password_mfa`, `sso`, `api_token`, or `operator` (the command
    /// line). Absent for the system, for sign-in attempts not yet
    /// authenticated, and on events recorded before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(example = "password_mfa"))]
    pub session_kind: Option<String>,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// Position in its chain: 1, 2, 3… per organization (and for the
    /// installation's own events), without gaps.
    pub seq: i64,
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    /// The organization (`org-…`); absent for installation events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    pub action: String,
    pub outcome: AuditOutcome,
    /// Why a `denied` or `failure` event was refused, as a stable code
    /// (`bad_credentials`, `cross_organization`, `throttled`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    pub actor: AuditActor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<AuditTarget>,
    pub context: AuditContext,
    /// What changed: for updates the fields before and after.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub details: serde_json::Value,
    /// SHA-256 of the previous event's hash and this event's canonical
    /// JSON (README, "Audit log"), hex.
    pub hash: String,
    pub prev_hash: String,
}

/// One page of events, newest first. `next_before` is the cursor of the
/// next (older) page: pass it as `before`. Absent on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// What a reader asks the log for. Every field narrows; none set is the
/// whole log, newest first. The REST API takes these as query parameters,
/// the audit page builds them from its query bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct AuditFilter {
    /// An action name (`remove_user_from_org`), or a pattern with `*`
    /// standing for any characters (`*_workspace`, `login*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", param(pattern = r"^[a-z0-9_*]*$", max_length = 100))]
    pub action: Option<String>,
    /// Who acted: a user id (`usr-…`) or an email address; `system` or
    /// `operator` for those actors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The target's public id (`usr-…`, `ws-…`, `org-…`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", param(max_length = 200))]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AuditOutcome>,
    /// A client address, or a network in CIDR notation (`192.0.2.0/24`,
    /// `2001:db8::/48`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Events at or after this instant (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Events before this instant (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// The cursor: only events with a seq below this (the `next_before`
    /// of the page before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", param(minimum = 1))]
    pub before: Option<i64>,
    /// Events per page, 1 to 200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 200))]
    pub limit: Option<i64>,
}

/// The chain's state as the audit page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditChainStatus {
    pub intact: bool,
    /// The last verified seq (when intact).
    pub head_seq: i64,
    pub first_broken_seq: Option<i64>,
    pub reason: Option<String>,
    /// Events up to here were purged by the retention period.
    pub purged_through_seq: Option<i64>,
    /// The UTC day (YYYY-MM-DD) of the latest signed checkpoint.
    pub last_checkpoint: Option<String>,
}

/// What replaying a chain found (`GET /api/organizations/{id}/audit/verify`).
/// Either `intact` with the head, or the first seq that does not hold and
/// why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChainReport {
    /// Every event from seq 1 to the head is present, in order, and hashes
    /// to what the next one and the head say.
    pub intact: bool,
    /// The last seq (0 for a chain without events). When intact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<i64>,
    /// The hash of the last event, hex. When intact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// The first seq that does not hold. When not intact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_broken_seq: Option<i64>,
    /// `hash mismatch` (the event is not what was hashed), `prev_hash
    /// mismatch` (it does not follow the event before), `missing seq` (the
    /// event is not there), `head mismatch` (the chain's head names another
    /// hash) or `missing head`. When not intact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Events up to this seq were purged by the organization's retention;
    /// the replay started after it, from the hash its purge row kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_through_seq: Option<i64>,
}
