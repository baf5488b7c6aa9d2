//! Audit retention (issue 13): an organization that keeps its events for N
//! days has older ones purged by the sweeper; a purge row written first
//! keeps the rest verifiable, the triggers let only covered seqs go, and
//! two sweepers at once purge each event once.

use chrono::Duration;
use neosc::server::db::Store;
use neosc::server::sweeper::sweep_once;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

fn uuid_of(public_id: &str) -> Uuid {
    neosc::model::OrgId::parse(public_id).expect("an organization id").0
}

async fn seqs(app: &TestApp, org: Uuid) -> Vec<i64> {
    let sql = "SELECT seq FROM audit_events WHERE organization_id = $1 ORDER BY seq";
    match &app.store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).bind(org).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).bind(org).fetch_all(p).await.unwrap(),
    }
}

async fn exec(app: &TestApp, sql: &str, org: Uuid, seq: i64) -> Result<u64, sqlx::Error> {
    match &app.store {
        Store::Sqlite(p) => sqlx::query(sql).bind(org).bind(seq).execute(p).await.map(|r| r.rows_affected()),
        Store::Postgres(p) => sqlx::query(sql).bind(org).bind(seq).execute(p).await.map(|r| r.rows_affected()),
    }
}

async fn verify(app: &TestApp, token: &str, org_id: &str) -> Value {
    let res = app.get(&format!("/api/organizations/{org_id}/audit/verify")).bearer_auth(token).send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// An organization whose founder signed in a few times; its id and the
/// founder's token.
async fn busy_org(app: &TestApp, domain: &str) -> (String, String) {
    let email = format!("founder@{domain}");
    let (_, user) = app.register_founder(&email, "Founder", &format!("Keep {domain}")).await;
    for _ in 0..3 {
        app.login_ok(&email, PASSWORD).await;
    }
    let token = app.login_ok(&email, PASSWORD).await;
    (user["organization_id"].as_str().unwrap().to_owned(), token)
}

both_backends! {
    async fn retention_is_bounded_by_the_installation(app: TestApp) {
        let (org_id, token) = busy_org(&app, "bounds.test").await;
        for days in [json!(5), json!(4000)] {
            let res = app.patch_json(&format!("/api/organizations/{org_id}"), &token, json!({ "audit_retention_days": days })).await;
            let body = assert_problem(res, StatusCode::BAD_REQUEST).await;
            assert!(body.to_string().contains("audit_retention_days"), "{body}");
        }
        let res = app.patch_json(&format!("/api/organizations/{org_id}"), &token, json!({ "audit_retention_days": 30 })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["audit_retention_days"], 30);
        let res = app.patch_json(&format!("/api/organizations/{org_id}"), &token, json!({ "audit_retention_days": null })).await;
        let body: Value = res.json().await.unwrap();
        assert!(body["audit_retention_days"].is_null(), "{body}");
    }

    async fn old_events_are_purged_and_the_rest_still_verifies(app: TestApp) {
        let (org_id, token) = busy_org(&app, "purge.test").await;
        let org = uuid_of(&org_id);
        let res = app.patch_json(&format!("/api/organizations/{org_id}"), &token, json!({ "audit_retention_days": 30 })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let old = seqs(&app, org).await;
        let last_old = *old.last().unwrap();

        // Nothing is old enough yet.
        sweep_once(&app.state).await;
        assert_eq!(seqs(&app, org).await, old);

        app.clock.advance(Duration::days(31));
        let token = app.login_ok("founder@purge.test", PASSWORD).await;
        let report = sweep_once(&app.state).await;
        assert_eq!(report.audit_events, old.len() as u64);
        let left = seqs(&app, org).await;
        assert!(left.iter().all(|s| *s > last_old), "{left:?}");

        let report = verify(&app, &token, &org_id).await;
        assert_eq!(report["intact"], true, "{report}");
        assert_eq!(report["purged_through_seq"], last_old);
        assert_eq!(report["head_seq"], *left.last().unwrap());

        // The purge is in the chain, as the system's doing.
        let events = app.store.conn().await.unwrap().audit_events_with_action("purge_audit_events", 5).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].details.0["purged_through_seq"], last_old);

        // A second pass finds nothing more; the chain is as it was.
        assert_eq!(sweep_once(&app.state).await.audit_events, 0);
        assert_eq!(verify(&app, &token, &org_id).await["intact"], true);

        // Nobody deletes a remaining event through the triggers.
        let first_left = left[0];
        let refused = exec(&app, "DELETE FROM audit_events WHERE organization_id = $1 AND seq = $2", org, first_left).await;
        assert!(refused.is_err(), "an unpurged event was deleted");
    }

    async fn two_sweepers_purge_each_event_once(app: TestApp) {
        let (org_id, token) = busy_org(&app, "race.test").await;
        let org = uuid_of(&org_id);
        app.patch_json(&format!("/api/organizations/{org_id}"), &token, json!({ "audit_retention_days": 30 })).await;
        let old = seqs(&app, org).await.len() as u64;
        app.clock.advance(Duration::days(40));
        let (a, b) = tokio::join!(sweep_once(&app.state), sweep_once(&app.state));
        assert_eq!(a.audit_events + b.audit_events, old);
        let events = app.store.conn().await.unwrap().audit_events_with_action("purge_audit_events", 5).await.unwrap();
        assert_eq!(events.len(), 1, "one purge, whoever won");
        let token = app.login_ok("founder@race.test", PASSWORD).await;
        assert_eq!(verify(&app, &token, &org_id).await["intact"], true);
    }

    async fn without_retention_nothing_is_purged(app: TestApp) {
        let (org_id, _) = busy_org(&app, "forever.test").await;
        let org = uuid_of(&org_id);
        let before = seqs(&app, org).await;
        app.clock.advance(Duration::days(3650));
        assert_eq!(sweep_once(&app.state).await.audit_events, 0);
        assert_eq!(seqs(&app, org).await, before);
        let token = app.login_ok("founder@forever.test", PASSWORD).await;
        let report = verify(&app, &token, &org_id).await;
        assert_eq!(report["intact"], true);
        assert!(report.get("purged_through_seq").is_none());
    }

    async fn a_deletion_after_the_purge_point_is_still_found(app: TestApp) {
        let (org_id, token) = busy_org(&app, "gap.test").await;
        let org = uuid_of(&org_id);
        app.patch_json(&format!("/api/organizations/{org_id}"), &token, json!({ "audit_retention_days": 30 })).await;
        app.clock.advance(Duration::days(31));
        for _ in 0..3 {
            app.login_ok("founder@gap.test", PASSWORD).await;
        }
        sweep_once(&app.state).await;
        let left = seqs(&app, org).await;
        // A database owner drops the triggers and removes the first event
        // after the purge point: verify names it.
        match &app.store {
            Store::Sqlite(p) => {
                sqlx::raw_sql("DROP TRIGGER audit_events_no_delete;").execute(p).await.unwrap();
            }
            Store::Postgres(p) => {
                sqlx::raw_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only").execute(p).await.unwrap();
            }
        }
        exec(&app, "DELETE FROM audit_events WHERE organization_id = $1 AND seq = $2", org, left[0]).await.unwrap();
        let token = app.login_ok("founder@gap.test", PASSWORD).await;
        let report = verify(&app, &token, &org_id).await;
        assert_eq!(report["intact"], false, "{report}");
        assert_eq!(report["first_broken_seq"], left[0]);
    }
}
