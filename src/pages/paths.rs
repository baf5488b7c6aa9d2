//! Every page's address, written once. Links and redirects in the views use
//! these; the router in `src/app.rs` declares the same paths with `path!`
//! (a macro that needs literals), and the test below keeps the two in step.

use std::fmt::Display;

pub const HOME: &str = "/";
pub const LOGIN: &str = "/login";
pub const LOGIN_MFA: &str = "/login/mfa";
pub const REGISTER: &str = "/register";
pub const ACCOUNT: &str = "/account";
pub const ACCOUNT_MFA: &str = "/account/mfa";
pub const ACCOUNT_PASSWORD: &str = "/account/password";
pub const ORGANIZATIONS: &str = "/organizations";
/// "Check your inbox": after registering, and for the password of an
/// account whose email link is unused.
pub const CHECK_INBOX: &str = "/verify-email";
pub const WORKSPACES: &str = "/workspaces";
/// The API reference, a server page (not a Leptos route): link to it with
/// `rel="external"` so the client-side router lets the browser load it.
pub const API_DOCS: &str = "/api/docs";

/// One organization's page.
pub fn organization(id: impl Display) -> String {
    format!("{ORGANIZATIONS}/{id}")
}

/// One workspace's page.
pub fn workspace(id: impl Display) -> String {
    format!("{WORKSPACES}/{id}")
}

/// An invitation's page (the link in the invitation).
pub fn invite(token: impl Display) -> String {
    format!("/invite/{token}")
}

/// The confirmation page a registration's mailed link opens.
pub fn verify_email(token: impl Display) -> String {
    format!("{CHECK_INBOX}/{token}")
}

/// "Check your inbox" for an address (shown on the page, and the resend
/// form's email).
pub fn check_inbox(email: &str) -> String {
    let encoded: String = email
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{CHECK_INBOX}?email={encoded}")
}

/// Pages drawn inside the console frame, which need the signed-in user.
pub fn is_console(path: &str) -> bool {
    let under = |section: &str| path == section || path.strip_prefix(section).is_some_and(|rest| rest.starts_with('/'));
    path == ACCOUNT || under(ORGANIZATIONS) || under(WORKSPACES)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The router's `path!(…)` literals must name the same addresses.
    #[test]
    fn every_path_is_routed() {
        let app = include_str!("../app.rs");
        let routed = [
            LOGIN.to_owned(),
            LOGIN_MFA.to_owned(),
            REGISTER.to_owned(),
            ACCOUNT.to_owned(),
            ACCOUNT_MFA.to_owned(),
            ACCOUNT_PASSWORD.to_owned(),
            ORGANIZATIONS.to_owned(),
            organization(":id"),
            WORKSPACES.to_owned(),
            workspace(":id"),
            invite(":token"),
            CHECK_INBOX.to_owned(),
            verify_email(":token"),
        ];
        for path in routed {
            assert!(app.contains(&format!("path!(\"{path}\")")), "{path} is not routed in src/app.rs");
        }
    }

    #[test]
    fn console_pages() {
        assert!(is_console("/organizations"));
        assert!(is_console("/organizations/org-1"));
        assert!(is_console("/account"));
        assert!(!is_console("/account/mfa"));
        assert!(!is_console("/login"));
        assert!(!is_console("/organizationsx"));
        assert!(is_console("/workspaces"));
        assert!(is_console("/workspaces/ws-1"));
        assert!(!is_console("/workspacesx"));
    }

    #[test]
    fn check_inbox_carries_the_address_encoded() {
        assert_eq!(check_inbox("ann+x@corp.example"), "/verify-email?email=ann%2Bx@corp.example");
    }
}
