//! Configuration from the environment, read once at start-up. Every knob
//! has a safe default so `make run` needs none of them.

use std::time::Duration;

use crate::model::PasswordPolicy;

#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The URL people reach the console at; decides the cookie's `Secure`
    /// flag and `__Host-` prefix, and which `Origin` is same-site.
    pub public_url: Option<String>,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// Domain of the "Default Organization" created at first start.
    pub default_domain: String,
    /// Load the demo organizations of the product spec.
    pub demo: bool,
    /// Absolute lifetime of a session.
    pub session_ttl: Duration,
    /// A session unused this long has ended.
    pub session_idle: Duration,
    pub password_policy: PasswordPolicy,
    pub argon2: Argon2Params,
    /// How long a login may wait for a free hashing slot before it gets 503.
    pub hash_queue_timeout: Duration,
    /// `NEOSC_API_TOKEN_MAX_DAYS`: the longest lifetime a personal API token
    /// may be given (none lives for ever).
    pub api_token_max_days: i64,
    /// `NEOSC_SIGNUPS_PER_HOUR`: registrations and invitation acceptances
    /// one client address, and one email address, may attempt per hour
    /// (each may cost a hash).
    pub signups_per_hour: i64,
    /// Zitadel (OpenID Connect) single sign-on, when configured.
    pub oidc: Option<OidcConfig>,
    /// Where workspaces run.
    pub engine: EngineChoice,
    /// `NEOSC_DOCKER_HOST`: the Docker Engine API endpoint.
    pub docker_host: String,
    pub reconcile: crate::server::reconciler::Pace,
    /// Outgoing mail.
    pub mail: MailConfig,
    /// Which domains may place people, and how they are proven.
    pub domains: DomainConfig,
    /// `NEOSC_TRUSTED_PROXIES`: the reverse proxies whose `X-Forwarded-For`
    /// / `Forwarded` name the client. Empty: the TCP peer is the client.
    pub trusted_proxies: crate::server::auth::forwarded::TrustedProxies,
    /// `NEOSC_HEADER_READ_TIMEOUT_SECS`: a connection that has not sent a
    /// whole request head this long after it became ready for one (opened,
    /// or idle after a response) is closed; slow-header clients cannot hold
    /// connections open.
    pub header_read_timeout: Duration,
    /// `NEOSC_MAX_REQUESTS_PER_CONNECTION`: the response to this request on
    /// one connection says `Connection: close`.
    pub max_requests_per_connection: u64,
    /// The key TOTP secrets are encrypted with at rest.
    pub secrets: SecretKeyConfig,
    /// `NEOSC_SWEEP_INTERVAL_SECS`: pause between two passes of the sweeper
    /// that deletes expired sessions, flows, throttle rows and links.
    pub sweep_interval: Duration,
    /// What an organization may set as its audit retention.
    pub audit_retention: RetentionBounds,
    /// `NEOSC_AUDIT_SIGNING_KEY`: the seed of the key that signs audit
    /// checkpoints; None: `audit-signing.key` in the data directory
    /// (`secrets.data_dir`), made on first start.
    pub audit_signing_key: Option<crate::server::auth::audit_key::AuditSigningSeed>,
    /// `NEOSC_AUDIT_CHECKPOINT_INTERVAL_SECS`: pause between two passes of
    /// the task that signs today's checkpoint of every chain that moved.
    pub audit_checkpoint_interval: Duration,
    /// Streaming audit events to each organization's SIEM.
    pub audit_stream: AuditStreamConfig,
}

/// `NEOSC_AUDIT_RETENTION_MIN_DAYS` / `_MAX_DAYS`: the shortest and
/// longest audit retention an organization may choose (keeping events for
/// ever is always allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionBounds {
    pub min_days: i64,
    pub max_days: i64,
}

/// The audit stream worker (`audit_delivery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditStreamConfig {
    /// `NEOSC_AUDIT_STREAM_INTERVAL_MS`: pause between two passes looking
    /// for streams with events to send.
    pub interval: Duration,
    /// `NEOSC_AUDIT_STREAM_ALLOW_HTTP_LOOPBACK`: receivers on loopback
    /// (127.0.0.0/8, ::1, localhost) are accepted, over http too. Tests and
    /// development only: in production a stream goes to https on a public
    /// address.
    pub allow_http_loopback: bool,
}

/// Where the secret-encryption key comes from (see `auth::key_file`).
#[derive(Clone)]
pub struct SecretKeyConfig {
    /// `NEOSC_SECRET_KEY`; None: the key file in `data_dir`, made on
    /// first start.
    pub current: Option<[u8; crate::server::auth::secret_box::KEY_BYTES]>,
    /// `NEOSC_SECRET_KEY_PREVIOUS`: older keys, only to read values sealed
    /// before a rotation.
    pub previous: Vec<[u8; crate::server::auth::secret_box::KEY_BYTES]>,
    /// `NEOSC_DATA_DIR`: where the generated key file lives.
    pub data_dir: std::path::PathBuf,
}

/// Kept out of logs: the keys (their public ids only).
impl std::fmt::Debug for SecretKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::server::auth::secret_box::key_id;
        f.debug_struct("SecretKeyConfig")
            .field("current", &self.current.as_ref().map(key_id))
            .field("previous", &self.previous.iter().map(key_id).collect::<Vec<_>>())
            .field("data_dir", &self.data_dir)
            .finish()
    }
}

/// Domain verification (issue 10, section 2).
#[derive(Debug, Clone)]
pub struct DomainConfig {
    /// `NEOSC_ALLOW_RESERVED_DOMAINS`: registrations and domains under
    /// `.test`, `.example`, `.invalid` and `.localhost` are accepted (test
    /// suites). `*.sso.invalid` placeholders never are.
    pub allow_reserved: bool,
    /// `NEOSC_DNS_SERVER`: the nameserver TXT records are asked of; None:
    /// the system's (`/etc/resolv.conf`).
    pub dns_server: Option<std::net::SocketAddr>,
    /// `NEOSC_DNS_TIMEOUT_MS`: how long one lookup waits for an answer.
    pub dns_timeout: Duration,
    /// `NEOSC_OIDC_TRUST_IDP_DOMAINS`: an organization the identity provider
    /// creates gets its `primary_domain` verified (method `idp`), because
    /// the provider verified it (Zitadel does); else it is a claim.
    pub trust_idp: bool,
}

/// Where mail goes. Without `smtp` every mail is written to the log
/// instead (development only: nobody receives it).
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp: Option<SmtpConfig>,
    /// `NEOSC_MAIL_FROM`: the sender, `addr@host` or `Name <addr@host>`.
    pub from: String,
}

/// `NEOSC_SMTP_URL`, taken apart.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub security: SmtpSecurity,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Kept out of logs: the password.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("security", &self.security)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: no TLS at all; for a relay on loopback or a test sink.
    Plain,
    /// `smtp+starttls://`: STARTTLS required (default port 587).
    StartTls,
    /// `smtps://`: TLS from the first byte (default port 465).
    Tls,
}

/// `NEOSC_WORKSPACE_ENGINE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    /// Docker when its socket answers at start-up, else none.
    Auto,
    /// Docker, also when it does not answer yet (workspaces show `unknown`
    /// until it does).
    Docker,
    /// No engine: workspaces are allocated and stay `pending`.
    None,
}

pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// The OpenID Provider NeoSC signs people in with, and how its claims map.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `NEOSC_OIDC_ISSUER`: exactly the `issuer` of the provider's metadata.
    pub issuer: String,
    pub client_id: String,
    /// None: a public client that proves itself with PKCE only.
    pub client_secret: Option<String>,
    /// Requested scopes; `openid` is always sent.
    pub scopes: Vec<String>,
    /// `<public>/auth/callback`.
    pub redirect_url: String,
    /// Where the provider sends the browser after its logout: `<public>/login`.
    pub post_logout_url: String,
    /// Provider role key → NeoSC role, matched exactly. Unlisted keys give `user`.
    pub role_map: Vec<(String, crate::model::Role)>,
    /// Audiences besides our client id that an ID token may carry (Zitadel
    /// adds the project id).
    pub extra_audiences: Vec<String>,
    /// Accepted ID token signature algorithms (asymmetric only).
    pub signing_algs: Vec<String>,
    /// The name on the sign-in button.
    pub display_name: String,
    /// `NEOSC_OIDC_FALLBACK_ORG`: the organization for tokens that name
    /// none, when the requested scopes do not include the resource owner.
    /// Unset: such tokens are refused (`missing_org_claim`).
    pub fallback_org: Option<String>,
}

pub const DEFAULT_OIDC_SCOPES: &str = "openid profile email urn:zitadel:iam:user:resourceowner urn:zitadel:iam:org:project:roles";
pub const DEFAULT_OIDC_ROLE_MAP: &str = "admin=org_admin";
/// Signature algorithms an ID token may use. Symmetric ones (HS*) are never
/// accepted: the client secret is not a key the provider signs with here.
pub const ASYMMETRIC_ALGS: &[&str] = &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/// argon2id cost parameters (OWASP: m=19456 KiB, t=2, p=1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self { m_kib: 19_456, t: 2, p: 1 }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/neosc.db";
pub const DEFAULT_DOMAIN: &str = "neogenesys.com";
/// In demo mode the seed's "Neogenesys" organization owns neogenesys.com,
/// and a domain belongs to one organization only, so the default
/// organization takes this reserved name instead (unless one is set).
pub const DEMO_DEFAULT_DOMAIN: &str = "default.neosc.invalid";

/// Every variable the server reads, for `neosc help` and the README. A
/// test fails when `from_lookup` reads a name this table lacks.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    ("DATABASE_URL", DEFAULT_DATABASE_URL, "sqlite://path or postgres://user@host/db"),
    ("LEPTOS_SITE_ADDR", "127.0.0.1:3000", "address to listen on"),
    ("LEPTOS_SITE_ROOT", "target/site", "where the built site (pkg/, CSS, assets) is served from"),
    ("LEPTOS_HASH_FILES", "-", "true/false: the bundle's content-hashed names; unset: used when hash.txt is next to the binary"),
    ("NEOSC_PUBLIC_URL", "-", "the URL people use; https makes cookies Secure and is the only Origin accepted for changes"),
    ("NEOSC_ADMIN_EMAIL", "admin@<default domain>", "the first platform admin"),
    ("NEOSC_ADMIN_PASSWORD", "generated", "its password (printed once when generated)"),
    ("NEOSC_DEFAULT_DOMAIN", "neogenesys.com", "domain of the Default Organization (demo: default.neosc.invalid)"),
    ("NEOSC_DEMO", "0", "1 loads the demo organizations of the product spec"),
    ("NEOSC_SESSION_TTL_MINUTES", "720", "absolute session lifetime"),
    ("NEOSC_SESSION_IDLE_MINUTES", "30", "a session unused this long ends"),
    ("NEOSC_API_TOKEN_MAX_DAYS", "365", "longest lifetime of a personal API token (1-3650; the default lifetime is 90 days, capped by this)"),
    ("NEOSC_PASSWORD_MIN_LENGTH", "12", "minimum password length (8-128)"),
    ("NEOSC_ARGON2_M_KIB", "19456", "argon2id memory cost (KiB); older hashes are upgraded at sign-in"),
    ("NEOSC_ARGON2_T", "2", "argon2id iterations"),
    ("NEOSC_ARGON2_P", "1", "argon2id parallelism"),
    ("NEOSC_OIDC_ISSUER", "-", "Zitadel (OpenID Provider) issuer URL, exactly as its metadata says; turns SSO on"),
    ("NEOSC_OIDC_CLIENT_ID", "-", "required with the issuer"),
    ("NEOSC_OIDC_CLIENT_SECRET", "-", "confidential client secret; unset for a public client (PKCE only)"),
    ("NEOSC_OIDC_SCOPES", DEFAULT_OIDC_SCOPES, "requested scopes"),
    ("NEOSC_OIDC_ROLE_MAP", DEFAULT_OIDC_ROLE_MAP, "provider role key=NeoSC role, comma-separated"),
    ("NEOSC_OIDC_EXTRA_AUDIENCES", "-", "audiences an ID token may carry besides the client id"),
    ("NEOSC_OIDC_SIGNING_ALGS", "RS256", "accepted ID token algorithms (asymmetric only)"),
    ("NEOSC_WORKSPACE_ENGINE", "auto", "docker | none; auto: docker when NEOSC_DOCKER_HOST answers at start-up, else none"),
    ("NEOSC_DOCKER_HOST", DEFAULT_DOCKER_HOST, "Docker Engine API: unix:///path or tcp://host:port"),
    ("NEOSC_RECONCILE_INTERVAL_MS", "500", "pause between two reconciler passes"),
    ("NEOSC_RECONCILE_LEASE_SECS", "60", "how long a workspace stays with an instance that stopped answering"),
    ("NEOSC_RECONCILE_OBSERVE_SECS", "10", "how often a settled workspace's container is looked at again"),
    ("NEOSC_OIDC_DISPLAY_NAME", "Zitadel", "the SSO button says \"Sign in with ...\""),
    ("NEOSC_SMTP_URL", "-", "smtp://host:port (plain, loopback/tests), smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465; unset: mail is only logged"),
    ("NEOSC_MAIL_FROM", "NeoSC <no-reply@<default domain>>", "sender of verification and invitation mail"),
    ("NEOSC_OIDC_FALLBACK_ORG", "-", "organization for ID tokens that name none (only without the resourceowner scope); unset: refused"),
    ("NEOSC_DNS_SERVER", "system resolver", "ip:port of the nameserver asked for _neosc-challenge TXT records"),
    ("NEOSC_DNS_TIMEOUT_MS", "5000", "how long a domain verification waits for DNS"),
    ("NEOSC_ALLOW_RESERVED_DOMAINS", "0", "1 accepts .test/.example/.invalid/.localhost addresses and domains (tests only)"),
    ("NEOSC_OIDC_TRUST_IDP_DOMAINS", "0", "1: the provider's primary_domain of an organization it creates counts as verified"),
    ("NEOSC_TRUSTED_PROXIES", "-", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For/Forwarded name the client"),
    ("NEOSC_HEADER_READ_TIMEOUT_SECS", "10", "a connection that sends no complete request head for this long is closed"),
    ("NEOSC_MAX_REQUESTS_PER_CONNECTION", "1000", "requests served on one keep-alive connection before it is closed"),
    ("NEOSC_SECRET_KEY", "key file in NEOSC_DATA_DIR", "32 bytes (64 hex digits or base64) that encrypt TOTP secrets at rest; every instance needs the same"),
    ("NEOSC_SECRET_KEY_PREVIOUS", "-", "older keys (comma-separated), read only, while `neosc admin rotate-secret-key` moves secrets off them"),
    ("NEOSC_DATA_DIR", "the SQLite file's directory, else data", "where the generated key files (secret.key, audit-signing.key) are kept; back them up with the database"),
    ("NEOSC_SWEEP_INTERVAL_SECS", "300", "pause between passes deleting expired sessions, SSO flows, throttle rows and links"),
    ("NEOSC_AUDIT_RETENTION_MIN_DAYS", "30", "the shortest audit retention an organization may set (days)"),
    ("NEOSC_AUDIT_RETENTION_MAX_DAYS", "3650", "the longest audit retention an organization may set (days); keeping for ever is always allowed"),
    ("NEOSC_AUDIT_SIGNING_KEY", "key file in NEOSC_DATA_DIR", "Ed25519 seed (32 bytes, base64 or 64 hex digits) that signs the daily audit checkpoints; every instance needs the same"),
    ("NEOSC_AUDIT_CHECKPOINT_INTERVAL_SECS", "3600", "how often each instance looks for audit chains that moved and signs today's checkpoint (one per chain per UTC day)"),
    ("NEOSC_AUDIT_STREAM_INTERVAL_MS", "1000", "pause between passes sending audit events to the organizations' SIEM webhooks"),
    ("NEOSC_AUDIT_STREAM_ALLOW_HTTP_LOOPBACK", "0", "1 accepts audit stream receivers on loopback, over http too (tests and development only)"),
    ("NEOSC_SIGNUPS_PER_HOUR", "20", "registrations and invitation acceptances one client address (and one email address) may attempt per hour (1-100000)"),
    ("RUST_LOG", "info,sqlx=warn", "log filter; add tower_http=debug for a line per request"),
];

/// The variables as `neosc help` prints them.
pub fn variables_help() -> String {
    let mut out = String::from("Environment (all optional):\n");
    for (name, default, meaning) in VARIABLES {
        out.push_str(&format!("  {name:<28} {meaning}\n  {:<28} default: {default}\n", ""));
    }
    out
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Builds the configuration from any lookup, so tests need not touch the
    /// process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let demo = parse_bool(&get, "NEOSC_DEMO")?.unwrap_or(false);
        let default_domain = match get("NEOSC_DEFAULT_DOMAIN") {
            Some(d) => {
                let d = d.trim().to_lowercase();
                if crate::model::Email::parse(&format!("x@{d}")).is_err() {
                    return Err(ConfigError { name: "NEOSC_DEFAULT_DOMAIN", message: format!("{d:?} is not a domain name") });
                }
                d
            }
            None if demo => DEMO_DEFAULT_DOMAIN.into(),
            None => DEFAULT_DOMAIN.into(),
        };
        let public_url = get("NEOSC_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned());
        if let Some(u) = &public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(ConfigError { name: "NEOSC_PUBLIC_URL", message: "must start with http:// or https://".into() });
            }
        }
        let min_chars = parse_num(&get, "NEOSC_PASSWORD_MIN_LENGTH")?.unwrap_or(12) as usize;
        if !(8..=128).contains(&min_chars) {
            return Err(ConfigError { name: "NEOSC_PASSWORD_MIN_LENGTH", message: "must be between 8 and 128".into() });
        }
        let api_token_max_days = parse_num(&get, "NEOSC_API_TOKEN_MAX_DAYS")?.unwrap_or(365) as i64;
        if !(1..=3650).contains(&api_token_max_days) {
            return Err(ConfigError { name: "NEOSC_API_TOKEN_MAX_DAYS", message: "must be between 1 and 3650".into() });
        }
        let defaults = Argon2Params::default();
        let trusted_proxies = crate::server::auth::forwarded::TrustedProxies::parse(&get("NEOSC_TRUSTED_PROXIES").unwrap_or_default())
            .map_err(|bad| ConfigError {
                name: "NEOSC_TRUSTED_PROXIES",
                message: format!(
                    "{bad:?} is not an address block; use CIDRs such as 10.0.0.0/8, 192.0.2.7/32 or fd00::/8, comma-separated"
                ),
            })?;
        let at_least_one = |name: &'static str| -> Result<Option<u64>, ConfigError> {
            match parse_num(&get, name)? {
                Some(0) => Err(ConfigError { name, message: "must be at least 1".into() }),
                other => Ok(other),
            }
        };
        let header_read_timeout = Duration::from_secs(at_least_one("NEOSC_HEADER_READ_TIMEOUT_SECS")?.unwrap_or(10));
        let max_requests_per_connection = at_least_one("NEOSC_MAX_REQUESTS_PER_CONNECTION")?.unwrap_or(1000);
        let signups_per_hour = parse_num(&get, "NEOSC_SIGNUPS_PER_HOUR")?.unwrap_or(20);
        if !(1..=100_000).contains(&signups_per_hour) {
            return Err(ConfigError { name: "NEOSC_SIGNUPS_PER_HOUR", message: "must be between 1 and 100000".into() });
        }
        let oidc = oidc_from_lookup(&get, public_url.as_deref())?;
        let mail = mail_from_lookup(&get, &default_domain)?;
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let secrets = secrets_from_lookup(&get, &database_url)?;
        let audit_retention = RetentionBounds {
            min_days: parse_num(&get, "NEOSC_AUDIT_RETENTION_MIN_DAYS")?.unwrap_or(30) as i64,
            max_days: parse_num(&get, "NEOSC_AUDIT_RETENTION_MAX_DAYS")?.unwrap_or(3650) as i64,
        };
        if audit_retention.min_days < 1 {
            return Err(ConfigError { name: "NEOSC_AUDIT_RETENTION_MIN_DAYS", message: "must be at least 1".into() });
        }
        if audit_retention.max_days < audit_retention.min_days || audit_retention.max_days > 36_500 {
            return Err(ConfigError {
                name: "NEOSC_AUDIT_RETENTION_MAX_DAYS",
                message: format!("must be between NEOSC_AUDIT_RETENTION_MIN_DAYS ({}) and 36500", audit_retention.min_days),
            });
        }
        let audit_signing_key = get("NEOSC_AUDIT_SIGNING_KEY")
            .map(|k| crate::server::auth::audit_key::AuditSigningSeed::parse(&k))
            .transpose()
            .map_err(|m| ConfigError { name: "NEOSC_AUDIT_SIGNING_KEY", message: m })?;
        Ok(Self {
            audit_retention,
            database_url,
            secrets,
            audit_signing_key,
            audit_checkpoint_interval: match parse_num(&get, "NEOSC_AUDIT_CHECKPOINT_INTERVAL_SECS")? {
                Some(0) => return Err(ConfigError { name: "NEOSC_AUDIT_CHECKPOINT_INTERVAL_SECS", message: "must be at least 1".into() }),
                Some(secs) => Duration::from_secs(secs),
                None => Duration::from_secs(3600),
            },
            sweep_interval: match parse_num(&get, "NEOSC_SWEEP_INTERVAL_SECS")? {
                Some(0) => return Err(ConfigError { name: "NEOSC_SWEEP_INTERVAL_SECS", message: "must be at least 1".into() }),
                Some(secs) => Duration::from_secs(secs),
                None => Duration::from_secs(300),
            },
            audit_stream: AuditStreamConfig {
                interval: match parse_num(&get, "NEOSC_AUDIT_STREAM_INTERVAL_MS")? {
                    Some(0) => return Err(ConfigError { name: "NEOSC_AUDIT_STREAM_INTERVAL_MS", message: "must be at least 1".into() }),
                    Some(ms) => Duration::from_millis(ms),
                    None => Duration::from_secs(1),
                },
                allow_http_loopback: parse_bool(&get, "NEOSC_AUDIT_STREAM_ALLOW_HTTP_LOOPBACK")?.unwrap_or(false),
            },
            public_url,
            admin_email: get("NEOSC_ADMIN_EMAIL"),
            admin_password: get("NEOSC_ADMIN_PASSWORD"),
            default_domain,
            demo,
            session_ttl: Duration::from_secs(60 * parse_num(&get, "NEOSC_SESSION_TTL_MINUTES")?.unwrap_or(12 * 60)),
            session_idle: Duration::from_secs(60 * parse_num(&get, "NEOSC_SESSION_IDLE_MINUTES")?.unwrap_or(30)),
            password_policy: PasswordPolicy { min_chars, max_chars: 128 },
            argon2: Argon2Params {
                m_kib: parse_num(&get, "NEOSC_ARGON2_M_KIB")?.map_or(defaults.m_kib, |v| v as u32),
                t: parse_num(&get, "NEOSC_ARGON2_T")?.map_or(defaults.t, |v| v as u32),
                p: parse_num(&get, "NEOSC_ARGON2_P")?.map_or(defaults.p, |v| v as u32),
            },
            hash_queue_timeout: Duration::from_secs(5),
            api_token_max_days,
            signups_per_hour: signups_per_hour as i64,
            oidc,
            engine: match get("NEOSC_WORKSPACE_ENGINE").as_deref().map(str::trim) {
                None | Some("" | "auto") => EngineChoice::Auto,
                Some("docker") => EngineChoice::Docker,
                Some("none") => EngineChoice::None,
                Some(other) => {
                    return Err(ConfigError { name: "NEOSC_WORKSPACE_ENGINE", message: format!("{other:?}: use docker, none or auto") })
                }
            },
            docker_host: get("NEOSC_DOCKER_HOST").unwrap_or_else(|| DEFAULT_DOCKER_HOST.into()),
            reconcile: {
                let d = crate::server::reconciler::Pace::default();
                let positive = |name: &'static str, v: Option<u64>| match v {
                    Some(0) => Err(ConfigError { name, message: "must be at least 1".into() }),
                    other => Ok(other),
                };
                crate::server::reconciler::Pace {
                    interval: positive("NEOSC_RECONCILE_INTERVAL_MS", parse_num(&get, "NEOSC_RECONCILE_INTERVAL_MS")?)?
                        .map_or(d.interval, Duration::from_millis),
                    lease: positive("NEOSC_RECONCILE_LEASE_SECS", parse_num(&get, "NEOSC_RECONCILE_LEASE_SECS")?)?
                        .map_or(d.lease, Duration::from_secs),
                    observe: positive("NEOSC_RECONCILE_OBSERVE_SECS", parse_num(&get, "NEOSC_RECONCILE_OBSERVE_SECS")?)?
                        .map_or(d.observe, Duration::from_secs),
                    max_attempts: d.max_attempts,
                }
            },
            mail,
            domains: DomainConfig {
                allow_reserved: parse_bool(&get, "NEOSC_ALLOW_RESERVED_DOMAINS")?.unwrap_or(false),
                dns_server: get("NEOSC_DNS_SERVER")
                    .map(|v| {
                        v.trim().parse::<std::net::SocketAddr>().map_err(|_| ConfigError {
                            name: "NEOSC_DNS_SERVER",
                            message: format!("{v:?} is not ip:port (e.g. 127.0.0.1:53)"),
                        })
                    })
                    .transpose()?,
                dns_timeout: match parse_num(&get, "NEOSC_DNS_TIMEOUT_MS")? {
                    Some(0) => return Err(ConfigError { name: "NEOSC_DNS_TIMEOUT_MS", message: "must be at least 1".into() }),
                    Some(ms) => Duration::from_millis(ms),
                    None => Duration::from_secs(5),
                },
                trust_idp: parse_bool(&get, "NEOSC_OIDC_TRUST_IDP_DOMAINS")?.unwrap_or(false),
            },
            trusted_proxies,
            header_read_timeout,
            max_requests_per_connection,
        })
    }

    /// Whether cookies must be `Secure` (and `__Host-` prefixed).
    pub fn https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

fn oidc_from_lookup(get: &impl Fn(&str) -> Option<String>, public_url: Option<&str>) -> Result<Option<OidcConfig>, ConfigError> {
    let Some(issuer) = get("NEOSC_OIDC_ISSUER").map(|s| s.trim().to_owned()) else { return Ok(None) };
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
        return Err(ConfigError { name: "NEOSC_OIDC_ISSUER", message: format!("{issuer:?} is not an http(s) URL") });
    }
    let client_id = get("NEOSC_OIDC_CLIENT_ID")
        .ok_or(ConfigError { name: "NEOSC_OIDC_CLIENT_ID", message: "is required when NEOSC_OIDC_ISSUER is set".into() })?;
    let public = public_url.ok_or(ConfigError {
        name: "NEOSC_PUBLIC_URL",
        message: "is required for SSO: the redirect URI is <NEOSC_PUBLIC_URL>/auth/callback".into(),
    })?;
    let scopes: Vec<String> = get("NEOSC_OIDC_SCOPES")
        .unwrap_or_else(|| DEFAULT_OIDC_SCOPES.into())
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut role_map = Vec::new();
    for pair in
        get("NEOSC_OIDC_ROLE_MAP").unwrap_or_else(|| DEFAULT_OIDC_ROLE_MAP.into()).split(',').map(str::trim).filter(|s| !s.is_empty())
    {
        let bad = || ConfigError {
            name: "NEOSC_OIDC_ROLE_MAP",
            message: format!("{pair:?} is not <provider role>=<platform_admin|org_admin|user>"),
        };
        let (key, role) = pair.split_once('=').ok_or_else(bad)?;
        let role = crate::model::Role::parse(role.trim()).ok_or_else(bad)?;
        if key.trim().is_empty() {
            return Err(bad());
        }
        role_map.push((key.trim().to_owned(), role));
    }
    let signing_algs: Vec<String> = get("NEOSC_OIDC_SIGNING_ALGS")
        .unwrap_or_else(|| "RS256".into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = signing_algs.iter().find(|a| !ASYMMETRIC_ALGS.contains(&a.as_str())) {
        return Err(ConfigError {
            name: "NEOSC_OIDC_SIGNING_ALGS",
            message: format!("{bad:?} is not accepted; use asymmetric algorithms: {}", ASYMMETRIC_ALGS.join(", ")),
        });
    }
    Ok(Some(OidcConfig {
        issuer,
        client_id,
        client_secret: get("NEOSC_OIDC_CLIENT_SECRET"),
        scopes,
        redirect_url: format!("{public}/auth/callback"),
        post_logout_url: format!("{public}/login"),
        role_map,
        extra_audiences: get("NEOSC_OIDC_EXTRA_AUDIENCES")
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default(),
        signing_algs,
        display_name: get("NEOSC_OIDC_DISPLAY_NAME").unwrap_or_else(|| "Zitadel".into()),
        fallback_org: get("NEOSC_OIDC_FALLBACK_ORG").map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
    }))
}

fn secrets_from_lookup(get: &impl Fn(&str) -> Option<String>, database_url: &str) -> Result<SecretKeyConfig, ConfigError> {
    use crate::server::auth::secret_box::parse_key;
    let current =
        get("NEOSC_SECRET_KEY").map(|k| parse_key(&k).map_err(|m| ConfigError { name: "NEOSC_SECRET_KEY", message: m })).transpose()?;
    let previous = get("NEOSC_SECRET_KEY_PREVIOUS")
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| parse_key(k).map_err(|m| ConfigError { name: "NEOSC_SECRET_KEY_PREVIOUS", message: m }))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    if current.is_none() && !previous.is_empty() {
        return Err(ConfigError {
            name: "NEOSC_SECRET_KEY_PREVIOUS",
            message: "needs NEOSC_SECRET_KEY: the previous keys only read, the current one writes".into(),
        });
    }
    let data_dir = match get("NEOSC_DATA_DIR") {
        Some(dir) => std::path::PathBuf::from(dir.trim()),
        None => default_data_dir(database_url),
    };
    Ok(SecretKeyConfig { current, previous, data_dir })
}

/// Next to the SQLite file, whose backup should carry the key file along;
/// `data` (the default database's directory) otherwise.
fn default_data_dir(database_url: &str) -> std::path::PathBuf {
    let file = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"));
    let file = file.map(|f| f.split('?').next().unwrap_or(f)).filter(|f| !f.is_empty() && !f.starts_with(":memory:"));
    match file.map(std::path::Path::new).and_then(std::path::Path::parent) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        Some(_) => std::path::PathBuf::from("."),
        None => std::path::PathBuf::from("data"),
    }
}

fn mail_from_lookup(get: &impl Fn(&str) -> Option<String>, default_domain: &str) -> Result<MailConfig, ConfigError> {
    let from = get("NEOSC_MAIL_FROM").map(|f| f.trim().to_owned()).unwrap_or_else(|| format!("NeoSC <no-reply@{default_domain}>"));
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError { name: "NEOSC_MAIL_FROM", message: format!("{from:?} is not an address (use a@b.c or Name <a@b.c>)") });
    }
    let smtp = get("NEOSC_SMTP_URL").map(|raw| parse_smtp_url(raw.trim())).transpose()?;
    Ok(MailConfig { smtp, from })
}

/// `smtp://host[:port]`, `smtp+starttls://[user:pass@]host[:port]`,
/// `smtps://[user:pass@]host[:port]`. User and password are
/// percent-decoded, so they may hold any character.
pub fn parse_smtp_url(raw: &str) -> Result<SmtpConfig, ConfigError> {
    let bad = |message: String| ConfigError { name: "NEOSC_SMTP_URL", message };
    let url = url::Url::parse(raw).map_err(|e| bad(format!("not a URL ({e}); use smtp://host:port, smtp+starttls://… or smtps://…")))?;
    let (security, default_port) = match url.scheme() {
        "smtp" => (SmtpSecurity::Plain, 25),
        "smtp+starttls" => (SmtpSecurity::StartTls, 587),
        "smtps" => (SmtpSecurity::Tls, 465),
        other => return Err(bad(format!("scheme {other:?} is not smtp, smtp+starttls or smtps"))),
    };
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("names no host".into()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let decode = |s: &str| percent_decode(s).ok_or_else(|| bad("user or password is not valid percent-encoded UTF-8".into()));
    let username = Some(url.username()).filter(|u| !u.is_empty()).map(decode).transpose()?;
    let password = url.password().map(decode).transpose()?;
    if password.is_some() && username.is_none() {
        return Err(bad("has a password but no user".into()));
    }
    if username.is_some() && security == SmtpSecurity::Plain {
        return Err(bad("sends credentials without TLS; use smtp+starttls:// or smtps://".into()));
    }
    Ok(SmtpConfig { security, host, port: url.port().unwrap_or(default_port), username, password })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_num(get: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<Option<u64>, ConfigError> {
    get(name)
        .map(|v| v.trim().parse::<u64>().map_err(|_| ConfigError { name, message: format!("{v:?} is not a whole number") }))
        .transpose()
}

fn parse_bool(get: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<Option<bool>, ConfigError> {
    get(name)
        .map(|v| match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError { name, message: format!("{v:?} is not a boolean (use 1 or 0)") }),
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn every_variable_read_is_documented() {
        let read = std::cell::RefCell::new(Vec::new());
        let _ = Config::from_lookup(|k| {
            read.borrow_mut().push(k.to_owned());
            None
        });
        let _ = Config::from_lookup(|k| {
            read.borrow_mut().push(k.to_owned());
            (k == "NEOSC_OIDC_ISSUER" || k == "NEOSC_OIDC_CLIENT_ID" || k == "NEOSC_PUBLIC_URL").then(|| "https://x.example".to_owned())
        });
        let documented: Vec<&str> = VARIABLES.iter().map(|(n, _, _)| *n).collect();
        for name in read.into_inner() {
            assert!(documented.contains(&name.as_str()), "{name} is read but missing from VARIABLES (neosc help)");
        }
    }

    #[test]
    fn defaults_need_no_environment() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.default_domain, "neogenesys.com");
        assert_eq!(c.argon2, Argon2Params { m_kib: 19_456, t: 2, p: 1 });
        assert!(!c.https());
    }

    #[test]
    fn demo_moves_the_default_domain_out_of_the_way() {
        assert_eq!(cfg(&[("NEOSC_DEMO", "1")]).unwrap().default_domain, DEMO_DEFAULT_DOMAIN);
        assert_eq!(cfg(&[("NEOSC_DEMO", "1"), ("NEOSC_DEFAULT_DOMAIN", "corp.example")]).unwrap().default_domain, "corp.example");
    }

    #[test]
    fn rejects_bad_values_with_their_name() {
        assert_eq!(cfg(&[("NEOSC_DEMO", "maybe")]).unwrap_err().name, "NEOSC_DEMO");
        assert_eq!(cfg(&[("NEOSC_DEFAULT_DOMAIN", "not a domain")]).unwrap_err().name, "NEOSC_DEFAULT_DOMAIN");
        assert_eq!(cfg(&[("NEOSC_PUBLIC_URL", "ftp://x")]).unwrap_err().name, "NEOSC_PUBLIC_URL");
    }

    #[test]
    fn trusted_proxies_and_connection_limits() {
        let c = cfg(&[]).unwrap();
        assert!(c.trusted_proxies.is_empty(), "no proxy is trusted unless named");
        assert_eq!((c.header_read_timeout, c.max_requests_per_connection), (Duration::from_secs(10), 1000));
        let c = cfg(&[("NEOSC_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8"), ("NEOSC_HEADER_READ_TIMEOUT_SECS", "3")]).unwrap();
        assert!(c.trusted_proxies.contains("10.2.3.4".parse().unwrap()) && c.trusted_proxies.contains("fd00::1".parse().unwrap()));
        assert_eq!(c.header_read_timeout, Duration::from_secs(3));
        let e = cfg(&[("NEOSC_TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.0/40")]).unwrap_err();
        assert_eq!(e.name, "NEOSC_TRUSTED_PROXIES");
        assert!(e.message.contains("10.0.0.0/40"), "{}", e.message);
        assert_eq!(cfg(&[("NEOSC_HEADER_READ_TIMEOUT_SECS", "0")]).unwrap_err().name, "NEOSC_HEADER_READ_TIMEOUT_SECS");
        assert_eq!(cfg(&[("NEOSC_MAX_REQUESTS_PER_CONNECTION", "0")]).unwrap_err().name, "NEOSC_MAX_REQUESTS_PER_CONNECTION");
    }

    #[test]
    fn sso_is_off_without_an_issuer_and_complete_with_one() {
        assert!(cfg(&[]).unwrap().oidc.is_none());
        let c = cfg(&[
            ("NEOSC_OIDC_ISSUER", "https://acme.zitadel.cloud"),
            ("NEOSC_OIDC_CLIENT_ID", "123@neosc"),
            ("NEOSC_PUBLIC_URL", "https://console.example/"),
        ])
        .unwrap()
        .oidc
        .unwrap();
        assert_eq!(c.redirect_url, "https://console.example/auth/callback");
        assert_eq!(c.post_logout_url, "https://console.example/login");
        assert_eq!(c.client_secret, None, "a public client");
        assert_eq!(c.role_map, vec![("admin".to_string(), crate::model::Role::OrgAdmin)]);
        assert!(c.scopes.contains(&"urn:zitadel:iam:org:project:roles".to_string()));
        assert_eq!(c.signing_algs, vec!["RS256".to_string()]);
    }

    #[test]
    fn smtp_urls_of_each_kind() {
        assert!(cfg(&[]).unwrap().mail.smtp.is_none(), "no SMTP: mail goes to the log");
        let plain = parse_smtp_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((plain.security, plain.host.as_str(), plain.port, plain.username), (SmtpSecurity::Plain, "127.0.0.1", 2525, None));
        let tls = parse_smtp_url("smtp+starttls://mailer%40corp.example:p%3Ass@smtp.corp.example").unwrap();
        assert_eq!((tls.security, tls.port), (SmtpSecurity::StartTls, 587));
        assert_eq!(tls.username.as_deref(), Some("mailer@corp.example"));
        assert_eq!(tls.password.as_deref(), Some("p:ss"));
        assert_eq!(parse_smtp_url("smtps://u:p@smtp.example").unwrap().port, 465);
        assert!(!format!("{tls:?}").contains("p:ss"), "the password stays out of logs");
        for bad in ["http://x", "smtp://u:p@relay:25", "smtp:///", "not a url"] {
            assert_eq!(parse_smtp_url(bad).unwrap_err().name, "NEOSC_SMTP_URL", "{bad}");
        }
        assert_eq!(cfg(&[("NEOSC_MAIL_FROM", "not an address")]).unwrap_err().name, "NEOSC_MAIL_FROM");
        assert_eq!(cfg(&[]).unwrap().mail.from, "NeoSC <no-reply@neogenesys.com>");
    }

    #[test]
    fn secret_keys_are_validated_and_the_data_dir_follows_the_database() {
        assert_eq!(cfg(&[("NEOSC_SECRET_KEY", "short")]).unwrap_err().name, "NEOSC_SECRET_KEY");
        let hex = "00".repeat(32);
        assert_eq!(cfg(&[("NEOSC_SECRET_KEY", hex.as_str())]).unwrap().secrets.current, Some([0u8; 32]));
        assert_eq!(
            cfg(&[("NEOSC_SECRET_KEY", hex.as_str()), ("NEOSC_SECRET_KEY_PREVIOUS", "ab,")]).unwrap_err().name,
            "NEOSC_SECRET_KEY_PREVIOUS"
        );
        assert_eq!(cfg(&[("NEOSC_SECRET_KEY_PREVIOUS", hex.as_str())]).unwrap_err().name, "NEOSC_SECRET_KEY_PREVIOUS");
        assert!(!format!("{:?}", cfg(&[("NEOSC_SECRET_KEY", hex.as_str())]).unwrap()).contains(&hex), "the key stays out of logs");
        assert_eq!(cfg(&[]).unwrap().secrets.data_dir, std::path::PathBuf::from("data"));
        assert_eq!(
            cfg(&[("DATABASE_URL", "sqlite:///var/lib/neosc/neosc.db?mode=rwc")]).unwrap().secrets.data_dir,
            std::path::PathBuf::from("/var/lib/neosc")
        );
        assert_eq!(cfg(&[("DATABASE_URL", "postgres://db/neosc")]).unwrap().secrets.data_dir, std::path::PathBuf::from("data"));
        assert_eq!(cfg(&[("NEOSC_SWEEP_INTERVAL_SECS", "0")]).unwrap_err().name, "NEOSC_SWEEP_INTERVAL_SECS");
        assert_eq!(cfg(&[("NEOSC_AUDIT_RETENTION_MIN_DAYS", "0")]).unwrap_err().name, "NEOSC_AUDIT_RETENTION_MIN_DAYS");
        assert_eq!(
            cfg(&[("NEOSC_AUDIT_RETENTION_MIN_DAYS", "90"), ("NEOSC_AUDIT_RETENTION_MAX_DAYS", "30")]).unwrap_err().name,
            "NEOSC_AUDIT_RETENTION_MAX_DAYS"
        );
        assert_eq!(cfg(&[("NEOSC_AUDIT_SIGNING_KEY", "short")]).unwrap_err().name, "NEOSC_AUDIT_SIGNING_KEY");
        assert!(cfg(&[("NEOSC_AUDIT_SIGNING_KEY", hex.as_str())]).unwrap().audit_signing_key.is_some());
        assert_eq!(cfg(&[("NEOSC_AUDIT_CHECKPOINT_INTERVAL_SECS", "0")]).unwrap_err().name, "NEOSC_AUDIT_CHECKPOINT_INTERVAL_SECS");
        assert_eq!(cfg(&[]).unwrap().audit_checkpoint_interval, Duration::from_secs(3600));
    }

    #[test]
    fn sso_misconfiguration_names_the_setting() {
        let base = [("NEOSC_OIDC_ISSUER", "https://idp.example"), ("NEOSC_OIDC_CLIENT_ID", "c"), ("NEOSC_PUBLIC_URL", "https://c.example")];
        let with = |extra: (&'static str, &'static str)| {
            let mut v = base.to_vec();
            v.retain(|(k, _)| *k != extra.0);
            v.push(extra);
            cfg(&v)
        };
        assert_eq!(cfg(&base[..1]).unwrap_err().name, "NEOSC_OIDC_CLIENT_ID");
        assert_eq!(cfg(&base[..2]).unwrap_err().name, "NEOSC_PUBLIC_URL");
        assert_eq!(with(("NEOSC_OIDC_ISSUER", "idp.example")).unwrap_err().name, "NEOSC_OIDC_ISSUER");
        assert_eq!(with(("NEOSC_OIDC_ROLE_MAP", "admin")).unwrap_err().name, "NEOSC_OIDC_ROLE_MAP");
        assert_eq!(with(("NEOSC_OIDC_ROLE_MAP", "admin=superuser")).unwrap_err().name, "NEOSC_OIDC_ROLE_MAP");
        assert_eq!(with(("NEOSC_OIDC_SIGNING_ALGS", "RS256,HS256")).unwrap_err().name, "NEOSC_OIDC_SIGNING_ALGS");
        let mapped = with(("NEOSC_OIDC_ROLE_MAP", "owner=platform_admin, admin=org_admin")).unwrap().oidc.unwrap();
        assert_eq!(mapped.role_map[0], ("owner".to_string(), crate::model::Role::PlatformAdmin));
    }
}
