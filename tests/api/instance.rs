//! A real `neosc serve` process, the binary cargo built for these tests, on
//! a database the test shares with it: for what only another process can
//! show, such as an instance that dies by `kill -9` halfway through its work.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD};

pub struct Instance {
    name: &'static str,
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    log: PathBuf,
}

impl Instance {
    /// Starts `neosc serve` on `database_url` with the Docker engine and
    /// `env` on top, and waits (bounded: 60 s) until its /healthz answers.
    /// Nothing of the test process's own environment that the server reads
    /// leaks in, so the instance runs exactly as configured here.
    pub async fn start(name: &'static str, database_url: &str, env: &[(&str, &str)]) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::env::temp_dir().join(format!("neosc-{name}-{}.log", uuid::Uuid::now_v7().simple()));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_neosc"));
        cmd.arg("serve");
        for (key, _) in std::env::vars() {
            if key.starts_with("NEOSC_") || key.starts_with("LEPTOS_") || key == "DATABASE_URL" || key == "RUST_LOG" {
                cmd.env_remove(key);
            }
        }
        let site_addr = format!("127.0.0.1:{port}");
        let basics = [
            ("DATABASE_URL", database_url),
            ("LEPTOS_SITE_ADDR", site_addr.as_str()),
            ("LEPTOS_OUTPUT_NAME", "neosc"),
            ("NEOSC_ADMIN_EMAIL", ADMIN_EMAIL),
            ("NEOSC_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("NEOSC_WORKSPACE_ENGINE", "docker"),
            ("RUST_LOG", "info,sqlx=warn"),
        ];
        cmd.envs(basics).envs(env.iter().copied());
        let out = std::fs::File::create(&log).unwrap();
        cmd.stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(out);
        let child = cmd.spawn().expect("the neosc binary starts");
        let mut instance = Instance { name, child, address: format!("http://{site_addr}"), log };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(Some(status)) = instance.child.try_wait() {
                panic!("instance {name} exited at start-up ({status}):\n{}", instance.log_text());
            }
            if client.get(format!("{}/healthz", instance.address)).send().await.is_ok_and(|r| r.status().is_success()) {
                return instance;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("instance {name} never answered /healthz:\n{}", instance.log_text());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: SIGKILL, no chance to finish or clean up anything; waits
    /// until the process is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let status = self.child.wait().expect("the killed instance is reaped");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "instance {} died of SIGKILL", self.name);
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failing test shows what the server said.
        if std::thread::panicking() {
            let text = self.log_text();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            eprintln!("--- last lines of instance {} ---", self.name);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        let _ = std::fs::remove_file(&self.log);
    }
}
