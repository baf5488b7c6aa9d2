//! What the `neosc admin …` command does for operators, who act with the
//! database's authority rather than a session's.

use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::auth::insert_member;
use super::bootstrap::ensure_default_org;
use crate::model::{Email, Role, UserId};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::token::random_token;
use crate::server::db::NewUser;
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

fn operator() -> RequestMeta {
    RequestMeta { ip: None, user_agent: Some("neosc admin (operator CLI)".into()), operator: true, ..Default::default() }
}

/// Creates an account with a one-time password (returned, to print once):
/// it signs in once and must then choose its own. Users join the
/// organization of their email's domain, else the default one; platform
/// admins join the default organization.
pub async fn create_account(state: &AppState, email: &str, name: &str, platform_admin: bool) -> ServiceResult<String> {
    let email = Email::parse(email)?;
    let default_org = ensure_default_org(state).await?;
    let password = random_token();
    let hash = state.hasher.hash(password.clone()).await?;
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    if db.user_by_email(email.as_str()).await?.is_some() {
        return Err(ServiceError::Conflict(format!("{email} already has an account; use `neosc admin reset-password`.")));
    }
    let (org, role) = match (platform_admin, db.org_by_verified_domain(email.domain()).await?) {
        (true, _) | (false, None) => (default_org, if platform_admin { Role::PlatformAdmin } else { Role::User }),
        (false, Some(org)) => (org, Role::User),
    };
    let id = Uuid::now_v7();
    insert_member(
        &mut db,
        &org,
        &NewUser {
            id,
            organization_id: org.id,
            email: email.as_str(),
            name: name.trim(),
            password_hash: Some(&hash),
            role,
            // `neosc admin create`: the operator vouches for the address.
            email_verified_at: Some(now),
            now,
        },
    )
    .await?;
    db.set_password_hash(id, &hash, true, now).await?;
    // Someone's unconfirmed registration of this address yields to the
    // account the operator made.
    let pending_deleted = db.delete_pending_for_email(email.as_str()).await?;
    audit::record(
        &mut db,
        now,
        &operator(),
        Event {
            org: Some(org.id),
            actor: None,
            action: action::ADD_USER_TO_ORG,
            target: Some(Target { kind: "user", id: UserId(id).to_string() }),
            details: json!({ "email": email.as_str(), "role": role, "source": "operator_cli", "email_verified": true, "pending_deleted": pending_deleted }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(password)
}

/// Replaces an account's password with a one-time one (returned, to print
/// once) and ends all its sessions.
pub async fn reset_password(state: &AppState, email: &str) -> ServiceResult<String> {
    let email = Email::parse(email)?;
    let password = random_token();
    let hash = state.hasher.hash(password.clone()).await?;
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    let user =
        db.user_by_email(email.as_str()).await?.ok_or_else(|| ServiceError::NotFound(format!("No account has the email {email}.")))?;
    db.set_password_hash(user.id, &hash, true, now).await?;
    let ended = db.delete_sessions_of_user(user.id, None).await?;
    let tokens_revoked = db.delete_api_tokens_of_user(user.id).await?;
    audit::record(
        &mut db,
        now,
        &operator(),
        Event {
            org: Some(user.organization_id),
            actor: None,
            action: action::RESET_PASSWORD,
            target: Some(Target { kind: "user", id: UserId(user.id).to_string() }),
            details: json!({ "source": "operator_cli", "sessions_ended": ended, "api_tokens_revoked": tokens_revoked }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(password)
}

/// `neosc org verify-domain`: the operator vouches that the organization
/// (id, slug or name) controls `domain`. Adds the domain when missing;
/// refused when another organization holds it verified.
pub async fn verify_domain(state: &AppState, org: &str, domain: &str) -> ServiceResult<(String, crate::model::OrganizationDomain)> {
    let domain = super::domains::claimable_domain(&state.config.domains, domain, "domain")?;
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    let id = crate::model::OrgId::parse(org.trim()).map(|o| o.0);
    let record = match id {
        Some(id) => db.org_by_id_for_update(id).await?,
        None => match db.org_by_slug(org.trim()).await? {
            Some(o) => Some(o),
            None => db.org_by_name(org.trim()).await?,
        },
    };
    let record = record.ok_or_else(|| ServiceError::NotFound(format!("No organization has the id, slug or name {org:?}.")))?;
    let claim =
        super::org_domains::claim(&mut db, record.id, &domain, now).await?.ok_or_else(|| ServiceError::bug("claimable domain refused"))?;
    if claim.status != crate::model::DomainStatus::Verified {
        super::org_domains::mark_verified(&mut db, &record, &claim, crate::model::DomainMethod::Operator, None, now, &operator()).await?;
    }
    let row = db.org_domain(record.id, &domain).await?.ok_or_else(|| ServiceError::bug("the verified domain's row is missing"))?;
    db.commit().await?;
    Ok((record.name.clone(), super::org_domains::view(&row, &record)))
}

/// `neosc admin rotate-secret-key`: every TOTP secret moves to `new_key`
/// (generated when None) while `readable` keys still open the old ones;
/// records an installation-level event.
pub async fn rotate_secret_key(
    state: &AppState,
    new_key: Option<[u8; crate::server::auth::secret_box::KEY_BYTES]>,
    readable: &[[u8; crate::server::auth::secret_box::KEY_BYTES]],
) -> ServiceResult<(super::secret_keys::Rotation, [u8; crate::server::auth::secret_box::KEY_BYTES])> {
    super::secret_keys::rotate(state, new_key, readable).await
}

/// Creates an organization from the command line (`neosc org create`).
pub async fn create_organization(
    state: &AppState,
    name: &str,
    domain: &str,
    seat_limit: Option<i64>,
    require_mfa: bool,
) -> ServiceResult<crate::model::OrganizationDetail> {
    let changes = super::orgs::OrgChanges { require_mfa: Some(require_mfa), seat_limit: Some(seat_limit), ..Default::default() };
    super::orgs::create_as(state, None, "operator_cli", name, domain, changes, &operator()).await
}

/// One chain `neosc audit verify` checked: the organization's public id,
/// or None for the installation's chain.
#[derive(Debug, serde::Serialize)]
pub struct CheckedChain {
    pub organization_id: Option<String>,
    pub organization: Option<String>,
    #[serde(flatten)]
    pub report: super::audit::ChainReport,
}

/// `neosc audit verify [--org ID]`: the organization's chain (id, slug or
/// name), or without one every organization's and the installation's.
pub async fn verify_audit(state: &AppState, org: Option<&str>) -> ServiceResult<Vec<CheckedChain>> {
    let mut db = state.store.conn().await?;
    let orgs = match org {
        Some(org) => {
            let record = match crate::model::OrgId::parse(org.trim()) {
                Some(id) => db.org_by_id(id.0).await?,
                None => match db.org_by_slug(org.trim()).await? {
                    Some(o) => Some(o),
                    None => db.org_by_name(org.trim()).await?,
                },
            };
            vec![record.ok_or_else(|| ServiceError::NotFound(format!("No organization has the id, slug or name {org:?}.")))?]
        }
        None => {
            let mut all = Vec::new();
            for id in db.audit_chain_orgs().await? {
                all.extend(db.org_by_id(id).await?);
            }
            all
        }
    };
    drop(db);
    let mut checked = Vec::new();
    if org.is_none() {
        let report = super::audit::verify_chain(&state.store, None).await?;
        checked.push(CheckedChain { organization_id: None, organization: None, report });
    }
    for o in orgs {
        let report = super::audit::verify_chain(&state.store, Some(o.id)).await?;
        checked.push(CheckedChain { organization_id: Some(crate::model::OrgId(o.id).to_string()), organization: Some(o.name), report });
    }
    Ok(checked)
}
