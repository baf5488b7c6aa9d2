//! The one helper every mutating service call uses to record what it did.
//! It writes through the caller's transaction, so the event and the change
//! commit or roll back together.
//!
//! Tamper evidence: the events of each organization, and the installation's
//! own (no organization), form a hash chain. Event `seq` n of a chain has
//! `hash = SHA-256(prev_hash || canonical JSON of the event)`, where
//! `prev_hash` is the hash of event n-1 (32 zero bytes before the first)
//! and the canonical JSON is [`Canonical`] serialised by serde_json (fixed
//! field order, object keys of `details` sorted, no whitespace). Hashes are
//! stored as lower-case hex. The writer takes the chain's head row
//! (`audit_heads`) in its transaction, so concurrent writers of one chain
//! queue there and seqs stay gapless. `verify` replays a chain.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::model::{AuditActor, AuditContext, AuditEvent, AuditOutcome, AuditTarget, OrgId, TemplateId, UserId, WorkspaceId};
use crate::server::auth::credentials::RequestMeta;
use crate::server::db::{AuditExtras, AuditHead, ChainedAuditRecord, Db, NewAuditEvent, Store};
use crate::server::error::{ServiceError, ServiceResult};

/// Event names. The organization ones are the product spec's, verbatim.
pub mod action {
    pub const CREATE_ORGANIZATION: &str = "create_organization";
    pub const UPDATE_ORGANIZATION: &str = "update_organization";
    pub const ADD_USER_TO_ORG: &str = "add_user_to_org";
    pub const REMOVE_USER_FROM_ORG: &str = "remove_user_from_org";
    pub const SUSPEND_ORGANIZATION: &str = "suspend_organization";
    pub const ACTIVATE_ORGANIZATION: &str = "activate_organization";
    pub const INVITE_USER: &str = "invite_user";
    pub const REVOKE_INVITATION: &str = "revoke_invitation";
    pub const CREATE_PLATFORM_ADMIN: &str = "create_platform_admin";
    pub const CHANGE_USER_ROLE: &str = "change_user_role";
    pub const LOGIN: &str = "login";
    pub const LOGIN_FAILED: &str = "login_failed";
    pub const LOGIN_THROTTLED: &str = "login_throttled";
    /// The password was right but the account may not sign in (disabled,
    /// organization suspended); details `reason`.
    pub const LOGIN_DENIED: &str = "login_denied";
    pub const MFA_FAILED: &str = "mfa_failed";
    pub const MFA_ENABLED: &str = "mfa_enabled";
    pub const MFA_DISABLED: &str = "mfa_disabled";
    pub const RECOVERY_CODE_USED: &str = "recovery_code_used";
    pub const CHANGE_PASSWORD: &str = "change_password";
    pub const RESET_PASSWORD: &str = "reset_password";
    pub const END_SESSION: &str = "end_session";
    pub const END_USER_SESSIONS: &str = "end_user_sessions";
    pub const CREATE_API_TOKEN: &str = "create_api_token";
    pub const REVOKE_API_TOKEN: &str = "revoke_api_token";
    pub const DISABLE_USER: &str = "disable_user";
    pub const ENABLE_USER: &str = "enable_user";
    pub const CROSS_ORG_ACCESS_DENIED: &str = "cross_org_access_denied";
    /// A member who is not an admin of their organization tried an admin's
    /// operation (details: the operation).
    pub const PERMISSION_DENIED: &str = "permission_denied";
    pub const LOGOUT: &str = "logout";
    pub const CREATE_WORKSPACE: &str = "create_workspace";
    pub const START_WORKSPACE: &str = "start_workspace";
    pub const STOP_WORKSPACE: &str = "stop_workspace";
    pub const RESIZE_WORKSPACE: &str = "resize_workspace";
    pub const UPDATE_WORKSPACE: &str = "update_workspace";
    pub const SUSPEND_WORKSPACE: &str = "suspend_workspace";
    pub const RESUME_WORKSPACE: &str = "resume_workspace";
    pub const DELETE_WORKSPACE: &str = "delete_workspace";
    /// The reconciler gave up on a workspace or the workspace died (system).
    pub const WORKSPACE_FAILED: &str = "workspace_failed";
    pub const UPDATE_QUOTA: &str = "update_quota";
    pub const CREATE_WORKSPACE_TEMPLATE: &str = "create_workspace_template";
    pub const SSO_LOGIN: &str = "sso_login";
    pub const SSO_LOGIN_FAILED: &str = "sso_login_failed";
    /// The identity provider vouched for the person, and a rule of ours
    /// refused them (suspended, disabled, MFA required, …); details `reason`.
    pub const SSO_LOGIN_DENIED: &str = "sso_login_denied";
    /// An invitation's link was used, and refused by a rule (the
    /// organization is suspended); details `reason`.
    pub const ACCEPT_INVITATION_DENIED: &str = "accept_invitation_denied";
    pub const LINK_SSO_IDENTITY: &str = "link_sso_identity";
    pub const REGISTER_PENDING: &str = "register_pending";
    pub const RESEND_VERIFICATION: &str = "resend_verification";
    pub const SWEEP_PENDING_REGISTRATIONS: &str = "sweep_pending_registrations";
    pub const ADD_DOMAIN: &str = "add_domain";
    pub const VERIFY_DOMAIN: &str = "verify_domain";
    /// A verification whose DNS lookup did not show the record.
    pub const VERIFY_DOMAIN_FAILED: &str = "verify_domain_failed";
    pub const REMOVE_DOMAIN: &str = "remove_domain";
    pub const REQUEST_EMAIL_CONFIRMATION: &str = "request_email_confirmation";
    pub const CONFIRM_EMAIL: &str = "confirm_email";
    /// A signed-in person confirmed their password again (see `reauth`).
    pub const REAUTHENTICATE: &str = "reauthenticate";
    pub const REAUTHENTICATION_FAILED: &str = "reauthentication_failed";
    /// Stored TOTP secrets re-encrypted under the current key (start-up or
    /// rotation; installation-level, one per committed page).
    pub const RESEAL_SECRETS: &str = "reseal_secrets";
    /// `neosc admin rotate-secret-key` (installation-level).
    pub const ROTATE_SECRET_KEY: &str = "rotate_secret_key";
    /// Events older than the organization's retention were deleted (system).
    pub const PURGE_AUDIT_EVENTS: &str = "purge_audit_events";
    pub const CREATE_AUDIT_STREAM: &str = "create_audit_stream";
    pub const UPDATE_AUDIT_STREAM: &str = "update_audit_stream";
    pub const DELETE_AUDIT_STREAM: &str = "delete_audit_stream";
    pub const EXPORT_AUDIT_LOG: &str = "export_audit_log";
}

/// What an event is about.
pub struct Target<'a> {
    pub kind: &'a str,
    pub id: String,
}

pub struct Event<'a> {
    pub org: Option<Uuid>,
    pub actor: Option<Uuid>,
    pub action: &'a str,
    pub target: Option<Target<'a>>,
    pub details: Value,
}

impl<'a> Event<'a> {
    /// The person `user` acted on their own account (signed in or out,
    /// changed their password or second factor): their organization's
    /// chain, them as the actor, no other target.
    pub fn by_self(user: &crate::server::db::UserRecord, action: &'a str, details: Value) -> Self {
        Event { org: Some(user.organization_id), actor: Some(user.id), action, target: None, details }
    }
}

/// The outcome of an event, by its action: refusals are `denied` (the
/// caller may not) or `failure` (the attempt did not succeed); everything
/// else `success`. The one place that says so (migration 0014 applies the
/// same list to older rows).
pub fn outcome_of(action: &str) -> &'static str {
    match action {
        action::LOGIN_THROTTLED
        | action::CROSS_ORG_ACCESS_DENIED
        | action::PERMISSION_DENIED
        | action::LOGIN_DENIED
        | action::SSO_LOGIN_DENIED
        | action::ACCEPT_INVITATION_DENIED => "denied",
        action::LOGIN_FAILED
        | action::MFA_FAILED
        | action::SSO_LOGIN_FAILED
        | action::VERIFY_DOMAIN_FAILED
        | action::REAUTHENTICATION_FAILED => "failure",
        _ => "success",
    }
}

/// `prev_hash` of a chain's first event: 32 zero bytes.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many events one page of chaining or verifying holds in memory.
const PAGE: i64 = 1000;

/// The key of a chain in `audit_heads`.
pub fn chain_key(org: Option<Uuid>) -> String {
    match org {
        Some(id) => id.hyphenated().to_string(),
        None => "installation".to_owned(),
    }
}

/// What an event's hash covers, in this field order. `occurred_at` is RFC
/// 3339 in UTC with microseconds (what both databases keep).
#[derive(Serialize)]
pub struct Canonical<'a> {
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: String,
    pub org: Option<Uuid>,
    pub actor: Option<Uuid>,
    pub action: &'a str,
    pub outcome: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub details: Value,
    pub ip: Option<&'a str>,
    // Added by migration 0016. Left out when absent, so the events chained
    // before it (which have none of them) keep their hashes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
    // Added by migration 0021, left out when absent likewise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_kind: Option<&'a str>,
}

/// A JSON value with every object's keys in sorted order, whatever order
/// it was built or stored in (PostgreSQL's JSONB reorders keys).
pub(crate) fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// The time as the chain records it: microseconds, RFC 3339, `Z`.
pub(crate) fn occurred_at(at: DateTime<Utc>) -> String {
    at.trunc_subsecs(6).to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Canonical<'_> {
    /// `SHA-256(prev_hash bytes || canonical JSON)`, hex. `None` when
    /// `prev_hash` is not hex.
    pub fn hash(&self, prev_hash: &str) -> Option<String> {
        let prev = from_hex(prev_hash)?;
        let json = serde_json::to_vec(self).ok()?;
        Some(to_hex(&Sha256::new().chain_update(prev).chain_update(json).finalize()))
    }

    fn of(r: &ChainedAuditRecord, seq: i64) -> Canonical<'_> {
        Canonical {
            seq,
            id: r.id,
            occurred_at: occurred_at(r.created_at),
            org: r.organization_id,
            actor: r.actor_user_id,
            action: &r.action,
            outcome: &r.outcome,
            target_type: r.target_type.as_deref(),
            target_id: r.target_id.as_deref(),
            details: sorted(&r.details.0),
            ip: r.ip.as_deref(),
            ..Canonical::extras(&r.more)
        }
    }

    /// The fields of migrations 0016 and 0021 of a `Canonical`, from the
    /// stored columns.
    pub fn extras(m: &AuditExtras) -> Canonical<'_> {
        Canonical {
            seq: 0,
            id: Uuid::nil(),
            occurred_at: String::new(),
            org: None,
            actor: None,
            action: "",
            outcome: "",
            target_type: None,
            target_id: None,
            details: Value::Null,
            ip: None,
            actor_kind: m.actor_kind.as_deref(),
            actor_email: m.actor_email.as_deref(),
            actor_role: m.actor_role.as_deref(),
            target_name: m.target_name.as_deref(),
            reason_code: m.reason_code.as_deref(),
            user_agent: m.user_agent.as_deref(),
            request_id: m.request_id.as_deref(),
            session_kind: m.session_kind.as_deref(),
        }
    }
}

/// Why a refusal was refused, as a stable code: the `reason` the service
/// put in the details, or the action's own. `None` for a success.
pub(crate) fn reason_code_of(action: &str, outcome: &str, details: &Value) -> Option<String> {
    if outcome == "success" {
        return None;
    }
    if let Some(reason) = details.get("reason").and_then(Value::as_str) {
        return Some(reason.to_owned());
    }
    let code = match action {
        action::LOGIN_THROTTLED => "throttled",
        action::CROSS_ORG_ACCESS_DENIED => "cross_organization",
        action::MFA_FAILED => "bad_code",
        action::LOGIN_FAILED | action::REAUTHENTICATION_FAILED => "bad_credentials",
        action::VERIFY_DOMAIN_FAILED => "record_not_found",
        _ => "refused",
    };
    Some(code.to_owned())
}

/// The display name of a target as it is now (in the recording
/// transaction: before a deletion commits, or just after it in the same
/// transaction, where the row is gone and the details name it).
async fn target_name(db: &mut Db, target: &Target<'_>, details: &Value) -> ServiceResult<Option<String>> {
    let id = target.id.as_str();
    let found = match target.kind {
        "user" => match UserId::parse(id) {
            Some(u) => db.user_by_id(u.0).await?.map(|u| u.name),
            None => None,
        },
        "workspace" => match WorkspaceId::parse(id) {
            Some(w) => db.workspace_by_id(w.0).await?.map(|w| w.name),
            None => None,
        },
        "organization" => match OrgId::parse(id) {
            Some(o) => db.org_by_id(o.0).await?.map(|o| o.name),
            None => None,
        },
        "workspace_template" => match TemplateId::parse(id) {
            Some(t) => db.template_by_id(t.0).await?.map(|t| t.name),
            None => None,
        },
        _ => None,
    };
    Ok(found.or_else(|| ["name", "domain", "email"].iter().find_map(|k| details.get(*k).and_then(Value::as_str).map(str::to_owned))))
}

/// Who acted, as they were when it happened: kind, email, role.
async fn actor_extras(
    db: &mut Db,
    meta: &RequestMeta,
    actor: Option<Uuid>,
) -> ServiceResult<(&'static str, Option<String>, Option<String>)> {
    match actor {
        Some(id) => {
            let user = db.user_by_id(id).await?;
            Ok(("user", user.as_ref().map(|u| u.email.clone()), user.map(|u| u.role.as_str().to_owned())))
        }
        None if meta.operator => Ok(("operator", None, None)),
        None => Ok(("system", None, None)),
    }
}

/// An event as its readers see it (REST, pages, exports, streams).
pub fn view_of(r: &ChainedAuditRecord) -> AuditEvent {
    let actor_kind = r.more.actor_kind.clone().unwrap_or_else(|| if r.actor_user_id.is_some() { "user" } else { "system" }.to_owned());
    AuditEvent {
        seq: r.seq.unwrap_or_default(),
        id: r.id.to_string(),
        occurred_at: r.created_at,
        organization_id: r.organization_id.map(|o| OrgId(o).to_string()),
        action: r.action.clone(),
        // The column's CHECK allows exactly the three outcomes.
        outcome: AuditOutcome::parse(&r.outcome).unwrap_or(AuditOutcome::Failure),
        reason_code: r.more.reason_code.clone(),
        actor: AuditActor {
            kind: actor_kind,
            id: r.actor_user_id.map(|u| UserId(u).to_string()),
            email: r.more.actor_email.clone(),
            role: r.more.actor_role.clone(),
        },
        target: match (&r.target_type, &r.target_id) {
            (Some(kind), Some(id)) => Some(AuditTarget { kind: kind.clone(), id: id.clone(), name: r.more.target_name.clone() }),
            _ => None,
        },
        context: AuditContext {
            ip: r.ip.clone(),
            user_agent: r.more.user_agent.clone(),
            request_id: r.more.request_id.clone(),
            session_kind: r.more.session_kind.clone(),
        },
        details: r.details.0.clone(),
        hash: r.hash.clone().unwrap_or_default(),
        prev_hash: r.prev_hash.clone().unwrap_or_default(),
    }
}

pub async fn record(db: &mut Db, now: chrono::DateTime<chrono::Utc>, meta: &RequestMeta, e: Event<'_>) -> ServiceResult<()> {
    // The head, the event and the change it describes commit together;
    // in autocommit the head could move without its event.
    if !db.in_transaction() {
        return Err(ServiceError::bug("audit event recorded outside a transaction"));
    }
    // Both databases keep microseconds; the hash covers what is stored.
    let now = now.trunc_subsecs(6);
    let id = Uuid::now_v7();
    let outcome = outcome_of(e.action);
    let details = sorted(&e.details);
    let (actor_kind, actor_email, actor_role) = actor_extras(db, meta, e.actor).await?;
    let target_name = match &e.target {
        Some(t) => target_name(db, t, &details).await?,
        None => None,
    };
    let more = AuditExtras {
        actor_kind: Some(actor_kind.to_owned()),
        actor_email,
        actor_role,
        target_name,
        reason_code: reason_code_of(e.action, outcome, &details),
        user_agent: meta.user_agent.clone(),
        request_id: crate::server::request_id::current(),
        session_kind: meta.session_kind().map(str::to_owned),
    };
    let (target_type, target_id) = match e.target {
        Some(t) => (Some(t.kind), Some(t.id)),
        None => (None, None),
    };
    // The head last: on PostgreSQL it is a row lock other writers of this
    // organization wait for, held until commit, so it is taken after every
    // other lock of the caller's transaction (callers record near their
    // end) and cannot be part of a lock cycle with them.
    let key = chain_key(e.org);
    let head = db.take_audit_head(&key, GENESIS_HASH).await?;
    let seq = head.seq + 1;
    let canonical = Canonical {
        seq,
        id,
        occurred_at: occurred_at(now),
        org: e.org,
        actor: e.actor,
        action: e.action,
        outcome,
        target_type,
        target_id: target_id.as_deref(),
        details: details.clone(),
        ip: meta.ip.as_deref(),
        ..Canonical::extras(&more)
    };
    let hash = canonical.hash(&head.hash).ok_or_else(|| ServiceError::bug("audit head hash is not hex"))?;
    db.insert_audit_event(&NewAuditEvent {
        id,
        organization_id: e.org,
        actor_user_id: e.actor,
        action: e.action,
        outcome,
        target_type,
        target_id,
        details,
        ip: meta.ip.as_deref(),
        now,
        seq,
        prev_hash: head.hash.clone(),
        hash: hash.clone(),
        more,
    })
    .await?;
    db.set_audit_head(&key, &AuditHead { seq, hash }).await?;
    Ok(())
}

/// Records `e`, a refusal, in a transaction of its own that commits
/// although the request it refuses fails. The caller holds no transaction
/// at this point, or has rolled its own back: on SQLite a second writer
/// would wait for it.
pub async fn record_refusal(state: &crate::server::state::AppState, meta: &RequestMeta, e: Event<'_>) -> ServiceResult<()> {
    let mut db = state.store.begin().await?;
    record(&mut db, state.clock.now(), meta, e).await?;
    db.commit().await?;
    Ok(())
}

/// Refuses the signed-in caller `operation` for `reason` (a stable
/// snake_case code, README "Reason codes"): records `permission_denied`,
/// outcome `denied`, in the caller's organization's chain (see
/// `record_refusal`) and hands back `error` to answer with, or the error
/// that kept the refusal from being recorded.
pub async fn refuse(
    state: &crate::server::state::AppState,
    principal: &super::Principal,
    meta: &RequestMeta,
    operation: &str,
    reason: &str,
    target: Option<Target<'_>>,
    error: ServiceError,
) -> ServiceError {
    let org = principal.org_id();
    let event = Event {
        org: Some(org),
        actor: Some(principal.user.id),
        action: action::PERMISSION_DENIED,
        target: Some(target.unwrap_or_else(|| Target { kind: "organization", id: OrgId(org).to_string() })),
        details: serde_json::json!({ "operation": operation, "reason": reason }),
    };
    match record_refusal(state, meta, event).await {
        Ok(()) => error,
        Err(e) => e,
    }
}

/// `refuse`, from inside the transaction the refusal was decided in:
/// that transaction is rolled back first (nothing of it is kept, and on
/// SQLite the refusal's own transaction would wait for it).
#[allow(clippy::too_many_arguments)]
pub async fn refuse_in(
    state: &crate::server::state::AppState,
    db: Db,
    principal: &super::Principal,
    meta: &RequestMeta,
    operation: &str,
    reason: &str,
    target: Option<Target<'_>>,
    error: ServiceError,
) -> ServiceError {
    if let Err(e) = db.rollback().await {
        return e.into();
    }
    refuse(state, principal, meta, operation, reason, target, error).await
}

/// Chains the events written before the chain existed (migration 0014
/// left them without seq and hash): per chain, oldest first, after the
/// chain's head. Idempotent, and safe while other instances do the same
/// or record events: each page is one transaction holding the chain's head,
/// and a row is only chained while it has no seq. Returns how many rows it
/// chained.
pub async fn chain_unchained(store: &Store) -> ServiceResult<u64> {
    let chains = store.conn().await?.audit_unchained_chains().await?;
    let mut chained = 0;
    for org in chains {
        let key = chain_key(org);
        loop {
            let mut db = store.begin().await?;
            let mut head = db.take_audit_head(&key, GENESIS_HASH).await?;
            let rows = db.audit_unchained_page(org, PAGE).await?;
            if rows.is_empty() {
                db.rollback().await?;
                break;
            }
            for r in &rows {
                let seq = head.seq + 1;
                let hash = Canonical::of(r, seq).hash(&head.hash).ok_or_else(|| ServiceError::bug("audit head hash is not hex"))?;
                if !db.chain_audit_event(r.id, seq, &head.hash, &hash).await? {
                    return Err(ServiceError::bug("an unchained audit event was chained under the chain's head lock"));
                }
                head = AuditHead { seq, hash };
                chained += 1;
            }
            db.set_audit_head(&key, &head).await?;
            db.commit().await?;
        }
    }
    if chained > 0 {
        tracing::info!(chained, "audit events written before the hash chain are chained now");
    }
    Ok(chained)
}

pub use crate::model::ChainReport;

impl ChainReport {
    fn intact(head: AuditHead) -> Self {
        ChainReport {
            intact: true,
            head_seq: Some(head.seq),
            head_hash: Some(head.hash),
            first_broken_seq: None,
            reason: None,
            purged_through_seq: None,
        }
    }

    fn broken(seq: i64, reason: &str) -> Self {
        ChainReport {
            intact: false,
            head_seq: None,
            head_hash: None,
            first_broken_seq: Some(seq),
            reason: Some(reason.to_owned()),
            purged_through_seq: None,
        }
    }
}

/// Replays chain `org` (None: the installation's) from seq 1 to the head
/// committed when it starts, a page at a time (memory bounded whatever the
/// length). Events recorded meanwhile lie beyond that head and wait for the
/// next run. Rows not chained yet (before the start-up pass) are not part
/// of the chain.
pub async fn verify_chain(store: &Store, org: Option<Uuid>) -> ServiceResult<ChainReport> {
    let mut db = store.conn().await?;
    let head = db.audit_head(&chain_key(org)).await?;
    // Without a head, the rows there are must still form a chain; a head
    // that vanished is itself a break after them.
    let up_to = head.as_ref().map_or(i64::MAX, |h| h.seq);
    // A purged chain starts after its latest purge row, from the hash it
    // kept (see `audit_retention`).
    let purge = db.latest_audit_purge(org).await?;
    let purged_through = purge.as_ref().map(|p| p.seq);
    let mut last = match purge {
        Some(p) => AuditHead { seq: p.seq, hash: p.hash },
        None => AuditHead { seq: 0, hash: GENESIS_HASH.to_owned() },
    };
    loop {
        let rows = db.audit_chain_page(org, last.seq, up_to, PAGE).await?;
        let full = rows.len() as i64 == PAGE;
        for r in &rows {
            let expected = last.seq + 1;
            let seq = r.seq.unwrap_or_default();
            if seq != expected {
                return Ok(ChainReport::broken(expected, "missing seq"));
            }
            let (Some(prev_hash), Some(hash)) = (r.prev_hash.as_deref(), r.hash.as_deref()) else {
                return Ok(ChainReport::broken(seq, "hash mismatch"));
            };
            if Canonical::of(r, seq).hash(prev_hash).as_deref() != Some(hash) {
                return Ok(ChainReport::broken(seq, "hash mismatch"));
            }
            if prev_hash != last.hash {
                return Ok(ChainReport::broken(seq, "prev_hash mismatch"));
            }
            last = AuditHead { seq, hash: hash.to_owned() };
        }
        if !full {
            break;
        }
    }
    let report = match head {
        None if last.seq == 0 => ChainReport::intact(last),
        None => ChainReport::broken(last.seq + 1, "missing head"),
        Some(h) if h.seq > last.seq => ChainReport::broken(last.seq + 1, "missing seq"),
        Some(h) if h.hash != last.hash => ChainReport::broken(h.seq, "head mismatch"),
        Some(h) => ChainReport::intact(h),
    };
    Ok(ChainReport { purged_through_seq: purged_through, ..report })
}

/// `GET /api/organizations/{id}/audit/verify`: the organization's chain,
/// for its org admins and platform admins (others get what other
/// organization routes answer them).
pub async fn verify_org(
    state: &crate::server::state::AppState,
    principal: &super::Principal,
    org_id: Uuid,
    meta: &RequestMeta,
) -> ServiceResult<ChainReport> {
    let org = super::orgs::managed_org(state, principal, org_id, "verify_audit_log", meta).await?;
    verify_chain(&state.store, Some(org.id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_have_their_outcome() {
        assert_eq!(outcome_of(action::LOGIN_FAILED), "failure");
        assert_eq!(outcome_of(action::REAUTHENTICATION_FAILED), "failure");
        assert_eq!(outcome_of(action::CROSS_ORG_ACCESS_DENIED), "denied");
        assert_eq!(outcome_of(action::LOGIN_THROTTLED), "denied");
        assert_eq!(outcome_of(action::LOGIN), "success");
    }

    /// The canonical form is a format: chains written by this version must
    /// verify in the next. The expected hash was computed outside Rust
    /// (Python's hashlib over the JSON written out by hand, as the README
    /// describes it).
    #[test]
    fn the_hash_covers_the_documented_canonical_json() {
        let none = AuditExtras::default();
        let at = DateTime::parse_from_rfc3339("2026-11-27T18:00:00.123456789Z").unwrap().with_timezone(&Utc);
        let event = Canonical {
            seq: 1,
            id: Uuid::parse_str("0190c7a2-0000-7000-8000-000000000001").unwrap(),
            occurred_at: occurred_at(at),
            org: Some(Uuid::parse_str("0190c7a2-0000-7000-8000-0000000000aa").unwrap()),
            actor: None,
            action: "login",
            outcome: "success",
            target_type: Some("user"),
            target_id: Some("usr-x"),
            details: sorted(&serde_json::json!({ "b": { "d": true, "c": [1.5, "x"] }, "a": 1 })),
            ip: Some("192.0.2.1"),
            ..Canonical::extras(&none)
        };
        assert_eq!(event.hash(GENESIS_HASH).unwrap(), "5a61f78712f611b4228585d3129bdd4c58cad5ae48f00f9fa741e72482126d34");
        assert!(event.hash("not hex").is_none());
        assert_ne!(event.hash(GENESIS_HASH), Canonical { seq: 2, ..event }.hash(GENESIS_HASH));
    }

    /// The fields of migration 0016 follow `ip` when present (target_name
    /// absent here, so left out). Expected hash from Python's hashlib over
    /// `json.dumps(..., separators=(',', ':'), ensure_ascii=False)`.
    #[test]
    fn the_hash_covers_the_fields_added_later_only_when_present() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T18:00:01Z").unwrap().with_timezone(&Utc);
        let more = AuditExtras {
            actor_kind: Some("user".into()),
            actor_email: Some("ada@example.com".into()),
            actor_role: Some("org_admin".into()),
            target_name: None,
            reason_code: Some("bad_credentials".into()),
            user_agent: Some("Mozilla/5.0 (é)".into()),
            request_id: Some("req-1".into()),
            session_kind: None,
        };
        let event = Canonical {
            seq: 2,
            id: Uuid::parse_str("0190c7a2-0000-7000-8000-000000000002").unwrap(),
            occurred_at: occurred_at(at),
            org: Some(Uuid::parse_str("0190c7a2-0000-7000-8000-0000000000aa").unwrap()),
            actor: Some(Uuid::parse_str("0190c7a2-0000-7000-8000-0000000000bb").unwrap()),
            action: "login_failed",
            outcome: "failure",
            target_type: None,
            target_id: None,
            details: serde_json::json!({ "reason": "bad_credentials" }),
            ip: None,
            ..Canonical::extras(&more)
        };
        assert_eq!(event.hash(GENESIS_HASH).unwrap(), "4f7795e90df84fad0a00b36e5fd1d1e09f2df9f69048119e05a481a50fca9372");
    }

    /// The session kind of migration 0021 comes last, when present (absent
    /// in the vectors above, whose hashes it does not change). Expected
    /// hash from Python's hashlib over the JSON written out by hand:
    /// `{"seq":3,"id":"0190c7a2-0000-7000-8000-000000000003","occurred_at":"2026-11-27T18:00:02.000000Z",
    /// "org":"0190c7a2-0000-7000-8000-0000000000aa","actor":"0190c7a2-0000-7000-8000-0000000000bb",
    /// "action":"update_organization","outcome":"success","target_type":"organization","target_id":"org-x",
    /// "details":{"name":{"new":"B","old":"A"}},"ip":"192.0.2.9","actor_kind":"user","actor_email":"ada@example.com",
    /// "actor_role":"org_admin","target_name":"B","request_id":"req-3","session_kind":"password_mfa"}`
    /// (no whitespace), after 32 zero bytes.
    #[test]
    fn the_hash_covers_the_session_kind_only_when_present() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T18:00:02Z").unwrap().with_timezone(&Utc);
        let more = AuditExtras {
            actor_kind: Some("user".into()),
            actor_email: Some("ada@example.com".into()),
            actor_role: Some("org_admin".into()),
            target_name: Some("B".into()),
            reason_code: None,
            user_agent: None,
            request_id: Some("req-3".into()),
            session_kind: Some("password_mfa".into()),
        };
        let event = Canonical {
            seq: 3,
            id: Uuid::parse_str("0190c7a2-0000-7000-8000-000000000003").unwrap(),
            occurred_at: occurred_at(at),
            org: Some(Uuid::parse_str("0190c7a2-0000-7000-8000-0000000000aa").unwrap()),
            actor: Some(Uuid::parse_str("0190c7a2-0000-7000-8000-0000000000bb").unwrap()),
            action: "update_organization",
            outcome: "success",
            target_type: Some("organization"),
            target_id: Some("org-x"),
            details: sorted(&serde_json::json!({ "name": { "old": "A", "new": "B" } })),
            ip: Some("192.0.2.9"),
            ..Canonical::extras(&more)
        };
        assert_eq!(event.hash(GENESIS_HASH).unwrap(), "75760dd575d7ce0e7ba4b39109b0ae3dab1981edf50aae4b3c36d04c8b82ad42");
        let without = AuditExtras { session_kind: None, ..more.clone() };
        let json = serde_json::to_string(&Canonical { ..Canonical::extras(&without) }).unwrap();
        assert!(!json.contains("session_kind"), "{json}");
    }

    #[test]
    fn refusals_carry_a_reason_code_and_successes_none() {
        let none = serde_json::json!({});
        assert_eq!(reason_code_of(action::LOGIN, "success", &none), None);
        assert_eq!(reason_code_of(action::CROSS_ORG_ACCESS_DENIED, "denied", &none).as_deref(), Some("cross_organization"));
        let said = serde_json::json!({ "reason": "expired" });
        assert_eq!(reason_code_of(action::SSO_LOGIN_FAILED, "failure", &said).as_deref(), Some("expired"));
    }
}
