//! Registration, sign-in, sign-out and sessions.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

both_backends! {
    async fn register_login_me_logout(app: TestApp) {
        let (reg_token, user) = app.register_ok("john@neogenesys.com", "John Doe", None).await;
        assert_eq!(user["email"], "john@neogenesys.com");
        assert_eq!(user["name"], "John Doe");
        assert!(user["id"].as_str().unwrap().starts_with("usr-"));
        assert_eq!(user["mfa_enabled"], false, "MFA is the real state, not a display flag");
        assert_eq!(app.me(&reg_token).await.status(), StatusCode::OK);

        let token = app.login_ok("John@NeoGenesys.com", PASSWORD).await;
        assert_ne!(token, reg_token, "each sign-in gets its own session");
        let me: Value = app.me(&token).await.json().await.unwrap();
        assert_eq!(me["email"], "john@neogenesys.com");

        let res = app.post("/api/auth/logout").bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_problem(app.me(&token).await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(app.me(&reg_token).await.status(), StatusCode::OK, "other sessions live on");
    }

    async fn wrong_password_and_unknown_email_get_the_same_answer(app: TestApp) {
        app.register_ok("jane@neogenesys.com", "Jane", None).await;
        let wrong = assert_problem(app.login("jane@neogenesys.com", "not the password at all").await, StatusCode::UNAUTHORIZED).await;
        let unknown = assert_problem(app.login("nobody@neogenesys.com", "not the password at all").await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(wrong["detail"], unknown["detail"]);
        assert_eq!(wrong["type"], unknown["type"]);
    }

    async fn missing_or_forged_tokens_are_refused(app: TestApp) {
        assert_problem(app.get("/api/auth/me").send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
        assert_problem(app.me("forged-token").await, StatusCode::UNAUTHORIZED).await;
        assert_problem(app.get("/api/organizations").send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
        let res = app.post("/api/auth/logout").send().await.unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED).await;
    }

    async fn passwords_are_stored_as_argon2id_with_the_owasp_parameters(app: TestApp) {
        app.register_ok("hash@neogenesys.com", "Hash", None).await;
        let user = app.store.conn().await.unwrap().user_by_email("hash@neogenesys.com").await.unwrap().unwrap();
        let phc = user.password_hash.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains(PASSWORD));
    }

    async fn duplicate_email_is_a_conflict(app: TestApp) {
        app.register_ok("dup@neogenesys.com", "Dup", None).await;
        let before = app.user_count().await;
        let res = app.register(json!({ "email": "DUP@neogenesys.com", "password": PASSWORD, "name": "Dup 2" })).await;
        assert_problem(res, StatusCode::CONFLICT).await;
        assert_eq!(app.user_count().await, before);
    }

    async fn browser_sign_in_sets_a_hardened_cookie_that_authenticates(app: TestApp) {
        app.register_ok("cookie@neogenesys.com", "Cookie", None).await;
        let res = app
            .post("/api/fn/login")
            .form(&[("email", "cookie@neogenesys.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success() || res.status().is_redirection(), "{}", res.status());
        let cookie = res.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_owned();
        assert!(cookie.starts_with("neosc_session="), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
        let pair = cookie.split(';').next().unwrap().to_owned();
        let me = app.get("/api/auth/me").header("cookie", &pair).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::OK);

        let page = app.get("/organizations").header("cookie", &pair).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("Organizations"), "the page renders on the server");

        let out = app.post("/api/fn/logout").header("cookie", &pair).send().await.unwrap();
        let cleared = out.headers().get("set-cookie").unwrap().to_str().unwrap();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        assert_eq!(app.get("/api/auth/me").header("cookie", &pair).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }

    async fn pages_redirect_by_session_state(app: TestApp) {
        let res = app.get("/organizations").send().await.unwrap();
        assert!(res.status().is_redirection());
        assert_eq!(res.headers()["location"], "/login");
        assert_eq!(app.get("/login").send().await.unwrap().status(), StatusCode::OK);

        let (token, _) = app.register_ok("pages@neogenesys.com", "Pages", None).await;
        let cookie = format!("neosc_session={token}");
        let res = app.get("/login").header("cookie", &cookie).send().await.unwrap();
        assert!(res.status().is_redirection());
        assert_eq!(res.headers()["location"], "/organizations");
    }

    async fn sign_ins_that_owe_a_step_are_sent_to_it(app: TestApp) {
        let (token, user) = app.register_ok("steps@neogenesys.com", "Steps", None).await;
        let org = neosc::model::OrgId::parse(user["organization_id"].as_str().unwrap()).unwrap();
        app.store.conn().await.unwrap().set_org_require_mfa(org.0, true, chrono::Utc::now()).await.unwrap();
        let cookie = format!("neosc_session={token}");
        let res = app.get("/organizations").header("cookie", &cookie).send().await.unwrap();
        assert_eq!(res.headers()["location"], "/account/mfa", "a live session from before the policy owes enrolment at once");

        let step: Value = app.login("steps@neogenesys.com", PASSWORD).await.json().await.unwrap();
        let partial = format!("neosc_session={}", step["token"].as_str().unwrap());
        for page in ["/organizations", "/account", "/"] {
            let res = app.get(page).header("cookie", &partial).send().await.unwrap();
            assert_eq!(res.headers()["location"], "/account/mfa", "{page}");
        }
        assert_eq!(app.get("/account/mfa").header("cookie", &partial).send().await.unwrap().status(), StatusCode::OK);
        let res = app.get("/login/mfa").header("cookie", &partial).send().await.unwrap();
        assert_eq!(res.headers()["location"], "/account/mfa");
        let res = app.get("/login/mfa").send().await.unwrap();
        assert_eq!(res.headers()["location"], "/login");
    }

    async fn cross_site_posts_are_refused(app: TestApp) {
        let before = app.user_count().await;
        let res = app
            .post("/api/auth/register")
            .header("origin", "http://evil.example")
            .json(&json!({ "email": "csrf@neogenesys.com", "password": PASSWORD, "name": "C" }))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::FORBIDDEN).await;
        let res = app
            .post("/api/fn/login")
            .header("sec-fetch-site", "cross-site")
            .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.headers().get("set-cookie").is_none());
        assert_eq!(app.user_count().await, before);

        let same = app.address.clone();
        let res = app
            .post("/api/auth/login")
            .header("origin", same)
            .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "same-origin requests pass");
    }
}

both_backends! {
    async fn answers_that_carry_secrets_are_never_cached(app: TestApp) {
        let res = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(res.headers()["cache-control"], "no-store", "a session token");
        let token = res.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        let res = app.post("/api/account/mfa/totp/setup").bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.headers()["cache-control"], "no-store", "a TOTP secret");
        let res = app.post("/api/fn/login").form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).send().await.unwrap();
        assert_eq!(res.headers()["cache-control"], "no-store", "a server function");
        // Plain http: no HSTS (it would be ignored, and wrong for a dev box).
        assert!(app.get("/healthz").send().await.unwrap().headers().get("strict-transport-security").is_none());
    }
}

const HTTPS: &[(&str, &str)] = &[("NEOSC_PUBLIC_URL", "https://console.neosc.test")];

both_backends! {
    env = HTTPS;
    async fn behind_https_browsers_are_told_to_stay_on_https(app: TestApp) {
        for path in ["/healthz", "/login", "/api/openapi.json"] {
            let res = app.get(path).send().await.unwrap();
            assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains", "{path}");
        }
    }
}
