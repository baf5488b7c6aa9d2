//! Workspace quotas are held by the database in the transaction that
//! changes a workspace, so they are exact under any concurrency, on both
//! backends. These tests drive the store directly: the rule under test is
//! the schema's (triggers and named CHECKs), whatever code path calls it.

use chrono::Utc;
use neosc::model::{DesiredState, OrgId, UserId};
use neosc::server::db::{Constraint, NewWorkspace, QuotaLimits};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::*;

/// The platform admin's organization and user ids.
async fn admin_ids(app: &TestApp) -> (Uuid, Uuid) {
    let token = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let me: Value = app.me(&token).await.json().await.unwrap();
    let org = OrgId::parse(me["organization_id"].as_str().unwrap()).unwrap().0;
    let user = UserId::parse(me["id"].as_str().unwrap()).unwrap().0;
    (org, user)
}

fn workspace(org: Uuid, owner: Option<Uuid>, name: &str, desired: DesiredState) -> NewWorkspace<'_> {
    NewWorkspace {
        id: Uuid::now_v7(),
        organization_id: org,
        owner_id: owner,
        template_id: None,
        name,
        vcpu_millicores: 500,
        memory_mib: 256,
        storage_gib: 2,
        desired_state: desired,
        now: Utc::now(),
    }
}

async fn set_limits(app: &TestApp, org: Uuid, limits: QuotaLimits) -> Result<(), Option<Constraint>> {
    let mut db = app.store.begin().await.unwrap();
    match db.set_quota_limits(org, &limits).await {
        Ok(_) => {
            db.commit().await.unwrap();
            Ok(())
        }
        Err(e) => Err(e.constraint()),
    }
}

async fn allocate(app: &TestApp, new: &NewWorkspace<'_>) -> Result<(), Option<Constraint>> {
    let mut db = app.store.begin().await.unwrap();
    match db.insert_workspace(new).await {
        Ok(()) => {
            db.commit().await.unwrap();
            Ok(())
        }
        Err(e) => Err(e.constraint()),
    }
}

both_backends! {
    async fn twenty_concurrent_starts_under_max_running_5_start_exactly_5(app: TestApp) {
        let (org, _) = admin_ids(&app).await;
        set_limits(&app, org, QuotaLimits { max_running: Some(5), ..Default::default() }).await.unwrap();
        let names: Vec<String> = (0..20).map(|i| format!("ws-{i}")).collect();
        let mut ids = Vec::new();
        for name in &names {
            let new = workspace(org, None, name, DesiredState::Stopped);
            ids.push(new.id);
            allocate(&app, &new).await.unwrap();
        }
        let starts = ids.into_iter().map(|id| {
            let store = app.store.clone();
            tokio::spawn(async move {
                let mut db = store.begin().await.unwrap();
                match db.set_workspace_desired_state(org, id, DesiredState::Running, Utc::now()).await {
                    Ok(found) => {
                        assert!(found);
                        db.commit().await.unwrap();
                        Ok(())
                    }
                    Err(e) => Err(e.constraint()),
                }
            })
        });
        let results: Vec<_> = futures_join(starts).await;
        let started = results.iter().filter(|r| r.is_ok()).count();
        let refused = results.iter().filter(|r| **r == Err(Some(Constraint::QuotaRunning))).count();
        assert_eq!((started, refused), (5, 15), "{results:?}");
        let quotas = app.store.conn().await.unwrap().quotas_of(org).await.unwrap().unwrap();
        assert_eq!(quotas.running_used, 5);
        assert_eq!(quotas.vcpu_used, 5 * 500);
        assert_eq!(quotas.memory_mib_used, 5 * 256);
        assert_eq!(quotas.workspaces_used, 20);
        assert_eq!(quotas.storage_gib_used, 20 * 2);
    }

    async fn every_quota_refuses_by_its_name_and_releases_on_stop_and_delete(app: TestApp) {
        let (org, admin) = admin_ids(&app).await;
        let limits = QuotaLimits {
            max_workspaces: Some(3),
            max_running: Some(2),
            max_vcpu: Some(2000),
            max_memory_mib: Some(1024),
            max_storage_gib: Some(10),
            max_workspaces_per_user: Some(2),
        };
        set_limits(&app, org, limits).await.unwrap();

        let a = workspace(org, Some(admin), "a", DesiredState::Running);
        let b = workspace(org, Some(admin), "b", DesiredState::Running);
        allocate(&app, &a).await.unwrap();
        allocate(&app, &b).await.unwrap();
        assert_eq!(allocate(&app, &workspace(org, Some(admin), "c", DesiredState::Stopped)).await, Err(Some(Constraint::QuotaWorkspacesPerUser)));
        assert_eq!(allocate(&app, &workspace(org, None, "c", DesiredState::Running)).await, Err(Some(Constraint::QuotaRunning)));
        let mut big = workspace(org, None, "c", DesiredState::Stopped);
        big.storage_gib = 7;
        assert_eq!(allocate(&app, &big).await, Err(Some(Constraint::QuotaStorage)));
        assert_eq!(allocate(&app, &workspace(org, None, "a", DesiredState::Stopped)).await, Err(Some(Constraint::WorkspaceName)));
        let c_ws = workspace(org, None, "c", DesiredState::Stopped);
        allocate(&app, &c_ws).await.unwrap();
        assert_eq!(allocate(&app, &workspace(org, None, "d", DesiredState::Stopped)).await, Err(Some(Constraint::QuotaWorkspaces)));

        // vCPU and memory: more room for running, less for the sizes.
        set_limits(&app, org, QuotaLimits { max_running: Some(3), max_vcpu: Some(1000), max_memory_mib: Some(700), ..limits }).await.unwrap();
        let used = app.store.conn().await.unwrap().quotas_of(org).await.unwrap().unwrap();
        assert_eq!((used.running_used, used.vcpu_used, used.memory_mib_used), (2, 1000, 512));
        set_limits(&app, org, QuotaLimits { max_running: Some(3), max_vcpu: Some(1500), max_memory_mib: Some(700), ..limits }).await.unwrap();
        let mut db = app.store.begin().await.unwrap();
        let third = c_ws.id;
        let err = db.set_workspace_desired_state(org, third, DesiredState::Running, Utc::now()).await.unwrap_err();
        assert_eq!(err.constraint(), Some(Constraint::QuotaMemory));
        drop(db);
        set_limits(&app, org, QuotaLimits { max_running: Some(3), max_vcpu: Some(1200), max_memory_mib: Some(1000), ..limits }).await.unwrap();
        let mut db = app.store.begin().await.unwrap();
        let err = db.set_workspace_desired_state(org, third, DesiredState::Running, Utc::now()).await.unwrap_err();
        assert_eq!(err.constraint(), Some(Constraint::QuotaVcpu));
        drop(db);

        // A limit below what is used is refused, not silently exceeded.
        assert_eq!(set_limits(&app, org, QuotaLimits { max_running: Some(1), ..limits }).await, Err(Some(Constraint::QuotaRunning)));

        // Stopping releases vCPU and memory; deleting releases count,
        // storage and the owner's allowance, and the name.
        let mut db = app.store.begin().await.unwrap();
        assert!(db.set_workspace_desired_state(org, a.id, DesiredState::Stopped, Utc::now()).await.unwrap());
        assert!(db.set_workspace_desired_state(org, b.id, DesiredState::Deleted, Utc::now()).await.unwrap());
        let q = db.quotas_of(org).await.unwrap().unwrap();
        db.commit().await.unwrap();
        assert_eq!((q.running_used, q.vcpu_used, q.memory_mib_used), (0, 0, 0));
        assert_eq!((q.workspaces_used, q.storage_gib_used), (2, 4));
        allocate(&app, &workspace(org, Some(admin), "b", DesiredState::Stopped)).await.unwrap();

        let mut db = app.store.conn().await.unwrap();
        assert_eq!(db.count_workspaces(org).await.unwrap(), 3);
        let token = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let listed = app.orgs(&token).await;
        assert_eq!(listed[0]["workspaces_count"], 3, "the organization's count follows deletion");
    }

    async fn another_organizations_workspace_is_not_changed(app: TestApp) {
        let (org, _) = admin_ids(&app).await;
        let new = workspace(org, None, "mine", DesiredState::Stopped);
        allocate(&app, &new).await.unwrap();
        let mut db = app.store.begin().await.unwrap();
        let other = Uuid::now_v7();
        assert!(!db.set_workspace_desired_state(other, new.id, DesiredState::Running, Utc::now()).await.unwrap());
    }
}

/// Awaits every task, keeping their results in order.
async fn futures_join<T: Send + 'static>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        out.push(t.await.unwrap());
    }
    out
}
