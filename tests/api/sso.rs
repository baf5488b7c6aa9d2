//! Zitadel SSO against a provider started inside each test (`oidc_op`):
//! the code flow end to end, organization and role mapping, account
//! linking, MFA, the API's ID-token exchange, and the OpenID RP
//! conformance cases that must be refused — each with an
//! `sso_login_failed` audit event and no session.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::oidc_op::*;

/// Like `both_backends!`, with a fresh provider and an app configured for it.
macro_rules! with_provider {
    ($(async fn $name:ident($op:ident: TestOp, $app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($op: TestOp, $app: TestApp) $body

                #[test]
                fn sqlite() {
                    crate::helpers::runtime().block_on(sqlite_body())
                }

                async fn sqlite_body() {
                    let op = TestOp::start().await;
                    let app = op.spawn_app(Backend::Sqlite, &[]).await.unwrap();
                    run(op, app).await
                }

                #[test]
                fn postgres() {
                    crate::helpers::runtime().block_on(postgres_body())
                }

                async fn postgres_body() {
                    let op = TestOp::start().await;
                    if let Some(app) = op.spawn_app(Backend::Postgres, &[]).await {
                        run(op, app).await
                    }
                }
            }
        )*
    };
}

/// A sign-in the RP started: where it sent the browser, and the flow cookie.
struct Flow {
    authorization_url: String,
    cookie: String,
    state: String,
}

async fn start(app: &TestApp) -> Flow {
    let res = app.post("/auth/sso/start").form(&[("return_to", "/organizations")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    flow_of(&res)
}

/// The flow a 303 to the provider started: where it goes, and its cookie.
fn flow_of(res: &Response) -> Flow {
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("neosc_oidc="))
        .expect("flow cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/auth/callback"), "{cookie}");
    let url = reqwest::Url::parse(&location).unwrap();
    let state = url.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    Flow { authorization_url: location, cookie: cookie.split(';').next().unwrap().to_owned(), state }
}

async fn callback(app: &TestApp, flow: &Flow, query: &[(&str, &str)]) -> Response {
    app.get("/auth/callback").query(query).header("cookie", &flow.cookie).send().await.unwrap()
}

/// The whole browser flow with `plan` as the provider's answer.
async fn sign_in(app: &TestApp, op: &TestOp, plan: Plan) -> Response {
    op.plan(plan);
    let flow = start(app).await;
    let code = op.authorize(&flow.authorization_url);
    callback(app, &flow, &[("code", &code), ("state", &flow.state)]).await
}

fn location(res: &Response) -> String {
    res.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Asserts a refusal: back to /login with a message, no session.
fn assert_refused(res: &Response, case: &str) {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{case}");
    assert!(location(res).starts_with("/login?sso_error="), "{case}: {}", location(res));
    assert_eq!(session_of(res), None, "{case}: no session");
}

async fn me_with_cookie(app: &TestApp, cookie: &str) -> Value {
    let res = app.get("/api/auth/me").header("cookie", cookie).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The reasons of the `sso_login_failed` and `sso_login_denied` events,
/// oldest first.
async fn failure_reasons(app: &TestApp) -> Vec<String> {
    let mut conn = app.store.conn().await.unwrap();
    let mut events = conn.audit_events_with_action("sso_login_failed", 100).await.unwrap();
    events.extend(conn.audit_events_with_action("sso_login_denied", 100).await.unwrap());
    // Ids are UUIDv7: in the order they were made.
    events.sort_by_key(|e| e.id);
    events.iter().map(|e| e.details.0["reason"].as_str().unwrap_or_default().to_owned()).collect()
}

async fn events(app: &TestApp, action: &str) -> Vec<Value> {
    let events = app.store.conn().await.unwrap().audit_events_with_action(action, 100).await.unwrap();
    events.into_iter().map(|e| e.details.0).collect()
}

async fn session_count(app: &TestApp) -> i64 {
    app.store.conn().await.unwrap().count_sessions().await.unwrap()
}

with_provider! {
    async fn sso_pre_hijacking_through_an_unconfirmed_local_account_is_refused(op: TestOp, app: TestApp) {
        // Carol's SSO sign-in creates the Acme Zitadel organization.
        let carol = json!({ "sub": "zitadel-carol", "email": "carol@acme-zitadel.test" });
        assert!(session_of(&sign_in(&app, &op, Plan { claims: carol, ..Plan::default() }).await).is_some());
        // An account for the real Bob's address made from a link someone
        // copied from the console: nobody proved Bob's mailbox.
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let orgs = app.orgs(&admin).await;
        let org_id = orgs.iter().find(|o| o["name"] == "Acme Zitadel").unwrap()["id"].as_str().unwrap().to_owned();
        let inv: Value = app
            .post_json(&format!("/api/organizations/{org_id}/invitations"), &admin, json!({ "email": "bob@acme-zitadel.test", "role": "user" }))
            .await
            .json()
            .await
            .unwrap();
        let link = inv["link"].as_str().expect("the console shows the link");
        let token = link.rsplit('/').next().unwrap();
        let res = app.post_json(&format!("/api/invitations/{token}/accept"), "", json!({ "name": "Not Bob", "password": PASSWORD })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let squatter: Value = res.json().await.unwrap();
        let squatter_token = squatter["token"].as_str().unwrap().to_owned();

        // The real Bob signs in through Zitadel, which verified his address:
        // his identity is not handed to the unconfirmed account.
        let bob = json!({ "sub": "zitadel-bob", "email": "bob@acme-zitadel.test", "email_verified": true });
        let res = sign_in(&app, &op, Plan { claims: bob, ..Plan::default() }).await;
        assert_refused(&res, "unconfirmed local account");
        assert_eq!(location(&res), "/login?sso_error=account_exists");
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "link_refused_local_unverified");
        assert!(events(&app, "link_sso_identity").await.is_empty());
        let me: Value = app.me(&squatter_token).await.json().await.unwrap();
        assert_eq!(me["sso_linked"], false, "the squatter gained nothing");
    }

    async fn code_flow_signs_in_with_organization_and_role_from_zitadel(op: TestOp, app: TestApp) {
        let res = sign_in(&app, &op, Plan::default()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", location(&res));
        assert_eq!(location(&res), "/organizations");
        let cookie = session_of(&res).expect("session cookie");
        let me = me_with_cookie(&app, &cookie).await;
        assert_eq!(me["email"], "alice@acme-zitadel.test");
        assert_eq!(me["organization"], "Acme Zitadel");
        assert_eq!(me["role"], "org_admin", "Zitadel role admin -> org_admin");
        assert_eq!(me["mfa_enabled"], true, "amr otp is a second factor");
        assert_eq!(me["sso_linked"], true);

        // The organization is keyed by the Zitadel org id and was audited.
        let org = app.store.conn().await.unwrap().org_by_external_id("111").await.unwrap().expect("org by external id");
        assert_eq!(org.name, "Acme Zitadel");
        assert_eq!(org.domain, "acme-zitadel.test");
        assert_eq!(org.users_count, 1);
        let created = events(&app, "create_organization").await;
        assert!(created.iter().any(|d| d["source"] == "sso" && d["external_id"] == "111"), "{created:?}");
        let logins = events(&app, "sso_login").await;
        assert_eq!(logins.len(), 1);
        assert_eq!(logins[0]["issuer"], op.issuer.as_str());
        assert_eq!(logins[0]["sub"], "zitadel-alice");
        assert_eq!(logins[0]["organization"], "Acme Zitadel");

        // A renamed Zitadel org stays the same tenant; a viewer joins as user.
        let bob = json!({
            "sub": "zitadel-bob", "email": "bob@acme-zitadel.test", "name": "Bob", "amr": ["pwd"],
            "urn:zitadel:iam:user:resourceowner:name": "Acme Renamed",
            "urn:zitadel:iam:org:project:roles": { "viewer": { "111": "acme-zitadel.test" } }
        });
        let res = sign_in(&app, &op, Plan { claims: bob, ..Plan::default() }).await;
        let me = me_with_cookie(&app, &session_of(&res).expect("bob signed in")).await;
        assert_eq!(me["organization"], "Acme Zitadel");
        assert_eq!(me["role"], "user");
        assert_eq!(me["mfa_enabled"], false);

        // Another Zitadel org is another NeoSC organization.
        let carol = json!({
            "sub": "zitadel-carol", "email": "carol@beta-zitadel.test", "name": "Carol",
            "urn:zitadel:iam:user:resourceowner:id": "222",
            "urn:zitadel:iam:user:resourceowner:name": "Beta Zitadel",
            "urn:zitadel:iam:user:resourceowner:primary_domain": "beta-zitadel.test",
            // An admin grant in *another* org gives nothing here.
            "urn:zitadel:iam:org:project:roles": { "admin": { "111": "acme-zitadel.test" } }
        });
        let res = sign_in(&app, &op, Plan { claims: carol, ..Plan::default() }).await;
        let me = me_with_cookie(&app, &session_of(&res).expect("carol signed in")).await;
        assert_eq!(me["organization"], "Beta Zitadel");
        assert_eq!(me["role"], "user", "a role granted in another org does not apply");

        // Roles follow the claims at every sign-in.
        let demoted = json!({ "urn:zitadel:iam:org:project:roles": { "viewer": { "111": "acme-zitadel.test" } } });
        let res = sign_in(&app, &op, Plan { claims: demoted, ..Plan::default() }).await;
        let me = me_with_cookie(&app, &session_of(&res).unwrap()).await;
        assert_eq!(me["role"], "user");
        let changes = events(&app, "change_user_role").await;
        assert!(changes.iter().any(|d| d["from"] == "org_admin" && d["to"] == "user" && d["source"] == "sso"), "{changes:?}");
        assert_eq!(failure_reasons(&app).await, Vec::<String>::new());
    }

    async fn missing_org_claim_is_refused_when_the_resource_owner_was_asked_for(op: TestOp, app: TestApp) {
        // The signing-in user dropped the resourceowner scope from the
        // authorize URL: the token names no resource owner. It must not
        // choose its tenant (nor land in a shared one).
        let no_owner = json!({
            "urn:zitadel:iam:user:resourceowner:id": null,
            "urn:zitadel:iam:user:resourceowner:name": null,
            "urn:zitadel:iam:user:resourceowner:primary_domain": null,
        });
        let res = sign_in(&app, &op, Plan { claims: no_owner.clone(), ..Plan::default() }).await;
        assert_refused(&res, "no resource owner");
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "missing_org_claim");
        // Nor may a weaker org claim stand in for it.
        let mut other = no_owner;
        other["urn:zitadel:iam:org:id"] = json!("333");
        let res = sign_in(&app, &op, Plan { claims: other, ..Plan::default() }).await;
        assert_refused(&res, "only urn:zitadel:iam:org:id");
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "missing_org_claim");
        assert!(app.store.conn().await.unwrap().org_by_external_id("333").await.unwrap().is_none());
        assert!(app.store.conn().await.unwrap().org_by_name("Zitadel SSO").await.unwrap().is_none(), "no shared tenant");
    }

    async fn an_account_links_its_identity_from_the_account_page_where_automatic_linking_refuses(op: TestOp, app: TestApp) {
        let carol = json!({ "sub": "zitadel-carol", "email": "carol@acme-zitadel.test" });
        assert!(session_of(&sign_in(&app, &op, Plan { claims: carol, ..Plan::default() }).await).is_some());
        app.vouch_domain("Acme Zitadel", "acme-zitadel.test").await;
        let (_, local) = app.register_ok("alice@acme-zitadel.test", "Alice Local", None).await;
        // The provider has not verified her address: no automatic link.
        let unverified = json!({ "email_verified": false });
        let res = sign_in(&app, &op, Plan { claims: unverified.clone(), ..Plan::default() }).await;
        assert_eq!(location(&res), "/login?sso_error=account_exists");

        // Signed in with her password, she links from the account page.
        let res = app.post("/api/fn/login").form(&[("email", "alice@acme-zitadel.test"), ("password", PASSWORD)]).send().await.unwrap();
        let session = session_of(&res).expect("password session");
        assert_eq!(app.post("/auth/sso/link").send().await.unwrap().status(), StatusCode::UNAUTHORIZED, "signed in only");
        let res = app.post("/auth/sso/link").header("cookie", &session).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let flow = flow_of(&res);
        op.plan(Plan { claims: unverified.clone(), ..Plan::default() });
        let code = op.authorize(&flow.authorization_url);
        let res = callback(&app, &flow, &[("code", &code), ("state", &flow.state)]).await;
        assert_eq!(location(&res), "/account");
        let me = me_with_cookie(&app, &session_of(&res).expect("signed in through the link")).await;
        assert_eq!((me["id"].clone(), me["sso_linked"].clone()), (local["id"].clone(), json!(true)));
        let links = events(&app, "link_sso_identity").await;
        assert_eq!(links.last().unwrap()["source"], "account_page");
        // From now on the provider signs her in directly.
        let res = sign_in(&app, &op, Plan { claims: unverified, ..Plan::default() }).await;
        assert_eq!(me_with_cookie(&app, &session_of(&res).expect("direct SSO")).await["id"], local["id"]);

        // Another account cannot take the same identity.
        app.register_ok("bob@acme-zitadel.test", "Bob", None).await;
        let res = app.post("/api/fn/login").form(&[("email", "bob@acme-zitadel.test"), ("password", PASSWORD)]).send().await.unwrap();
        let bob = session_of(&res).unwrap();
        let res = app.post("/auth/sso/link").header("cookie", &bob).send().await.unwrap();
        let flow = flow_of(&res);
        op.plan(Plan::default());
        let code = op.authorize(&flow.authorization_url);
        let res = callback(&app, &flow, &[("code", &code), ("state", &flow.state)]).await;
        assert_refused(&res, "identity of another account");
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "identity_taken");
    }

    async fn sso_reauth_makes_the_provider_ask_again_and_a_stale_session_links_nothing(op: TestOp, app: TestApp) {
        let res = sign_in(&app, &op, Plan::default()).await;
        let sso_session = session_of(&res).expect("signed in");
        // "Sign in again" asks the provider to prove the person anew; a plain start does not.
        let plain = flow_of(&app.post("/auth/sso/start").form(&[("return_to", "/account")]).send().await.unwrap());
        assert!(!plain.authorization_url.contains("prompt="), "{}", plain.authorization_url);
        let res = app.post("/auth/sso/start").form(&[("return_to", "/account"), ("reauth", "1")]).send().await.unwrap();
        let fresh = flow_of(&res);
        assert!(fresh.authorization_url.contains("prompt=login"), "{}", fresh.authorization_url);
        op.plan(Plan::default());
        let code = op.authorize(&fresh.authorization_url);
        let res = app
            .get("/auth/callback")
            .query(&[("code", code.as_str()), ("state", fresh.state.as_str())])
            .header("cookie", format!("{}; {sso_session}", fresh.cookie))
            .send()
            .await
            .unwrap();
        assert_eq!(location(&res), "/account");
        let renewed = session_of(&res).expect("a new session, signed in now");
        let res = app.post("/api/account/tokens").header("cookie", &renewed).json(&json!({ "name": "after sso" })).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = app.get("/api/auth/me").header("cookie", &sso_session).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the session the browser came with ended");

        app.vouch_domain("Acme Zitadel", "acme-zitadel.test").await;
        app.register_ok("dora@acme-zitadel.test", "Dora", None).await;
        let res = app.post("/api/fn/login").form(&[("email", "dora@acme-zitadel.test"), ("password", PASSWORD)]).send().await.unwrap();
        let session = session_of(&res).expect("password session");
        // Six minutes later the session is still good, but not for linking.
        app.clock.advance(chrono::Duration::minutes(6));
        let res = app.post("/auth/sso/link").header("cookie", &session).send().await.unwrap();
        assert_eq!(location(&res), "/account?sso_error=reauth_required");
        assert_eq!(me_with_cookie(&app, &session).await["email"], "dora@acme-zitadel.test", "the session lives on");
    }

    async fn a_removed_member_returning_under_a_new_email_is_refused(op: TestOp, app: TestApp) {
        let alice = sign_in(&app, &op, Plan::default()).await;
        let me = me_with_cookie(&app, &session_of(&alice).expect("alice signed in")).await;
        let org_id = me["organization_id"].as_str().unwrap().to_owned();
        let bob = json!({ "sub": "zitadel-bob", "email": "bob@acme-zitadel.test", "urn:zitadel:iam:org:project:roles": null });
        let res = sign_in(&app, &op, Plan { claims: bob, ..Plan::default() }).await;
        let bob_me = me_with_cookie(&app, &session_of(&res).expect("bob signed in")).await;
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = app.delete(&format!("/api/organizations/{org_id}/members/{}", bob_me["id"].as_str().unwrap())).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        // Bob changes his email at the provider: same (issuer, sub), new address.
        let renamed = json!({ "sub": "zitadel-bob", "email": "robert@acme-zitadel.test", "urn:zitadel:iam:org:project:roles": null });
        let res = sign_in(&app, &op, Plan { claims: renamed.clone(), ..Plan::default() }).await;
        assert_refused(&res, "removed member under a new email");
        assert_eq!(location(&res), "/login?sso_error=removed");
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "removed_member");
        // A new invitation (to the new address) is the way back.
        let inv: Value = app
            .post_json(&format!("/api/organizations/{org_id}/invitations"), &admin, json!({ "email": "robert@acme-zitadel.test", "role": "user" }))
            .await
            .json()
            .await
            .unwrap();
        let token = inv["link"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let res = app.post(&format!("/api/invitations/{token}/accept")).json(&json!({ "name": "Robert", "password": PASSWORD })).send().await.unwrap();
        assert!(res.status().is_success(), "{}", res.status());
    }

    async fn rp_conformance_cases_are_refused_with_an_audit_event_and_no_session(op: TestOp, app: TestApp) {
        let sessions_before = session_count(&app).await;
        let now = chrono::Utc::now().timestamp();
        let cases: Vec<(&str, Plan, &str)> = vec![
            ("rp-nonce-invalid", Plan { nonce: Some("not-the-nonce".into()), ..Plan::default() }, "invalid_nonce"),
            ("rp-id_token-iss-mismatch", Plan { claims: json!({ "iss": "https://evil.example" }), ..Plan::default() }, "invalid_iss"),
            ("rp-id_token-aud-mismatch", Plan { claims: json!({ "aud": "someone-else", "azp": null }), ..Plan::default() }, "invalid_aud"),
            ("rp-id_token-aud-untrusted-extra", Plan { claims: json!({ "aud": [CLIENT_ID, "untrusted"] }), ..Plan::default() }, "invalid_aud"),
            ("rp-id_token-aud-missing", Plan { claims: json!({ "aud": null, "azp": null }), ..Plan::default() }, "invalid_aud"),
            ("rp-id_token-sub-missing", Plan { claims: json!({ "sub": null }), ..Plan::default() }, "token_exchange_failed"),
            ("rp-id_token-iat-missing", Plan { claims: json!({ "iat": null }), ..Plan::default() }, "token_exchange_failed"),
            ("rp-id_token-expired", Plan { claims: json!({ "iat": now - 600, "exp": now - 300 }), ..Plan::default() }, "token_expired"),
            ("rp-id_token-iat-future", Plan { claims: json!({ "iat": now + 3600, "exp": now + 7200 }), ..Plan::default() }, "token_expired"),
            ("rp-id_token-azp-foreign", Plan { claims: json!({ "azp": "another-client" }), ..Plan::default() }, "invalid_azp"),
            ("rp-id_token-bad-sig-rs256", Plan { signing: Signing::Rs256Tampered, ..Plan::default() }, "invalid_signature"),
            ("rp-id_token-sig+hs256-client-secret", Plan { signing: Signing::Hs256ClientSecret, ..Plan::default() }, "disallowed_alg"),
            ("rp-id_token-sig-none", Plan { signing: Signing::None, ..Plan::default() }, "disallowed_alg"),
            ("rp-id_token-unknown-kid", Plan { signing: Signing::Rs256 { key: KID_C, kid_in_header: true }, ..Plan::default() }, "unknown_key"),
        ];
        for (i, (case, plan, reason)) in cases.into_iter().enumerate() {
            let res = sign_in(&app, &op, plan).await;
            assert_refused(&res, case);
            assert_eq!(location(&res), "/login?sso_error=failed", "{case}: no detail reaches the browser");
            let reasons = failure_reasons(&app).await;
            assert_eq!(reasons.len(), i + 1, "{case}: one sso_login_failed each ({reasons:?})");
            assert_eq!(reasons[i], reason, "{case}");
        }
        let mut n = failure_reasons(&app).await.len();

        // Wrong state: the flow is used up and nothing is signed in.
        let flow = start(&app).await;
        let code = op.authorize(&flow.authorization_url);
        let res = callback(&app, &flow, &[("code", &code), ("state", "forged-state")]).await;
        assert_refused(&res, "rp-state-mismatch");
        assert_eq!(location(&res), "/login?sso_error=expired");
        n += 1;
        assert_eq!(failure_reasons(&app).await[n - 1], "state_mismatch");

        // No flow cookie (another browser), and a foreign issuer in the
        // RFC 9207 response parameter.
        let flow = start(&app).await;
        let code = op.authorize(&flow.authorization_url);
        let res = app.get("/auth/callback").query(&[("code", code.as_str()), ("state", &flow.state)]).send().await.unwrap();
        assert_refused(&res, "no flow cookie");
        n += 1;
        assert_eq!(failure_reasons(&app).await[n - 1], "flow_missing");
        let flow = start(&app).await;
        let code = op.authorize(&flow.authorization_url);
        let res = callback(&app, &flow, &[("code", &code), ("state", &flow.state), ("iss", "https://evil.example")]).await;
        assert_refused(&res, "iss response parameter");
        n += 1;
        assert_eq!(failure_reasons(&app).await[n - 1], "invalid_iss_parameter");

        // Replayed code: the callback that worked once does not work twice,
        // and a used code is refused by the provider in a new flow too.
        let flow = start(&app).await;
        let code = op.authorize(&flow.authorization_url);
        let ok = callback(&app, &flow, &[("code", &code), ("state", &flow.state)]).await;
        assert!(session_of(&ok).is_some(), "the genuine callback signs in: {}", location(&ok));
        let replay = callback(&app, &flow, &[("code", &code), ("state", &flow.state)]).await;
        assert_refused(&replay, "rp-code-replay (same flow)");
        n += 1;
        assert_eq!(failure_reasons(&app).await[n - 1], "flow_missing");
        let flow2 = start(&app).await;
        let replay = callback(&app, &flow2, &[("code", &code), ("state", &flow2.state)]).await;
        assert_refused(&replay, "rp-code-replay (new flow)");
        n += 1;
        assert_eq!(failure_reasons(&app).await[n - 1], "token_exchange_failed");

        // The provider's own error comes back as a refusal too.
        let flow = start(&app).await;
        let res = callback(&app, &flow, &[("error", "access_denied"), ("state", &flow.state)]).await;
        assert_refused(&res, "provider error");
        n += 1;
        assert_eq!(failure_reasons(&app).await.len(), n);
        assert_eq!(session_count(&app).await, sessions_before + 1, "only the genuine sign-in made a session");
    }

    async fn an_unknown_kid_refreshes_the_key_set_once_so_rotation_works(op: TestOp, app: TestApp) {
        let before = op.jwks_requests();
        op.publish(&[KID_B], true);
        let res = sign_in(&app, &op, Plan { signing: Signing::Rs256 { key: KID_B, kid_in_header: true }, ..Plan::default() }).await;
        assert!(session_of(&res).is_some(), "rotated key accepted after a refresh: {}", location(&res));
        assert_eq!(op.jwks_requests(), before + 1);
        // Further unknown kids do not make the RP hammer the provider.
        for _ in 0..3 {
            let res = sign_in(&app, &op, Plan { signing: Signing::Rs256 { key: KID_C, kid_in_header: true }, ..Plan::default() }).await;
            assert_refused(&res, "never-published kid");
        }
        assert_eq!(op.jwks_requests(), before + 1, "refreshes are rate limited");
    }

    async fn userinfo_fills_in_what_the_id_token_lacks(op: TestOp, app: TestApp) {
        op.set_userinfo(json!({ "email": "alice@acme-zitadel.test", "email_verified": true, "name": "Alice From Userinfo" }));
        let res = sign_in(&app, &op, Plan { claims: json!({ "email": null, "email_verified": null, "name": null }), ..Plan::default() }).await;
        let me = me_with_cookie(&app, &session_of(&res).expect("signed in")).await;
        assert_eq!(me["email"], "alice@acme-zitadel.test");
        assert_eq!(me["name"], "Alice From Userinfo");
    }

    async fn existing_accounts_are_linked_only_with_a_verified_email_in_the_same_organization(op: TestOp, app: TestApp) {
        // Carol's SSO sign-in creates the Acme Zitadel organization...
        let carol = json!({ "sub": "zitadel-carol", "email": "carol@acme-zitadel.test" });
        assert!(session_of(&sign_in(&app, &op, Plan { claims: carol, ..Plan::default() }).await).is_some());
        // ...whose domain an operator vouches for (the provider's word does not
        // count without NEOSC_OIDC_TRUST_IDP_DOMAINS)...
        app.vouch_domain("Acme Zitadel", "acme-zitadel.test").await;
        // ...which alice then joins with a password, by her email's domain.
        let (alice_session, local) = app.register_ok("alice@acme-zitadel.test", "Alice Local", None).await;
        assert_eq!(local["organization"], "Acme Zitadel");
        assert_eq!(local["sso_linked"], false);
        let token: Value = app.post_json("/api/account/tokens", &alice_session, json!({ "name": "before linking" })).await.json().await.unwrap();
        let alice_token = token["token"].as_str().unwrap().to_owned();
        assert_eq!(app.me(&alice_token).await.status(), StatusCode::OK);

        let unverified = json!({ "email_verified": false });
        let res = sign_in(&app, &op, Plan { claims: unverified, ..Plan::default() }).await;
        assert_refused(&res, "unverified email");
        assert_eq!(location(&res), "/login?sso_error=account_exists");
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "link_refused_unverified_email");

        let res = sign_in(&app, &op, Plan::default()).await;
        let me = me_with_cookie(&app, &session_of(&res).expect("linked")).await;
        assert_eq!(me["id"], local["id"], "the same account");
        assert_eq!(me["sso_linked"], true);
        let links = events(&app, "link_sso_identity").await;
        assert_eq!(links.len(), 1);
        assert_eq!(links[0]["sub"], "zitadel-alice");
        // Linking ended what was signed in before, and told her.
        assert_eq!((links[0]["sessions_ended"].as_i64(), links[0]["api_tokens_revoked"].as_i64()), (Some(1), Some(1)));
        assert_eq!(app.me(&alice_session).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(&alice_token).await.status(), StatusCode::UNAUTHORIZED);
        let mail = app.mail.take("alice@acme-zitadel.test").await;
        assert!(mail.text().contains("now linked to that identity"), "{}", mail.text());
        // She proved the mailbox at registration: her password is hers.
        app.login_ok("alice@acme-zitadel.test", PASSWORD).await;

        // The same email in a different organization is never taken over.
        app.register_ok("eve@elsewhere.test", "Eve", Some("Elsewhere")).await;
        let eve = json!({ "sub": "zitadel-eve", "email": "eve@elsewhere.test" });
        let res = sign_in(&app, &op, Plan { claims: eve, ..Plan::default() }).await;
        assert_refused(&res, "other organization");
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "link_refused_other_organization");

        // A removed member does not come back through SSO either.
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let org_id = local["organization_id"].as_str().unwrap();
        let member_id = me["id"].as_str().unwrap();
        let res = app.delete(&format!("/api/organizations/{org_id}/members/{member_id}")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = sign_in(&app, &op, Plan::default()).await;
        assert_refused(&res, "removed member");
        assert_eq!(location(&res), "/login?sso_error=removed");
    }

    async fn organization_mfa_rule_and_local_platform_admins(op: TestOp, app: TestApp) {
        let res = sign_in(&app, &op, Plan::default()).await;
        let cookie = session_of(&res).unwrap();
        let me = me_with_cookie(&app, &cookie).await;
        let org_id = me["organization_id"].as_str().unwrap().to_owned();
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = app.patch_json(&format!("/api/organizations/{org_id}"), &admin, json!({ "require_mfa": true })).await;
        assert_eq!(res.status(), StatusCode::OK);

        // Without a second factor at Zitadel: refused, clearly.
        let res = sign_in(&app, &op, Plan { claims: json!({ "amr": ["pwd"] }), ..Plan::default() }).await;
        assert_refused(&res, "mfa required");
        assert_eq!(location(&res), "/login?sso_error=mfa_required");
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "mfa_required");
        // With one: fine.
        let res = sign_in(&app, &op, Plan { claims: json!({ "amr": ["pwd", "mfa"] }), ..Plan::default() }).await;
        assert!(session_of(&res).is_some());

        // A platform admin made locally is not demoted by SSO claims. (A
        // second admin first: the last org admin cannot be promoted away.)
        let bob = json!({ "sub": "zitadel-bob", "email": "bob@acme-zitadel.test" });
        assert!(session_of(&sign_in(&app, &op, Plan { claims: bob, ..Plan::default() }).await).is_some());
        let res = app.patch_json(&format!("/api/users/{}", me["id"].as_str().unwrap()), &admin, json!({ "role": "platform_admin" })).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{}", res.text().await.unwrap());
        let viewer = json!({ "urn:zitadel:iam:org:project:roles": { "viewer": { "111": "acme-zitadel.test" } } });
        let res = sign_in(&app, &op, Plan { claims: viewer, ..Plan::default() }).await;
        let me = me_with_cookie(&app, &session_of(&res).unwrap()).await;
        assert_eq!(me["role"], "platform_admin");
    }

    async fn seat_limits_hold_for_sso_provisioning(op: TestOp, app: TestApp) {
        let res = sign_in(&app, &op, Plan::default()).await;
        let me = me_with_cookie(&app, &session_of(&res).unwrap()).await;
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let org_id = me["organization_id"].as_str().unwrap();
        let res = app.patch_json(&format!("/api/organizations/{org_id}"), &admin, json!({ "seat_limit": 1 })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let bob = json!({ "sub": "zitadel-bob", "email": "bob@acme-zitadel.test" });
        let res = sign_in(&app, &op, Plan { claims: bob, ..Plan::default() }).await;
        assert_refused(&res, "seat limit");
        assert_eq!(location(&res), "/login?sso_error=seat_limit");
        let org = app.store.conn().await.unwrap().org_by_external_id("111").await.unwrap().unwrap();
        assert_eq!(org.users_count, 1);
    }

    async fn api_clients_exchange_a_verified_id_token_and_nothing_else(op: TestOp, app: TestApp) {
        // The client asks NeoSC for a nonce and puts it in its own flow.
        let res = app.post("/api/auth/sso/nonce").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let nonce = res.json::<Value>().await.unwrap()["nonce"].as_str().unwrap().to_owned();
        // A token with a nonce NeoSC did not issue is refused.
        let foreign = op.id_token(Plan::default(), "client-nonce");
        assert_problem(app.post("/api/auth/sso").json(&json!({ "id_token": foreign })).send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "api_nonce_invalid");
        let id_token = op.id_token(Plan::default(), &nonce);
        // Whatever profile or roles the body claims is ignored.
        let body = json!({ "id_token": id_token, "profile": { "org": "Partner Corp", "email": "root@neosc.test" }, "roles": ["platform_admin"] });
        let res = app.post("/api/auth/sso").json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let out: Value = res.json().await.unwrap();
        assert_eq!(out["stage"], "full");
        assert_eq!(out["user"]["email"], "alice@acme-zitadel.test");
        assert_eq!(out["user"]["organization"], "Acme Zitadel");
        assert_eq!(out["user"]["role"], "org_admin");
        let token = out["token"].as_str().unwrap();
        assert_eq!(app.me(token).await.status(), StatusCode::OK);

        // Each ID token and each nonce works once.
        let res = app.post("/api/auth/sso").json(&json!({ "id_token": id_token })).send().await.unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED).await;
        let again = op.id_token(Plan { claims: json!({ "sub": "zitadel-alice-2" }), ..Plan::default() }, &nonce);
        assert_problem(app.post("/api/auth/sso").json(&json!({ "id_token": again })).send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "api_nonce_invalid");
        // Audience must be our client id; old tokens and forged ones fail.
        let now = chrono::Utc::now().timestamp();
        for (plan, reason) in [
            (Plan { claims: json!({ "aud": "another-client", "azp": null }), ..Plan::default() }, "invalid_aud"),
            (Plan { claims: json!({ "iat": now - 3600 }), ..Plan::default() }, "token_expired"),
            (Plan { signing: Signing::None, ..Plan::default() }, "disallowed_alg"),
            (Plan { signing: Signing::Hs256ClientSecret, ..Plan::default() }, "disallowed_alg"),
        ] {
            let res = app.post("/api/auth/sso").json(&json!({ "id_token": op.id_token(plan, "n") })).send().await.unwrap();
            assert_problem(res, StatusCode::UNAUTHORIZED).await;
            assert_eq!(failure_reasons(&app).await.last().unwrap(), reason);
        }
        let res = app.post("/api/auth/sso").json(&json!({ "id_token": "not a jwt" })).send().await.unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED).await;
        let res = app.post("/api/auth/sso").json(&json!({ "profile": {} })).send().await.unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST).await;
    }

    async fn sso_sign_out_goes_on_to_the_providers_end_session_endpoint(op: TestOp, app: TestApp) {
        let res = sign_in(&app, &op, Plan::default()).await;
        let cookie = session_of(&res).unwrap();
        let res = app.post("/api/fn/logout").header("cookie", &cookie).form(&[("", "")]).send().await.unwrap();
        let to = location(&res);
        let url = reqwest::Url::parse(&to).unwrap_or_else(|_| panic!("absolute end-session URL, got {to:?} ({})", res.status()));
        assert_eq!(format!("{}://{}", url.scheme(), url.authority()), op.issuer);
        assert_eq!(url.path(), "/end_session");
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["post_logout_redirect_uri"], format!("{PUBLIC_URL}/login"));
        assert!(q["id_token_hint"].split('.').count() == 3);
        assert_eq!(app.get("/api/auth/me").header("cookie", &cookie).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
        // Replayed callback ID token: the one in the logout URL buys no new
        // session through the API exchange (it was recorded as used, and its
        // nonce is the browser flow's, not one issued to an API client).
        let res = app.post("/api/auth/sso").json(&json!({ "id_token": q["id_token_hint"] })).send().await.unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED).await;
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "api_nonce_invalid");
        let nonce: Value = app.post("/api/auth/sso/nonce").send().await.unwrap().json().await.unwrap();
        assert!(nonce["nonce"].as_str().is_some_and(|n| n.len() >= 32));

        // The login page offers SSO and its policy lets the form go there.
        let page = app.get("/login").send().await.unwrap();
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains(&format!("form-action 'self' {}", op.issuer)), "{csp}");
    }
}

/// Scopes without the resource owner: tokens may name no organization.
const NO_OWNER_SCOPES: (&str, &str) = ("NEOSC_OIDC_SCOPES", "openid profile email urn:zitadel:iam:org:project:roles");

mod fallback_tenant {
    use super::*;

    const NO_ORG: &str = r#"{
        "urn:zitadel:iam:user:resourceowner:id": null,
        "urn:zitadel:iam:user:resourceowner:name": null,
        "urn:zitadel:iam:user:resourceowner:primary_domain": null,
        "urn:zitadel:iam:org:project:roles": null,
        "urn:zitadel:iam:org:project:4711:roles": { "admin": {} }
    }"#;

    async fn case(backend: Backend) {
        // Without NEOSC_OIDC_FALLBACK_ORG there is no shared tenant.
        let op = TestOp::start().await;
        let Some(app) = op.spawn_app(backend, &[NO_OWNER_SCOPES]).await else { return };
        let claims: Value = serde_json::from_str(NO_ORG).unwrap();
        let res = sign_in(&app, &op, Plan { claims: claims.clone(), ..Plan::default() }).await;
        assert_refused(&res, "no organization and no fallback");
        assert_eq!(failure_reasons(&app).await.last().unwrap(), "missing_org_claim");

        // Named by the operator, it takes such tokens; a role granted in no
        // organization counts for nothing there.
        let op = TestOp::start().await;
        let app = op.spawn_app(backend, &[NO_OWNER_SCOPES, ("NEOSC_OIDC_FALLBACK_ORG", "Zitadel SSO")]).await.unwrap();
        let res = sign_in(&app, &op, Plan { claims, ..Plan::default() }).await;
        let me = me_with_cookie(&app, &session_of(&res).expect("signed in")).await;
        assert_eq!(me["organization"], "Zitadel SSO");
        assert_eq!(me["role"], "user", "a grant that names no organization gives nothing");

        // `urn:zitadel:iam:org:id` comes next, then `org`.
        let claims = json!({
            "sub": "zitadel-dave", "email": "dave@gamma.test",
            "urn:zitadel:iam:user:resourceowner:id": null, "urn:zitadel:iam:user:resourceowner:name": null,
            "urn:zitadel:iam:user:resourceowner:primary_domain": null,
            "urn:zitadel:iam:org:id": "333", "org": "Ignored Name",
        });
        let res = sign_in(&app, &op, Plan { claims, ..Plan::default() }).await;
        let me = me_with_cookie(&app, &session_of(&res).expect("signed in")).await;
        let org = app.store.conn().await.unwrap().org_by_external_id("333").await.unwrap().unwrap();
        assert_eq!(me["organization_id"], format!("org-{}", org.id));
    }

    #[test]
    fn sqlite() {
        crate::helpers::runtime().block_on(case(Backend::Sqlite))
    }

    #[test]
    fn postgres() {
        crate::helpers::runtime().block_on(case(Backend::Postgres))
    }
}

mod idp_domains {
    use super::*;

    /// An organization the provider creates: its primary domain is a claim,
    /// or verified on the provider's word when the operator says so.
    async fn case(backend: Backend) {
        let op = TestOp::start().await;
        let Some(app) = op.spawn_app(backend, &[]).await else { return };
        assert!(session_of(&sign_in(&app, &op, Plan::default()).await).is_some());
        let org = app.store.conn().await.unwrap().org_by_external_id("111").await.unwrap().unwrap();
        let claim = app.store.conn().await.unwrap().org_domain(org.id, "acme-zitadel.test").await.unwrap().unwrap();
        assert_eq!((claim.status, claim.method), (neosc::model::DomainStatus::Unverified, None));
        let (_, user) = app.register_ok("pat@acme-zitadel.test", "Pat", None).await;
        assert_eq!(user["organization"], "Default Organization", "a claim places nobody");

        let op = TestOp::start().await;
        let app = op.spawn_app(backend, &[("NEOSC_OIDC_TRUST_IDP_DOMAINS", "1")]).await.unwrap();
        assert!(session_of(&sign_in(&app, &op, Plan::default()).await).is_some());
        let org = app.store.conn().await.unwrap().org_by_external_id("111").await.unwrap().unwrap();
        let claim = app.store.conn().await.unwrap().org_domain(org.id, "acme-zitadel.test").await.unwrap().unwrap();
        assert_eq!((claim.status, claim.method), (neosc::model::DomainStatus::Verified, Some(neosc::model::DomainMethod::Idp)));
        let (_, user) = app.register_ok("pat@acme-zitadel.test", "Pat", None).await;
        assert_eq!(user["organization"], "Acme Zitadel");
    }

    #[test]
    fn sqlite() {
        crate::helpers::runtime().block_on(case(Backend::Sqlite))
    }

    #[test]
    fn postgres() {
        crate::helpers::runtime().block_on(case(Backend::Postgres))
    }
}

mod discovery {
    use super::*;

    async fn issuer_mismatch(backend: Backend) {
        let op = TestOp::start().await;
        op.lie_about_issuer("https://not-the-configured-issuer.example");
        let Some(app) = op.spawn_app(backend, &[]).await else { return };
        // The console starts and serves; SSO refuses with a reason.
        assert_eq!(app.get("/healthz").send().await.unwrap().status(), StatusCode::OK);
        let res = app.post("/auth/sso/start").form(&[("return_to", "/")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/login?sso_error=unavailable");
        assert_eq!(session_of(&res), None);
        let reasons = failure_reasons(&app).await;
        assert_eq!(reasons, vec!["discovery_failed".to_string()]);
        let events = events(&app, "sso_login_failed").await;
        assert!(events[0]["detail"].as_str().unwrap().contains("not-the-configured-issuer"), "{events:?}");
        let res = app.post("/api/auth/sso").json(&json!({ "id_token": op.id_token(Plan::default(), "n") })).send().await.unwrap();
        assert_problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
        app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    }

    #[test]
    fn issuer_mismatch_sqlite() {
        crate::helpers::runtime().block_on(issuer_mismatch_sqlite_body())
    }

    async fn issuer_mismatch_sqlite_body() {
        issuer_mismatch(Backend::Sqlite).await
    }

    #[test]
    fn issuer_mismatch_postgres() {
        crate::helpers::runtime().block_on(issuer_mismatch_postgres_body())
    }

    async fn issuer_mismatch_postgres_body() {
        issuer_mismatch(Backend::Postgres).await
    }

    /// RFC 9207: a provider that announces `iss` on authorization
    /// responses must send it, and it must be the issuer.
    async fn iss_parameter_required_when_announced(backend: Backend) {
        let op = TestOp::start().await;
        op.announce_iss_parameter();
        let Some(app) = op.spawn_app(backend, &[]).await else { return };
        let flow = start(&app).await;
        let code = op.authorize(&flow.authorization_url);
        let res = callback(&app, &flow, &[("code", &code), ("state", &flow.state)]).await;
        assert_refused(&res, "iss missing");
        assert_eq!(failure_reasons(&app).await, vec!["invalid_iss_parameter".to_string()]);
        let flow = start(&app).await;
        let code = op.authorize(&flow.authorization_url);
        let res = callback(&app, &flow, &[("code", &code), ("state", &flow.state), ("iss", &op.issuer)]).await;
        assert!(session_of(&res).is_some(), "{}", location(&res));
    }

    #[test]
    fn iss_parameter_sqlite() {
        crate::helpers::runtime().block_on(iss_parameter_sqlite_body())
    }

    async fn iss_parameter_sqlite_body() {
        iss_parameter_required_when_announced(Backend::Sqlite).await
    }

    #[test]
    fn iss_parameter_postgres() {
        crate::helpers::runtime().block_on(iss_parameter_postgres_body())
    }

    async fn iss_parameter_postgres_body() {
        iss_parameter_required_when_announced(Backend::Postgres).await
    }

    /// rp-id_token-kid-absent-multiple-jwks: a token without `kid` when the
    /// provider publishes several keys names no key.
    async fn kid_absent_with_several_keys(backend: Backend) {
        let op = TestOp::start().await;
        op.publish(&[KID_A, KID_B], true);
        let Some(app) = op.spawn_app(backend, &[]).await else { return };
        let res = sign_in(&app, &op, Plan { signing: Signing::Rs256 { key: KID_A, kid_in_header: false }, ..Plan::default() }).await;
        assert_refused(&res, "kid absent, several keys");
        assert_eq!(failure_reasons(&app).await, vec!["ambiguous_key".to_string()]);
        // With its kid the same key is fine.
        let res = sign_in(&app, &op, Plan::default()).await;
        assert!(session_of(&res).is_some(), "{}", location(&res));
    }

    #[test]
    fn kid_absent_sqlite() {
        crate::helpers::runtime().block_on(kid_absent_sqlite_body())
    }

    async fn kid_absent_sqlite_body() {
        kid_absent_with_several_keys(Backend::Sqlite).await
    }

    #[test]
    fn kid_absent_postgres() {
        crate::helpers::runtime().block_on(kid_absent_postgres_body())
    }

    async fn kid_absent_postgres_body() {
        kid_absent_with_several_keys(Backend::Postgres).await
    }

    #[test]
    fn without_sso_configuration_there_is_no_button_and_no_flow() {
        crate::helpers::runtime().block_on(without_sso_configuration_there_is_no_button_and_no_flow_body())
    }

    async fn without_sso_configuration_there_is_no_button_and_no_flow_body() {
        let app = TestApp::spawn(Backend::Sqlite, &[]).await.unwrap();
        let res = app.post("/auth/sso/start").form(&[("return_to", "/")]).send().await.unwrap();
        assert_eq!(location(&res), "/login?sso_error=not_configured");
        let res = app.post("/api/fn/sso_provider").form(&[("", "")]).send().await.unwrap();
        assert_eq!(res.text().await.unwrap(), "null");
    }
}
