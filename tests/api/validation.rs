//! Bad input gets a clear 400 problem+json and writes nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

both_backends! {
    async fn bad_registrations_are_400_and_write_nothing(app: TestApp) {
        let before = (app.user_count().await, app.audit_count().await);
        let cases = [
            ("not json", None, "{\"email\": ".to_string()),
            ("missing password", None, json!({ "email": "a@neogenesys.com", "name": "A" }).to_string()),
            ("missing name", None, json!({ "email": "a@neogenesys.com", "password": PASSWORD }).to_string()),
            ("invalid email", Some("email"), json!({ "email": "not-an-email", "password": PASSWORD, "name": "A" }).to_string()),
            ("short password", Some("password"), json!({ "email": "a@neogenesys.com", "password": "short", "name": "A" }).to_string()),
            ("password equals email", Some("password"), json!({ "email": "a-long-address@neogenesys.com", "password": "a-long-address@neogenesys.com", "name": "A" }).to_string()),
            ("blank name", Some("name"), json!({ "email": "a@neogenesys.com", "password": PASSWORD, "name": "   " }).to_string()),
            ("organization of one letter", Some("organization"), json!({ "email": "a@neogenesys.com", "password": PASSWORD, "name": "A", "organization": "x" }).to_string()),
            ("unknown field", None, json!({ "email": "a@neogenesys.com", "password": PASSWORD, "name": "A", "role": "platform_admin" }).to_string()),
        ];
        for (what, field, body) in cases {
            let res = app
                .post("/api/auth/register")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let problem = assert_problem(res, StatusCode::BAD_REQUEST).await;
            if let Some(field) = field {
                assert_eq!(problem["field"], field, "{what}: {problem}");
            }
        }
        let res = app.post("/api/auth/register").body("email=a@neogenesys.com").send().await.unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST).await;
        assert_eq!((app.user_count().await, app.audit_count().await), before, "nothing written");
    }

    async fn bad_logins_are_400_or_401(app: TestApp) {
        let res = app.post("/api/auth/login").header("content-type", "application/json").body("[]").send().await.unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST).await;
        let res = app.post("/api/auth/login").json(&json!({ "email": ADMIN_EMAIL, "password": "" })).send().await.unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST).await;
    }
}
