//! The Docker driver against the real Docker Engine at NEOSC_TEST_DOCKER_HOST
//! (default the local socket) with the image `make test` builds
//! (`neosc/workspace-busybox:dev`). Outside CI an unreachable engine skips
//! with a SKIPPED line; with CI=true it fails.

use neosc::server::engine::{ContainerSpec, DockerEngine, EngineError, Observed, WorkspaceEngine};
use uuid::Uuid;

pub const IMAGE: &str = "neosc/workspace-busybox:dev";

/// The engine to test against, or None (skip) outside CI when none answers.
pub async fn engine() -> Option<DockerEngine> {
    let host = std::env::var("NEOSC_TEST_DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let connected = match DockerEngine::connect(&host).await {
        Ok(e) => e.ping().await.map(|()| e),
        Err(e) => Err(e),
    };
    match connected {
        Ok(e) => Some(e),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("CI needs the Docker Engine at {host}: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: no Docker Engine at {host}: {e}");
            None
        }
    }
}

fn spec(memory_mib: i64, command: &[&str]) -> ContainerSpec {
    ContainerSpec {
        installation: Uuid::now_v7(),
        workspace_id: Uuid::now_v7(),
        organization_id: Uuid::now_v7(),
        image: IMAGE.into(),
        command: Some(command.iter().map(|s| s.to_string()).collect()),
        vcpu_millicores: 250,
        memory_mib,
        storage_gib: 1,
        network: None,
    }
}

const IDLE: &[&str] = &["sh", "-c", "while :; do sleep 1; done"];

/// Waits (bounded) until the engine reports something other than running.
async fn until_not_running(engine: &DockerEngine, id: Uuid) -> Observed {
    for _ in 0..100 {
        let seen = engine.observe(id).await.unwrap();
        if seen != Observed::Running {
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    engine.observe(id).await.unwrap()
}

#[tokio::test]
async fn a_workspace_container_runs_with_the_limits_of_its_size_and_goes_away_whole() {
    let Some(engine) = engine().await else { return };
    let s = spec(64, IDLE);
    assert_eq!(engine.observe(s.workspace_id).await.unwrap(), Observed::Missing);

    let first = engine.ensure(&s).await.unwrap();
    let again = engine.ensure(&s).await.unwrap();
    assert_eq!(first, again, "ensure twice is one container");
    assert_eq!(engine.observe(s.workspace_id).await.unwrap(), Observed::Created);

    engine.start(s.workspace_id).await.unwrap();
    engine.start(s.workspace_id).await.unwrap();
    assert_eq!(engine.observe(s.workspace_id).await.unwrap(), Observed::Running);
    let limits = engine.limits(s.workspace_id).await.unwrap().unwrap();
    assert_eq!(limits.nano_cpus, 250_000_000, "0.25 CPU");
    assert_eq!(limits.memory_bytes, 64 * 1024 * 1024);

    let ours: Vec<_> = engine.list(s.installation).await.unwrap().into_iter().filter(|f| f.workspace_id == s.workspace_id).collect();
    assert_eq!(ours.len(), 1, "found by label: {ours:?}");
    assert_eq!(ours[0].container_id, first);
    assert_eq!(ours[0].organization_id, Some(s.organization_id));

    engine.stop(s.workspace_id, 1).await.unwrap();
    engine.stop(s.workspace_id, 1).await.unwrap();
    assert!(matches!(engine.observe(s.workspace_id).await.unwrap(), Observed::Exited { oom_killed: false, .. }));

    engine.remove(s.workspace_id).await.unwrap();
    engine.remove(s.workspace_id).await.unwrap();
    assert_eq!(engine.observe(s.workspace_id).await.unwrap(), Observed::Missing);
    assert!(engine.list(s.installation).await.unwrap().iter().all(|f| f.workspace_id != s.workspace_id));
}

#[tokio::test]
async fn a_memory_hog_is_killed_by_the_kernel_and_the_engine_says_so() {
    let Some(engine) = engine().await else { return };
    // 32 MiB of limit; the shell doubles a string until it holds far more.
    let s = spec(32, &["sh", "-c", "x=aaaaaaaaaaaaaaaa; while :; do x=\"$x$x\"; done"]);
    engine.ensure(&s).await.unwrap();
    engine.start(s.workspace_id).await.unwrap();
    let seen = until_not_running(&engine, s.workspace_id).await;
    engine.remove(s.workspace_id).await.unwrap();
    assert_eq!(seen, Observed::Exited { code: 137, oom_killed: true });
}

#[tokio::test]
async fn an_image_that_is_not_there_is_refused_in_the_engines_words() {
    let Some(engine) = engine().await else { return };
    let mut s = spec(64, IDLE);
    s.image = "neosc/no-such-image:never".into();
    let err = engine.ensure(&s).await.unwrap_err();
    engine.remove(s.workspace_id).await.unwrap();
    match err {
        EngineError::Refused(m) => assert!(m.contains("no-such-image"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_engine_that_does_not_answer_is_unavailable_not_a_refusal() {
    let err = match DockerEngine::connect("unix:///nonexistent/docker.sock").await {
        Ok(e) => e.ping().await.unwrap_err(),
        Err(e) => e,
    };
    assert!(matches!(err, EngineError::Unavailable(_)), "{err:?}");
}
