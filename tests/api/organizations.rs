//! Organization assignment at registration, visibility, and counts.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

fn find<'a>(orgs: &'a [Value], name: &str) -> &'a Value {
    orgs.iter().find(|o| o["name"] == name).unwrap_or_else(|| panic!("{name} not in {orgs:?}"))
}

both_backends! {
    async fn a_new_organization_name_creates_it_with_the_registrant_as_admin(app: TestApp) {
        let (token, user) = app.register_ok("ceo@partnercorp.com", "Pat", Some("Partner Corp")).await;
        assert_eq!(user["role"], "org_admin");
        assert_eq!(user["organization"], "Partner Corp");
        let orgs = app.orgs(&token).await;
        assert_eq!(orgs.len(), 1, "a non-platform admin sees only their organization");
        let org = &orgs[0];
        assert_eq!(org["name"], "Partner Corp");
        assert_eq!(org["domain"], "partnercorp.com");
        assert_eq!(org["users_count"], 1);
        assert_eq!(org["workspaces_count"], 0);
        assert!(org["id"].as_str().unwrap().starts_with("org-"));
        assert_eq!(user["organization_id"], org["id"]);
        // The seed's exact shape: these six fields and no others.
        let mut keys: Vec<&str> = org.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["created_at", "domain", "id", "name", "users_count", "workspaces_count"]);
        let created = org["created_at"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'), "{created}");
    }

    async fn naming_an_existing_organization_joins_it_only_from_its_verified_domain(app: TestApp) {
        app.register_founder("ceo@partnercorp.com", "Pat", "Partner Corp").await;
        let (_, member) = app.register_ok("dev@partnercorp.com", "Dev", Some("partner corp")).await;
        assert_eq!(member["organization"], "Partner Corp");
        assert_eq!(member["role"], "user");

        let before = (app.user_count().await, app.audit_count().await);
        let res = app.register(json!({
            "email": "mallory@evil.example", "password": PASSWORD, "name": "Mallory", "organization": "Partner Corp"
        })).await;
        let problem = assert_problem(res, StatusCode::FORBIDDEN).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("Partner Corp") && detail.contains("invitation"), "says how to get in: {detail}");
        assert_eq!((app.user_count().await, app.audit_count().await), before, "nothing written");
    }

    async fn no_organization_joins_the_one_that_verified_the_email_domain(app: TestApp) {
        app.register_founder("ceo@partnercorp.com", "Pat", "Partner Corp").await;
        let (token, user) = app.register_ok("ops@partnercorp.com", "Ops", None).await;
        assert_eq!(user["organization"], "Partner Corp");
        assert_eq!(user["role"], "user");
        assert_eq!(find(&app.orgs(&token).await, "Partner Corp")["users_count"], 2);
    }

    async fn no_organization_and_an_unknown_domain_lands_in_the_default_organization(app: TestApp) {
        let (token, user) = app.register_ok("solo@unknown-corp.test", "Solo", None).await;
        assert_eq!(user["organization"], "Default Organization");
        assert_eq!(user["role"], "user");
        let orgs = app.orgs(&token).await;
        assert_eq!(orgs.len(), 1);
        assert_eq!(orgs[0]["domain"], "neogenesys.com", "NEOSC_DEFAULT_DOMAIN's default");
    }

    async fn a_new_name_for_a_domain_another_organization_verified_is_refused(app: TestApp) {
        app.register_founder("ceo@partnercorp.com", "Pat", "Partner Corp").await;
        let before = app.user_count().await;
        let res = app.register(json!({
            "email": "rogue@partnercorp.com", "password": PASSWORD, "name": "Rogue", "organization": "Partner Corp Two"
        })).await;
        let problem = assert_problem(res, StatusCode::CONFLICT).await;
        assert!(problem["detail"].as_str().unwrap().contains("Partner Corp"));
        assert_eq!(app.user_count().await, before);
    }

    async fn platform_admin_sees_every_organization_and_users_only_their_own(app: TestApp) {
        let (partner, _) = app.register_ok("ceo@partnercorp.com", "Pat", Some("Partner Corp")).await;
        let (acme, _) = app.register_ok("boss@acme.test", "Boss", Some("Acme")).await;
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let all = app.orgs(&admin).await;
        let names: Vec<&str> = all.iter().map(|o| o["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Default Organization", "Partner Corp", "Acme"]);
        let mine = app.orgs(&partner).await;
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["name"], "Partner Corp");
        let theirs = app.orgs(&acme).await;
        assert_eq!(theirs.len(), 1);
        assert_eq!(theirs[0]["name"], "Acme");
        let page = app.get("/api/organizations?limit=1&offset=1").bearer_auth(&admin).send().await.unwrap();
        let page: Vec<Value> = page.json().await.unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0]["name"], "Partner Corp");
    }

    async fn counts_equal_the_real_rows_after_registrations(app: TestApp) {
        app.register_founder("a@partnercorp.com", "A", "Partner Corp").await;
        for i in 0..4 {
            app.register_ok(&format!("p{i}@partnercorp.com"), "P", None).await;
        }
        for i in 0..3 {
            app.register_ok(&format!("x{i}@elsewhere.test"), "X", None).await;
        }
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let orgs = app.orgs(&admin).await;
        let mut db = app.store.conn().await.unwrap();
        for org in &orgs {
            let id = neosc::model::OrgId::parse(org["id"].as_str().unwrap()).unwrap();
            assert_eq!(org["users_count"], db.count_members(id.0).await.unwrap(), "{org}");
            assert_eq!(org["workspaces_count"], db.count_workspaces(id.0).await.unwrap(), "{org}");
        }
        assert_eq!(find(&orgs, "Partner Corp")["users_count"], 5);
        assert_eq!(find(&orgs, "Default Organization")["users_count"], 4, "3 registrants and the platform admin");
    }

    async fn registration_is_audited_in_the_organization(app: TestApp) {
        let (_, user) = app.register_ok("ceo@partnercorp.com", "Pat", Some("Partner Corp")).await;
        let org_id = neosc::model::OrgId::parse(user["organization_id"].as_str().unwrap()).unwrap();
        let events = app.store.conn().await.unwrap().audit_events_of_org(org_id.0, 10).await.unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        assert!(actions.contains(&"create_organization"), "{actions:?}");
        assert!(actions.contains(&"add_user_to_org"), "{actions:?}");
    }
}
