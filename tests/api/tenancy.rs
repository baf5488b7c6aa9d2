//! Organizations as isolation boundaries: lifecycle, members, invitations,
//! seat limits.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn org_of(app: &TestApp, token: &str) -> Value {
    let me: Value = app.me(token).await.json().await.unwrap();
    let id = me["organization_id"].as_str().unwrap().to_owned();
    app.get(&format!("/api/organizations/{id}")).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

async fn actions_of(app: &TestApp, org_id: &str) -> Vec<(String, Value)> {
    let id = neosc::model::OrgId::parse(org_id).unwrap();
    let events = app.store.conn().await.unwrap().audit_events_of_org(id.0, 500).await.unwrap();
    events.into_iter().map(|e| (e.action, e.details.0)).collect()
}

both_backends! {
    async fn platform_admins_create_organizations_and_nobody_else_does(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = app.post_json("/api/organizations", &admin, json!({ "name": "Initech", "domain": "Initech.com", "seat_limit": 5 })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let org: Value = res.json().await.unwrap();
        assert_eq!((org["domain"].as_str(), org["seat_limit"].as_i64(), org["slug"].as_str()), (Some("initech.com"), Some(5), Some("initech")));
        assert_eq!(org["users_count"], 0);
        assert!(actions_of(&app, org["id"].as_str().unwrap()).await.iter().any(|(a, _)| a == "create_organization"));

        let dup = app.post_json("/api/organizations", &admin, json!({ "name": "initech", "domain": "other.com" })).await;
        assert_problem(dup, StatusCode::CONFLICT).await;
        // A domain is only a claim until verified: a second organization may
        // claim it too (see domains.rs for who wins).
        let claim = app.post_json("/api/organizations", &admin, json!({ "name": "Other", "domain": "INITECH.com" })).await;
        assert_eq!(claim.status(), StatusCode::CREATED);
        let free = app.post_json("/api/organizations", &admin, json!({ "name": "Freebie", "domain": "gmail.com" })).await;
        assert_eq!(assert_problem(free, StatusCode::BAD_REQUEST).await["field"], "domain");
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let res = app.post_json("/api/organizations", &boss, json!({ "name": "Mine", "domain": "mine.test" })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
    }

    async fn platform_admins_search_and_page_organizations_on_the_server(app: TestApp) {
        for (name, domain) in [("Acme", "acme.test"), ("Acme Labs", "acmelabs.test"), ("Globex", "globex.test")] {
            app.register_founder(&format!("boss@{domain}"), "Boss", name).await;
        }
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = app.get("/api/organizations?q=ACME&limit=1").bearer_auth(&admin).send().await.unwrap();
        assert_eq!(res.headers()["x-total-count"], "2");
        let page: Vec<Value> = res.json().await.unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0]["name"], "Acme");
        let res = app.get("/api/organizations?q=acme&limit=1&offset=1").bearer_auth(&admin).send().await.unwrap();
        let page: Vec<Value> = res.json().await.unwrap();
        assert_eq!(page[0]["name"], "Acme Labs");
        for wildcard in ["%25", "_"] {
            let res = app.get(&format!("/api/organizations?q={wildcard}")).bearer_auth(&admin).send().await.unwrap();
            assert_eq!(res.headers()["x-total-count"], "0", "{wildcard} matches only itself");
        }
    }

    async fn operators_create_organizations_from_the_command_line(app: TestApp) {
        let run = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_neosc")).args(args)
                .env("DATABASE_URL", &app.database_url)
                .env("NEOSC_ALLOW_RESERVED_DOMAINS", "1")
                .output()
                .unwrap()
        };
        let out = run(&["org", "create", "--name", "Umbrella", "--domain", "umbrella.test", "--seat-limit", "3", "--require-mfa"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8(out.stdout).unwrap().contains("org-"));
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let orgs: Vec<Value> = app.get("/api/organizations?q=umbrella").bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        let id = orgs[0]["id"].as_str().unwrap();
        let detail: Value = app.get(&format!("/api/organizations/{id}")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!((detail["seat_limit"].as_i64(), detail["require_mfa"].as_bool()), (Some(3), Some(true)));
        assert!(actions_of(&app, id).await.iter().any(|(a, d)| a == "create_organization" && d["source"] == "operator_cli"));
        // The operator vouches for the domain: it is verified, and places people.
        let out = run(&["org", "verify-domain", "--org", "umbrella", "--domain", "umbrella.test"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("umbrella.test is verified for Umbrella"));
        // (Umbrella requires MFA, so the new member's sign-in waits for enrolment.)
        app.register_ok("staff@umbrella.test", "Staff", None).await;
        let detail: Value = app.get(&format!("/api/organizations/{id}")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!(detail["users_count"], 1, "{detail}");
        assert!(actions_of(&app, id).await.iter().any(|(a, d)| a == "verify_domain" && d["method"] == "operator"));
        let unknown = run(&["org", "verify-domain", "--org", "no-such-org", "--domain", "umbrella.test"]);
        assert!(!unknown.status.success());
        let refused = run(&["org", "create", "--name", "Webmail", "--domain", "gmail.com"]);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("public email provider"));
    }

    async fn public_mail_addresses_do_not_found_organizations(app: TestApp) {
        let res = app.register(json!({ "email": "bob@gmail.com", "password": PASSWORD, "name": "Bob", "organization": "Bob Co" })).await;
        assert_eq!(assert_problem(res, StatusCode::BAD_REQUEST).await["field"], "organization");
        let (_, user) = app.register_ok("bob@gmail.com", "Bob", None).await;
        assert_eq!(user["organization"], "Default Organization");
    }

    async fn org_admins_edit_their_own_settings_and_the_change_is_audited(app: TestApp) {
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let org = org_of(&app, &boss).await;
        let id = org["id"].as_str().unwrap().to_owned();
        let res = app.patch_json(&format!("/api/organizations/{id}"), &boss, json!({ "name": "Acme Corp", "require_mfa": true })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let updated: Value = res.json().await.unwrap();
        assert_eq!((updated["name"].as_str(), updated["require_mfa"].as_bool()), (Some("Acme Corp"), Some(true)));
        let events = actions_of(&app, &id).await;
        let (_, details) = events.iter().find(|(a, _)| a == "update_organization").expect("update_organization");
        assert_eq!(details["name"], json!({ "old": "Acme", "new": "Acme Corp" }));
        assert_eq!(details["require_mfa"], json!({ "old": false, "new": true }));

        let res = app.patch_json(&format!("/api/organizations/{id}"), &boss, json!({ "seat_limit": 100 })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        app.register_ok("two@acme.test", "Two", None).await;
        let res = app.patch_json(&format!("/api/organizations/{id}"), &admin, json!({ "seat_limit": 1 })).await;
        assert_problem(res, StatusCode::CONFLICT).await;
        let res = app.patch_json(&format!("/api/organizations/{id}"), &admin, json!({ "seat_limit": 2 })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let full = app.register(json!({ "email": "three@acme.test", "password": PASSWORD, "name": "Three" })).await;
        let problem = assert_problem(full, StatusCode::CONFLICT).await;
        assert!(problem["detail"].as_str().unwrap().contains("seat limit of 2"), "{problem}");
        let res = app.patch_json(&format!("/api/organizations/{id}"), &admin, json!({ "seat_limit": null })).await;
        let cleared: Value = res.json().await.unwrap();
        assert!(cleared["seat_limit"].is_null());
    }

    async fn another_organization_is_not_found_and_the_attempt_is_recorded(app: TestApp) {
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let (spy, _) = app.register_founder("spy@globex.test", "Spy", "Globex").await;
        let acme = org_of(&app, &boss).await;
        let globex = org_of(&app, &spy).await;
        let acme_id = acme["id"].as_str().unwrap();
        let res = app.get(&format!("/api/organizations/{acme_id}")).bearer_auth(&spy).send().await.unwrap();
        let body = assert_problem(res, StatusCode::NOT_FOUND).await;
        assert!(!body.to_string().contains("Acme"));
        let events = actions_of(&app, globex["id"].as_str().unwrap()).await;
        let (_, details) = events.iter().find(|(a, _)| a == "cross_org_access_denied").expect("recorded in the caller's org");
        assert_eq!(details["operation"], "view_organization");
        assert!(!actions_of(&app, acme_id).await.iter().any(|(a, _)| a == "cross_org_access_denied"));
    }

    async fn suspension_ends_sessions_and_sign_in_until_reactivated(app: TestApp) {
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let id = org_of(&app, &boss).await["id"].as_str().unwrap().to_owned();
        assert_problem(app.post(&format!("/api/organizations/{id}/suspend")).bearer_auth(&boss).send().await.unwrap(), StatusCode::FORBIDDEN).await;
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = app.post(&format!("/api/organizations/{id}/suspend")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_problem(app.me(&boss).await, StatusCode::UNAUTHORIZED).await;
        let refused = assert_problem(app.login("boss@acme.test", PASSWORD).await, StatusCode::FORBIDDEN).await;
        assert!(refused["detail"].as_str().unwrap().contains("suspended"));
        let res = app.post(&format!("/api/organizations/{id}/activate")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        app.login_ok("boss@acme.test", PASSWORD).await;
        let actions: Vec<String> = actions_of(&app, &id).await.into_iter().map(|(a, _)| a).collect();
        assert!(actions.contains(&"suspend_organization".into()) && actions.contains(&"activate_organization".into()));

        let default = org_of(&app, &admin).await["id"].as_str().unwrap().to_owned();
        let res = app.post(&format!("/api/organizations/{default}/suspend")).bearer_auth(&admin).send().await.unwrap();
        assert_problem(res, StatusCode::CONFLICT).await;
    }

    async fn admins_list_and_search_members_page_by_page(app: TestApp) {
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        for name in ["Alice", "Bob", "Carol"] {
            app.register_ok(&format!("{}@acme.test", name.to_lowercase()), name, None).await;
        }
        let id = org_of(&app, &boss).await["id"].as_str().unwrap().to_owned();
        let res = app.get(&format!("/api/organizations/{id}/members?limit=2")).bearer_auth(&boss).send().await.unwrap();
        assert_eq!(res.headers()["x-total-count"], "4");
        let page: Vec<Value> = res.json().await.unwrap();
        assert_eq!(page.len(), 2);
        let res = app.get(&format!("/api/organizations/{id}/members?q=CAR")).bearer_auth(&boss).send().await.unwrap();
        let found: Vec<Value> = res.json().await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0]["email"].as_str(), found[0]["status"].as_str()), (Some("carol@acme.test"), Some("active")));
        let alice = app.login_ok("alice@acme.test", PASSWORD).await;
        assert_problem(app.get(&format!("/api/organizations/{id}/members")).bearer_auth(&alice).send().await.unwrap(), StatusCode::FORBIDDEN).await;
    }

    async fn removed_members_lose_access_at_once_and_stay_out(app: TestApp) {
        let (boss, boss_user) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let (bob, bob_user) = app.register_ok("bob@acme.test", "Bob", None).await;
        let id = org_of(&app, &boss).await["id"].as_str().unwrap().to_owned();
        let bob_id = bob_user["id"].as_str().unwrap();
        let res = app.delete(&format!("/api/organizations/{id}/members/{bob_id}")).bearer_auth(&boss).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_problem(app.me(&bob).await, StatusCode::UNAUTHORIZED).await;
        assert_problem(app.login("bob@acme.test", PASSWORD).await, StatusCode::UNAUTHORIZED).await;
        let back = app.register(json!({ "email": "bob@acme.test", "password": PASSWORD, "name": "Bob" })).await;
        let refused = assert_problem(back, StatusCode::FORBIDDEN).await;
        let detail = refused["detail"].as_str().unwrap();
        assert!(detail.contains("removed") && !detail.contains("Acme"), "{detail}");
        assert_eq!(org_of(&app, &boss).await["users_count"], 1);
        assert!(actions_of(&app, &id).await.iter().any(|(a, d)| a == "remove_user_from_org" && d["email"] == "bob@acme.test"));

        // The last admin stays; an admin cannot remove themself.
        let boss_id = boss_user["id"].as_str().unwrap();
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = app.delete(&format!("/api/organizations/{id}/members/{boss_id}")).bearer_auth(&admin).send().await.unwrap();
        assert_problem(res, StatusCode::CONFLICT).await;
        let res = app.delete(&format!("/api/organizations/{id}/members/{boss_id}")).bearer_auth(&boss).send().await.unwrap();
        assert_problem(res, StatusCode::CONFLICT).await;
        let res = app.patch_json(&format!("/api/users/{boss_id}"), &admin, json!({ "role": "user" })).await;
        assert_problem(res, StatusCode::CONFLICT).await;

        // An invitation readmits them.
        let inv: Value = app.post_json(&format!("/api/organizations/{id}/invitations"), &boss, json!({ "email": "bob@acme.test", "role": "user" })).await.json().await.unwrap();
        let token = inv["link"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let res = app.post(&format!("/api/invitations/{token}/accept")).json(&json!({ "name": "Bob", "password": PASSWORD })).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    async fn invitations_are_one_time_links_that_expire_revoke_and_resend(app: TestApp) {
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let id = org_of(&app, &boss).await["id"].as_str().unwrap().to_owned();
        let path = format!("/api/organizations/{id}/invitations");
        let invite = |email: &str| app.post_json(&path, &boss, json!({ "email": email, "role": "org_admin" }));
        let res = invite("contractor@elsewhere.test").await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let inv: Value = res.json().await.unwrap();
        let link = inv["link"].as_str().unwrap();
        assert!(link.contains("/invite/"));
        let token = link.rsplit('/').next().unwrap().to_owned();
        assert_problem(invite("CONTRACTOR@elsewhere.test").await, StatusCode::CONFLICT).await;
        assert_problem(invite("boss@acme.test").await, StatusCode::CONFLICT).await;

        let list: Vec<Value> = app.get(&format!("/api/organizations/{id}/invitations")).bearer_auth(&boss).send().await.unwrap().json().await.unwrap();
        assert_eq!(list.len(), 1);
        assert!(list[0].get("link").is_none(), "the link is shown once");
        let preview: Value = app.get(&format!("/api/invitations/{token}")).send().await.unwrap().json().await.unwrap();
        assert_eq!((preview["organization"].as_str(), preview["email"].as_str()), (Some("Acme"), Some("contractor@elsewhere.test")));

        // Resend: the old link dies, the new one works, across domains.
        let resent: Value = app.post(&format!("/api/organizations/{id}/invitations/{}/resend", inv["id"].as_str().unwrap())).bearer_auth(&boss).send().await.unwrap().json().await.unwrap();
        let new_token = resent["link"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        assert_problem(app.get(&format!("/api/invitations/{token}")).send().await.unwrap(), StatusCode::NOT_FOUND).await;
        let res = app.post(&format!("/api/invitations/{new_token}/accept")).json(&json!({ "name": "Con Tractor", "password": PASSWORD })).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let signed_in: Value = res.json().await.unwrap();
        assert_eq!((signed_in["user"]["organization"].as_str(), signed_in["user"]["role"].as_str()), (Some("Acme"), Some("org_admin")));
        assert_eq!(org_of(&app, &boss).await["users_count"], 2);
        let again = app.post(&format!("/api/invitations/{new_token}/accept")).json(&json!({ "name": "Again", "password": PASSWORD })).send().await.unwrap();
        assert_problem(again, StatusCode::NOT_FOUND).await;

        // Revoked and expired links are dead too.
        let revoked: Value = invite("later@elsewhere.test").await.json().await.unwrap();
        let revoked_token = revoked["link"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let res = app.delete(&format!("/api/organizations/{id}/invitations/{}", revoked["id"].as_str().unwrap())).bearer_auth(&boss).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_problem(app.get(&format!("/api/invitations/{revoked_token}")).send().await.unwrap(), StatusCode::NOT_FOUND).await;
        let expiring: Value = invite("slow@elsewhere.test").await.json().await.unwrap();
        let expiring_token = expiring["link"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        app.clock.advance(Duration::days(7) + Duration::seconds(1));
        let res = app.post(&format!("/api/invitations/{expiring_token}/accept")).json(&json!({ "name": "Slow", "password": PASSWORD })).send().await.unwrap();
        assert_problem(res, StatusCode::NOT_FOUND).await;
        let actions: Vec<String> = actions_of(&app, &id).await.into_iter().map(|(a, _)| a).collect();
        assert!(actions.contains(&"invite_user".into()) && actions.contains(&"revoke_invitation".into()));
    }

    async fn fifty_concurrent_joins_fill_ten_seats_exactly(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = app.post_json("/api/organizations", &admin, json!({ "name": "Tiny", "domain": "tiny.test", "seat_limit": 10 })).await;
        let org: Value = res.json().await.unwrap();
        app.vouch_domain(org["id"].as_str().unwrap(), "tiny.test").await;
        // Fifty registrations wait for their links (they take no seat yet),
        // then all fifty links are used at once: the seat is taken there.
        let mut links = Vec::new();
        for i in 0..50 {
            links.push(app.register_pending(&format!("u{i}@tiny.test"), &format!("U{i}"), None).await);
        }
        let joins = links.into_iter().map(|token| {
            let req = app.post("/api/auth/verify-email").json(&json!({ "token": token }));
            async move { req.send().await.unwrap().status() }
        });
        let statuses = futures_join_all(joins).await;
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let full = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
        assert_eq!((ok, full), (10, 40), "{statuses:?}");
        let detail: Value = app.get(&format!("/api/organizations/{}", org["id"].as_str().unwrap())).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!(detail["users_count"], 10);
        let id = neosc::model::OrgId::parse(org["id"].as_str().unwrap()).unwrap();
        assert_eq!(app.store.conn().await.unwrap().count_members(id.0).await.unwrap(), 10);
    }
}

/// Runs futures concurrently on the test's runtime.
async fn futures_join_all<F: std::future::Future<Output = StatusCode> + Send + 'static>(futs: impl Iterator<Item = F>) -> Vec<StatusCode> {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
