//! Streaming an organization's audit events to its SIEM (issue 13): a real
//! HTTP receiver on loopback checks every request's HMAC signature with the
//! stream's secret, answers 500 while it is "down", and keeps what it
//! accepted, so the tests see what a SIEM would: every event, in seq order,
//! none skipped (a batch sent again after a lost acknowledgement is
//! allowed: at least once).

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use chrono::Utc;
use hmac::{Hmac, Mac};
use neosc::server::audit_delivery::Delivery;
use neosc::server::clock::Clock;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::*;

const SECRET: &str = "a-receiver-secret-of-at-least-32-characters";

/// One request the receiver accepted (answered 2xx).
#[derive(Debug, Clone)]
struct Batch {
    first: i64,
    last: i64,
    seqs: Vec<i64>,
}

#[derive(Default)]
struct Inner {
    secret: Mutex<String>,
    /// What it answers: 200, or 500 while "down".
    status: AtomicU16,
    /// How long it takes to answer, in ms.
    delay_ms: AtomicU64,
    accepted: Mutex<Vec<Batch>>,
    refused: AtomicU64,
    /// Anything a SIEM would reject: a bad signature, a stale timestamp,
    /// headers that do not match the body.
    problems: Mutex<Vec<String>>,
}

struct Receiver {
    url: String,
    inner: Arc<Inner>,
}

impl Receiver {
    async fn start(secret: &str) -> Receiver {
        let inner = Arc::new(Inner { secret: Mutex::new(secret.to_owned()), status: AtomicU16::new(200), ..Inner::default() });
        let app = axum::Router::new().route("/siem", axum::routing::post(hook)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://127.0.0.1:{}/siem", listener.local_addr().unwrap().port());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, inner }
    }

    fn set_status(&self, status: u16) {
        self.inner.status.store(status, Ordering::SeqCst);
    }

    fn set_secret(&self, secret: &str) {
        *self.inner.secret.lock().unwrap() = secret.to_owned();
    }

    fn accepted(&self) -> Vec<Batch> {
        self.inner.accepted.lock().unwrap().clone()
    }

    /// Every seq accepted, in arrival order.
    fn seqs(&self) -> Vec<i64> {
        self.accepted().into_iter().flat_map(|b| b.seqs).collect()
    }

    fn assert_no_problems(&self) {
        let problems = self.inner.problems.lock().unwrap();
        assert!(problems.is_empty(), "the receiver saw: {problems:?}");
    }
}

/// The verification the README tells SIEM operators to do.
async fn hook(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut problems = Vec::new();
    let timestamp = header("x-neosc-timestamp").and_then(|t| t.parse::<i64>().ok());
    match timestamp {
        Some(ts) if (Utc::now().timestamp() - ts).abs() <= 300 => {}
        other => problems.push(format!("timestamp {other:?} not within 5 minutes")),
    }
    let secret = inner.secret.lock().unwrap().clone();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{}.", timestamp.unwrap_or_default()).as_bytes());
    mac.update(&body);
    let expected = format!("sha256={}", data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes()));
    if header("x-neosc-signature").as_deref() != Some(expected.as_str()) {
        problems.push("signature does not verify".into());
    }
    if header("x-neosc-delivery").and_then(|d| uuid::Uuid::parse_str(&d).ok()).is_none() {
        problems.push("no delivery id".into());
    }
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let seqs: Vec<i64> = payload["events"].as_array().map(|e| e.iter().filter_map(|e| e["seq"].as_i64()).collect()).unwrap_or_default();
    let first = header("x-neosc-first-seq").and_then(|s| s.parse().ok());
    let last = header("x-neosc-last-seq").and_then(|s| s.parse().ok());
    if seqs.is_empty() || first != seqs.first().copied() || last != seqs.last().copied() {
        problems.push(format!("first/last headers {first:?}/{last:?} do not match the events {seqs:?}"));
    }
    if seqs.windows(2).any(|w| w[1] != w[0] + 1) {
        problems.push(format!("a batch out of order or with a gap: {seqs:?}"));
    }
    if payload["events"].as_array().is_some_and(|e| e.iter().any(|e| e["organization_id"] != payload["organization_id"])) {
        problems.push("an event of another organization".into());
    }
    let delay = inner.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = inner.status.load(Ordering::SeqCst);
    if !problems.is_empty() {
        inner.problems.lock().unwrap().extend(problems);
        return AxumStatus::UNAUTHORIZED;
    }
    if status != 200 {
        inner.refused.fetch_add(1, Ordering::SeqCst);
        return AxumStatus::from_u16(status).unwrap();
    }
    inner.accepted.lock().unwrap().push(Batch { first: first.unwrap(), last: last.unwrap(), seqs });
    AxumStatus::OK
}

/// Waits (bounded: 20 s) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..400 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

fn stream_path(org: &str) -> String {
    format!("/api/organizations/{org}/audit/stream")
}

async fn stream_of(app: &TestApp, token: &str, org: &str) -> Value {
    let res = app.get(&stream_path(org)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The stream once the server recorded the receiver's acknowledgement of
/// seq `seq` (the receiver keeps a batch before its answer is back).
async fn acknowledged(app: &TestApp, token: &str, org: &str, seq: i64) -> Value {
    for _ in 0..400 {
        let state = stream_of(app, token, org).await;
        if state["last_delivered_seq"].as_i64().unwrap() >= seq {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("seq {seq} never acknowledged: {}", stream_of(app, token, org).await);
}

/// The newest seq of the organization's chain, as the API reports it.
async fn head(app: &TestApp, token: &str, org: &str) -> i64 {
    stream_of(app, token, org).await["head_seq"].as_i64().unwrap()
}

/// An organization and its founder's token.
async fn founder(app: &TestApp) -> (String, String) {
    let (token, _) = app.register_founder("boss@stream.test", "Stream Boss", "Stream Corp").await;
    let me: Value = app.me(&token).await.json().await.unwrap();
    (token, me["organization_id"].as_str().unwrap().to_owned())
}

/// `n` more events in the organization's chain (invitations).
async fn more_events(app: &TestApp, token: &str, org: &str, tag: &str, n: usize) {
    for i in 0..n {
        let res = app
            .post_json(
                &format!("/api/organizations/{org}/invitations"),
                token,
                json!({ "email": format!("{tag}{i}@elsewhere.test"), "role": "user" }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
}

async fn create(app: &TestApp, token: &str, org: &str, body: Value) -> Value {
    let res = app.post_json(&stream_path(org), token, body).await;
    let status = res.status();
    if status == StatusCode::CREATED {
        assert_eq!(res.headers()["location"], stream_path(org).as_str());
    }
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The seqs arrived, in arrival order, go 1, 2, … `head` with nothing
/// skipped: each seq is at most one past the highest seen before it
/// (duplicates from a re-sent batch allowed).
fn assert_complete_in_order(seqs: &[i64], head: i64) {
    let mut highest = 0;
    for s in seqs {
        assert!(*s <= highest + 1, "seq {s} arrived before {} in {seqs:?}", highest + 1);
        highest = highest.max(*s);
    }
    assert_eq!(highest, head, "{seqs:?}");
}

const FAST_LOOPBACK: &[(&str, &str)] = &[("NEOSC_AUDIT_STREAM_ALLOW_HTTP_LOOPBACK", "1"), ("NEOSC_AUDIT_STREAM_INTERVAL_MS", "50")];

both_backends! {
    env = FAST_LOOPBACK;

    async fn events_arrive_signed_in_order_and_a_rewind_sends_them_again(app: TestApp) {
        let (token, org) = founder(&app).await;
        let receiver = Receiver::start(SECRET).await;
        let created = create(&app, &token, &org, json!({ "url": receiver.url, "secret": SECRET, "from_beginning": true })).await;
        assert_eq!(created["secret"], SECRET);
        assert_eq!(created["stream"]["last_delivered_seq"], 0);
        let h = head(&app, &token, &org).await;
        until("the whole log arrived", || receiver.seqs().last() == Some(&h)).await;
        assert_eq!(receiver.seqs(), (1..=h).collect::<Vec<_>>(), "each event once, in order");

        more_events(&app, &token, &org, "later", 3).await;
        let h = head(&app, &token, &org).await;
        until("the new events arrived", || receiver.seqs().last() == Some(&h)).await;
        assert_eq!(receiver.seqs(), (1..=h).collect::<Vec<_>>());
        let state = acknowledged(&app, &token, &org, h).await;
        assert_eq!(state["failures"], 0);
        assert!(state.get("last_error").is_none(), "{state}");

        // Rewind: from seq 2 again.
        let before = receiver.accepted().len();
        let res = app.patch_json(&stream_path(&org), &token, json!({ "start_seq": 2 })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let h = head(&app, &token, &org).await;
        until("the rewound events arrived", || receiver.accepted().len() > before && receiver.seqs().last() == Some(&h)).await;
        let again = &receiver.accepted()[before..];
        assert_eq!(again[0].first, 2, "{again:?}");
        assert_eq!(again.iter().flat_map(|b| b.seqs.clone()).collect::<Vec<_>>(), (2..=h).collect::<Vec<_>>());

        // A rotated secret signs from then on; the receiver takes the new one.
        let res = app.post(&format!("{}/rotate-secret", stream_path(&org))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let rotated: Value = res.json().await.unwrap();
        let secret = rotated["secret"].as_str().unwrap();
        assert_eq!(secret.len(), 64, "32 random bytes, hex");
        receiver.set_secret(secret);
        more_events(&app, &token, &org, "rotated", 1).await;
        let h = head(&app, &token, &org).await;
        until("events signed with the new secret arrived", || receiver.seqs().last() == Some(&h)).await;
        receiver.assert_no_problems();

        // The audit trail names the stream's changes, never the secrets.
        let trail = app.store.conn().await.unwrap().audit_events_of_org(neosc::model::OrgId::parse(&org).unwrap().0, 100).await.unwrap();
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert!(actions.contains(&"create_audit_stream") && actions.contains(&"update_audit_stream"), "{actions:?}");
        for e in &trail {
            let details = e.details.0.to_string();
            assert!(!details.contains(SECRET) && !details.contains(secret), "{details}");
        }
    }

    async fn a_receiver_that_is_down_gets_everything_once_it_is_back(app: TestApp) {
        let (token, org) = founder(&app).await;
        let receiver = Receiver::start(SECRET).await;
        receiver.set_status(500);
        create(&app, &token, &org, json!({ "url": receiver.url, "secret": SECRET, "from_beginning": true })).await;
        let mut state = json!({});
        for _ in 0..400 {
            state = stream_of(&app, &token, &org).await;
            if state["failures"] == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(state["failures"], 1, "{state}");
        assert_eq!(state["last_error"], "HTTP 500");
        assert_eq!(state["last_delivered_seq"], 0);
        assert!(state["lag"].as_i64().unwrap() > 0);
        more_events(&app, &token, &org, "meanwhile", 2).await;
        // The app's clock stands still: the retry waits for it.
        app.clock.advance(chrono::Duration::seconds(2));
        until("a second failure", || receiver.inner.refused.load(Ordering::SeqCst) >= 2).await;
        let mut state = json!({});
        for _ in 0..400 {
            state = stream_of(&app, &token, &org).await;
            if state["failures"] == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(state["failures"], 2, "{state}");
        let last: chrono::DateTime<Utc> = state["last_attempt_at"].as_str().unwrap().parse().unwrap();
        let next: chrono::DateTime<Utc> = state["next_attempt_at"].as_str().unwrap().parse().unwrap();
        assert!(next - last >= chrono::Duration::seconds(2), "backoff doubles: {state}");
        assert!(receiver.seqs().is_empty());

        receiver.set_status(200);
        app.clock.advance(chrono::Duration::minutes(10));
        let h = head(&app, &token, &org).await;
        until("everything arrived after the outage", || receiver.seqs().last() == Some(&h)).await;
        assert_complete_in_order(&receiver.seqs(), h);
        let state = acknowledged(&app, &token, &org, h).await;
        assert_eq!(state["failures"], 0, "{state}");
        assert!(state.get("last_error").is_none(), "{state}");
        receiver.assert_no_problems();
    }

    async fn only_the_organizations_admins_and_only_public_https_receivers(app: TestApp) {
        let (token, org) = founder(&app).await;
        let (member, _) = app.register_ok("member@stream.test", "Stream Member", None).await;
        let (other_admin, _) = app.register_founder("boss@other.test", "Other Boss", "Other Corp").await;
        let receiver = Receiver::start(SECRET).await;
        let path = stream_path(&org);

        // Another organization's admin: as if there were no such organization.
        let res = app.post_json(&path, &other_admin, json!({ "url": receiver.url })).await;
        assert_problem(res, StatusCode::NOT_FOUND).await;
        // A member who is not an admin.
        let res = app.post_json(&path, &member, json!({ "url": receiver.url })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
        // No stream yet.
        assert_problem(app.get(&path).bearer_auth(&token).send().await.unwrap(), StatusCode::NOT_FOUND).await;

        for (url, says) in [
            ("http://siem.example.com/hook", "https://"),
            ("ftp://siem.example.com/hook", "https://"),
            ("https://10.0.0.7/hook", "private"),
            ("https://192.168.1.20/hook", "private"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),
            ("https://[fd00:ec2::254]/", "private"),
            ("https://user:pw@203.0.113.10/", "credentials"),
            ("not a url", "not a URL"),
        ] {
            let res = app.post_json(&path, &token, json!({ "url": url })).await;
            let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert!(body["detail"].as_str().unwrap().contains(says), "{url}: {body}");
        }
        let res = app.post_json(&path, &token, json!({ "url": receiver.url, "secret": "too short" })).await;
        assert_eq!(assert_problem(res, StatusCode::BAD_REQUEST).await["field"], "secret");
        let res = app.post_json(&path, &token, json!({ "url": receiver.url, "start_seq": 2, "from_beginning": true })).await;
        assert_problem(res, StatusCode::BAD_REQUEST).await;
        let res = app.post_json(&path, &token, json!({ "url": receiver.url, "start_seq": 10_000 })).await;
        assert_eq!(assert_problem(res, StatusCode::BAD_REQUEST).await["field"], "start_seq");

        // By default only what happens from now on.
        let created = create(&app, &token, &org, json!({ "url": receiver.url })).await;
        let secret = created["secret"].as_str().unwrap();
        receiver.set_secret(secret);
        assert_eq!(created["stream"]["last_delivered_seq"], created["stream"]["head_seq"]);
        assert_eq!(created["stream"]["lag"], 0);
        let start = created["stream"]["head_seq"].as_i64().unwrap();
        let res = app.post_json(&path, &token, json!({ "url": receiver.url })).await;
        assert_problem(res, StatusCode::CONFLICT).await;
        let h = head(&app, &token, &org).await;
        until("the events after creation arrived", || receiver.seqs().last() == Some(&h)).await;
        assert_eq!(receiver.seqs(), (start + 1..=h).collect::<Vec<_>>());
        receiver.assert_no_problems();
        acknowledged(&app, &token, &org, h).await;

        // Another organization's admin cannot read, change, rotate or delete it.
        assert_problem(app.get(&path).bearer_auth(&other_admin).send().await.unwrap(), StatusCode::NOT_FOUND).await;
        assert_problem(app.patch_json(&path, &other_admin, json!({ "enabled": false })).await, StatusCode::NOT_FOUND).await;
        let res = app.post(&format!("{path}/rotate-secret")).bearer_auth(&other_admin).send().await.unwrap();
        assert_problem(res, StatusCode::NOT_FOUND).await;
        assert_problem(app.delete(&path).bearer_auth(&other_admin).send().await.unwrap(), StatusCode::NOT_FOUND).await;
        // A private address refused on change too, the stream unchanged.
        let res = app.patch_json(&path, &token, json!({ "url": "https://172.16.0.1/x" })).await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(stream_of(&app, &token, &org).await["url"], receiver.url.as_str());

        // Disabled: nothing goes out; deleted: gone.
        let res = app.patch_json(&path, &token, json!({ "enabled": false })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let sent = receiver.seqs().len();
        more_events(&app, &token, &org, "disabled", 2).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.seqs().len(), sent, "a disabled stream sends nothing");
        assert!(stream_of(&app, &token, &org).await["lag"].as_i64().unwrap() >= 2);
        let res = app.delete(&path).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_problem(app.get(&path).bearer_auth(&token).send().await.unwrap(), StatusCode::NOT_FOUND).await;
    }
}

const FAST: &[(&str, &str)] = &[("NEOSC_AUDIT_STREAM_INTERVAL_MS", "50")];

both_backends! {
    env = FAST;

    async fn loopback_receivers_are_refused_unless_the_installation_allows_them(app: TestApp) {
        let (token, org) = founder(&app).await;
        for url in ["http://127.0.0.1:9/siem", "https://127.0.0.1/siem", "https://localhost/siem", "https://[::1]/siem", "https://0.0.0.0/"] {
            let res = app.post_json(&stream_path(&org), &token, json!({ "url": url })).await;
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    }
}

/// Workers run by hand here: the app's own passes once an hour.
const BY_HAND: &[(&str, &str)] = &[("NEOSC_AUDIT_STREAM_ALLOW_HTTP_LOOPBACK", "1"), ("NEOSC_AUDIT_STREAM_INTERVAL_MS", "3600000")];

/// Another instance on the app's database: its own pool, its own lease
/// owner id, the same configuration (and secret key).
async fn instance(app: &TestApp) -> Arc<Delivery> {
    let clock: Arc<dyn Clock> = app.clock.clone();
    let state = neosc::server::startup::connect((*app.state.config).clone(), app.state.leptos_options.clone(), clock).await.unwrap();
    Arc::new(Delivery::new(state))
}

both_backends! {
    env = BY_HAND;

    async fn a_new_instance_resumes_from_the_last_delivered_seq(app: TestApp) {
        let (token, org) = founder(&app).await;
        let receiver = Receiver::start(SECRET).await;
        create(&app, &token, &org, json!({ "url": receiver.url, "secret": SECRET, "from_beginning": true })).await;
        let first = instance(&app).await;
        assert_eq!(first.pass().await.unwrap(), 1);
        let h1 = head(&app, &token, &org).await;
        assert_eq!(receiver.seqs(), (1..=h1).collect::<Vec<_>>());
        drop(first);

        // Restarted: a new instance goes on from what the database says.
        more_events(&app, &token, &org, "after-restart", 3).await;
        let second = instance(&app).await;
        assert_eq!(second.pass().await.unwrap(), 1);
        let h2 = head(&app, &token, &org).await;
        assert_eq!(receiver.accepted().last().unwrap().first, h1 + 1, "nothing sent twice");
        assert_eq!(receiver.seqs(), (1..=h2).collect::<Vec<_>>());
        assert_eq!(second.pass().await.unwrap(), 0, "caught up: nothing taken");

        // An instance that died holding the lease (taken, never released):
        // nobody sends until the lease runs out, then another goes on.
        more_events(&app, &token, &org, "after-death", 2).await;
        {
            let mut db = app.store.conn().await.unwrap();
            let s = db.audit_stream_of_org(neosc::model::OrgId::parse(&org).unwrap().0).await.unwrap().unwrap();
            let now = app.clock.now();
            let dead = uuid::Uuid::now_v7();
            assert!(db.claim_audit_stream(s.id, dead, now, now + chrono::Duration::seconds(30)).await.unwrap().is_some());
        }
        let third = instance(&app).await;
        assert_eq!(third.pass().await.unwrap(), 0, "the lease holds");
        app.clock.advance(chrono::Duration::seconds(31));
        assert_eq!(third.pass().await.unwrap(), 1);
        let h3 = head(&app, &token, &org).await;
        assert_eq!(receiver.seqs(), (1..=h3).collect::<Vec<_>>());
        receiver.assert_no_problems();
    }

    async fn rotating_the_secret_key_reseals_the_stream_secret(app: TestApp) {
        use neosc::server::auth::secret_box::Keyring;
        let (token, org) = founder(&app).await;
        create(&app, &token, &org, json!({ "url": "https://203.0.113.10/siem", "secret": SECRET, "enabled": false })).await;
        let stored = || async {
            let mut db = app.store.conn().await.unwrap();
            db.audit_stream_of_org(neosc::model::OrgId::parse(&org).unwrap().0).await.unwrap().unwrap()
        };
        let before = stored().await;
        assert!(!String::from_utf8_lossy(&before.secret_sealed).contains(SECRET), "sealed at rest");
        assert_eq!(app.state.secrets.open(before.id, &before.secret_sealed).unwrap(), SECRET.as_bytes());

        let old = app.state.config.secrets.current.unwrap();
        let (rotation, new_key) = neosc::server::service::secret_keys::rotate(&app.state, None, &[old]).await.unwrap();
        assert!(rotation.report.resealed >= 1, "{:?}", rotation.report);
        let after = stored().await;
        let only_new = Keyring::new(&new_key, &[]);
        assert!(only_new.is_current(&after.secret_sealed));
        assert_eq!(only_new.open(after.id, &after.secret_sealed).unwrap(), SECRET.as_bytes());
    }

    async fn two_instances_send_each_batch_once_in_order(app: TestApp) {
        let (token, org) = founder(&app).await;
        let receiver = Receiver::start(SECRET).await;
        // Slow enough that the two instances' passes overlap.
        receiver.inner.delay_ms.store(30, Ordering::SeqCst);
        create(&app, &token, &org, json!({ "url": receiver.url, "secret": SECRET, "from_beginning": true })).await;
        let (a, b) = (instance(&app).await, instance(&app).await);
        for round in 0..8 {
            more_events(&app, &token, &org, &format!("r{round}-"), 2).await;
            let (ta, tb) = tokio::join!(a.pass(), b.pass());
            let (ta, tb) = (ta.unwrap(), tb.unwrap());
            assert!(ta + tb <= 1, "one lease per stream: {ta} + {tb}");
            // Whoever did not get it this round may next round.
            let (ta, tb) = tokio::join!(a.pass(), b.pass());
            assert!(ta.unwrap() + tb.unwrap() <= 1);
        }
        // Catch up whatever the last rounds left.
        for _ in 0..3 {
            a.pass().await.unwrap();
        }
        let h = head(&app, &token, &org).await;
        let batches = receiver.accepted();
        for w in batches.windows(2) {
            assert_eq!(w[1].first, w[0].last + 1, "each batch once, in order: {batches:?}");
        }
        assert_eq!(receiver.seqs(), (1..=h).collect::<Vec<_>>());
        receiver.assert_no_problems();
    }
}
