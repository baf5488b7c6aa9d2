//! The `neosc` command: serves the console, or runs operator tasks against
//! the configured database.

use std::sync::Arc;
use std::time::Instant;

use leptos::config::{get_configuration, LeptosOptions};
use neosc::server::clock::SystemClock;
use neosc::server::config::Config;
use neosc::server::db::{SeedRun, Store};
use neosc::server::service::operator;
use neosc::server::startup::{connect, Application};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
usage: neosc [COMMAND]

commands:
  serve     apply migrations, create what the first start needs, serve (default)
  migrate   apply database migrations and exit
  admin create --email EMAIL [--name NAME] [--platform-admin]
            create an account with a one-time password (printed once)
  admin reset-password --email EMAIL
            give an account a one-time password (printed once), end its sessions
  org create --name NAME --domain DOMAIN [--seat-limit N] [--require-mfa]
            create an organization (prints its id)
  dev seed --orgs N --users M [--workspaces W]
            development data in bulk: N organizations (Seed Org <k>, seed<k>.test)
            and M users spread evenly across them (u<n>@seed<k>.test, no password,
            cannot sign in), optionally W workspaces; a few set-based statements
            in one transaction, counts checked afterwards
  help      show this text

environment (all optional):
  DATABASE_URL            sqlite://data/neosc.db (default) or postgres://user@host/db
  LEPTOS_SITE_ADDR        address to listen on (default 127.0.0.1:3000)
  NEOSC_PUBLIC_URL        the URL people use (https makes cookies Secure)
  NEOSC_ADMIN_EMAIL       first platform admin (default admin@<default domain>)
  NEOSC_ADMIN_PASSWORD    its password (default: generated and printed once)
  NEOSC_DEFAULT_DOMAIN    domain of the Default Organization (default neogenesys.com)
  NEOSC_DEMO=1            load the demo organizations of the product spec
  NEOSC_SESSION_TTL_MINUTES   session lifetime (default 720)
";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().cloned().unwrap_or_else(|| "serve".into());
    // Bulk seeding runs statements of seconds on purpose: no slow-statement warnings.
    let default_filter = if command == "dev" { "info,sqlx=error" } else { "info,sqlx=warn" };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)))
        .init();
    let result = match command.as_str() {
        "serve" => serve().await,
        "migrate" => migrate().await,
        "admin" => admin(&args[1..]).await,
        "dev" => dev(&args[1..]).await,
        "org" => org(&args[1..]).await,
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(anyhow::anyhow!("unknown command {other:?}\n\n{USAGE}")),
    };
    if let Err(e) = result {
        eprintln!("neosc: {e:#}");
        std::process::exit(1);
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let leptos = get_configuration(None)?.leptos_options;
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

/// The value after `--name`, if given.
fn flag_value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

async fn admin(args: &[String]) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let options = LeptosOptions::builder().output_name("neosc").build();
    let state = connect(config, options, Arc::new(SystemClock)).await?;
    let email = flag_value(args, "--email").ok_or_else(|| anyhow::anyhow!("--email is required\n\n{USAGE}"))?;
    let password = match args.first().map(String::as_str) {
        Some("create") => {
            let name = flag_value(args, "--name").unwrap_or("Administrator");
            let platform_admin = args.iter().any(|a| a == "--platform-admin");
            operator::create_account(&state, email, name, platform_admin).await?
        }
        Some("reset-password") => operator::reset_password(&state, email).await?,
        _ => anyhow::bail!("unknown admin command\n\n{USAGE}"),
    };
    println!("{email}: one-time password (shown once; a new one must be chosen at sign-in):\n{password}");
    state.store.close().await;
    Ok(())
}

async fn org(args: &[String]) -> anyhow::Result<()> {
    if args.first().map(String::as_str) != Some("create") {
        anyhow::bail!("unknown org command\n\n{USAGE}");
    }
    let name = flag_value(args, "--name").ok_or_else(|| anyhow::anyhow!("--name is required\n\n{USAGE}"))?;
    let domain = flag_value(args, "--domain").ok_or_else(|| anyhow::anyhow!("--domain is required\n\n{USAGE}"))?;
    let seat_limit = flag_value(args, "--seat-limit")
        .map(|n| n.parse::<i64>().map_err(|_| anyhow::anyhow!("--seat-limit takes a whole number")))
        .transpose()?;
    let config = Config::from_env()?;
    let options = LeptosOptions::builder().output_name("neosc").build();
    let state = connect(config, options, Arc::new(SystemClock)).await?;
    let org = operator::create_organization(&state, name, domain, seat_limit, args.iter().any(|a| a == "--require-mfa")).await?;
    println!("created {} ({}) {}", org.organization.name, org.organization.domain, org.organization.id);
    state.store.close().await;
    Ok(())
}

async fn dev(args: &[String]) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        Some("seed") => seed(&args[1..]).await,
        _ => anyhow::bail!("unknown dev command\n\n{USAGE}"),
    }
}

/// A count flag: digits, optionally grouped with `_` or `,` (1_000_000).
fn count_flag(args: &[String], name: &str, default: Option<i64>) -> anyhow::Result<i64> {
    let Some(raw) = flag_value(args, name) else {
        return default.ok_or_else(|| anyhow::anyhow!("{name} is required\n\n{USAGE}"));
    };
    let digits: String = raw.chars().filter(|c| *c != '_' && *c != ',').collect();
    match digits.parse::<i64>() {
        Ok(n) if (0..=1_000_000_000).contains(&n) => Ok(n),
        _ => anyhow::bail!("{name} wants a number from 0 to 1,000,000,000, not {raw:?}"),
    }
}

/// `neosc dev seed`: bulk development data, see `SeedRun`.
async fn seed(args: &[String]) -> anyhow::Result<()> {
    let started = Instant::now();
    let orgs = count_flag(args, "--orgs", None)?;
    let users = count_flag(args, "--users", Some(0))?;
    let workspaces = count_flag(args, "--workspaces", Some(0))?;
    if orgs == 0 && (users > 0 || workspaces > 0) {
        anyhow::bail!("users and workspaces are spread across the new organizations: --orgs must be at least 1");
    }
    let config = Config::from_env()?;
    let options = LeptosOptions::builder().output_name("neosc").build();
    let state = connect(config, options, Arc::new(SystemClock)).await?;
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
