//! An organization's audit stream: its events sent, in seq order, to a
//! webhook of its SIEM (README, "Streaming to a SIEM"). What the REST API
//! and the audit page show of it and send to change it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a stream stands. `lag` is how many events of the chain the
/// receiver has not acknowledged yet (`head_seq - last_delivered_seq`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditStream {
    pub organization_id: String,
    /// The receiver: `https://…`.
    pub url: String,
    pub enabled: bool,
    /// The last seq the receiver acknowledged with a 2xx (0: none yet).
    pub last_delivered_seq: i64,
    /// The newest seq of the organization's chain.
    pub head_seq: i64,
    pub lag: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed (`HTTP 500`, `timed out`, …); absent
    /// after a success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Failed attempts in a row.
    pub failures: i64,
    /// When the next attempt is due (absent while disabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A stream with its signing secret, answered once: at creation and at
/// each rotation. The server keeps it sealed and never shows it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedAuditStream {
    pub stream: AuditStream,
    /// The HMAC-SHA256 key of `X-NeoSC-Signature` (its UTF-8 bytes).
    pub secret: String,
}

/// `POST /api/organizations/{id}/audit/stream`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAuditStream {
    /// `https://…`; the host must not be a private, loopback or link-local
    /// address.
    pub url: String,
    /// The signing secret, at least 32 characters; absent: the server
    /// generates one (32 random bytes, hex) and answers it once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(min_length = 32, max_length = 256))]
    pub secret: Option<String>,
    /// The first seq to send. Absent: only events recorded from now on.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole_number")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub start_seq: Option<i64>,
    /// Send the whole log, from seq 1 (instead of `start_seq`).
    #[serde(default)]
    pub from_beginning: bool,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `PATCH /api/organizations/{id}/audit/stream`: what is present changes.
/// Any change makes the stream due at once, with its failures forgotten.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditStreamChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Go on from this seq: back (send again from there) or forward
    /// (skip to there). 1 to the head's seq + 1.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole_number")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub start_seq: Option<i64>,
}

/// A JSON integer, as JSON Schema counts them: `30.0` is the integer 30;
/// `30.5` is refused.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else { return Ok(None) };
    if let Some(i) = n.as_i64() {
        return Ok(Some(i));
    }
    match n.as_f64() {
        // The bounds are exact powers of two, so the comparison is too.
        Some(f) if f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) => Ok(Some(f as i64)),
        _ => Err(serde::de::Error::custom(format!("expected an integer, found {n}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_seq_written_as_a_whole_float_is_an_integer() {
        let c: AuditStreamChanges = serde_json::from_str(r#"{"start_seq": 12292.0}"#).unwrap();
        assert_eq!(c.start_seq, Some(12292));
        assert!(serde_json::from_str::<AuditStreamChanges>(r#"{"start_seq": 1.5}"#).is_err());
        let c: AuditStreamChanges = serde_json::from_str(r#"{"start_seq": null}"#).unwrap();
        assert_eq!(c.start_seq, None);
    }
}
