//! An organization's domains: claim one, prove it with a DNS TXT record,
//! remove it. Only a verified domain places people (see `auth::place`), and
//! a domain is verified by one organization at most (the partial unique
//! index `organization_domains_verified_key`), so a squatter's claim blocks
//! nobody and the company that controls the DNS always wins.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::domains::claimable_domain;
use super::orgs::{begin_managed_org, managed_org, OrgHold};
use super::Principal;
use crate::model::{DomainMethod, DomainStatus, OrganizationDomain};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::token::random_token;
use crate::server::db::{Constraint, Db, DomainRecord, OrgRecord};
use crate::server::dns::{self, TxtLookup};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

pub fn view(r: &DomainRecord, org: &OrgRecord) -> OrganizationDomain {
    OrganizationDomain {
        txt_name: OrganizationDomain::txt_name_of(&r.domain),
        txt_value: OrganizationDomain::txt_value_of(&r.token),
        primary: r.domain.eq_ignore_ascii_case(&org.domain),
        domain: r.domain.clone(),
        status: r.status,
        method: r.method,
        verified_at: r.verified_at,
        checked_at: r.checked_at,
        check_error: r.check_error.clone(),
        created_at: r.created_at,
    }
}

fn target(org: Uuid, domain: &str) -> Target<'static> {
    Target { kind: "organization_domain", id: format!("{}/{domain}", crate::model::OrgId(org)) }
}

fn not_listed(domain: &str) -> ServiceError {
    ServiceError::NotFound(format!("{domain} is not one of this organization's domains."))
}

fn taken(domain: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "{domain} is already verified by another organization. A domain can be verified by one organization only; if it is \
         yours, ask the platform admins."
    ))
}

/// A domain as typed in a path: lower case, no trailing dot.
fn normalize(raw: &str) -> String {
    raw.trim().trim_end_matches('.').to_ascii_lowercase()
}

pub async fn list(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<Vec<OrganizationDomain>> {
    let org = managed_org(state, principal, org_id, "list_domains", meta).await?;
    let rows = state.store.conn().await?.org_domains(org.id).await?;
    Ok(rows.iter().map(|r| view(r, &org)).collect())
}

/// Adds an unverified claim with a fresh token to publish.
pub async fn add(
    state: &AppState,
    principal: &Principal,
    org_id: Uuid,
    raw: &str,
    meta: &RequestMeta,
) -> ServiceResult<OrganizationDomain> {
    let domain = claimable_domain(&state.config.domains, raw, "domain")?;
    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Read, "add_domain", meta).await?;
    let now = state.clock.now();
    let row = db.insert_org_domain(org.id, &domain, &random_token(), now).await.map_err(|e| match e.constraint() {
        Some(Constraint::DomainClaim) => ServiceError::Conflict(format!("{domain} is already one of this organization's domains.")),
        _ => e.into(),
    })?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::ADD_DOMAIN,
            target: Some(target(org.id, &domain)),
            details: json!({ "domain": domain }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(view(&row, &org))
}

/// Looks the TXT record up and, when it holds the token, marks the domain
/// verified. The lookup runs outside any transaction (it may take seconds);
/// the change is decided again inside one, on the rows as they are then.
/// A failed check is kept on the row and answered 422 with what DNS said.
pub async fn verify(
    state: &AppState,
    principal: &Principal,
    org_id: Uuid,
    raw: &str,
    meta: &RequestMeta,
) -> ServiceResult<OrganizationDomain> {
    let domain = normalize(raw);
    let org = managed_org(state, principal, org_id, "verify_domain", meta).await?;
    // Claims from before a rule changed (or a reserved name in an
    // installation that stopped allowing them) are never proven.
    super::domains::ensure_placeable(&state.config.domains, &domain, "domain")?;
    let claim = state.store.conn().await?.org_domain(org.id, &domain).await?.ok_or_else(|| not_listed(&domain))?;
    if claim.status == DomainStatus::Verified {
        return Ok(view(&claim, &org));
    }
    let name = OrganizationDomain::txt_name_of(&domain);
    let expected = OrganizationDomain::txt_value_of(&claim.token);
    let found = dns::lookup_txt(&state.config.domains, &name).await;
    let failure = check_failure(&found, &name, &expected, state.config.domains.dns_timeout);

    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Read, "verify_domain", meta).await?;
    let current = db.org_domain(org.id, &domain).await?.ok_or_else(|| not_listed(&domain))?;
    if current.token != claim.token {
        return Err(ServiceError::Conflict(format!("{domain} was removed and added again meanwhile; publish its new record.")));
    }
    if current.status == DomainStatus::Verified {
        return Ok(view(&current, &org));
    }
    let now = state.clock.now();
    if let Some(message) = failure {
        db.record_domain_check(org.id, &domain, &message, now).await?;
        audit::record(
            &mut db,
            now,
            meta,
            Event {
                org: Some(org.id),
                actor: Some(principal.user.id),
                action: action::VERIFY_DOMAIN_FAILED,
                target: Some(target(org.id, &domain)),
                details: json!({ "domain": domain, "txt_name": name, "found": found_detail(&found) }),
            },
        )
        .await?;
        db.commit().await?;
        return Err(ServiceError::Unprocessable(message));
    }
    mark_verified(&mut db, &org, &current, DomainMethod::DnsTxt, Some(principal.user.id), now, meta).await?;
    let row = db.org_domain(org.id, &domain).await?.ok_or_else(|| ServiceError::bug("a verified domain's row is missing"))?;
    db.commit().await?;
    Ok(view(&row, &org))
}

/// Marks a claim verified, refusing when another organization holds the
/// domain verified, and records the event. In the caller's transaction.
pub(crate) async fn mark_verified(
    db: &mut Db,
    org: &OrgRecord,
    claim: &DomainRecord,
    method: DomainMethod,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
    meta: &RequestMeta,
) -> ServiceResult<()> {
    // Asked first so PostgreSQL's transaction is not aborted by the unique
    // index in the common case; the index still decides a race.
    if db.verified_domain_owner(&claim.domain).await?.is_some_and(|owner| owner != org.id) {
        return Err(taken(&claim.domain));
    }
    let changed = db.verify_org_domain(org.id, &claim.domain, &claim.token, method, now).await.map_err(|e| match e.constraint() {
        Some(Constraint::VerifiedDomain) => taken(&claim.domain),
        _ => e.into(),
    })?;
    if changed == 0 {
        return Err(not_listed(&claim.domain));
    }
    audit::record(
        db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor,
            action: action::VERIFY_DOMAIN,
            target: Some(target(org.id, &claim.domain)),
            details: json!({ "domain": claim.domain, "method": method }),
        },
    )
    .await
}

/// Removes a domain. The primary domain stays until another verified one
/// becomes primary; removing a verified domain ends its auto-join at once.
pub async fn remove(state: &AppState, principal: &Principal, org_id: Uuid, raw: &str, meta: &RequestMeta) -> ServiceResult<()> {
    let domain = normalize(raw);
    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Lock, "remove_domain", meta).await?;
    let row = db.org_domain(org.id, &domain).await?.ok_or_else(|| not_listed(&domain))?;
    if org.domain.eq_ignore_ascii_case(&domain) {
        return Err(ServiceError::Conflict(format!(
            "{domain} is the organization's primary domain. Make another verified domain primary (Settings) before removing it."
        )));
    }
    db.delete_org_domain(org.id, &domain).await?;
    let now = state.clock.now();
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::REMOVE_DOMAIN,
            target: Some(target(org.id, &domain)),
            details: json!({ "domain": domain, "was": row.status, "method": row.method }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}

/// Adds `domain` as a claim of a new or existing organization, unless it is
/// an SSO placeholder (never claimable). In the caller's transaction.
pub(crate) async fn claim(db: &mut Db, org_id: Uuid, domain: &str, now: DateTime<Utc>) -> ServiceResult<Option<DomainRecord>> {
    if super::domains::is_placeholder(domain) {
        return Ok(None);
    }
    let domain = normalize(domain);
    if let Some(existing) = db.org_domain(org_id, &domain).await? {
        return Ok(Some(existing));
    }
    Ok(Some(db.insert_org_domain(org_id, &domain, &random_token(), now).await?))
}

/// What is wrong with the lookup's answer, in words for the admin who
/// published the record; None when the expected value is there.
fn check_failure(found: &TxtLookup, name: &str, expected: &str, timeout: std::time::Duration) -> Option<String> {
    match found {
        TxtLookup::Found(values) if values.iter().any(|v| v.trim() == expected) => None,
        TxtLookup::Found(values) => Some(format!(
            "The TXT record at {name} has the wrong value: found {}, expected \"{expected}\". Replace it and verify again.",
            values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")
        )),
        TxtLookup::NoRecord => Some(format!(
            "{name} exists but has no TXT record. Publish TXT \"{expected}\" there, wait for DNS to update, and verify again."
        )),
        TxtLookup::NxDomain => Some(format!(
            "{name} does not exist in DNS (NXDOMAIN). Publish TXT \"{expected}\" there, wait for DNS to update, and verify again."
        )),
        TxtLookup::Timeout => Some(format!(
            "DNS did not answer within {} s when asked for {name} (timeout). Try again in a minute; if it persists, the domain's \
             nameservers may be unreachable.",
            timeout.as_secs_f32()
        )),
        TxtLookup::Failed(why) => Some(format!("The DNS lookup of {name} failed: {why}. Try again in a minute.")),
    }
}

/// The lookup's outcome for the audit event.
fn found_detail(found: &TxtLookup) -> serde_json::Value {
    match found {
        TxtLookup::Found(values) => json!({ "txt": values }),
        TxtLookup::NoRecord => json!("no_record"),
        TxtLookup::NxDomain => json!("nxdomain"),
        TxtLookup::Timeout => json!("timeout"),
        TxtLookup::Failed(why) => json!({ "error": why }),
    }
}
