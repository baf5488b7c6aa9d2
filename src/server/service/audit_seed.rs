//! `neosc dev seed-audit`: millions of audit events for the benchmark
//! (scripts/bench-audit.sh), in bulk and with valid hash chains, so
//! `neosc audit verify` passes on them and events recorded later continue
//! each chain. Development only; the server never calls this.
//!
//! What it makes: `orgs` new seed organizations (`dev seed`'s numbering)
//! with `actors` members each, then `events` events on one timeline over
//! the last `span_days` days, oldest first. The first new organization
//! gets `big_org_events` of them, spread evenly over the timeline; every
//! other event goes to one of the other organizations at random. Each
//! event is built as `audit::record` would have written it (an action the
//! services record, its outcome and reason code by `outcome_of` and
//! `reason_code_of`, actor with email and role, a target with its name,
//! IPv4 and IPv6 client addresses, user agent, request id) and chained with
//! `audit::Canonical::hash` after its organization's head.
//!
//! The events are generated and hashed on a blocking thread while the
//! async side writes the previous batch (`db::audit_seed`); every
//! `COMMIT_EVERY` events the heads of the chains written to move in the
//! same transaction (`set_audit_head`, after `take_audit_head` created
//! them), so a committed prefix is a valid log at every commit.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::audit::{action, chain_key, occurred_at, outcome_of, reason_code_of, sorted, Canonical, GENESIS_HASH};
use crate::model::{OrgId, UserId, WorkspaceId};
use crate::server::db::{AuditExtras, AuditHead, SeedActor, SeedAuditRow, SeedRun, Store};
use crate::server::error::{ServiceError, ServiceResult};

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct AuditSeedPlan {
    pub events: i64,
    pub orgs: i64,
    /// Events of the first organization (capped at `events`).
    pub big_org_events: i64,
    /// Members per organization: the actors of its events.
    pub actors: i64,
    /// The timeline ends now and starts this many days before.
    pub span_days: i64,
}

/// What was seeded: the big organization and a typical one (the median
/// of the others by event count), each with its event count.
#[derive(Debug, Clone)]
pub struct AuditSeedReport {
    pub events: i64,
    pub orgs: i64,
    pub big_org: (Uuid, i64),
    pub typical_org: Option<(Uuid, i64)>,
}

/// Events per batch handed from the generating thread to the writer.
const BATCH: usize = 5000;
/// Events per transaction.
const COMMIT_EVERY: usize = 250_000;
/// Workspaces named per organization (targets of workspace events).
const WORKSPACES_PER_ORG: usize = 40;

/// xorshift64*: fast, deterministic per run, good enough for variety.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn bytes10(&mut self) -> [u8; 10] {
        let (a, b) = (self.next().to_le_bytes(), self.next().to_le_bytes());
        [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], b[0], b[1]]
    }

    fn uuid_v4(&mut self) -> Uuid {
        let (a, b) = (self.next(), self.next());
        uuid::Builder::from_random_bytes(((u128::from(a) << 64) | u128::from(b)).to_le_bytes()).into_uuid()
    }
}

/// What an action's event is about, and so its target and details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Sign-in and session events: no target.
    Session,
    Workspace,
    /// The reconciler's: no actor, no address.
    WorkspaceSystem,
    Member,
    Organization,
    Token,
}

/// The actions seeded, with their weight in a thousand events: sign-ins
/// and workspace operations dominate, as in a console people use daily;
/// about 4 % are refusals (`denied`).
const ACTIONS: &[(&str, u64, Kind)] = &[
    (action::LOGIN, 200, Kind::Session),
    (action::LOGOUT, 70, Kind::Session),
    (action::LOGIN_FAILED, 50, Kind::Session),
    (action::MFA_FAILED, 10, Kind::Session),
    (action::LOGIN_THROTTLED, 10, Kind::Session),
    (action::CROSS_ORG_ACCESS_DENIED, 10, Kind::Session),
    (action::PERMISSION_DENIED, 20, Kind::Session),
    (action::REAUTHENTICATE, 10, Kind::Session),
    (action::END_SESSION, 10, Kind::Session),
    (action::MFA_ENABLED, 10, Kind::Session),
    (action::CHANGE_PASSWORD, 15, Kind::Session),
    (action::CREATE_WORKSPACE, 60, Kind::Workspace),
    (action::START_WORKSPACE, 130, Kind::Workspace),
    (action::STOP_WORKSPACE, 120, Kind::Workspace),
    (action::RESIZE_WORKSPACE, 20, Kind::Workspace),
    (action::UPDATE_WORKSPACE, 20, Kind::Workspace),
    (action::SUSPEND_WORKSPACE, 5, Kind::Workspace),
    (action::RESUME_WORKSPACE, 5, Kind::Workspace),
    (action::DELETE_WORKSPACE, 40, Kind::Workspace),
    (action::WORKSPACE_FAILED, 10, Kind::WorkspaceSystem),
    (action::ADD_USER_TO_ORG, 30, Kind::Member),
    (action::REMOVE_USER_FROM_ORG, 20, Kind::Member),
    (action::INVITE_USER, 30, Kind::Member),
    (action::CHANGE_USER_ROLE, 15, Kind::Member),
    (action::DISABLE_USER, 5, Kind::Member),
    (action::UPDATE_ORGANIZATION, 10, Kind::Organization),
    (action::UPDATE_QUOTA, 5, Kind::Organization),
    (action::EXPORT_AUDIT_LOG, 5, Kind::Organization),
    (action::CREATE_API_TOKEN, 20, Kind::Token),
    (action::REVOKE_API_TOKEN, 10, Kind::Token),
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "curl/8.5.0",
    "terraform-provider-neosc/1.4.2",
];

/// One organization while its events are generated.
struct OrgState {
    id: Uuid,
    name: String,
    /// Its number among the run's organizations (0: the big one); its
    /// office network is 10.<n / 256>.<n % 256>.0/24 and 2001:db8:<n>::/48.
    number: u16,
    actors: Vec<SeedActor>,
    workspaces: Vec<(Uuid, String)>,
    head: AuditHead,
    events: i64,
}

fn actor_role(index: usize) -> &'static str {
    // The first few members administer the organization.
    if index < 5 {
        "org_admin"
    } else {
        "user"
    }
}

/// A client address as the log stores it (`IpAddr`'s display form): the
/// office network mostly, IPv6 often, now and then a public one.
fn client_ip(rng: &mut Rng, number: u16) -> IpAddr {
    match rng.below(10) {
        0..=5 => IpAddr::V4(Ipv4Addr::new(10, (number >> 8) as u8, (number & 0xff) as u8, rng.below(250) as u8 + 1)),
        6..=8 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, number, 0, 0, 0, rng.below(16) as u16, rng.below(0xffff) as u16 + 1)),
        _ => IpAddr::V4(Ipv4Addr::new(203, 0, 113, rng.below(250) as u8 + 1)),
    }
}

/// Event `i` of `org`'s chain, hashed after its head (which it moves).
fn event(rng: &mut Rng, org: &mut OrgState, at: DateTime<Utc>) -> SeedAuditRow {
    let total: u64 = ACTIONS.iter().map(|a| a.1).sum();
    let mut pick = rng.below(total);
    let &(action, _, kind) = ACTIONS
        .iter()
        .find(|a| {
            if pick < a.1 {
                true
            } else {
                pick -= a.1;
                false
            }
        })
        .unwrap_or(&ACTIONS[0]);
    let outcome = outcome_of(action);
    // A few busy people (the admins) act often, everyone else now and then.
    let n = org.actors.len();
    let actor_index = if rng.below(10) < 3 { rng.below(n.min(10) as u64) } else { rng.below(n as u64) } as usize;
    let actor = org.actors.get(actor_index).cloned();
    let other = org.actors.get(rng.below(n as u64) as usize).cloned();
    let (ws_id, ws_name) = org.workspaces[rng.below(org.workspaces.len() as u64) as usize].clone();
    let (target, details): (Option<(&'static str, String, String)>, Value) = match kind {
        Kind::Session => (
            None,
            match action {
                action::LOGIN => json!({ "method": "password", "session": "browser", "stage": "complete" }),
                action::LOGIN_FAILED => json!({ "reason": "bad_credentials" }),
                action::PERMISSION_DENIED => json!({ "operation": "remove_member" }),
                action::CROSS_ORG_ACCESS_DENIED => json!({ "operation": "list_members", "path": "/api/organizations/{id}/members" }),
                _ => json!({}),
            },
        ),
        Kind::Workspace | Kind::WorkspaceSystem => (
            Some(("workspace", WorkspaceId(ws_id).to_string(), ws_name.clone())),
            match action {
                action::RESIZE_WORKSPACE => json!({ "name": ws_name, "vcpu": 200, "memory_mib": 4096 }),
                action::WORKSPACE_FAILED => json!({ "name": ws_name, "error": "the container exited (status 137)" }),
                _ => json!({ "name": ws_name }),
            },
        ),
        Kind::Member => {
            let who = other.clone().or(actor.clone());
            let (id, email, name) = who.map(|w| (w.id, w.email, w.name)).unwrap_or_default();
            let details = match action {
                action::CHANGE_USER_ROLE => json!({ "email": email, "role": "org_admin" }),
                _ => json!({ "email": email }),
            };
            (Some(("user", UserId(id).to_string(), name)), details)
        }
        Kind::Organization => (
            Some(("organization", OrgId(org.id).to_string(), org.name.clone())),
            match action {
                action::UPDATE_QUOTA => json!({ "max_workspaces": 50, "max_vcpu": 6400 }),
                action::EXPORT_AUDIT_LOG => json!({ "format": "csv", "filter": {} }),
                _ => json!({ "name": org.name }),
            },
        ),
        Kind::Token => (Some(("api_token", rng.uuid_v4().to_string(), "ci".to_owned())), json!({ "name": "ci" })),
    };
    let details = sorted(&details);
    let system = kind == Kind::WorkspaceSystem;
    let actor = if system { None } else { actor };
    let ip = if system { None } else { Some(client_ip(rng, org.number).to_string()) };
    let more = AuditExtras {
        actor_kind: Some(if system { "system" } else { "user" }.to_owned()),
        actor_email: actor.as_ref().map(|a| a.email.clone()),
        actor_role: actor.as_ref().map(|_| actor_role(actor_index).to_owned()),
        target_name: target.as_ref().map(|t| t.2.clone()),
        reason_code: reason_code_of(action, outcome, &details),
        user_agent: if system || rng.below(8) == 0 {
            None
        } else {
            Some(USER_AGENTS[rng.below(USER_AGENTS.len() as u64) as usize].to_owned())
        },
        request_id: if system { None } else { Some(rng.uuid_v4().to_string()) },
        // Left out, like the events written before migration 0021: the
        // seeder's INSERT does not name the column, and the filters the
        // benchmark times do not read it.
        session_kind: None,
    };
    let id = uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis() as u64, &rng.bytes10()).into_uuid();
    let (target_type, target_id) = match target {
        Some((t, id, _)) => (Some(t), Some(id)),
        None => (None, None),
    };
    let seq = org.head.seq + 1;
    let actor_id = actor.as_ref().map(|a| a.id);
    let hash = Canonical {
        seq,
        id,
        occurred_at: occurred_at(at),
        org: Some(org.id),
        actor: actor_id,
        action,
        outcome,
        target_type,
        target_id: target_id.as_deref(),
        details: details.clone(),
        ip: ip.as_deref(),
        ..Canonical::extras(&more)
    }
    .hash(&org.head.hash)
    .unwrap_or_default();
    let prev_hash = std::mem::replace(&mut org.head, AuditHead { seq, hash: hash.clone() }).hash;
    org.events += 1;
    SeedAuditRow {
        id,
        organization_id: org.id,
        actor_user_id: actor_id,
        action,
        outcome,
        target_type,
        target_id,
        details,
        ip,
        created_at: at,
        seq,
        prev_hash,
        hash,
        more,
    }
}

/// A batch of events and the heads it leaves the chains it touched at.
type Batch = (Vec<SeedAuditRow>, Vec<(usize, AuditHead)>);

/// Generates every event, oldest first, in batches; returns each
/// organization's event count.
fn generate(
    mut orgs: Vec<OrgState>,
    plan: AuditSeedPlan,
    start_us: i64,
    span_us: i64,
    salt: u64,
    tx: tokio::sync::mpsc::Sender<Batch>,
) -> Vec<i64> {
    let mut rng = Rng((0x9E37_79B9_7F4A_7C15 ^ salt.wrapping_mul(0x1000_0000_01B3)) | 1);
    let n = plan.events.max(1);
    let big = plan.big_org_events.min(n);
    let step = (span_us / n).max(1);
    let mut batch = Vec::with_capacity(BATCH);
    let mut touched: HashMap<usize, ()> = HashMap::new();
    for i in 0..n {
        // Event i is the big organization's when the big one's share
        // crosses a whole number here: exactly `big` of them, evenly spread.
        let o = if orgs.len() == 1 || (i + 1) * big / n > i * big / n { 0 } else { 1 + rng.below(orgs.len() as u64 - 1) as usize };
        let us = start_us + i * step + rng.below(step as u64) as i64;
        let at = Utc.timestamp_micros(us).single().unwrap_or_else(Utc::now);
        batch.push(event(&mut rng, &mut orgs[o], at));
        touched.insert(o, ());
        if batch.len() == BATCH || i == n - 1 {
            let heads = touched.drain().map(|(o, _)| (o, orgs[o].head.clone())).collect();
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.blocking_send((full, heads)).is_err() {
                break; // the writer failed; it reports why
            }
        }
    }
    orgs.iter().map(|o| o.events).collect()
}

/// Seeds `plan` (see the module comment); `progress` hears the events
/// committed so far.
pub async fn seed_audit(store: &Store, now: DateTime<Utc>, plan: AuditSeedPlan, progress: impl Fn(i64)) -> ServiceResult<AuditSeedReport> {
    if plan.orgs < 1 || plan.actors < 1 {
        return Err(ServiceError::Validation { field: Some("orgs"), message: "at least one organization with one member".into() });
    }
    // Organizations and members, as `dev seed` makes them.
    let salt = (Uuid::new_v4().as_u128() & 0xfff) as u16;
    let mut db = store.begin().await?;
    let existing = db.seed_existing_orgs().await?;
    let run = SeedRun::new(existing, plan.orgs, plan.orgs * plan.actors, 0, now - chrono::Duration::days(plan.span_days + 1), salt);
    db.seed_prepare().await?;
    db.seed_orgs(&run).await?;
    db.seed_users(&run, 1, plan.orgs * plan.actors).await?;
    db.seed_finish(&run).await?;
    db.commit().await?;

    let mut rng = Rng((u64::from(salt) << 20) | 0x5eed);
    let mut orgs = Vec::new();
    let mut db = store.begin().await?;
    for (number, (id, name)) in db.seed_orgs_numbered(existing + 1, existing + plan.orgs).await?.into_iter().enumerate() {
        let actors = db.seed_actors_of(id).await?;
        // New organizations: the heads are made here, at the genesis.
        let head = db.take_audit_head(&chain_key(Some(id)), GENESIS_HASH).await?;
        let workspaces = (0..WORKSPACES_PER_ORG).map(|w| (rng.uuid_v4(), format!("dev-box-{w}"))).collect();
        orgs.push(OrgState { id, name, number: number as u16, actors, workspaces, head, events: 0 });
    }
    db.commit().await?;
    if orgs.len() as i64 != plan.orgs || orgs.iter().any(|o| o.actors.is_empty() || o.head.seq != 0) {
        return Err(ServiceError::bug("the seed organizations are not as just made"));
    }
    let ids: Vec<Uuid> = orgs.iter().map(|o| o.id).collect();

    let span_us = plan.span_days * 86_400_000_000;
    let start_us = now.timestamp_micros() - span_us;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(4);
    let generator = tokio::task::spawn_blocking(move || generate(orgs, plan, start_us, span_us, u64::from(salt), tx));

    let mut written = 0_i64;
    let mut in_tx = 0;
    let mut heads: HashMap<usize, AuditHead> = HashMap::new();
    let mut db = store.begin().await?;
    db.seed_audit_prepare().await?;
    while let Some((rows, moved)) = rx.recv().await {
        db.seed_audit_rows(&rows).await?;
        heads.extend(moved);
        in_tx += rows.len();
        if in_tx >= COMMIT_EVERY {
            for (o, head) in heads.drain() {
                db.set_audit_head(&chain_key(Some(ids[o])), &head).await?;
            }
            db.commit().await?;
            written += in_tx as i64;
            in_tx = 0;
            progress(written);
            db = store.begin().await?;
            db.seed_audit_prepare().await?;
        }
    }
    for (o, head) in heads.drain() {
        db.set_audit_head(&chain_key(Some(ids[o])), &head).await?;
    }
    db.commit().await?;
    written += in_tx as i64;
    progress(written);
    let counts = generator.await.map_err(ServiceError::internal)?;
    store.conn().await?.seed_audit_settle().await?;

    let mut others: Vec<(i64, Uuid)> = counts.iter().zip(&ids).skip(1).map(|(c, id)| (*c, *id)).collect();
    others.sort();
    Ok(AuditSeedReport {
        events: written,
        orgs: plan.orgs,
        big_org: (ids[0], counts[0]),
        typical_org: others.get(others.len() / 2).map(|(c, id)| (*id, *c)),
    })
}
