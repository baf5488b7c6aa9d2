//! The `neosc` command: serves the console, or runs operator tasks against
//! the configured database.

use leptos::config::get_configuration;
use neosc::server::config::Config;
use neosc::server::db::Store;
use neosc::server::startup::Application;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
usage: neosc [COMMAND]

commands:
  serve     apply migrations, create what the first start needs, serve (default)
  migrate   apply database migrations and exit
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
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    let result = match command.as_str() {
        "serve" => serve().await,
        "migrate" => migrate().await,
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
