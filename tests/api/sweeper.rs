//! The sweeper: expired rows of every kind go, live ones stay, and two
//! passes at once delete each row once between them.

use chrono::Duration;
use neosc::server::auth::token::hash_token;
use neosc::server::clock::Clock as _;
use neosc::server::db::{NewOidcFlow, NewSession, SessionKind, SessionStage, SweptTable};
use neosc::server::sweeper::{sweep_once, SweepReport};
use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::*;

const TABLES: [SweptTable; 5] =
    [SweptTable::Sessions, SweptTable::OidcFlows, SweptTable::OidcApiNonces, SweptTable::AuthThrottle, SweptTable::EmailConfirmations];

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut db = app.store.conn().await.unwrap();
    let mut out = Vec::new();
    for table in TABLES {
        out.push(db.count_rows(table).await.unwrap());
    }
    out.push(db.count_pending_rows().await.unwrap());
    out
}

fn per_table(r: &SweepReport) -> Vec<i64> {
    [r.sessions, r.oidc_flows, r.oidc_api_nonces, r.throttle, r.email_confirmations, r.pending_registrations].map(|n| n as i64).to_vec()
}

async fn flow(app: &TestApp, id: &str, expires_in: Duration) {
    let now = app.clock.now();
    let new = NewOidcFlow {
        id_hash: &hash_token(id),
        state: "s",
        nonce: "n",
        pkce_verifier: "v",
        return_to: "/",
        link_user_id: None,
        now,
        expires_at: now + expires_in,
    };
    app.store.conn().await.unwrap().insert_oidc_flow(&new).await.unwrap();
}

both_backends! {
    async fn a_pass_deletes_what_expired_and_keeps_what_lives(app: TestApp) {
        let t0 = app.clock.now();
        let (_, _) = app.register_ok("sweep@neogenesys.com", "Sweep", None).await;
        let user = app.store.conn().await.unwrap().user_by_email("sweep@neogenesys.com").await.unwrap().unwrap();
        let idle_token = app.login_ok("sweep@neogenesys.com", PASSWORD).await;
        app.register_pending("gone@neogenesys.com", "Gone", None).await;
        assert_problem(app.login("ghost-old@neogenesys.com", "wrong password 1").await, StatusCode::UNAUTHORIZED).await;
        {
            let mut db = app.store.conn().await.unwrap();
            db.upsert_email_confirmation(user.id, "sweep@neogenesys.com", &hash_token("old-link"), t0, t0 + Duration::hours(1)).await.unwrap();
            // A counter whose failures are old but whose block still runs.
            db.throttle_reserve("test:still-blocked", t0, t0 - Duration::hours(24)).await.unwrap();
            db.throttle_block_at_least("test:still-blocked", t0 + Duration::hours(26)).await.unwrap();
            db.insert_api_nonce(&hash_token("old-nonce"), t0, t0 + Duration::minutes(10)).await.unwrap();
            db.insert_api_nonce(&hash_token("live-nonce"), t0, t0 + Duration::hours(26)).await.unwrap();
        }
        flow(&app, "old-flow", Duration::minutes(10)).await;

        // A day later: the window of the old failures, the registration's
        // 24 hours and every link have run out.
        app.clock.advance(Duration::hours(25));
        let t1 = app.clock.now();
        let live_token = app.login_ok("sweep@neogenesys.com", PASSWORD).await;
        app.register_pending("stays@neogenesys.com", "Stays", None).await;
        assert_problem(app.login("ghost-new@neogenesys.com", "wrong password 2").await, StatusCode::UNAUTHORIZED).await;
        app.register_ok("other@neogenesys.com", "Other", None).await;
        let other = app.store.conn().await.unwrap().user_by_email("other@neogenesys.com").await.unwrap().unwrap();
        flow(&app, "live-flow", Duration::minutes(10)).await;
        {
            let mut db = app.store.conn().await.unwrap();
            db.upsert_email_confirmation(other.id, "other@neogenesys.com", &hash_token("live-link"), t1, t1 + Duration::hours(1)).await.unwrap();
            // Seen just now, but past its absolute expiry.
            db.insert_session(&NewSession {
                id: Uuid::now_v7(),
                token_hash: &hash_token("absolute"),
                user_id: user.id,
                kind: SessionKind::Api,
                stage: SessionStage::Full,
                now: t1 - Duration::hours(13),
                expires_at: t1 - Duration::seconds(1),
                ip: None,
                user_agent: None,
                id_token: None,
                auth_method: "password",
            })
            .await
            .unwrap();
            let absolute = db.session_by_token_hash(&hash_token("absolute")).await.unwrap().unwrap();
            db.touch_session(absolute.id, t1).await.unwrap();
        }
        let sessions_of_user = || async { app.store.conn().await.unwrap().sessions_of_user(user.id).await.unwrap().len() };
        assert_eq!(sessions_of_user().await, 4, "registration, idle, absolute-expired and live");

        let before = counts(&app).await;
        let (a, b) = tokio::join!(sweep_once(&app.state), sweep_once(&app.state));
        let after = counts(&app).await;
        let deleted: Vec<i64> = per_table(&a).iter().zip(per_table(&b)).map(|(x, y)| x + y).collect();
        let gone: Vec<i64> = before.iter().zip(&after).map(|(x, y)| x - y).collect();
        assert_eq!(deleted, gone, "each row deleted once across both passes ({a:?} {b:?})");
        // sessions, flows, nonces, throttle, confirmations, registrations.
        // Throttle counters are written by every attempt (the address's and
        // each signup budget's too), so their number is what the window let
        // go; which ones went and stayed is checked by name below.
        assert_eq!([gone[0], gone[1], gone[2], gone[4], gone[5]], [3, 1, 1, 1, 1], "before {before:?} after {after:?}");
        assert!(gone[3] >= 1, "the counters of a day ago went: before {before:?} after {after:?}");
        let mut db = app.store.conn().await.unwrap();
        let stale_ip = db.throttle_get("ip:127.0.0.1").await.unwrap();
        assert!(stale_ip.is_none_or(|r| r.last_failure_at > t1 - Duration::hours(1)), "the address's counter of a day ago went");
        drop(db);
        assert_eq!(sessions_of_user().await, 1);
        assert_eq!(app.me(&live_token).await.status(), StatusCode::OK);
        assert_problem(app.me(&idle_token).await, StatusCode::UNAUTHORIZED).await;

        let mut db = app.store.conn().await.unwrap();
        assert!(db.throttle_get("account:ghost-old@neogenesys.com").await.unwrap().is_none(), "window passed");
        assert!(db.throttle_get("account:ghost-new@neogenesys.com").await.unwrap().is_some(), "a fresh failure stays");
        assert!(db.throttle_get("test:still-blocked").await.unwrap().is_some(), "a running block stays");
        assert!(db.take_api_nonce(&hash_token("live-nonce"), t1).await.unwrap(), "the live nonce stays");
        assert!(db.take_oidc_flow(&hash_token("live-flow")).await.unwrap().is_some());
        assert!(db.take_oidc_flow(&hash_token("old-flow")).await.unwrap().is_none());
        assert!(db.email_confirmation_sent_at(other.id, t1).await.unwrap().is_some(), "the live link stays");
        assert_eq!(db.count_pending(t1).await.unwrap(), 1, "the live registration stays");
        drop(db);

        let idle = sweep_once(&app.state).await;
        assert_eq!(idle.total(), 0, "nothing left for a third pass: {idle:?}");
    }
}
