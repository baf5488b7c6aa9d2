//! An organization's audit stream (issue 13, "Streaming to a SIEM"): its
//! admins (and platform admins) point it at their SIEM's webhook, read
//! where it stands, rewind it, rotate its secret. The worker that sends is
//! `server::audit_delivery`.
//!
//! The signing secret is generated here (or given), answered once, and
//! kept sealed like the TOTP secrets (`auth::secret_box`, the stream's id
//! as associated data). The receiver URL must be https on a public
//! address; it is checked here and again at every delivery (DNS may change
//! between the two).

use rand::RngCore;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, chain_key, Event, Target};
use super::orgs::{begin_managed_org, managed_org, OrgHold};
use super::Principal;
use crate::model::{AuditStream, AuditStreamChanges, CreatedAuditStream, NewAuditStream, OrgId};
use crate::server::audit_delivery::{check_receiver, resolve_receiver};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::secret_box::Keyring;
use crate::server::db::{AuditStreamRecord, AuditStreamUpdate, Db, NewAuditStreamRow, Store};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// Shortest secret a caller may give (characters).
pub const MIN_SECRET_CHARS: usize = 32;
const MAX_SECRET_CHARS: usize = 256;

fn no_stream() -> ServiceError {
    ServiceError::NotFound("This organization has no audit stream.".into())
}

fn target(org: Uuid) -> Target<'static> {
    Target { kind: "audit_stream", id: OrgId(org).to_string() }
}

/// The chain's newest seq (0 before any event), as committed.
async fn head_seq(db: &mut Db, org: Uuid) -> ServiceResult<i64> {
    Ok(db.audit_head(&chain_key(Some(org))).await?.map_or(0, |h| h.seq))
}

pub fn view(r: &AuditStreamRecord, head_seq: i64) -> AuditStream {
    AuditStream {
        organization_id: OrgId(r.organization_id).to_string(),
        url: r.url.clone(),
        enabled: r.enabled,
        last_delivered_seq: r.last_delivered_seq,
        head_seq,
        lag: (head_seq - r.last_delivered_seq).max(0),
        last_delivered_at: r.last_delivered_at,
        last_attempt_at: r.last_attempt_at,
        last_error: r.last_error.clone(),
        failures: r.failures,
        next_attempt_at: r.enabled.then_some(r.next_attempt_at),
        created_at: r.created_at,
    }
}

/// 32 random bytes, hex.
fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    data_encoding::HEXLOWER.encode(&bytes)
}

fn given_secret(raw: &str) -> ServiceResult<String> {
    let n = raw.chars().count();
    if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n) {
        return Err(ServiceError::Validation {
            field: Some("secret"),
            message: format!("The secret must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters; leave it out to have one generated."),
        });
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ServiceError::Validation {
            field: Some("secret"),
            message: "The secret must be printable ASCII without spaces.".into(),
        });
    }
    Ok(raw.to_owned())
}

/// The receiver URL if the installation sends there: https (http only to
/// loopback when allowed), and every address its host has now is public.
async fn receiver(state: &AppState, raw: &str) -> ServiceResult<String> {
    let allow_loopback = state.config.audit_stream.allow_http_loopback;
    let url = check_receiver(raw, allow_loopback).map_err(ServiceError::Unprocessable)?;
    resolve_receiver(&url, allow_loopback).await.map_err(ServiceError::Unprocessable)?;
    Ok(url.to_string())
}

/// `start_seq` as the `last_delivered_seq` it means: 1 to the head + 1.
fn resume_point(start_seq: i64, head: i64) -> ServiceResult<i64> {
    if !(1..=head + 1).contains(&start_seq) {
        return Err(ServiceError::Validation {
            field: Some("start_seq"),
            message: format!("start_seq must be between 1 and {} (the next event); the log's newest seq is {head}.", head + 1),
        });
    }
    Ok(start_seq - 1)
}

pub async fn get(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<AuditStream> {
    find(state, principal, org_id, meta).await?.ok_or_else(no_stream)
}

/// The organization's stream, `None` when it has none (the caller may
/// administer the organization either way).
pub async fn find(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<Option<AuditStream>> {
    let org = managed_org(state, principal, org_id, "view_audit_stream", meta).await?;
    let mut db = state.store.conn().await?;
    let Some(stream) = db.audit_stream_of_org(org.id).await? else { return Ok(None) };
    let head = head_seq(&mut db, org.id).await?;
    Ok(Some(view(&stream, head)))
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    org_id: Uuid,
    req: &NewAuditStream,
    meta: &RequestMeta,
) -> ServiceResult<CreatedAuditStream> {
    // Who may, before looking anything up for them.
    managed_org(state, principal, org_id, "create_audit_stream", meta).await?;
    if req.from_beginning && req.start_seq.is_some() {
        return Err(ServiceError::Validation { field: Some("start_seq"), message: "Give start_seq or from_beginning, not both.".into() });
    }
    let secret = match req.secret.as_deref() {
        Some(s) => given_secret(s)?,
        None => generate_secret(),
    };
    // The lookup may take seconds: outside the transaction.
    let url = receiver(state, &req.url).await?;
    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Lock, "create_audit_stream", meta).await?;
    if db.audit_stream_of_org(org.id).await?.is_some() {
        return Err(ServiceError::Conflict("This organization has an audit stream already: change it (PATCH) or delete it first.".into()));
    }
    let head = head_seq(&mut db, org.id).await?;
    let last_delivered_seq = match (req.from_beginning, req.start_seq) {
        (true, _) => 0,
        (false, Some(start)) => resume_point(start, head)?,
        (false, None) => head,
    };
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let sealed = state.secrets.seal(id, secret.as_bytes());
    let enabled = req.enabled.unwrap_or(true);
    let row = db
        .insert_audit_stream(&NewAuditStreamRow {
            id,
            organization_id: org.id,
            url: &url,
            secret_sealed: &sealed,
            enabled,
            created_by: Some(principal.user.id),
            last_delivered_seq,
            now,
        })
        .await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::CREATE_AUDIT_STREAM,
            target: Some(target(org.id)),
            details: json!({
                "url": url,
                "enabled": enabled,
                "start_seq": last_delivered_seq + 1,
                "secret": if req.secret.is_some() { "given" } else { "generated" },
            }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(CreatedAuditStream { stream: view(&row, head), secret })
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    org_id: Uuid,
    changes: &AuditStreamChanges,
    meta: &RequestMeta,
) -> ServiceResult<AuditStream> {
    managed_org(state, principal, org_id, "update_audit_stream", meta).await?;
    let url = match changes.url.as_deref() {
        Some(raw) => Some(receiver(state, raw).await?),
        None => None,
    };
    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Lock, "update_audit_stream", meta).await?;
    let before = db.audit_stream_of_org(org.id).await?.ok_or_else(no_stream)?;
    let head = head_seq(&mut db, org.id).await?;
    let last_delivered_seq = changes.start_seq.map(|s| resume_point(s, head)).transpose()?;
    let now = state.clock.now();
    let after = db
        .update_audit_stream(
            before.id,
            &AuditStreamUpdate { url: url.as_deref(), enabled: changes.enabled, last_delivered_seq, secret_sealed: None },
            now,
        )
        .await?;
    let mut details = serde_json::Map::new();
    if after.url != before.url {
        details.insert("url".into(), json!({ "before": before.url, "after": after.url }));
    }
    if after.enabled != before.enabled {
        details.insert("enabled".into(), json!({ "before": before.enabled, "after": after.enabled }));
    }
    if let Some(seq) = last_delivered_seq {
        // Recorded even when equal: the admin asked to go on from there.
        details.insert("start_seq".into(), json!({ "before": before.last_delivered_seq + 1, "after": seq + 1 }));
    }
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::UPDATE_AUDIT_STREAM,
            target: Some(target(org.id)),
            details: serde_json::Value::Object(details),
        },
    )
    .await?;
    db.commit().await?;
    // The event just recorded is part of the chain now.
    Ok(view(&after, head + 1))
}

pub async fn delete(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<()> {
    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Lock, "delete_audit_stream", meta).await?;
    let stream = db.audit_stream_of_org(org.id).await?.ok_or_else(no_stream)?;
    db.delete_audit_stream(stream.id).await?;
    let now = state.clock.now();
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::DELETE_AUDIT_STREAM,
            target: Some(target(org.id)),
            details: json!({ "url": stream.url, "last_delivered_seq": stream.last_delivered_seq }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}

/// A new generated secret, answered once; the old one stops signing at
/// once (a delivery already on its way was signed with it).
pub async fn rotate_secret(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<CreatedAuditStream> {
    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Lock, "rotate_audit_stream_secret", meta).await?;
    let stream = db.audit_stream_of_org(org.id).await?.ok_or_else(no_stream)?;
    let secret = generate_secret();
    let sealed = state.secrets.seal(stream.id, secret.as_bytes());
    let now = state.clock.now();
    let row =
        db.update_audit_stream(stream.id, &AuditStreamUpdate { secret_sealed: Some(&sealed), ..AuditStreamUpdate::default() }, now).await?;
    let head = head_seq(&mut db, org.id).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::UPDATE_AUDIT_STREAM,
            target: Some(target(org.id)),
            details: json!({ "secret": "rotated" }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(CreatedAuditStream { stream: view(&row, head + 1), secret })
}

/// Stream secrets moved onto `ring`'s current key (with the TOTP secrets,
/// `secret_keys::reseal_all`): each replaced only if it is still what was
/// read. Answers (re-sealed, unreadable).
pub async fn reseal_secrets(store: &Store, ring: &Keyring) -> ServiceResult<(u64, u64)> {
    const PAGE: i64 = 200;
    let (mut resealed, mut unreadable) = (0, 0);
    let mut after = None;
    loop {
        let page = store.conn().await?.audit_stream_secrets_after(after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = Some(*last);
        for (id, sealed) in &page {
            if ring.is_current(sealed) {
                continue;
            }
            match ring.open(*id, sealed) {
                Ok(secret) => {
                    let mut db = store.conn().await?;
                    resealed += u64::from(db.reseal_audit_stream_secret(*id, sealed, &ring.seal(*id, &secret)).await?);
                }
                Err(e) => {
                    tracing::warn!(stream = %id, error = %e, "an audit stream secret cannot be re-encrypted");
                    unreadable += 1;
                }
            }
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    Ok((resealed, unreadable))
}
