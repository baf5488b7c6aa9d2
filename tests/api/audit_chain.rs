//! The audit log's hash chain (issue 13, first slice): gapless per
//! organization under concurrent writers, verified intact when untouched,
//! broken at the first tampered seq when a database owner edits, deletes or
//! reorders rows behind the triggers, and rows written before the chain
//! existed chained by the start-up pass.

use chrono::Utc;
use neosc::server::db::Store;
use neosc::server::service::audit;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// Runs one statement binding the organization (`$1`) and a seq (`$2`).
async fn exec(app: &TestApp, sql: &str, org: Uuid, seq: i64) -> Result<u64, sqlx::Error> {
    match &app.store {
        Store::Sqlite(p) => sqlx::query(sql).bind(org).bind(seq).execute(p).await.map(|r| r.rows_affected()),
        Store::Postgres(p) => sqlx::query(sql).bind(org).bind(seq).execute(p).await.map(|r| r.rows_affected()),
    }
}

/// The seqs of an organization's chain, in order.
async fn seqs(app: &TestApp, org: Uuid) -> Vec<i64> {
    let sql = "SELECT seq FROM audit_events WHERE organization_id = $1 AND seq IS NOT NULL ORDER BY seq";
    match &app.store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).bind(org).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).bind(org).fetch_all(p).await.unwrap(),
    }
}

/// What an attacker with the database owner's rights does first: takes the
/// append-only triggers out of the way.
async fn bypass_triggers(app: &TestApp) {
    match &app.store {
        Store::Sqlite(p) => {
            sqlx::raw_sql("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;").execute(p).await.unwrap();
        }
        Store::Postgres(p) => {
            sqlx::raw_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only").execute(p).await.unwrap();
        }
    }
}

fn uuid_of(public_id: &str) -> Uuid {
    neosc::model::OrgId::parse(public_id).expect("an organization id").0
}

async fn verify_as(app: &TestApp, token: &str, org_id: &str) -> Value {
    let res = app.get(&format!("/api/organizations/{org_id}/audit/verify")).bearer_auth(token).send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// An organization with a handful of events: its founder registered and
/// signed in a few times. Returns its public id.
async fn org_with_events(app: &TestApp, domain: &str) -> String {
    let email = format!("founder@{domain}");
    let (_, user) = app.register_founder(&email, "Founder", &format!("Chain {domain}")).await;
    for _ in 0..3 {
        app.login_ok(&email, PASSWORD).await;
    }
    user["organization_id"].as_str().unwrap().to_owned()
}

both_backends! {
    async fn concurrent_writers_give_a_gapless_intact_chain(app: TestApp) {
        let (founder, user) = app.register_founder("boss@chain.test", "Boss", "Chain").await;
        let org_id = user["organization_id"].as_str().unwrap().to_owned();
        let mut links = Vec::new();
        for i in 0..8 {
            links.push(app.register_pending(&format!("joiner{i}@chain.test"), &format!("Joiner {i}"), None).await);
        }
        // Registrations joining, invitations and sign-ins, all at once: each
        // writes events in the organization's chain.
        let mut calls = tokio::task::JoinSet::new();
        for token in links {
            let req = app.post("/api/auth/verify-email").json(&json!({ "token": token }));
            calls.spawn(async move { req.send().await.unwrap().status() });
        }
        for i in 0..8 {
            let req = app
                .post(&format!("/api/organizations/{org_id}/invitations"))
                .bearer_auth(&founder)
                .json(&json!({ "email": format!("invitee{i}@chain.test"), "role": "user" }));
            calls.spawn(async move { req.send().await.unwrap().status() });
        }
        for _ in 0..4 {
            let req = app.post("/api/auth/login").json(&json!({ "email": "boss@chain.test", "password": PASSWORD }));
            calls.spawn(async move { req.send().await.unwrap().status() });
        }
        let statuses = calls.join_all().await;
        assert!(statuses.iter().all(|s| s.is_success()), "{statuses:?}");

        let org = uuid_of(&org_id);
        let seqs = seqs(&app, org).await;
        let n = seqs.len() as i64;
        assert!(n >= 20, "{seqs:?}");
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "gapless from 1");
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let report = verify_as(&app, &admin, &org_id).await;
        assert_eq!(report["intact"], true, "{report}");
        assert_eq!(report["head_seq"], n, "{report}");
        assert_eq!(report["head_hash"].as_str().unwrap().len(), 64, "{report}");
        // The organization's own admin gets the same answer.
        let own = verify_as(&app, &founder, &org_id).await;
        assert_eq!(own, report);
        // An org admin elsewhere does not learn the organization exists.
        let (other, _) = app.register_founder("boss@elsewhere.test", "Other", "Elsewhere").await;
        let res = app.get(&format!("/api/organizations/{org_id}/audit/verify")).bearer_auth(&other).send().await.unwrap();
        assert_problem(res, StatusCode::NOT_FOUND).await;
        // The installation's chain (no organization) is intact too.
        let installation = audit::verify_chain(&app.store, None).await.unwrap();
        assert!(installation.intact, "{installation:?}");
    }

    async fn verify_names_the_first_tampered_seq(app: TestApp) {
        let edited = org_with_events(&app, "edited.test").await;
        let deleted = org_with_events(&app, "deleted.test").await;
        let swapped = org_with_events(&app, "swapped.test").await;
        let untouched = org_with_events(&app, "untouched.test").await;
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        for org in [&edited, &deleted, &swapped, &untouched] {
            let report = verify_as(&app, &admin, org).await;
            assert_eq!(report["intact"], true, "{org}: {report}");
            assert!(report["head_seq"].as_i64().unwrap() >= 5, "{org}: {report}");
        }
        // The triggers refuse all three while they are there, including
        // a rewrite of a chained row's hash.
        let edit = "UPDATE audit_events SET details = '{\"forged\":true}' WHERE organization_id = $1 AND seq = $2";
        let delete = "DELETE FROM audit_events WHERE organization_id = $1 AND seq = $2";
        assert!(exec(&app, edit, uuid_of(&edited), 3).await.is_err());
        assert!(exec(&app, delete, uuid_of(&deleted), 2).await.is_err());
        assert!(exec(&app, "UPDATE audit_events SET hash = NULL WHERE organization_id = $1 AND seq = $2", uuid_of(&swapped), 2).await.is_err());

        bypass_triggers(&app).await;
        assert_eq!(exec(&app, edit, uuid_of(&edited), 3).await.unwrap(), 1);
        assert_eq!(exec(&app, delete, uuid_of(&deleted), 2).await.unwrap(), 1);
        // Seq 2 and 4 trade places (through a free seq: the index is unique).
        let s = uuid_of(&swapped);
        assert_eq!(exec(&app, "UPDATE audit_events SET seq = -$2 WHERE organization_id = $1 AND seq = $2", s, 2).await.unwrap(), 1);
        assert_eq!(exec(&app, "UPDATE audit_events SET seq = $2 WHERE organization_id = $1 AND seq = $2 + 2", s, 2).await.unwrap(), 1);
        assert_eq!(exec(&app, "UPDATE audit_events SET seq = $2 + 2 WHERE organization_id = $1 AND seq = -$2", s, 2).await.unwrap(), 1);

        let report = verify_as(&app, &admin, &edited).await;
        assert_eq!((report["intact"].clone(), report["first_broken_seq"].clone(), report["reason"].clone()), (json!(false), json!(3), json!("hash mismatch")), "{report}");
        let report = verify_as(&app, &admin, &deleted).await;
        assert_eq!((report["intact"].clone(), report["first_broken_seq"].clone(), report["reason"].clone()), (json!(false), json!(2), json!("missing seq")), "{report}");
        let report = verify_as(&app, &admin, &swapped).await;
        assert_eq!((report["intact"].clone(), report["first_broken_seq"].clone(), report["reason"].clone()), (json!(false), json!(2), json!("hash mismatch")), "{report}");
        assert!(report.get("head_seq").is_none(), "{report}");
        let report = verify_as(&app, &admin, &untouched).await;
        assert_eq!(report["intact"], true, "{report}");

        // Cutting the tail off shows against the head.
        let head = verify_as(&app, &admin, &untouched).await["head_seq"].as_i64().unwrap();
        assert_eq!(exec(&app, delete, uuid_of(&untouched), head).await.unwrap(), 1);
        let report = verify_as(&app, &admin, &untouched).await;
        assert_eq!((report["first_broken_seq"].clone(), report["reason"].clone()), (json!(head), json!("missing seq")), "{report}");

        // The operator's command sees the same breaks.
        let checked = neosc::server::service::operator::verify_audit(&app.state, None).await.unwrap();
        let broken: Vec<_> = checked.iter().filter(|c| !c.report.intact).filter_map(|c| c.organization_id.clone()).collect();
        for org in [&edited, &deleted, &swapped, &untouched] {
            assert!(broken.contains(org), "{org} in {broken:?}");
        }
        let one = neosc::server::service::operator::verify_audit(&app.state, Some(edited.as_str())).await.unwrap();
        assert_eq!((one.len(), one[0].report.first_broken_seq), (1, Some(3)));
    }

    async fn rows_from_before_the_chain_are_chained_at_start_up(app: TestApp) {
        let org_id = org_with_events(&app, "legacy.test").await;
        let org = uuid_of(&org_id);
        let before = seqs(&app, org).await.len() as i64;
        // Rows as the code before migration 0014 wrote them: no seq, no
        // hash, in this organization and in the installation's chain.
        let insert = "INSERT INTO audit_events (id, organization_id, actor_user_id, action, target_type, target_id, details, ip, created_at) \
                      VALUES ($1, $2, NULL, 'legacy_event', 'user', 'usr-legacy', $3, '192.0.2.1', $4)";
        let t0 = Utc::now();
        let rows: Vec<(Option<Uuid>, i64)> = vec![(Some(org), 2), (None, 0), (Some(org), 1), (None, 1)];
        for (owner, offset) in &rows {
            let at = t0 + chrono::Duration::seconds(*offset);
            let details = sqlx::types::Json(json!({ "n": offset, "nested": { "b": 1, "a": [1.5, "x"] } }));
            let id = Uuid::now_v7();
            let done = match &app.store {
                Store::Sqlite(p) => sqlx::query(insert).bind(id).bind(owner).bind(&details).bind(at).execute(p).await.map(|r| r.rows_affected()),
                Store::Postgres(p) => sqlx::query(insert).bind(id).bind(owner).bind(&details).bind(at).execute(p).await.map(|r| r.rows_affected()),
            };
            assert_eq!(done.unwrap(), 1);
        }
        let installation_before = audit::verify_chain(&app.store, None).await.unwrap();
        assert!(installation_before.intact);
        // Two instances starting at once chain each row exactly once.
        let (a, b) = tokio::join!(audit::chain_unchained(&app.store), audit::chain_unchained(&app.store));
        assert_eq!(a.unwrap() + b.unwrap(), 4);
        assert_eq!(audit::chain_unchained(&app.store).await.unwrap(), 0, "nothing left to chain");

        assert_eq!(seqs(&app, org).await, (1..=before + 2).collect::<Vec<_>>());
        // Oldest first: the row one second after t0 comes before the one two seconds after.
        let sql = "SELECT details FROM audit_events WHERE organization_id = $1 AND seq = $2";
        let first: sqlx::types::Json<Value> = match &app.store {
            Store::Sqlite(p) => sqlx::query_scalar(sql).bind(org).bind(before + 1).fetch_one(p).await.unwrap(),
            Store::Postgres(p) => sqlx::query_scalar(sql).bind(org).bind(before + 1).fetch_one(p).await.unwrap(),
        };
        assert_eq!(first.0["n"], 1);
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let report = verify_as(&app, &admin, &org_id).await;
        assert_eq!((report["intact"].clone(), report["head_seq"].clone()), (json!(true), json!(before + 2)), "{report}");
        let installation = audit::verify_chain(&app.store, None).await.unwrap();
        assert!(installation.intact, "{installation:?}");
        assert_eq!(installation.head_seq, installation_before.head_seq.map(|s| s + 2));
        // Chained rows are append-only again.
        let res = exec(&app, "UPDATE audit_events SET seq = NULL, hash = NULL, prev_hash = NULL WHERE organization_id = $1 AND seq = $2", org, before + 1).await;
        assert!(res.is_err());
    }
}
