//! The `neosc` command: serves the console, or runs operator tasks against
//! the configured database.

use std::sync::Arc;

use leptos::config::{get_configuration, LeptosOptions};
use neosc::server::clock::SystemClock;
use neosc::server::config::Config;
use neosc::server::db::Store;
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
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().cloned().unwrap_or_else(|| "serve".into());
    let result = match command.as_str() {
        "serve" => serve().await,
        "migrate" => migrate().await,
        "admin" => admin(&args[1..]).await,
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
