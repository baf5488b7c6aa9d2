//! TOTP secrets at rest: sealed in the database (never the secret itself),
//! opened for sign-in, moved to a new key by `neosc admin rotate-secret-key`
//! with sign-in following the new key, and sealed at start-up when they
//! were stored before encryption.

use std::sync::Arc;

use chrono::Duration;
use leptos::config::LeptosOptions;
use neosc::server::auth::secret_box::{self, Keyring, Stored};
use neosc::server::auth::totp;
use neosc::server::clock::Clock as _;
use neosc::server::config::Config;
use neosc::server::service::{operator, secret_keys};
use neosc::server::startup::Application;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// The code for the step after the app clock's current one: accepted
/// (one step of drift) and later than any code used before it.
fn next_code(app: &TestApp, secret: &[u8]) -> String {
    totp::code_at(secret, totp::step_of(app.clock.now().timestamp()) + 1)
}

/// Starts TOTP enrolment; the secret the page shows, as bytes.
async fn begin(app: &TestApp, token: &str) -> Vec<u8> {
    let res = app.post("/api/account/mfa/totp/setup").bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let setup: Value = res.json().await.unwrap();
    data_encoding::BASE32_NOPAD.decode(setup["secret"].as_str().unwrap().as_bytes()).unwrap()
}

/// Confirms enrolment; the recovery codes.
async fn confirm(app: &TestApp, token: &str, secret: &[u8]) -> Vec<String> {
    let code = totp::code_at(secret, totp::step_of(app.clock.now().timestamp()));
    let res = app.post_json("/api/account/mfa/totp/confirm", token, json!({ "code": code })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect()
}

/// The account's id and its two stored secret columns, as in the database.
async fn stored(app: &TestApp, email: &str) -> (Uuid, Option<Vec<u8>>, Option<Vec<u8>>) {
    let user = app.store.conn().await.unwrap().user_by_email(email).await.unwrap().unwrap();
    (user.id, user.totp_secret, user.totp_pending_secret)
}

fn assert_sealed(value: &[u8], secret: &[u8]) {
    assert!(value.starts_with(b"v1:"), "sealed values carry their version");
    assert!(!value.windows(secret.len()).any(|w| w == secret), "the raw secret is not in the column");
    let text = totp::secret_text(secret);
    assert!(!String::from_utf8_lossy(value).contains(&text), "nor its base32 form");
}

/// Signs in with password and code at `base`; the code step's status.
async fn sign_in_with_code(client: &reqwest::Client, base: &str, email: &str, code: &str) -> StatusCode {
    let res = client.post(format!("{base}/api/auth/login")).json(&json!({ "email": email, "password": PASSWORD })).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let step: Value = res.json().await.unwrap();
    assert_eq!(step["stage"], "mfa_pending");
    let pending = step["token"].as_str().unwrap();
    client.post(format!("{base}/api/auth/mfa")).bearer_auth(pending).json(&json!({ "code": code })).send().await.unwrap().status()
}

/// A second instance on the test app's database and clock, configured
/// with `secret_key`: what every instance runs after a rotation.
async fn instance_with_key(app: &TestApp, secret_key: &str, previous: Option<&str>) -> String {
    let mut vars = vec![
        ("DATABASE_URL", app.database_url.clone()),
        ("NEOSC_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("NEOSC_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("NEOSC_ALLOW_RESERVED_DOMAINS", "1".to_owned()),
        ("NEOSC_WORKSPACE_ENGINE", "none".to_owned()),
        ("NEOSC_SECRET_KEY", secret_key.to_owned()),
    ];
    if let Some(previous) = previous {
        vars.push(("NEOSC_SECRET_KEY_PREVIOUS", previous.to_owned()));
    }
    let config = Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap();
    let leptos = LeptosOptions::builder().output_name("neosc").site_root("target/site").site_addr(([127, 0, 0, 1], 0)).build();
    let clock: Arc<dyn neosc::server::clock::Clock> = app.clock.clone();
    let instance = Application::build_with_clock(config, leptos, clock).await.expect("second instance starts");
    let address = format!("http://127.0.0.1:{}", instance.port());
    tokio::spawn(instance.run_until_stopped());
    address
}

both_backends! {
    async fn totp_secrets_are_sealed_at_rest_and_still_sign_in(app: TestApp) {
        let email = "sealed@neogenesys.com";
        let (session, _) = app.register_ok(email, "Sealed", None).await;
        let secret = begin(&app, &session).await;
        let (id, active, pending) = stored(&app, email).await;
        assert_eq!(active, None);
        assert_sealed(pending.as_deref().unwrap(), &secret);

        confirm(&app, &session, &secret).await;
        let (_, active, pending) = stored(&app, email).await;
        assert_eq!(pending, None);
        let active = active.unwrap();
        assert_sealed(&active, &secret);
        assert_eq!(app.state.secrets.open(id, &active).unwrap(), secret);
        // Copied into another account's row, it does not open there.
        app.register_ok("other@neogenesys.com", "Other", None).await;
        let (other, _, _) = stored(&app, "other@neogenesys.com").await;
        assert!(app.state.secrets.open(other, &active).is_err());

        app.clock.advance(Duration::seconds(30));
        assert_eq!(sign_in_with_code(&app.client, &app.address, email, &next_code(&app, &secret)).await, StatusCode::OK);
        let wrong = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()) + 5);
        assert_eq!(sign_in_with_code(&app.client, &app.address, email, &wrong).await, StatusCode::BAD_REQUEST);
    }

    async fn rotating_the_key_moves_every_secret_and_sign_in_follows(app: TestApp) {
        let email = "rotate@neogenesys.com";
        let (session, _) = app.register_ok(email, "Rotate", None).await;
        let secret = begin(&app, &session).await;
        let recovery = confirm(&app, &session, &secret).await;
        // A second account mid-enrolment: its pending secret moves too.
        let (other_session, _) = app.register_ok("halfway@neogenesys.com", "Halfway", None).await;
        let other_secret = begin(&app, &other_session).await;

        let old_key = app.state.config.secrets.current.unwrap();
        let (rotation, new_key) = operator::rotate_secret_key(&app.state, None, &[old_key]).await.unwrap();
        assert_eq!((rotation.report.resealed, rotation.report.unreadable, rotation.report.changed_meanwhile), (2, 0, 0));
        assert_eq!(rotation.old_key_id, secret_box::key_id(&old_key));
        assert_eq!(rotation.new_key_id, secret_box::key_id(&new_key));
        let new_only = Keyring::new(&new_key, &[]);
        let (id, active, _) = stored(&app, email).await;
        let active = active.unwrap();
        assert_eq!(secret_box::classify(&active).unwrap(), Stored::Sealed { key_id: rotation.new_key_id.as_str() });
        assert_sealed(&active, &secret);
        assert_eq!(new_only.open(id, &active).unwrap(), secret, "the new key alone opens it");
        let (other_id, _, other_pending) = stored(&app, "halfway@neogenesys.com").await;
        assert_eq!(new_only.open(other_id, &other_pending.unwrap()).unwrap(), other_secret);
        let events = app.store.conn().await.unwrap().audit_events_with_action("rotate_secret_key", 10).await.unwrap();
        assert_eq!(events.len(), 1, "one installation-level event");
        assert_eq!(events[0].organization_id, None);
        assert_eq!(events[0].details.0["new_key_id"], json!(rotation.new_key_id));

        // An instance with the new key (and the old one, as the rotation
        // says) signs in; its start-up pass finds nothing left to move.
        let address = instance_with_key(&app, &secret_box::encode_key(&new_key), Some(&secret_box::encode_key(&old_key))).await;
        assert_eq!(app.store.conn().await.unwrap().audit_events_with_action("reseal_secrets", 10).await.unwrap().len(), 1,
            "only the rotation's page; the second start resealed nothing");
        app.clock.advance(Duration::seconds(30));
        assert_eq!(sign_in_with_code(&app.client, &address, email, &next_code(&app, &secret)).await, StatusCode::OK);
        // The instance not restarted yet has no key for the moved secret:
        // its TOTP check fails closed, and recovery codes still work there.
        app.clock.advance(Duration::seconds(30));
        assert_eq!(sign_in_with_code(&app.client, &app.address, email, &next_code(&app, &secret)).await, StatusCode::BAD_REQUEST);
        assert_eq!(sign_in_with_code(&app.client, &app.address, email, &recovery[0]).await, StatusCode::OK);
        // Rotating "to" the key in use is refused, and changes nothing.
        let same = operator::rotate_secret_key(&app.state, Some(old_key), &[old_key]).await;
        assert!(matches!(same, Err(neosc::server::error::ServiceError::Conflict(_))));
    }

    async fn secrets_stored_in_plain_text_are_sealed_at_start_up(app: TestApp) {
        let email = "legacy@neogenesys.com";
        app.register_ok(email, "Legacy", None).await;
        let (id, _, _) = stored(&app, email).await;
        // As an installation from before encryption at rest stored it.
        let raw = totp::new_secret();
        let now = app.clock.now();
        app.store.conn().await.unwrap().set_totp(id, Some(raw.as_slice()), None, now).await.unwrap();
        assert_eq!(app.state.secrets.open(id, &raw).unwrap(), raw, "still readable before the pass");

        // Two instances starting at once: each value is sealed once.
        let (a, b) = tokio::join!(secret_keys::seal_stored_secrets(&app.state), secret_keys::seal_stored_secrets(&app.state));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.resealed + b.resealed, 1, "{a:?} {b:?}");
        assert_eq!(a.were_plain + b.were_plain, 1);
        let (_, active, _) = stored(&app, email).await;
        let active = active.unwrap();
        assert_sealed(&active, &raw);
        assert!(app.state.secrets.is_current(&active));
        let again = secret_keys::seal_stored_secrets(&app.state).await.unwrap();
        assert_eq!(again.resealed, 0, "idempotent");

        app.clock.advance(Duration::seconds(30));
        assert_eq!(sign_in_with_code(&app.client, &app.address, email, &next_code(&app, &raw)).await, StatusCode::OK);
        let events = app.store.conn().await.unwrap().audit_events_with_action("reseal_secrets", 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].details.0["were_plain"], json!(1));
    }
}
