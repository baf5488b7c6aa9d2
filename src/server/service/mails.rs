//! What each mail says, in plain text and HTML. No images, no remote
//! content, no tracking: the only link is the one the mail is about.

use crate::server::mailer::Mail;

const PRODUCT: &str = "NeoSC";

/// The link that confirms a registration.
pub fn verify_registration(to: &str, name: &str, link: &str, valid_hours: i64) -> Mail {
    let subject = format!("Confirm your email address for {PRODUCT}");
    let text = format!(
        "Hello {name},\n\n\
         someone (we hope you) created a {PRODUCT} account with this address. To confirm the address and finish \
         creating the account, open this link within {valid_hours} hours:\n\n{link}\n\n\
         Until then the account does not exist and belongs to no organization.\n\
         If this was not you, ignore this mail: the registration is deleted after {valid_hours} hours.\n\n\
         -- {PRODUCT}\n"
    );
    let html = page(
        &subject,
        &format!(
            "<p>Hello {name},</p>\
             <p>someone (we hope you) created a {PRODUCT} account with this address. To confirm the address and finish \
             creating the account, open this link within {valid_hours} hours:</p>\
             <p><a href=\"{link}\">Confirm my email address</a></p>\
             <p style=\"word-break:break-all\">{link}</p>\
             <p>Until then the account does not exist and belongs to no organization. If this was not you, ignore this \
             mail: the registration is deleted after {valid_hours} hours.</p>",
            name = escape(name),
            link = escape(link),
        ),
    );
    Mail { to: to.to_owned(), subject, text, html }
}

/// A link that confirms the address of an existing account.
pub fn confirm_address(to: &str, name: &str, link: &str, valid_hours: i64) -> Mail {
    let subject = format!("Confirm the email address of your {PRODUCT} account");
    let text = format!(
        "Hello {name},\n\n\
         to confirm that this address belongs to your {PRODUCT} account, sign in to it and open this link within \
         {valid_hours} hours:\n\n{link}\n\n\
         The link works only for the account it was made for. If you have no {PRODUCT} account, or did not ask for \
         this, ignore this mail: someone may have used an invitation meant for you, and without this link their \
         account never counts as yours.\n\n\
         -- {PRODUCT}\n"
    );
    let html = page(
        &subject,
        &format!(
            "<p>Hello {name},</p>\
             <p>to confirm that this address belongs to your {PRODUCT} account, sign in to it and open this link within \
             {valid_hours} hours:</p>\
             <p><a href=\"{link}\">Confirm my email address</a></p>\
             <p style=\"word-break:break-all\">{link}</p>\
             <p>The link works only for the account it was made for. If you have no {PRODUCT} account, or did not ask \
             for this, ignore this mail: someone may have used an invitation meant for you, and without this link \
             their account never counts as yours.</p>",
            name = escape(name),
            link = escape(link),
        ),
    );
    Mail { to: to.to_owned(), subject, text, html }
}

/// An invitation to join an organization.
pub fn invitation(to: &str, organization: &str, link: &str, valid_days: i64) -> Mail {
    let subject = format!("You are invited to “{organization}” on {PRODUCT}");
    let text = format!(
        "Hello,\n\n\
         an admin of “{organization}” invites you to its {PRODUCT} console. To create your account, open this link \
         within {valid_days} days:\n\n{link}\n\n\
         The link works once. If you did not expect this invitation, ignore this mail.\n\n\
         -- {PRODUCT}\n"
    );
    let html = page(
        &subject,
        &format!(
            "<p>Hello,</p>\
             <p>an admin of “{organization}” invites you to its {PRODUCT} console. To create your account, open this link \
             within {valid_days} days:</p>\
             <p><a href=\"{link}\">Accept the invitation</a></p>\
             <p style=\"word-break:break-all\">{link}</p>\
             <p>The link works once. If you did not expect this invitation, ignore this mail.</p>",
            organization = escape(organization),
            link = escape(link),
        ),
    );
    Mail { to: to.to_owned(), subject, text, html }
}

/// An existing account was linked to an identity provider's account.
pub fn identity_linked(to: &str, issuer: &str) -> Mail {
    let subject = format!("Your {PRODUCT} account is now linked to single sign-on");
    let text = format!(
        "Hello,\n\n\
         your {PRODUCT} account ({to}) was just signed in to through single sign-on ({issuer}) and is now linked to \
         that identity. Every other session and every API token of the account was ended.\n\n\
         If this was not you, tell your organization's admin at once.\n\n\
         -- {PRODUCT}\n"
    );
    let html = page(
        &subject,
        &format!(
            "<p>Hello,</p>\
             <p>your {PRODUCT} account ({to}) was just signed in to through single sign-on ({issuer}) and is now linked \
             to that identity. Every other session and every API token of the account was ended.</p>\
             <p>If this was not you, tell your organization's admin at once.</p>",
            to = escape(to),
            issuer = escape(issuer),
        ),
    );
    Mail { to: to.to_owned(), subject, text, html }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5;color:#111\">{body}<p>— {PRODUCT}</p></body></html>",
        title = escape(title)
    )
}

/// Text in HTML: names and organization names are chosen by whoever
/// registered or invited, so they are escaped like any input.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_html_and_the_link_is_in_both_forms() {
        let m = verify_registration("a@b.example", "<script>Eve</script>", "https://c.example/verify-email/abc", 24);
        assert!(m.html.contains("&lt;script&gt;Eve&lt;/script&gt;"));
        assert!(!m.html.contains("<script>"));
        assert!(m.text.contains("https://c.example/verify-email/abc"));
        assert!(m.html.contains("href=\"https://c.example/verify-email/abc\""));
        assert!(m.subject.contains("NeoSC"));
        assert!(!m.html.contains("<img"), "no tracking pixels");
    }
}
