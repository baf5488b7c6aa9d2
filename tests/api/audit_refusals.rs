//! Refusals are events too (issue 13): a member's attempt at an admin's
//! operation is recorded as `permission_denied`, outcome `denied`, with
//! who tried it as they were then; and events name their actor and target
//! the way the audit page words them. Every refusal path the services name
//! records exactly one event, with its reason code, in the caller's
//! organization (the installation's chain when there is none), and every
//! seed action of the product spec appears for its action.

use neosc::model::{AuditEvent, AuditOutcome, OrgId};
use neosc::server::service::audit::view_of;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// Every event of a chain (`None`: the installation's), oldest first.
async fn chain(app: &TestApp, org: Option<Uuid>) -> Vec<AuditEvent> {
    let rows = app.store.conn().await.unwrap().audit_chain_page(org, 0, i64::MAX, 10_000).await.unwrap();
    rows.iter().map(view_of).collect()
}

fn org_of(user: &Value) -> Uuid {
    OrgId::parse(user["organization_id"].as_str().unwrap()).unwrap().0
}

both_backends! {
    async fn a_members_admin_attempt_is_recorded_as_denied(app: TestApp) {
        let (boss, user) = app.register_founder("boss@refuse.test", "Boss", "Refuse").await;
        let org_id = user["organization_id"].as_str().unwrap().to_owned();
        let org = neosc::model::OrgId::parse(&org_id).unwrap().0;
        let (member, _) = app.register_ok("mia@refuse.test", "Mia", None).await;
        let res = app.patch_json(&format!("/api/organizations/{org_id}"), &member, json!({ "name": "Mine now" })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
        let res = app.patch_json(&format!("/api/organizations/{org_id}"), &boss, json!({ "name": "Refuse Corp" })).await;
        assert_eq!(res.status(), StatusCode::OK);

        let rows = app.store.conn().await.unwrap().audit_chain_page(Some(org), 0, i64::MAX, 1000).await.unwrap();
        let events: Vec<_> = rows.iter().map(view_of).collect();
        let denied: Vec<_> = events.iter().filter(|e| e.action == "permission_denied").collect();
        assert_eq!(denied.len(), 1, "{events:#?}");
        let e = denied[0];
        assert_eq!(e.outcome, AuditOutcome::Denied);
        assert_eq!(e.reason_code.as_deref(), Some("not_an_admin"));
        assert_eq!(e.actor.kind, "user");
        assert_eq!(e.actor.email.as_deref(), Some("mia@refuse.test"));
        assert_eq!(e.actor.role.as_deref(), Some("user"));
        assert_eq!(e.details["operation"], "update_organization");
        assert!(e.context.request_id.as_deref().is_some_and(|r| !r.is_empty()), "{e:?}");

        // The admin's change: actor as they were, target by its name then.
        let update = events.iter().find(|e| e.action == "update_organization").expect("update_organization");
        assert_eq!(update.outcome, AuditOutcome::Success);
        assert_eq!(update.reason_code, None);
        assert_eq!(update.actor.email.as_deref(), Some("boss@refuse.test"));
        assert_eq!(update.actor.role.as_deref(), Some("org_admin"));
        assert_eq!(update.target.as_ref().and_then(|t| t.name.as_deref()), Some("Refuse Corp"));
        let joined: Vec<_> =
            events.iter().filter(|e| e.action == "add_user_to_org").filter_map(|e| e.target.as_ref()?.name.as_deref()).collect();
        assert_eq!(joined, ["Boss", "Mia"]);
    }

    async fn every_refusal_path_records_one_event_with_its_reason(app: TestApp) {
        let platform = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (boss, boss_user) = app.register_founder("boss@refuse.test", "Boss", "Refuse").await;
        let (mia, mia_user) = app.register_ok("mia@refuse.test", "Mia", None).await;
        app.register_ok("tina@refuse.test", "Tina", None).await;
        let (other, other_user) = app.register_founder("owner@other.test", "Owen", "Other").await;
        let (strict, strict_user) = app.register_founder("lead@strict.test", "Lea", "Strict").await;
        let (refuse, other_org, strict_org) = (org_of(&boss_user), org_of(&other_user), org_of(&strict_user));
        let (refuse_id, other_id, strict_id) = (OrgId(refuse).to_string(), OrgId(other_org).to_string(), OrgId(strict_org).to_string());
        let (boss_id, mia_id) = (boss_user["id"].as_str().unwrap().to_owned(), mia_user["id"].as_str().unwrap().to_owned());
        let res = app.post_json("/api/account/tokens", &boss, json!({ "name": "ci" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let boss_api: String = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        // An invitation to Other, used after Other is suspended.
        let res = app.post_json(&format!("/api/organizations/{other_id}/invitations"), &other, json!({ "email": "ivy@other.test", "role": "user" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let link = res.json::<Value>().await.unwrap()["link"].as_str().unwrap().to_owned();
        let invitation = link.rsplit('/').next().unwrap().to_owned();
        let pending = app.register_pending("pat@pending.test", "Pat", Some("Pending Co")).await;
        assert!(!pending.is_empty());
        let template = format!("tpl-{}", Uuid::now_v7());

        // (what, chain it lands in, action, outcome, reason, the request, its status)
        #[derive(Clone, Copy)]
        enum Step {
            MemberEditsOrg,
            AdminEditsOtherOrg,
            AdminSetsSeatLimit,
            AdminSuspendsOrg,
            AdminCreatesOrg,
            MemberChangesRole,
            AdminGrantsPlatformAdmin,
            AdminReadsInstallationLog,
            AdminSetsQuotas,
            AdminAddsTemplate,
            MemberCreatesWorkspace,
            MemberCreatesWorkspaceForAnother,
            TokenMakesToken,
            TokenReauthenticates,
            WrongPassword,
            UnknownAccount,
            Throttled,
            ThrottledAgain,
            Unverified,
            DisabledAccount,
            SuspendedOrgSignIn,
            InvitationToSuspendedOrg,
            OwedStepChangesPassword,
        }
        use Step::*;
        /// A step, the chain its refusal lands in, action, outcome (none:
        /// nothing recorded), reason code, and the answer's status.
        type Row = (Step, Option<Uuid>, &'static str, Option<AuditOutcome>, &'static str, StatusCode);
        let steps: [Row; 23] = [
            (MemberEditsOrg, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "not_an_admin", StatusCode::FORBIDDEN),
            (AdminEditsOtherOrg, Some(refuse), "cross_org_access_denied", Some(AuditOutcome::Denied), "cross_organization", StatusCode::NOT_FOUND),
            (AdminSetsSeatLimit, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "not_a_platform_admin", StatusCode::FORBIDDEN),
            (AdminSuspendsOrg, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "not_a_platform_admin", StatusCode::FORBIDDEN),
            (AdminCreatesOrg, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "not_a_platform_admin", StatusCode::FORBIDDEN),
            (MemberChangesRole, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "not_an_admin", StatusCode::FORBIDDEN),
            (AdminGrantsPlatformAdmin, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "not_a_platform_admin", StatusCode::FORBIDDEN),
            (AdminReadsInstallationLog, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "not_a_platform_admin", StatusCode::FORBIDDEN),
            (AdminSetsQuotas, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "not_a_platform_admin", StatusCode::FORBIDDEN),
            (AdminAddsTemplate, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "not_a_platform_admin", StatusCode::FORBIDDEN),
            (MemberCreatesWorkspace, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "self_service_off", StatusCode::FORBIDDEN),
            (MemberCreatesWorkspaceForAnother, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "not_an_admin", StatusCode::FORBIDDEN),
            (TokenMakesToken, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "api_token_not_allowed", StatusCode::FORBIDDEN),
            (TokenReauthenticates, Some(refuse), "permission_denied", Some(AuditOutcome::Denied), "api_token_not_allowed", StatusCode::FORBIDDEN),
            (WrongPassword, Some(refuse), "login_failed", Some(AuditOutcome::Failure), "bad_credentials", StatusCode::UNAUTHORIZED),
            (UnknownAccount, None, "login_failed", Some(AuditOutcome::Failure), "bad_credentials", StatusCode::UNAUTHORIZED),
            (Throttled, Some(refuse), "login_throttled", Some(AuditOutcome::Denied), "throttled", StatusCode::TOO_MANY_REQUESTS),
            // The same block again: refused, and not recorded again.
            (ThrottledAgain, Some(refuse), "login_throttled", None, "throttled", StatusCode::TOO_MANY_REQUESTS),
            (Unverified, None, "login_denied", Some(AuditOutcome::Denied), "email_unverified", StatusCode::FORBIDDEN),
            (DisabledAccount, Some(refuse), "login_denied", Some(AuditOutcome::Denied), "account_disabled", StatusCode::FORBIDDEN),
            (SuspendedOrgSignIn, Some(other_org), "login_denied", Some(AuditOutcome::Denied), "org_suspended", StatusCode::FORBIDDEN),
            (InvitationToSuspendedOrg, Some(other_org), "accept_invitation_denied", Some(AuditOutcome::Denied), "org_suspended", StatusCode::FORBIDDEN),
            (OwedStepChangesPassword, Some(strict_org), "permission_denied", Some(AuditOutcome::Denied), "sign_in_incomplete", StatusCode::FORBIDDEN),
        ];
        let chains = [Some(refuse), Some(other_org), Some(strict_org), None];
        for (step, home, action, outcome, reason, status) in steps {
            let name = format!("{action}/{reason}");
            // What the step needs first, not part of what is counted.
            match step {
                Throttled => {
                    for _ in 0..5 {
                        assert_problem(app.login("tina@refuse.test", "wrong password here").await, StatusCode::UNAUTHORIZED).await;
                    }
                }
                DisabledAccount => {
                    let res = app.post(&format!("/api/users/{mia_id}/disable")).bearer_auth(&boss).send().await.unwrap();
                    assert!(res.status().is_success(), "{}", res.status());
                }
                SuspendedOrgSignIn => {
                    let res = app.post(&format!("/api/organizations/{other_id}/suspend")).bearer_auth(&platform).send().await.unwrap();
                    assert_eq!(res.status(), StatusCode::OK);
                }
                OwedStepChangesPassword => {
                    let res = app.patch_json(&format!("/api/organizations/{strict_id}"), &strict, json!({ "require_mfa": true })).await;
                    assert_eq!(res.status(), StatusCode::OK);
                }
                _ => {}
            }
            let mut before = Vec::new();
            for c in chains {
                before.push(chain(&app, c).await.len());
            }
            let res: Response = match step {
                MemberEditsOrg => app.patch_json(&format!("/api/organizations/{refuse_id}"), &mia, json!({ "name": "Mine" })).await,
                AdminEditsOtherOrg => app.patch_json(&format!("/api/organizations/{other_id}"), &boss, json!({ "name": "Mine" })).await,
                AdminSetsSeatLimit => app.patch_json(&format!("/api/organizations/{refuse_id}"), &boss, json!({ "seat_limit": 1000 })).await,
                AdminSuspendsOrg => app.post(&format!("/api/organizations/{refuse_id}/suspend")).bearer_auth(&boss).send().await.unwrap(),
                AdminCreatesOrg => app.post_json("/api/organizations", &boss, json!({ "name": "Spawn", "domain": "spawn.test" })).await,
                MemberChangesRole => app.patch_json(&format!("/api/users/{boss_id}"), &mia, json!({ "role": "user" })).await,
                AdminGrantsPlatformAdmin => app.patch_json(&format!("/api/users/{mia_id}"), &boss, json!({ "role": "platform_admin" })).await,
                AdminReadsInstallationLog => app.get("/api/audit").bearer_auth(&boss).send().await.unwrap(),
                AdminSetsQuotas => app.patch_json(&format!("/api/organizations/{refuse_id}/quotas"), &boss, json!({ "max_workspaces": 3 })).await,
                AdminAddsTemplate => {
                    let body = json!({
                        "name": "Mine", "description": "", "image": "busybox", "command": ["sh"],
                        "default_vcpu": 500, "default_memory_mib": 64, "default_storage_gib": 1,
                        "max_vcpu": 2000, "max_memory_mib": 512, "max_storage_gib": 20,
                    });
                    app.post_json("/api/workspace-templates", &boss, body).await
                }
                MemberCreatesWorkspace => {
                    app.post_json("/api/workspaces", &mia, json!({ "name": "mine", "template_id": template, "start": false })).await
                }
                MemberCreatesWorkspaceForAnother => {
                    // Self-service on: members allocate for themselves only.
                    let res = app.patch_json(&format!("/api/organizations/{refuse_id}"), &boss, json!({ "self_service_workspaces": true })).await;
                    assert_eq!(res.status(), StatusCode::OK);
                    before[0] = chain(&app, Some(refuse)).await.len();
                    let body = json!({ "name": "theirs", "template_id": template, "owner_id": boss_id, "start": false });
                    app.post_json("/api/workspaces", &mia, body).await
                }
                TokenMakesToken => app.post_json("/api/account/tokens", &boss_api, json!({ "name": "more" })).await,
                TokenReauthenticates => app.post_json("/api/auth/reauthenticate", &boss_api, json!({ "password": PASSWORD })).await,
                WrongPassword => app.login("boss@refuse.test", "wrong password here").await,
                UnknownAccount => app.login("nobody@refuse.test", "wrong password here").await,
                Throttled | ThrottledAgain => app.login("tina@refuse.test", "wrong password here").await,
                Unverified => app.login("pat@pending.test", PASSWORD).await,
                DisabledAccount => app.login("mia@refuse.test", PASSWORD).await,
                SuspendedOrgSignIn => app.login("owner@other.test", PASSWORD).await,
                InvitationToSuspendedOrg => {
                    app.post(&format!("/api/invitations/{invitation}/accept")).json(&json!({ "name": "Ivy", "password": PASSWORD })).send().await.unwrap()
                }
                OwedStepChangesPassword => {
                    // The organization now requires MFA: Lea's sign-in owes enrolment.
                    let step: Value = app.login("lead@strict.test", PASSWORD).await.json().await.unwrap();
                    assert_eq!(step["stage"], "enrol_required", "{step}");
                    before[2] = chain(&app, Some(strict_org)).await.len();
                    let token = step["token"].as_str().unwrap();
                    app.post_json("/api/account/password", token, json!({ "current_password": PASSWORD, "new_password": "another fine passphrase" })).await
                }
            };
            assert_problem(res, status).await;
            for (c, n) in chains.iter().zip(&before) {
                let new: Vec<AuditEvent> = chain(&app, *c).await.into_iter().skip(*n).collect();
                let refusals: Vec<&AuditEvent> = new.iter().filter(|e| e.outcome != AuditOutcome::Success).collect();
                if *c == home && outcome.is_some() {
                    assert_eq!(refusals.len(), 1, "{name}: one refusal in its chain: {new:#?}");
                    let e = refusals[0];
                    assert_eq!(e.action, action, "{name}: {e:#?}");
                    assert_eq!(Some(e.outcome), outcome, "{name}: {e:#?}");
                    assert_eq!(e.reason_code.as_deref(), Some(reason), "{name}: {e:#?}");
                } else {
                    assert!(refusals.is_empty(), "{name}: nothing in chain {c:?}: {new:#?}");
                }
            }
        }
        // The unknown address's event does not name an account.
        let installation = chain(&app, None).await;
        let unknown = installation.iter().find(|e| e.action == "login_failed").expect("the unknown account's failure");
        assert_eq!(unknown.actor.kind, "system");
        assert!(unknown.actor.id.is_none() && unknown.target.is_none(), "{unknown:#?}");
    }

    async fn each_seed_action_appears_for_its_action(app: TestApp) {
        let platform = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        // create_organization: a platform admin creates one.
        let res = app.post_json("/api/organizations", &platform, json!({ "name": "Seeded", "domain": "seeded.test" })).await;
        let status = res.status();
        let created: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let org_id = created["id"].as_str().unwrap().to_owned();
        let org = OrgId::parse(&org_id).unwrap().0;
        let count = |events: &[AuditEvent], action: &str| events.iter().filter(|e| e.action == action).count();
        let events = chain(&app, Some(org)).await;
        assert_eq!(count(&events, "create_organization"), 1, "{events:#?}");
        let e = events.iter().find(|e| e.action == "create_organization").unwrap();
        assert_eq!(e.outcome, AuditOutcome::Success);
        assert_eq!(e.target.as_ref().map(|t| t.id.as_str()), Some(org_id.as_str()));
        assert_eq!(e.actor.email.as_deref(), Some(ADMIN_EMAIL));
        assert_eq!(e.context.session_kind.as_deref(), Some("password"), "signed in with a password, no second factor");

        // update_organization, through an API token this time.
        let res = app.post_json("/api/account/tokens", &platform, json!({ "name": "seed" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let api: String = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        let res = app.patch_json(&format!("/api/organizations/{org_id}"), &api, json!({ "name": "Seeded Corp" })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let events = chain(&app, Some(org)).await;
        assert_eq!(count(&events, "update_organization"), 1, "{events:#?}");
        let e = events.iter().find(|e| e.action == "update_organization").unwrap();
        assert_eq!(e.details["name"], json!({ "old": "Seeded", "new": "Seeded Corp" }));
        assert_eq!(e.context.session_kind.as_deref(), Some("api_token"));

        // add_user_to_org: an invited person joins.
        let res = app.post_json(&format!("/api/organizations/{org_id}/invitations"), &platform, json!({ "email": "sam@seeded.test", "role": "user" })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let link = res.json::<Value>().await.unwrap()["link"].as_str().unwrap().to_owned();
        let token = link.rsplit('/').next().unwrap();
        let res = app.post(&format!("/api/invitations/{token}/accept")).json(&json!({ "name": "Sam", "password": PASSWORD })).send().await.unwrap();
        let status = res.status();
        let joined: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{joined}");
        let sam_id = joined["user"]["id"].as_str().unwrap().to_owned();
        let events = chain(&app, Some(org)).await;
        assert_eq!(count(&events, "add_user_to_org"), 1, "{events:#?}");
        let e = events.iter().find(|e| e.action == "add_user_to_org").unwrap();
        assert_eq!(e.target.as_ref().map(|t| t.id.as_str()), Some(sam_id.as_str()));

        // remove_user_from_org: the platform admin removes them.
        let res = app.delete(&format!("/api/organizations/{org_id}/members/{sam_id}")).bearer_auth(&platform).send().await.unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        let events = chain(&app, Some(org)).await;
        assert_eq!(count(&events, "remove_user_from_org"), 1, "{events:#?}");
        let e = events.iter().find(|e| e.action == "remove_user_from_org").unwrap();
        assert_eq!(e.target.as_ref().map(|t| t.id.as_str()), Some(sam_id.as_str()));
        assert_eq!(e.target.as_ref().and_then(|t| t.name.as_deref()), Some("Sam"));
        assert_eq!(e.outcome, AuditOutcome::Success);
        // Every one of them is a success and the chain holds.
        assert!(events.iter().all(|e| e.outcome == AuditOutcome::Success), "{events:#?}");
        let report = neosc::server::service::audit::verify_chain(&app.store, Some(org)).await.unwrap();
        assert!(report.intact, "{report:?}");
    }
}
