//! What the pages ask of a status. Statuses are strings today and become
//! enums (`OrgStatus`, `UserStatus`); only these functions change then.

use crate::model::{Member, OrganizationDetail};

pub fn org_suspended(org: &OrganizationDetail) -> bool {
    org.status == "suspended"
}

pub fn member_disabled(member: &Member) -> bool {
    member.status == "disabled"
}
