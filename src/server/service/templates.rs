//! Workspace templates: what workspaces are made from. Everyone signed in
//! may read them (the create dialog lists them); platform admins add them.

use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::Principal;
use crate::model::{NewTemplateRequest, Role, TemplateId, ValidationError, WorkspaceSize, WorkspaceTemplate, LARGEST_SIZE, MIN_MEMORY_MIB};
use crate::server::auth::credentials::RequestMeta;
use crate::server::db::{Constraint, TemplateRecord};
use crate::server::engine::EngineError;
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

pub fn view(r: &TemplateRecord) -> WorkspaceTemplate {
    WorkspaceTemplate {
        id: TemplateId(r.id),
        name: r.name.clone(),
        description: r.description.clone(),
        image: r.image.clone(),
        command: r.command.as_deref().and_then(|c| serde_json::from_str(c).ok()),
        default_vcpu: r.default_vcpu,
        default_memory_mib: r.default_memory_mib,
        default_storage_gib: r.default_storage_gib,
        max_vcpu: r.max_vcpu,
        max_memory_mib: r.max_memory_mib,
        max_storage_gib: r.max_storage_gib,
    }
}

pub async fn list(state: &AppState, _principal: &Principal) -> ServiceResult<Vec<WorkspaceTemplate>> {
    Ok(state.store.conn().await?.list_templates().await?.iter().map(view).collect())
}

fn check(req: &NewTemplateRequest) -> Result<(String, String), ValidationError> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ValidationError::new("name", "A template name has 1 to 80 characters."));
    }
    let image = req.image.trim();
    // A reference as Docker writes it: registry/path:tag or @digest, no
    // spaces or control characters.
    if image.is_empty() || image.len() > 255 || !image.chars().all(|c| c.is_ascii_alphanumeric() || "/:._-@".contains(c)) {
        return Err(ValidationError::new("image", "Name a local image, e.g. neosc/workspace-busybox:dev."));
    }
    if req.description.chars().count() > 500 {
        return Err(ValidationError::new("description", "A description has at most 500 characters."));
    }
    if let Some(cmd) = &req.command {
        if cmd.is_empty() || cmd.len() > 64 || cmd.iter().any(|a| a.len() > 4096 || a.contains('\0')) {
            return Err(ValidationError::new("command", "A command is 1 to 64 arguments of at most 4096 characters."));
        }
    }
    let bounds = [
        ("max_vcpu", req.max_vcpu, 1, LARGEST_SIZE.vcpu),
        ("max_memory_mib", req.max_memory_mib, MIN_MEMORY_MIB, LARGEST_SIZE.memory_mib),
        ("max_storage_gib", req.max_storage_gib, 1, LARGEST_SIZE.storage_gib),
        ("default_vcpu", req.default_vcpu, 1, req.max_vcpu),
        ("default_memory_mib", req.default_memory_mib, MIN_MEMORY_MIB, req.max_memory_mib),
        ("default_storage_gib", req.default_storage_gib, 1, req.max_storage_gib),
    ];
    for (field, value, min, max) in bounds {
        if !(min..=max).contains(&value) {
            return Err(ValidationError::new(field, format!("{field} must be between {min} and {max}.")));
        }
    }
    Ok((name.to_owned(), image.to_owned()))
}

/// Adds a template (platform admins). With an engine connected the image
/// must be there already: NeoSC never pulls from a registry.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    req: &NewTemplateRequest,
    meta: &RequestMeta,
) -> ServiceResult<WorkspaceTemplate> {
    if principal.role != Role::PlatformAdmin {
        let error = ServiceError::Forbidden("Only a platform admin can add workspace templates.".into());
        return Err(audit::refuse(state, principal, meta, "create_workspace_template", "not_a_platform_admin", None, error).await);
    }
    let (name, image) = check(req)?;
    if let Some(engine) = &state.engine {
        match engine.has_image(&image).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(ServiceError::Validation {
                    field: Some("image"),
                    message: format!("The engine has no image {image}; NeoSC never pulls images, so load it on the engine first."),
                })
            }
            Err(EngineError::Unavailable(_)) => {
                return Err(ServiceError::Unavailable {
                    message: "The workspace engine is unreachable, so the image cannot be checked; try again shortly.".into(),
                    retry_after_secs: 5,
                })
            }
            Err(EngineError::Refused(why)) => return Err(ServiceError::Validation { field: Some("image"), message: why }),
        }
    }
    let now = state.clock.now();
    let record = TemplateRecord {
        id: Uuid::now_v7(),
        name,
        description: req.description.trim().to_owned(),
        image,
        command: req.command.as_ref().map(|c| serde_json::to_string(c).expect("strings serialise")),
        default_vcpu: req.default_vcpu,
        default_memory_mib: req.default_memory_mib,
        default_storage_gib: req.default_storage_gib,
        max_vcpu: req.max_vcpu,
        max_memory_mib: req.max_memory_mib,
        max_storage_gib: req.max_storage_gib,
        created_at: now,
    };
    let mut db = state.store.begin().await?;
    db.insert_template(&record).await.map_err(|e| match e.constraint() {
        Some(Constraint::TemplateName) => ServiceError::Conflict(format!("A template named “{}” exists already.", record.name)),
        _ => e.into(),
    })?;
    let size = |v, m, s| WorkspaceSize { vcpu: v, memory_mib: m, storage_gib: s };
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: None,
            actor: Some(principal.user.id),
            action: action::CREATE_WORKSPACE_TEMPLATE,
            target: Some(Target { kind: "workspace_template", id: TemplateId(record.id).to_string() }),
            details: json!({ "name": record.name, "image": record.image,
                "default": size(record.default_vcpu, record.default_memory_mib, record.default_storage_gib),
                "max": size(record.max_vcpu, record.max_memory_mib, record.max_storage_gib) }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(view(&record))
}
