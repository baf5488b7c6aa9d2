//! Sends each organization's audit events to its SIEM (README, "Streaming
//! to a SIEM"). Every instance runs one worker; they share the work through
//! the database:
//!
//! - a stream is taken by a conditional UPDATE (`claim_audit_stream`) with
//!   a lease, so of several instances exactly one sends its next batch, and
//!   a lease that expires (the instance died) lets another go on;
//! - the stream's position (`last_delivered_seq`) moves only when the
//!   receiver answered 2xx, and only from where the sender started while it
//!   still holds the lease: batches go in seq order, none is skipped, and a
//!   restart (or another instance) resumes from the last acknowledged seq.
//!   A batch the receiver took but whose acknowledgement was lost is sent
//!   again: at least once, in order.
//! - a failure is kept on the stream (`failures`, `last_error`) and the
//!   next attempt waits 1 s, 2 s, 4 s … up to 5 minutes, plus jitter.
//!
//! Each request is signed: `X-NeoSC-Signature: sha256=<hex HMAC-SHA256 of
//! "<timestamp>.<body>">`. The receiver's host is resolved at every
//! delivery and each address checked (no private, loopback, link-local or
//! metadata addresses: the server must not be a way into its own network),
//! and the connection goes to exactly the addresses checked.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::db::AuditStreamRecord;
use super::error::ServiceResult;
use super::service::audit::{chain_key, view_of};
use super::state::AppState;
use crate::model::OrgId;

/// Events per request at most.
pub const BATCH: i64 = 100;
/// Batches one lease sends at most before it lets the stream go.
const BATCHES_PER_LEASE: usize = 10;
/// How long a taken stream stays with this instance without a word.
const LEASE: Duration = Duration::from_secs(30);
/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the receiver's host may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Streams one pass looks at.
const DUE_PER_PASS: i64 = 64;

pub const SIGNATURE_HEADER: &str = "x-neosc-signature";
pub const TIMESTAMP_HEADER: &str = "x-neosc-timestamp";
pub const DELIVERY_HEADER: &str = "x-neosc-delivery";
pub const FIRST_SEQ_HEADER: &str = "x-neosc-first-seq";
pub const LAST_SEQ_HEADER: &str = "x-neosc-last-seq";

/// `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>").
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes()))
}

/// The pause after the `failures`-th failure in a row (counting from 0):
/// 1 s, 2 s, 4 s … up to 5 minutes, plus up to a quarter more at random so
/// instances and streams do not retry in step.
pub fn backoff(failures: i64) -> Duration {
    let base = Duration::from_secs(1u64 << failures.clamp(0, 16) as u32).min(MAX_BACKOFF);
    let jitter = rand::thread_rng().gen_range(0..=base.as_millis() as u64 / 4);
    base + Duration::from_millis(jitter)
}

/// Why an address may not receive a stream, if it may not. Loopback passes
/// only when `allow_loopback`.
pub fn forbidden_address(ip: IpAddr, allow_loopback: bool) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                (!allow_loopback).then_some("a loopback address")
            } else if v4.is_private() {
                Some("a private address")
            } else if v4.is_link_local() {
                Some("a link-local address (cloud metadata lives there)")
            } else if a == 100 && (64..128).contains(&b) {
                Some("a shared (carrier-grade NAT) address")
            } else if v4.is_unspecified() || a == 0 {
                Some("an unspecified address")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("a multicast or reserved address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_address(IpAddr::V4(v4), allow_loopback);
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                (!allow_loopback).then_some("a loopback address")
            } else if v6.is_unspecified() {
                Some("an unspecified address")
            } else if (first & 0xfe00) == 0xfc00 {
                Some("a private (unique local) address")
            } else if (first & 0xffc0) == 0xfe80 {
                Some("a link-local address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                // NAT64: the IPv4 address it stands for decides.
                let [.., c, d] = v6.segments();
                let v4 = std::net::Ipv4Addr::from(((c as u32) << 16) | d as u32);
                forbidden_address(IpAddr::V4(v4), allow_loopback)
            } else {
                None
            }
        }
    }
}

fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A receiver URL as the installation accepts it, or why not (a sentence
/// for the admin). Checks the form and an address written in the URL;
/// `resolve_receiver` checks where a name leads.
pub fn check_receiver(raw: &str, allow_loopback: bool) -> Result<url::Url, String> {
    let raw = raw.trim();
    if raw.len() > 2048 {
        return Err("The URL is longer than 2048 characters.".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL ({e})."))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && is_loopback_host(&url) => {}
        _ => return Err("The receiver URL must start with https:// (audit events are sent over TLS only).".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Leave credentials out of the URL: the receiver checks the X-NeoSC-Signature header instead.".into());
    }
    if url.fragment().is_some() {
        return Err("The URL must not have a #fragment.".into());
    }
    let ip = match url.host() {
        None => return Err("The URL has no host.".into()),
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") && !allow_loopback => {
            return Err("The receiver must not be on this server (localhost).".into())
        }
        Some(url::Host::Domain(_)) => None,
    };
    if let Some(ip) = ip {
        if let Some(why) = forbidden_address(ip, allow_loopback) {
            return Err(format!("The receiver must be on a public address; {ip} is {why}."));
        }
    }
    Ok(url)
}

/// Every address the receiver's host has now, each checked; an error (a
/// sentence) when one is not allowed or the name does not resolve.
pub async fn resolve_receiver(url: &url::Url, allow_loopback: bool) -> Result<Vec<SocketAddr>, String> {
    let host = url.host_str().ok_or("The URL has no host.")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_known_default().unwrap_or(443);
    let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| format!("{host} did not resolve within {} s.", RESOLVE_TIMEOUT.as_secs()))?
        .map_err(|_| format!("{host} does not resolve."))?;
    let addrs: Vec<SocketAddr> = found.collect();
    if addrs.is_empty() {
        return Err(format!("{host} has no address."));
    }
    for a in &addrs {
        if let Some(why) = forbidden_address(a.ip(), allow_loopback) {
            return Err(format!("The receiver must be on a public address; {host} resolves to {}, {why}.", a.ip()));
        }
    }
    Ok(addrs)
}

pub struct Delivery {
    state: AppState,
    /// This instance, as lease owner.
    instance: Uuid,
}

/// How one request ended.
enum Sent {
    Acknowledged,
    /// Why not, for `last_error` (never the secret, nor the body).
    Failed(String),
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Delivery {
    pub fn new(state: AppState) -> Self {
        Self { state, instance: Uuid::now_v7() }
    }

    /// Runs passes until the process ends.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let this = Arc::new(self);
        tokio::spawn(async move {
            loop {
                if let Err(e) = this.pass().await {
                    tracing::warn!(error = %e.log_detail(), "audit stream pass failed");
                }
                tokio::time::sleep(this.state.config.audit_stream.interval).await;
            }
        })
    }

    /// One pass: every due stream with events to send that this instance
    /// could take, sent concurrently. Answers how many it took.
    pub async fn pass(self: &Arc<Self>) -> ServiceResult<usize> {
        let now = self.state.clock.now();
        let due = self.state.store.conn().await?.due_audit_streams(now, DUE_PER_PASS).await?;
        let mut work = JoinSet::new();
        for candidate in due {
            // Nothing new: not worth a write.
            let head = self.state.store.conn().await?.audit_head(&chain_key(Some(candidate.organization_id))).await?;
            if head.map_or(0, |h| h.seq) <= candidate.last_delivered_seq {
                continue;
            }
            let taken = {
                let mut db = self.state.store.conn().await?;
                db.claim_audit_stream(candidate.id, self.instance, now, now + chrono(LEASE)).await?
            };
            let Some(stream) = taken else { continue };
            let this = self.clone();
            work.spawn(async move {
                let id = stream.id;
                if let Err(e) = this.deliver(stream).await {
                    tracing::warn!(stream = %id, error = %e.log_detail(), "audit stream delivery failed");
                    if let Ok(mut db) = this.state.store.conn().await {
                        let _ = db.release_audit_stream(id, this.instance).await;
                    }
                }
            });
        }
        let taken = work.len();
        while work.join_next().await.is_some() {}
        Ok(taken)
    }

    /// Sends batches of a taken stream until it is caught up, a request
    /// fails, the stream moved under us, or `BATCHES_PER_LEASE`.
    async fn deliver(&self, stream: AuditStreamRecord) -> ServiceResult<()> {
        let allow_loopback = self.state.config.audit_stream.allow_http_loopback;
        let secret = match self.state.secrets.open(stream.id, &stream.secret_sealed) {
            Ok(secret) => secret,
            Err(e) => {
                tracing::error!(stream = %stream.id, error = %e, "audit stream secret does not open");
                return self.failed(&stream, "the signing secret cannot be opened (secret key missing); rotate it").await;
            }
        };
        let mut last = stream.last_delivered_seq;
        for _ in 0..BATCHES_PER_LEASE {
            let rows = self.state.store.conn().await?.audit_chain_page(Some(stream.organization_id), last, i64::MAX, BATCH).await?;
            let (Some(first), Some(end)) = (rows.first().and_then(|r| r.seq), rows.last().and_then(|r| r.seq)) else {
                break;
            };
            let events: Vec<_> = rows.iter().map(view_of).collect();
            let body = serde_json::to_vec(&serde_json::json!({
                "organization_id": OrgId(stream.organization_id).to_string(),
                "events": events,
            }))
            .map_err(crate::server::error::ServiceError::internal)?;
            match self.send(&stream.url, allow_loopback, &secret, &body, first, end).await {
                Sent::Acknowledged => {
                    let now = self.state.clock.now();
                    let mut db = self.state.store.conn().await?;
                    if !db.advance_audit_stream(stream.id, self.instance, last, end, now, now + chrono(LEASE)).await? {
                        // Rewound by an admin, or the lease went to another
                        // instance: the next pass starts from what is stored.
                        tracing::info!(stream = %stream.id, "audit stream moved during a delivery; not advanced");
                        break;
                    }
                    last = end;
                }
                Sent::Failed(why) => return self.failed(&stream, &why).await,
            }
        }
        self.state.store.conn().await?.release_audit_stream(stream.id, self.instance).await?;
        Ok(())
    }

    async fn failed(&self, stream: &AuditStreamRecord, why: &str) -> ServiceResult<()> {
        let now = self.state.clock.now();
        let due: DateTime<Utc> = now + chrono(backoff(stream.failures));
        tracing::warn!(stream = %stream.id, failures = stream.failures + 1, error = why, "audit stream delivery failed");
        self.state.store.conn().await?.fail_audit_stream(stream.id, self.instance, why, now, due).await?;
        Ok(())
    }

    /// One signed POST to the receiver, at the addresses checked now.
    async fn send(&self, raw_url: &str, allow_loopback: bool, secret: &[u8], body: &[u8], first: i64, last: i64) -> Sent {
        let url = match check_receiver(raw_url, allow_loopback) {
            Ok(url) => url,
            Err(why) => return Sent::Failed(why),
        };
        let addrs = match resolve_receiver(&url, allow_loopback).await {
            Ok(addrs) => addrs,
            Err(why) => return Sent::Failed(why),
        };
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("NeoSC-Audit-Stream/", env!("CARGO_PKG_VERSION")));
        if let Some(url::Host::Domain(host)) = url.host() {
            // Connect to the addresses just checked, not to whatever the
            // name resolves to a moment later.
            client = client.resolve_to_addrs(host, &addrs);
        }
        let client = match client.build() {
            Ok(c) => c,
            Err(e) => return Sent::Failed(format!("HTTP client: {e}")),
        };
        // The receiver compares this with its own clock (replay window):
        // wall-clock time, whatever clock schedules the retries.
        let timestamp = Utc::now().timestamp();
        let response = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(secret, timestamp, body))
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(DELIVERY_HEADER, Uuid::now_v7().to_string())
            .header(FIRST_SEQ_HEADER, first.to_string())
            .header(LAST_SEQ_HEADER, last.to_string())
            .body(body.to_vec())
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => Sent::Acknowledged,
            Ok(r) => Sent::Failed(format!("HTTP {}", r.status().as_u16())),
            Err(e) if e.is_timeout() => Sent::Failed(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())),
            Err(e) if e.is_connect() => Sent::Failed("could not connect".into()),
            Err(_) => Sent::Failed("the request failed".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_link_local_and_metadata_addresses_are_refused() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(forbidden_address(ip.parse().unwrap(), true).is_some(), "{ip}");
        }
        for ip in ["127.0.0.1", "::1"] {
            assert!(forbidden_address(ip.parse().unwrap(), false).is_some(), "{ip}");
            assert!(forbidden_address(ip.parse().unwrap(), true).is_none(), "{ip}");
        }
        for ip in ["8.8.8.8", "2606:4700::1111", "198.51.99.1"] {
            assert!(forbidden_address(ip.parse().unwrap(), false).is_none(), "{ip}");
        }
    }

    #[test]
    fn receivers_are_https_and_http_only_to_loopback_when_allowed() {
        assert!(check_receiver("https://siem.example.com/hook", false).is_ok());
        assert!(check_receiver("http://siem.example.com/hook", true).unwrap_err().contains("https://"));
        assert!(check_receiver("http://127.0.0.1:9/hook", false).is_err());
        assert!(check_receiver("http://127.0.0.1:9/hook", true).is_ok());
        assert!(check_receiver("https://localhost/hook", false).is_err());
        assert!(check_receiver("https://[::1]/hook", true).is_ok());
        assert!(check_receiver("https://10.0.0.1/hook", true).unwrap_err().contains("private"));
        assert!(check_receiver("https://user:pw@siem.example.com/", false).is_err());
        assert!(check_receiver("ftp://siem.example.com/", false).is_err());
    }

    /// The documented computation (README): Python's
    /// `hmac.new(b"k" * 32, b"1700000000." + b'{"a":1}', hashlib.sha256).hexdigest()`.
    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        let sig = signature(&[b'k'; 32], 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(sig, "sha256=6935b796c0fec66e5dee52c86c7fd1218a424c32f1adb239ff2893c31e54f033");
    }

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert!(backoff(0) >= Duration::from_secs(1) && backoff(0) <= Duration::from_millis(1250));
        assert!(backoff(3) >= Duration::from_secs(8));
        assert!(backoff(40) >= MAX_BACKOFF && backoff(40) <= MAX_BACKOFF + MAX_BACKOFF / 4);
    }
}
