//! `neosc-bench`: the load generator of `make bench`. Sends GET requests to
//! one running server for a bounded time (and at most a bounded number of
//! requests), a fixed number at a time over kept-alive connections, and
//! prints for each endpoint: requests, errors, req/s and p50 / p99 / max
//! latency. The endpoints, one after another on the same server:
//!
//! - `/healthz`: one trivial database round trip, the floor to compare with;
//! - `/api/auth/me`: what every signed-in request pays (the session and the
//!   user read by token);
//! - `/api/organizations?limit=100&offset=0`: the first page;
//! - `/api/organizations?limit=100&offset=<random page>`: any page of the
//!   installation (offsets spread over every page there is);
//! - with `--page`, `/organizations`: the console page, server-rendered
//!   with its first page of organizations.
//!
//! With `--workspaces` the endpoints are `/healthz` and the workspace list
//! (first page, any page) instead. Two more modes prepare and time the
//! workspace engine side (`make bench` runs them from
//! scripts/bench-workspaces.sh):
//!
//! - `--provision N --template ID`: N workspaces requested at once (N in
//!   flight), then the time until every one runs (the list's
//!   `X-Total-Count` with `status=running`), then deleted again, timed
//!   until every one is gone;
//! - `--create-stopped N --template ID`: N workspaces allocated without
//!   starting, `--concurrency` at a time (rows for the list to page over).
//!
//! Two more measure abuse resistance (scripts/bench.sh runs them once, on
//! SQLite; no token needed):
//!
//! - `--abandon-logins N --pid PID --login-email E --login-password P`: N
//!   sign-ins (unknown accounts, each from its own loopback address, so no
//!   throttle stops them) sent at once, each connection closed without
//!   reading the answer, within a second of sending, while the server's resident memory is sampled from
//!   /proc/PID/status; then a legitimate sign-in from 127.0.0.1, timed. A
//!   client that hangs up keeps its hashing slot until its hash ends, so at
//!   most one hash per core runs (the server logs each start at debug level,
//!   target `neosc::hashing`, with how many run; the script reads the peak).
//! - `--register-flood N --login-email E --login-password P`: N
//!   registrations from one address (127.0.2.1), 16 at a time, while a
//!   legitimate sign-in from 127.0.0.1 is timed; counts the 429 answers.
//!
//! `--audit` and `--audit-export` measure the audit log (see `mod
//! audit_bench` at the end; scripts/bench-audit.sh runs them).
//!
//! One more measures memory and fairness under password sign-ins
//! (scripts/bench-memory.sh runs it):
//!
//! - `--login-load N --pid PID --login-email E --login-password P`: N
//!   sign-ins to a real account in flight for `--duration` s, each worker
//!   from its own loopback address (127.3.x.y), while `/api/auth/me` is
//!   timed at 100/s from 127.0.0.1 and the server's RSS sampled every 5 ms;
//!   before that, the same idle, and one argon2id hash timed on one core
//!   with the server's parameters (the limit: cores ÷ time per hash).
//!   Prints sign-ins/s against that limit, RSS before / peak / after
//!   `--settle` s idle, and `/api/auth/me` p50 / p99 idle and under load.
//!
//! Only loopback URLs are accepted: this is for measuring one's own server.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: neosc-bench --url http://127.0.0.1:PORT --token TOKEN [options]

  --url URL            the server (loopback only)
  --token TOKEN        a bearer token of a platform admin (POST /api/auth/login)
  --duration SECONDS   measuring time per endpoint (default 10)
  --requests N         at most this many requests per endpoint (default 1000000)
  --concurrency N      requests in flight at once (default 8)
  --warmup SECONDS     unmeasured requests first, per endpoint (default 1)
  --label TEXT         first column of every row (e.g. \"sqlite 10000/1000000\")
  --page               also the server-rendered /organizations page
  --header             print the column names first
  --healthz-only       only /healthz (the token is not used)
  --workspaces         measure /healthz and GET /api/workspaces (first and any page) instead
  --provision N        request N workspaces at once, time until all run, then delete them
  --create-stopped N   allocate N stopped workspaces (--concurrency at a time)
  --template ID        the template for --provision / --create-stopped

audit log (issue 13; see `mod audit_bench`):
  --audit ORG[,ORG]    /healthz, then each organization's audit list unfiltered and by each filter
  --audit-export ORG   the organization's full export (CSV, then JSONL), with the server's RSS; needs --pid


memory under sign-ins (no --token):
  --login-load N       N password sign-ins in flight for --duration s (default 10), each from its own address,
                       while /api/auth/me is timed at 100/s; needs --pid and --login-*; --settle S (default 10)
                       idle seconds before the RSS after
abuse resistance (no --token):
  --abandon-logins N   N sign-ins sent at once and abandoned; needs --pid, --login-email, --login-password
  --register-flood N   N registrations from one address during a legitimate sign-in; needs --login-*
  --pid PID            the server's process, for its resident memory
  --login-email E, --login-password P   a real account's credentials
";

#[derive(Debug, Clone)]
struct Args {
    url: String,
    token: String,
    duration: Duration,
    requests: u64,
    concurrency: usize,
    warmup: Duration,
    label: String,
    page: bool,
    header: bool,
    healthz_only: bool,
    workspaces: bool,
    provision: Option<u64>,
    create_stopped: Option<u64>,
    template: Option<String>,
}

fn flag_value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let number = |name: &str, default: f64, max: f64| -> Result<f64, String> {
        match flag_value(args, name) {
            None => Ok(default),
            Some(raw) => match raw.parse::<f64>() {
                Ok(v) if v > 0.0 && v <= max => Ok(v),
                _ => Err(format!("{name} wants a number above 0 and at most {max}, not {raw:?}")),
            },
        }
    };
    let url = flag_value(args, "--url").ok_or("--url is required")?.trim_end_matches('/').to_owned();
    let host = url.strip_prefix("http://").ok_or("--url must be http://… (loopback)")?.split(['/', '?']).next().unwrap_or_default();
    let hostname = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if !matches!(hostname, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!("--url must name this machine (127.0.0.1, localhost or [::1]), not {hostname:?}"));
    }
    Ok(Args {
        url,
        token: flag_value(args, "--token").ok_or("--token is required")?.to_owned(),
        duration: Duration::from_secs_f64(number("--duration", 10.0, 3600.0)?),
        requests: number("--requests", 1_000_000.0, 100_000_000.0)? as u64,
        concurrency: number("--concurrency", 8.0, 1024.0)? as usize,
        warmup: Duration::from_secs_f64(number("--warmup", 1.0, 600.0)?),
        label: flag_value(args, "--label").unwrap_or("").to_owned(),
        page: args.iter().any(|a| a == "--page"),
        header: args.iter().any(|a| a == "--header"),
        healthz_only: args.iter().any(|a| a == "--healthz-only"),
        workspaces: args.iter().any(|a| a == "--workspaces"),
        provision: flag_value(args, "--provision").map(|_| number("--provision", 1.0, 100_000.0)).transpose()?.map(|n| n as u64),
        create_stopped: flag_value(args, "--create-stopped")
            .map(|_| number("--create-stopped", 1.0, 1_000_000.0))
            .transpose()?
            .map(|n| n as u64),
        template: flag_value(args, "--template").map(str::to_owned),
    })
}

#[derive(Debug, Clone)]
enum Target {
    Health,
    /// One path as given (the audit filters of `mod audit_bench`).
    Fixed(Arc<str>),
    Me,
    FirstPage,
    AnyPage {
        pages: u64,
    },
    HtmlPage,
    WorkspacesFirst,
    WorkspacesAny {
        pages: u64,
    },
}

impl Target {
    fn name(&self) -> &'static str {
        match self {
            Target::Health => "GET /healthz",
            Target::Fixed(_) => "GET (fixed path)",
            Target::Me => "GET /api/auth/me",
            Target::FirstPage => "GET /api/organizations offset=0",
            Target::AnyPage { .. } => "GET /api/organizations offset=any",
            Target::HtmlPage => "GET /organizations (page)",
            Target::WorkspacesFirst => "GET /api/workspaces offset=0",
            Target::WorkspacesAny { .. } => "GET /api/workspaces offset=any",
        }
    }

    fn path(&self, rng: &mut u64) -> String {
        match self {
            Target::Health => "/healthz".into(),
            Target::Fixed(path) => path.to_string(),
            Target::Me => "/api/auth/me".into(),
            Target::FirstPage => "/api/organizations?limit=100&offset=0".into(),
            Target::AnyPage { pages } => format!("/api/organizations?limit=100&offset={}", (xorshift(rng) % pages) * 100),
            Target::HtmlPage => "/organizations".into(),
            Target::WorkspacesFirst => "/api/workspaces?limit=100&offset=0".into(),
            Target::WorkspacesAny { pages } => format!("/api/workspaces?limit=100&offset={}", (xorshift(rng) % pages) * 100),
        }
    }
}

fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

struct Outcome {
    /// Latency of each successful request, in microseconds.
    latencies: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// Sends requests to `target` with `concurrency` in flight until `time` has
/// passed or `max` requests were started.
async fn load(client: &reqwest::Client, args: &Args, target: Target, time: Duration, max: u64) -> (Outcome, Duration) {
    let started = Instant::now();
    let deadline = started + time;
    let issued = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::with_capacity(args.concurrency);
    for worker in 0..args.concurrency {
        let (client, issued, target) = (client.clone(), issued.clone(), target.clone());
        let (base, auth) = (args.url.clone(), format!("Bearer {}", args.token));
        workers.push(tokio::spawn(async move {
            let mut rng = 0x9E37_79B9_7F4A_7C15_u64 ^ ((worker as u64 + 1) << 32) ^ started.elapsed().as_nanos() as u64;
            let mut out = Outcome { latencies: Vec::new(), errors: 0, first_error: None };
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max {
                let url = format!("{base}{}", target.path(&mut rng));
                let sent = Instant::now();
                let result = async {
                    let response = client.get(&url).header("authorization", &auth).send().await.map_err(|e| e.to_string())?;
                    let status = response.status();
                    let body = response.bytes().await.map_err(|e| e.to_string())?;
                    if status.is_success() {
                        Ok(())
                    } else {
                        Err(format!("{status} for {url}: {}", String::from_utf8_lossy(&body[..body.len().min(200)])))
                    }
                }
                .await;
                match result {
                    Ok(()) => out.latencies.push(sent.elapsed().as_micros() as u64),
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert(e);
                    }
                }
            }
            out
        }));
    }
    let mut all = Outcome { latencies: Vec::new(), errors: 0, first_error: None };
    for w in workers {
        let out = w.await.expect("a worker panicked");
        all.latencies.extend(out.latencies);
        all.errors += out.errors;
        if all.first_error.is_none() {
            all.first_error = out.first_error;
        }
    }
    (all, started.elapsed())
}

/// The server's resident memory at its highest, sampled from /proc every
/// `every` until `stop`; the three memory measurements share it.
struct PeakRss {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    /// Starts sampling process `pid`, the peak starting at `from` (what it
    /// measured before).
    fn start(pid: u64, from: u64, every: Duration) -> Self {
        let peak = Arc::new(AtomicU64::new(from));
        let stop = Arc::new(AtomicBool::new(false));
        let task = {
            let (peak, stop) = (peak.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = rss_kib(pid) {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    tokio::time::sleep(every).await;
                }
            })
        };
        PeakRss { peak, stop, task }
    }

    /// The peak so far, in KiB.
    fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Stops sampling; the peak, in KiB.
    async fn stop(self) -> Result<u64, String> {
        self.stop.store(true, Ordering::Relaxed);
        let PeakRss { peak, task, .. } = self;
        task.await.map_err(|e| e.to_string())?;
        Ok(peak.load(Ordering::Relaxed))
    }
}

/// The resident memory of process `pid` in KiB (`VmRSS` of
/// /proc/PID/status), or none when there is no such process.
fn rss_kib(pid: u64) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

/// How many `path` lists for the token, from X-Total-Count.
async fn total(client: &reqwest::Client, args: &Args, path: &str) -> Result<u64, String> {
    let response =
        client.get(format!("{}{path}", args.url)).bearer_auth(&args.token).send().await.map_err(|e| format!("GET {path}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("GET {path} answered {} (is the token a platform admin's?)", response.status()));
    }
    response
        .headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("GET {path} sent no X-Total-Count"))
}

async fn total_orgs(client: &reqwest::Client, args: &Args) -> Result<u64, String> {
    total(client, args, "/api/organizations?limit=1&offset=0").await
}

/// Sends one request per item, `in_flight` at a time; the ids of those
/// that answered `expect`, or the first other answer.
async fn each(
    client: &reqwest::Client,
    args: &Args,
    items: Vec<(reqwest::Method, String, Option<serde_json::Value>)>,
    in_flight: usize,
    expect: u16,
) -> Result<Vec<String>, String> {
    let sem = Arc::new(tokio::sync::Semaphore::new(in_flight.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (method, path, body) in items {
        let (client, url, token, sem) = (client.clone(), format!("{}{path}", args.url), args.token.clone(), sem.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            let mut req = client.request(method, &url).bearer_auth(token);
            // By hand: the server's reqwest has no `json` feature (only the
            // tests' has, so a test build hid this).
            if let Some(b) = body {
                req = req.header("content-type", "application/json").body(b.to_string());
            }
            let res = req.send().await.map_err(|e| format!("{url}: {e}"))?;
            let status = res.status().as_u16();
            let text = res.text().await.map_err(|e| format!("{url}: {e}"))?;
            if status != expect {
                return Err(format!("{url} answered {status}: {}", &text[..text.len().min(300)]));
            }
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            Ok(v["id"].as_str().unwrap_or_default().to_owned())
        });
    }
    let mut ids = Vec::new();
    while let Some(done) = tasks.join_next().await {
        ids.push(done.map_err(|e| e.to_string())??);
    }
    Ok(ids)
}

/// Waits until `path`'s X-Total-Count reaches `n` (bounded by ten minutes).
async fn until_total(client: &reqwest::Client, args: &Args, path: &str, n: u64) -> Result<Duration, String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(600) {
        if total(client, args, path).await? >= n {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{path} never reached {n}"))
}

fn creations(prefix: &str, n: u64, template: &str, start: bool) -> Vec<(reqwest::Method, String, Option<serde_json::Value>)> {
    (0..n)
        .map(|i| {
            let body = serde_json::json!({ "name": format!("{prefix} {i}"), "template_id": template, "start": start });
            (reqwest::Method::POST, "/api/workspaces".to_owned(), Some(body))
        })
        .collect()
}

/// `--provision N`: N at once, until all run, then all gone.
async fn provision(client: &reqwest::Client, args: &Args, n: u64, template: &str) -> Result<(), String> {
    let started = Instant::now();
    let ids = each(client, args, creations("bench-run", n, template, true), n as usize, 201).await?;
    let accepted = started.elapsed();
    until_total(client, args, "/api/workspaces?status=running&limit=1", n).await?;
    let running = started.elapsed();
    println!(
        "{:<24} {n} workspaces requested at once: all accepted in {:.2} s, all running after {:.2} s",
        args.label,
        accepted.as_secs_f64(),
        running.as_secs_f64()
    );
    let deleting = Instant::now();
    let deletions = ids.iter().map(|id| (reqwest::Method::DELETE, format!("/api/workspaces/{id}"), None)).collect();
    each(client, args, deletions, n as usize, 200).await?;
    until_total(client, args, "/api/workspaces?status=deleted&limit=1", n).await?;
    println!(
        "{:<24} {n} workspaces deleted at once: containers and volumes gone after {:.2} s",
        args.label,
        deleting.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return;
    }
    if raw.iter().any(|a| a == "--audit" || a == "--audit-export") {
        if let Err(e) = audit_bench::run(&raw).await {
            eprintln!("neosc-bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    if raw.iter().any(|a| a == "--login-load") {
        if let Err(e) = login_load::run(&raw).await {
            eprintln!("neosc-bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    if raw.iter().any(|a| a == "--abandon-logins" || a == "--register-flood") {
        if let Err(e) = abuse::run(&raw).await {
            eprintln!("neosc-bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    let args = match parse_args(&raw) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("neosc-bench: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    if args.provision.is_some() || args.create_stopped.is_some() {
        let Some(template) = args.template.clone() else {
            eprintln!("neosc-bench: --provision and --create-stopped need --template");
            std::process::exit(2);
        };
        let done = async {
            if let Some(n) = args.provision {
                provision(&client, &args, n, &template).await?;
            }
            if let Some(n) = args.create_stopped {
                let started = Instant::now();
                each(&client, &args, creations("bench-row", n, &template, false), args.concurrency, 201).await?;
                println!("{:<24} {n} stopped workspaces allocated in {:.2} s", args.label, started.elapsed().as_secs_f64());
            }
            Ok::<_, String>(())
        };
        if let Err(e) = done.await {
            eprintln!("neosc-bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    let counted = if args.healthz_only {
        Ok(0)
    } else if args.workspaces {
        total(&client, &args, "/api/workspaces?limit=1").await
    } else {
        total_orgs(&client, &args).await
    };
    let total = match counted {
        Ok(t) => t,
        Err(e) => {
            eprintln!("neosc-bench: {e}");
            std::process::exit(1);
        }
    };
    let pages = total.div_ceil(100).max(1);
    let mut targets = if args.healthz_only {
        vec![Target::Health]
    } else if args.workspaces {
        vec![Target::Health, Target::WorkspacesFirst, Target::WorkspacesAny { pages }]
    } else {
        vec![Target::Health, Target::Me, Target::FirstPage, Target::AnyPage { pages }]
    };
    if args.page {
        targets.push(Target::HtmlPage);
    }
    if args.header {
        println!(
            "{:<24} {:<34} {:>9} {:>6} {:>8} {:>8} {:>8} {:>8}",
            "setup", "endpoint", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms"
        );
    }
    let mut failed = false;
    for target in targets {
        let _ = load(&client, &args, target.clone(), args.warmup, args.requests).await;
        let (mut out, elapsed) = load(&client, &args, target.clone(), args.duration, args.requests).await;
        out.latencies.sort_unstable();
        let n = out.latencies.len() as u64;
        println!(
            "{:<24} {:<34} {:>9} {:>6} {:>8.0} {:>8.2} {:>8.2} {:>8.2}",
            args.label,
            target.name(),
            n,
            out.errors,
            n as f64 / elapsed.as_secs_f64(),
            percentile(&out.latencies, 50.0),
            percentile(&out.latencies, 99.0),
            percentile(&out.latencies, 100.0),
        );
        if let Some(e) = out.first_error {
            eprintln!("neosc-bench: {} failed {} times; first: {e}", target.name(), out.errors);
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}

/// The abuse-resistance measurements (`--abandon-logins`,
/// `--register-flood`).
mod abuse {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::{flag_value, rss_kib, PeakRss};

    struct Abuse {
        url: String,
        server: SocketAddr,
        email: String,
        password: String,
    }

    pub async fn run(raw: &[String]) -> Result<(), String> {
        let url = flag_value(raw, "--url").ok_or("--url is required")?.trim_end_matches('/').to_owned();
        let host = url.strip_prefix("http://127.0.0.1:").ok_or("--url must be http://127.0.0.1:PORT here")?;
        let port: u16 = host.trim_end_matches('/').parse().map_err(|_| format!("no port in {url:?}"))?;
        let a = Abuse {
            server: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            url,
            email: flag_value(raw, "--login-email").ok_or("--login-email is required")?.to_owned(),
            password: flag_value(raw, "--login-password").ok_or("--login-password is required")?.to_owned(),
        };
        let number = |name: &str| -> Result<Option<u64>, String> {
            flag_value(raw, name).map(|v| v.parse::<u64>().map_err(|_| format!("{name} wants a whole number, not {v:?}"))).transpose()
        };
        if let Some(n) = number("--abandon-logins")? {
            let pid = number("--pid")?.ok_or("--abandon-logins needs --pid (the server's process)")?;
            abandon_logins(&a, n.min(60_000), pid).await?;
        }
        if let Some(n) = number("--register-flood")? {
            register_flood(&a, n.min(100_000)).await?;
        }
        Ok(())
    }

    /// The i-th loopback client address other than 127.0.0.1.
    fn client_ip(block: u8, i: u64) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(127, block, (i / 250) as u8, (i % 250) as u8 + 1))
    }

    /// A legitimate sign-in from 127.0.0.1: its status and latency.
    async fn legitimate_login(a: &Abuse) -> Result<(u16, Duration), String> {
        let client = reqwest::Client::builder()
            .local_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let body = serde_json::json!({ "email": a.email, "password": a.password }).to_string();
        let started = Instant::now();
        let res = client
            .post(format!("{}/api/auth/login", a.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("the legitimate sign-in: {e}"))?;
        Ok((res.status().as_u16(), started.elapsed()))
    }

    /// Sends one sign-in from `from` and hangs up without reading the
    /// answer.
    async fn send_and_hang_up(server: SocketAddr, from: IpAddr, i: u64) -> Result<(), String> {
        let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
        socket.bind(SocketAddr::new(from, 0)).map_err(|e| format!("bind {from}: {e}"))?;
        let stream = socket.connect(server).await.map_err(|e| format!("connect from {from}: {e}"))?;
        let body = format!(r#"{{"email":"abandoned-{i}@neogenesys.com","password":"not the password {i}"}}"#);
        let request = format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut left = request.as_bytes();
        while !left.is_empty() {
            stream.writable().await.map_err(|e| e.to_string())?;
            match stream.try_write(left) {
                Ok(n) => left = &left[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
        // Hang up at some point within the next second: some clients are
        // gone while their sign-in waits for a slot, some while its hash
        // runs.
        tokio::time::sleep(Duration::from_millis(i.wrapping_mul(7919) % 1000)).await;
        drop(stream);
        Ok(())
    }

    async fn abandon_logins(a: &Abuse, n: u64, pid: u64) -> Result<(), String> {
        let before = rss_kib(pid).ok_or(format!("no /proc/{pid}/status: is --pid the server?"))?;
        let sampler = PeakRss::start(pid, before, Duration::from_millis(5));
        let started = Instant::now();
        let mut sends = tokio::task::JoinSet::new();
        for i in 0..n {
            sends.spawn(send_and_hang_up(a.server, client_ip(1, i), i));
        }
        while let Some(done) = sends.join_next().await {
            done.map_err(|e| e.to_string())??;
        }
        let sent = started.elapsed();
        let (status, latency) = legitimate_login(a).await?;
        // Whatever the server still hashes for the vanished clients ends
        // within a few hash times.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let peak = sampler.stop().await?;
        let mib = |kib: u64| kib as f64 / 1024.0;
        println!("abandoned logins: {n} sent at once from {n} addresses, all hung up within {:.2} s", sent.as_secs_f64());
        println!(
            "abandoned logins: server RSS {:.1} MiB before, peak {:.1} MiB (sampled every 5 ms), {:.1} MiB after",
            mib(before),
            mib(peak),
            mib(rss_kib(pid).unwrap_or(0))
        );
        println!("abandoned logins: a legitimate sign-in right after answered {status} in {:.1} ms", latency.as_secs_f64() * 1000.0);
        if status != 200 {
            return Err(format!("the legitimate sign-in answered {status}"));
        }
        Ok(())
    }

    async fn register_flood(a: &Abuse, n: u64) -> Result<(), String> {
        let flooder = reqwest::Client::builder()
            .local_address(client_ip(2, 0))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let counts: Arc<[AtomicU64; 4]> = Arc::new(Default::default()); // 2xx, 429, 503, other
        let next = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (client, counts, next, url) = (flooder.clone(), counts.clone(), next.clone(), a.url.clone());
            workers.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    let body = serde_json::json!({
                        "email": format!("flood-{i}@neogenesys.com"), "password": "a flood of registrations", "name": "Flood"
                    });
                    let slot = match client
                        .post(format!("{url}/api/auth/register"))
                        .header("content-type", "application/json")
                        .body(body.to_string())
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => 0,
                        Ok(r) if r.status().as_u16() == 429 => 1,
                        Ok(r) if r.status().as_u16() == 503 => 2,
                        _ => 3,
                    };
                    counts[slot].fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // The legitimate sign-in starts while the flood is on.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (status, latency) = legitimate_login(a).await?;
        while let Some(done) = workers.join_next().await {
            done.map_err(|e| e.to_string())?;
        }
        let c = |i: usize| counts[i].load(Ordering::Relaxed);
        println!(
            "register flood: {n} registrations from one address in {:.2} s: {} accepted, {} answered 429, {} answered 503, {} other",
            started.elapsed().as_secs_f64(),
            c(0),
            c(1),
            c(2),
            c(3)
        );
        println!("register flood: a legitimate sign-in from another address answered {status} in {:.1} ms", latency.as_secs_f64() * 1000.0);
        if status != 200 {
            return Err(format!("the legitimate sign-in answered {status}"));
        }
        Ok(())
    }
}

/// `--audit ORG[,ORG…]` and `--audit-export ORG --pid PID`: the audit log
/// of issue 13 (scripts/bench-audit.sh runs them).
///
/// `--audit`: `/healthz`, then for each organization the list
/// (`GET /api/organizations/{id}/audit`, pages of 50) unfiltered and with
/// each filter, one after another, p50/p99 each. What the filters name is
/// read from the organization's newest events first: an actor (by user id
/// and by email) and the /24 of an office address among them, and one
/// month a year before the newest event. The exact action is
/// `remove_user_from_org` (about 2 % of seeded events), the pattern
/// `*_workspace` (the workspace family), the deep cursor `before=100`.
///
/// `--audit-export`: the organization's full export as CSV, then as JSON
/// Lines, read to the end as fast as the server sends it, while the
/// server's resident memory is sampled from /proc/PID/status every 10 ms:
/// bytes, events (the manifest's count), seconds, RSS before / peak /
/// after.
mod audit_bench {
    use std::time::{Duration, Instant};

    use super::{flag_value, parse_args, percentile, rss_kib, Args, Outcome, PeakRss, Target};

    /// A query value with the characters that mean something in a URL
    /// escaped.
    fn encode(v: &str) -> String {
        v.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    async fn get_json(client: &reqwest::Client, args: &Args, path: &str) -> Result<serde_json::Value, String> {
        let res =
            client.get(format!("{}{path}", args.url)).bearer_auth(&args.token).send().await.map_err(|e| format!("GET {path}: {e}"))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| format!("GET {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("GET {path} answered {status}: {}", &text[..text.len().min(300)]));
        }
        serde_json::from_str(&text).map_err(|e| format!("GET {path}: {e}"))
    }

    /// The endpoints for one organization: (name, path).
    async fn endpoints(client: &reqwest::Client, args: &Args, org: &str) -> Result<(i64, Vec<(String, String)>), String> {
        let base = format!("/api/organizations/{org}/audit");
        let page = get_json(client, args, &format!("{base}?limit=200")).await?;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        let newest = events.first().ok_or(format!("{org} has no audit events (seed it first)"))?;
        let head = newest["seq"].as_i64().unwrap_or(0);
        let user = events.iter().find(|e| e["actor"]["kind"] == "user").ok_or(format!("no event of {org} has a user as actor"))?;
        let (actor_id, actor_email) = (user["actor"]["id"].as_str().unwrap_or(""), user["actor"]["email"].as_str().unwrap_or(""));
        let office = events
            .iter()
            .filter_map(|e| e["context"]["ip"].as_str())
            .find(|ip| ip.starts_with("10."))
            .ok_or(format!("no event of {org} came from an office (10.x) address"))?;
        let network = format!("{}.0/24", office.rsplit_once('.').map_or(office, |(net, _)| net));
        let newest_at =
            newest["occurred_at"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).ok_or("no occurred_at")?;
        let from = newest_at - chrono::Duration::days(365);
        let to = from + chrono::Duration::days(30);
        let time = |t: chrono::DateTime<chrono::FixedOffset>| encode(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let list = [
            ("first page".to_owned(), String::new()),
            ("action=remove_user_from_org".to_owned(), "action=remove_user_from_org".to_owned()),
            ("action=*_workspace".to_owned(), "action=*_workspace".to_owned()),
            ("actor=<user id>".to_owned(), format!("actor={}", encode(actor_id))),
            ("actor=<email>".to_owned(), format!("actor={}", encode(actor_email))),
            ("from/to: 1 month, 1 year ago".to_owned(), format!("from={}&to={}", time(from), time(to))),
            ("outcome=denied".to_owned(), "outcome=denied".to_owned()),
            (format!("ip={network}"), format!("ip={}", encode(&network))),
            ("before=100 (deep cursor)".to_owned(), "before=100".to_owned()),
        ];
        Ok((
            head,
            list.into_iter()
                .map(|(name, q)| (format!("audit {name}"), if q.is_empty() { base.clone() } else { format!("{base}?{q}") }))
                .collect(),
        ))
    }

    fn row(label: &str, name: &str, mut out: Outcome, elapsed: Duration) -> bool {
        out.latencies.sort_unstable();
        let n = out.latencies.len() as u64;
        println!(
            "{:<24} {:<34} {:>9} {:>6} {:>8.0} {:>8.2} {:>8.2} {:>8.2}",
            label,
            name,
            n,
            out.errors,
            n as f64 / elapsed.as_secs_f64(),
            percentile(&out.latencies, 50.0),
            percentile(&out.latencies, 99.0),
            percentile(&out.latencies, 100.0),
        );
        if let Some(e) = out.first_error {
            eprintln!("neosc-bench: {name} failed {} times; first: {e}", out.errors);
            return false;
        }
        true
    }

    pub async fn run(raw: &[String]) -> Result<(), String> {
        let args = parse_args(raw)?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(args.concurrency)
            .timeout(Duration::from_secs(600))
            .build()
            .map_err(|e| e.to_string())?;
        if let Some(org) = flag_value(raw, "--audit-export") {
            let pid: u64 =
                flag_value(raw, "--pid").and_then(|p| p.parse().ok()).ok_or("--audit-export needs --pid (the server's process)")?;
            for format in ["csv", "jsonl"] {
                export(&client, &args, org, format, pid).await?;
            }
            return Ok(());
        }
        let orgs = flag_value(raw, "--audit").ok_or("--audit wants organization ids")?;
        if args.header {
            println!(
                "{:<24} {:<34} {:>9} {:>6} {:>8} {:>8} {:>8} {:>8}",
                "setup", "endpoint", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms"
            );
        }
        let mut ok = true;
        let _ = super::load(&client, &args, Target::Health, args.warmup, args.requests).await;
        let (out, elapsed) = super::load(&client, &args, Target::Health, args.duration, args.requests).await;
        ok &= row(&args.label, Target::Health.name(), out, elapsed);
        for org in orgs.split(',').filter(|o| !o.is_empty()) {
            let (head, list) = endpoints(&client, &args, org).await?;
            let label = format!("{} {}k-event org", args.label, (head + 500) / 1000);
            for (name, path) in list {
                let target = Target::Fixed(path.as_str().into());
                let _ = super::load(&client, &args, target.clone(), args.warmup, args.requests).await;
                let (out, elapsed) = super::load(&client, &args, target, args.duration, args.requests).await;
                ok &= row(&label, &name, out, elapsed);
            }
        }
        if ok {
            Ok(())
        } else {
            Err("some requests failed".into())
        }
    }

    async fn export(client: &reqwest::Client, args: &Args, org: &str, format: &str, pid: u64) -> Result<(), String> {
        let before = rss_kib(pid).ok_or(format!("no /proc/{pid}/status: is --pid the server?"))?;
        let sampler = PeakRss::start(pid, before, Duration::from_millis(10));
        let started = Instant::now();
        let path = format!("/api/organizations/{org}/audit/export?format={format}");
        let mut res =
            client.get(format!("{}{path}", args.url)).bearer_auth(&args.token).send().await.map_err(|e| format!("GET {path}: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("GET {path} answered {}", res.status()));
        }
        let (mut bytes, mut lines) = (0_u64, 0_u64);
        // The end of the body, for the manifest on its last line.
        let mut tail: Vec<u8> = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| format!("GET {path} cut short: {e}"))? {
            bytes += chunk.len() as u64;
            lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            tail.extend_from_slice(&chunk);
            if tail.len() > 64 * 1024 {
                tail.drain(..tail.len() - 8 * 1024);
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let peak = sampler.stop().await?;
        let text = String::from_utf8_lossy(&tail);
        let last = text.trim_end().rsplit('\n').next().unwrap_or("");
        let manifest: serde_json::Value = serde_json::from_str(last.strip_prefix("# manifest: ").unwrap_or(last)).unwrap_or_default();
        let manifest = if manifest.get("manifest").is_some() { manifest["manifest"].clone() } else { manifest };
        let count = manifest["count"].as_i64().ok_or(format!("the {format} export ended without its manifest line"))?;
        let mib = |kib: u64| kib as f64 / 1024.0;
        println!(
            "{:<24} export {format:<5} {count} events, {bytes} bytes ({:.0} MiB, {lines} lines) in {seconds:.1} s ({:.0} events/s); server RSS {:.1} MiB before, peak {:.1} MiB, {:.1} MiB after",
            args.label,
            bytes as f64 / 1048576.0,
            count as f64 / seconds,
            mib(before),
            mib(peak),
            mib(rss_kib(pid).unwrap_or(0))
        );
        Ok(())
    }
}

/// The login-load measurement (`--login-load N`): what a stream of
/// password sign-ins costs the server in memory and in latency for
/// everyone else, next to what the machine could hash at most.
mod login_load {
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::{flag_value, percentile, rss_kib, PeakRss};

    /// Requests to `/api/auth/me` per second while measuring: few enough
    /// not to be load themselves, enough for a p99.
    const ME_PER_SECOND: u64 = 100;

    struct Setup {
        url: String,
        email: String,
        password: String,
        in_flight: u64,
        duration: Duration,
        settle: Duration,
        pid: u64,
    }

    pub async fn run(raw: &[String]) -> Result<(), String> {
        let number = |name: &str, default: f64| -> Result<f64, String> {
            match flag_value(raw, name) {
                None => Ok(default),
                Some(v) => {
                    v.parse::<f64>().ok().filter(|n| *n > 0.0 && *n <= 3600.0).ok_or(format!("{name} wants a number above 0, not {v:?}"))
                }
            }
        };
        let url = flag_value(raw, "--url").ok_or("--url is required")?.trim_end_matches('/').to_owned();
        if !url.starts_with("http://127.0.0.1:") {
            return Err("--url must be http://127.0.0.1:PORT here".into());
        }
        let s = Setup {
            url,
            email: flag_value(raw, "--login-email").ok_or("--login-email is required")?.to_owned(),
            password: flag_value(raw, "--login-password").ok_or("--login-password is required")?.to_owned(),
            in_flight: number("--login-load", 4.0)?.min(1000.0) as u64,
            duration: Duration::from_secs_f64(number("--duration", 10.0)?),
            settle: Duration::from_secs_f64(number("--settle", 10.0)?),
            pid: flag_value(raw, "--pid")
                .ok_or("--login-load needs --pid (the server's process)")?
                .parse()
                .map_err(|_| "--pid wants a number")?,
        };
        measure(&s).await
    }

    /// The server's argon2id parameters: its defaults, or the same
    /// variables it reads.
    fn server_params() -> Result<argon2::Params, String> {
        let d = neosc::server::config::Argon2Params::default();
        let var = |name: &str, default: u32| -> Result<u32, String> {
            std::env::var(name).ok().map_or(Ok(default), |v| v.parse().map_err(|_| format!("{name}={v:?} is not a number")))
        };
        argon2::Params::new(var("NEOSC_ARGON2_M_KIB", d.m_kib)?, var("NEOSC_ARGON2_T", d.t)?, var("NEOSC_ARGON2_P", d.p)?, None)
            .map_err(|e| e.to_string())
    }

    /// The time of one argon2id hash with the server's parameters on one
    /// core of this machine: the median of five, after one unmeasured
    /// (its memory allocated once, as the server's hashing threads do).
    fn time_one_hash() -> Result<Duration, String> {
        let params = server_params()?;
        let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params.clone());
        let mut memory = vec![argon2::Block::default(); params.block_count()];
        let mut out = [0u8; 32];
        let mut times = Vec::new();
        for i in 0..6u8 {
            let started = Instant::now();
            argon2.hash_password_into_with_memory(b"a password to time", &[i; 16], &mut out, &mut memory).map_err(|e| e.to_string())?;
            if i > 0 {
                times.push(started.elapsed());
            }
        }
        times.sort_unstable();
        Ok(times[times.len() / 2])
    }

    fn client(from: IpAddr) -> Result<reqwest::Client, String> {
        reqwest::Client::builder().local_address(from).timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())
    }

    /// One password sign-in: its session token.
    async fn login(client: &reqwest::Client, s: &Setup) -> Result<String, String> {
        let body = serde_json::json!({ "email": s.email, "password": s.password }).to_string();
        let res = client
            .post(format!("{}/api/auth/login", s.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("sign-in: {e}"))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| format!("sign-in: {e}"))?;
        if !status.is_success() {
            return Err(format!("sign-in answered {status}: {}", &text[..text.len().min(200)]));
        }
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("sign-in answer: {e}"))?;
        v["token"].as_str().map(str::to_owned).ok_or_else(|| "sign-in answered no token".into())
    }

    /// `/api/auth/me` every 1/ME_PER_SECOND s for `time`, one at a time on
    /// one kept-alive connection: the latencies in µs.
    async fn time_me(client: &reqwest::Client, url: &str, token: &str, time: Duration) -> Result<Vec<u64>, String> {
        let mut latencies = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / ME_PER_SECOND));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let started = Instant::now();
        while started.elapsed() < time {
            tick.tick().await;
            let sent = Instant::now();
            let res = client.get(format!("{url}/api/auth/me")).bearer_auth(token).send().await.map_err(|e| format!("/api/auth/me: {e}"))?;
            let status = res.status();
            res.bytes().await.map_err(|e| format!("/api/auth/me: {e}"))?;
            if !status.is_success() {
                return Err(format!("/api/auth/me answered {status}"));
            }
            latencies.push(sent.elapsed().as_micros() as u64);
        }
        latencies.sort_unstable();
        Ok(latencies)
    }

    async fn measure(s: &Setup) -> Result<(), String> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let hash = time_one_hash()?;
        let limit = cores as f64 / hash.as_secs_f64();
        let me_client = client(IpAddr::V4(Ipv4Addr::LOCALHOST))?;
        let token = login(&me_client, s).await?;
        // Settle after the sign-in above (its hash, its memory).
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = rss_kib(s.pid).ok_or(format!("no /proc/{}/status: is --pid the server?", s.pid))?;
        let idle = time_me(&me_client, &s.url, &token, s.duration).await?;

        let (logins, failures) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let sampler = PeakRss::start(s.pid, before, Duration::from_millis(5));
        let started = Instant::now();
        let deadline = started + s.duration;
        let mut workers = tokio::task::JoinSet::new();
        for w in 0..s.in_flight {
            // Each from its own address (127.3.x.y), so the per-address
            // throttle sees no crowd; a success refunds the account's
            // attempt, so the account's throttle stays quiet too.
            let from = IpAddr::V4(Ipv4Addr::new(127, 3, (w / 250) as u8, (w % 250) as u8 + 1));
            let (c, logins, failures) = (client(from)?, logins.clone(), failures.clone());
            let setup = Setup { url: s.url.clone(), email: s.email.clone(), password: s.password.clone(), ..*s };
            workers.spawn(async move {
                let mut first_error = None;
                while Instant::now() < deadline {
                    match login(&c, &setup).await {
                        Ok(_) => logins.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            first_error.get_or_insert(e);
                            failures.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
                first_error
            });
        }
        let loaded = time_me(&me_client, &s.url, &token, s.duration).await?;
        let mut first_error = None;
        while let Some(done) = workers.join_next().await {
            if let Some(e) = done.map_err(|e| e.to_string())? {
                first_error.get_or_insert(e);
            }
        }
        let elapsed = started.elapsed();
        let during_peak = sampler.peak();
        tokio::time::sleep(s.settle).await;
        sampler.stop().await?;
        let after = rss_kib(s.pid).unwrap_or(0);

        let (ok, failed) = (logins.load(Ordering::Relaxed), failures.load(Ordering::Relaxed));
        let rate = ok as f64 / elapsed.as_secs_f64();
        let mib = |kib: u64| kib as f64 / 1024.0;
        let (idle99, load99) = (percentile(&idle, 99.0), percentile(&loaded, 99.0));
        println!(
            "login load: argon2id limit {limit:.1}/s ({cores} cores / {:.1} ms per hash, one hash on one core)",
            hash.as_secs_f64() * 1000.0
        );
        println!(
            "login load: {ok} password sign-ins in {:.1} s at {} in flight ({failed} failed): {rate:.1}/s = {:.2} of the limit",
            elapsed.as_secs_f64(),
            s.in_flight,
            rate / limit
        );
        println!(
            "login load: server RSS {:.1} MiB before, peak {:.1} MiB during (sampled every 5 ms), {:.1} MiB after {:.0} s idle",
            mib(before),
            mib(during_peak),
            mib(after),
            s.settle.as_secs_f64()
        );
        println!(
            "login load: /api/auth/me ({ME_PER_SECOND}/s, one at a time) idle p50 {:.2} ms p99 {:.2} ms; under load p50 {:.2} ms p99 {:.2} ms; p99 ratio {:.1}",
            percentile(&idle, 50.0),
            idle99,
            percentile(&loaded, 50.0),
            load99,
            load99 / idle99
        );
        if let Some(e) = first_error {
            return Err(format!("{failed} sign-ins failed; first: {e}"));
        }
        Ok(())
    }
}
