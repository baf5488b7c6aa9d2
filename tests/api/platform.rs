//! Start-up behaviour: default organization, first platform admin, demo
//! data, health and the API description.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

both_backends! {
    async fn first_start_creates_the_default_organization_and_the_configured_admin(app: TestApp) {
        let token = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let me: Value = app.me(&token).await.json().await.unwrap();
        assert_eq!(me["role"], "platform_admin");
        assert_eq!(me["organization"], "Default Organization");
        let orgs = app.orgs(&token).await;
        assert_eq!(orgs.len(), 1);
        assert_eq!(orgs[0]["domain"], "neogenesys.com");
        assert_eq!(orgs[0]["users_count"], 1);
    }

    async fn health_checks_the_database_and_the_api_is_described(app: TestApp) {
        let res = app.get("/healthz").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["database"], "ok");

        let doc: Value = app.get("/api/openapi.json").send().await.unwrap().json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in ["/api/auth/register", "/api/auth/login", "/api/auth/logout", "/api/auth/me", "/api/organizations"] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
        }
        assert!(doc["components"]["schemas"].get("Organization").is_some());
    }

    async fn pages_allow_only_scripts_with_this_responses_nonce(app: TestApp) {
        let a = app.get("/login").send().await.unwrap();
        let csp = a.headers()["content-security-policy"].to_str().unwrap().to_owned();
        let html = a.text().await.unwrap();
        let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce in the CSP").to_owned();
        assert!(nonce.len() >= 22, "at least 128 bits: {nonce}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries it");
        let b = app.get("/login").send().await.unwrap();
        assert!(!b.headers()["content-security-policy"].to_str().unwrap().contains(&nonce), "a new nonce per response");
    }

    async fn every_response_carries_security_headers(app: TestApp) {
        for path in ["/login", "/healthz", "/api/auth/me"] {
            let res = app.get(path).send().await.unwrap();
            let h = res.headers();
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
            assert!(h.contains_key("referrer-policy"), "{path}");
        }
    }
}

/// Start-up variants need their own configuration, so they are written out.
async fn demo_data_matches_the_product_spec(app: TestApp) {
    let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let orgs = app.orgs(&admin).await;
    let get = |name: &str| orgs.iter().find(|o| o["name"] == name).cloned().unwrap_or_else(|| panic!("{name} missing"));
    let neo = get("Neogenesys");
    assert_eq!(
        (neo["domain"].as_str(), neo["users_count"].as_i64(), neo["workspaces_count"].as_i64()),
        (Some("neogenesys.com"), Some(45), Some(12))
    );
    let partner = get("Partner Corp");
    assert_eq!(
        (partner["domain"].as_str(), partner["users_count"].as_i64(), partner["workspaces_count"].as_i64()),
        (Some("partnercorp.com"), Some(8), Some(3))
    );
    let default = get("Default Organization");
    assert_ne!(default["domain"], "neogenesys.com", "one domain, one organization");
    let mut db = app.store.conn().await.unwrap();
    for org in [&neo, &partner] {
        let id = neosc::model::OrgId::parse(org["id"].as_str().unwrap()).unwrap().0;
        assert_eq!(org["users_count"], db.count_members(id).await.unwrap());
        assert_eq!(org["workspaces_count"], db.count_workspaces(id).await.unwrap());
    }
    // A second start loads nothing twice.
    drop(db);
}

#[test]
fn demo_data_sqlite() {
    crate::helpers::runtime().block_on(demo_data_sqlite_body())
}

async fn demo_data_sqlite_body() {
    demo_data_matches_the_product_spec(TestApp::spawn(Backend::Sqlite, &[("NEOSC_DEMO", "1")]).await.unwrap()).await
}

#[test]
fn demo_data_postgres() {
    crate::helpers::runtime().block_on(demo_data_postgres_body())
}

async fn demo_data_postgres_body() {
    if let Some(app) = TestApp::spawn(Backend::Postgres, &[("NEOSC_DEMO", "1")]).await {
        demo_data_matches_the_product_spec(app).await
    }
}
