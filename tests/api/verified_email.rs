//! Issue 10, section 1: a mailbox counts once its owner proved they read
//! it. Mail goes over real SMTP to the sink in this process.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const UNVERIFIED: &str = "https://neosc.dev/problems/email-unverified";

async fn org_named(app: &TestApp, token: &str, name: &str) -> Value {
    app.orgs(token).await.into_iter().find(|o| o["name"] == name).unwrap_or_else(|| panic!("{name} is not listed"))
}

async fn verified_at(app: &TestApp, email: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    app.store.conn().await.unwrap().user_by_email(email).await.unwrap().expect("the account exists").email_verified_at
}

async fn pending_rows(app: &TestApp) -> i64 {
    app.store.conn().await.unwrap().count_pending_rows().await.unwrap()
}

both_backends! {
    async fn registration_mails_a_link_that_makes_the_account_in_the_right_organization(app: TestApp) {
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let users_before = app.user_count().await;

        let res = app.register(json!({ "email": "Dev@Acme.test", "password": PASSWORD, "name": "Dev <b>" })).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["email"], "dev@acme.test");
        assert_eq!(body["mail_sent"], true);

        let mail = app.mail.take("dev@acme.test").await;
        assert_eq!(mail.to, ["dev@acme.test"]);
        assert_eq!(mail.from, "console@neosc.test");
        assert!(mail.header("From").unwrap().contains("console@neosc.test"));
        assert!(mail.header("Subject").unwrap().contains("NeoSC"), "the product's name");
        assert!(mail.raw.contains("multipart/alternative") && mail.raw.contains("text/plain") && mail.raw.contains("text/html"));
        let bodies = mail.bodies();
        assert_eq!(bodies.len(), 2, "plain text and HTML");
        assert!(bodies[1].contains("Dev &lt;b&gt;"), "the name is escaped in HTML");
        let token = mail.link_token("verify-email").expect("a confirmation link");
        assert_eq!(token.len(), 43, "256 random bits");
        // Absolute (the base is NEOSC_PUBLIC_URL, here unset: the configured site address).
        assert!(mail.bodies()[0].contains(&format!("http://127.0.0.1:0/verify-email/{token}")), "{}", mail.bodies()[0]);

        // Before the link: no account, no seat, no sign-in.
        assert_eq!(app.user_count().await, users_before);
        assert_eq!(org_named(&app, &boss, "Acme").await["users_count"], 1);
        let refused = assert_problem(app.login("dev@acme.test", PASSWORD).await, StatusCode::FORBIDDEN).await;
        assert_eq!(refused["type"], UNVERIFIED);
        assert!(refused["detail"].as_str().unwrap().contains("dev@acme.test"));
        assert_problem(app.login("dev@acme.test", "not the password at all").await, StatusCode::UNAUTHORIZED).await;

        let res = app.verify_email(&token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let signed_in: Value = res.json().await.unwrap();
        assert_eq!(signed_in["stage"], "full");
        assert_eq!(signed_in["user"]["organization"], "Acme");
        assert_eq!(signed_in["user"]["role"], "user");
        assert_eq!(signed_in["user"]["name"], "Dev <b>");
        let me: Value = app.me(signed_in["token"].as_str().unwrap()).await.json().await.unwrap();
        assert_eq!(me["email"], "dev@acme.test");
        assert_eq!(org_named(&app, &boss, "Acme").await["users_count"], 2);
        assert!(verified_at(&app, "dev@acme.test").await.is_some());
        assert_eq!(pending_rows(&app).await, 0);
        app.login_ok("dev@acme.test", PASSWORD).await;

        assert_problem(app.verify_email(&token).await, StatusCode::NOT_FOUND).await;
    }

    async fn join_any_tenant_by_typing_an_email_needs_the_mailbox(app: TestApp) {
        // Acme verified acme.test, with room for two.
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let acme = org_named(&app, &boss, "Acme").await;
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let id = acme["id"].as_str().unwrap();
        let res = app.patch_json(&format!("/api/organizations/{id}"), &admin, json!({ "seat_limit": 2 })).await;
        assert_eq!(res.status(), StatusCode::OK);

        // Eve types addresses at acme.test she cannot read, to join and to fill its seats.
        for (i, eve) in ["eve@acme.test", "eve1@acme.test", "eve2@acme.test"].iter().enumerate() {
            let res = app.register(json!({ "email": eve, "password": PASSWORD, "name": format!("Eve {i}") })).await;
            assert_eq!(res.status(), StatusCode::ACCEPTED);
            // The link went to that mailbox only.
            let mail = app.mail.take(eve).await;
            assert_eq!(mail.to, [eve.to_string()]);
            let refused = assert_problem(app.login(eve, PASSWORD).await, StatusCode::FORBIDDEN).await;
            assert_eq!(refused["type"], UNVERIFIED);
        }
        let acme = org_named(&app, &boss, "Acme").await;
        assert_eq!(acme["users_count"], 1, "no seat taken");
        let members: Value =
            app.get(&format!("/api/organizations/{id}/members")).bearer_auth(&boss).send().await.unwrap().json().await.unwrap();
        assert!(!members.to_string().contains("eve"), "Eve is nobody's member: {members}");

        // A real employee, who reads their mail, still gets the free seat.
        let (_, user) = app.register_ok("real@acme.test", "Real", None).await;
        assert_eq!(user["organization"], "Acme");
        assert_eq!(org_named(&app, &boss, "Acme").await["users_count"], 2);
    }

    async fn a_pending_sign_in_gets_check_your_inbox_and_a_throttled_resend(app: TestApp) {
        let first = app.register_pending("kim@acme.test", "Kim", Some("Acme")).await;

        // The browser's sign-in goes to "check your inbox", with no session.
        let res = app.post("/api/fn/login").form(&[("email", "kim@acme.test"), ("password", PASSWORD)]).send().await.unwrap();
        let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        assert_eq!(location, "/verify-email?email=kim@acme.test");
        assert!(res.headers().get("set-cookie").is_none(), "no session");

        let resend = |password: &'static str| {
            app.post("/api/auth/verify-email/resend").json(&json!({ "email": "kim@acme.test", "password": password })).send()
        };
        assert_problem(resend("not the password at all").await.unwrap(), StatusCode::UNAUTHORIZED).await;
        let early = assert_problem(resend(PASSWORD).await.unwrap(), StatusCode::TOO_MANY_REQUESTS).await;
        assert!(early["detail"].as_str().unwrap().contains("moments ago"), "{early}");
        assert_eq!(app.mail.count_to("kim@acme.test"), 0);

        app.clock.advance(Duration::seconds(61));
        let res = resend(PASSWORD).await.unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let second = app.mail.take("kim@acme.test").await.link_token("verify-email").unwrap();
        assert_ne!(second, first);
        assert_problem(app.verify_email(&first).await, StatusCode::NOT_FOUND).await;
        let res = app.verify_email(&second).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["user"]["role"], "org_admin", "Acme is made when the link is used");
    }

    async fn expired_registrations_are_swept_and_free_the_address(app: TestApp) {
        let token = app.register_pending("late@acme.test", "Late", None).await;
        assert_eq!(neosc::server::service::verification::sweep(&app.state).await.unwrap(), 0, "not yet expired");
        assert_eq!(pending_rows(&app).await, 1);

        app.clock.advance(Duration::hours(24) + Duration::seconds(1));
        assert_problem(app.verify_email(&token).await, StatusCode::NOT_FOUND).await;
        assert_problem(app.login("late@acme.test", PASSWORD).await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(neosc::server::service::verification::sweep(&app.state).await.unwrap(), 1);
        assert_eq!(pending_rows(&app).await, 0);
        assert_eq!(neosc::server::service::verification::sweep(&app.state).await.unwrap(), 0, "each row goes once");
        let events = app.store.conn().await.unwrap().audit_events_with_action("sweep_pending_registrations", 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].details.0["deleted"], 1);

        // The address is free again.
        let (_, user) = app.register_ok("late@acme.test", "Late Again", None).await;
        assert_eq!(user["name"], "Late Again");
    }

    async fn an_invitation_replaces_a_pending_registration(app: TestApp) {
        let (boss, _) = app.register_ok("boss@acme.test", "Boss", Some("Acme")).await;
        let id = org_named(&app, &boss, "Acme").await["id"].as_str().unwrap().to_owned();
        // Eve squats the address with her password.
        let eves_link = app.register_pending("kim@acme.test", "Eve", None).await;

        let res = app.post_json(&format!("/api/organizations/{id}/invitations"), &boss, json!({
            "email": "kim@acme.test", "role": "user", "show_link": false
        })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let inv: Value = res.json().await.unwrap();
        assert!(inv["link"].is_null(), "mail only: the admin does not see the link");
        let mail = app.mail.take("kim@acme.test").await;
        assert!(mail.text().contains("“Acme”"), "names the organization");
        let invitation = mail.link_token("invite").expect("the invitation link");

        let kims_password = "kim's own long passphrase";
        let res = app.post(&format!("/api/invitations/{invitation}/accept")).json(&json!({ "name": "Kim", "password": kims_password }))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(pending_rows(&app).await, 0, "nothing of Eve's registration is left");
        assert!(verified_at(&app, "kim@acme.test").await.is_some(), "a link that went only by mail proves the mailbox");
        assert_problem(app.verify_email(&eves_link).await, StatusCode::NOT_FOUND).await;
        assert_problem(app.login("kim@acme.test", PASSWORD).await, StatusCode::UNAUTHORIZED).await;
        app.login_ok("kim@acme.test", kims_password).await;
    }

    async fn an_account_from_a_shown_invitation_link_is_not_verified(app: TestApp) {
        let (boss, _) = app.register_ok("boss@acme.test", "Boss", Some("Acme")).await;
        let id = org_named(&app, &boss, "Acme").await["id"].as_str().unwrap().to_owned();
        let res = app.post_json(&format!("/api/organizations/{id}/invitations"), &boss, json!({ "email": "ceo@victim.test", "role": "user" })).await;
        let inv: Value = res.json().await.unwrap();
        let token = inv["link"].as_str().expect("shown by default").rsplit('/').next().unwrap().to_owned();
        assert_eq!(app.mail.take("ceo@victim.test").await.link_token("invite").as_deref(), Some(token.as_str()), "mailed as well");
        // The admin uses the link they saw, as the invitee.
        let res = app.post(&format!("/api/invitations/{token}/accept")).json(&json!({ "name": "Not the CEO", "password": PASSWORD }))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(verified_at(&app, "ceo@victim.test").await, None, "a shown link proves nothing about the mailbox");
        let events = app.store.conn().await.unwrap().audit_events_with_action("add_user_to_org", 50).await.unwrap();
        let joined = events.iter().find(|e| e.details.0["email"] == "ceo@victim.test").unwrap();
        assert_eq!(joined.details.0["email_verified"], false);
    }

    async fn a_verified_registration_replaces_the_other_pending_ones(app: TestApp) {
        let eves_link = app.register_pending("pat@acme.test", "Eve", None).await;
        let again = app.register(json!({ "email": "pat@acme.test", "password": "pat's own long passphrase", "name": "Pat" })).await;
        assert_problem(again, StatusCode::TOO_MANY_REQUESTS).await;
        app.clock.advance(Duration::seconds(61));
        let res = app.register(json!({ "email": "pat@acme.test", "password": "pat's own long passphrase", "name": "Pat" })).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let pats_link = app.mail.take("pat@acme.test").await.link_token("verify-email").unwrap();
        assert_eq!(pending_rows(&app).await, 2, "a pending registration blocks nobody");
        assert_eq!(app.verify_email(&pats_link).await.status(), StatusCode::OK);
        assert_eq!(pending_rows(&app).await, 0);
        assert_problem(app.verify_email(&eves_link).await, StatusCode::NOT_FOUND).await;
        assert_problem(app.login("pat@acme.test", PASSWORD).await, StatusCode::UNAUTHORIZED).await;
        app.login_ok("pat@acme.test", "pat's own long passphrase").await;
    }

    async fn operator_made_accounts_are_verified(app: TestApp) {
        assert!(verified_at(&app, ADMIN_EMAIL).await.is_some(), "the first platform admin");
        app.register_pending("ops@acme.test", "Squatter", None).await;
        neosc::server::service::operator::create_account(&app.state, "ops@acme.test", "Ops", false).await.unwrap();
        assert!(verified_at(&app, "ops@acme.test").await.is_some());
        assert_eq!(pending_rows(&app).await, 0, "the operator's account replaces the pending registration");
    }
}

both_backends! {
    async fn invitation_squatting_leaves_an_account_the_address_never_vouches_for(app: TestApp) {
        // The admin invites ceo@victim.test and uses the link they were shown.
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let id = org_named(&app, &boss, "Acme").await["id"].as_str().unwrap().to_owned();
        let res = app.post_json(&format!("/api/organizations/{id}/invitations"), &boss, json!({ "email": "ceo@victim.test", "role": "user" })).await;
        let inv: Value = res.json().await.unwrap();
        let token = inv["link"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        app.mail.take("ceo@victim.test").await;
        let res = app.post(&format!("/api/invitations/{token}/accept")).json(&json!({ "name": "Not the CEO", "password": PASSWORD })).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let squatter: Value = res.json().await.unwrap();
        let squatter = squatter["token"].as_str().unwrap().to_owned();
        assert_eq!(verified_at(&app, "ceo@victim.test").await, None);

        // The confirmation goes to the real mailbox, which the admin cannot read...
        let mail = app.mail.take("ceo@victim.test").await;
        let link = mail.link_token("confirm-email").expect("a /confirm-email/ link");
        // ...and the real owner, who can, has no session of that account.
        let (owner_elsewhere, _) = app.register_ok("ceo@other-victim.test", "Someone", None).await;
        let res = app.post_json("/api/account/email/confirm", &owner_elsewhere, json!({ "token": link })).await;
        assert_problem(res, StatusCode::NOT_FOUND).await;
        // A guessed token does nothing for the admin either.
        let res = app.post_json("/api/account/email/confirm", &squatter, json!({ "token": "guessed" })).await;
        assert_problem(res, StatusCode::NOT_FOUND).await;
        assert_eq!(verified_at(&app, "ceo@victim.test").await, None, "the squatter's account never vouches for the address");
        // Asking again is throttled, then replaces the link.
        let res = app.post("/api/account/email/confirmation").bearer_auth(&squatter).send().await.unwrap();
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
        app.clock.advance(Duration::seconds(61));
        let res = app.post("/api/account/email/confirmation").bearer_auth(&squatter).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let newer = app.mail.take("ceo@victim.test").await.link_token("confirm-email").unwrap();
        assert_ne!(newer, link);
        let res = app.post_json("/api/account/email/confirm", &squatter, json!({ "token": link })).await;
        assert_problem(res, StatusCode::NOT_FOUND).await;
    }

    async fn an_invited_account_confirms_its_address_by_mail(app: TestApp) {
        let (boss, _) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let id = org_named(&app, &boss, "Acme").await["id"].as_str().unwrap().to_owned();
        let inv: Value = app
            .post_json(&format!("/api/organizations/{id}/invitations"), &boss, json!({ "email": "dev@partner.test", "role": "user" }))
            .await
            .json()
            .await
            .unwrap();
        let token = inv["link"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        app.mail.take("dev@partner.test").await;
        let res = app.post(&format!("/api/invitations/{token}/accept")).json(&json!({ "name": "Dev", "password": PASSWORD })).send().await.unwrap();
        let dev: Value = res.json().await.unwrap();
        let dev = dev["token"].as_str().unwrap().to_owned();
        let link = app.mail.take("dev@partner.test").await.link_token("confirm-email").unwrap();
        let res = app.post_json("/api/account/email/confirm", &dev, json!({ "token": link })).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(verified_at(&app, "dev@partner.test").await.is_some());
        // Used once; a confirmed address needs no more links.
        assert_problem(app.post_json("/api/account/email/confirm", &dev, json!({ "token": link })).await, StatusCode::NOT_FOUND).await;
        assert_problem(app.post("/api/account/email/confirmation").bearer_auth(&dev).send().await.unwrap(), StatusCode::CONFLICT).await;
        let events = app.store.conn().await.unwrap().audit_events_with_action("confirm_email", 10).await.unwrap();
        assert_eq!(events.len(), 1);
    }
}
