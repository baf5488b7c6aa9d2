//! Reading and exporting the audit log (issue 13): every filter narrows to
//! its events, the cursor walks the log once, newest first; another
//! organization's admin gets 404 and leaves a denied event in their own
//! log; bad filters are refused naming the field; exports hold what the
//! API shows, with a manifest that matches the chain's head, and stream.

use chrono::Duration;
use neosc::server::auth::credentials::RequestMeta;
use neosc::server::clock::Clock;
use neosc::server::service::audit::{self, action, Event};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// The test client connects from 127.0.0.1: that is the "proxy", so
/// `X-Forwarded-For` sets the client address events record.
const BEHIND_PROXY: &[(&str, &str)] = &[("NEOSC_TRUSTED_PROXIES", "127.0.0.1/32")];

fn uuid_of(public_id: &str) -> Uuid {
    neosc::model::OrgId::parse(public_id).expect("an organization id").0
}

/// GET `path` as `token`, asserting 200, as JSON.
async fn get_ok(app: &TestApp, token: &str, path: &str) -> Value {
    let res = app.get(path).bearer_auth(token).send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

/// One page of organization `org`'s log with query `q` (`a=b&c=d`).
async fn page(app: &TestApp, token: &str, org: &str, q: &str) -> Value {
    get_ok(app, token, &format!("/api/organizations/{org}/audit?{q}")).await
}

/// Every event of the filter, following the cursor, newest first.
async fn all_events(app: &TestApp, token: &str, org: &str, q: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let cursor = before.map(|b| format!("&before={b}")).unwrap_or_default();
        let p = page(app, token, org, &format!("{q}&limit=200{cursor}")).await;
        events.extend(p["events"].as_array().unwrap().iter().cloned());
        match p["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => return events,
        }
    }
}

fn actions(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["action"].as_str().unwrap()).collect()
}

fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

async fn login_from(app: &TestApp, forwarded_for: &str, email: &str, password: &str) -> StatusCode {
    app.post("/api/auth/login")
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

/// Records `n` events in organization `org`'s chain through the real
/// writer, as the system, from `ip`, in one transaction.
async fn record_many(app: &TestApp, org: Option<Uuid>, n: usize, ip: &str) {
    let meta = RequestMeta { ip: Some(ip.to_owned()), user_agent: Some("bulk".into()), operator: false, ..Default::default() };
    let mut db = app.store.begin().await.unwrap();
    for i in 0..n {
        let event = Event { org, actor: None, action: action::WORKSPACE_FAILED, target: None, details: json!({ "i": i }) };
        audit::record(&mut db, app.clock.now(), &meta, event).await.unwrap();
    }
    db.commit().await.unwrap();
}

/// An RFC 4180 reader for the tests: records of fields, quotes undone.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && row.is_empty(), "the file ends with a line break");
    rows
}

both_backends! {
    env = BEHIND_PROXY;

    async fn every_filter_narrows_to_its_events(app: TestApp) {
        let (founder, boss) = app.register_founder("boss@filters.test", "Filters Boss", "Filters").await;
        let org = boss["organization_id"].as_str().unwrap().to_owned();
        let boss_id = boss["id"].as_str().unwrap().to_owned();
        let (_, member) = app.register_ok("member@filters.test", "Filters Member", None).await;
        let member_id = member["id"].as_str().unwrap().to_owned();
        let t0 = app.clock.now();
        // Minutes, not hours: the sessions of this test stay alive (30 idle minutes).
        app.clock.advance(Duration::minutes(10));
        assert_eq!(login_from(&app, "192.0.2.7", "boss@filters.test", PASSWORD).await, StatusCode::OK);
        assert_eq!(login_from(&app, "2001:db8::5", "member@filters.test", PASSWORD).await, StatusCode::OK);
        assert_eq!(login_from(&app, "198.51.100.1", "boss@filters.test", "not the password").await, StatusCode::UNAUTHORIZED);
        app.clock.advance(Duration::minutes(10));
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = app.patch_json(&format!("/api/organizations/{org}"), &admin, json!({ "name": "Filters Renamed" })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.delete(&format!("/api/organizations/{org}/members/{member_id}")).bearer_auth(&founder).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        record_many(&app, Some(uuid_of(&org)), 1, "203.0.113.9").await;

        // Everything, newest first, every seq once.
        let all = all_events(&app, &founder, &org, "").await;
        let n = all.len() as i64;
        assert_eq!(seqs(&all), (1..=n).rev().collect::<Vec<_>>(), "{:?}", actions(&all));

        macro_rules! only {
            ($q:expr) => {
                all_events(&app, &founder, &org, &$q).await
            };
        }
        assert_eq!(actions(&only!("action=login")), ["login", "login"]);
        assert_eq!(actions(&only!("action=login*")), ["login_failed", "login", "login"]);
        let orgs = only!("action=*_org");
        assert_eq!(actions(&orgs), ["remove_user_from_org", "add_user_to_org", "add_user_to_org"]);
        // `_` is a character like any other, not LIKE's "any one".
        assert!(only!("action=login_*").iter().all(|e| e["action"] == "login_failed"));

        let by_member = only!(format!("actor={member_id}"));
        assert_eq!(actions(&by_member), ["login", "add_user_to_org"]);
        assert!(by_member.iter().all(|e| e["actor"]["id"] == member_id.as_str() && e["actor"]["email"] == "member@filters.test"));
        let by_email = only!("actor=Member@Filters.test");
        assert_eq!(by_email, by_member);
        let system = only!("actor=system");
        // A failed sign-in has no signed-in actor: the server records it.
        assert_eq!(actions(&system), ["workspace_failed", "login_failed"]);
        assert_eq!(system[0]["actor"], json!({ "kind": "system" }));
        let operator = only!("actor=operator");
        assert!(!operator.is_empty() && operator.iter().all(|e| e["actor"]["kind"] == "operator"), "{operator:?}");

        let on_member = only!(format!("target={member_id}"));
        assert_eq!(actions(&on_member), ["remove_user_from_org", "add_user_to_org"]);
        let failed = only!("outcome=failure");
        assert_eq!(actions(&failed), ["login_failed"]);
        assert_eq!(failed[0]["reason_code"], "bad_credentials");
        assert_eq!(failed[0]["outcome"], "failure");

        let exact = only!("ip=192.0.2.7");
        assert_eq!((actions(&exact), exact[0]["actor"]["id"].as_str()), (vec!["login"], Some(boss_id.as_str())));
        assert_eq!(only!("ip=192.0.2.0/24"), exact);
        assert_eq!(only!("ip=192.0.2.7/32"), exact);
        let v6 = only!("ip=2001:db8::/32");
        assert_eq!((actions(&v6), v6[0]["actor"]["id"].as_str()), (vec!["login"], Some(member_id.as_str())));
        assert_eq!(only!("ip=2001:db8::5"), v6);
        assert!(only!("ip=10.0.0.0/8").is_empty());

        // from inclusive, to exclusive: the minutes of the sign-ins.
        let from = (t0 + Duration::minutes(5)).to_rfc3339().replace('+', "%2B");
        let to = (t0 + Duration::minutes(15)).to_rfc3339().replace('+', "%2B");
        let hour = all_events(&app, &founder, &org, &format!("from={from}&to={to}")).await;
        assert_eq!(actions(&hour), ["login_failed", "login", "login"]);
        let combined = all_events(&app, &founder, &org, &format!("from={from}&to={to}&outcome=success&ip=2001:db8::/64")).await;
        assert_eq!(combined, v6);

        // The spec's events, under their names, saying who and what.
        let update = &only!("action=update_organization")[0];
        assert_eq!(update["actor"]["email"], ADMIN_EMAIL);
        assert_eq!(update["actor"]["role"], "platform_admin");
        assert_eq!(update["target"], json!({ "type": "organization", "id": org, "name": "Filters Renamed" }));
        let removed = &only!("action=remove_user_from_org")[0];
        assert_eq!(removed["actor"]["email"], "boss@filters.test");
        assert_eq!(removed["actor"]["role"], "org_admin");
        // Recorded after the row went: named by what the details keep.
        assert_eq!(removed["target"]["name"], "Filters Member");
        assert_eq!(removed["details"]["email"], "member@filters.test");
        let added = only!("action=add_user_to_org");
        assert_eq!(added[0]["target"]["name"], "Filters Member", "{added:?}");
        assert_eq!(added[0]["actor"]["email"], "member@filters.test");
        assert_eq!(added[1]["target"]["name"], "Filters Boss");
        let created: Value = app
            .post_json("/api/organizations", &admin, json!({ "name": "Seeded Corp", "domain": "seeded.test" }))
            .await
            .json()
            .await
            .unwrap();
        let seeded = created["id"].as_str().unwrap();
        let create = &all_events(&app, &admin, seeded, "action=create_organization").await[0];
        assert_eq!(create["actor"]["email"], ADMIN_EMAIL);
        assert_eq!(create["actor"]["role"], "platform_admin");
        assert_eq!(create["target"], json!({ "type": "organization", "id": seeded, "name": "Seeded Corp" }));
        assert_eq!(create["organization_id"], seeded);
        assert_eq!(create["hash"].as_str().unwrap().len(), 64);
    }

    async fn the_cursor_walks_the_log_once_newest_first(app: TestApp) {
        let (founder, boss) = app.register_founder("boss@pages.test", "Pages Boss", "Pages").await;
        let org = boss["organization_id"].as_str().unwrap().to_owned();
        record_many(&app, Some(uuid_of(&org)), 130, "192.0.2.1").await;
        let mut seen = Vec::new();
        let mut before = String::new();
        let mut pages = 0;
        loop {
            let p = page(&app, &founder, &org, &format!("limit=50{before}")).await;
            let events = p["events"].as_array().unwrap();
            pages += 1;
            seen.extend(seqs(events));
            match p["next_before"].as_i64() {
                Some(b) => {
                    assert_eq!(events.len(), 50);
                    assert_eq!(b, events.last().unwrap()["seq"].as_i64().unwrap());
                    before = format!("&before={b}");
                }
                None => break,
            }
        }
        let n = seen.len() as i64;
        assert!(n > 130 && pages >= 3, "{pages} pages, {n} events");
        assert_eq!(seen, (1..=n).rev().collect::<Vec<_>>(), "no duplicates, no gaps, newest first");
        // A filtered walk: the same, within the filter.
        let failed = all_events(&app, &founder, &org, "action=workspace_failed").await;
        assert_eq!(failed.len(), 130);
        assert!(seqs(&failed).windows(2).all(|w| w[0] > w[1]));
        // Reading recorded nothing.
        assert_eq!(all_events(&app, &founder, &org, "").await.len() as i64, n);
    }

    async fn a_network_search_reads_a_bounded_stretch_per_request(app: TestApp) {
        let (founder, boss) = app.register_founder("boss@scan.test", "Scan Boss", "Scan").await;
        let org = boss["organization_id"].as_str().unwrap().to_owned();
        record_many(&app, Some(uuid_of(&org)), 2, "192.0.2.1").await;
        record_many(&app, Some(uuid_of(&org)), 5200, "10.1.2.3").await;
        let first = page(&app, &founder, &org, "ip=192.0.2.0/24&limit=10").await;
        assert_eq!(first["events"], json!([]), "5,000 rows read, no match yet");
        let cursor = first["next_before"].as_i64().expect("the client goes on from where the scan stopped");
        let second = page(&app, &founder, &org, &format!("ip=192.0.2.0/24&limit=10&before={cursor}")).await;
        assert_eq!(actions(second["events"].as_array().unwrap()), ["workspace_failed", "workspace_failed"]);
        assert!(second["next_before"].is_null(), "{second}");
    }

    async fn another_organizations_admin_gets_404_and_leaves_a_denied_event(app: TestApp) {
        let (founder, boss) = app.register_founder("boss@mine.test", "Mine Boss", "Mine").await;
        let org = boss["organization_id"].as_str().unwrap().to_owned();
        let (member, _) = app.register_ok("member@mine.test", "Mine Member", None).await;
        let (other, other_boss) = app.register_founder("boss@theirs.test", "Theirs Boss", "Theirs").await;
        let theirs = other_boss["organization_id"].as_str().unwrap().to_owned();

        for path in [format!("/api/organizations/{org}/audit"), format!("/api/organizations/{org}/audit/export?format=jsonl")] {
            let res = app.get(&path).bearer_auth(&other).send().await.unwrap();
            let body = assert_problem(res, StatusCode::NOT_FOUND).await;
            assert!(!body.to_string().contains("Mine"), "{body}");
            let res = app.get(&path).bearer_auth(&member).send().await.unwrap();
            assert_problem(res, StatusCode::FORBIDDEN).await;
            let res = app.get(&path).send().await.unwrap();
            assert_problem(res, StatusCode::UNAUTHORIZED).await;
        }
        // In the intruder's own log, for their admin to see.
        let denied = all_events(&app, &other, &theirs, "action=cross_org_access_denied&outcome=denied").await;
        assert_eq!(denied.len(), 2, "{denied:?}");
        assert_eq!(denied[1]["details"]["operation"], "read_audit_log");
        assert_eq!(denied[0]["details"]["operation"], "export_audit_log");
        assert_eq!(denied[1]["actor"]["email"], "boss@theirs.test");
        assert_eq!(denied[1]["reason_code"], "cross_organization");
        assert_eq!(denied[1]["target"]["id"], org.as_str());
        // Nothing of it in the organization they reached for, no export recorded.
        let mine = all_events(&app, &founder, &org, "").await;
        assert!(mine.iter().all(|e| e["action"] != "cross_org_access_denied" && e["action"] != "export_audit_log"), "{mine:?}");

        // The installation's log: platform admins only.
        for token in [&founder, &member] {
            let res = app.get("/api/audit").bearer_auth(token).send().await.unwrap();
            assert_problem(res, StatusCode::FORBIDDEN).await;
        }
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        record_many(&app, None, 3, "198.51.100.4").await;
        let installation = get_ok(&app, &admin, "/api/audit?actor=system&ip=198.51.100.4").await;
        let events = installation["events"].as_array().unwrap();
        assert_eq!(events.len(), 3, "{installation}");
        assert!(events.iter().all(|e| e.get("organization_id").is_none()));
    }

    async fn bad_filters_are_refused_naming_the_field(app: TestApp) {
        let (founder, boss) = app.register_founder("boss@bad.test", "Bad Boss", "Bad").await;
        let org = boss["organization_id"].as_str().unwrap().to_owned();
        let before = app.audit_count().await;
        let cases = [
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=many", "limit"),
            ("before=0", "before"),
            ("before=x", "before"),
            ("ip=300.1.2.3", "ip"),
            ("ip=10.0.0.0/33", "ip"),
            ("ip=10.0.0.0/", "ip"),
            ("action=Login", "action"),
            ("action=login%25", "action"),
            ("action=%20login", "action"),
            ("to=", "to"),
            ("limit=", "limit"),
            ("outcome=maybe", "outcome"),
            ("outcome=", "outcome"),
            ("from=yesterday", "from"),
            ("to=2026-13-01", "to"),
            ("from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "from"),
        ];
        for (q, field) in cases {
            for path in [format!("/api/organizations/{org}/audit?{q}"), format!("/api/organizations/{org}/audit/export?{q}")] {
                // The export takes no paging.
                if path.contains("export") && (q.starts_with("limit") || q.starts_with("before")) {
                    continue;
                }
                let res = app.get(&path).bearer_auth(&founder).send().await.unwrap();
                let body = assert_problem(res, StatusCode::BAD_REQUEST).await;
                assert_eq!(body["field"], field, "{path}: {body}");
            }
        }
        let res = app.get(&format!("/api/organizations/{org}/audit/export?format=xml")).bearer_auth(&founder).send().await.unwrap();
        assert_eq!(assert_problem(res, StatusCode::BAD_REQUEST).await["field"], "format");
        let res = app.get("/api/audit?limit=0").bearer_auth(&app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await).send().await.unwrap();
        assert_eq!(assert_problem(res, StatusCode::BAD_REQUEST).await["field"], "limit");
        // Refused before anything was recorded (the admin's sign-in aside).
        assert_eq!(app.audit_count().await, before + 1);
    }

    async fn exports_hold_what_the_api_shows_with_a_manifest(app: TestApp) {
        let (founder, boss) = app.register_founder("boss@export.test", "Export Boss", "Export").await;
        let org = boss["organization_id"].as_str().unwrap().to_owned();
        let nasty = "=HYPERLINK(\"http://evil.test\",\"x\"), \"quoted\"";
        let res = app
            .post("/api/auth/login")
            .header("user-agent", nasty)
            .header("x-forwarded-for", "192.0.2.44")
            .json(&json!({ "email": "boss@export.test", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        app.register_ok("member@export.test", "-Minus Member", None).await;

        // JSONL: the events, oldest first, as the API shows them; then the manifest.
        let res = app.get(&format!("/api/organizations/{org}/audit/export?format=jsonl")).bearer_auth(&founder).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/x-ndjson");
        let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(disposition.starts_with(&format!("attachment; filename=\"audit-{org}-start-")), "{disposition}");
        assert!(disposition.ends_with(".jsonl\""), "{disposition}");
        let text = res.text().await.unwrap();
        let mut lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let manifest = lines.pop().unwrap()["manifest"].clone();
        let head = manifest["head_seq"].as_i64().unwrap();
        let mut api = all_events(&app, &founder, &org, &format!("before={}", head + 1)).await;
        api.reverse();
        assert_eq!(lines, api);
        assert_eq!(lines.last().unwrap()["action"], "export_audit_log", "the export's own event, before its head");
        assert_eq!(lines.last().unwrap()["details"]["format"], "jsonl");
        assert_eq!(manifest["count"], lines.len());
        assert_eq!(manifest["first_seq"], 1);
        assert_eq!(manifest["last_seq"], head);
        assert_eq!(manifest["organization_id"], org.as_str());
        assert_eq!(manifest["filter"], json!({}));
        let report = get_ok(&app, &founder, &format!("/api/organizations/{org}/audit/verify")).await;
        assert_eq!((report["head_seq"].as_i64(), &report["head_hash"]), (Some(head), &manifest["head_hash"]));

        // CSV, filtered: fixed columns, quoting, formulas disarmed, the manifest as a last comment line.
        let res = app
            .get(&format!("/api/organizations/{org}/audit/export?format=csv&action=login&ip=192.0.2.0/24"))
            .bearer_auth(&founder)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
        let text = res.text().await.unwrap();
        let (body, last) = text.trim_end_matches("\r\n").rsplit_once("\r\n").unwrap();
        let manifest: Value = serde_json::from_str(last.strip_prefix("# manifest: ").expect("a manifest line")).unwrap();
        assert_eq!(manifest["filter"], json!({ "action": "login", "ip": "192.0.2.0/24" }));
        let rows = parse_csv(&format!("{body}\r\n"));
        assert_eq!(rows[0].join(","), "seq,occurred_at,action,outcome,reason_code,actor_kind,actor_id,actor_email,actor_role,target_type,target_id,target_name,ip,user_agent,request_id,session_kind,details,hash,prev_hash");
        let api = all_events(&app, &founder, &org, "action=login&ip=192.0.2.0/24").await;
        assert_eq!((rows.len() - 1, manifest["count"].as_u64()), (1, Some(1)));
        let row = &rows[1];
        assert_eq!(row[0], api[0]["seq"].to_string());
        assert_eq!(row[2], "login");
        assert_eq!(row[7], "boss@export.test");
        assert_eq!(row[12], "192.0.2.44");
        assert_eq!(row[13], format!("'{nasty}"), "a formula is text");
        assert_eq!(row[15], api[0]["context"]["session_kind"].as_str().unwrap_or_default());
        assert_eq!(serde_json::from_str::<Value>(&row[16]).unwrap(), api[0]["details"]);
        assert_eq!((row[17].as_str(), row[18].as_str()), (api[0]["hash"].as_str().unwrap(), api[0]["prev_hash"].as_str().unwrap()));
        assert!(text.contains(&format!(",\"'{}\",", nasty.replace('"', "\"\""))), "quoted as RFC 4180 says");
        // A target name starting with '-' is disarmed too.
        let all_csv = app.get(&format!("/api/organizations/{org}/audit/export")).bearer_auth(&founder).send().await.unwrap().text().await.unwrap();
        assert!(all_csv.contains(",'-Minus Member,"), "{all_csv}");
        // Each export is on the record, with its filter and format.
        let exports = all_events(&app, &founder, &org, "action=export_audit_log").await;
        assert_eq!(exports.len(), 3);
        assert_eq!(exports[1]["details"], json!({ "format": "csv", "filter": { "action": "login", "ip": "192.0.2.0/24" } }));
    }

    async fn a_large_export_streams(app: TestApp) {
        let (founder, boss) = app.register_founder("boss@stream.test", "Stream Boss", "Stream").await;
        let org = boss["organization_id"].as_str().unwrap().to_owned();
        record_many(&app, Some(uuid_of(&org)), 3500, "192.0.2.9").await;
        let mut res = app.get(&format!("/api/organizations/{org}/audit/export?format=jsonl")).bearer_auth(&founder).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut chunks = 0;
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.unwrap() {
            chunks += 1;
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let manifest: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
        let count = manifest["manifest"]["count"].as_i64().unwrap();
        assert_eq!(count as usize, lines.len() - 1);
        assert!(count > 3500, "{count}");
        assert_eq!(manifest["manifest"]["last_seq"], manifest["manifest"]["head_seq"]);
        assert!(chunks >= 4, "one chunk per page of 1,000 at least: {chunks}");
        let seqs: Vec<i64> = lines[..lines.len() - 1].iter().map(|l| serde_json::from_str::<Value>(l).unwrap()["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=count).collect::<Vec<_>>(), "oldest first, every event once");
    }
}

both_backends! {
    async fn the_pages_server_functions_read_the_same_log(app: TestApp) {
        let (founder, boss) = app.register_founder("boss@fn.test", "Fn Boss", "Fn").await;
        let org = boss["organization_id"].as_str().unwrap().to_owned();
        app.login_ok("boss@fn.test", PASSWORD).await;
        let call = |form: Vec<(&'static str, String)>| {
            app.post("/api/fn/list_audit_events").header("cookie", format!("neosc_session={founder}")).form(&form).send()
        };
        let res = call(vec![("org_id", org.clone()), ("filter[action]", "login".into()), ("filter[limit]", "1".into())]).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let page: Value = res.json().await.unwrap();
        let rest = get_ok(&app, &founder, &format!("/api/organizations/{org}/audit?action=login&limit=1")).await;
        assert_eq!(page, rest);
        assert_eq!(actions(page["events"].as_array().unwrap()), ["login"]);
        // No filter at all is the whole log.
        let whole: Value = call(vec![("org_id", org.clone())]).await.unwrap().json().await.unwrap();
        assert_eq!(whole, get_ok(&app, &founder, &format!("/api/organizations/{org}/audit")).await);
        let bad = call(vec![("org_id", org.clone()), ("filter[ip]", "nope".into())]).await.unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let bad = bad.text().await.unwrap();
        assert!(bad.contains("\"field\":\"ip\""), "{bad}");

        let res = app
            .post("/api/fn/verify_audit_log")
            .header("cookie", format!("neosc_session={founder}"))
            .form(&[("org_id", org.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let report: Value = res.json().await.unwrap();
        assert_eq!(report, get_ok(&app, &founder, &format!("/api/organizations/{org}/audit/verify")).await);
        assert_eq!(report["intact"], true);
    }
}
