//! What the pages ask of a status, in one place: a new status (or a
//! renamed one) is an edit here, not in every view.

use crate::model::{Member, OrgStatus, OrganizationDetail, UserStatus};

pub fn org_suspended(org: &OrganizationDetail) -> bool {
    org.status == OrgStatus::Suspended
}

pub fn member_disabled(member: &Member) -> bool {
    member.status == UserStatus::Disabled
}
