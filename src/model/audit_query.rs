//! The audit page's query bar: qualifiers like GitHub's audit log search,
//! `action:remove_user_from_org actor:ada@example.com outcome:denied
//! created:2026-11-01..2026-11-27`, to and from an [`AuditFilter`]. The
//! same text goes in the page's URL (`?q=`), so a search can be shared.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::audit::{AuditFilter, AuditOutcome};

/// The qualifiers the bar knows, for its help text.
pub const QUALIFIERS: &[(&str, &str)] = &[
    ("action:", "an action, or a pattern with * (action:*_workspace)"),
    ("actor:", "who acted: an email, a user id, system or operator"),
    ("target:", "what it was about: a user, workspace or organization id"),
    ("outcome:", "success, denied or failure"),
    ("ip:", "an address or a network (ip:192.0.2.0/24)"),
    ("created:", "a day (2026-11-27), a range (2026-11-01..2026-11-27), or >=2026-11-01 / <2026-11-27"),
];

/// Why a query does not read as a filter, worded for the person typing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

fn day_start(text: &str) -> Result<DateTime<Utc>, QueryError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        .or_else(|_| DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)))
        .map_err(|_| QueryError(format!("“{text}” is not a date: write it as 2026-11-27 (or a full RFC 3339 time).")))
}

/// The instant just after `text`: the next midnight for a day, the time
/// itself for a full timestamp (so `created:2026-11-27` is the whole day).
fn day_end(text: &str) -> Result<DateTime<Utc>, QueryError> {
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) => Ok(d.succ_opt().unwrap_or(d).and_time(NaiveTime::MIN).and_utc()),
        Err(_) => day_start(text),
    }
}

fn created(value: &str, filter: &mut AuditFilter) -> Result<(), QueryError> {
    if let Some((from, to)) = value.split_once("..") {
        if !from.is_empty() {
            filter.from = Some(day_start(from)?);
        }
        if !to.is_empty() {
            filter.to = Some(day_end(to)?);
        }
    } else if let Some(from) = value.strip_prefix(">=") {
        filter.from = Some(day_start(from)?);
    } else if let Some(from) = value.strip_prefix('>') {
        filter.from = Some(day_end(from)?);
    } else if let Some(to) = value.strip_prefix("<=") {
        filter.to = Some(day_end(to)?);
    } else if let Some(to) = value.strip_prefix('<') {
        filter.to = Some(day_start(to)?);
    } else {
        filter.from = Some(day_start(value)?);
        filter.to = Some(day_end(value)?);
    }
    Ok(())
}

/// Reads a query bar's text. Words without a qualifier are taken as an
/// action pattern (`remove` finds `*remove*`), the thing people type first.
pub fn parse(text: &str) -> Result<AuditFilter, QueryError> {
    let mut filter = AuditFilter::default();
    for word in text.split_whitespace() {
        let Some((key, value)) = word.split_once(':') else {
            if filter.action.is_some() {
                return Err(QueryError(format!("Search one action at a time: “{word}” is a second one.")));
            }
            filter.action = Some(format!("*{}*", word.to_ascii_lowercase().trim_matches('*')));
            continue;
        };
        if value.is_empty() {
            return Err(QueryError(format!("“{key}:” needs a value after the colon.")));
        }
        match key.to_ascii_lowercase().as_str() {
            "action" => filter.action = Some(value.to_ascii_lowercase()),
            "actor" => filter.actor = Some(value.to_owned()),
            "target" => filter.target = Some(value.to_owned()),
            "outcome" => {
                filter.outcome = Some(
                    AuditOutcome::parse(&value.to_ascii_lowercase())
                        .ok_or_else(|| QueryError(format!("“{value}” is not an outcome: use success, denied or failure.")))?,
                )
            }
            "ip" => filter.ip = Some(value.to_owned()),
            "created" => created(value, &mut filter)?,
            other => {
                let known: Vec<&str> = QUALIFIERS.iter().map(|(q, _)| q.trim_end_matches(':')).collect();
                return Err(QueryError(format!("“{other}:” is not a qualifier here; use one of {}.", known.join(", "))));
            }
        }
    }
    Ok(filter)
}

/// The query bar text of a filter (the cursor and page size are not part
/// of a search).
pub fn format(filter: &AuditFilter) -> String {
    let mut words = Vec::new();
    if let Some(a) = &filter.action {
        words.push(format!("action:{a}"));
    }
    if let Some(a) = &filter.actor {
        words.push(format!("actor:{a}"));
    }
    if let Some(t) = &filter.target {
        words.push(format!("target:{t}"));
    }
    if let Some(o) = filter.outcome {
        words.push(format!("outcome:{}", o.as_str()));
    }
    if let Some(ip) = &filter.ip {
        words.push(format!("ip:{ip}"));
    }
    let stamp = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    match (&filter.from, &filter.to) {
        (Some(f), Some(t)) => words.push(format!("created:{}..{}", stamp(f), stamp(t))),
        (Some(f), None) => words.push(format!("created:>={}", stamp(f))),
        (None, Some(t)) => words.push(format!("created:<{}", stamp(t))),
        (None, None) => {}
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_become_a_filter() {
        let f = parse("action:remove_user_from_org actor:ada@example.com outcome:Denied ip:192.0.2.0/24 target:usr-1").unwrap();
        assert_eq!(f.action.as_deref(), Some("remove_user_from_org"));
        assert_eq!(f.actor.as_deref(), Some("ada@example.com"));
        assert_eq!(f.outcome, Some(AuditOutcome::Denied));
        assert_eq!(f.ip.as_deref(), Some("192.0.2.0/24"));
        assert_eq!(f.target.as_deref(), Some("usr-1"));
    }

    #[test]
    fn a_day_is_the_whole_day_and_ranges_are_inclusive_of_their_last_day() {
        let f = parse("created:2026-11-27").unwrap();
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-11-27T00:00:00+00:00");
        assert_eq!(f.to.unwrap().to_rfc3339(), "2026-11-28T00:00:00+00:00");
        let f = parse("created:2026-11-01..2026-11-27").unwrap();
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(f.to.unwrap().to_rfc3339(), "2026-11-28T00:00:00+00:00");
        let f = parse("created:>=2026-11-01").unwrap();
        assert!(f.to.is_none());
    }

    #[test]
    fn a_bare_word_searches_actions_containing_it() {
        assert_eq!(parse("remove").unwrap().action.as_deref(), Some("*remove*"));
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse("outcome:maybe").unwrap_err().0.contains("success, denied or failure"));
        assert!(parse("created:yesterday").unwrap_err().0.contains("2026-11-27"));
        assert!(parse("colour:red").unwrap_err().0.contains("not a qualifier"));
        assert!(parse("actor:").unwrap_err().0.contains("needs a value"));
    }

    #[test]
    fn formatting_reads_back_as_the_same_filter() {
        let f = parse("action:*_workspace actor:system outcome:failure created:2026-11-01..2026-11-27").unwrap();
        assert_eq!(parse(&format(&f)).unwrap(), f);
    }
}
