//! Why a single sign-on attempt came back to /login. The redirect carries a
//! fixed code, never text: a link to /login cannot put words of its own on
//! the sign-in page.

/// The refusal codes the callback puts in `/login?sso_error=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsoRefusal {
    Unavailable,
    NotConfigured,
    Expired,
    Denied,
    MfaRequired,
    AccountExists,
    OrgChanged,
    SeatLimit,
    Removed,
    Suspended,
    Disabled,
    /// Linking an identity needs a sign-in from the last minutes.
    ReauthRequired,
    Failed,
}

const ALL: [SsoRefusal; 13] = [
    SsoRefusal::Unavailable,
    SsoRefusal::NotConfigured,
    SsoRefusal::Expired,
    SsoRefusal::Denied,
    SsoRefusal::MfaRequired,
    SsoRefusal::AccountExists,
    SsoRefusal::OrgChanged,
    SsoRefusal::SeatLimit,
    SsoRefusal::Removed,
    SsoRefusal::Suspended,
    SsoRefusal::Disabled,
    SsoRefusal::ReauthRequired,
    SsoRefusal::Failed,
];

impl SsoRefusal {
    pub fn code(self) -> &'static str {
        match self {
            SsoRefusal::Unavailable => "unavailable",
            SsoRefusal::NotConfigured => "not_configured",
            SsoRefusal::Expired => "expired",
            SsoRefusal::Denied => "denied",
            SsoRefusal::MfaRequired => "mfa_required",
            SsoRefusal::AccountExists => "account_exists",
            SsoRefusal::OrgChanged => "org_changed",
            SsoRefusal::SeatLimit => "seat_limit",
            SsoRefusal::Removed => "removed",
            SsoRefusal::Suspended => "suspended",
            SsoRefusal::Disabled => "disabled",
            SsoRefusal::ReauthRequired => "reauth_required",
            SsoRefusal::Failed => "failed",
        }
    }

    /// Unknown codes read as a plain failure.
    pub fn from_code(code: &str) -> Self {
        ALL.into_iter().find(|r| r.code() == code).unwrap_or(SsoRefusal::Failed)
    }

    pub fn message(self) -> &'static str {
        match self {
            SsoRefusal::Unavailable => "The identity provider cannot be reached right now. Try again later, or sign in with your password.",
            SsoRefusal::NotConfigured => "Single sign-on is not configured for this console.",
            SsoRefusal::Expired => "This sign-in attempt is no longer valid. Start again with the single sign-on button.",
            SsoRefusal::Denied => "The identity provider did not sign you in.",
            SsoRefusal::MfaRequired => {
                "Your organization requires two-factor authentication. Sign in at the identity provider with a second \
                 factor (an authenticator app or a security key) and try again."
            }
            SsoRefusal::AccountExists => {
                "An account with this email already exists and cannot be linked to your single sign-on identity: the \
                 identity provider has not verified the address, or the account belongs to another organization. Sign \
                 in with your password, or ask an admin."
            }
            SsoRefusal::OrgChanged => {
                "The identity provider now places you in a different organization than your NeoSC account. Ask an \
                 admin to move your account."
            }
            SsoRefusal::SeatLimit => "Your organization has reached its seat limit. Ask one of its admins for a seat.",
            SsoRefusal::Removed => "This address was removed from its organization. Ask one of its admins for a new invitation.",
            SsoRefusal::Suspended => "Your organization is suspended.",
            SsoRefusal::Disabled => "This account is disabled. Contact your organization's admin.",
            SsoRefusal::ReauthRequired => {
                "For your security, linking an identity needs a sign-in from the last 5 minutes. Confirm your password \
                 (or sign in again) and link it then."
            }
            SsoRefusal::Failed => "Single sign-on failed: the identity provider's answer could not be verified.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_strangers_read_as_failed() {
        for r in ALL {
            assert_eq!(SsoRefusal::from_code(r.code()), r);
        }
        assert_eq!(SsoRefusal::from_code("Call +1 555 and give us your password"), SsoRefusal::Failed);
    }
}
