//! Workspaces end to end: the REST API, the reconciler and the real Docker
//! Engine (`make test` starts it; with CI=true a missing engine fails, see
//! `engine::engine`). The app's clock stands still, so a test moves it to
//! make the reconciler look at a settled workspace again.

use std::sync::Arc;
use std::time::Duration;

use neosc::model::WorkspaceStatus;
use neosc::server::clock::Clock;
use neosc::server::engine::{Observed, WorkspaceEngine, LABEL_WORKSPACE};
use neosc::server::reconciler::{Pace, Reconciler};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::engine::{engine, IMAGE};
use crate::helpers::*;
use crate::instance::Instance;
use crate::start_gate::StartGate;

/// A real engine and a reconciler that looks often.
pub const DOCKER: &[(&str, &str)] = &[("NEOSC_WORKSPACE_ENGINE", "docker"), ("NEOSC_RECONCILE_INTERVAL_MS", "100")];
/// No engine: allocation and quotas only.
pub const NO_ENGINE: &[(&str, &str)] = &[("NEOSC_WORKSPACE_ENGINE", "none"), ("NEOSC_RECONCILE_INTERVAL_MS", "100")];

const IDLE: &[&str] = &["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"];

pub struct World {
    pub platform: String,
    pub admin: String,
    pub member: String,
    pub member_id: String,
    pub org_id: String,
    pub template_id: String,
}

/// A platform admin, an organization "Acme" with its admin and a member,
/// and a template running `command` (0.5 vCPU, 64 MiB, 1 GiB by default).
pub async fn world(app: &TestApp, command: &[&str]) -> World {
    let platform = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (admin, admin_user) = app.register_founder("admin@acme.test", "Acme Admin", "Acme").await;
    let (member, member_user) = app.register_ok("member@acme.test", "Acme Member", None).await;
    let org_id = admin_user["organization_id"].as_str().unwrap().to_owned();
    assert_eq!(member_user["organization_id"], admin_user["organization_id"]);
    let res = app
        .post_json(
            "/api/workspace-templates",
            &platform,
            json!({
                "name": format!("Busybox {}", Uuid::now_v7()), "description": "A shell", "image": IMAGE, "command": command,
                "default_vcpu": 500, "default_memory_mib": 64, "default_storage_gib": 1,
                "max_vcpu": 2000, "max_memory_mib": 512, "max_storage_gib": 20,
            }),
        )
        .await;
    let status = res.status();
    let template: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{template}");
    World {
        platform,
        admin,
        member,
        member_id: member_user["id"].as_str().unwrap().to_owned(),
        org_id,
        template_id: template["id"].as_str().unwrap().to_owned(),
    }
}

pub async fn create(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let res = app.post_json("/api/workspaces", token, body).await;
    let status = res.status();
    (status, res.json().await.unwrap())
}

pub async fn get(app: &TestApp, token: &str, id: &str) -> Value {
    let res = app.get(&format!("/api/workspaces/{id}")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

pub async fn action(app: &TestApp, token: &str, id: &str, verb: &str) -> (StatusCode, Value) {
    let res = app.post(&format!("/api/workspaces/{id}/{verb}")).bearer_auth(token).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

/// Polls the workspace until `done` holds (bounded: 60 s). With `nudge`,
/// moves the app's clock past the observation interval each round, so the
/// reconciler looks at a settled workspace again.
pub async fn until(app: &TestApp, token: &str, id: &str, nudge: bool, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let ws = get(app, token, id).await;
        if done(&ws) {
            return ws;
        }
        if nudge {
            app.clock.advance(chrono::Duration::seconds(11));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("workspace {id} never got there: {}", get(app, token, id).await);
}

fn status_is(s: &'static str) -> impl Fn(&Value) -> bool {
    move |ws| ws["status"] == s
}

fn uuid_of(id: &str) -> Uuid {
    neosc::model::WorkspaceId::parse(id).unwrap().0
}

async fn usage(app: &TestApp, token: &str, org_id: &str) -> Value {
    app.get(&format!("/api/organizations/{org_id}/usage")).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// Creates expecting 409 and returns the problem's `quota` member.
async fn refused(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, problem) = create(app, token, body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    problem["quota"].clone()
}

async fn set_quotas(app: &TestApp, path: &str, token: &str, limits: Value) {
    let res = app.patch_json(path, token, limits).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// How many audit events with this action there are.
async fn audited(app: &TestApp, action: &str) -> usize {
    app.store.conn().await.unwrap().audit_events_with_action(action, 1000).await.unwrap().len()
}

async fn volume_exists(ws_id: &str) -> bool {
    let docker = bollard::Docker::connect_with_local_defaults().unwrap().negotiate_version().await.unwrap();
    docker.inspect_volume(&format!("neosc-{ws_id}-home")).await.is_ok()
}

both_backends! {
    env = DOCKER;

    async fn a_workspace_is_a_container_of_its_size_that_stops_starts_and_goes_away_whole(app: TestApp) {
        if engine().await.is_none() { return }
        let w = world(&app, IDLE).await;
        let engine = app.state.engine.clone().expect("the docker engine");

        let (status, ws) = create(&app, &w.admin, json!({
            "name": "dev box", "template_id": w.template_id, "owner_id": w.member_id, "vcpu": 750, "memory_mib": 96,
        })).await;
        assert_eq!(status, StatusCode::CREATED, "{ws}");
        assert_eq!(ws["status"], "provisioning");
        assert_eq!(ws["owner"]["id"], w.member_id.as_str());
        let id = ws["id"].as_str().unwrap().to_owned();

        let running = until(&app, &w.member, &id, false, status_is("running")).await;
        assert!(running["engine_ref"].as_str().is_some_and(|r| !r.is_empty()));
        assert_eq!(engine.observe(uuid_of(&id)).await.unwrap(), Observed::Running);
        let limits = engine.limits(uuid_of(&id)).await.unwrap().unwrap();
        assert_eq!(limits.nano_cpus, 750_000_000, "0.75 CPU");
        assert_eq!(limits.memory_bytes, 96 * 1024 * 1024);
        let u = usage(&app, &w.admin, &w.org_id).await;
        assert_eq!((u["running"]["used"].as_i64(), u["vcpu"]["used"].as_i64(), u["memory_mib"]["used"].as_i64()), (Some(1), Some(750), Some(96)));

        // The member stops their own workspace; the reservation goes at once.
        let (status, body) = action(&app, &w.member, &id, "stop").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(usage(&app, &w.admin, &w.org_id).await["vcpu"]["used"], 0);
        let stopped = until(&app, &w.member, &id, false, status_is("stopped")).await;
        assert!(stopped["status_reason"].as_str().unwrap().contains("stopped by member@acme.test"), "{stopped}");
        assert!(matches!(engine.observe(uuid_of(&id)).await.unwrap(), Observed::Exited { oom_killed: false, .. }));

        let (status, _) = action(&app, &w.member, &id, "start").await;
        assert_eq!(status, StatusCode::OK);
        until(&app, &w.member, &id, false, status_is("running")).await;

        // Users do not delete unless the organization allows self-service.
        let res = app.delete(&format!("/api/workspaces/{id}")).bearer_auth(&w.member).send().await.unwrap();
        assert_problem(res, StatusCode::FORBIDDEN).await;
        let res = app.delete(&format!("/api/workspaces/{id}")).bearer_auth(&w.admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let deleted = until(&app, &w.admin, &id, false, status_is("deleted")).await;
        assert_eq!(deleted["desired_state"], "deleted");
        assert_eq!(engine.observe(uuid_of(&id)).await.unwrap(), Observed::Missing, "the container is gone");
        assert!(!volume_exists(&id).await, "the home volume is gone");
        let u = usage(&app, &w.admin, &w.org_id).await;
        assert_eq!((u["workspaces"]["used"].as_i64(), u["storage_gib"]["used"].as_i64()), (Some(0), Some(0)));

        // The timeline tells the whole story, newest first.
        let steps: Vec<String> = deleted["events"].as_array().unwrap().iter()
            .map(|e| format!("{}>{}", e["from_status"].as_str().unwrap(), e["to_status"].as_str().unwrap())).collect();
        for step in ["pending>provisioning", "provisioning>running", "running>stopping", "stopping>stopped", "deleting>deleted"] {
            assert!(steps.contains(&step.to_owned()), "{step} missing from {steps:?}");
        }
        let system = deleted["events"].as_array().unwrap().iter().find(|e| e["to_status"] == "deleted").unwrap();
        assert_eq!(system["actor"], Value::Null, "the reconciler acts as the system");
        for a in ["create_workspace", "stop_workspace", "start_workspace", "delete_workspace"] {
            assert!(audited(&app, a).await > 0, "audit lacks {a}");
        }
    }

    async fn a_workspace_that_runs_out_of_memory_ends_failed_and_releases_its_reservation(app: TestApp) {
        if engine().await.is_none() { return }
        let w = world(&app, &["sh", "-c", "sleep 1; x=aaaaaaaaaaaaaaaa; while :; do x=\"$x$x\"; done"]).await;
        let (status, ws) = create(&app, &w.admin, json!({ "name": "hog", "template_id": w.template_id, "memory_mib": 32 })).await;
        assert_eq!(status, StatusCode::CREATED, "{ws}");
        let id = ws["id"].as_str().unwrap().to_owned();
        let failed = until(&app, &w.admin, &id, true, status_is("failed")).await;
        assert_eq!(failed["status_reason"], "out of memory (exit 137)");
        assert_eq!(failed["desired_state"], "stopped");
        assert_eq!(usage(&app, &w.admin, &w.org_id).await["memory_mib"]["used"], 0);
        assert_eq!(audited(&app, "workspace_failed").await, 1);
        // Staying failed: the next looks keep the reason.
        app.clock.advance(chrono::Duration::seconds(30));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(get(&app, &w.admin, &id).await["status_reason"], "out of memory (exit 137)");
        app.delete(&format!("/api/workspaces/{id}")).bearer_auth(&w.admin).send().await.unwrap();
        until(&app, &w.admin, &id, false, status_is("deleted")).await;
    }

    async fn twenty_concurrent_starts_under_a_limit_of_five_run_exactly_five(app: TestApp) {
        if engine().await.is_none() { return }
        let w = world(&app, IDLE).await;
        let res = app.patch_json(&format!("/api/organizations/{}/quotas", w.org_id), &w.platform, json!({ "max_running": 5 })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let mut ids = Vec::new();
        for i in 0..20 {
            let (status, ws) = create(&app, &w.admin, json!({ "name": format!("ws {i}"), "template_id": w.template_id, "start": false })).await;
            assert_eq!(status, StatusCode::CREATED, "{ws}");
            ids.push(ws["id"].as_str().unwrap().to_owned());
        }
        let mut starts = tokio::task::JoinSet::new();
        for id in &ids {
            let req = app.post(&format!("/api/workspaces/{id}/start")).bearer_auth(&w.admin);
            starts.spawn(async move { req.send().await.unwrap().status() });
        }
        let statuses = starts.join_all().await;
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 5, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 15, "{statuses:?}");
        let mut running = 0;
        for id in &ids {
            let ws = get(&app, &w.admin, id).await;
            if ws["desired_state"] == "running" {
                until(&app, &w.admin, id, false, status_is("running")).await;
                running += 1;
            }
        }
        assert_eq!(running, 5);
        let engine = app.state.engine.clone().unwrap();
        let mut on_engine = 0;
        for id in &ids {
            if engine.observe(uuid_of(id)).await.unwrap() == Observed::Running {
                on_engine += 1;
            }
        }
        assert_eq!(on_engine, 5, "exactly five containers run");
        for id in &ids {
            app.delete(&format!("/api/workspaces/{id}")).bearer_auth(&w.admin).send().await.unwrap();
        }
        for id in &ids {
            until(&app, &w.admin, id, false, status_is("deleted")).await;
        }
    }

    async fn a_container_removed_by_hand_is_noticed_and_made_again(app: TestApp) {
        if engine().await.is_none() { return }
        let w = world(&app, IDLE).await;
        let (_, ws) = create(&app, &w.admin, json!({ "name": "fragile", "template_id": w.template_id })).await;
        let id = ws["id"].as_str().unwrap().to_owned();
        let first = until(&app, &w.admin, &id, false, status_is("running")).await;
        let docker = bollard::Docker::connect_with_local_defaults().unwrap().negotiate_version().await.unwrap();
        let options = bollard::query_parameters::RemoveContainerOptionsBuilder::default().force(true).build();
        docker.remove_container(first["engine_ref"].as_str().unwrap(), Some(options)).await.unwrap();
        let again = until(&app, &w.admin, &id, true, |ws| ws["status"] == "running" && ws["engine_ref"] != first["engine_ref"]).await;
        assert!(again["status_reason"].as_str().unwrap().contains("removed outside NeoSC"), "{again}");
        assert!(volume_exists(&id).await, "the home volume survived");
        app.delete(&format!("/api/workspaces/{id}")).bearer_auth(&w.admin).send().await.unwrap();
        until(&app, &w.admin, &id, false, status_is("deleted")).await;
    }

    async fn orphan_containers_of_this_installation_are_removed_and_no_others(app: TestApp) {
        let Some(docker) = engine().await else { return };
        let installation = app.store.conn().await.unwrap().default_org().await.unwrap().unwrap().id;
        let spec = |installation| neosc::server::engine::ContainerSpec {
            installation,
            workspace_id: Uuid::now_v7(),
            organization_id: Uuid::now_v7(),
            image: IMAGE.into(),
            command: Some(IDLE.iter().map(|s| s.to_string()).collect()),
            vcpu_millicores: 100,
            memory_mib: 16,
            storage_gib: 1,
            network: None,
        };
        let (ours, theirs) = (spec(installation), spec(Uuid::now_v7()));
        docker.ensure(&ours).await.unwrap();
        docker.ensure(&theirs).await.unwrap();
        let reconciler = Reconciler::new(app.state.clone(), Pace::default());
        assert!(reconciler.sweep_orphans().await >= 1);
        assert_eq!(docker.observe(ours.workspace_id).await.unwrap(), Observed::Missing, "our orphan is gone");
        assert_eq!(docker.observe(theirs.workspace_id).await.unwrap(), Observed::Created, "another installation's is not ours to sweep");
        docker.remove(theirs.workspace_id).await.unwrap();
    }
}

both_backends! {
    env = NO_ENGINE;

    async fn without_an_engine_workspaces_are_allocated_and_stay_pending(app: TestApp) {
        let w = world(&app, IDLE).await;
        let (status, ws) = create(&app, &w.admin, json!({ "name": "waiting", "template_id": w.template_id })).await;
        assert_eq!(status, StatusCode::CREATED, "{ws}");
        assert_eq!(ws["status"], "pending");
        assert_eq!(ws["status_reason"], "no workspace engine connected");
        app.clock.advance(chrono::Duration::seconds(30));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let ws = get(&app, &w.admin, ws["id"].as_str().unwrap()).await;
        assert_eq!(ws["status"], "pending", "nothing is shown running that is not");
        assert_eq!(usage(&app, &w.admin, &w.org_id).await["running"]["used"], 1, "its reservation holds");
    }

    async fn every_quota_refuses_with_its_numbers(app: TestApp) {
        let w = world(&app, IDLE).await;
        let quotas = format!("/api/organizations/{}/quotas", w.org_id);
        let refused = |body: Value| refused(&app, &w.admin, body);
        let set = |limits: Value| set_quotas(&app, &quotas, &w.platform, limits);
        // One running workspace of 0.5 vCPU / 64 MiB / 1 GiB to count against.
        let (status, _) = create(&app, &w.admin, json!({ "name": "base", "template_id": w.template_id })).await;
        assert_eq!(status, StatusCode::CREATED);

        set(json!({ "max_workspaces": 1 })).await;
        let q = refused(json!({ "name": "a", "template_id": w.template_id })).await;
        assert_eq!(q, json!({ "quota": "max_workspaces", "used": 1, "requested": 1, "limit": 1 }));
        set(json!({ "max_workspaces": null, "max_running": 1 })).await;
        let q = refused(json!({ "name": "a", "template_id": w.template_id })).await;
        assert_eq!(q, json!({ "quota": "max_running", "used": 1, "requested": 1, "limit": 1 }));
        set(json!({ "max_running": null, "max_vcpu": 1000 })).await;
        let q = refused(json!({ "name": "a", "template_id": w.template_id, "vcpu": 600 })).await;
        assert_eq!(q, json!({ "quota": "max_vcpu", "used": 500, "requested": 600, "limit": 1000 }));
        set(json!({ "max_vcpu": null, "max_memory_mib": 100 })).await;
        let q = refused(json!({ "name": "a", "template_id": w.template_id })).await;
        assert_eq!(q, json!({ "quota": "max_memory_mib", "used": 64, "requested": 64, "limit": 100 }));
        set(json!({ "max_memory_mib": null, "max_storage_gib": 5 })).await;
        let q = refused(json!({ "name": "a", "template_id": w.template_id, "storage_gib": 5 })).await;
        assert_eq!(q, json!({ "quota": "max_storage_gib", "used": 1, "requested": 5, "limit": 5 }));
        set(json!({ "max_storage_gib": null, "max_workspaces_per_user": 1 })).await;
        let q = refused(json!({ "name": "a", "template_id": w.template_id })).await;
        assert_eq!(q, json!({ "quota": "max_workspaces_per_user", "used": 1, "requested": 1, "limit": 1 }));
        // Another owner still fits.
        let (status, _) = create(&app, &w.admin, json!({ "name": "b", "template_id": w.template_id, "owner_id": w.member_id, "start": false })).await;
        assert_eq!(status, StatusCode::CREATED);

        // A stopped workspace reserves nothing: starting it is what counts.
        set(json!({ "max_workspaces_per_user": null, "max_running": 1 })).await;
        let b = app.get("/api/workspaces").bearer_auth(&w.member).send().await.unwrap().json::<Vec<Value>>().await.unwrap();
        let (status, problem) = action(&app, &w.member, b[0]["id"].as_str().unwrap(), "start").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(problem["quota"]["quota"], "max_running");
        assert!(problem["detail"].as_str().unwrap().contains("allows 1 running workspaces"), "{problem}");

        // A limit below what is used now is refused, and nothing changes.
        let res = app.patch_json(&quotas, &w.platform, json!({ "max_running": 0 })).await;
        assert_problem(res, StatusCode::CONFLICT).await;
        let res = app.get(&quotas).bearer_auth(&w.admin).send().await.unwrap();
        assert_eq!(res.json::<Value>().await.unwrap()["max_running"], 1);
        // Org admins read quotas but do not set them.
        let res = app.patch_json(&quotas, &w.admin, json!({ "max_running": 10 })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
    }

    async fn users_see_and_act_on_their_own_workspaces_only(app: TestApp) {
        let w = world(&app, IDLE).await;
        let (_, mine) = create(&app, &w.admin, json!({ "name": "member box", "template_id": w.template_id, "owner_id": w.member_id })).await;
        let (_, admins) = create(&app, &w.admin, json!({ "name": "admin box", "template_id": w.template_id })).await;
        let listed: Vec<Value> = app.get("/api/workspaces").bearer_auth(&w.member).send().await.unwrap().json().await.unwrap();
        assert_eq!(listed.len(), 1, "{listed:?} {mine}");
        assert_eq!(listed[0]["id"], mine["id"]);
        let res = app.get(&format!("/api/workspaces/{}", admins["id"].as_str().unwrap())).bearer_auth(&w.member).send().await.unwrap();
        assert_problem(res, StatusCode::NOT_FOUND).await;
        let (status, _) = action(&app, &w.member, admins["id"].as_str().unwrap(), "stop").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Self-service is off: the member cannot create their own.
        let (status, _) = create(&app, &w.member, json!({ "name": "mine", "template_id": w.template_id })).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let res = app.patch_json(&format!("/api/organizations/{}", w.org_id), &w.admin, json!({ "self_service_workspaces": true })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let (status, body) = create(&app, &w.member, json!({ "name": "mine", "template_id": w.template_id })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, _) = create(&app, &w.member, json!({ "name": "theirs", "template_id": w.template_id, "owner_id": w.member_id.replace("usr-0", "usr-1") })).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "only for themselves");
        // A template id that names none is "not found", like an id in a path.
        let (status, problem) = create(&app, &w.member, json!({ "name": "nowhere", "template_id": "tpl-00000000-0000-0000-0000-000000000000" })).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
        // And an owner who is nobody in the organization, for an admin too.
        let ghost = json!({ "name": "ghost", "template_id": w.template_id, "owner_id": "usr-00000000-0000-0000-0000-000000000000" });
        let (status, problem) = create(&app, &w.admin, ghost).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");

        // Suspension: the owner sees why and cannot start it.
        let id = mine["id"].as_str().unwrap();
        let res = app.post_json(&format!("/api/workspaces/{id}/suspend"), &w.member, json!({ "reason": "no" })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
        let res = app.post_json(&format!("/api/workspaces/{id}/suspend"), &w.admin, json!({ "reason": "unpaid invoice" })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let ws = until(&app, &w.member, id, false, status_is("suspended")).await;
        assert_eq!(ws["status_reason"], "suspended by admin: unpaid invoice");
        let (status, problem) = action(&app, &w.member, id, "start").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(problem["detail"].as_str().unwrap().contains("unpaid invoice"));
        let (status, _) = action(&app, &w.admin, id, "resume").await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = action(&app, &w.member, id, "start").await;
        assert_eq!(status, StatusCode::OK);

        // Resizing needs it stopped, and stays within the template.
        let res = app.patch_json(&format!("/api/workspaces/{id}"), &w.member, json!({ "memory_mib": 128 })).await;
        assert_problem(res, StatusCode::CONFLICT).await;
        action(&app, &w.member, id, "stop").await;
        let res = app.patch_json(&format!("/api/workspaces/{id}"), &w.member, json!({ "memory_mib": 4096 })).await;
        assert_eq!(assert_problem(res, StatusCode::BAD_REQUEST).await["field"], "memory_mib");
        let res = app.patch_json(&format!("/api/workspaces/{id}"), &w.member, json!({ "memory_mib": 128, "name": "bigger" })).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!((body["memory_mib"].as_i64(), body["name"].as_str()), (Some(128), Some("bigger")));
    }

    async fn another_organizations_workspace_is_not_found_and_the_attempt_recorded(app: TestApp) {
        let w = world(&app, IDLE).await;
        let (_, ws) = create(&app, &w.admin, json!({ "name": "secret project", "template_id": w.template_id })).await;
        let id = ws["id"].as_str().unwrap();
        let (eve, _) = app.register_founder("eve@evil.test", "Eve", "Evil").await;
        for path in [format!("/api/workspaces/{id}"), format!("/api/organizations/{}/usage", w.org_id)] {
            let res = app.get(&path).bearer_auth(&eve).send().await.unwrap();
            assert_problem(res, StatusCode::NOT_FOUND).await;
        }
        let (status, _) = action(&app, &eve, id, "stop").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let listed = app.get(&format!("/api/workspaces?organization_id={}", w.org_id)).bearer_auth(&eve).send().await.unwrap();
        assert_eq!(listed.text().await.unwrap(), "[]");
        let (status, _) = create(&app, &eve, json!({ "name": "x", "template_id": w.template_id, "organization_id": w.org_id })).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(audited(&app, "cross_org_access_denied").await, 4, "get, usage, stop and create each recorded");
        // Still running for its owner.
        assert_eq!(get(&app, &w.admin, id).await["desired_state"], "running");
    }
}

/// The app's reconciler runs once at start-up and then sleeps: the test
/// plays the instances.
const DOCKER_BY_HAND: &[(&str, &str)] = &[("NEOSC_WORKSPACE_ENGINE", "docker"), ("NEOSC_RECONCILE_INTERVAL_MS", "3600000")];

both_backends! {
    env = DOCKER_BY_HAND;

    async fn a_reconciler_that_died_mid_provisioning_is_finished_by_another_with_one_container(app: TestApp) {
        let Some(docker) = engine().await else { return };
        let w = world(&app, IDLE).await;
        // The app's own reconciler sleeps (it ran once at start-up). The
        // "dead" instance takes the new workspace, makes its container and
        // dies before starting it or writing anything: what `kill -9` in
        // the middle of provisioning leaves behind.
        let (_, ws) = create(&app, &w.admin, json!({ "name": "half made", "template_id": w.template_id })).await;
        let id = ws["id"].as_str().unwrap().to_owned();
        let now = app.clock.now();
        {
            let mut db = app.store.begin().await.unwrap();
            let dead = Uuid::now_v7();
            let taken = db.claim_due_workspaces(dead, now, now + chrono::Duration::seconds(60), 100).await.unwrap();
            assert!(taken.contains(&uuid_of(&id)));
            db.commit().await.unwrap();
        }
        let installation = app.store.conn().await.unwrap().default_org().await.unwrap().unwrap().id;
        let spec = neosc::server::engine::ContainerSpec {
            installation,
            workspace_id: uuid_of(&id),
            organization_id: neosc::model::OrgId::parse(&w.org_id).unwrap().0,
            image: IMAGE.into(),
            command: Some(IDLE.iter().map(|s| s.to_string()).collect()),
            vcpu_millicores: 500,
            memory_mib: 64,
            storage_gib: 1,
            network: None,
        };
        docker.ensure(&spec).await.unwrap();
        // While the lease holds, nobody touches it.
        let other = Arc::new(Reconciler::new(app.state.clone(), Pace::default()));
        other.pass(false).await.unwrap();
        assert_eq!(get(&app, &w.admin, &id).await["status"], "provisioning");
        // The lease runs out; the next instance finishes the start.
        app.clock.advance(chrono::Duration::seconds(61));
        assert_eq!(other.pass(false).await.unwrap(), 1);
        let ws = get(&app, &w.admin, &id).await;
        assert_eq!(ws["status"], "running", "{ws}");
        let ours: Vec<_> = docker.list(installation).await.unwrap().into_iter().filter(|f| f.workspace_id == uuid_of(&id)).collect();
        assert_eq!(ours.len(), 1, "one container: {ours:?}");
        assert_eq!(ws["engine_ref"].as_str(), Some(ours[0].container_id.as_str()));
        app.delete(&format!("/api/workspaces/{id}")).bearer_auth(&w.admin).send().await.unwrap();
        other.pass(false).await.unwrap();
        assert_eq!(docker.observe(uuid_of(&id)).await.unwrap(), Observed::Missing);
    }
}

/// The containers carrying the label `neosc.workspace=<id>`, stopped and
/// never-started ones too, whichever installation made them.
async fn containers_labelled(id: &str) -> Vec<String> {
    let docker = bollard::Docker::connect_with_local_defaults().unwrap().negotiate_version().await.unwrap();
    let filters = std::collections::HashMap::from([("label".to_owned(), vec![format!("{LABEL_WORKSPACE}={id}")])]);
    let options = bollard::query_parameters::ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    docker.list_containers(Some(options)).await.unwrap().into_iter().filter_map(|c| c.id).collect()
}

both_backends! {
    env = DOCKER_BY_HAND;

    async fn a_neosc_process_killed_mid_provisioning_is_finished_by_another_with_one_container_each(app: TestApp) {
        let Some(docker) = engine().await else { return };
        let w = world(&app, IDLE).await;
        // Three sizes, so that each container's limits can only be its own.
        let sizes = [(250, 32), (500, 64), (750, 96)];
        let mut ids = Vec::new();
        for (i, (vcpu, memory_mib)) in sizes.iter().enumerate() {
            let body = json!({ "name": format!("crash {i}"), "template_id": w.template_id, "vcpu": vcpu, "memory_mib": memory_mib });
            let (status, ws) = create(&app, &w.admin, body).await;
            assert_eq!((status, ws["status"].as_str()), (StatusCode::CREATED, Some("provisioning")), "{ws}");
            ids.push(ws["id"].as_str().unwrap().to_owned());
        }

        // The first `neosc serve` on this database reaches the engine through
        // a gate that holds every container start: it claims the three,
        // makes their containers and waits on starting them. That is the
        // middle of provisioning, and there it dies by SIGKILL.
        let gate = StartGate::open();
        let host = gate.host();
        let first_env = [("NEOSC_DOCKER_HOST", host.as_str()), ("NEOSC_RECONCILE_INTERVAL_MS", "100"), ("NEOSC_RECONCILE_LEASE_SECS", "5")];
        let mut first = Instance::start("first", &app.database_url, &first_env).await;
        gate.until_held(ids.len()).await;
        let pid = first.pid();
        first.kill();
        eprintln!("killed the first instance (pid {pid}) with SIGKILL while it was starting {} containers", ids.len());

        // What it left: every workspace provisioning and leased to the dead
        // instance, every container made and never started.
        let mut made = Vec::new();
        let mut lease_ends = Vec::new();
        for id in &ids {
            let row = app.store.conn().await.unwrap().workspace_by_id(uuid_of(id)).await.unwrap().unwrap();
            assert_eq!(row.status, WorkspaceStatus::Provisioning, "{id}");
            assert!(row.lease_owner.is_some(), "{id} is still leased to the dead instance");
            lease_ends.push(row.lease_until.expect("a lease has an end"));
            assert_eq!(docker.observe(uuid_of(id)).await.unwrap(), Observed::Created, "{id}: made, not started");
            let found = containers_labelled(id).await;
            assert_eq!(found.len(), 1, "{id}: {found:?}");
            made.push(found[0].clone());
        }
        eprintln!("left behind: {} workspaces provisioning, containers created and not started: {made:?}", ids.len());

        // A second instance, straight on the engine, finishes the job once
        // the dead one's lease runs out.
        let second = Instance::start("second", &app.database_url, &[("NEOSC_RECONCILE_INTERVAL_MS", "100")]).await;
        for (i, id) in ids.iter().enumerate() {
            let ws = until(&app, &w.admin, id, false, status_is("running")).await;
            let found = containers_labelled(id).await;
            assert_eq!(found, vec![made[i].clone()], "{id}: exactly one container, the one the first instance made");
            assert_eq!(ws["engine_ref"].as_str(), Some(made[i].as_str()));
            assert_eq!(docker.observe(uuid_of(id)).await.unwrap(), Observed::Running);
            let limits = docker.limits(uuid_of(id)).await.unwrap().expect("the container's limits");
            let (vcpu, memory_mib) = sizes[i];
            assert_eq!((limits.nano_cpus, limits.memory_bytes), (vcpu * 1_000_000, memory_mib * 1024 * 1024), "{id}");
            // Only once the lease had run out did anyone touch it again.
            let step = ws["events"].as_array().unwrap().iter().find(|e| e["to_status"] == "running").expect("a step to running");
            assert_eq!((step["from_status"].as_str(), &step["actor"]), (Some("provisioning"), &Value::Null), "{step}");
            let at: chrono::DateTime<chrono::Utc> = serde_json::from_value(step["occurred_at"].clone()).unwrap();
            assert!(at > lease_ends[i], "{id} was finished at {at}, before the dead instance's lease ended at {}", lease_ends[i]);
            eprintln!("{id}: running, one container {}, {} nano CPUs, {} bytes", &made[i][..12], limits.nano_cpus, limits.memory_bytes);
        }

        // The second instance also takes them away again.
        for id in &ids {
            let res = app.delete(&format!("/api/workspaces/{id}")).bearer_auth(&w.admin).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        }
        for id in &ids {
            until(&app, &w.admin, id, false, status_is("deleted")).await;
            assert!(containers_labelled(id).await.is_empty(), "{id}: its container is gone");
        }
        drop(second);
    }
}

/// A socket in front of the real engine's that can be cut and restored:
/// an engine that goes away and comes back, without touching the real one.
struct EngineProxy {
    path: std::path::PathBuf,
    up: Arc<std::sync::atomic::AtomicBool>,
    conns: Arc<std::sync::Mutex<tokio::task::JoinSet<()>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl EngineProxy {
    fn start() -> Self {
        use std::sync::atomic::Ordering;
        let path = std::env::temp_dir().join(format!("neosc-engine-{}.sock", Uuid::now_v7().simple()));
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let conns = Arc::new(std::sync::Mutex::new(tokio::task::JoinSet::new()));
        let (flag, set) = (up.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: the engine "does not answer"
                }
                set.lock().unwrap().spawn(async move {
                    if let Ok(mut engine) = tokio::net::UnixStream::connect("/var/run/docker.sock").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
                    }
                });
            }
        });
        Self { path, up, conns, accept }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// Cuts every open connection and refuses new ones.
    fn down(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        self.conns.lock().unwrap().abort_all();
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for EngineProxy {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn an_engine_that_goes_away_gives_unknown_and_503_then_recovers(backend: Backend) {
    if engine().await.is_none() {
        return;
    }
    let proxy = EngineProxy::start();
    let host = proxy.host();
    let env = [("NEOSC_WORKSPACE_ENGINE", "docker"), ("NEOSC_RECONCILE_INTERVAL_MS", "100"), ("NEOSC_DOCKER_HOST", host.as_str())];
    let Some(app) = TestApp::spawn(backend, &env).await else { return };
    let w = world(&app, IDLE).await;
    let (_, ws) = create(&app, &w.admin, json!({ "name": "steady", "template_id": w.template_id })).await;
    let id = ws["id"].as_str().unwrap().to_owned();
    until(&app, &w.admin, &id, false, status_is("running")).await;

    proxy.down();
    let (status, problem) = action(&app, &w.admin, &id, "stop").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("unreachable"));
    let unknown = until(&app, &w.admin, &id, true, status_is("unknown")).await;
    assert!(unknown["status_reason"].as_str().unwrap().contains("unreachable"), "{unknown}");
    assert_eq!(unknown["desired_state"], "running", "nothing was decided while blind");
    // The console itself stays up.
    assert_eq!(app.get("/healthz").send().await.unwrap().status(), StatusCode::OK);

    proxy.restore();
    until(&app, &w.admin, &id, true, status_is("running")).await;
    let (status, _) = action(&app, &w.admin, &id, "stop").await;
    assert_eq!(status, StatusCode::OK);
    app.delete(&format!("/api/workspaces/{id}")).bearer_auth(&w.admin).send().await.unwrap();
    until(&app, &w.admin, &id, false, status_is("deleted")).await;
}

#[test]
fn an_engine_that_goes_away_gives_unknown_and_503_then_recovers_sqlite() {
    runtime().block_on(an_engine_that_goes_away_gives_unknown_and_503_then_recovers(Backend::Sqlite))
}

#[test]
fn an_engine_that_goes_away_gives_unknown_and_503_then_recovers_postgres() {
    runtime().block_on(an_engine_that_goes_away_gives_unknown_and_503_then_recovers(Backend::Postgres))
}
