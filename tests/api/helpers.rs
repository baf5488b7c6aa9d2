//! Starts the real application in-process on a free port with a fresh
//! database, and talks to it over HTTP like any client would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use leptos::config::LeptosOptions;
use neosc::server::clock::Clock;
use neosc::server::config::Config;
use neosc::server::db::Store;
use neosc::server::startup::Application;
use neosc::server::state::AppState;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection};

pub const ADMIN_EMAIL: &str = "root@neosc.test";
pub const ADMIN_PASSWORD: &str = "platform-admin-password-1";
pub const PASSWORD: &str = "correct horse battery staple";
pub const MAIL_FROM: &str = "NeoSC Test <console@neosc.test>";

pub use crate::dns_server::{Answer, DnsServer};
pub use crate::smtp_sink::SmtpSink;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    /// The app's clock; tests move it instead of sleeping.
    pub clock: Arc<ManualClock>,
    pub database_url: String,
    pub hasher: neosc::server::auth::password::PasswordHasher,
    /// The app's own state, for the background jobs a test runs by hand.
    pub state: AppState,
    /// The SMTP server the app sends its mail to.
    pub mail: SmtpSink,
    /// The DNS server the app asks for TXT records.
    pub dns: DnsServer,
    _db: TestDb,
}

/// A clock that stands still until a test moves it.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// Writes each test body once and runs it on both databases.
/// `both_backends! { env = ENV; async fn … }` starts the apps with the
/// extra variables `ENV: &[(&str, &str)]`.
macro_rules! both_backends {
    (env = $env:expr; $(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: $crate::helpers::TestApp) $body

                #[test]
                fn sqlite() {
                    crate::helpers::runtime().block_on(sqlite_body())
                }

                async fn sqlite_body() {
                    run($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite, $env).await.unwrap()).await
                }

                #[test]
                fn postgres() {
                    crate::helpers::runtime().block_on(postgres_body())
                }

                async fn postgres_body() {
                    if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres, $env).await {
                        run(app).await
                    }
                }
            }
        )*
    };
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: $crate::helpers::TestApp) $body

                #[test]
                fn sqlite() {
                    crate::helpers::runtime().block_on(sqlite_body())
                }

                async fn sqlite_body() {
                    run($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite, &[]).await.unwrap()).await
                }

                #[test]
                fn postgres() {
                    crate::helpers::runtime().block_on(postgres_body())
                }

                async fn postgres_body() {
                    if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres, &[]).await {
                        run(app).await
                    }
                }
            }
        )*
    };
}

/// The runtime each test runs on: two workers, like the server's, with
/// 16 MiB stacks. In debug builds Leptos renders a page on the server
/// through deeply nested calls (its view types are not erased), and a
/// console page overflowed tokio's default 2 MiB.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(16 * 1024 * 1024)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

impl TestApp {
    /// `None` only for PostgreSQL when it is unreachable outside CI; in CI
    /// (`CI=true`) a missing PostgreSQL fails the test.
    pub async fn spawn(backend: Backend, env: &[(&str, &str)]) -> Option<TestApp> {
        let db = match backend {
            Backend::Sqlite => TestDb::sqlite(),
            Backend::Postgres => match TestDb::postgres().await {
                Ok(db) => db,
                Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                    panic!("PostgreSQL is required in CI but unreachable: {e}")
                }
                Err(e) => {
                    eprintln!("SKIPPED: PostgreSQL unreachable ({e}); set NEOSC_TEST_POSTGRES_URL");
                    return None;
                }
            },
        };
        let mail = SmtpSink::start().await;
        let smtp_url = mail.url();
        let dns = DnsServer::start().await;
        let dns_address = dns.address();
        // A key of its own per app: no key file is written for a test.
        let secret_key = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let audit_signing_key = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let mut vars: HashMap<String, String> = [
            ("DATABASE_URL", db.url.as_str()),
            ("NEOSC_ADMIN_EMAIL", ADMIN_EMAIL),
            ("NEOSC_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("NEOSC_SMTP_URL", smtp_url.as_str()),
            ("NEOSC_MAIL_FROM", MAIL_FROM),
            ("NEOSC_DNS_SERVER", dns_address.as_str()),
            ("NEOSC_DNS_TIMEOUT_MS", "1000"),
            // The suites register at .test domains.
            ("NEOSC_ALLOW_RESERVED_DOMAINS", "1"),
            ("NEOSC_SECRET_KEY", secret_key.as_str()),
            ("NEOSC_AUDIT_SIGNING_KEY", audit_signing_key.as_str()),
            // Every suite registers from 127.0.0.1; the budget per address
            // has tests of its own (throttle.rs) that set it low.
            ("NEOSC_SIGNUPS_PER_HOUR", "100000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test config");
        // The site's files from LEPTOS_SITE_ROOT when a test makes its own (assets.rs).
        let site_root = vars.get("LEPTOS_SITE_ROOT").cloned().unwrap_or_else(|| "target/site".to_owned());
        let leptos = LeptosOptions::builder().output_name("neosc").site_root(site_root).site_addr(([127, 0, 0, 1], 0)).build();
        let clock = Arc::new(ManualClock(Mutex::new(Utc::now())));
        let app = Application::build_with_clock(config, leptos, clock.clone()).await.expect("application starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let store = app.state().store.clone();
        let hasher = app.state().hasher.clone();
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Some(TestApp { address, client, store, clock, hasher, state, mail, dns, database_url: db.url.clone(), _db: db })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }

    /// Marks `domain` verified for the organization as an operator would
    /// (`neosc org verify-domain`): the tests that are about placement by
    /// domain, not about proving it, start from a verified domain.
    pub async fn vouch_domain(&self, org_id: &str, domain: &str) {
        neosc::server::service::operator::verify_domain(&self.state, org_id, domain).await.expect("the operator vouches for the domain");
    }

    pub async fn register(&self, body: Value) -> Response {
        self.post("/api/auth/register").json(&body).send().await.unwrap()
    }

    /// Registers as a person would: the registration, then the link from
    /// the mail that arrived at the SMTP sink. Returns the session token
    /// and the user, asserting success.
    pub async fn register_ok(&self, email: &str, name: &str, organization: Option<&str>) -> (String, Value) {
        let link = self.register_pending(email, name, organization).await;
        let res = self.verify_email(&link).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "verify {email}: {body}");
        (body["token"].as_str().unwrap().to_owned(), body["user"].clone())
    }

    /// Registers the founder of a new organization, and vouches for its
    /// domain as an operator would, so colleagues who register at that
    /// domain join it: for the tests about what happens inside an
    /// organization, not about proving its domain (`domains.rs`).
    pub async fn register_founder(&self, email: &str, name: &str, organization: &str) -> (String, Value) {
        let (token, user) = self.register_ok(email, name, Some(organization)).await;
        let domain = email.rsplit('@').next().unwrap();
        self.vouch_domain(user["organization_id"].as_str().expect("the user has an organization_id"), domain).await;
        (token, user)
    }

    /// Registers and returns the token of the confirmation link mailed to
    /// the address, without using it.
    pub async fn register_pending(&self, email: &str, name: &str, organization: Option<&str>) -> String {
        let res = self.register(json!({ "email": email, "password": PASSWORD, "name": name, "organization": organization })).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "register {email}: {body}");
        assert_eq!(body["mail_sent"], true, "{body}");
        self.mail.take(email).await.link_token("verify-email").expect("the mail carries a /verify-email/ link")
    }

    /// Uses a confirmation link.
    pub async fn verify_email(&self, token: &str) -> Response {
        self.post("/api/auth/verify-email").json(&json!({ "token": token })).send().await.unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/api/auth/login").json(&json!({ "email": email, "password": password })).send().await.unwrap()
    }

    pub async fn login_ok(&self, email: &str, password: &str) -> String {
        let res = self.login(email, password).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn orgs(&self, token: &str) -> Vec<Value> {
        let res = self.get("/api/organizations").bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// POSTs JSON with a bearer token.
    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> Response {
        self.post(path).bearer_auth(token).json(&body).send().await.unwrap()
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.client.patch(format!("{}{path}", self.address))
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.client.delete(format!("{}{path}", self.address))
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: Value) -> Response {
        self.patch(path).bearer_auth(token).json(&body).send().await.unwrap()
    }

    pub async fn me(&self, token: &str) -> Response {
        self.get("/api/auth/me").bearer_auth(token).send().await.unwrap()
    }

    pub async fn user_count(&self) -> i64 {
        self.store.conn().await.unwrap().count_users().await.unwrap()
    }

    pub async fn audit_count(&self) -> i64 {
        self.store.conn().await.unwrap().count_audit_events().await.unwrap()
    }
}

/// Asserts a problem+json answer with the given status and returns it.
pub async fn assert_problem(res: Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    let ct = res.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].as_str().unwrap().starts_with("https://neosc.dev/problems/"), "{body}");
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

/// A database that exists for one test only.
struct TestDb {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

impl TestDb {
    fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("neosc-test-{}.db", uuid::Uuid::new_v4()));
        Self { url: format!("sqlite://{}", path.display()), cleanup: Cleanup::File(path) }
    }

    async fn postgres() -> Result<Self, sqlx::Error> {
        let admin_url = std::env::var("NEOSC_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("neosc_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin_url).await?;
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await?;
        let (base, _) = admin_url.rsplit_once('/').expect("url has a database path");
        Ok(Self { url: format!("{base}/{name}"), cleanup: Cleanup::Database { admin_url, name } })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; use a thread of our own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    rt.block_on(async {
                        if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                            let _ = conn.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// The session cookie (`neosc_session=…`) a response sets, if any.
pub fn session_of(res: &Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|c| c.starts_with("neosc_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .find(|c| c != "neosc_session=")
}
