//! Retention of the audit log. An organization that keeps its events for
//! N days has the older ones purged by the sweeper. The cut is written
//! first, as a purge row naming the last purged seq and its hash, in the
//! same transaction as the first deletions: the remaining chain then
//! verifies from that row (`audit::verify_chain` starts there), and the
//! database's triggers allow deleting exactly the seqs a purge row covers.
//! The purge itself is an event of the organization's chain.
//!
//! Several instances may purge at once: the purge row is an insert that
//! only one wins, and every delete is bounded and conditional, so a second
//! pass deletes what the first has not got to.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use crate::model::OrgId;
use crate::server::auth::credentials::RequestMeta;
use crate::server::db::RetentionRule;
use crate::server::error::ServiceResult;
use crate::server::state::AppState;

/// Events deleted per transaction.
const BATCH: i64 = 1000;

/// Purges, for every organization with a retention period, the events
/// older than it. Answers how many events went. An organization that
/// fails (database away) is logged and left for the next pass.
pub async fn purge_expired(state: &AppState) -> u64 {
    let now = state.clock.now();
    let rules = match state.store.conn().await {
        Ok(mut db) => db.audit_retention_rules().await,
        Err(e) => Err(e),
    };
    let rules = match rules {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "could not read audit retention settings");
            return 0;
        }
    };
    let mut total = 0;
    for rule in rules {
        match purge_org(state, &rule, now).await {
            Ok(n) => total += n,
            Err(e) => tracing::warn!(org = %rule.id, error = %e.log_detail(), "could not purge expired audit events"),
        }
    }
    total
}

/// One organization: cut (if events passed the retention since the last
/// cut), then delete what the latest cut covers, a batch per transaction.
pub async fn purge_org(state: &AppState, rule: &RetentionRule, now: DateTime<Utc>) -> ServiceResult<u64> {
    let before = now - Duration::days(rule.audit_retention_days);
    let mut db = state.store.begin().await?;
    let last = db.latest_audit_purge(Some(rule.id)).await?;
    let after = last.as_ref().map_or(0, |p| p.seq);
    let mut through = after;
    if let Some(point) = db.audit_purge_point(rule.id, after, before).await? {
        if db.insert_audit_purge(rule.id, &point, before, now).await? {
            through = point.seq;
            audit::record(
                &mut db,
                now,
                &RequestMeta::default(),
                Event {
                    org: Some(rule.id),
                    actor: None,
                    action: action::PURGE_AUDIT_EVENTS,
                    target: Some(Target { kind: "organization", id: OrgId(rule.id).to_string() }),
                    details: json!({
                        "purged_through_seq": point.seq,
                        "purged_through_hash": point.hash,
                        "older_than": before,
                        "retention_days": rule.audit_retention_days,
                    }),
                },
            )
            .await?;
        }
    }
    db.commit().await?;
    if through == 0 {
        return Ok(0);
    }
    delete_through(state, rule.id, through).await
}

/// Deletes the events of `org` up to seq `through` (covered by a purge
/// row), a batch per transaction, until none is left.
async fn delete_through(state: &AppState, org: Uuid, through: i64) -> ServiceResult<u64> {
    let mut total = 0;
    loop {
        let mut db = state.store.begin().await?;
        let n = db.delete_purged_audit_events(org, through, BATCH).await?;
        db.commit().await?;
        total += n;
        if n < BATCH as u64 {
            return Ok(total);
        }
    }
}
