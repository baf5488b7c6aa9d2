//! Changes that would make a briefly stolen session permanent (an API
//! token, the second factor) need a sign-in from the last five minutes.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const REAUTH_TYPE: &str = "https://neosc.dev/problems/reauthentication-required";

both_backends! {
    async fn tokens_and_second_factor_need_a_recent_sign_in_which_the_password_renews(app: TestApp) {
        let (session, _) = app.register_ok("recent@neogenesys.com", "Recent", None).await;
        // Fresh from signing in: allowed.
        let res = app.post_json("/api/account/tokens", &session, json!({ "name": "fresh" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let token = res.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned();

        // Six minutes on, the session still works for everything else…
        app.clock.advance(Duration::minutes(6));
        assert_eq!(app.me(&session).await.status(), StatusCode::OK);
        // …but not for these, each with the problem type a client can act on.
        for (path, body) in [
            ("/api/account/tokens", json!({ "name": "stale" })),
            ("/api/account/mfa/totp/setup", json!({})),
            ("/api/account/mfa/totp/confirm", json!({ "code": "000000" })),
        ] {
            let problem = assert_problem(app.post_json(path, &session, body).await, StatusCode::FORBIDDEN).await;
            assert_eq!(problem["type"], REAUTH_TYPE, "{path}");
        }
        // An API token never counts as a recent sign-in.
        let problem = assert_problem(app.post("/api/account/mfa/totp/setup").bearer_auth(&token).send().await.unwrap(), StatusCode::FORBIDDEN).await;
        assert_eq!(problem["type"], REAUTH_TYPE);
        let res = app.post_json("/api/auth/reauthenticate", &token, json!({ "password": PASSWORD })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;

        // A wrong password renews nothing and counts as a failure.
        let audit_before = app.audit_count().await;
        let problem = assert_problem(app.post_json("/api/auth/reauthenticate", &session, json!({ "password": "not the password" })).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"], "password");
        assert_eq!(app.audit_count().await, audit_before + 1, "the failure is audited");

        let res = app.post_json("/api/auth/reauthenticate", &session, json!({ "password": PASSWORD })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let renewed = res.json::<serde_json::Value>().await.unwrap();
        assert_eq!(renewed["stage"], "full");
        let renewed = renewed["token"].as_str().unwrap().to_owned();
        assert_ne!(renewed, session);
        assert_eq!(app.me(&session).await.status(), StatusCode::UNAUTHORIZED, "the old session was replaced");
        let res = app.post_json("/api/account/tokens", &renewed, json!({ "name": "after confirming" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = app.post("/api/account/mfa/totp/setup").bearer_auth(&renewed).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);

        // And it wears off again.
        app.clock.advance(Duration::minutes(6));
        let problem = assert_problem(app.post_json("/api/account/mfa/disable", &renewed, json!({ "code": "000000" })).await, StatusCode::FORBIDDEN).await;
        assert_eq!(problem["type"], REAUTH_TYPE);
    }

    async fn confirming_the_password_in_the_browser_renews_the_cookie(app: TestApp) {
        app.register_ok("cookie@neogenesys.com", "Cookie", None).await;
        let res = app.post("/api/fn/login").form(&[("email", "cookie@neogenesys.com"), ("password", PASSWORD)]).send().await.unwrap();
        let cookie = session_of(&res).expect("a session cookie");
        app.clock.advance(Duration::minutes(10));
        let res = app.post("/api/fn/create_token").header("cookie", &cookie).form(&[("name", "stale"), ("expires_in_days", "")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["kind"], "reauth_required", "{body}");

        let res = app.post("/api/fn/reauthenticate").header("cookie", &cookie).form(&[("password", PASSWORD)]).send().await.unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        let renewed = session_of(&res).expect("a session cookie");
        assert_ne!(renewed, cookie);
        let res = app.post("/api/fn/create_token").header("cookie", &renewed).form(&[("name", "fresh"), ("expires_in_days", "")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    async fn token_lifetimes_are_capped_by_the_installation(app: TestApp) {
        let (session, _) = app.register_ok("cap@neogenesys.com", "Cap", None).await;
        let res = app.post_json("/api/account/tokens", &session, json!({ "name": "a year", "expires_in_days": 365 })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let problem = assert_problem(app.post_json("/api/account/tokens", &session, json!({ "name": "longer", "expires_in_days": 366 })).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"], "expires_in_days");
        assert!(problem["detail"].as_str().unwrap().contains("365"), "{problem}");
    }
}
