//! An organization's domains: claims to prove, and proven ones. Only a
//! verified domain places people in an organization (issue 10, section 2).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The label under which the proof is published: `_neosc-challenge.<domain>`.
pub const CHALLENGE_LABEL: &str = "_neosc-challenge";
/// What the TXT record's value starts with: `neosc-verify=<token>`.
pub const CHALLENGE_PREFIX: &str = "neosc-verify=";

/// Whether the organization proved it controls the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum DomainStatus {
    /// A claim: it places nobody and blocks nobody.
    Unverified,
    /// Proven; no other organization can verify it while this one holds it.
    Verified,
}

/// How a domain was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum DomainMethod {
    /// NeoSC found the TXT record in DNS.
    DnsTxt,
    /// The identity provider verified it (with `NEOSC_OIDC_TRUST_IDP_DOMAINS=1`).
    Idp,
    /// An operator vouched for it with `neosc org verify-domain`.
    Operator,
}

impl DomainMethod {
    pub fn label(self) -> &'static str {
        match self {
            DomainMethod::DnsTxt => "DNS TXT record",
            DomainMethod::Idp => "identity provider",
            DomainMethod::Operator => "operator",
        }
    }
}

/// A domain of an organization, with the record that proves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrganizationDomain {
    /// Lower case, without a trailing dot.
    pub domain: String,
    pub status: DomainStatus,
    /// How it was verified; none while unverified.
    pub method: Option<DomainMethod>,
    /// The name of the TXT record to publish: `_neosc-challenge.<domain>`.
    pub txt_name: String,
    /// Its value: `neosc-verify=<token>`.
    pub txt_value: String,
    pub verified_at: Option<DateTime<Utc>>,
    /// When DNS was last asked, and what was wrong then (none: it matched).
    pub checked_at: Option<DateTime<Utc>>,
    pub check_error: Option<String>,
    /// The organization's primary domain (shown with its name).
    pub primary: bool,
    pub created_at: DateTime<Utc>,
}

impl OrganizationDomain {
    pub fn txt_name_of(domain: &str) -> String {
        format!("{CHALLENGE_LABEL}.{domain}")
    }

    pub fn txt_value_of(token: &str) -> String {
        format!("{CHALLENGE_PREFIX}{token}")
    }
}
