use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::OrgId;

/// An organization as the API and the pages show it: exactly the seed's
/// shape. The counts are maintained by the database in the same transaction
/// as every change to users or workspaces, so they are always the real
/// number of rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Organization {
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "org-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub id: OrgId,
    pub name: String,
    pub domain: String,
    pub users_count: i64,
    pub workspaces_count: i64,
    /// RFC 3339, UTC.
    pub created_at: DateTime<Utc>,
}
