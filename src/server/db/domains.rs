//! `organization_domains`: the domains an organization claims, and the
//! ones it proved. The partial unique index `organization_domains_verified_key`
//! keeps a domain verified by one organization at most, whatever races.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};
use crate::model::{DomainMethod, DomainStatus};

/// An organization_domains row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DomainRecord {
    pub organization_id: Uuid,
    pub domain: String,
    pub status: DomainStatus,
    pub method: Option<DomainMethod>,
    pub token: String,
    pub created_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub checked_at: Option<DateTime<Utc>>,
    pub check_error: Option<String>,
}

const COLUMNS: &str = "organization_id, domain, status, method, token, created_at, verified_at, checked_at, check_error";

impl Db {
    /// The organization's domains, alphabetically.
    pub async fn org_domains(&mut self, org_id: Uuid) -> DbResult<Vec<DomainRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM organization_domains WHERE organization_id = $1 ORDER BY domain");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, DomainRecord>(&sql).bind(org_id).fetch_all(c).await)?)
    }

    pub async fn org_domain(&mut self, org_id: Uuid, domain: &str) -> DbResult<Option<DomainRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM organization_domains WHERE organization_id = $1 AND domain = $2");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, DomainRecord>(&sql).bind(org_id).bind(domain).fetch_optional(c).await)?)
    }

    /// Adds an unverified claim. A second claim of the same domain by the
    /// same organization fails on the primary key (`Constraint::DomainClaim`).
    pub async fn insert_org_domain(&mut self, org_id: Uuid, domain: &str, token: &str, now: DateTime<Utc>) -> DbResult<DomainRecord> {
        let sql = format!(
            "INSERT INTO organization_domains (organization_id, domain, status, token, created_at) \
             VALUES ($1, $2, 'unverified', $3, $4) RETURNING {COLUMNS}"
        );
        Ok(on_conn!(self, |c| sqlx::query_as::<_, DomainRecord>(&sql).bind(org_id).bind(domain).bind(token).bind(now).fetch_one(c).await)?)
    }

    /// Marks the claim verified. Fails with `Constraint::VerifiedDomain`
    /// when another organization holds the domain verified. The token is
    /// compared so a proof of an older token (the claim was removed and
    /// added again meanwhile) verifies nothing: 0 rows.
    pub async fn verify_org_domain(
        &mut self,
        org_id: Uuid,
        domain: &str,
        token: &str,
        method: DomainMethod,
        now: DateTime<Utc>,
    ) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query(
            "UPDATE organization_domains SET status = 'verified', method = $4, verified_at = $5, checked_at = $5, check_error = NULL \
             WHERE organization_id = $1 AND domain = $2 AND token = $3"
        )
        .bind(org_id)
        .bind(domain)
        .bind(token)
        .bind(method)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Remembers what the last lookup found wrong (shown on the page).
    pub async fn record_domain_check(&mut self, org_id: Uuid, domain: &str, error: &str, now: DateTime<Utc>) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query(
            "UPDATE organization_domains SET checked_at = $3, check_error = $4 WHERE organization_id = $1 AND domain = $2"
        )
        .bind(org_id)
        .bind(domain)
        .bind(now)
        .bind(error)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    pub async fn delete_org_domain(&mut self, org_id: Uuid, domain: &str) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query("DELETE FROM organization_domains WHERE organization_id = $1 AND domain = $2")
            .bind(org_id)
            .bind(domain)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// The organization holding `domain` verified, if any.
    pub async fn verified_domain_owner(&mut self, domain: &str) -> DbResult<Option<Uuid>> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, Uuid>(
            "SELECT organization_id FROM organization_domains WHERE domain = $1 AND status = 'verified'"
        )
        .bind(domain)
        .fetch_optional(c)
        .await)?)
    }
}
