//! The HTTP/1 server loop: what `axum::serve` does (a task per connection,
//! `ConnectInfo<SocketAddr>` on every request, upgrades, graceful shutdown),
//! plus the limits it cannot be told: a deadline for each request head
//! (slowloris: a client dribbling header bytes holds a connection and a
//! task for ever otherwise) and a cap on requests per connection. `main` and
//! the integration tests both serve through here.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Per-connection limits, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// How long a request head may take to arrive, counted from when the
    /// connection is ready for one (accepted, or idle after a response).
    pub header_read_timeout: Duration,
    /// The response to this request says `Connection: close`.
    pub max_requests: u64,
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops
/// accepting, lets every connection finish the request it is in, and
/// returns once all have closed.
pub async fn serve(listener: TcpListener, router: Router, limits: ConnectionLimits, shutdown: impl Future<Output = ()>) {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    // Connections watch `stop` to begin their graceful shutdown; each holds
    // a `done` receiver, so the sender sees them all gone.
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let service = PerConnection { router: router.clone(), remote, served: Arc::new(AtomicU64::new(0)), max: limits.max_requests };
        let connection = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let mut connection = pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%remote, error = %e, "connection ended with an error");
                    }
                }
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                }
            }
            drop(done);
        });
    }
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(());
    drop(done_rx);
    done_tx.closed().await;
}

/// Errors of one incoming connection (reset before it was accepted) are
/// not the listener's; anything else (out of file descriptors) would fail
/// again at once, so wait a moment before the next accept.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The router as one connection sees it: each request carries the peer
/// address, and the `max`-th response closes the connection.
#[derive(Clone)]
struct PerConnection {
    router: Router,
    remote: SocketAddr,
    served: Arc<AtomicU64>,
    max: u64,
}

impl hyper::service::Service<Request<Incoming>> for PerConnection {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(ConnectInfo(self.remote));
        let last = self.served.fetch_add(1, Ordering::Relaxed) + 1 >= self.max;
        let router = self.router.clone();
        Box::pin(async move {
            let mut res = router.oneshot(req.map(axum::body::Body::new)).await?;
            if last {
                // hyper ends the connection after a response that says so.
                res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(res)
        })
    }
}
