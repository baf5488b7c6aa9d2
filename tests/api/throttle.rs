//! Throttles that count exactly: attempts are reserved before they are
//! checked, so concurrent guesses get the budget's checks and no more, and
//! the unauthenticated ways in that cost a hash have budgets per address.

use std::time::Duration;

use neosc::server::auth::totp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection as _;

use crate::helpers::*;

/// Holds the database's write lock, as a long transaction of another
/// instance would, until dropped by `release`: requests pile up at their
/// first write. Whatever they decided before that write (a read-only
/// throttle check) they decided without seeing each other.
enum WriteHold {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl WriteHold {
    async fn take(app: &TestApp) -> Self {
        if app.database_url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
            sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await.unwrap();
            WriteHold::Sqlite(c)
        } else {
            let mut c = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut c).await.unwrap();
            // Writers of the throttle table wait; readers do not.
            sqlx::query("LOCK TABLE auth_throttle IN EXCLUSIVE MODE").execute(&mut c).await.unwrap();
            WriteHold::Postgres(c)
        }
    }

    async fn release(self) {
        match self {
            WriteHold::Sqlite(mut c) => {
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
            }
            WriteHold::Postgres(mut c) => {
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
            }
        }
    }
}

/// Sends `n` requests at once while the write lock is held, then releases
/// it; returns each answer's status.
async fn fire_held(app: &TestApp, n: usize, request: impl Fn() -> reqwest::RequestBuilder) -> Vec<StatusCode> {
    let hold = WriteHold::take(app).await;
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let r = request();
            tokio::spawn(async move { r.send().await.unwrap().status() })
        })
        .collect();
    // Long enough for every request to reach its first write.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    hold.release().await;
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Enrols TOTP for the token's user.
async fn enrol(app: &TestApp, token: &str) {
    let setup: Value = app.post("/api/account/mfa/totp/setup").bearer_auth(token).send().await.unwrap().json().await.unwrap();
    let bytes = data_encoding::BASE32_NOPAD.decode(setup["secret"].as_str().unwrap().as_bytes()).unwrap();
    let now = neosc::server::clock::Clock::now(&*app.clock).timestamp();
    let code = totp::code_at(&bytes, totp::step_of(now));
    let res = app.post_json("/api/account/mfa/totp/confirm", token, json!({ "code": code })).await;
    assert_eq!(res.status(), StatusCode::OK);
}

both_backends! {
    async fn twenty_concurrent_wrong_codes_get_exactly_the_budget(app: TestApp) {
        let (session, _) = app.register_ok("racer@neogenesys.com", "Racer", None).await;
        enrol(&app, &session).await;
        let step: Value = app.login("racer@neogenesys.com", PASSWORD).await.json().await.unwrap();
        let pending = step["token"].as_str().unwrap().to_owned();
        let statuses = fire_held(&app, 20, || {
            app.client.post(app.url("/api/auth/mfa")).bearer_auth(&pending).json(&json!({ "code": "000000" }))
        })
        .await;
        assert_eq!(count(&statuses, StatusCode::BAD_REQUEST), 5, "exactly the budget is checked: {statuses:?}");
        assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 15, "{statuses:?}");
        // A recovery code is a guess like any other: still blocked.
        let res = app.post_json("/api/auth/mfa", &pending, json!({ "code": "aaaa-bbbb-cccc-dddd" })).await;
        assert!(res.headers().contains_key("retry-after"));
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    }

    async fn twenty_concurrent_wrong_passwords_get_exactly_the_budget(app: TestApp) {
        let (_, user) = app.register_ok("target@neogenesys.com", "Target", None).await;
        let before = app.hasher.verifications();
        let statuses = fire_held(&app, 20, || {
            app.client.post(app.url("/api/auth/login")).json(&json!({ "email": "target@neogenesys.com", "password": "wrong password here" }))
        })
        .await;
        assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 5, "exactly the budget is checked: {statuses:?}");
        assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 15, "{statuses:?}");
        assert_eq!(app.hasher.verifications(), before + 5, "the refused ones spent no hash");
        let org = neosc::model::OrgId::parse(user["organization_id"].as_str().unwrap()).unwrap();
        let events = app.store.conn().await.unwrap().audit_events_of_org(org.0, 200).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.action == "login_failed").count(), 5);
        // Recorded once per block, not per refused request (an attacker's
        // retries must not grow the log without bound).
        assert_eq!(events.iter().filter(|e| e.action == "login_throttled").count(), 1, "the block is recorded once");
    }

    async fn concurrent_wrong_current_passwords_get_exactly_the_budget(app: TestApp) {
        let (session, _) = app.register_ok("changer@neogenesys.com", "Changer", None).await;
        let before = app.hasher.verifications();
        let statuses = fire_held(&app, 12, || {
            app.client
                .post(app.url("/api/account/password"))
                .bearer_auth(&session)
                .json(&json!({ "current_password": "wrong password here", "new_password": "a brand new passphrase" }))
        })
        .await;
        assert_eq!(count(&statuses, StatusCode::BAD_REQUEST), 5, "{statuses:?}");
        assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 7, "{statuses:?}");
        assert_eq!(app.hasher.verifications(), before + 5);
    }

    async fn sign_ins_give_their_reservation_back_to_the_address(app: TestApp) {
        app.register_ok("regular@neogenesys.com", "Regular", None).await;
        for i in 0..19 {
            assert_problem(app.login(&format!("spray{i}@neogenesys.com"), "wrong password here").await, StatusCode::UNAUTHORIZED).await;
        }
        // Successes from the address are not failures: they neither fill
        // its budget nor empty it.
        for _ in 0..3 {
            app.login_ok("regular@neogenesys.com", PASSWORD).await;
        }
        assert_problem(app.login("spray-last@neogenesys.com", "wrong password here").await, StatusCode::UNAUTHORIZED).await;
        let res = app.login("regular@neogenesys.com", PASSWORD).await;
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    }

    async fn an_invalid_registration_spends_no_hash(app: TestApp) {
        app.register_ok("taken@neogenesys.com", "Taken", None).await;
        let before = app.hasher.hashes();
        for (body, status) in [
            (json!({ "email": "not an email", "password": PASSWORD, "name": "X" }), StatusCode::BAD_REQUEST),
            (json!({ "email": "short@neogenesys.com", "password": "short", "name": "X" }), StatusCode::BAD_REQUEST),
            (json!({ "email": "common@neogenesys.com", "password": "1qaz2wsx3edc", "name": "X" }), StatusCode::BAD_REQUEST),
            (json!({ "email": "noname@neogenesys.com", "password": PASSWORD, "name": "" }), StatusCode::BAD_REQUEST),
            (json!({ "email": "taken@neogenesys.com", "password": PASSWORD, "name": "Again" }), StatusCode::CONFLICT),
            (json!({ "email": "free@gmail.com", "password": PASSWORD, "name": "X", "organization": "Gmail Fans" }), StatusCode::BAD_REQUEST),
        ] {
            let res = app.register(body.clone()).await;
            assert_eq!(res.status(), status, "{body}");
        }
        assert_eq!(app.hasher.hashes(), before, "refused before any hash");
        app.register_pending("fresh@neogenesys.com", "Fresh", None).await;
        assert_eq!(app.hasher.hashes(), before + 1);
    }
}

/// A flood of registrations from one address: its budget, then 429 with
/// Retry-After and no hash; another address is not affected.
#[test]
fn a_registration_flood_from_one_address_is_throttled_sqlite() {
    runtime().block_on(registration_flood(Backend::Sqlite))
}

#[test]
fn a_registration_flood_from_one_address_is_throttled_postgres() {
    runtime().block_on(registration_flood(Backend::Postgres))
}

async fn registration_flood(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &[("NEOSC_SIGNUPS_PER_HOUR", "3")]).await else { return };
    for i in 0..3 {
        app.register_pending(&format!("flood{i}@neogenesys.com"), "Flood", None).await;
    }
    let before = app.hasher.hashes();
    let res = app.register(json!({ "email": "flood9@neogenesys.com", "password": PASSWORD, "name": "Flood" })).await;
    assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(app.hasher.hashes(), before, "a refused registration spends no hash");
    // The budget is per hour: the next hour has a new one.
    app.clock.advance(chrono::Duration::hours(1));
    app.register_pending("flood9@neogenesys.com", "Flood", None).await;
}
