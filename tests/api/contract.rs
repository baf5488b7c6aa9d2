//! The OpenAPI document and the router come from the same declarations
//! (`routes!` in `src/server/rest/mod.rs`): these tests hold the two
//! together and check what the verbs promise.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use utoipa::OpenApi;

use crate::helpers::*;

fn documented_operations() -> Vec<(Method, String)> {
    let doc = neosc::server::rest::ApiDoc::openapi();
    let mut ops = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, present) in [
            (Method::GET, item.get.is_some()),
            (Method::POST, item.post.is_some()),
            (Method::PUT, item.put.is_some()),
            (Method::PATCH, item.patch.is_some()),
            (Method::DELETE, item.delete.is_some()),
        ] {
            if present {
                ops.push((method, path.clone()));
            }
        }
    }
    ops
}

// Every documented operation is served: whatever it answers a stranger,
// it is not the router's "no such route" (405, or a 404 that is not our
// problem+json).
both_backends! {
    async fn every_documented_operation_is_served(app: TestApp) {
        let ops = documented_operations();
        assert!(ops.len() > 30, "the document lists the API: {ops:?}");
        let mut failures = Vec::new();
        for (method, template) in ops {
            let mut path = template.clone();
            while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
                path.replace_range(a..=b, "0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e");
            }
            let mut req = app.client.request(method.clone(), format!("{}{path}", app.address));
            if method != Method::GET {
                req = req.json(&json!({}));
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let problem = res.headers().get("content-type").is_some_and(|v| v == "application/problem+json");
            if status == StatusCode::METHOD_NOT_ALLOWED || (status == StatusCode::NOT_FOUND && !problem) {
                failures.push(format!("{method} {template}: {status}"));
            }
        }
        assert!(failures.is_empty(), "documented but not served:\n{}", failures.join("\n"));
    }

    async fn the_served_document_is_the_declared_one(app: TestApp) {
        let served: Value = app.get("/api/openapi.json").send().await.unwrap().json().await.unwrap();
        let mut declared = serde_json::to_value(neosc::server::rest::ApiDoc::openapi()).unwrap();
        neosc::server::rest::apply_password_policy(&mut declared, Default::default());
        assert_eq!(served, declared);
        // Public operations say so; everything else needs the bearer token or the session cookie.
        assert_eq!(served["security"], json!([{ "bearer": [] }, { "cookie": [] }]));
        assert_eq!(served["paths"]["/api/auth/login"]["post"]["security"], json!([{}]));
        assert_eq!(served["components"]["schemas"]["NewPassword"]["minLength"], json!(12));
        // Every operation has a summary, an operationId, and says what it answers when refused.
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in served["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let name = format!("{method} {path}");
                assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name} has no summary");
                assert!(ids.insert(op["operationId"].as_str().unwrap_or_else(|| panic!("{name} has no operationId")).to_owned()));
                let statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
                if op.get("security") != Some(&json!([{}])) {
                    assert!(statuses.iter().any(|s| *s == "401"), "{name} needs a credential but documents no 401");
                }
                if method != "get" {
                    assert!(statuses.iter().any(|s| *s == "403"), "{name} changes state but documents no 403 (Origin check)");
                }
            }
        }
        // Every reference resolves.
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&served, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let pointer = r.strip_prefix('#').expect("local reference");
            assert!(served.pointer(pointer).is_some(), "unresolved {r}");
        }
    }

    async fn creations_answer_201_with_the_location_of_what_they_made(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = app.post_json("/api/organizations", &admin, json!({ "name": "Located", "domain": "located.test" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = res.json().await.unwrap();
        assert_eq!(location, format!("/api/organizations/{}", created["id"].as_str().unwrap()));
        let fetched: Value = app.get(&location).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!(fetched["domain"], "located.test");

        let res = app.post_json(&format!("{location}/invitations"), &admin, json!({ "email": "new@located.test", "role": "user" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let fetched: Value = app.get(&location).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!(fetched["email"], "new@located.test");
        assert!(fetched.get("link").is_none(), "the link is shown once, at creation");
        assert_eq!(app.delete(&location).bearer_auth(&admin).send().await.unwrap().status(), StatusCode::NO_CONTENT);
        assert_problem(app.get(&location).bearer_auth(&admin).send().await.unwrap(), StatusCode::NOT_FOUND).await;

        let res = app.post_json("/api/account/tokens", &admin, json!({ "name": "located" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let fetched: Value = app.get(&location).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!(fetched["name"], "located");
        assert!(fetched.get("token").is_none());

        // A registration is no resource yet: 202, and no Location until its link is used.
        let res = app.register(json!({ "email": "someone@located.test", "password": PASSWORD, "name": "Someone" })).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        assert!(res.headers().get("location").is_none());
    }

    async fn the_origin_check_covers_patch_and_delete(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let me: Value = app.me(&admin).await.json().await.unwrap();
        let org = me["organization_id"].as_str().unwrap();
        let sessions: Vec<Value> = app.get("/api/account/sessions").bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        let cross_site = [("origin", "http://evil.example"), ("sec-fetch-site", "cross-site")];
        for (name, value) in cross_site {
            let res = app
                .patch(&format!("/api/organizations/{org}"))
                .header("cookie", format!("neosc_session={admin}"))
                .header(name, value)
                .json(&json!({ "require_mfa": true }))
                .send()
                .await
                .unwrap();
            assert_problem(res, StatusCode::FORBIDDEN).await;
            let res = app
                .delete(&format!("/api/account/sessions/{}", sessions[0]["id"].as_str().unwrap()))
                .header("cookie", format!("neosc_session={admin}"))
                .header(name, value)
                .send()
                .await
                .unwrap();
            assert_problem(res, StatusCode::FORBIDDEN).await;
        }
        assert_eq!(app.me(&admin).await.status(), StatusCode::OK, "the session was not ended");
        let detail: Value = app.get(&format!("/api/organizations/{org}")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!(detail["require_mfa"], false);
    }

    // Every body is a JSON object: serde alone would fill a struct from an
    // array (`[null, null]` as its first fields) and a PATCH would answer 200.
    async fn a_body_that_is_not_an_object_is_refused(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let me: Value = app.me(&admin).await.json().await.unwrap();
        let org = me["organization_id"].as_str().unwrap();
        for body in [json!([null, null]), json!([]), json!(null), json!(1), json!("x")] {
            for path in [format!("/api/organizations/{org}/quotas"), format!("/api/organizations/{org}")] {
                let res = app.patch_json(&path, &admin, body.clone()).await;
                let problem = assert_problem(res, StatusCode::BAD_REQUEST).await;
                assert_eq!(problem["detail"], "The body must be a JSON object.", "{path} {body}");
            }
        }
        let res = app.patch_json(&format!("/api/organizations/{org}/quotas"), &admin, json!({})).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    async fn list_parameters_outside_their_ranges_are_refused(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        for query in ["limit=0", "limit=101", "offset=-1", "limit=abc"] {
            let res = app.get(&format!("/api/organizations?{query}")).bearer_auth(&admin).send().await.unwrap();
            assert_problem(res, StatusCode::BAD_REQUEST).await;
        }
        let res = app.get("/api/organizations?limit=100&offset=0").bearer_auth(&admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    async fn the_api_reference_is_served_with_a_strict_policy(app: TestApp) {
        let res = app.get("/api/docs").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        let html = res.text().await.unwrap();
        assert!(html.contains(r#"<script src="/api/docs/redoc.js"></script>"#));
        assert!(!html.contains("<script>"), "no inline script");
        let js = app.get("/api/docs/redoc.js").send().await.unwrap();
        assert_eq!(js.status(), StatusCode::OK);
        assert!(js.text().await.unwrap().contains("Redoc.init('/api/openapi.json'"));
    }
}
