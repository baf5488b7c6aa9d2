//! The `neosc` command: serves the console, or runs operator tasks against
//! the configured database.

use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use leptos::config::{get_configuration, LeptosOptions};
use neosc::server::auth::{key_file, secret_box};
use neosc::server::clock::SystemClock;
use neosc::server::config::{variables_help, Config};
use neosc::server::db::{SeedRun, Store};
use neosc::server::service::{audit_checkpoints, audit_seed, operator};
use neosc::server::startup::{connect, Application};
use neosc::server::state::AppState;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "neosc", version, about = "NeoSC: multi-tenant admin console for secure cloud workspaces")]
#[command(after_help = variables_help())]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, create what the first start needs, serve (default)
    Serve,
    /// Apply database migrations and exit
    Migrate,
    /// Operator tasks on accounts
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Operator tasks on organizations
    #[command(subcommand)]
    Org(OrgCommand),
    /// The audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Development helpers
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Replay the hash chains of the audit log: one JSON line per chain,
    /// intact with its head (seq, hash) or the first broken seq; exits 1
    /// when one is broken
    Verify {
        /// The organization's id (org-…), slug or name; without it, every
        /// organization's chain and the installation's
        #[arg(long)]
        org: Option<String>,
        /// A checkpoint kept earlier (the file `GET /api/organizations/{id}/audit/checkpoints/latest` downloads):
        /// also check its signature with this installation's key and that the chain at its seq still has its hash;
        /// one more JSON line, and exit 1 when it does not hold
        #[arg(long, requires = "org", value_name = "FILE")]
        checkpoint: Option<std::path::PathBuf>,
    },
    /// Sign today's checkpoint of every chain that moved since its last one, now (at most one per chain and UTC
    /// day; the server does it on its own every NEOSC_AUDIT_CHECKPOINT_INTERVAL_SECS); prints what it did as a
    /// JSON line and exits 1 when a chain does not verify (it is not signed)
    Checkpoint,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account with a one-time password (printed once)
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
        #[arg(long)]
        platform_admin: bool,
    },
    /// Give an account a one-time password (printed once) and end its sessions
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Re-encrypt every stored TOTP secret under a new key (the current one
    /// stays readable until every secret has moved), then say what to change
    RotateSecretKey {
        /// The new key: 64 hex digits or base64 of 32 bytes; generated when
        /// not given
        #[arg(long)]
        new_key: Option<String>,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organization (prints its id)
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        domain: String,
        #[arg(long)]
        seat_limit: Option<i64>,
        #[arg(long)]
        require_mfa: bool,
    },
    /// Vouch for a domain as the operator: add it to the organization if it
    /// is not listed and mark it verified (method `operator`), as when the
    /// organization cannot publish a DNS record
    VerifyDomain {
        /// The organization's id (org-…), slug or name
        #[arg(long)]
        org: String,
        #[arg(long)]
        domain: String,
    },
}

#[derive(Subcommand)]
enum DevCommand {
    /// Development data in bulk: N organizations (Seed Org <k>, seed<k>.test) and M users spread evenly across them
    /// (u<n>@seed<k>.test, no password, cannot sign in), optionally W workspaces; a few set-based statements in one
    /// transaction, counts checked afterwards
    Seed(SeedArgs),
    /// Audit events in bulk for the benchmark: N events over M new seed organizations (with --actors members each)
    /// across the last --days days, one organization holding --big-org-events of them; hashed and chained as the
    /// server records events, so `neosc audit verify` passes and later events continue the chains
    SeedAudit(SeedAuditArgs),
}

#[derive(Args)]
struct SeedAuditArgs {
    /// Events to add
    #[arg(long, value_parser = parse_count)]
    events: i64,
    /// New organizations to spread them over
    #[arg(long, value_parser = parse_count)]
    orgs: i64,
    /// Events of the first new organization (the one to export)
    #[arg(long, value_parser = parse_count, default_value = "1000000")]
    big_org_events: i64,
    /// Members per organization, the actors of its events
    #[arg(long, value_parser = parse_count, default_value = "200")]
    actors: i64,
    /// Days the events span, ending now
    #[arg(long, value_parser = parse_count, default_value = "730")]
    days: i64,
}

#[derive(Args)]
struct SeedArgs {
    /// Organizations to add
    #[arg(long, value_parser = parse_count)]
    orgs: i64,
    /// Users, spread evenly over the new organizations
    #[arg(long, value_parser = parse_count, default_value = "0")]
    users: i64,
    /// Workspaces, spread evenly over the new organizations
    #[arg(long, value_parser = parse_count, default_value = "0")]
    workspaces: i64,
}

/// Stack of each runtime worker. Rendering a page on the server nests as
/// deeply as its view tree; in debug builds (no type erasure, no inlining)
/// the console's pages need more than tokio's default 2 MiB. Untouched
/// stack costs no memory.
const WORKER_STACK_BYTES: usize = 16 * 1024 * 1024;

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().thread_stack_size(WORKER_STACK_BYTES).enable_all().build().expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    // Bulk seeding runs statements of seconds on purpose: no slow-statement warnings.
    let default_filter = if matches!(command, Command::Dev(_)) { "info,sqlx=error" } else { "info,sqlx=warn" };
    tracing_subscriber::fmt().with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter))).init();
    let result = match command {
        Command::Serve => serve().await,
        Command::Migrate => migrate().await,
        Command::Admin(cmd) => admin(cmd).await,
        Command::Org(cmd) => org(cmd).await,
        Command::Audit(AuditCommand::Verify { org, checkpoint }) => audit_verify(org, checkpoint).await,
        Command::Audit(AuditCommand::Checkpoint) => audit_checkpoint().await,
        Command::Dev(DevCommand::Seed(args)) => seed(args).await,
        Command::Dev(DevCommand::SeedAudit(args)) => seed_audit(args).await,
    };
    if let Err(e) = result {
        eprintln!("neosc: {e:#}");
        std::process::exit(1);
    }
}

/// The state operator commands work with: configuration from the
/// environment, the database migrated.
async fn operator_state() -> anyhow::Result<AppState> {
    let config = Config::from_env()?;
    let options = LeptosOptions::builder().output_name("neosc").build();
    connect(config, options, Arc::new(SystemClock)).await
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let mut leptos = get_configuration(None)?.leptos_options;
    neosc::server::assets::use_hashed_names_when_built(&mut leptos);
    let app = Application::build(config, leptos).await?;
    tracing::info!("NeoSC listening on http://{}", app.state().leptos_options.site_addr);
    app.run_until_stopped().await
}

async fn migrate() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    println!("migrations applied to {:?} database", store.backend());
    Ok(())
}

async fn admin(cmd: AdminCommand) -> anyhow::Result<()> {
    let state = operator_state().await?;
    let (email, password) = match cmd {
        AdminCommand::RotateSecretKey { new_key } => return rotate_secret_key(state, new_key).await,
        AdminCommand::Create { email, name, platform_admin } => {
            let password = operator::create_account(&state, &email, &name, platform_admin).await?;
            (email, password)
        }
        AdminCommand::ResetPassword { email } => {
            let password = operator::reset_password(&state, &email).await?;
            (email, password)
        }
    };
    println!("{email}: one-time password (shown once; a new one must be chosen at sign-in):\n{password}");
    state.store.close().await;
    Ok(())
}

/// `neosc admin rotate-secret-key`: the pass, then where the new key goes.
async fn rotate_secret_key(state: AppState, new_key: Option<String>) -> anyhow::Result<()> {
    let new_key = new_key.map(|k| secret_box::parse_key(&k).map_err(|m| anyhow::anyhow!("--new-key {m}"))).transpose()?;
    let loaded = key_file::load(&state.config.secrets)?;
    let mut readable = vec![loaded.current];
    readable.extend(loaded.previous.iter().copied());
    let (rotation, key) = operator::rotate_secret_key(&state, new_key, &readable).await?;
    state.store.close().await;
    let r = rotation.report;
    println!(
        "re-encrypted {} TOTP secrets under key {} (was {}); {} changed meanwhile, {} unreadable",
        r.resealed, rotation.new_key_id, rotation.old_key_id, r.changed_meanwhile, r.unreadable
    );
    match loaded.source {
        key_file::KeySource::File(path) => {
            // The old keys stay in the file, after the new one: secrets an
            // instance still running on them writes meanwhile stay readable,
            // and its next start moves them to the new key.
            key_file::replace(&path, &[&[key][..], &readable[..]].concat())?;
            println!(
                "\nThe key file {} now starts with the new key; the old ones follow it, read only.\n\
                 Next:\n  1. Restart every instance now (until then they cannot read secrets under the new key).\n  \
                 2. Once all run, delete the old key lines from the file and back it up with the database.",
                path.display()
            );
        }
        key_file::KeySource::Environment => {
            println!(
                "\nOn every instance:\n  NEOSC_SECRET_KEY={}\n  NEOSC_SECRET_KEY_PREVIOUS=<the NEOSC_SECRET_KEY used until now (key {})>\n\
                 Next:\n  1. Set both and restart every instance now (until then they cannot read secrets under the new key).\n  \
                 2. Once all run, remove NEOSC_SECRET_KEY_PREVIOUS and restart again; keep the new key with the database backups.",
                secret_box::encode_key(&key),
                rotation.old_key_id
            );
        }
    }
    if r.unreadable > 0 || r.changed_meanwhile > 0 {
        println!("Some secrets did not move (see the log); the next start of an instance with both keys moves what it can read.");
    }
    Ok(())
}

async fn org(cmd: OrgCommand) -> anyhow::Result<()> {
    let state = operator_state().await?;
    match cmd {
        OrgCommand::Create { name, domain, seat_limit, require_mfa } => {
            let org = operator::create_organization(&state, &name, &domain, seat_limit, require_mfa).await?;
            println!("created {} ({}) {}", org.organization.name, org.organization.domain, org.organization.id);
        }
        OrgCommand::VerifyDomain { org, domain } => {
            let (name, d) = operator::verify_domain(&state, &org, &domain).await?;
            println!("{} is verified for {name} (method operator)", d.domain);
        }
    }
    state.store.close().await;
    Ok(())
}

/// `neosc audit verify`: a JSON line per chain; broken chains fail the
/// command. With `--checkpoint`, one more line for the kept checkpoint,
/// which fails the command when it does not hold.
async fn audit_verify(org: Option<String>, checkpoint: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let kept = checkpoint
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            serde_json::from_str::<audit_checkpoints::CheckpointFile>(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a checkpoint file ({{statement, signature}}): {e}", path.display()))
        })
        .transpose()?;
    let state = operator_state().await?;
    let checked = operator::verify_audit(&state, org.as_deref()).await?;
    let check = match (&kept, checked.first()) {
        (Some(file), Some(chain)) => {
            let org = chain.organization_id.as_deref().and_then(neosc::model::OrgId::parse).map(|o| o.0);
            Some(audit_checkpoints::verify_checkpoint(&state, org, file).await?)
        }
        _ => None,
    };
    state.store.close().await;
    for chain in &checked {
        println!("{}", serde_json::to_string(chain)?);
    }
    if let Some(check) = &check {
        println!(r#"{{"checkpoint":{}}}"#, serde_json::to_string(check)?);
    }
    let broken = checked.iter().filter(|c| !c.report.intact).count();
    if broken > 0 {
        anyhow::bail!("{broken} of {} audit chains are broken", checked.len());
    }
    if let Some(check) = check.filter(|c| !c.holds) {
        anyhow::bail!("the checkpoint does not hold: {}", check.reason.unwrap_or_default());
    }
    Ok(())
}

/// `neosc audit checkpoint`: today's checkpoints now.
async fn audit_checkpoint() -> anyhow::Result<()> {
    let state = operator_state().await?;
    let pass = audit_checkpoints::checkpoint_all(&state).await?;
    state.store.close().await;
    println!(r#"{{"key_id":{},"pass":{}}}"#, serde_json::to_string(state.audit_signer.key_id())?, serde_json::to_string(&pass)?);
    if !pass.broken.is_empty() {
        anyhow::bail!("{} audit chains do not verify and were not signed: {}", pass.broken.len(), pass.broken.join(", "));
    }
    Ok(())
}

/// A count: digits, optionally grouped with `_` or `,` (1_000_000).
fn parse_count(raw: &str) -> Result<i64, String> {
    let digits: String = raw.chars().filter(|c| *c != '_' && *c != ',').collect();
    match digits.parse::<i64>() {
        Ok(n) if (0..=1_000_000_000).contains(&n) => Ok(n),
        _ => Err(format!("wants a number from 0 to 1,000,000,000, not {raw:?}")),
    }
}

/// `neosc dev seed`: bulk development data, see `SeedRun`.
async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let SeedArgs { orgs, users, workspaces } = args;
    if orgs == 0 && (users > 0 || workspaces > 0) {
        anyhow::bail!("users and workspaces are spread across the new organizations: --orgs must be at least 1");
    }
    let state = operator_state().await?;
    let store = state.store.clone();
    let elapsed = || started.elapsed().as_secs_f64();
    println!("seeding {orgs} organizations, {users} users, {workspaces} workspaces into the {:?} database", store.backend());

    let mut db = store.begin().await?;
    let existing = db.seed_existing_orgs().await?;
    let salt = (uuid::Uuid::new_v4().as_u128() & 0xfff) as u16;
    let run = SeedRun::new(existing, orgs, users, workspaces, state.clock.now(), salt);
    db.seed_prepare().await?;
    let made = db.seed_orgs(&run).await?;
    println!("  organizations {made:>10} (seed-org-{}..={})  {:6.1} s", existing + 1, existing + orgs, elapsed());
    const CHUNK: i64 = 100_000;
    let mut from = 1;
    while from <= users {
        let to = (from + CHUNK - 1).min(users);
        db.seed_users(&run, from, to).await?;
        println!("  users         {to:>10} / {users}  {:6.1} s", elapsed());
        from = to + 1;
    }
    let mut from = 1;
    while from <= workspaces {
        let to = (from + CHUNK - 1).min(workspaces);
        db.seed_workspaces(&run, from, to).await?;
        println!("  workspaces    {to:>10} / {workspaces}  {:6.1} s", elapsed());
        from = to + 1;
    }
    db.seed_finish(&run).await?;
    db.commit().await?;
    println!("  committed                          {:6.1} s", elapsed());

    // The counts kept on organizations must equal the rows: a few
    // organizations one by one, and every count in total.
    let mut db = store.conn().await?;
    let mut samples: Vec<i64> = vec![1, orgs / 2 + 1, orgs];
    samples.retain(|k| *k >= 1);
    samples.dedup();
    for k in samples {
        let slug = run.org_slug(k);
        let c = db.seed_org_counts(&slug).await?.ok_or_else(|| anyhow::anyhow!("{slug} is missing"))?;
        println!(
            "  check {slug}: users_count {} = {} rows, workspaces_count {} = {} rows",
            c.users_count, c.users_counted, c.workspaces_count, c.workspaces_counted
        );
        if c.users_count != c.users_counted || c.workspaces_count != c.workspaces_counted {
            anyhow::bail!("the counts of {slug} do not match its rows");
        }
    }
    let (users_sum, users_rows, ws_sum, ws_rows) = db.seed_count_totals().await?;
    println!("  check all: sum(users_count) {users_sum} = {users_rows} users, sum(workspaces_count) {ws_sum} = {ws_rows} workspaces");
    if users_sum != users_rows || ws_sum != ws_rows {
        anyhow::bail!("the organizations' counts do not add up to the rows");
    }
    db.seed_settle().await?;
    drop(db);
    println!("seeded in {:.1} s", elapsed());
    store.close().await;
    Ok(())
}

/// `neosc dev seed-audit`: see `service::audit_seed`. The last lines name
/// the big organization and a typical one (`big_org=org-… events=N`,
/// `typical_org=…`) for scripts/bench-audit.sh.
async fn seed_audit(args: SeedAuditArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let SeedAuditArgs { events, orgs, big_org_events, actors, days } = args;
    if orgs == 0 || actors == 0 || days == 0 {
        anyhow::bail!("--orgs, --actors and --days must be at least 1");
    }
    let state = operator_state().await?;
    let store = state.store.clone();
    println!(
        "seeding {events} audit events over {orgs} new organizations ({actors} members each, {} in the first) into the {:?} database",
        big_org_events.min(events),
        store.backend()
    );
    let plan = audit_seed::AuditSeedPlan { events, orgs, big_org_events, actors, span_days: days };
    let report = audit_seed::seed_audit(&store, state.clock.now(), plan, |done| {
        println!("  events {done:>10} / {events}  {:6.1} s", started.elapsed().as_secs_f64());
    })
    .await?;
    store.close().await;
    println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    println!("big_org={} events={}", neosc::model::OrgId(report.big_org.0), report.big_org.1);
    if let Some((id, n)) = report.typical_org {
        println!("typical_org={} events={n}", neosc::model::OrgId(id));
    }
    Ok(())
}
