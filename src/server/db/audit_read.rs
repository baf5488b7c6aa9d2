//! Reading one audit chain, filtered, a page at a time (issue 13).
//!
//! The query is assembled from fixed fragments only; every value the
//! caller gave is a numbered bind, never text in the SQL. Both databases
//! run the same text.
//!
//! Which index serves which filter: EXPLAIN (PostgreSQL: EXPLAIN ANALYZE)
//! on 400,000 events, 300,000 of them in one organization's chain, SQLite
//! 3.40 and PostgreSQL, page of 50, no sort step unless said:
//! - no filter, and the export's forward pages: `audit_events_chain_seq
//!   (organization_id, seq)`, a range read backwards from the cursor
//!   (forwards for an export). PostgreSQL `Limit -> Index Only Scan
//!   Backward using audit_events_chain_seq`, 0.2 ms.
//! - exact action: `audit_events_action_idx (organization_id, action,
//!   seq)`, a range ending at the cursor (0.2 ms).
//! - actor by user id: `audit_events_actor_idx (organization_id,
//!   actor_user_id, seq)` (0.4 ms).
//! - target: `audit_events_target_idx (organization_id, target_id, seq)`
//!   (0.6 ms).
//! - action pattern, actor system / operator, outcome, ip: no index
//!   of their own: the
//!   backward `audit_events_chain_seq` range with the condition checked on
//!   each row, stopping once LIMIT rows matched. Cost grows with how rare
//!   the value is among the newest events: 0.1–1.2 ms for these, 13 ms for
//!   an address on one event in 750 (PostgreSQL `Rows Removed by Filter:
//!   37448`).
//! - from/to (migration 0022): with `to`, the range's seqs come from
//!   `audit_events_time_idx (organization_id, created_at, seq)` alone,
//!   sorted by `+seq` (top-N), and only the page's rows are fetched by
//!   `audit_events_chain_seq`. At 1,000,000 events in one chain, a month a
//!   year ago (41,143 events): SQLite `SEARCH … USING COVERING INDEX
//!   audit_events_time_idx` + `USE TEMP B-TREE FOR ORDER BY`, 9 ms CPU;
//!   PostgreSQL `Index Only Scan using audit_events_time_idx` (`Heap
//!   Fetches: 0`) + top-N heapsort, 65 ms on a machine at load 20. The
//!   backward seq walk it replaces: 1.55 s / 1,031 ms (`Rows Removed by
//!   Filter: 498058`). Without `to` the range reaches the newest events and
//!   the backward walk, which stops at the first page, stays.
//! - actor email: `audit_events_actor_email_idx (organization_id,
//!   actor_email, seq)` (0022); 1 ms at 1,000,000 events.
//!
//! SQLite's plans, `EXPLAIN QUERY PLAN`: `SEARCH audit_events USING
//! [COVERING] INDEX <index> (organization_id=? [AND action=?] AND seq>? AND
//! seq<?)`, no `USE TEMP B-TREE FOR ORDER BY` except in the from/to
//! subquery.
//!
//! The installation's chain is `organization_id IS NULL`, which the same
//! indexes serve (NULL is a key like any other in both).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::audit::{ChainedAuditRecord, CHAINED_COLUMNS};
use super::{on_conn, Db, DbResult};

/// Which events of a chain the SQL keeps. Client addresses by network are
/// not here: the service checks those on the rows (see `service::audit_log`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// `None`: the installation's own chain.
    pub org: Option<Uuid>,
    pub action: Option<ActionMatch>,
    pub actor: Option<ActorMatch>,
    pub target_id: Option<String>,
    pub outcome: Option<String>,
    /// One client address, as stored (`IpAddr`'s display form).
    pub ip: Option<String>,
    /// Only events that have an address (a network filter is coming).
    pub has_ip: bool,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionMatch {
    Exact(String),
    /// A pattern whose `*` stands for any characters.
    Pattern(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorMatch {
    User(Uuid),
    Email(String),
    /// The server itself; older rows without `actor_kind` and without a
    /// user are the system's too.
    System,
    Operator,
}

/// Where a page starts and which way it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditRange {
    /// Newest first, seqs below `before`.
    Before(i64),
    /// Oldest first, seqs in (`after`, `up_to`] (exports, up to the head
    /// they started at).
    Between { after: i64, up_to: i64 },
}

/// A LIKE pattern for `*`-patterns: `%` and `_` escaped with `\`, then `*`
/// as `%`. Used with `ESCAPE '\'`, which both databases take.
pub fn like_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    for ch in pattern.chars() {
        match ch {
            '\\' | '%' | '_' => {
                out.push('\\');
                out.push(ch);
            }
            '*' => out.push('%'),
            other => out.push(other),
        }
    }
    out
}

enum Bind {
    Uuid(Uuid),
    Text(String),
    Time(DateTime<Utc>),
    Int(i64),
}

/// The SQL and its binds, in order (`$1`…).
struct Built {
    sql: String,
    binds: Vec<Bind>,
}

impl Built {
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    fn and(&mut self, fragment: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(fragment);
    }
}

/// The condition naming the chain, its org bound as a new bind.
fn chain(b: &mut Built, org: Option<Uuid>) -> String {
    match org {
        Some(org) => format!("organization_id = {}", b.bind(Bind::Uuid(org))),
        None => "organization_id IS NULL".to_owned(),
    }
}

fn build(q: &AuditQuery, range: AuditRange, limit: i64) -> Built {
    let mut b = Built { sql: String::new(), binds: Vec::new() };
    let outer_chain = chain(&mut b, q.org);
    // With an upper time bound the page is the newest (or, forwards, the
    // oldest) seqs of a time range: read from `audit_events_time_idx
    // (organization_id, created_at, seq)` alone and sorted, then only the
    // page's rows fetched. `+seq` is the same value, but no index is
    // ordered by it, so neither planner walks the chain by seq looking for
    // the range (a range a year old sits behind most of the chain). Without
    // `to` the range reaches the newest events and the walk by seq, which
    // stops at the first page of matches, is the better plan.
    let by_time = q.to.is_some();
    if by_time {
        b.sql.push_str(&format!(
            "SELECT {CHAINED_COLUMNS} FROM audit_events WHERE {outer_chain} AND seq IN (SELECT seq FROM audit_events WHERE "
        ));
        let inner_chain = chain(&mut b, q.org);
        b.sql.push_str(&inner_chain);
    } else {
        b.sql.push_str(&format!("SELECT {CHAINED_COLUMNS} FROM audit_events WHERE {outer_chain}"));
    }
    // Unchained rows (before the start-up pass) are not part of a chain yet.
    b.and("seq IS NOT NULL");
    match &q.action {
        Some(ActionMatch::Exact(a)) => {
            let p = b.bind(Bind::Text(a.clone()));
            b.and(&format!("action = {p}"));
        }
        Some(ActionMatch::Pattern(a)) => {
            let p = b.bind(Bind::Text(like_pattern(a)));
            b.and(&format!("action LIKE {p} ESCAPE '\\'"));
        }
        None => {}
    }
    match &q.actor {
        Some(ActorMatch::User(id)) => {
            let p = b.bind(Bind::Uuid(*id));
            b.and(&format!("actor_user_id = {p}"));
        }
        Some(ActorMatch::Email(email)) => {
            let p = b.bind(Bind::Text(email.clone()));
            b.and(&format!("actor_email = {p}"));
        }
        Some(ActorMatch::System) => b.and("(actor_kind = 'system' OR (actor_kind IS NULL AND actor_user_id IS NULL))"),
        Some(ActorMatch::Operator) => b.and("actor_kind = 'operator'"),
        None => {}
    }
    if let Some(t) = &q.target_id {
        let p = b.bind(Bind::Text(t.clone()));
        b.and(&format!("target_id = {p}"));
    }
    if let Some(o) = &q.outcome {
        let p = b.bind(Bind::Text(o.clone()));
        b.and(&format!("outcome = {p}"));
    }
    if let Some(ip) = &q.ip {
        let p = b.bind(Bind::Text(ip.clone()));
        b.and(&format!("ip = {p}"));
    } else if q.has_ip {
        b.and("ip IS NOT NULL");
    }
    if let Some(from) = q.from {
        let p = b.bind(Bind::Time(from));
        b.and(&format!("created_at >= {p}"));
    }
    if let Some(to) = q.to {
        let p = b.bind(Bind::Time(to));
        b.and(&format!("created_at < {p}"));
    }
    let order = match range {
        AuditRange::Before(before) => {
            let p = b.bind(Bind::Int(before));
            b.and(&format!("seq < {p}"));
            "DESC"
        }
        AuditRange::Between { after, up_to } => {
            let p = b.bind(Bind::Int(after));
            b.and(&format!("seq > {p}"));
            let p = b.bind(Bind::Int(up_to));
            b.and(&format!("seq <= {p}"));
            "ASC"
        }
    };
    let p = b.bind(Bind::Int(limit));
    if by_time {
        b.sql.push_str(&format!(" ORDER BY +seq {order} LIMIT {p}) ORDER BY seq {order}"));
    } else {
        b.sql.push_str(&format!(" ORDER BY seq {order} LIMIT {p}"));
    }
    b
}

impl Db {
    /// Up to `limit` events of one chain that match `q`, in `range`.
    pub async fn audit_events_page(&mut self, q: &AuditQuery, range: AuditRange, limit: i64) -> DbResult<Vec<ChainedAuditRecord>> {
        let built = build(q, range, limit);
        Ok(on_conn!(self, |c| {
            let mut query = sqlx::query_as::<_, ChainedAuditRecord>(&built.sql);
            for bind in &built.binds {
                query = match bind {
                    Bind::Uuid(v) => query.bind(*v),
                    Bind::Text(v) => query.bind(v.as_str()),
                    Bind::Time(v) => query.bind(*v),
                    Bind::Int(v) => query.bind(*v),
                };
            }
            query.fetch_all(c).await
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_like_wildcards() {
        assert_eq!(like_pattern("login*"), "login%");
        assert_eq!(like_pattern("*_workspace"), "%\\_workspace");
        assert_eq!(like_pattern("a%b\\c"), "a\\%b\\\\c");
    }

    #[test]
    fn values_are_binds_never_sql() {
        let q = AuditQuery {
            org: Some(Uuid::nil()),
            action: Some(ActionMatch::Exact("x' OR 1=1 --".into())),
            actor: Some(ActorMatch::Email("a@b".into())),
            target_id: Some("usr-1".into()),
            outcome: Some("denied".into()),
            ip: Some("192.0.2.1".into()),
            has_ip: true,
            from: Some(Utc::now()),
            to: Some(Utc::now()),
        };
        let b = build(&q, AuditRange::Before(10), 50);
        assert!(!b.sql.contains("OR 1=1"), "{}", b.sql);
        // The organization twice: the page's rows, and the time range's seqs.
        assert_eq!(b.binds.len(), 11);
        assert!(b.sql.ends_with("seq < $10 ORDER BY +seq DESC LIMIT $11) ORDER BY seq DESC"), "{}", b.sql);
        let untimed = build(&AuditQuery { to: None, ..q.clone() }, AuditRange::Before(10), 50);
        assert!(!untimed.sql.contains(" IN (SELECT"), "{}", untimed.sql);
        assert!(untimed.sql.ends_with("seq < $8 ORDER BY seq DESC LIMIT $9"), "{}", untimed.sql);
        let installation = build(&AuditQuery::default(), AuditRange::Between { after: 0, up_to: 5 }, 1000);
        assert!(installation.sql.contains("organization_id IS NULL"), "{}", installation.sql);
        assert!(installation.sql.ends_with("seq > $1 AND seq <= $2 ORDER BY seq ASC LIMIT $3"), "{}", installation.sql);
    }
}
