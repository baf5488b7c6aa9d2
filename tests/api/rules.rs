//! The domain's rules, each written once: states decode strictly, the
//! database's refusals are known by their constraint on both backends, the
//! last-admin rule counts only active admins, and a check and the change it
//! guards happen in one transaction. Actions go through the server
//! functions (`/api/fn/…`), whose paths and verbs do not change.

use neosc::model::{DomainMethod, OrgStatus, Role, SessionKind, SessionStage, UserStatus};
use neosc::server::db::{Constraint, DbError, NewInvitation, NewOrganization, NewUser};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::{Connection, Executor};
use uuid::Uuid;

use crate::helpers::*;

/// Calls a server function as the holder of the session `token`.
async fn call(app: &TestApp, token: &str, function: &str, form: &[(&str, &str)]) -> StatusCode {
    app.post(&format!("/api/fn/{function}")).header("cookie", format!("neosc_session={token}")).form(form).send().await.unwrap().status()
}

fn id(user: &Value) -> &str {
    user["id"].as_str().unwrap()
}

fn org_of(user: &Value) -> &str {
    user["organization_id"].as_str().unwrap()
}

fn org_uuid(org: &str) -> Uuid {
    neosc::model::OrgId::parse(org).unwrap().0
}

/// Runs `sql` on a connection of its own with the state CHECKs out of the
/// way, to put into the database what the application never would.
async fn write_behind_the_schema(app: &TestApp, sql: &str) {
    if app.database_url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
        c.execute("PRAGMA ignore_check_constraints = ON").await.unwrap();
        c.execute(sql).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
        c.execute("ALTER TABLE users DROP CONSTRAINT users_role_check").await.unwrap();
        c.execute(sql).await.unwrap();
    }
}

both_backends! {
    async fn states_decode_to_their_enums_and_unknown_ones_are_errors(app: TestApp) {
        let (token, _) = app.register_founder("odd@acme.test", "Odd", "Acme").await;
        let mut db = app.store.conn().await.unwrap();
        let user = db.user_by_email("odd@acme.test").await.unwrap().unwrap();
        assert_eq!((user.role, user.status, user.organization_status), (Role::OrgAdmin, UserStatus::Active, OrgStatus::Active));
        let sessions = db.sessions_of_user(user.id).await.unwrap();
        assert_eq!((sessions[0].kind, sessions[0].stage), (SessionKind::Api, SessionStage::Full));
        assert_eq!(db.count_users_with_role(Role::OrgAdmin).await.unwrap(), 1);
        drop(db);

        // A role the code does not know is a decode error, not a plain user.
        write_behind_the_schema(&app, "UPDATE users SET role = 'owner' WHERE email = 'odd@acme.test'").await;
        let err = app.store.conn().await.unwrap().user_by_email("odd@acme.test").await.unwrap_err();
        assert!(matches!(err, DbError::Sqlx(sqlx::Error::ColumnDecode { .. })), "{err:?}");
        let problem = assert_problem(app.me(&token).await, StatusCode::INTERNAL_SERVER_ERROR).await;
        assert!(!problem["detail"].as_str().unwrap().contains("owner"), "causes stay in the log: {problem}");
    }

    async fn refusals_are_known_by_their_constraint(app: TestApp) {
        let now = chrono::Utc::now();
        let mut db = app.store.conn().await.unwrap();
        let org = |name: &'static str, slug: &'static str, domain: &'static str| NewOrganization {
            id: Uuid::now_v7(),
            name,
            slug,
            domain,
            is_default: false,
            now,
        };
        let acme = db.insert_org(&org("Acme", "acme", "acme.test")).await.unwrap();
        let refused = |r: Result<neosc::server::db::OrgRecord, DbError>| r.unwrap_err().constraint();
        assert_eq!(refused(db.insert_org(&org("ACME", "acme-2", "acme2.test")).await), Some(Constraint::OrgName));
        // A domain may be claimed by many, verified by one.
        let other = db.insert_org(&org("Other", "other", "ACME.test")).await.unwrap();
        db.insert_org_domain(acme.id, "acme.test", "t1", now).await.unwrap();
        db.insert_org_domain(other.id, "acme.test", "t2", now).await.unwrap();
        let dup = db.insert_org_domain(other.id, "acme.test", "t3", now).await.unwrap_err();
        assert_eq!(dup.constraint(), Some(Constraint::DomainClaim));
        assert_eq!(db.verify_org_domain(acme.id, "acme.test", "t1", DomainMethod::DnsTxt, now).await.unwrap(), 1);
        let second = db.verify_org_domain(other.id, "acme.test", "t2", DomainMethod::Operator, now).await.unwrap_err();
        assert_eq!(second.constraint(), Some(Constraint::VerifiedDomain));
        assert_eq!(refused(db.insert_org(&org("Third", "acme", "third.test")).await), Some(Constraint::OrgSlug));

        let fourth = db.insert_org(&org("Fourth", "fourth", "fourth.test")).await.unwrap();
        db.set_org_external_id(acme.id, "zitadel-1").await.unwrap();
        let taken = db.set_org_external_id(fourth.id, "zitadel-1").await.unwrap_err();
        assert_eq!(taken.constraint(), Some(Constraint::OrgExternalId));

        let user = |email: &'static str| NewUser {
            id: Uuid::now_v7(),
            organization_id: acme.id,
            email,
            name: "A",
            password_hash: None,
            role: Role::User,
            email_verified_at: None,
            now,
        };
        db.insert_user(&user("a@acme.test")).await.unwrap();
        assert_eq!(db.insert_user(&user("a@acme.test")).await.unwrap_err().constraint(), Some(Constraint::UserEmail));

        let mut full = db.org_by_id(acme.id).await.unwrap().unwrap();
        full.seat_limit = Some(0);
        assert_eq!(db.update_org(&full, now).await.unwrap_err().constraint(), Some(Constraint::SeatLimit));

        let invitation = |role: Role| NewInvitation {
            organization_id: acme.id,
            email: "new@acme.test",
            role,
            token_hash: b"not a real hash",
            invited_by: Uuid::now_v7(),
            now,
            expires_at: now,
            link_shown: true,
        };
        db.insert_invitation(&NewInvitation { token_hash: b"first", ..invitation(Role::User) }).await.unwrap();
        let again = db.insert_invitation(&invitation(Role::User)).await.unwrap_err();
        assert_eq!(again.constraint(), Some(Constraint::OpenInvitation));

        // A constraint no service answers for stays an unnamed fault.
        let odd = db.insert_invitation(&NewInvitation { email: "odd@acme.test", ..invitation(Role::PlatformAdmin) }).await.unwrap_err();
        assert!(odd.constraint().is_none() && matches!(odd, DbError::Sqlx(_)), "{odd:?}");
    }

    async fn only_active_admins_count_as_the_remaining_admin(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (boss, boss_user) = app.register_founder("boss@acme.test", "Boss", "Acme").await;
        let (_, bob_user) = app.register_ok("bob@acme.test", "Bob", None).await;
        let org = org_of(&boss_user);
        assert_eq!(call(&app, &boss, "change_member_role", &[("user_id", id(&bob_user)), ("role", "org_admin")]).await, StatusCode::OK);
        assert_eq!(call(&app, &admin, "set_member_disabled", &[("user_id", id(&bob_user)), ("disabled", "true")]).await, StatusCode::OK);

        // Bob is disabled, so Boss is the last admin, whatever the change.
        let boss_id = id(&boss_user);
        assert_eq!(call(&app, &admin, "change_member_role", &[("user_id", boss_id), ("role", "user")]).await, StatusCode::CONFLICT);
        assert_eq!(call(&app, &admin, "set_member_disabled", &[("user_id", boss_id), ("disabled", "true")]).await, StatusCode::CONFLICT);
        assert_eq!(call(&app, &admin, "remove_member", &[("id", org), ("user_id", boss_id)]).await, StatusCode::CONFLICT);

        // A disabled admin may go: who can act does not change.
        assert_eq!(call(&app, &boss, "remove_member", &[("id", org), ("user_id", id(&bob_user))]).await, StatusCode::OK);
        assert_eq!(app.store.conn().await.unwrap().count_active_org_admins(org_uuid(org)).await.unwrap(), 1);
    }

    async fn a_disabled_platform_admin_may_be_removed(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (_, second) = app.register_ok("second@neogenesys.com", "Second", None).await;
        assert_eq!(call(&app, &admin, "change_member_role", &[("user_id", id(&second)), ("role", "platform_admin")]).await, StatusCode::OK);
        assert_eq!(call(&app, &admin, "set_member_disabled", &[("user_id", id(&second)), ("disabled", "true")]).await, StatusCode::OK);
        // The root admin remains the active one; the disabled one may go
        // (removal used to count them as if they were still active).
        let removed = call(&app, &admin, "remove_member", &[("id", org_of(&second)), ("user_id", id(&second))]).await;
        assert_eq!(removed, StatusCode::OK);
        assert_eq!(app.store.conn().await.unwrap().count_active_platform_admins().await.unwrap(), 1);
    }

    async fn two_admins_demoting_each_other_at_once_leave_one(app: TestApp) {
        for round in 0..3 {
            let (a, a_user) = app.register_founder(&format!("a@race{round}.test"), "A", &format!("Race {round}")).await;
            let (b, b_user) = app.register_ok(&format!("b@race{round}.test"), "B", None).await;
            assert_eq!(call(&app, &a, "change_member_role", &[("user_id", id(&b_user)), ("role", "org_admin")]).await, StatusCode::OK);
            let (demote_b, demote_a) = ([("user_id", id(&b_user)), ("role", "user")], [("user_id", id(&a_user)), ("role", "user")]);
            let (ab, ba) = tokio::join!(
                call(&app, &a, "change_member_role", &demote_b),
                call(&app, &b, "change_member_role", &demote_a),
            );
            let done = [ab, ba].iter().filter(|s| **s == StatusCode::OK).count();
            assert_eq!(done, 1, "round {round}: {ab} and {ba}");
            let admins = app.store.conn().await.unwrap().count_active_org_admins(org_uuid(org_of(&a_user))).await.unwrap();
            assert_eq!(admins, 1, "round {round}");
        }
    }

    async fn a_locked_organization_still_takes_events_from_a_member_holding_their_own_lock(app: TestApp) {
        // An admin's transaction locks the organization, then the member; a
        // sign-in locks the member, then records its event in the
        // organization (a foreign key to that row). Neither may wait on the
        // other for good. SQLite runs one write transaction at a time, so
        // the interleaving exists only on PostgreSQL.
        if app.database_url.starts_with("sqlite:") {
            return;
        }
        let (_, member) = app.register_founder("member@locks.test", "Member", "Locks").await;
        let member_id = neosc::model::UserId::parse(id(&member)).unwrap().0;
        let org_id = org_uuid(org_of(&member));

        let mut sign_in = app.store.begin().await.unwrap();
        sign_in.user_by_id_for_update(member_id).await.unwrap().unwrap();
        let mut admin = app.store.begin().await.unwrap();
        admin.org_of_user_for_update(member_id).await.unwrap().unwrap();
        let admin = tokio::spawn(async move {
            admin.user_by_id_for_update(member_id).await?;
            admin.commit().await
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let event = neosc::server::service::audit::Event {
            org: Some(org_id),
            actor: Some(member_id),
            action: "login",
            target: None,
            details: serde_json::json!({}),
        };
        let meta = neosc::server::auth::credentials::RequestMeta { ip: None, user_agent: None, operator: false, ..Default::default() };
        let recorded = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            neosc::server::service::audit::record(&mut sign_in, chrono::Utc::now(), &meta, event),
        )
        .await;
        assert!(matches!(recorded, Ok(Ok(()))), "the event waits on the admin's lock: {recorded:?}");
        sign_in.commit().await.unwrap();
        admin.await.unwrap().expect("the admin goes on once the sign-in commits");
    }

    async fn a_suspension_racing_an_edit_is_not_undone(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        for round in 0..3 {
            let domain = format!("edit{round}.test");
            let (boss, boss_user) = app.register_founder(&format!("boss@{domain}"), "Boss", &format!("Edit {round}")).await;
            let org = org_of(&boss_user);
            let renamed = format!("Edit {round} renamed");
            let suspension = [("id", org), ("suspended", "true")];
            let rename = [("id", org), ("name", renamed.as_str()), ("domain", domain.as_str())];
            let (suspend, edit) = tokio::join!(
                call(&app, &admin, "set_organization_suspended", &suspension),
                call(&app, &boss, "update_organization", &rename),
            );
            assert_eq!(suspend, StatusCode::OK);
            let detail: Value = app.get(&format!("/api/organizations/{org}")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
            assert_eq!(detail["status"], "suspended", "round {round}: the edit ({edit}) must not bring back the old status");
            if edit == StatusCode::OK {
                assert_eq!(detail["name"], renamed.as_str(), "round {round}: nor the suspension the old name");
            }
        }
    }
}

both_backends! {
    async fn the_states_are_schemas_of_the_api_document(app: TestApp) {
        let doc: Value = app.get("/api/openapi.json").send().await.unwrap().json().await.unwrap();
        let schemas = &doc["components"]["schemas"];
        for state in ["Role", "UserStatus", "OrgStatus", "SessionKind"] {
            assert!(schemas[state]["enum"].is_array(), "{state} is an enum schema: {}", schemas[state]);
        }
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.get(name).is_some(), "dangling $ref to {name}");
        }
    }
}
