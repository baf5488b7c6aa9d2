//! Sign-in throttling, per account and per client IP, with exponential
//! backoff, and attempt budgets for the unauthenticated ways in that cost
//! work (registration, invitation acceptance, SSO start). State lives in
//! the database, so it survives restarts and holds across instances.
//! Nobody is locked out for good: the longest wait is fifteen minutes, and
//! a day without failures forgets them.
//!
//! Attempts are *reserved* before they are checked: one atomic statement per
//! subject counts the attempt (and sets the block it would earn) and is
//! committed before the password hash or the code check runs. So however
//! many requests arrive at once, exactly the budget is evaluated and the
//! rest are refused. A success gives the reservation back; a failure keeps
//! it; an attempt that was never evaluated (the hash pool was full, the
//! account is disabled) is refunded.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::audit::{self, action, Event};
use crate::server::auth::credentials::RequestMeta;
use crate::server::db::Db;
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// What a successful attempt does to its reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSuccess {
    /// Forgets every failure: the account's owner proved who they are.
    Forget,
    /// Gives this attempt back but keeps earlier failures: an attacker must
    /// not reset an address's count by signing in to an account of theirs.
    Refund,
    /// Keeps it: a rate budget counts every attempt.
    Keep,
}

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Attempts allowed before the first wait.
    pub free_failures: i64,
    /// The first wait; each further failure doubles it.
    pub base: Duration,
    pub max: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
    pub on_success: OnSuccess,
}

/// Accounts: five tries, then 30 s, 60 s, … up to 15 min.
pub const ACCOUNT: Policy = Policy {
    free_failures: 5,
    base: Duration::seconds(30),
    max: Duration::minutes(15),
    window: Duration::hours(24),
    on_success: OnSuccess::Forget,
};
/// Client IPs see many people behind one NAT, so they get more room.
pub const IP: Policy = Policy {
    free_failures: 20,
    base: Duration::seconds(30),
    max: Duration::minutes(15),
    window: Duration::hours(24),
    on_success: OnSuccess::Refund,
};

/// SSO starts one client address may make per minute. Each writes a flow
/// row; an office behind one NAT signing in at nine stays well below.
pub const SSO_STARTS_PER_MINUTE: i64 = 60;

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

    /// A rate budget: `per_window` attempts in each fixed window of
    /// `window` (the window's start is part of the subject, so a new window
    /// is a new row), then a wait until the window ends.
    pub fn rate(subject: &str, per_window: i64, window: Duration, now: DateTime<Utc>) -> (String, Policy) {
        let secs = window.num_seconds().max(1);
        let start = now.timestamp().div_euclid(secs) * secs;
        let left = Duration::seconds(start + secs - now.timestamp()).max(Duration::seconds(1));
        (format!("{subject}@{start}"), Policy { free_failures: per_window, base: left, max: left, window, on_success: OnSuccess::Keep })
    }
}

/// The key a client address is throttled by.
pub fn client_key(meta: &RequestMeta) -> Option<String> {
    // IPv6 by its /64: one host usually holds the whole prefix.
    meta.ip_throttle_key().or_else(|| meta.ip.clone())
}

/// The subjects a sign-in attempt counts against.
pub fn subjects(email: &str, meta: &RequestMeta) -> Vec<(String, Policy)> {
    let mut s = vec![(format!("account:{email}"), ACCOUNT)];
    if let Some(ip) = client_key(meta) {
        s.push((format!("ip:{ip}"), IP));
    }
    s
}

/// The budgets of an unauthenticated action that costs a hash (`kind` is
/// e.g. `register`): `per_hour` attempts per clock hour from one client
/// address, and as many for one email address (from anywhere).
pub fn rate_subjects(kind: &str, email: &str, per_hour: i64, meta: &RequestMeta, now: DateTime<Utc>) -> Vec<(String, Policy)> {
    let mut s = vec![Policy::rate(&format!("{kind}:email:{email}"), per_hour, Duration::hours(1), now)];
    if let Some(ip) = client_key(meta) {
        s.push(Policy::rate(&format!("{kind}:ip:{ip}"), per_hour, Duration::hours(1), now));
    }
    s
}

/// One subject's share of a reservation.
#[derive(Debug)]
struct Held {
    subject: String,
    policy: Policy,
    /// The count this attempt brought the subject to.
    count: i64,
    /// The block this reservation set (it would be this attempt's
    /// failure), taken back with a refund.
    block_set: Option<DateTime<Utc>>,
}

/// An attempt counted in advance. Settle it with [`Reservation::fail`] or
/// [`Reservation::succeed`] in the transaction that acts on the outcome,
/// and pass the result through [`Reservation::settle`], which refunds an
/// attempt that ended in an error before it was either. A request whose
/// client went away meanwhile keeps its reservation: it was paid for.
#[derive(Debug)]
pub struct Reservation {
    held: Vec<Held>,
    settled: AtomicBool,
}

/// Reserves one attempt against every subject, in one transaction
/// committed before the caller checks anything, or refuses it (recording
/// that it did) while any subject is blocked. Subjects are always taken in
/// the order given, so concurrent reservations cannot deadlock.
pub async fn reserve(
    state: &AppState,
    subjects: &[(String, Policy)],
    meta: &RequestMeta,
    org: Option<uuid::Uuid>,
) -> ServiceResult<Reservation> {
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    let mut held = Vec::with_capacity(subjects.len());
    for (subject, policy) in subjects {
        let Some(count) = db.throttle_reserve(subject, now, now - policy.window).await? else {
            let mut wait = Duration::zero();
            for (s, _) in subjects {
                if let Some(until) = db.throttle_get(s).await?.and_then(|r| r.blocked_until) {
                    wait = wait.max(until - now);
                }
            }
            // Nothing of this attempt is kept: the reservations made for
            // the subjects before this one go back.
            db.rollback().await?;
            return Err(refuse(state, subjects, meta, org, now, wait).await?);
        };
        // Blocked from now on, should this attempt fail: a concurrent one
        // must not slip in while this one is being checked.
        let block_set = policy.wait_after(count).map(|w| now + w);
        if let Some(until) = block_set {
            db.throttle_block_at_least(subject, until).await?;
        }
        held.push(Held { subject: subject.clone(), policy: *policy, count, block_set });
    }
    db.commit().await?;
    Ok(Reservation { held, settled: AtomicBool::new(false) })
}

/// Records the refusal (its own transaction: it is kept although the caller
/// goes no further) and returns the 429 to answer. Recorded once per block
/// of a subject, not once per refused request: a blocked client may retry
/// as fast as it likes, each retry is answered with a single indexed
/// read, and writing an event (a chained insert, serialised per chain)
/// for each would let it grow the log and load the database without
/// bound, the very thing the throttle is there to stop. The first refusal
/// of a block says who was blocked and for how long; the later ones of the
/// same block would say nothing new. The next block (after more failures)
/// is recorded again.
async fn refuse(
    state: &AppState,
    subjects: &[(String, Policy)],
    meta: &RequestMeta,
    org: Option<uuid::Uuid>,
    now: DateTime<Utc>,
    wait: Duration,
) -> ServiceResult<ServiceError> {
    // Rounded up: retrying at Retry-After must not be too early.
    let secs = ((wait.num_milliseconds() + 999) / 1000).max(1) as u64;
    let mut db = state.store.begin().await?;
    let mut first_of_block = false;
    for (subject, _) in subjects {
        // Every blocked subject is claimed (not just the first), so each
        // block is recorded once, whichever subject a request meets first.
        first_of_block |= db.throttle_claim_refusal_record(subject, now).await?;
    }
    if !first_of_block {
        db.rollback().await?;
        return Ok(too_many(secs));
    }
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
    Ok(too_many(secs))
}

impl Reservation {
    /// The attempt failed: it stays counted, and the subjects past their
    /// allowance are blocked from now (in the caller's transaction).
    pub async fn fail(&self, db: &mut Db, now: DateTime<Utc>) -> ServiceResult<()> {
        for h in &self.held {
            if let Some(wait) = h.policy.wait_after(h.count) {
                db.throttle_block_at_least(&h.subject, now + wait).await?;
            }
        }
        self.settled.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// The attempt succeeded (in the caller's transaction): each subject
    /// does what its policy says.
    pub async fn succeed(&self, db: &mut Db) -> ServiceResult<()> {
        for h in &self.held {
            match h.policy.on_success {
                OnSuccess::Forget => db.throttle_clear(&h.subject).await?,
                OnSuccess::Refund => db.throttle_refund(&h.subject, h.block_set).await?,
                OnSuccess::Keep => {}
            }
        }
        self.settled.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Passes the attempt's result on. An error that came before the
    /// attempt was settled (the hash pool was full, the account is
    /// disabled, the database failed) was no failed guess: the reservation
    /// is given back, except for rate budgets, which count every attempt.
    pub async fn settle<T>(self, state: &AppState, result: ServiceResult<T>) -> ServiceResult<T> {
        if result.is_err() && !self.settled.load(Ordering::Relaxed) {
            if let Err(e) = self.refund(state).await {
                tracing::warn!(error = %e.log_detail(), "a throttle reservation was not refunded");
            }
        }
        result
    }

    async fn refund(&self, state: &AppState) -> ServiceResult<()> {
        let refundable: Vec<&Held> = self.held.iter().filter(|h| h.policy.on_success != OnSuccess::Keep).collect();
        if refundable.is_empty() {
            return Ok(());
        }
        let mut db = state.store.begin().await?;
        for h in refundable {
            db.throttle_refund(&h.subject, h.block_set).await?;
        }
        db.commit().await?;
        Ok(())
    }
}

pub fn too_many(secs: u64) -> ServiceError {
    ServiceError::TooManyRequests { message: format!("Too many attempts. Try again in {}.", human(secs)), retry_after_secs: secs }
}

fn human(secs: u64) -> String {
    if secs < 90 {
        format!("{secs} seconds")
    } else {
        format!("{} minutes", secs.div_ceil(60))
    }
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

    #[test]
    fn rate_budgets_wait_until_their_window_ends() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T10:59:30Z").unwrap().with_timezone(&Utc);
        let (subject, policy) = Policy::rate("register:ip:192.0.2.1", 3, Duration::hours(1), now);
        assert_eq!(subject, format!("register:ip:192.0.2.1@{}", now.timestamp() - 3570));
        assert_eq!(policy.wait_after(2), None);
        assert_eq!(policy.wait_after(3), Some(Duration::seconds(30)));
        assert_eq!(policy.wait_after(9), Some(Duration::seconds(30)));
        let (next, _) = Policy::rate("register:ip:192.0.2.1", 3, Duration::hours(1), now + Duration::seconds(30));
        assert_ne!(subject, next, "a new window is a new count");
    }
}
