//! The Docker Engine driver, over the Engine API (`bollard`). A workspace is
//! one container named `neosc-<workspace label>` with a named volume for
//! its home. The fixed name is what makes `ensure` safe after a crash: the
//! engine refuses a second container of that name, so a retry finds the
//! first one instead of making another.

use std::collections::HashMap;

use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, ContainerStateStatusEnum, ContainerUpdateBody, HostConfig, Mount, MountType, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveVolumeOptionsBuilder, StartContainerOptions, StopContainerOptionsBuilder,
};
use bollard::Docker;
use uuid::Uuid;

use super::{
    workspace_label, AppliedLimits, ContainerSpec, EngineError, EngineFuture, EngineResult, Found, Observed, WorkspaceEngine,
    LABEL_INSTALLATION, LABEL_ORGANIZATION, LABEL_WORKSPACE,
};

/// Seconds an Engine API call may take before the engine counts as
/// unreachable.
const TIMEOUT_SECS: u64 = 30;

/// Where a workspace's home volume is mounted.
const HOME: &str = "/home/workspace";

/// Processes one workspace may run: a fork bomb stays inside it.
const PIDS_LIMIT: i64 = 1024;

#[derive(Clone)]
pub struct DockerEngine {
    docker: Docker,
}

impl DockerEngine {
    /// Connects to `host` (`unix:///var/run/docker.sock`, `tcp://…`) and
    /// agrees on an API version both sides speak (this machine's Engine is
    /// older than the client's default).
    pub async fn connect(host: &str) -> EngineResult<Self> {
        let docker = if let Some(path) = host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            Docker::connect_with_http(host, TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
        } else {
            return Err(EngineError::Unavailable(format!("{host:?} is not unix://path or tcp://host:port")));
        }
        .map_err(unavailable)?;
        let docker = docker.negotiate_version().await.map_err(unavailable)?;
        Ok(Self { docker })
    }

    /// A client for `host` that has not talked to the engine yet, speaking
    /// API 1.41 (Engine 20.10 and every later one): for an engine named
    /// explicitly that does not answer at start-up, so it is used as soon
    /// as it does.
    pub fn unconnected(host: &str) -> EngineResult<Self> {
        let version = &bollard::ClientVersion { major_version: 1, minor_version: 41 };
        let docker = if let Some(path) = host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, TIMEOUT_SECS, version)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            Docker::connect_with_http(host, TIMEOUT_SECS, version)
        } else {
            return Err(EngineError::Unavailable(format!("{host:?} is not unix://path or tcp://host:port")));
        }
        .map_err(unavailable)?;
        Ok(Self { docker })
    }

    fn container_name(workspace_id: Uuid) -> String {
        format!("neosc-{}", workspace_label(workspace_id))
    }

    fn volume_name(workspace_id: Uuid) -> String {
        format!("neosc-{}-home", workspace_label(workspace_id))
    }

    async fn create(&self, spec: &ContainerSpec) -> EngineResult<String> {
        let labels = spec.labels();
        let volume = Self::volume_name(spec.workspace_id);
        self.docker
            .create_volume(VolumeCreateRequest { name: Some(volume.clone()), labels: Some(labels.clone()), ..Default::default() })
            .await
            .map_err(refused)?;
        let host_config = HostConfig {
            nano_cpus: Some(spec.nano_cpus()),
            memory: Some(spec.memory_bytes()),
            // No swap beyond the memory limit: the limit is the limit.
            memory_swap: Some(spec.memory_bytes()),
            pids_limit: Some(PIDS_LIMIT),
            network_mode: Some(spec.network.clone().unwrap_or_else(|| "none".into())),
            privileged: Some(false),
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges".into()]),
            init: Some(true),
            mounts: Some(vec![Mount {
                target: Some(HOME.into()),
                source: Some(volume),
                typ: Some(MountType::VOLUME),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: spec.command.clone(),
            labels: Some(labels),
            hostname: Some(workspace_label(spec.workspace_id).chars().take(63).collect()),
            working_dir: Some(HOME.into()),
            host_config: Some(host_config),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(&Self::container_name(spec.workspace_id)).build();
        let created = self.docker.create_container(Some(options), body).await.map_err(refused)?;
        Ok(created.id)
    }

    /// Containers carrying the label `key=value`, stopped ones too.
    async fn labelled(&self, key: &str, value: Option<&str>) -> EngineResult<Vec<bollard::models::ContainerSummary>> {
        let filter = match value {
            Some(v) => format!("{key}={v}"),
            None => key.to_owned(),
        };
        let filters = HashMap::from([("label".to_owned(), vec![filter])]);
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        self.docker.list_containers(Some(options)).await.map_err(refused)
    }
}

/// Transport failures mean "cannot tell"; anything the engine said is a
/// refusal with its words.
fn classify(e: BollardError) -> EngineError {
    match e {
        BollardError::DockerResponseServerError { status_code, message } => {
            EngineError::Refused(format!("{message} (engine status {status_code})"))
        }
        BollardError::JsonDataError { .. } | BollardError::JsonSerdeError { .. } => EngineError::Refused(e.to_string()),
        other => EngineError::Unavailable(other.to_string()),
    }
}

fn unavailable(e: BollardError) -> EngineError {
    match classify(e) {
        EngineError::Refused(m) | EngineError::Unavailable(m) => EngineError::Unavailable(m),
    }
}

fn refused(e: BollardError) -> EngineError {
    classify(e)
}

fn status_of(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// 404 (gone) and 304 (already so) are what an idempotent call wants.
fn done_already(e: &BollardError) -> bool {
    matches!(status_of(e), Some(404 | 304))
}

impl WorkspaceEngine for DockerEngine {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn ping(&self) -> EngineFuture<'_, ()> {
        Box::pin(async move {
            self.docker.ping().await.map_err(unavailable)?;
            Ok(())
        })
    }

    fn ensure<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, String> {
        Box::pin(async move {
            let name = Self::container_name(spec.workspace_id);
            match self.docker.inspect_container(&name, None::<InspectContainerOptions>).await {
                Ok(found) => return found.id.ok_or_else(|| EngineError::Refused("the engine gave no container id".into())),
                Err(e) if status_of(&e) == Some(404) => {}
                Err(e) => return Err(refused(e)),
            }
            match self.create(spec).await {
                Ok(id) => Ok(id),
                // Another reconciler made it between our look and our
                // create: the name guarantees it is the same workspace's.
                Err(EngineError::Refused(m)) if m.contains("status 409") => {
                    let found = self.docker.inspect_container(&name, None::<InspectContainerOptions>).await.map_err(refused)?;
                    found.id.ok_or_else(|| EngineError::Refused("the engine gave no container id".into()))
                }
                Err(e) => Err(e),
            }
        })
    }

    fn start(&self, workspace_id: Uuid) -> EngineFuture<'_, ()> {
        Box::pin(async move {
            match self.docker.start_container(&Self::container_name(workspace_id), None::<StartContainerOptions>).await {
                Ok(()) => Ok(()),
                Err(e) if status_of(&e) == Some(304) => Ok(()),
                Err(e) => Err(refused(e)),
            }
        })
    }

    fn stop(&self, workspace_id: Uuid, grace_secs: i32) -> EngineFuture<'_, ()> {
        Box::pin(async move {
            let options = StopContainerOptionsBuilder::default().t(grace_secs).build();
            match self.docker.stop_container(&Self::container_name(workspace_id), Some(options)).await {
                Ok(()) => Ok(()),
                Err(e) if done_already(&e) => Ok(()),
                Err(e) => Err(refused(e)),
            }
        })
    }

    fn remove(&self, workspace_id: Uuid) -> EngineFuture<'_, ()> {
        Box::pin(async move {
            // By label as well as by name: a container renamed by hand is
            // still ours to remove.
            let label = workspace_label(workspace_id);
            let mut ids: Vec<String> = self.labelled(LABEL_WORKSPACE, Some(&label)).await?.into_iter().filter_map(|c| c.id).collect();
            ids.push(Self::container_name(workspace_id));
            for id in ids {
                let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
                match self.docker.remove_container(&id, Some(options)).await {
                    Ok(()) => {}
                    Err(e) if done_already(&e) => {}
                    Err(e) => return Err(refused(e)),
                }
            }
            let options = RemoveVolumeOptionsBuilder::default().force(true).build();
            match self.docker.remove_volume(&Self::volume_name(workspace_id), Some(options)).await {
                Ok(()) => Ok(()),
                Err(e) if done_already(&e) => Ok(()),
                Err(e) => Err(refused(e)),
            }
        })
    }

    fn observe(&self, workspace_id: Uuid) -> EngineFuture<'_, Observed> {
        Box::pin(async move {
            let found = match self.docker.inspect_container(&Self::container_name(workspace_id), None::<InspectContainerOptions>).await {
                Ok(found) => found,
                Err(e) if status_of(&e) == Some(404) => return Ok(Observed::Missing),
                Err(e) => return Err(refused(e)),
            };
            let state = found.state.unwrap_or_default();
            Ok(match state.status {
                Some(ContainerStateStatusEnum::CREATED) => Observed::Created,
                Some(ContainerStateStatusEnum::RUNNING) => Observed::Running,
                Some(ContainerStateStatusEnum::EXITED) => {
                    Observed::Exited { code: state.exit_code.unwrap_or_default(), oom_killed: state.oom_killed.unwrap_or(false) }
                }
                Some(other) => Observed::Other(other.to_string()),
                None => Observed::Other("unknown".into()),
            })
        })
    }

    fn limits(&self, workspace_id: Uuid) -> EngineFuture<'_, Option<AppliedLimits>> {
        Box::pin(async move {
            let found = match self.docker.inspect_container(&Self::container_name(workspace_id), None::<InspectContainerOptions>).await {
                Ok(found) => found,
                Err(e) if status_of(&e) == Some(404) => return Ok(None),
                Err(e) => return Err(refused(e)),
            };
            let host = found.host_config.unwrap_or_default();
            Ok(Some(AppliedLimits { nano_cpus: host.nano_cpus.unwrap_or_default(), memory_bytes: host.memory.unwrap_or_default() }))
        })
    }

    fn list(&self, installation: Uuid) -> EngineFuture<'_, Vec<Found>> {
        Box::pin(async move {
            let containers = self.labelled(LABEL_INSTALLATION, Some(&installation.to_string())).await?;
            Ok(containers
                .into_iter()
                .filter_map(|c| {
                    let labels = c.labels.unwrap_or_default();
                    let workspace_id = labels.get(LABEL_WORKSPACE).and_then(|l| crate::model::WorkspaceId::parse(l))?.0;
                    let organization_id = labels.get(LABEL_ORGANIZATION).and_then(|l| crate::model::OrgId::parse(l)).map(|o| o.0);
                    Some(Found { container_id: c.id?, workspace_id, organization_id })
                })
                .collect())
        })
    }

    fn apply_limits<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, ()> {
        Box::pin(async move {
            let body = ContainerUpdateBody {
                nano_cpus: Some(spec.nano_cpus()),
                memory: Some(spec.memory_bytes()),
                memory_swap: Some(spec.memory_bytes()),
                ..Default::default()
            };
            self.docker.update_container(&Self::container_name(spec.workspace_id), body).await.map_err(refused)
        })
    }

    fn has_image<'a>(&'a self, image: &'a str) -> EngineFuture<'a, bool> {
        Box::pin(async move {
            match self.docker.inspect_image(image).await {
                Ok(_) => Ok(true),
                Err(e) if status_of(&e) == Some(404) => Ok(false),
                Err(e) => Err(refused(e)),
            }
        })
    }
}
