//! Verified domains (issue 10, section 2): only a domain an organization
//! proved through DNS places anyone, each refusal says what DNS returned,
//! and a domain is verified by one organization at most. The DNS server is
//! real (`dns_server.rs`, UDP on loopback), the mail too (`smtp_sink.rs`).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn me(app: &TestApp, token: &str) -> Value {
    app.me(token).await.json().await.unwrap()
}

async fn org_id_of(app: &TestApp, token: &str) -> String {
    me(app, token).await["organization_id"].as_str().unwrap().to_owned()
}

async fn default_org_id(app: &TestApp) -> String {
    let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    org_id_of(app, &admin).await
}

async fn domains(app: &TestApp, token: &str, org: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/organizations/{org}/domains")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn domain(app: &TestApp, token: &str, org: &str, name: &str) -> Value {
    domains(app, token, org).await.into_iter().find(|d| d["domain"] == name).unwrap_or_else(|| panic!("{name} is listed"))
}

async fn verify(app: &TestApp, token: &str, org: &str, name: &str) -> reqwest::Response {
    app.post(&format!("/api/organizations/{org}/domains/{name}/verify")).bearer_auth(token).send().await.unwrap()
}

/// Publishes the organization's record for `name` at the test DNS server.
async fn publish(app: &TestApp, token: &str, org: &str, name: &str) {
    let d = domain(app, token, org, name).await;
    app.dns.publish_txt(d["txt_name"].as_str().unwrap(), d["txt_value"].as_str().unwrap());
}

both_backends! {
    async fn registration_link_then_placement_by_a_dns_verified_domain(app: TestApp) {
        let (ada, ada_user) = app.register_ok("ada@corp.test", "Ada", Some("Corp")).await;
        assert_eq!(ada_user["role"], "org_admin");
        let corp = org_id_of(&app, &ada).await;

        // The founder's domain is a claim: it places nobody yet.
        let claim = domain(&app, &ada, &corp, "corp.test").await;
        assert_eq!((claim["status"].as_str(), claim["primary"].as_bool()), (Some("unverified"), Some(true)));
        assert_eq!(claim["txt_name"], "_neosc-challenge.corp.test");
        assert!(claim["txt_value"].as_str().unwrap().starts_with("neosc-verify="));
        let (bob, _) = app.register_ok("bob@corp.test", "Bob", None).await;
        assert_eq!(org_id_of(&app, &bob).await, default_org_id(&app).await, "an unverified domain places nobody");

        publish(&app, &ada, &corp, "corp.test").await;
        let res = verify(&app, &ada, &corp, "corp.test").await;
        assert_eq!(res.status(), StatusCode::OK);
        let verified: Value = res.json().await.unwrap();
        assert_eq!((verified["status"].as_str(), verified["method"].as_str()), (Some("verified"), Some("dns_txt")));
        assert!(verified["verified_at"].is_string());

        // Mail → link → placed in Corp by the verified domain, as a user.
        let (carol, carol_user) = app.register_ok("carol@corp.test", "Carol", None).await;
        assert_eq!(org_id_of(&app, &carol).await, corp);
        assert_eq!(carol_user["role"], "user");

        // Auto-join is the organization's switch.
        let res = app.patch_json(&format!("/api/organizations/{corp}"), &ada, json!({ "auto_join": false })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let (dan, _) = app.register_ok("dan@corp.test", "Dan", None).await;
        assert_ne!(org_id_of(&app, &dan).await, corp, "auto-join off: only invitations let people in");
        let res = app.register(json!({ "email": "erin@corp.test", "password": PASSWORD, "name": "Erin", "organization": "Corp" })).await;
        let problem = assert_problem(res, StatusCode::FORBIDDEN).await;
        assert!(problem["detail"].as_str().unwrap().contains("invitation"), "{problem}");
    }

    async fn each_dns_failure_says_what_dns_returned(app: TestApp) {
        let (ada, _) = app.register_ok("ada@corp.test", "Ada", Some("Corp")).await;
        let corp = org_id_of(&app, &ada).await;
        let name = "_neosc-challenge.corp.test";
        let cases = [
            (Answer::NxDomain, "NXDOMAIN"),
            (Answer::Txt(vec![]), "no TXT record"),
            (Answer::Txt(vec!["neosc-verify=someone-elses".into(), "v=spf1 -all".into()]), "wrong value"),
            (Answer::Silent, "timeout"),
        ];
        for (answer, says) in cases {
            app.dns.set(name, answer.clone());
            let res = verify(&app, &ada, &corp, "corp.test").await;
            let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.contains(says), "{answer:?}: {detail}");
            let row = domain(&app, &ada, &corp, "corp.test").await;
            assert_eq!(row["status"], "unverified");
            assert_eq!(row["check_error"].as_str(), Some(detail), "the page shows the last failure");
        }
        // The wrong value names what was found, so the admin can fix it.
        app.dns.set(name, Answer::Txt(vec!["neosc-verify=someone-elses".into()]));
        let detail = assert_problem(verify(&app, &ada, &corp, "corp.test").await, StatusCode::UNPROCESSABLE_ENTITY).await["detail"].clone();
        assert!(detail.as_str().unwrap().contains("\"neosc-verify=someone-elses\""), "{detail}");
        publish(&app, &ada, &corp, "corp.test").await;
        assert_eq!(verify(&app, &ada, &corp, "corp.test").await.status(), StatusCode::OK);
        assert!(domain(&app, &ada, &corp, "corp.test").await["check_error"].is_null());
    }

    async fn a_domain_verified_by_one_organization_cannot_be_verified_by_another(app: TestApp) {
        let (real, _) = app.register_ok("ceo@bigcorp.test", "CEO", Some("BigCorp Inc")).await;
        let (eve, _) = app.register_ok("eve@bigcorp.test", "Eve", Some("BigCorp")).await;
        let (real_org, eve_org) = (org_id_of(&app, &real).await, org_id_of(&app, &eve).await);
        assert_ne!(real_org, eve_org);
        // Both records are published (Eve got hers in somehow): the first to
        // verify holds the domain, the second is refused.
        let real_value = domain(&app, &real, &real_org, "bigcorp.test").await["txt_value"].as_str().unwrap().to_owned();
        let eve_value = domain(&app, &eve, &eve_org, "bigcorp.test").await["txt_value"].as_str().unwrap().to_owned();
        app.dns.set("_neosc-challenge.bigcorp.test", Answer::Txt(vec![real_value, eve_value]));
        assert_eq!(verify(&app, &real, &real_org, "bigcorp.test").await.status(), StatusCode::OK);
        let problem = assert_problem(verify(&app, &eve, &eve_org, "bigcorp.test").await, StatusCode::CONFLICT).await;
        assert!(problem["detail"].as_str().unwrap().contains("another organization"), "{problem}");
        assert_eq!(domain(&app, &eve, &eve_org, "bigcorp.test").await["status"], "unverified");
        // Nor by an operator's word.
        let err = neosc::server::service::operator::verify_domain(&app.state, &eve_org, "bigcorp.test").await.unwrap_err();
        assert!(err.to_string().contains("another organization"), "{err}");
    }

    async fn squatting_an_unverified_domain_places_nobody_and_blocks_nobody(app: TestApp) {
        // Eve registers first and names the company.
        let (eve, eve_user) = app.register_ok("eve@bigcorp.test", "Eve", Some("BigCorp")).await;
        assert_eq!(eve_user["role"], "org_admin");
        let eve_org = org_id_of(&app, &eve).await;
        // Employees are not delivered to her.
        let (bob, _) = app.register_ok("bob@bigcorp.test", "Bob", None).await;
        assert_ne!(org_id_of(&app, &bob).await, eve_org);
        // The real company still creates its organization, proves the
        // domain, and gets its people.
        let (ceo, _) = app.register_ok("ceo@bigcorp.test", "CEO", Some("BigCorp Inc")).await;
        let real = org_id_of(&app, &ceo).await;
        publish(&app, &ceo, &real, "bigcorp.test").await;
        assert_eq!(verify(&app, &ceo, &real, "bigcorp.test").await.status(), StatusCode::OK);
        let (carol, _) = app.register_ok("carol@bigcorp.test", "Carol", None).await;
        assert_eq!(org_id_of(&app, &carol).await, real);
        // Naming Eve's organization does not get anyone in either.
        let res = app.register(json!({ "email": "dave@bigcorp.test", "password": PASSWORD, "name": "Dave", "organization": "BigCorp" })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
    }

    async fn repointing_the_primary_domain_needs_a_verified_domain(app: TestApp) {
        let (ada, _) = app.register_ok("ada@corp.test", "Ada", Some("Corp")).await;
        let corp = org_id_of(&app, &ada).await;
        let res = app.patch_json(&format!("/api/organizations/{corp}"), &ada, json!({ "domain": "victim.test" })).await;
        assert!(assert_problem(res, StatusCode::CONFLICT).await["detail"].as_str().unwrap().contains("not one of the organization's domains"));
        let res = app.post_json(&format!("/api/organizations/{corp}/domains"), &ada, json!({ "domain": "Corp-Labs.test" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let added: Value = res.json().await.unwrap();
        assert_eq!((added["domain"].as_str(), added["status"].as_str()), (Some("corp-labs.test"), Some("unverified")));
        let res = app.patch_json(&format!("/api/organizations/{corp}"), &ada, json!({ "domain": "corp-labs.test" })).await;
        assert!(assert_problem(res, StatusCode::CONFLICT).await["detail"].as_str().unwrap().contains("Verify"));
        publish(&app, &ada, &corp, "corp-labs.test").await;
        assert_eq!(verify(&app, &ada, &corp, "corp-labs.test").await.status(), StatusCode::OK);
        let res = app.patch_json(&format!("/api/organizations/{corp}"), &ada, json!({ "domain": "corp-labs.test" })).await;
        assert_eq!(res.status(), StatusCode::OK);
        // The primary domain stays until another is primary; others go.
        let res = app.delete(&format!("/api/organizations/{corp}/domains/corp-labs.test")).bearer_auth(&ada).send().await.unwrap();
        assert_problem(res, StatusCode::CONFLICT).await;
        let res = app.delete(&format!("/api/organizations/{corp}/domains/corp.test")).bearer_auth(&ada).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let dup = app.post_json(&format!("/api/organizations/{corp}/domains"), &ada, json!({ "domain": "corp-labs.test" })).await;
        assert_problem(dup, StatusCode::CONFLICT).await;
        // A verified domain that is removed stops placing people at once.
        let res = app.post_json(&format!("/api/organizations/{corp}/domains"), &ada, json!({ "domain": "corp.test" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        publish(&app, &ada, &corp, "corp.test").await;
        assert_eq!(verify(&app, &ada, &corp, "corp.test").await.status(), StatusCode::OK);
        let res = app.delete(&format!("/api/organizations/{corp}/domains/corp.test")).bearer_auth(&ada).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let (bob, _) = app.register_ok("bob@corp.test", "Bob", None).await;
        assert_ne!(org_id_of(&app, &bob).await, corp);
    }

    async fn placeholder_domains_are_never_joinable(app: TestApp) {
        let res = app.register(json!({ "email": "eve@sso-default.sso.invalid", "password": PASSWORD, "name": "Eve" })).await;
        assert_eq!(assert_problem(res, StatusCode::BAD_REQUEST).await["field"], "email");
        let (ada, _) = app.register_ok("ada@corp.test", "Ada", Some("Corp")).await;
        let corp = org_id_of(&app, &ada).await;
        let res = app.post_json(&format!("/api/organizations/{corp}/domains"), &ada, json!({ "domain": "zitadel-1.sso.invalid" })).await;
        assert_eq!(assert_problem(res, StatusCode::BAD_REQUEST).await["field"], "domain");
        let res = app.post_json(&format!("/api/organizations/{corp}/domains"), &ada, json!({ "domain": "gmail.com" })).await;
        assert_eq!(assert_problem(res, StatusCode::BAD_REQUEST).await["field"], "domain");
    }

    async fn another_organizations_domains_are_not_found(app: TestApp) {
        let (ada, _) = app.register_ok("ada@corp.test", "Ada", Some("Corp")).await;
        let (eve, _) = app.register_ok("eve@evil.test", "Eve", Some("Evil")).await;
        let corp = org_id_of(&app, &ada).await;
        for res in [
            app.get(&format!("/api/organizations/{corp}/domains")).bearer_auth(&eve).send().await.unwrap(),
            app.post_json(&format!("/api/organizations/{corp}/domains"), &eve, json!({ "domain": "evil-corp.test" })).await,
            verify(&app, &eve, &corp, "corp.test").await,
            app.delete(&format!("/api/organizations/{corp}/domains/corp.test")).bearer_auth(&eve).send().await.unwrap(),
        ] {
            assert_problem(res, StatusCode::NOT_FOUND).await;
        }
        // Members who are not admins see nothing either.
        app.vouch_domain(&corp, "corp.test").await;
        let (bob, _) = app.register_ok("bob@corp.test", "Bob", None).await;
        assert_eq!(org_id_of(&app, &bob).await, corp);
        let res = app.get(&format!("/api/organizations/{corp}/domains")).bearer_auth(&bob).send().await.unwrap();
        assert_problem(res, StatusCode::FORBIDDEN).await;
    }
}

const STRICT: &[(&str, &str)] = &[("NEOSC_ALLOW_RESERVED_DOMAINS", "0")];

both_backends! {
    env = STRICT;
    async fn reserved_names_are_refused_unless_allowed(app: TestApp) {
        for email in ["eve@corp.test", "eve@corp.example", "eve@x.invalid", "eve@host.localhost"] {
            let res = app.register(json!({ "email": email, "password": PASSWORD, "name": "Eve" })).await;
            let problem = assert_problem(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(problem["field"], "email", "{email}: {problem}");
        }
    }
}
