//! What must exist before the first request: the default organization, a
//! platform admin, and (on request) the product spec's demo data. Safe to
//! run on every start and from several instances at once: each step checks
//! first and treats "someone else just created it" as done.

use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::auth::insert_member;
use super::orgs::{create_org, org_target};
use super::workspaces::NO_ENGINE;
use crate::model::{DesiredState, Email, OrgName, Password, Role, UserId, WorkspaceId, WorkspaceStatus};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::token::random_token;
use crate::server::db::{Intent, NewUser, NewWorkspace, OrgRecord, QuotaLimits, TemplateRecord};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

pub const DEFAULT_ORG_NAME: &str = "Default Organization";

pub async fn run(state: &AppState) -> ServiceResult<()> {
    let default_org = ensure_default_org(state).await?;
    ensure_platform_admin(state, &default_org).await?;
    if state.config.demo {
        load_demo(state).await?;
    }
    Ok(())
}

fn system() -> RequestMeta {
    RequestMeta { ip: None, user_agent: Some("neosc bootstrap".into()), operator: false, ..Default::default() }
}

pub async fn ensure_default_org(state: &AppState) -> ServiceResult<OrgRecord> {
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    if let Some(org) = db.default_org().await? {
        return Ok(org);
    }
    let name = OrgName::parse(DEFAULT_ORG_NAME)?;
    let org = create_org(&mut db, &name, &state.config.default_domain, true, now).await?;
    audit::record(
        &mut db,
        now,
        &system(),
        Event {
            org: Some(org.id),
            actor: None,
            action: action::CREATE_ORGANIZATION,
            target: Some(org_target(&org)),
            details: json!({ "name": org.name, "domain": org.domain, "source": "bootstrap" }),
        },
    )
    .await?;
    db.commit().await?;
    tracing::info!(domain = %org.domain, "created the default organization");
    Ok(org)
}

/// Creates the first platform admin from `NEOSC_ADMIN_EMAIL` /
/// `NEOSC_ADMIN_PASSWORD`. Without a password a strong one is generated
/// and printed once; there is never a fixed default.
async fn ensure_platform_admin(state: &AppState, default_org: &OrgRecord) -> ServiceResult<()> {
    if state.store.conn().await?.count_users_with_role(Role::PlatformAdmin).await? > 0 {
        return Ok(());
    }
    let raw_email = state.config.admin_email.clone().unwrap_or_else(|| format!("admin@{}", default_org.domain));
    let email = Email::parse(&raw_email).map_err(|e| ServiceError::validation(format!("NEOSC_ADMIN_EMAIL: {}", e.message)))?;
    let (password, generated) = match &state.config.admin_password {
        Some(p) => (p.clone(), false),
        None => (random_token(), true),
    };
    let password = Password::parse(&password, &email, state.config.password_policy)
        .map_err(|e| ServiceError::validation(format!("NEOSC_ADMIN_PASSWORD: {}", e.message)))?;
    let hash = state.hasher.hash(password.expose().to_owned()).await?;
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    if db.count_users_with_role(Role::PlatformAdmin).await? > 0 {
        return Ok(());
    }
    if db.user_by_email(email.as_str()).await?.is_some() {
        return Err(ServiceError::Conflict(format!(
            "NEOSC_ADMIN_EMAIL {email} belongs to an existing account; choose another address for the first platform admin \
             (or promote that account with the admin CLI)."
        )));
    }
    let id = Uuid::now_v7();
    insert_member(
        &mut db,
        default_org,
        &NewUser {
            id,
            organization_id: default_org.id,
            email: email.as_str(),
            name: "Platform Admin",
            password_hash: Some(&hash),
            role: Role::PlatformAdmin,
            // The operator set this address; nobody else chose it.
            email_verified_at: Some(now),
            now,
        },
    )
    .await?;
    audit::record(
        &mut db,
        now,
        &system(),
        Event {
            org: Some(default_org.id),
            actor: None,
            action: action::CREATE_PLATFORM_ADMIN,
            target: Some(Target { kind: "user", id: UserId(id).to_string() }),
            details: json!({ "email": email.as_str(), "source": "bootstrap" }),
        },
    )
    .await?;
    db.commit().await?;
    if generated {
        // Printed once, on purpose: this is the only copy.
        tracing::warn!("created platform admin {email} with a generated password, printed below this once");
        println!("\n  NeoSC platform admin: {email}\n  password (shown once): {}\n", password.expose());
    } else {
        tracing::info!("created platform admin {email} from NEOSC_ADMIN_EMAIL/NEOSC_ADMIN_PASSWORD");
    }
    Ok(())
}

/// The organizations of the product spec's response example, with as many
/// real users and workspaces as its counts say, and how many of those run.
const DEMO_ORGS: [(&str, &str, usize, usize, usize); 2] =
    [("Neogenesys", "neogenesys.com", 45, 12, 4), ("Partner Corp", "partnercorp.com", 8, 3, 1)];

/// The demo's quotas: `(max_workspaces, max_running, max_vcpu, max_memory_mib,
/// max_storage_gib, max_workspaces_per_user)`, room to try things within.
const DEMO_QUOTAS: [QuotaLimits; 2] = [
    QuotaLimits {
        max_workspaces: Some(20),
        max_running: Some(8),
        max_vcpu: Some(4000),
        max_memory_mib: Some(2048),
        max_storage_gib: Some(100),
        max_workspaces_per_user: Some(3),
    },
    QuotaLimits {
        max_workspaces: Some(5),
        max_running: Some(2),
        max_vcpu: Some(1000),
        max_memory_mib: Some(512),
        max_storage_gib: Some(20),
        max_workspaces_per_user: Some(2),
    },
];

/// The image `make run` builds (scripts/workspace-engine.sh).
pub const DEMO_IMAGE: &str = "neosc/workspace-busybox:dev";
/// Keeps a minimal image busy until stopped, and stops at once when asked.
const IDLE_COMMAND: &str = r#"["sh","-c","trap 'exit 0' TERM; while :; do sleep 1; done"]"#;

/// `(vCPU in thousandths, memory MiB, storage GiB)`.
type Size = (i64, i64, i64);

/// `(name, description, defaults, maxima)`.
const DEMO_TEMPLATES: [(&str, &str, Size, Size); 2] = [
    ("Shell", "A BusyBox shell with a persistent home: small and quick to start.", (250, 64, 1), (1000, 512, 10)),
    ("Build box", "More CPU and memory for builds and data work.", (1000, 256, 5), (4000, 2048, 50)),
];

const FIRST_NAMES: [&str; 12] =
    ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Linus", "Radia", "Tim"];
const LAST_NAMES: [&str; 8] = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Ritchie"];

async fn load_demo(state: &AppState) -> ServiceResult<()> {
    let admin_password = random_token();
    let hash = state.hasher.hash(admin_password.clone()).await?;
    let mut admins = Vec::new();
    let templates = demo_templates(state).await?;
    for ((name, domain, users, workspaces, running), quotas) in DEMO_ORGS.into_iter().zip(DEMO_QUOTAS) {
        let now = state.clock.now();
        let mut db = state.store.begin().await?;
        if db.org_by_name(name).await?.is_some() {
            continue;
        }
        let org = create_org(&mut db, &OrgName::parse(name)?, domain, false, now).await?;
        let mut member_ids = Vec::new();
        audit::record(
            &mut db,
            now,
            &system(),
            Event {
                org: Some(org.id),
                actor: None,
                action: action::CREATE_ORGANIZATION,
                target: Some(org_target(&org)),
                details: json!({ "name": name, "domain": domain, "source": "demo" }),
            },
        )
        .await?;
        // Vouched for as an operator would (`neosc org verify-domain`), so
        // the demo shows auto-join: registering at its domain joins it.
        if let Some(claim) = db.org_domain(org.id, domain).await? {
            super::org_domains::mark_verified(&mut db, &org, &claim, crate::model::DomainMethod::Operator, None, now, &system()).await?;
        }
        for i in 0..users {
            let first = FIRST_NAMES[i % FIRST_NAMES.len()];
            let last = LAST_NAMES[(i / FIRST_NAMES.len()) % LAST_NAMES.len()];
            let email = format!("{}.{}{}@{domain}", first.to_lowercase(), last.to_lowercase(), i + 1);
            // The first member administers the organization and can sign in;
            // the others are directory entries without a password.
            let (role, password_hash) = if i == 0 { (Role::OrgAdmin, Some(hash.as_str())) } else { (Role::User, None) };
            let id = Uuid::now_v7();
            insert_member(
                &mut db,
                &org,
                &NewUser {
                    id,
                    organization_id: org.id,
                    email: &email,
                    name: &format!("{first} {last}"),
                    password_hash,
                    role,
                    // Demo data the operator asked for.
                    email_verified_at: Some(now),
                    now,
                },
            )
            .await?;
            audit::record(
                &mut db,
                now,
                &system(),
                Event {
                    org: Some(org.id),
                    actor: None,
                    action: action::ADD_USER_TO_ORG,
                    target: Some(Target { kind: "user", id: UserId(id).to_string() }),
                    details: json!({ "email": email, "role": role, "source": "demo" }),
                },
            )
            .await?;
            if i == 0 {
                admins.push(email);
            }
            member_ids.push(id);
        }
        db.set_quota_limits(org.id, &quotas).await?;
        for i in 0..workspaces {
            let ws_name = format!("{name} workspace {}", i + 1);
            // Shells, every fourth a build box; owners round the members.
            let template = &templates[usize::from(i % 4 == 3)];
            let start = i < running;
            let id = Uuid::now_v7();
            db.insert_workspace(&NewWorkspace {
                id,
                organization_id: org.id,
                owner_id: Some(member_ids[i % member_ids.len()]),
                template_id: Some(template.id),
                name: &ws_name,
                vcpu_millicores: template.default_vcpu,
                memory_mib: template.default_memory_mib,
                storage_gib: template.default_storage_gib,
                desired_state: if start { DesiredState::Running } else { DesiredState::Stopped },
                now,
            })
            .await?;
            let (status, reason) = match (start, state.engine.is_some()) {
                (true, true) => (WorkspaceStatus::Provisioning, "demo data"),
                (true, false) => (WorkspaceStatus::Pending, NO_ENGINE),
                (false, _) => (WorkspaceStatus::Stopped, "demo data; not started yet"),
            };
            let intent = Intent {
                desired_state: if start { DesiredState::Running } else { DesiredState::Stopped },
                status,
                status_reason: reason,
                suspended_reason: None,
                intent_reason: "demo data",
                autostop_at: None,
                now,
            };
            db.set_workspace_intent(id, &intent).await?;
            audit::record(
                &mut db,
                now,
                &system(),
                Event {
                    org: Some(org.id),
                    actor: None,
                    action: action::CREATE_WORKSPACE,
                    target: Some(Target { kind: "workspace", id: WorkspaceId(id).to_string() }),
                    details: json!({ "name": ws_name, "template_name": template.name, "start": start, "source": "demo" }),
                },
            )
            .await?;
        }
        db.commit().await?;
    }
    if !admins.is_empty() && state.engine.is_none() {
        println!("\n  No workspace engine: the demo's workspaces stay pending (run `make run`, which starts Docker).");
    }
    if !admins.is_empty() {
        println!("\n  Demo data loaded. Organization admins {} sign in with password (shown once): {admin_password}\n", admins.join(", "));
    }
    Ok(())
}

/// The demo's templates, made once (found by name on later starts).
async fn demo_templates(state: &AppState) -> ServiceResult<Vec<TemplateRecord>> {
    let mut db = state.store.begin().await?;
    let existing = db.list_templates().await?;
    let mut out = Vec::new();
    for (name, description, default, max) in DEMO_TEMPLATES {
        if let Some(t) = existing.iter().find(|t| t.name == name) {
            out.push(t.clone());
            continue;
        }
        let t = TemplateRecord {
            id: Uuid::now_v7(),
            name: name.into(),
            description: description.into(),
            image: DEMO_IMAGE.into(),
            command: Some(IDLE_COMMAND.into()),
            default_vcpu: default.0,
            default_memory_mib: default.1,
            default_storage_gib: default.2,
            max_vcpu: max.0,
            max_memory_mib: max.1,
            max_storage_gib: max.2,
            created_at: state.clock.now(),
        };
        db.insert_template(&t).await?;
        out.push(t);
    }
    db.commit().await?;
    Ok(out)
}
