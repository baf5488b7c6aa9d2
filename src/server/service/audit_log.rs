//! Reading and exporting the audit log (issue 13): one organization's chain
//! for its org admins and platform admins, the installation's own chain for
//! platform admins. Reading changes nothing and records nothing, except the
//! refusals `orgs::managed_org` records; an export records
//! `export_audit_log`.
//!
//! Client networks (`ip=192.0.2.0/24`) are not something both databases
//! can compare, so the SQL reads the chain newest first with the other
//! filters and the network is checked here, on the rows. One request reads
//! at most `SCAN_LIMIT` rows: when that many did not fill the page, the
//! answer holds the matches found and `next_before` where the reading
//! stopped, and the client goes on from there like after any page. A page
//! may then hold fewer events than `limit` (even none) and still have a
//! next one; only an absent `next_before` says the log is done.

use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::audit::{self, action, chain_key, view_of, Event, GENESIS_HASH};
use super::orgs::{managed_org, org_target};
use super::Principal;
use crate::model::{AuditEvent, AuditFilter, AuditPage, OrgId, Role, UserId};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::forwarded::Cidr;
use crate::server::db::{ActionMatch, ActorMatch, AuditQuery, AuditRange, Store};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// Events per page when the filter names no `limit`.
pub const DEFAULT_LIMIT: i64 = 50;
/// The most events one page holds.
pub const MAX_LIMIT: i64 = 200;
/// The most rows one request reads while looking for a client network.
pub const SCAN_LIMIT: i64 = 5000;
/// Rows per read of that scan, and per page of an export.
const SCAN_BATCH: i64 = 500;
pub const EXPORT_PAGE: i64 = 1000;

/// A filter checked and turned into what the database reads, plus the
/// network to check on the rows.
#[derive(Debug, Clone)]
pub struct Checked {
    pub query: AuditQuery,
    pub network: Option<Cidr>,
    pub before: i64,
    pub limit: i64,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Validation { field: Some(field), message: message.into() }
}

/// An address as the log stores it: `IpAddr`'s display form, IPv4-mapped
/// IPv6 addresses as the IPv4 address they are.
fn stored_form(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        v4 => v4.to_string(),
    }
}

/// Checks `filter` for chain `org`: every field it sets must mean
/// something, or the answer names the field.
pub fn check(org: Option<Uuid>, filter: &AuditFilter) -> ServiceResult<Checked> {
    let limit = filter.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid("limit", format!("limit must be between 1 and {MAX_LIMIT}.")));
    }
    let before = filter.before.unwrap_or(i64::MAX);
    if before < 1 {
        return Err(invalid("before", "before is a seq from a page's next_before: 1 or more."));
    }
    // Not trimmed: a value with spaces is not an action (the documented pattern).
    let action = match filter.action.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) if a.len() > 100 => return Err(invalid("action", "An action is at most 100 characters.")),
        Some(a) if !a.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'*') => {
            return Err(invalid(
                "action",
                format!("“{a}” is not an action: use lower-case letters, digits and _, with * for any characters (login*)."),
            ))
        }
        Some(a) if a.contains('*') => Some(ActionMatch::Pattern(a.to_owned())),
        Some(a) => Some(ActionMatch::Exact(a.to_owned())),
    };
    // `system`, `operator`, a user id; anything else is compared with the
    // email addresses events recorded (so an unknown one finds nothing).
    let actor = match filter.actor.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some("system") => Some(ActorMatch::System),
        Some("operator") => Some(ActorMatch::Operator),
        Some(a) => match UserId::parse(a) {
            Some(u) => Some(ActorMatch::User(u.0)),
            None => Some(ActorMatch::Email(a.to_lowercase())),
        },
    };
    let target_id = match filter.target.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if t.len() > 200 => return Err(invalid("target", "A target id is at most 200 characters.")),
        t => t.map(str::to_owned),
    };
    let (ip, network) = match filter.ip.as_deref().filter(|i| !i.is_empty()) {
        None => (None, None),
        Some(text) => {
            let Some(cidr) = Cidr::parse(text) else {
                return Err(invalid("ip", format!("“{text}” is not an address or a network (192.0.2.7, 192.0.2.0/24, 2001:db8::/48).")));
            };
            let (addr, prefix) = text.split_once('/').map_or((text, None), |(a, p)| (a, Some(p)));
            let addr: IpAddr = addr.parse().map_err(|_| invalid("ip", "Not an address."))?;
            let whole = if addr.is_ipv4() { "32" } else { "128" };
            match prefix {
                // One address (bare, /32 or /128): an equality the database can use.
                None => (Some(stored_form(addr)), None),
                Some(p) if p == whole => (Some(stored_form(addr)), None),
                Some(_) => (None, Some(cidr)),
            }
        }
    };
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if from > to {
            return Err(invalid("from", "from must not be after to."));
        }
    }
    Ok(Checked {
        query: AuditQuery {
            org,
            action,
            actor,
            target_id,
            outcome: filter.outcome.map(|o| o.as_str().to_owned()),
            ip,
            has_ip: network.is_some(),
            // What both databases keep: microseconds. SQLite compares the
            // stored text, which a nanosecond bound would misorder.
            from: filter.from.map(|t| t.trunc_subsecs(6)),
            to: filter.to.map(|t| t.trunc_subsecs(6)),
        },
        network,
        before,
        limit,
    })
}

fn in_network(network: &Cidr, ip: Option<&str>) -> bool {
    ip.and_then(|i| i.parse::<IpAddr>().ok()).is_some_and(|ip| network.contains(ip))
}

/// One page, newest first, of what `c` asks for.
async fn read_page(store: &Store, c: &Checked) -> ServiceResult<AuditPage> {
    let mut db = store.conn().await?;
    let Some(network) = &c.network else {
        let rows = db.audit_events_page(&c.query, AuditRange::Before(c.before), c.limit).await?;
        let next_before = if rows.len() as i64 == c.limit { rows.last().and_then(|r| r.seq) } else { None };
        return Ok(AuditPage { events: rows.iter().map(view_of).collect(), next_before });
    };
    let mut events = Vec::new();
    let mut cursor = c.before;
    let mut scanned = 0;
    loop {
        let batch = SCAN_BATCH.min(SCAN_LIMIT - scanned);
        let rows = db.audit_events_page(&c.query, AuditRange::Before(cursor), batch).await?;
        for r in &rows {
            cursor = r.seq.unwrap_or_default();
            scanned += 1;
            if in_network(network, r.ip.as_deref()) {
                events.push(view_of(r));
                if events.len() as i64 == c.limit {
                    return Ok(AuditPage { events, next_before: Some(cursor) });
                }
            }
        }
        if (rows.len() as i64) < batch {
            return Ok(AuditPage { events, next_before: None });
        }
        if scanned >= SCAN_LIMIT {
            return Ok(AuditPage { events, next_before: Some(cursor) });
        }
    }
}

/// `GET /api/organizations/{id}/audit`: one page of the organization's
/// events, for its org admins and platform admins.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    org_id: Uuid,
    filter: &AuditFilter,
    meta: &RequestMeta,
) -> ServiceResult<AuditPage> {
    let org = managed_org(state, principal, org_id, "read_audit_log", meta).await?;
    read_page(&state.store, &check(Some(org.id), filter)?).await
}

async fn platform_only(state: &AppState, principal: &Principal, meta: &RequestMeta) -> ServiceResult<()> {
    if principal.role != Role::PlatformAdmin {
        let error = ServiceError::Forbidden("Only a platform admin can read the installation's audit log.".into());
        return Err(audit::refuse(state, principal, meta, "read_installation_audit_log", "not_a_platform_admin", None, error).await);
    }
    Ok(())
}

/// `GET /api/audit`: one page of the installation's own events (those of
/// no organization: sign-in failures of unknown addresses, key rotations,
/// start-up work), for platform admins.
pub async fn list_installation(
    state: &AppState,
    principal: &Principal,
    filter: &AuditFilter,
    meta: &RequestMeta,
) -> ServiceResult<AuditPage> {
    platform_only(state, principal, meta).await?;
    read_page(&state.store, &check(None, filter)?).await
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

impl ExportFormat {
    pub fn parse(s: Option<&str>) -> ServiceResult<Self> {
        match s.map(str::trim) {
            None | Some("") | Some("csv") => Ok(ExportFormat::Csv),
            Some("jsonl") => Ok(ExportFormat::Jsonl),
            Some(other) => Err(invalid("format", format!("“{other}” is not an export format: csv or jsonl."))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Jsonl => "application/x-ndjson",
        }
    }
}

/// An export under way: the chain up to the head it started at, oldest
/// first, a page (`EXPORT_PAGE` rows, one short read) at a time. Holds one
/// page at most, whatever the log's size.
pub struct Export {
    store: Store,
    checked: Checked,
    pub org: Uuid,
    pub format: ExportFormat,
    /// The filter as asked (without `before`/`limit`), for the manifest.
    pub filter: AuditFilter,
    pub head_seq: i64,
    pub head_hash: String,
    pub exported_at: DateTime<Utc>,
    after: i64,
    done: bool,
    pub count: i64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
}

/// Starts an export of organization `org_id`'s events matching `filter`
/// (its `before` and `limit` are ignored): checks the caller as `list`
/// does, records `export_audit_log` with the filter and format, and fixes
/// the head the export reads up to.
pub async fn start_export(
    state: &AppState,
    principal: &Principal,
    org_id: Uuid,
    filter: &AuditFilter,
    format: ExportFormat,
    meta: &RequestMeta,
) -> ServiceResult<Export> {
    let org = managed_org(state, principal, org_id, "export_audit_log", meta).await?;
    let filter = AuditFilter { before: None, limit: None, ..filter.clone() };
    let checked = check(Some(org.id), &filter)?;
    let exported_at = state.clock.now();
    let mut db = state.store.begin().await?;
    audit::record(
        &mut db,
        exported_at,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::EXPORT_AUDIT_LOG,
            target: Some(org_target(&org)),
            details: json!({ "format": format.as_str(), "filter": serde_json::to_value(&filter).unwrap_or(Value::Null) }),
        },
    )
    .await?;
    db.commit().await?;
    // After the export's own event: the file ends with it when the filter
    // keeps it.
    let head = state.store.conn().await?.audit_head(&chain_key(Some(org.id))).await?;
    let (head_seq, head_hash) = head.map_or((0, GENESIS_HASH.to_owned()), |h| (h.seq, h.hash));
    Ok(Export {
        store: state.store.clone(),
        checked,
        org: org.id,
        format,
        filter,
        head_seq,
        head_hash,
        exported_at,
        after: 0,
        done: false,
        count: 0,
        first_seq: None,
        last_seq: None,
    })
}

impl Export {
    /// The next events, oldest first; `None` when the export has read up
    /// to its head. A page may be empty of matches (a network filter) and
    /// still not be the last.
    pub async fn next_page(&mut self) -> ServiceResult<Option<Vec<AuditEvent>>> {
        if self.done {
            return Ok(None);
        }
        let rows = {
            let mut db = self.store.conn().await?;
            db.audit_events_page(&self.checked.query, AuditRange::Between { after: self.after, up_to: self.head_seq }, EXPORT_PAGE).await?
        };
        if (rows.len() as i64) < EXPORT_PAGE {
            self.done = true;
        }
        if let Some(last) = rows.last() {
            self.after = last.seq.unwrap_or(self.head_seq);
        }
        let events: Vec<AuditEvent> =
            rows.iter().filter(|r| self.checked.network.as_ref().is_none_or(|n| in_network(n, r.ip.as_deref()))).map(view_of).collect();
        if let Some(first) = events.first() {
            self.first_seq.get_or_insert(first.seq);
        }
        if let Some(last) = events.last() {
            self.last_seq = Some(last.seq);
        }
        self.count += events.len() as i64;
        Ok(Some(events))
    }

    /// What the export held, for the end of the file.
    pub fn manifest(&self) -> Value {
        json!({ "manifest": {
            "organization_id": OrgId(self.org).to_string(),
            "format": self.format.as_str(),
            "filter": self.filter,
            "count": self.count,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "exported_at": self.exported_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        }})
    }

    /// `audit-<org>-<from>-<to>.<format>`: the filter's bounds, or `start`
    /// and the export's time.
    pub fn file_name(&self) -> String {
        let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
        format!(
            "audit-{}-{}-{}.{}",
            OrgId(self.org),
            self.filter.from.map_or_else(|| "start".to_owned(), stamp),
            stamp(self.filter.to.unwrap_or(self.exported_at)),
            self.format.as_str()
        )
    }
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 19] = [
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "reason_code",
    "actor_kind",
    "actor_id",
    "actor_email",
    "actor_role",
    "target_type",
    "target_id",
    "target_name",
    "ip",
    "user_agent",
    "request_id",
    "session_kind",
    "details",
    "hash",
    "prev_hash",
];

/// One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a
/// line break, quotes doubled. A cell a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a `'`
/// in front; every such cell is text we did not write (names, agents).
pub fn csv_cell(text: &str) -> String {
    let guarded = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

pub fn csv_header() -> String {
    let mut line = CSV_COLUMNS.join(",");
    line.push_str("\r\n");
    line
}

pub fn csv_row(e: &AuditEvent) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let cells = [
        e.seq.to_string(),
        e.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        e.action.clone(),
        e.outcome.as_str().to_owned(),
        opt(&e.reason_code),
        e.actor.kind.clone(),
        opt(&e.actor.id),
        opt(&e.actor.email),
        opt(&e.actor.role),
        e.target.as_ref().map(|t| t.kind.clone()).unwrap_or_default(),
        e.target.as_ref().map(|t| t.id.clone()).unwrap_or_default(),
        e.target.as_ref().and_then(|t| t.name.clone()).unwrap_or_default(),
        opt(&e.context.ip),
        opt(&e.context.user_agent),
        opt(&e.context.request_id),
        opt(&e.context.session_kind),
        e.details.to_string(),
        e.hash.clone(),
        e.prev_hash.clone(),
    ];
    let mut line = cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// The CSV's last line: the manifest as a comment (`# manifest: {…}`),
/// since its count is known only at the end.
pub fn csv_manifest(manifest: &Value) -> String {
    format!("# manifest: {}\r\n", manifest["manifest"])
}

pub fn jsonl_row(e: &AuditEvent) -> String {
    let mut line = serde_json::to_string(e).unwrap_or_default();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_disarmed() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
    }

    fn checked(f: AuditFilter) -> ServiceResult<Checked> {
        check(Some(Uuid::nil()), &f)
    }

    fn field(r: ServiceResult<Checked>) -> Option<&'static str> {
        match r {
            Err(ServiceError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn filters_are_checked_field_by_field() {
        assert_eq!(field(checked(AuditFilter { limit: Some(0), ..Default::default() })), Some("limit"));
        assert_eq!(field(checked(AuditFilter { limit: Some(201), ..Default::default() })), Some("limit"));
        assert_eq!(field(checked(AuditFilter { before: Some(0), ..Default::default() })), Some("before"));
        assert_eq!(field(checked(AuditFilter { action: Some("Login".into()), ..Default::default() })), Some("action"));
        assert_eq!(field(checked(AuditFilter { action: Some("log%".into()), ..Default::default() })), Some("action"));
        assert_eq!(field(checked(AuditFilter { action: Some(" login".into()), ..Default::default() })), Some("action"));
        assert_eq!(field(checked(AuditFilter { ip: Some("10.0.0.0/33".into()), ..Default::default() })), Some("ip"));
        assert_eq!(field(checked(AuditFilter { ip: Some("not-an-ip".into()), ..Default::default() })), Some("ip"));
        let (from, to) = (Utc::now(), Utc::now() - chrono::Duration::hours(1));
        assert_eq!(field(checked(AuditFilter { from: Some(from), to: Some(to), ..Default::default() })), Some("from"));
        let c = checked(AuditFilter::default()).unwrap();
        assert_eq!((c.limit, c.before), (DEFAULT_LIMIT, i64::MAX));
    }

    #[test]
    fn addresses_are_equalities_and_networks_are_scans() {
        let ip = |s: &str| checked(AuditFilter { ip: Some(s.into()), ..Default::default() }).unwrap();
        let one = ip("192.0.2.7");
        assert_eq!((one.query.ip.as_deref(), one.network.is_none()), (Some("192.0.2.7"), true));
        assert_eq!(ip("192.0.2.7/32").query.ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(ip("2001:DB8::1").query.ip.as_deref(), Some("2001:db8::1"));
        assert_eq!(ip("::ffff:192.0.2.7").query.ip.as_deref(), Some("192.0.2.7"));
        let net = ip("192.0.2.0/24");
        assert!(net.query.ip.is_none() && net.query.has_ip);
        assert!(in_network(net.network.as_ref().unwrap(), Some("192.0.2.200")));
        assert!(!in_network(net.network.as_ref().unwrap(), Some("192.0.3.1")));
        assert!(!in_network(net.network.as_ref().unwrap(), None));
        let v6 = ip("2001:db8::/48");
        assert!(in_network(v6.network.as_ref().unwrap(), Some("2001:db8:0:1::5")));
    }

    #[test]
    fn actors_by_kind() {
        let a = |s: &str| checked(AuditFilter { actor: Some(s.into()), ..Default::default() }).unwrap().query.actor;
        assert_eq!(a("system"), Some(ActorMatch::System));
        assert_eq!(a("operator"), Some(ActorMatch::Operator));
        assert_eq!(a("Ada@Example.com"), Some(ActorMatch::Email("ada@example.com".into())));
        assert_eq!(a("nobody"), Some(ActorMatch::Email("nobody".into())), "finds nothing, refuses nothing");
        let id = UserId(Uuid::now_v7());
        assert_eq!(a(&id.to_string()), Some(ActorMatch::User(id.0)));
    }
}
