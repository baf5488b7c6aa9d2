//! Failed sign-in throttling, per account and per client IP, with
//! exponential backoff. State lives in the database, so it survives
//! restarts and holds across instances. Nobody is locked out for good: the
//! longest wait is fifteen minutes, and a day without failures forgets them.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::audit::{self, action, Event};
use crate::server::auth::credentials::RequestMeta;
use crate::server::db::Db;
use crate::server::error::{ServiceError, ServiceResult};

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed before the first wait.
    pub free_failures: i64,
    /// The first wait; each further failure doubles it.
    pub base: Duration,
    pub max: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

/// Accounts: five tries, then 30 s, 60 s, … up to 15 min.
pub const ACCOUNT: Policy =
    Policy { free_failures: 5, base: Duration::seconds(30), max: Duration::minutes(15), window: Duration::hours(24) };
/// Client IPs see many people behind one NAT, so they get more room.
pub const IP: Policy = Policy { free_failures: 20, base: Duration::seconds(30), max: Duration::minutes(15), window: Duration::hours(24) };

impl Policy {
    /// How long to block after `failures` failures, if at all.
    pub fn wait_after(&self, failures: i64) -> Option<Duration> {
        let over = failures - self.free_failures;
        if over < 0 {
            return None;
        }
        let factor = 1i64.checked_shl(over.min(30) as u32).unwrap_or(i64::MAX);
        Some(self.base.checked_mul(factor as i32).unwrap_or(self.max).min(self.max))
    }
}

/// The subjects a sign-in attempt counts against.
pub fn subjects(email: &str, meta: &RequestMeta) -> Vec<(String, Policy)> {
    let mut s = vec![(format!("account:{email}"), ACCOUNT)];
    if let Some(ip) = &meta.ip {
        s.push((format!("ip:{}", meta.ip_throttle_key().as_deref().unwrap_or(ip)), IP));
    }
    s
}

/// Refuses the attempt while any subject is blocked, recording that it
/// did. The check is a read; only a refusal writes (its audit event, in a
/// transaction of its own, so it is kept although the caller goes no
/// further). Call it before opening the caller's write transaction.
pub async fn guard(
    state: &crate::server::state::AppState,
    subjects: &[(String, Policy)],
    meta: &RequestMeta,
    org: Option<uuid::Uuid>,
) -> ServiceResult<()> {
    let now = state.clock.now();
    let mut wait = Duration::zero();
    {
        let mut db = state.store.conn().await?;
        for (subject, _) in subjects {
            if let Some(until) = db.throttle_get(subject).await?.and_then(|r| r.blocked_until) {
                wait = wait.max(until - now);
            }
        }
    }
    if wait <= Duration::zero() {
        return Ok(());
    }
    // Rounded up: retrying at Retry-After must not be too early.
    let secs = ((wait.num_milliseconds() + 999) / 1000).max(1) as u64;
    let mut db = state.store.begin().await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org,
            actor: None,
            action: action::LOGIN_THROTTLED,
            target: None,
            details: json!({ "subjects": subjects.iter().map(|(s, _)| s).collect::<Vec<_>>(), "retry_after_secs": secs }),
        },
    )
    .await?;
    db.commit().await?;
    Err(too_many(secs))
}

pub fn too_many(secs: u64) -> ServiceError {
    ServiceError::TooManyRequests { message: format!("Too many failed attempts. Try again in {}.", human(secs)), retry_after_secs: secs }
}

fn human(secs: u64) -> String {
    if secs < 90 {
        format!("{secs} seconds")
    } else {
        format!("{} minutes", secs.div_ceil(60))
    }
}

/// Counts a failure against every subject and blocks those past their
/// allowance.
pub async fn fail(db: &mut Db, subjects: &[(String, Policy)], now: DateTime<Utc>) -> ServiceResult<()> {
    for (subject, policy) in subjects {
        let failures = db.throttle_fail(subject, now, now - policy.window).await?;
        if let Some(wait) = policy.wait_after(failures) {
            db.throttle_block(subject, now + wait).await?;
        }
    }
    Ok(())
}

/// A success forgets the account's failures. The IP's stay: otherwise an
/// attacker could reset them by signing in to an account of their own.
pub async fn succeed(db: &mut Db, email: &str) -> ServiceResult<()> {
    succeed_subject(db, &format!("account:{email}")).await
}

pub async fn succeed_subject(db: &mut Db, subject: &str) -> ServiceResult<()> {
    db.throttle_clear(subject).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(ACCOUNT.wait_after(4), None);
        assert_eq!(ACCOUNT.wait_after(5), Some(Duration::seconds(30)));
        assert_eq!(ACCOUNT.wait_after(6), Some(Duration::seconds(60)));
        assert_eq!(ACCOUNT.wait_after(9), Some(Duration::seconds(480)));
        assert_eq!(ACCOUNT.wait_after(10), Some(Duration::minutes(15)));
        assert_eq!(ACCOUNT.wait_after(1_000), Some(Duration::minutes(15)));
    }
}
