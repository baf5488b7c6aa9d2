//! Identity hardening: throttling, session lifetimes, password changes,
//! roles, API tokens and TOTP.

use chrono::Duration;
use neosc::server::auth::totp;
use neosc::server::clock::Clock as _;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// The current TOTP code for a base32 secret, by the app's clock.
fn code(app: &TestApp, secret: &str) -> String {
    let bytes = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).unwrap();
    totp::code_at(&bytes, totp::step_of(neosc::server::clock::Clock::now(&*app.clock).timestamp()))
}

/// Enrols TOTP for the token's user; returns the secret and recovery codes.
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let res = app.post("/api/account/mfa/totp/setup").bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let setup: Value = res.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert!(setup["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/NeoSC:"));
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));
    let res = app.post_json("/api/account/mfa/totp/confirm", token, json!({ "code": code(app, &secret) })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let codes: Vec<String> = body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn audit_actions(app: &TestApp, user: &Value) -> Vec<String> {
    let org = neosc::model::OrgId::parse(user["organization_id"].as_str().unwrap()).unwrap();
    let events = app.store.conn().await.unwrap().audit_events_of_org(org.0, 200).await.unwrap();
    events.into_iter().map(|e| e.action).collect()
}

both_backends! {
    async fn failed_sign_ins_back_off_and_the_wait_expires(app: TestApp) {
        let (_, user) = app.register_ok("victim@neogenesys.com", "Victim", None).await;
        for _ in 0..5 {
            assert_problem(app.login("victim@neogenesys.com", "wrong password here").await, StatusCode::UNAUTHORIZED).await;
        }
        // Even the right password waits now, with an honest Retry-After.
        let res = app.login("victim@neogenesys.com", PASSWORD).await;
        assert_eq!(res.headers()["retry-after"], "30");
        let problem = assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
        assert_eq!(problem["type"], "https://neosc.dev/problems/too-many-requests");
        let actions = audit_actions(&app, &user).await;
        assert_eq!(actions.iter().filter(|a| *a == "login_failed").count(), 5);
        assert!(actions.iter().any(|a| a == "login_throttled"));

        app.clock.advance(Duration::seconds(31));
        app.login_ok("victim@neogenesys.com", PASSWORD).await;
        // Success forgot the failures: one more miss does not block.
        assert_problem(app.login("victim@neogenesys.com", "wrong password here").await, StatusCode::UNAUTHORIZED).await;
        app.login_ok("victim@neogenesys.com", PASSWORD).await;
    }

    async fn unknown_accounts_cost_a_password_check_like_known_ones(app: TestApp) {
        app.register_ok("known@neogenesys.com", "Known", None).await;
        let before = app.hasher.verifications();
        assert_problem(app.login("known@neogenesys.com", "wrong password here").await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(app.hasher.verifications(), before + 1);
        assert_problem(app.login("unknown@neogenesys.com", "wrong password here").await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(app.hasher.verifications(), before + 2, "the unknown account is checked against the dummy hash");
    }

    async fn one_address_failing_on_many_accounts_is_throttled(app: TestApp) {
        for i in 0..20 {
            let res = app.login(&format!("spray{i}@neogenesys.com"), "wrong password here").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        }
        let res = app.login("spray-next@neogenesys.com", "wrong password here").await;
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    }

    async fn the_backoff_doubles_and_unknown_accounts_are_throttled_alike(app: TestApp) {
        for _ in 0..6 {
            let res = app.login("ghost@neogenesys.com", "wrong password here").await;
            assert!(matches!(res.status(), StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS));
            app.clock.advance(Duration::seconds(31));
        }
        let res = app.login("ghost@neogenesys.com", "wrong password here").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "6 failures: a 60 s wait, 31 s of it passed");
    }

    async fn common_passwords_are_refused(app: TestApp) {
        let res = app.register(json!({ "email": "c@neogenesys.com", "password": "1qaz2wsx3edc", "name": "C" })).await;
        let problem = assert_problem(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"], "password");
        assert!(problem["detail"].as_str().unwrap().contains("common"));
    }

    async fn sessions_end_when_idle_and_at_their_absolute_lifetime(app: TestApp) {
        app.register_ok("idle@neogenesys.com", "Idle", None).await;
        let idle = app.login_ok("idle@neogenesys.com", PASSWORD).await;
        app.clock.advance(Duration::minutes(29));
        assert_eq!(app.me(&idle).await.status(), StatusCode::OK, "29 minutes idle is fine");
        app.clock.advance(Duration::minutes(30));
        assert_problem(app.me(&idle).await, StatusCode::UNAUTHORIZED).await;

        let busy = app.login_ok("idle@neogenesys.com", PASSWORD).await;
        for _ in 0..(12 * 3 - 1) {
            app.clock.advance(Duration::minutes(20));
            assert_eq!(app.me(&busy).await.status(), StatusCode::OK);
        }
        app.clock.advance(Duration::minutes(21));
        assert_problem(app.me(&busy).await, StatusCode::UNAUTHORIZED).await;
    }

    async fn changing_the_password_ends_every_other_session(app: TestApp) {
        let (_, user) = app.register_ok("pw@neogenesys.com", "Pw", None).await;
        let a = app.login_ok("pw@neogenesys.com", PASSWORD).await;
        let b = app.login_ok("pw@neogenesys.com", PASSWORD).await;
        let wrong = app.post_json("/api/account/password", &a, json!({ "current_password": "not it at all", "new_password": "a brand new passphrase" })).await;
        assert_eq!(assert_problem(wrong, StatusCode::BAD_REQUEST).await["field"], "current_password");
        let res = app.post_json("/api/account/password", &a, json!({ "current_password": PASSWORD, "new_password": "a brand new passphrase" })).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.me(&a).await.status(), StatusCode::OK);
        assert_problem(app.me(&b).await, StatusCode::UNAUTHORIZED).await;
        assert_problem(app.login("pw@neogenesys.com", PASSWORD).await, StatusCode::UNAUTHORIZED).await;
        app.login_ok("pw@neogenesys.com", "a brand new passphrase").await;
        assert!(audit_actions(&app, &user).await.iter().any(|a| a == "change_password"));
    }

    async fn people_list_and_end_their_own_sessions_only(app: TestApp) {
        app.register_ok("s1@neogenesys.com", "S1", None).await;
        let (other, _) = app.register_ok("s2@neogenesys.com", "S2", None).await;
        let mine = app.login_ok("s1@neogenesys.com", PASSWORD).await;
        let second = app.login_ok("s1@neogenesys.com", PASSWORD).await;
        let list: Vec<Value> = app.get("/api/account/sessions").bearer_auth(&mine).send().await.unwrap().json().await.unwrap();
        assert_eq!(list.len(), 3, "registration, and two sign-ins");
        assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
        let victim = list.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

        let theirs: Vec<Value> = app.get("/api/account/sessions").bearer_auth(&other).send().await.unwrap().json().await.unwrap();
        let res = app.delete(&format!("/api/account/sessions/{}", theirs[0]["id"].as_str().unwrap())).bearer_auth(&mine).send().await.unwrap();
        assert_problem(res, StatusCode::NOT_FOUND).await;
        assert_eq!(app.me(&other).await.status(), StatusCode::OK);

        let res = app.delete(&format!("/api/account/sessions/{victim}")).bearer_auth(&mine).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let left: Vec<Value> = app.get("/api/account/sessions").bearer_auth(&mine).send().await.unwrap().json().await.unwrap();
        assert_eq!(left.len(), 2);
        let _ = second;
    }

    async fn a_browser_sign_in_replaces_the_session_it_came_with(app: TestApp) {
        app.register_ok("rot@neogenesys.com", "Rot", None).await;
        let sign_in = |cookie: Option<String>| {
            let mut req = app.post("/api/fn/login").form(&[("email", "rot@neogenesys.com"), ("password", PASSWORD)]);
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            req.send()
        };
        let first = sign_in(None).await.unwrap();
        let first = first.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let second = sign_in(Some(first.clone())).await.unwrap();
        let second = second.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        assert_ne!(first, second, "a new session id at sign-in");
        assert_eq!(app.get("/api/auth/me").header("cookie", &first).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/api/auth/me").header("cookie", &second).send().await.unwrap().status(), StatusCode::OK);
    }

    async fn api_tokens_are_shown_once_work_as_bearer_expire_and_revoke(app: TestApp) {
        let (session, _) = app.register_ok("bot@neogenesys.com", "Bot", None).await;
        let res = app.post_json("/api/account/tokens", &session, json!({ "name": "ci", "expires_in_days": 1 })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let created: Value = res.json().await.unwrap();
        let token = created["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("nsc_pat_"));
        let me: Value = app.me(&token).await.json().await.unwrap();
        assert_eq!(me["email"], "bot@neogenesys.com");
        assert_eq!(app.get("/api/organizations").bearer_auth(&token).send().await.unwrap().status(), StatusCode::OK);

        let list = app.get("/api/account/tokens").bearer_auth(&session).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("\"ci\"") && !list.contains(&token), "listed without the secret");
        let res = app.post_json("/api/account/tokens", &token, json!({ "name": "from a token" })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
        let res = app.post_json("/api/account/tokens", &session, json!({ "name": "forever", "expires_in_days": 9999 })).await;
        assert_problem(res, StatusCode::BAD_REQUEST).await;

        app.clock.advance(Duration::days(2));
        assert_problem(app.me(&token).await, StatusCode::UNAUTHORIZED).await;

        let session = app.login_ok("bot@neogenesys.com", PASSWORD).await;
        // Without a lifetime a token lives 90 days, not for ever.
        let res = app.post_json("/api/account/tokens", &session, json!({ "name": "default lifetime" })).await;
        let created: Value = res.json().await.unwrap();
        let token = created["token"].as_str().unwrap().to_owned();
        assert_eq!(app.me(&token).await.status(), StatusCode::OK);
        let expires = chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().expect("an expiry")).unwrap();
        let days = (expires.with_timezone(&chrono::Utc) - app.clock.now()).num_days();
        assert!((89..=90).contains(&days), "{days} days");
        let res = app.delete(&format!("/api/account/tokens/{}", created["id"].as_str().unwrap())).bearer_auth(&session).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_problem(app.me(&token).await, StatusCode::UNAUTHORIZED).await;
    }

    async fn totp_enrolment_sign_in_replay_and_recovery_codes(app: TestApp) {
        let (session, user) = app.register_ok("mfa@neogenesys.com", "Mfa", None).await;
        let (secret, recovery) = enrol(&app, &session).await;
        let me: Value = app.me(&session).await.json().await.unwrap();
        assert_eq!(me["mfa_enabled"], true);

        // Password step: a token that is good for the code step only.
        let res = app.login("mfa@neogenesys.com", PASSWORD).await;
        let step: Value = res.json().await.unwrap();
        assert_eq!(step["stage"], "mfa_pending");
        assert!(step.get("user").is_none(), "nothing about the account before the second factor");
        let pending = step["token"].as_str().unwrap().to_owned();
        assert_problem(app.me(&pending).await, StatusCode::UNAUTHORIZED).await;
        assert_problem(app.get("/api/organizations").bearer_auth(&pending).send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
        let wrong = app.post_json("/api/auth/mfa", &pending, json!({ "code": "000000" })).await;
        assert_problem(wrong, StatusCode::BAD_REQUEST).await;

        // The code from enrolment was used in this time step already.
        let replay = app.post_json("/api/auth/mfa", &pending, json!({ "code": code(&app, &secret) })).await;
        assert_problem(replay, StatusCode::BAD_REQUEST).await;
        app.clock.advance(Duration::seconds(30));
        let now_code = code(&app, &secret);
        let res = app.post_json("/api/auth/mfa", &pending, json!({ "code": now_code })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let full: Value = res.json().await.unwrap();
        assert_eq!(full["stage"], "full");
        let full_token = full["token"].as_str().unwrap().to_owned();
        assert_ne!(full_token, pending, "the session is rotated at step-up");
        assert_eq!(app.me(&full_token).await.status(), StatusCode::OK);
        assert_problem(app.me(&pending).await, StatusCode::UNAUTHORIZED).await;

        // The same code on another sign-in in the same step is a replay.
        let again: Value = app.login("mfa@neogenesys.com", PASSWORD).await.json().await.unwrap();
        let pending2 = again["token"].as_str().unwrap().to_owned();
        assert_problem(app.post_json("/api/auth/mfa", &pending2, json!({ "code": now_code })).await, StatusCode::BAD_REQUEST).await;
        // A recovery code works once, in any case and spacing.
        let messy = recovery[0].to_uppercase().replace('-', " ");
        assert_eq!(app.post_json("/api/auth/mfa", &pending2, json!({ "code": messy })).await.status(), StatusCode::OK);
        let again: Value = app.login("mfa@neogenesys.com", PASSWORD).await.json().await.unwrap();
        let pending3 = again["token"].as_str().unwrap().to_owned();
        assert_problem(app.post_json("/api/auth/mfa", &pending3, json!({ "code": recovery[0] })).await, StatusCode::BAD_REQUEST).await;

        // Turning it off needs a code.
        assert_problem(app.post_json("/api/account/mfa/disable", &full_token, json!({ "code": "123456" })).await, StatusCode::BAD_REQUEST).await;
        let res = app.post_json("/api/account/mfa/disable", &full_token, json!({ "code": recovery[1] })).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let me: Value = app.me(&full_token).await.json().await.unwrap();
        assert_eq!(me["mfa_enabled"], false);
        let actions = audit_actions(&app, &user).await;
        for expected in ["mfa_enabled", "mfa_failed", "recovery_code_used", "mfa_disabled"] {
            assert!(actions.iter().any(|a| a == expected), "{expected} missing from {actions:?}");
        }
    }

    async fn wrong_codes_are_throttled(app: TestApp) {
        let (session, _) = app.register_ok("brute@neogenesys.com", "Brute", None).await;
        enrol(&app, &session).await;
        let step: Value = app.login("brute@neogenesys.com", PASSWORD).await.json().await.unwrap();
        let pending = step["token"].as_str().unwrap().to_owned();
        for _ in 0..5 {
            assert_problem(app.post_json("/api/auth/mfa", &pending, json!({ "code": "000000" })).await, StatusCode::BAD_REQUEST).await;
        }
        assert_problem(app.post_json("/api/auth/mfa", &pending, json!({ "code": "000000" })).await, StatusCode::TOO_MANY_REQUESTS).await;
    }

    async fn an_organization_that_requires_mfa_makes_members_enrol_first(app: TestApp) {
        let (_, user) = app.register_ok("req@neogenesys.com", "Req", None).await;
        let org = neosc::model::OrgId::parse(user["organization_id"].as_str().unwrap()).unwrap();
        app.store.conn().await.unwrap().set_org_require_mfa(org.0, true, chrono::Utc::now()).await.unwrap();

        let step: Value = app.login("req@neogenesys.com", PASSWORD).await.json().await.unwrap();
        assert_eq!(step["stage"], "enrol_required");
        let token = step["token"].as_str().unwrap().to_owned();
        assert_problem(app.get("/api/organizations").bearer_auth(&token).send().await.unwrap(), StatusCode::FORBIDDEN).await;
        let setup: Value = app.post("/api/account/mfa/totp/setup").bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let secret = setup["secret"].as_str().unwrap();
        let res = app.post_json("/api/account/mfa/totp/confirm", &token, json!({ "code": code(&app, secret) })).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["session"]["stage"], "full");
        let full = body["session"]["token"].as_str().unwrap();
        assert_eq!(app.get("/api/organizations").bearer_auth(full).send().await.unwrap().status(), StatusCode::OK);
        assert_problem(app.me(&token).await, StatusCode::UNAUTHORIZED).await;
        let res = app.post_json("/api/account/mfa/disable", full, json!({ "code": body["recovery_codes"][0] })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
    }

    async fn roles_change_at_once_within_scope(app: TestApp) {
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let (worker, worker_user) = app.register_ok("worker@acme.test", "Worker", None).await;
        let (outsider, _) = app.register_founder("boss@globex.test", "Other boss", "Globex").await;
        let worker_id = worker_user["id"].as_str().unwrap();

        let res = app.patch_json(&format!("/api/users/{worker_id}"), &worker, json!({ "role": "org_admin" })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
        let res = app.patch_json(&format!("/api/users/{worker_id}"), &outsider, json!({ "role": "user" })).await;
        assert_problem(res, StatusCode::NOT_FOUND).await;
        let res = app.patch_json(&format!("/api/users/{worker_id}"), &boss, json!({ "role": "platform_admin" })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;

        let res = app.patch_json(&format!("/api/users/{worker_id}"), &boss, json!({ "role": "org_admin" })).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let me: Value = app.me(&worker).await.json().await.unwrap();
        assert_eq!(me["role"], "org_admin", "the same session sees the new role on its next request");

        // The outsider's attempt is on record in the outsider's organization.
        let outsider_me: Value = app.me(&outsider).await.json().await.unwrap();
        assert!(audit_actions(&app, &outsider_me).await.iter().any(|a| a == "cross_org_access_denied"));
    }

    async fn disabling_ends_sessions_and_blocks_sign_in(app: TestApp) {
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let (worker, worker_user) = app.register_ok("worker@acme.test", "Worker", None).await;
        let worker_id = worker_user["id"].as_str().unwrap();
        let res = app.post(&format!("/api/users/{worker_id}/disable")).bearer_auth(&boss).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_problem(app.me(&worker).await, StatusCode::UNAUTHORIZED).await;
        assert_problem(app.login("worker@acme.test", PASSWORD).await, StatusCode::FORBIDDEN).await;
        let res = app.post(&format!("/api/users/{worker_id}/enable")).bearer_auth(&boss).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let again = app.login_ok("worker@acme.test", PASSWORD).await;

        let res = app.delete(&format!("/api/users/{worker_id}/sessions")).bearer_auth(&boss).send().await.unwrap();
        let ended: Value = res.json().await.unwrap();
        assert_eq!(ended["ended"], 1);
        assert_problem(app.me(&again).await, StatusCode::UNAUTHORIZED).await;
    }

    async fn api_tokens_die_with_every_remediation(app: TestApp) {
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let (worker, worker_user) = app.register_ok("worker@acme.test", "Worker", None).await;
        let worker_id = worker_user["id"].as_str().unwrap().to_owned();
        let make_token = |session: String| {
            let app = &app;
            async move {
                let res = app.post_json("/api/account/tokens", &session, json!({ "name": "stolen?" })).await;
                assert_eq!(res.status(), StatusCode::CREATED);
                res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
            }
        };
        // The owner changes their password: their tokens go.
        let token = make_token(worker.clone()).await;
        let res = app
            .post_json("/api/account/password", &worker, json!({ "current_password": PASSWORD, "new_password": "a brand new passphrase" }))
            .await;
        assert!(res.status().is_success(), "{}", res.status());
        assert_problem(app.me(&token).await, StatusCode::UNAUTHORIZED).await;
        // An admin signs them out everywhere: tokens included.
        let session = app.login_ok("worker@acme.test", "a brand new passphrase").await;
        let token = make_token(session).await;
        let res = app.delete(&format!("/api/users/{worker_id}/sessions")).bearer_auth(&boss).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_problem(app.me(&token).await, StatusCode::UNAUTHORIZED).await;
        // Disabled, then enabled again: nothing made before comes back.
        let session = app.login_ok("worker@acme.test", "a brand new passphrase").await;
        let token = make_token(session).await;
        for action in ["disable", "enable"] {
            let res = app.post(&format!("/api/users/{worker_id}/{action}")).bearer_auth(&boss).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
        }
        assert_problem(app.me(&token).await, StatusCode::UNAUTHORIZED).await;
        // The operator resets the password.
        let session = app.login_ok("worker@acme.test", "a brand new passphrase").await;
        let token = make_token(session).await;
        neosc::server::service::operator::reset_password(&app.state, "worker@acme.test").await.unwrap();
        assert_problem(app.me(&token).await, StatusCode::UNAUTHORIZED).await;
    }

    async fn a_newly_required_second_factor_applies_to_live_sessions_and_tokens(app: TestApp) {
        let (boss, boss_user) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let (worker, _) = app.register_ok("worker@acme.test", "Worker", None).await;
        let token: Value = app.post_json("/api/account/tokens", &worker, json!({ "name": "ci" })).await.json().await.unwrap();
        let token = token["token"].as_str().unwrap().to_owned();
        let org = boss_user["organization_id"].as_str().unwrap();
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = app.patch_json(&format!("/api/organizations/{org}"), &admin, json!({ "require_mfa": true })).await;
        assert_eq!(res.status(), StatusCode::OK);
        // Neither the live session (up to 12 h) nor the token (forever)
        // outlives the rule: both owe enrolment now.
        for credential in [&worker, &token, &boss] {
            let res = app.get("/api/organizations").bearer_auth(credential).send().await.unwrap();
            let problem = assert_problem(res, StatusCode::FORBIDDEN).await;
            assert!(problem["detail"].as_str().unwrap().contains("two-factor"), "{problem}");
        }
    }

    async fn the_last_platform_admin_stays(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let me: Value = app.me(&admin).await.json().await.unwrap();
        let id = me["id"].as_str().unwrap();
        let res = app.patch_json(&format!("/api/users/{id}"), &admin, json!({ "role": "user" })).await;
        assert_problem(res, StatusCode::CONFLICT).await;
        let (_, other) = app.register_ok("second@neogenesys.com", "Second", None).await;
        let other_id = other["id"].as_str().unwrap();
        let res = app.patch_json(&format!("/api/users/{other_id}"), &admin, json!({ "role": "platform_admin" })).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let second = app.login_ok("second@neogenesys.com", PASSWORD).await;
        let res = app.post(&format!("/api/users/{id}/disable")).bearer_auth(&second).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "two admins: one may go");
        let res = app.post(&format!("/api/users/{other_id}/disable")).bearer_auth(&second).send().await.unwrap();
        assert_problem(res, StatusCode::CONFLICT).await;
    }

    async fn operators_create_platform_admins_with_one_time_passwords(app: TestApp) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_neosc"))
            .args(["admin", "create", "--email", "ops@neosc.test", "--name", "Ops", "--platform-admin"])
            .env("DATABASE_URL", &app.database_url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let one_time = String::from_utf8(out.stdout).unwrap().lines().last().unwrap().trim().to_owned();
        let step: Value = app.login("ops@neosc.test", &one_time).await.json().await.unwrap();
        assert_eq!(step["stage"], "password_change_required");
        let token = step["token"].as_str().unwrap().to_owned();
        let res = app.post_json("/api/account/password", &token, json!({ "current_password": one_time, "new_password": "operator chosen passphrase" })).await;
        let full: Value = res.json().await.unwrap();
        let admin = full["token"].as_str().unwrap();
        let me: Value = app.me(admin).await.json().await.unwrap();
        assert_eq!(me["role"], "platform_admin");
        let again = std::process::Command::new(env!("CARGO_BIN_EXE_neosc"))
            .args(["admin", "create", "--email", "ops@neosc.test"])
            .env("DATABASE_URL", &app.database_url)
            .output()
            .unwrap();
        assert!(!again.status.success(), "an existing account is not created twice");
    }

    async fn operators_reset_passwords_to_one_time_ones(app: TestApp) {
        let (session, _) = app.register_ok("forgot@neogenesys.com", "Forgot", None).await;
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_neosc"))
            .args(["admin", "reset-password", "--email", "forgot@neogenesys.com"])
            .env("DATABASE_URL", &app.database_url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let one_time = stdout.lines().last().unwrap().trim().to_owned();
        assert_problem(app.me(&session).await, StatusCode::UNAUTHORIZED).await;
        assert_problem(app.login("forgot@neogenesys.com", PASSWORD).await, StatusCode::UNAUTHORIZED).await;

        let step: Value = app.login("forgot@neogenesys.com", &one_time).await.json().await.unwrap();
        assert_eq!(step["stage"], "password_change_required");
        let token = step["token"].as_str().unwrap().to_owned();
        assert_problem(app.get("/api/organizations").bearer_auth(&token).send().await.unwrap(), StatusCode::FORBIDDEN).await;
        let res = app.post_json("/api/account/password", &token, json!({ "current_password": one_time, "new_password": "my own passphrase again" })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let full: Value = res.json().await.unwrap();
        assert_eq!(full["stage"], "full");
        app.login_ok("forgot@neogenesys.com", "my own passphrase again").await;
    }
}
