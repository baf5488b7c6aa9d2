//! A socket in front of the real Docker Engine that passes every call
//! except "start a container", which it holds for as long as the caller
//! waits: an instance behind it makes its containers and then sits in the
//! middle of provisioning, so a test can kill it at exactly that moment
//! rather than hoping to hit a window of a few milliseconds.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

const ENGINE_SOCKET: &str = "/var/run/docker.sock";

pub struct StartGate {
    path: PathBuf,
    held: Arc<AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
}

impl StartGate {
    pub fn open() -> Self {
        let path = std::env::temp_dir().join(format!("neosc-gate-{}.sock", uuid::Uuid::now_v7().simple()));
        let listener = UnixListener::bind(&path).unwrap();
        let held = Arc::new(AtomicUsize::new(0));
        let counter = held.clone();
        let accept = tokio::spawn(async move {
            // Dropped with the accept task: every relay ends with the gate.
            let mut relays = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                relays.spawn(relay(client, counter.clone()));
            }
        });
        Self { path, held, accept }
    }

    /// For `NEOSC_DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// Waits (bounded: 120 s) until `n` start calls are held.
    pub async fn until_held(&self, n: usize) {
        for _ in 0..1200 {
            if self.held.load(Ordering::SeqCst) >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("only {} of {n} container starts reached the engine gate", self.held.load(Ordering::SeqCst));
    }
}

impl Drop for StartGate {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Relays one client connection; a start request is swallowed, never
/// answered, and the connection left open until the client goes.
async fn relay(client: UnixStream, held: Arc<AtomicUsize>) {
    let Ok(engine) = UnixStream::connect(ENGINE_SOCKET).await else { return };
    let (mut client_r, mut client_w) = client.into_split();
    let (mut engine_r, mut engine_w) = engine.into_split();
    let answers = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut engine_r, &mut client_w).await;
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match client_r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // A request's head arrives in one write of the client's, so a read
        // that begins a request begins with its request line.
        if is_container_start(&buf[..n]) {
            held.fetch_add(1, Ordering::SeqCst);
            let _ = tokio::io::copy(&mut client_r, &mut tokio::io::sink()).await;
            break;
        }
        if engine_w.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    answers.abort();
}

/// `POST /v1.41/containers/<name>/start …`.
fn is_container_start(chunk: &[u8]) -> bool {
    let line = chunk.split(|b| *b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    parts.next() == Some("POST")
        && parts.next().is_some_and(|target| {
            let path = target.split('?').next().unwrap_or_default();
            path.contains("/containers/") && path.ends_with("/start")
        })
}

#[test]
fn only_a_container_start_is_held() {
    assert!(is_container_start(b"POST /v1.41/containers/neosc-ws-1/start HTTP/1.1\r\nHost: docker\r\n\r\n"));
    assert!(is_container_start(b"POST /containers/neosc-ws-1/start? HTTP/1.1\r\n"));
    assert!(!is_container_start(b"POST /v1.41/containers/create?name=neosc-ws-1 HTTP/1.1\r\n"));
    assert!(!is_container_start(b"GET /v1.41/containers/neosc-ws-1/json HTTP/1.1\r\n"));
    assert!(!is_container_start(b"POST /v1.41/containers/neosc-ws-1/stop?t=10 HTTP/1.1\r\n"));
}
