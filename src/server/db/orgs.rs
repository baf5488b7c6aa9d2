use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};
use crate::model::OrgStatus;

/// An organizations row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRecord {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub domain: String,
    pub status: OrgStatus,
    pub seat_limit: Option<i64>,
    pub require_mfa: bool,
    /// Running workspaces stop this many hours after they start; None: never.
    pub autostop_after_hours: Option<i64>,
    /// Members may create their own workspaces (within their quota).
    pub self_service_workspaces: bool,
    /// Registrants at a verified domain join without an invitation.
    pub auto_join: bool,
    /// Audit events older than this many days are purged; None: kept.
    pub audit_retention_days: Option<i64>,
    pub external_id: Option<String>,
    pub is_default: bool,
    pub users_count: i64,
    pub workspaces_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewOrganization<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub slug: &'a str,
    pub domain: &'a str,
    pub is_default: bool,
    pub now: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, name, slug, domain, status, seat_limit, require_mfa, autostop_after_hours, self_service_workspaces, auto_join, audit_retention_days, external_id, is_default, \
                       users_count, workspaces_count, created_at, updated_at";

impl Db {
    pub async fn insert_org(&mut self, new: &NewOrganization<'_>) -> DbResult<OrgRecord> {
        let sql = format!(
            "INSERT INTO organizations (id, name, slug, domain, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {COLUMNS}"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql)
            .bind(new.id)
            .bind(new.name)
            .bind(new.slug)
            .bind(new.domain)
            .bind(new.is_default)
            .bind(new.now)
            .fetch_one(c)
            .await)?)
    }

    pub async fn org_by_id(&mut self, id: Uuid) -> DbResult<Option<OrgRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE id = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql).bind(id).fetch_optional(c).await)?)
    }

    /// The organization, row locked until the transaction ends, for a
    /// change decided on what it holds.
    pub async fn org_by_id_for_update(&mut self, id: Uuid) -> DbResult<Option<OrgRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE id = $1{}", self.for_update_of("organizations"));
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql).bind(id).fetch_optional(c).await)?)
    }

    /// The organization of a user, row locked: what a transaction locks
    /// before the user's own row when it decides about a member.
    pub async fn org_of_user_for_update(&mut self, user_id: Uuid) -> DbResult<Option<OrgRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM organizations WHERE id = (SELECT organization_id FROM users WHERE id = $1){}",
            self.for_update_of("organizations")
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql).bind(user_id).fetch_optional(c).await)?)
    }

    /// The organization an identity provider knows by `external_id`.
    pub async fn org_by_external_id(&mut self, external_id: &str) -> DbResult<Option<OrgRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE external_id = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql).bind(external_id).fetch_optional(c).await)?)
    }

    pub async fn set_org_external_id(&mut self, org_id: Uuid, external_id: &str) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE organizations SET external_id = $2 WHERE id = $1")
            .bind(org_id)
            .bind(external_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn org_by_slug(&mut self, slug: &str) -> DbResult<Option<OrgRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE slug = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql).bind(slug).fetch_optional(c).await)?)
    }

    /// Names are unique regardless of case.
    pub async fn org_by_name(&mut self, name: &str) -> DbResult<Option<OrgRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE lower(name) = lower($1)");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql).bind(name).fetch_optional(c).await)?)
    }

    /// The organization holding `domain` verified: the only one a domain
    /// places people in (`organizations.domain` is only a label).
    pub async fn org_by_verified_domain(&mut self, domain: &str) -> DbResult<Option<OrgRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM organizations WHERE id = \
             (SELECT organization_id FROM organization_domains WHERE domain = lower($1) AND status = 'verified')"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql).bind(domain).fetch_optional(c).await)?)
    }

    pub async fn default_org(&mut self) -> DbResult<Option<OrgRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE is_default = $1");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql).bind(true).fetch_optional(c).await)?)
    }

    /// One page of organizations, oldest first, optionally only those whose
    /// name or domain contains `search`. The counts are columns of the row,
    /// so this reads `limit` rows however many users there are.
    ///
    /// Without a search the `offset` rows before the page are skipped in the
    /// `(created_at, id)` index alone (the subquery finds the page's first
    /// key) and only the page's rows are read from the table. `OFFSET` on
    /// the full rows would read every skipped row too, one table page each
    /// once the count triggers' updates have scattered the rows. A search
    /// (`%text%`) has to look at every row anyway.
    pub async fn list_orgs(&mut self, search: Option<&str>, limit: i64, offset: i64) -> DbResult<Vec<OrgRecord>> {
        let Some(search) = search else {
            let sql = format!(
                "SELECT {COLUMNS} FROM organizations \
                 WHERE (created_at, id) >= (SELECT created_at, id FROM organizations ORDER BY created_at, id LIMIT 1 OFFSET $2) \
                 ORDER BY created_at, id LIMIT $1"
            );
            return Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql).bind(limit).bind(offset).fetch_all(c).await)?);
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM organizations \
             WHERE lower(name) LIKE $1 ESCAPE '\\' OR lower(domain) LIKE $1 ESCAPE '\\' \
             ORDER BY created_at, id LIMIT $2 OFFSET $3"
        );
        let pattern = like_pattern(search);
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OrgRecord>(&sql).bind(&pattern).bind(limit).bind(offset).fetch_all(c).await)?)
    }

    /// How many organizations there are, or match `search`.
    pub async fn count_orgs_matching(&mut self, search: Option<&str>) -> DbResult<i64> {
        let Some(search) = search else { return self.count_orgs().await };
        let pattern = like_pattern(search);
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM organizations WHERE lower(name) LIKE $1 ESCAPE '\\' OR lower(domain) LIKE $1 ESCAPE '\\'"
        )
        .bind(&pattern)
        .fetch_one(c)
        .await)?)
    }

    /// Writes an organization's editable fields as the service decided them.
    pub async fn update_org(&mut self, org: &OrgRecord, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE organizations SET name = $2, domain = $3, require_mfa = $4, seat_limit = $5, status = $6, updated_at = $7, \
             autostop_after_hours = $8, self_service_workspaces = $9, auto_join = $10, audit_retention_days = $11 WHERE id = $1"
        )
        .bind(org.id)
        .bind(&org.name)
        .bind(&org.domain)
        .bind(org.require_mfa)
        .bind(org.seat_limit)
        .bind(org.status)
        .bind(now)
        .bind(org.autostop_after_hours)
        .bind(org.self_service_workspaces)
        .bind(org.auto_join)
        .bind(org.audit_retention_days)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Slugs already taken that equal `base` or extend it with `-<suffix>`,
    /// so the caller can pick the first free one.
    pub async fn slugs_like(&mut self, base: &str) -> DbResult<Vec<String>> {
        let pattern = format!("{}-%", base.replace(['%', '_'], ""));
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, String>("SELECT slug FROM organizations WHERE slug = $1 OR slug LIKE $2")
            .bind(base)
            .bind(&pattern)
            .fetch_all(c)
            .await)?)
    }

    pub async fn count_orgs(&mut self) -> DbResult<i64> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM organizations").fetch_one(c).await)?)
    }
}

impl Db {
    pub async fn set_org_require_mfa(&mut self, id: Uuid, require: bool, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE organizations SET require_mfa = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(require)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// `%text%` for a case-insensitive `LIKE … ESCAPE '\'`, with `%`, `_` and
/// `\` in the text itself escaped so they match only themselves.
pub(crate) fn like_pattern(search: &str) -> String {
    let mut escaped = String::new();
    for c in search.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    format!("%{escaped}%")
}
