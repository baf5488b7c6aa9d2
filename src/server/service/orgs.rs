//! Organizations: who sees which, and how new ones are made.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::audit::Target;
use super::Principal;
use crate::model::{OrgId, OrgName, Organization, Role};
use crate::server::db::{Db, NewOrganization, OrgRecord};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// The most organizations one list call returns (the seed's `to_list(100)`).
pub const MAX_PAGE: i64 = 100;

pub fn org_view(r: &OrgRecord) -> Organization {
    Organization {
        id: OrgId(r.id),
        name: r.name.clone(),
        domain: r.domain.clone(),
        users_count: r.users_count,
        workspaces_count: r.workspaces_count,
        created_at: r.created_at,
    }
}

pub(crate) fn org_target(org: &OrgRecord) -> Target<'static> {
    Target { kind: "organization", id: OrgId(org.id).to_string() }
}

/// The organizations the caller may see: every one for a platform admin,
/// otherwise only their own. The tenant comes from the session alone.
pub async fn list_visible(state: &AppState, principal: &Principal, limit: i64, offset: i64) -> ServiceResult<Vec<Organization>> {
    let mut db = state.store.read().await?;
    let rows = match principal.role {
        Role::PlatformAdmin => db.list_orgs(limit.clamp(1, MAX_PAGE), offset.max(0)).await?,
        Role::OrgAdmin | Role::User => db.org_by_id(principal.org_id()).await?.into_iter().collect(),
    };
    Ok(rows.iter().map(org_view).collect())
}

/// Creates an organization with a unique slug derived from its name.
/// Callers record the `create_organization` event with their context.
pub(crate) async fn create_org(db: &mut Db, name: &OrgName, domain: &str, is_default: bool, now: DateTime<Utc>) -> ServiceResult<OrgRecord> {
    let base = name.slug();
    let taken = db.slugs_like(&base).await?;
    let slug = (1..)
        .map(|n| if n == 1 { base.clone() } else { format!("{base}-{n}") })
        .find(|s| !taken.contains(s))
        .expect("an unbounded range always has a free slug");
    db.insert_org(&NewOrganization { id: Uuid::now_v7(), name: name.as_str(), slug: &slug, domain, is_default, now })
        .await
        .map_err(|e| match e {
            e if e.is_unique_on("name") => ServiceError::Conflict(format!("An organization named “{name}” already exists.")),
            e if e.is_unique_on("domain") => {
                ServiceError::Conflict(format!("The domain {domain} already belongs to another organization."))
            }
            e => e.into(),
        })
}
