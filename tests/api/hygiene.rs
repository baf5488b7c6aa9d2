//! Small abuse-resistance fixes of issue 12: the sessions list shows only
//! sessions that still sign someone in, and two organizations created at
//! once with one slug answer 409, not 500.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/account/sessions").bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

both_backends! {
    async fn the_sessions_list_leaves_out_idle_and_expired_sessions(app: TestApp) {
        app.register_ok("list@neogenesys.com", "List", None).await;
        let _idle = app.login_ok("list@neogenesys.com", PASSWORD).await;
        app.clock.advance(Duration::minutes(20));
        let active = app.login_ok("list@neogenesys.com", PASSWORD).await;
        let ids = |list: &[Value]| list.iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        let before = sessions(&app, &active).await;
        assert_eq!(before.len(), 3, "registration, and two sign-ins: {before:?}");
        // 31 minutes after the first sign-in (and the registration), 11 after
        // the second: only the second is still a session.
        app.clock.advance(Duration::minutes(11));
        let after = sessions(&app, &active).await;
        assert_eq!(after.len(), 1, "idle-ended sessions are not listed: {after:?}");
        assert_eq!(after[0]["current"], true);
        assert!(ids(&before).contains(&ids(&after)[0]));
        // Kept busy to its absolute lifetime (12 h), it ends and leaves the list too.
        let other = app.login_ok("list@neogenesys.com", PASSWORD).await;
        for _ in 0..35 {
            app.clock.advance(Duration::minutes(20));
            assert_eq!(app.me(&other).await.status(), StatusCode::OK);
        }
        let listed = sessions(&app, &other).await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        app.clock.advance(Duration::minutes(20));
        let late = app.login_ok("list@neogenesys.com", PASSWORD).await;
        let listed = sessions(&app, &late).await;
        assert_eq!(listed.len(), 1, "only the new one: the busy session passed 12 hours: {listed:?}");
    }

    async fn concurrent_creations_of_one_slug_answer_409_not_500(app: TestApp) {
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        // Different names, one slug: "race-co".
        let names = ["Race Co", "Race Co.", "Race-Co", "Race  Co!", "RACE CO?", "Race_Co", "Race (Co)", "Race: Co"];
        let requests: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let req = app.post("/api/organizations").bearer_auth(&admin).json(&json!({ "name": name, "domain": format!("race{i}.test") }));
                tokio::spawn(async move {
                    let res = req.send().await.unwrap();
                    let status = res.status();
                    (status, res.json::<Value>().await.unwrap())
                })
            })
            .collect();
        let mut results = Vec::new();
        for request in requests {
            results.push(request.await.unwrap());
        }
        let mut slugs = Vec::new();
        let mut refused = Vec::new();
        for ((status, body), (i, name)) in results.into_iter().zip(names.iter().enumerate()) {
            match status {
                StatusCode::CREATED => slugs.push(body["slug"].as_str().unwrap().to_owned()),
                StatusCode::CONFLICT => {
                    assert!(body["detail"].as_str().unwrap().contains("at the same moment"), "{body}");
                    refused.push((i, *name));
                }
                other => panic!("{name}: {other} {body}"),
            }
        }
        assert!(!slugs.is_empty(), "one of them is created");
        // Asked again, each refused one gets the next free slug.
        for (i, name) in refused {
            let res = app.post_json("/api/organizations", &admin, json!({ "name": name, "domain": format!("race{i}.test") })).await;
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{body}");
            slugs.push(body["slug"].as_str().unwrap().to_owned());
        }
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), names.len(), "every organization has its own slug: {slugs:?}");
        assert!(slugs.iter().all(|s| s.starts_with("race-co")), "{slugs:?}");
    }
}
