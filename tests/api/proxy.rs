//! Behind a reverse proxy (issue 12): the client a trusted proxy forwards
//! for is the one throttled, audited and listed; a peer that is not trusted
//! cannot name itself anyone. And the connection limits of the server loop
//! itself: a stalled request head is cut off, a connection serves a bounded
//! number of requests.

use std::time::{Duration as StdDuration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// The test client connects from 127.0.0.1: that is the "proxy".
const BEHIND_PROXY: &[(&str, &str)] = &[("NEOSC_TRUSTED_PROXIES", "127.0.0.1/32")];
/// One second to send a request head, three requests per connection.
const TIGHT_CONNECTIONS: &[(&str, &str)] = &[("NEOSC_HEADER_READ_TIMEOUT_SECS", "1"), ("NEOSC_MAX_REQUESTS_PER_CONNECTION", "3")];

async fn login_from(app: &TestApp, forwarded_for: &str, email: &str, password: &str) -> reqwest::Response {
    app.post("/api/auth/login")
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/account/sessions").bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// The `ip` of every audit event of `action`, oldest first, read from the
/// table itself (no API shows it).
async fn audit_ips(app: &TestApp, action: &str) -> Vec<Option<String>> {
    let sql = "SELECT ip FROM audit_events WHERE action = $1 ORDER BY created_at, id";
    if app.database_url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar(sql).bind(action).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar(sql).bind(action).fetch_all(&mut c).await.unwrap()
    }
}

/// Fails `n` sign-ins to as many unknown accounts from `client`.
async fn spray(app: &TestApp, client: &str, tag: &str, n: usize) {
    for i in 0..n {
        let res = login_from(app, client, &format!("{tag}{i}@neogenesys.com"), "wrong password here").await;
        assert!(matches!(res.status(), StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS), "attempt {i}: {}", res.status());
    }
}

both_backends! {
    env = BEHIND_PROXY;

    async fn behind_a_trusted_proxy_one_clients_failures_do_not_stop_another(app: TestApp) {
        app.register_ok("alice@neogenesys.com", "Alice", None).await;
        spray(&app, "203.0.113.5", "spray", 25).await;
        let res = login_from(&app, "203.0.113.5", "spray-next@neogenesys.com", "wrong password here").await;
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
        // A client cannot escape by claiming another address left of the one
        // the proxy appended.
        let res = login_from(&app, "203.0.113.77, 203.0.113.5", "spray-next@neogenesys.com", "wrong password here").await;
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;

        let res = login_from(&app, "203.0.113.6", "alice@neogenesys.com", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "another client behind the same proxy signs in");
        let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();

        let list = sessions(&app, &token).await;
        let current = list.iter().find(|s| s["current"] == true).expect("the current session is listed");
        assert_eq!(current["ip"], "203.0.113.6", "the sessions list shows the forwarded address: {current}");
        assert_eq!(audit_ips(&app, "login").await.last().cloned().flatten().as_deref(), Some("203.0.113.6"));
        let failed = audit_ips(&app, "login_failed").await;
        assert!(!failed.is_empty() && failed.iter().all(|ip| ip.as_deref() == Some("203.0.113.5")), "{failed:?}");
    }

    async fn ipv6_clients_are_throttled_by_their_64(app: TestApp) {
        app.register_ok("v6@neogenesys.com", "Six", None).await;
        spray(&app, "2001:db8:1:2::1", "six", 25).await;
        // Another address of the same /64 is the same subscriber.
        let res = login_from(&app, "[2001:db8:1:2:ffff::9]:443", "v6@neogenesys.com", PASSWORD).await;
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
        let res = login_from(&app, "2001:db8:1:3::1", "v6@neogenesys.com", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "the next /64 is someone else");
        let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        let list = sessions(&app, &token).await;
        assert_eq!(list.iter().find(|s| s["current"] == true).unwrap()["ip"], "2001:db8:1:3::1");
    }

    async fn the_forwarded_header_and_server_functions_use_the_same_address(app: TestApp) {
        app.register_ok("fwd@neogenesys.com", "Fwd", None).await;
        // The browser signs in through a server function, with RFC 7239.
        let res = app
            .post("/api/fn/login")
            .header("forwarded", r#"for="[2001:db8:cafe::17]:4711";proto=https"#)
            .form(&[("email", "fwd@neogenesys.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success() || res.status().is_redirection(), "{}", res.status());
        let cookie = res.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().split(';').next().unwrap().to_owned();
        let list: Vec<Value> = app.get("/api/account/sessions").header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
        assert_eq!(list.iter().find(|s| s["current"] == true).unwrap()["ip"], "2001:db8:cafe::17");
        // Garbage falls back to the proxy itself, never to a guess.
        let res = login_from(&app, "203.0.113.9, not-an-address", "fwd@neogenesys.com", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        assert_eq!(sessions(&app, &token).await.iter().find(|s| s["current"] == true).unwrap()["ip"], "127.0.0.1");
    }
}

both_backends! {
    async fn without_trusted_proxies_forwarding_headers_are_ignored(app: TestApp) {
        app.register_ok("direct@neogenesys.com", "Direct", None).await;
        let res = app
            .post("/api/auth/login")
            .header("x-forwarded-for", "203.0.113.5")
            .header("forwarded", "for=203.0.113.6")
            .json(&json!({ "email": "direct@neogenesys.com", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        let list = sessions(&app, &token).await;
        assert_eq!(list.iter().find(|s| s["current"] == true).unwrap()["ip"], "127.0.0.1");
        assert_eq!(audit_ips(&app, "login").await.last().cloned().flatten().as_deref(), Some("127.0.0.1"));
        // Rotating the header buys a spraying client nothing.
        for i in 0..20 {
            let res = login_from(&app, &format!("198.51.100.{i}"), &format!("rot{i}@neogenesys.com"), "wrong password here").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        }
        assert_problem(login_from(&app, "198.51.100.200", "rot@neogenesys.com", "wrong password here").await, StatusCode::TOO_MANY_REQUESTS).await;
    }
}

fn host_port(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Reads one response (head and `Content-Length` body) off the stream; the
/// head, lower-cased.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(StdDuration::from_secs(5), stream.read(&mut byte)).await.expect("a response in time").unwrap();
        assert_eq!(n, 1, "the connection closed before a whole response head: {:?}", String::from_utf8_lossy(&buf));
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap().to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap())
        .expect("healthz answers with a length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    head
}

/// Whether the server closes the connection within `within`.
async fn closed_within(stream: &mut TcpStream, within: StdDuration) -> bool {
    let mut rest = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut rest)).await {
        Ok(Ok(_)) => rest.is_empty() || !String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 200"),
        Ok(Err(_)) => true,
        Err(_) => false,
    }
}

both_backends! {
    env = TIGHT_CONNECTIONS;

    async fn a_stalled_request_head_is_cut_off_and_normal_requests_work(app: TestApp) {
        // A slowloris client: half a request head, then nothing.
        let mut slow = TcpStream::connect(host_port(&app)).await.unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await.unwrap();
        let started = Instant::now();
        assert!(closed_within(&mut slow, StdDuration::from_secs(5)).await, "the server closes a stalled request head");
        let took = started.elapsed();
        assert!(took >= StdDuration::from_millis(800), "not before the timeout: {took:?}");
        // A connection that opens and says nothing is closed the same way.
        let mut silent = TcpStream::connect(host_port(&app)).await.unwrap();
        assert!(closed_within(&mut silent, StdDuration::from_secs(5)).await, "an idle connection is closed");

        // Meanwhile a normal client is served, over HTTP as the tests speak it.
        assert_eq!(app.get("/healthz").send().await.unwrap().status(), StatusCode::OK);
        let mut normal = TcpStream::connect(host_port(&app)).await.unwrap();
        normal.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
        assert!(read_response(&mut normal).await.starts_with("http/1.1 200"));
    }

    async fn a_connection_serves_a_bounded_number_of_requests(app: TestApp) {
        let mut conn = TcpStream::connect(host_port(&app)).await.unwrap();
        for i in 1..=3 {
            conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
            let head = read_response(&mut conn).await;
            assert!(head.starts_with("http/1.1 200"), "request {i}: {head}");
            assert_eq!(head.contains("connection: close"), i == 3, "request {i}: {head}");
        }
        // The fourth request is never read: the server hung up after the third.
        let _ = conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
        assert!(closed_within(&mut conn, StdDuration::from_secs(2)).await, "the connection ends after its third response");
    }
}
