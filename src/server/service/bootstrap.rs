//! What must exist before the first request: the default organization, a
//! platform admin, and (on request) the product spec's demo data. Safe to
//! run on every start and from several instances at once: each step checks
//! first and treats "someone else just created it" as done.

use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::auth::insert_member;
use super::orgs::{create_org, org_target};
use crate::model::{Email, OrgName, Password, Role, UserId};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::token::random_token;
use crate::server::db::{NewUser, OrgRecord};
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
    RequestMeta { ip: None, user_agent: Some("neosc bootstrap".into()) }
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
/// real users and workspaces as its counts say.
const DEMO_ORGS: [(&str, &str, usize, usize); 2] = [("Neogenesys", "neogenesys.com", 45, 12), ("Partner Corp", "partnercorp.com", 8, 3)];

const FIRST_NAMES: [&str; 12] =
    ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Linus", "Radia", "Tim"];
const LAST_NAMES: [&str; 8] = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Ritchie"];

async fn load_demo(state: &AppState) -> ServiceResult<()> {
    let admin_password = random_token();
    let hash = state.hasher.hash(admin_password.clone()).await?;
    let mut admins = Vec::new();
    for (name, domain, users, workspaces) in DEMO_ORGS {
        let now = state.clock.now();
        let mut db = state.store.begin().await?;
        if db.org_by_name(name).await?.is_some() {
            continue;
        }
        let org = create_org(&mut db, &OrgName::parse(name)?, domain, false, now).await?;
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
        }
        for i in 0..workspaces {
            let ws_name = format!("{name} workspace {}", i + 1);
            let id = db.insert_named_workspace(org.id, &ws_name, now).await?;
            audit::record(
                &mut db,
                now,
                &system(),
                Event {
                    org: Some(org.id),
                    actor: None,
                    action: action::CREATE_WORKSPACE,
                    target: Some(Target { kind: "workspace", id: id.to_string() }),
                    details: json!({ "name": ws_name, "source": "demo" }),
                },
            )
            .await?;
        }
        db.commit().await?;
    }
    if !admins.is_empty() {
        println!("\n  Demo data loaded. Organization admins {} sign in with password (shown once): {admin_password}\n", admins.join(", "));
    }
    Ok(())
}
