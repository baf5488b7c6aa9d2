//! How a request carries its session: the browser in a cookie, API clients
//! in `Authorization: Bearer`. Also who is asking (IP, user agent) for the
//! session list and the audit trail.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::extract::ConnectInfo;
use axum::http::{header, Extensions, HeaderMap, HeaderValue};

use crate::server::config::Config;

/// The cookie's name. With https the `__Host-` prefix pins it to this host,
/// path `/` and `Secure`, so a sibling subdomain cannot plant one.
pub fn cookie_name(config: &Config) -> &'static str {
    if config.https() {
        "__Host-neosc_session"
    } else {
        "neosc_session"
    }
}

/// The cookie that binds an SSO sign-in in flight to this browser; it only
/// goes to the callback, so `__Secure-` (not `__Host-`, which needs Path=/).
pub fn flow_cookie_name(config: &Config) -> &'static str {
    if config.https() {
        "__Secure-neosc_oidc"
    } else {
        "neosc_oidc"
    }
}

/// Every cookie of ours: HttpOnly, SameSite=Lax (so the session and the SSO
/// flow survive the identity provider's top-level redirect back), Secure
/// with https. `value` is base64url or empty.
fn cookie(config: &Config, name: &str, value: &str, path: &str, max_age_secs: u64) -> HeaderValue {
    let secure = if config.https() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"))
        .expect("cookie values are base64url")
}

/// `Set-Cookie` for a new session.
pub fn session_cookie(config: &Config, token: &str, max_age_secs: u64) -> HeaderValue {
    cookie(config, cookie_name(config), token, "/", max_age_secs)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(config: &Config) -> HeaderValue {
    cookie(config, cookie_name(config), "", "/", 0)
}

/// `Set-Cookie` for an SSO flow (`""` with 0 removes it).
pub fn flow_cookie(config: &Config, value: &str, max_age_secs: u64) -> HeaderValue {
    cookie(config, flow_cookie_name(config), value, "/auth/callback", max_age_secs)
}

/// The bearer token if there is one, else the session cookie.
pub fn token_from_headers(config: &Config, headers: &HeaderMap) -> Option<String> {
    if let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, rest) = auth.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned()).filter(|t| !t.is_empty());
    }
    cookie_value(headers, cookie_name(config))
}

/// The value of the cookie `name`, if the request has a non-empty one.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|t| !t.is_empty())
}

/// Who is asking, as far as the server can tell.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The `neosc` command line acting on the server (an operator), not a
    /// request nor the server's own background work. Audit events say so.
    pub operator: bool,
    /// How the caller was authenticated, once their credential is resolved.
    pub session: SessionKindSlot,
}

/// How the caller of a request was authenticated (`password`,
/// `password_mfa`, `sso`, `api_token`), for the audit trail. A REST
/// handler takes its `RequestMeta` and its caller in two extractors, in
/// either order; both share this slot through the request's extensions, so
/// the one that resolves the credential fills the slot the other holds.
#[derive(Debug, Clone, Default)]
pub struct SessionKindSlot(Arc<OnceLock<&'static str>>);

impl SessionKindSlot {
    /// The request's slot, made on first use.
    pub fn of(extensions: &mut Extensions) -> Self {
        if let Some(slot) = extensions.get::<SessionKindSlot>() {
            return slot.clone();
        }
        let slot = SessionKindSlot::default();
        extensions.insert(slot.clone());
        slot
    }

    /// Fills the slot; a request is authenticated once, so a second value
    /// (there is none) would be ignored.
    pub fn set(&self, kind: &'static str) {
        let _ = self.0.set(kind);
    }

    pub fn get(&self) -> Option<&'static str> {
        self.0.get().copied()
    }
}

impl RequestMeta {
    /// The one place a request's client is decided, so throttles, audit
    /// events and the sessions list all see the same address: the TCP peer,
    /// or behind a trusted proxy the client it forwarded for.
    pub fn from_parts(config: &Config, headers: &HeaderMap, connect: Option<&ConnectInfo<SocketAddr>>) -> Self {
        let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(512).collect());
        let ip = connect.map(|c| config.trusted_proxies.client_ip(c.0.ip(), headers).to_string());
        Self { ip, user_agent, operator: false, session: SessionKindSlot::default() }
    }

    /// How the actor of this request was authenticated: `operator` at the
    /// command line, else what the request's credential was (none for the
    /// system and for requests not signed in).
    pub fn session_kind(&self) -> Option<&'static str> {
        if self.operator {
            Some("operator")
        } else {
            self.session.get()
        }
    }

    /// What throttles count this client under: the IPv4 address, or the
    /// /64 of an IPv6 one. `None` without an address.
    pub fn ip_throttle_key(&self) -> Option<String> {
        let ip = self.ip.as_deref()?.parse().ok()?;
        Some(super::forwarded::throttle_key(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_lookup(|_| None).unwrap()
    }

    #[test]
    fn bearer_wins_over_cookie() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; neosc_session=fromcookie"));
        assert_eq!(token_from_headers(&config(), &h).as_deref(), Some("fromcookie"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer frombearer"));
        assert_eq!(token_from_headers(&config(), &h).as_deref(), Some("frombearer"));
    }

    #[test]
    fn other_schemes_and_empty_values_are_no_token() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(token_from_headers(&config(), &h), None);
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("neosc_session="));
        assert_eq!(token_from_headers(&config(), &h), None);
    }

    #[test]
    fn the_client_address_is_resolved_once_for_everyone() {
        let peer = ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000)));
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("2001:db8:1:2::5, 127.0.0.1"));
        let direct = RequestMeta::from_parts(&config(), &h, Some(&peer));
        assert_eq!(direct.ip.as_deref(), Some("127.0.0.1"), "no trusted proxies: the header is ignored");
        assert_eq!(direct.ip_throttle_key().as_deref(), Some("127.0.0.1"));
        let proxied = Config::from_lookup(|k| (k == "NEOSC_TRUSTED_PROXIES").then(|| "127.0.0.1/32".to_string())).unwrap();
        let meta = RequestMeta::from_parts(&proxied, &h, Some(&peer));
        assert_eq!(meta.ip.as_deref(), Some("2001:db8:1:2::5"));
        assert_eq!(meta.ip_throttle_key().as_deref(), Some("2001:db8:1:2::/64"));
        assert_eq!(RequestMeta::from_parts(&proxied, &h, None).ip, None, "no connection info, no address");
    }

    #[test]
    fn cookie_flags() {
        let plain = session_cookie(&config(), "t", 60);
        assert_eq!(plain.to_str().unwrap(), "neosc_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
        let https = Config::from_lookup(|k| (k == "NEOSC_PUBLIC_URL").then(|| "https://console.example".to_string())).unwrap();
        let secure = session_cookie(&https, "t", 60);
        assert!(secure.to_str().unwrap().starts_with("__Host-neosc_session=t;"));
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
    }
}
