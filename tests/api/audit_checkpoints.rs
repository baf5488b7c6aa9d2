//! Signed checkpoints of the audit chains (issue 13, tamper evidence):
//! signed once per chain per day and verifiable with the published key,
//! one row per chain and day when passes race, and the one attack the
//! chain alone cannot show (an event rewritten and the whole chain
//! re-hashed consistently after it) caught against a kept checkpoint, by
//! the service, the REST check and the `neosc` command alike.

use base64::Engine;
use chrono::{Duration, SecondsFormat};
use neosc::server::auth::audit_key;
use neosc::server::clock::Clock;
use neosc::server::db::{CheckpointRecord, Store};
use neosc::server::service::audit;
use neosc::server::service::audit_checkpoints::{self, chain_name, CheckpointFile};
use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::helpers::*;

/// The installation's signing seed in these tests, so the `neosc` command
/// run beside the app signs and checks with the same key.
const SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const ENV: &[(&str, &str)] = &[("NEOSC_AUDIT_SIGNING_KEY", SEED)];

fn uuid_of(public_id: &str) -> Uuid {
    neosc::model::OrgId::parse(public_id).expect("an organization id").0
}

/// Runs one statement with text (or number) binds.
async fn exec(app: &TestApp, sql: &str, binds: &[Value]) -> Result<u64, sqlx::Error> {
    macro_rules! run {
        ($pool:expr) => {{
            let mut q = sqlx::query(sql);
            for b in binds {
                q = match b {
                    Value::String(s) => q.bind(s.clone()),
                    Value::Number(n) => q.bind(n.as_i64().unwrap()),
                    other => q.bind(sqlx::types::Json(other.clone())),
                };
            }
            q.execute($pool).await.map(|r| r.rows_affected())
        }};
    }
    match &app.store {
        Store::Sqlite(p) => run!(p),
        Store::Postgres(p) => run!(p),
    }
}

/// An organization with a handful of events: its founder registered and
/// signed in a few times. Returns the founder's token and the org's id.
async fn org_with_events(app: &TestApp, domain: &str) -> (String, String) {
    let email = format!("founder@{domain}");
    let (token, user) = app.register_founder(&email, "Founder", &format!("Checkpointed {domain}")).await;
    for _ in 0..2 {
        app.login_ok(&email, PASSWORD).await;
    }
    (token, user["organization_id"].as_str().unwrap().to_owned())
}

async fn get_ok(app: &TestApp, path: &str, token: &str) -> Value {
    let res = app.get(path).bearer_auth(token).send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// The statement's bytes as the README documents them, built by hand.
fn documented_bytes(statement: &Value) -> String {
    format!(
        r#"{{"chain":"{}","seq":{},"hash":"{}","signed_at":"{}","key_id":"{}"}}"#,
        statement["chain"].as_str().unwrap(),
        statement["seq"].as_i64().unwrap(),
        statement["hash"].as_str().unwrap(),
        statement["signed_at"].as_str().unwrap(),
        statement["key_id"].as_str().unwrap()
    )
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// What an attacker with the database owner's rights does: drops the
/// triggers, rewrites the event at `seq`, and re-hashes every event from
/// there to the head (and the head) so the chain replays intact.
async fn rewrite_and_rehash(app: &TestApp, org: Uuid, seq: i64) {
    match &app.store {
        Store::Sqlite(p) => {
            sqlx::raw_sql("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;").execute(p).await.unwrap();
        }
        Store::Postgres(p) => {
            sqlx::raw_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only").execute(p).await.unwrap();
        }
    }
    let rows = app.store.conn().await.unwrap().audit_chain_page(Some(org), 0, i64::MAX, 100_000).await.unwrap();
    let mut prev = audit::GENESIS_HASH.to_owned();
    for r in &rows {
        let s = r.seq.unwrap();
        if s < seq {
            prev = r.hash.clone().unwrap();
            continue;
        }
        let details = if s == seq { json!({ "forged": true }) } else { sorted(&r.details.0) };
        let hash = audit::Canonical {
            seq: s,
            id: r.id,
            occurred_at: r.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            org: r.organization_id,
            actor: r.actor_user_id,
            action: &r.action,
            outcome: &r.outcome,
            target_type: r.target_type.as_deref(),
            target_id: r.target_id.as_deref(),
            details: details.clone(),
            ip: r.ip.as_deref(),
            ..audit::Canonical::extras(&r.more)
        }
        .hash(&prev)
        .unwrap();
        let sql = "UPDATE audit_events SET details = $1, prev_hash = $2, hash = $3 WHERE id = $4";
        let details = sqlx::types::Json(details);
        let done = match &app.store {
            Store::Sqlite(p) => {
                sqlx::query(sql).bind(&details).bind(&prev).bind(&hash).bind(r.id).execute(p).await.map(|r| r.rows_affected())
            }
            Store::Postgres(p) => {
                sqlx::query(sql).bind(&details).bind(&prev).bind(&hash).bind(r.id).execute(p).await.map(|r| r.rows_affected())
            }
        };
        assert_eq!(done.unwrap(), 1);
        prev = hash;
    }
    let head =
        exec(app, "UPDATE audit_heads SET hash = $1 WHERE chain_key = $2", &[json!(prev), json!(org.hyphenated().to_string())]).await;
    assert_eq!(head.unwrap(), 1);
}

/// Runs `neosc` against the app's database with the app's signing key.
fn neosc(app: &TestApp, args: &[&str]) -> std::process::Output {
    let data = std::env::temp_dir().join(format!("neosc-cli-{}", Uuid::new_v4()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_neosc"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("NEOSC_AUDIT_SIGNING_KEY", SEED)
        .env("NEOSC_DATA_DIR", &data)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&data);
    out
}

fn checkpoint_line(out: &std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with(r#"{"checkpoint""#)).unwrap_or_else(|| panic!("no checkpoint line in {stdout}"));
    serde_json::from_str::<Value>(line).unwrap()["checkpoint"].clone()
}

both_backends! {
    env = ENV;

    async fn checkpoints_are_signed_once_a_day_and_verify_with_the_public_key(app: TestApp) {
        let (mut founder, org_id) = org_with_events(&app, "signed.test").await;
        let name = chain_name(Some(uuid_of(&org_id)));
        assert_eq!(name, org_id, "the statement names the chain by the organization's public id");
        let res = app.get(&format!("/api/organizations/{org_id}/audit/checkpoints/latest")).bearer_auth(&founder).send().await.unwrap();
        assert_problem(res, StatusCode::NOT_FOUND).await;

        let pass = audit_checkpoints::checkpoint_all(&app.state).await.unwrap();
        assert!(pass.written.contains(&name), "{pass:?}");
        assert!(pass.broken.is_empty(), "{pass:?}");

        // The public key, to anyone.
        let key = app.get("/api/audit/public-key").send().await.unwrap();
        assert_eq!(key.status(), StatusCode::OK);
        let key: Value = key.json().await.unwrap();
        assert_eq!(key["algorithm"], "Ed25519");
        let public = audit_key::parse_public_key(key["public_key"].as_str().unwrap()).expect("32 bytes of base64");
        assert_eq!(key["key_id"], audit_key::key_id_of(&public));
        assert!(key["public_key_pem"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"), "{key}");

        // The checkpoint names the head the chain verifies to, signed over
        // the documented bytes.
        let report = get_ok(&app, &format!("/api/organizations/{org_id}/audit/verify"), &founder).await;
        let list = get_ok(&app, &format!("/api/organizations/{org_id}/audit/checkpoints"), &founder).await;
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        let statement = &list[0]["statement"];
        assert_eq!((&statement["chain"], &statement["seq"], &statement["hash"]), (&json!(org_id), &report["head_seq"], &report["head_hash"]));
        assert_eq!(statement["key_id"], key["key_id"]);
        assert_eq!(list[0]["day"], app.clock.now().format("%Y-%m-%d").to_string());
        let signature = list[0]["signature"].as_str().unwrap();
        assert!(audit_key::verify(&public, documented_bytes(statement).as_bytes(), signature), "{statement}");
        assert_eq!(base64::engine::general_purpose::STANDARD.decode(signature).unwrap().len(), 64);

        // More events the same day: still one checkpoint today.
        app.login_ok("founder@signed.test", PASSWORD).await;
        let again = audit_checkpoints::checkpoint_all(&app.state).await.unwrap();
        assert!(!again.written.contains(&name) && !again.taken.contains(&name), "{again:?}");
        assert_eq!(get_ok(&app, &format!("/api/organizations/{org_id}/audit/checkpoints"), &founder).await.as_array().unwrap().len(), 1);

        // The next day it moved: a second one.
        app.clock.advance(Duration::days(1));
        let next_day = app.clock.now().format("%Y-%m-%d").to_string();
        let next = audit_checkpoints::checkpoint_all(&app.state).await.unwrap();
        assert!(next.written.contains(&name), "{next:?}");
        // A day without events: none.
        app.clock.advance(Duration::days(1));
        let quiet = audit_checkpoints::checkpoint_all(&app.state).await.unwrap();
        assert!(!quiet.written.contains(&name), "{quiet:?}");
        // Two days later the session has ended (signing in is an event of
        // today's, checkpointed tomorrow).
        founder = app.login_ok("founder@signed.test", PASSWORD).await;
        let list = get_ok(&app, &format!("/api/organizations/{org_id}/audit/checkpoints"), &founder).await;
        let list = list.as_array().unwrap().clone();
        assert_eq!(list.len(), 2, "newest first: {list:?}");
        assert_eq!(list[0]["day"], next_day);
        assert!(list[0]["statement"]["seq"].as_i64() > list[1]["statement"]["seq"].as_i64(), "{list:?}");

        // The download: the newest, as an attachment, with the key.
        let res = app.get(&format!("/api/organizations/{org_id}/audit/checkpoints/latest")).bearer_auth(&founder).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(disposition.starts_with("attachment; filename=\"neosc-audit-checkpoint-org-") && disposition.ends_with(".json\""), "{disposition}");
        let file: Value = res.json().await.unwrap();
        assert_eq!((&file["statement"], &file["signature"], &file["public_key"]), (&list[0]["statement"], &list[0]["signature"], &key["public_key"]));

        // Checkpoints are append-only.
        let key_of = uuid_of(&org_id).hyphenated().to_string();
        assert!(exec(&app, "UPDATE audit_checkpoints SET hash = 'x' WHERE chain_key = $1", &[json!(key_of)]).await.is_err());
        assert!(exec(&app, "DELETE FROM audit_checkpoints WHERE chain_key = $1", &[json!(key_of)]).await.is_err());
    }

    async fn racing_passes_write_one_checkpoint_per_chain_and_day(app: TestApp) {
        let mut names = Vec::new();
        for domain in ["race-a.test", "race-b.test", "race-c.test"] {
            let (_, org_id) = org_with_events(&app, domain).await;
            names.push(org_id);
        }
        let (a, b) = tokio::join!(audit_checkpoints::checkpoint_all(&app.state), audit_checkpoints::checkpoint_all(&app.state));
        let (a, b) = (a.unwrap(), b.unwrap());
        let today = app.clock.now().date_naive();
        for name in &names {
            let written = a.written.iter().chain(&b.written).filter(|n| *n == name).count();
            assert!(written <= 1, "{name} written by both passes: {a:?} {b:?}");
            let rows = app.store.conn().await.unwrap().audit_checkpoints_of(&uuid_of(name).hyphenated().to_string(), 10).await.unwrap();
            assert_eq!(rows.iter().filter(|r| r.day == today).count(), 1, "{name}: {rows:?}");
        }
        // The insert that comes second does nothing, whatever it says.
        let first = app.store.conn().await.unwrap().audit_checkpoints_of(&uuid_of(&names[0]).hyphenated().to_string(), 1).await.unwrap();
        let second = CheckpointRecord { seq: first[0].seq + 1, signature: "AA==".into(), ..first[0].clone() };
        assert!(!app.store.conn().await.unwrap().insert_audit_checkpoint(&second).await.unwrap());
        let kept = app.store.conn().await.unwrap().audit_checkpoints_of(&first[0].chain_key, 10).await.unwrap();
        assert_eq!(kept, first);
    }

    async fn a_chain_rehashed_after_a_rewrite_fails_against_the_kept_checkpoint(app: TestApp) {
        let (founder, org_id) = org_with_events(&app, "rehashed.test").await;
        let org = uuid_of(&org_id);
        // The operator's command signs today's checkpoints now.
        let out = neosc(&app, &["audit", "checkpoint"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(printed["pass"]["written"].as_array().unwrap().contains(&json!(org_id)), "{printed}");
        let res = app.get(&format!("/api/organizations/{org_id}/audit/checkpoints/latest")).bearer_auth(&founder).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let kept: Value = res.json().await.unwrap();
        let file: CheckpointFile = serde_json::from_value(kept.clone()).unwrap();
        let path = std::env::temp_dir().join(format!("neosc-checkpoint-{}.json", Uuid::new_v4()));
        std::fs::write(&path, serde_json::to_vec_pretty(&kept).unwrap()).unwrap();
        let path_arg = path.to_str().unwrap().to_owned();

        // Untouched, the checkpoint holds: service, REST and command.
        let check = audit_checkpoints::verify_checkpoint(&app.state, Some(org), &file).await.unwrap();
        assert!(check.holds && check.signature_valid, "{check:?}");
        let res = app.post_json(&format!("/api/organizations/{org_id}/audit/verify"), &founder, kept.clone()).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["holds"], true, "{body}");
        let out = neosc(&app, &["audit", "verify", "--org", &org_id, "--checkpoint", &path_arg]);
        assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(checkpoint_line(&out)["holds"], true);

        // Events after the checkpoint do not disturb it.
        app.login_ok("founder@rehashed.test", PASSWORD).await;
        assert!(audit_checkpoints::verify_checkpoint(&app.state, Some(org), &file).await.unwrap().holds);

        // The attack: event 2 rewritten, everything after re-hashed.
        rewrite_and_rehash(&app, org, 2).await;
        let plain = get_ok(&app, &format!("/api/organizations/{org_id}/audit/verify"), &founder).await;
        assert_eq!(plain["intact"], true, "the forgery replays intact: {plain}");
        let check = audit_checkpoints::verify_checkpoint(&app.state, Some(org), &file).await.unwrap();
        assert!(!check.holds && check.signature_valid && check.report.intact, "{check:?}");
        assert!(check.reason.as_deref().unwrap().contains("rewritten"), "{check:?}");
        let res = app.post_json(&format!("/api/organizations/{org_id}/audit/verify"), &founder, kept.clone()).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!((&body["holds"], &body["report"]["intact"]), (&json!(false), &json!(true)), "{body}");
        let out = neosc(&app, &["audit", "verify", "--org", &org_id, "--checkpoint", &path_arg]);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
        let line = checkpoint_line(&out);
        assert_eq!((&line["holds"], &line["signature_valid"]), (&json!(false), &json!(true)), "{line}");
        let _ = std::fs::remove_file(&path);

        // Nor is the forgery signed the next day: its last checkpoint no
        // longer holds.
        app.login_ok("founder@rehashed.test", PASSWORD).await;
        app.clock.advance(Duration::days(1));
        let pass = audit_checkpoints::checkpoint_all(&app.state).await.unwrap();
        assert!(pass.broken.contains(&org_id) && !pass.written.contains(&org_id), "{pass:?}");
        let founder = app.login_ok("founder@rehashed.test", PASSWORD).await;
        assert_eq!(get_ok(&app, &format!("/api/organizations/{org_id}/audit/checkpoints"), &founder).await.as_array().unwrap().len(), 1);
    }

    async fn tampered_or_foreign_checkpoints_are_refused(app: TestApp) {
        let (founder, org_id) = org_with_events(&app, "tampered.test").await;
        let (_, other_id) = org_with_events(&app, "neighbour.test").await;
        let org = uuid_of(&org_id);
        audit_checkpoints::checkpoint_all(&app.state).await.unwrap();
        let file: CheckpointFile =
            app.get(&format!("/api/organizations/{org_id}/audit/checkpoints/latest")).bearer_auth(&founder).send().await.unwrap().json().await.unwrap();
        assert!(audit_checkpoints::verify_checkpoint(&app.state, Some(org), &file).await.unwrap().holds);

        // One bit of the signature flipped.
        let mut sig = base64::engine::general_purpose::STANDARD.decode(&file.signature).unwrap();
        sig[10] ^= 1;
        let flipped = CheckpointFile { signature: base64::engine::general_purpose::STANDARD.encode(&sig), ..file.clone() };
        let check = audit_checkpoints::verify_checkpoint(&app.state, Some(org), &flipped).await.unwrap();
        assert!(!check.holds && !check.signature_valid, "{check:?}");
        // The statement changed under its signature (an earlier head).
        let mut moved = file.clone();
        moved.statement.seq -= 1;
        let check = audit_checkpoints::verify_checkpoint(&app.state, Some(org), &moved).await.unwrap();
        assert!(!check.holds && !check.signature_valid, "{check:?}");
        // Garbage instead of a signature.
        let garbage = CheckpointFile { signature: "not base64".into(), ..file.clone() };
        assert!(!audit_checkpoints::verify_checkpoint(&app.state, Some(org), &garbage).await.unwrap().holds);
        // Signed by another key, with that key alongside: the installation's key decides.
        let forger = audit_key::AuditSigner::from_seed(&[9u8; 32], audit_key::SigningKeySource::Environment);
        let mut forged = file.clone();
        forged.statement.key_id = forger.key_id().to_owned();
        forged.signature = forger.sign(forged.statement.canonical().as_bytes());
        forged.public_key = Some(forger.public_key_base64());
        let check = audit_checkpoints::verify_checkpoint(&app.state, Some(org), &forged).await.unwrap();
        assert!(!check.holds && !check.signature_valid, "{check:?}");
        assert!(check.reason.as_deref().unwrap().contains("not this installation's key"), "{check:?}");
        // A genuine checkpoint of another chain.
        let check = audit_checkpoints::verify_checkpoint(&app.state, Some(uuid_of(&other_id)), &file).await.unwrap();
        assert!(!check.holds && check.signature_valid, "{check:?}");
        // Over REST too; a malformed body is a 400.
        let res = app.post_json(&format!("/api/organizations/{org_id}/audit/verify"), &founder, serde_json::to_value(&flipped).unwrap()).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!((&body["holds"], &body["signature_valid"]), (&json!(false), &json!(false)), "{body}");
        let res = app.post_json(&format!("/api/organizations/{org_id}/audit/verify"), &founder, json!({ "statement": { "chain": org_id } })).await;
        assert_problem(res, StatusCode::BAD_REQUEST).await;
    }

    async fn checkpoints_are_for_their_organizations_admins(app: TestApp) {
        let (founder, org_id) = org_with_events(&app, "own.test").await;
        let (member, _) = app.register_ok("member@own.test", "Member", None).await;
        let (other_admin, _) = org_with_events(&app, "other.test").await;
        audit_checkpoints::checkpoint_all(&app.state).await.unwrap();
        let admin = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let list = format!("/api/organizations/{org_id}/audit/checkpoints");
        let latest = format!("{list}/latest");
        for path in [&list, &latest] {
            for token in [&founder, &admin] {
                let res = app.get(path).bearer_auth(token).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::OK, "{path}");
            }
            assert_problem(app.get(path).bearer_auth(&other_admin).send().await.unwrap(), StatusCode::NOT_FOUND).await;
            assert_problem(app.get(path).bearer_auth(&member).send().await.unwrap(), StatusCode::FORBIDDEN).await;
            assert_problem(app.get(path).send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
        }
        let file: Value = app.get(&latest).bearer_auth(&founder).send().await.unwrap().json().await.unwrap();
        let res = app.post_json(&format!("/api/organizations/{org_id}/audit/verify"), &other_admin, file).await;
        assert_problem(res, StatusCode::NOT_FOUND).await;
    }
}
