//! Signed daily checkpoints of the audit hash chains (issue 13, tamper
//! evidence). The hash chain (`service::audit`) shows an edit, a deletion
//! or a reordering, but not a database owner who rewrites an event and
//! then re-hashes the whole chain after it consistently: only a head kept
//! outside the database reveals that. A checkpoint is such a head, signed:
//!
//! ```text
//! {"chain":"org-…"|"installation","seq":N,"hash":"<hex>","signed_at":"2026-11-27T21:00:00Z","key_id":"…"}
//! ```
//!
//! exactly these bytes (serde_json, this field order, no whitespace) are
//! signed with the installation's Ed25519 key (`auth::audit_key`). Once a
//! day per chain that moved (the background `audit_checkpointer`, or
//! `neosc audit checkpoint` at once), after the chain verified intact up to
//! the head it names: a broken chain is never signed. Whoever keeps a
//! checkpoint (an org admin downloads the latest) can later prove that the
//! chain at that seq still has that hash.
//!
//! Signing records no audit event: an event would move the very head just
//! signed. `audit_checkpoints` is append-only and is its own record.

use chrono::{DateTime, NaiveDate, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, chain_key, ChainReport};
use crate::model::OrgId;
use crate::server::auth::audit_key;
use crate::server::auth::credentials::RequestMeta;
use crate::server::db::CheckpointRecord;
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// The name of the installation's own chain (events of no organization).
pub const INSTALLATION: &str = "installation";

/// How many checkpoints the list answers, newest first.
const LIST_LIMIT: i64 = 100;

/// What is signed: a chain's head at a moment. Its canonical form is
/// serde_json of this struct (fixed field order, no whitespace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// The chain: the organization's id (`org-…`) or `installation`.
    #[schema(examples("org-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub chain: String,
    /// The chain's last event when signed.
    pub seq: i64,
    /// That event's hash, lower-case hex (SHA-256).
    #[schema(examples("5a61f78712f611b4228585d3129bdd4c58cad5ae48f00f9fa741e72482126d34"))]
    pub hash: String,
    /// When it was signed: RFC 3339, UTC, whole seconds, `Z`.
    #[schema(examples("2026-11-27T21:00:00Z"))]
    pub signed_at: String,
    /// Which key signed it (see `GET /api/audit/public-key`).
    pub key_id: String,
}

impl Statement {
    /// The exact bytes the signature covers.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).expect("a statement serialises")
    }
}

/// A stored checkpoint: the day it is for (UTC), the statement and its
/// Ed25519 signature (base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Checkpoint {
    #[schema(examples("2026-11-27"))]
    pub day: String,
    pub statement: Statement,
    /// Ed25519 signature of the statement's canonical JSON, base64 (64 bytes).
    pub signature: String,
}

/// A checkpoint to keep outside the installation (the download), or to
/// check against the chain later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckpointFile {
    pub statement: Statement,
    /// Ed25519 signature of the statement's canonical JSON, base64.
    pub signature: String,
    /// The installation's public key when downloaded (32 bytes, base64);
    /// a check uses the installation's key, never this one.
    #[serde(default)]
    pub public_key: Option<String>,
}

/// `GET /api/audit/public-key`: what checkpoints are verified with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicKeyInfo {
    /// Always `Ed25519`.
    pub algorithm: String,
    /// First 16 hex digits of SHA-256 of the 32 raw public key bytes.
    pub key_id: String,
    /// The 32 raw bytes, base64.
    pub public_key: String,
    /// The same key as PEM (SubjectPublicKeyInfo), for `openssl pkeyutl -verify -pubin`.
    pub public_key_pem: String,
}

/// What one pass did, by chain name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckpointPass {
    /// Chains this pass signed today's checkpoint of.
    pub written: Vec<String>,
    /// Chains whose checkpoint for today another pass wrote first.
    pub taken: Vec<String>,
    /// Chains that did not verify and were not signed.
    pub broken: Vec<String>,
}

/// What checking a kept checkpoint against the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CheckpointCheck {
    /// The signature is this installation's and the chain, intact, still has the checkpoint's hash at its seq.
    pub holds: bool,
    pub chain: String,
    pub seq: i64,
    /// The statement is signed by this installation's key.
    pub signature_valid: bool,
    /// Why it does not hold, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The replay of the chain as it is now.
    pub report: ChainReport,
}

/// The statement's name for chain `org`.
pub fn chain_name(org: Option<Uuid>) -> String {
    match org {
        Some(id) => OrgId(id).to_string(),
        None => INSTALLATION.to_owned(),
    }
}

/// The chain an `audit_heads` key names (None inside: the installation's);
/// None when it names none.
fn chain_of_key(key: &str) -> Option<Option<Uuid>> {
    if key == INSTALLATION {
        Some(None)
    } else {
        Uuid::parse_str(key).ok().map(Some)
    }
}

fn signed_at(at: DateTime<Utc>) -> String {
    at.trunc_subsecs(0).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn statement_of(r: &CheckpointRecord) -> Statement {
    Statement {
        chain: chain_of_key(&r.chain_key).map_or_else(|| r.chain_key.clone(), chain_name),
        seq: r.seq,
        hash: r.hash.clone(),
        signed_at: signed_at(r.signed_at),
        key_id: r.key_id.clone(),
    }
}

fn checkpoint_of(r: &CheckpointRecord) -> Checkpoint {
    Checkpoint { day: r.day.format("%Y-%m-%d").to_string(), statement: statement_of(r), signature: r.signature.clone() }
}

/// What chain `org` holds for its event `seq`.
enum Stored {
    /// The event's hash (or, at a retention purge's last seq, the hash the
    /// purge row kept).
    Hash(String),
    /// Purged by the organization's retention: there is nothing to compare.
    Purged {
        through: i64,
    },
    Missing,
}

async fn hash_at(db: &mut crate::server::db::Db, org: Option<Uuid>, seq: i64) -> ServiceResult<Stored> {
    if let Some(purge) = db.latest_audit_purge(org).await? {
        if seq == purge.seq {
            return Ok(Stored::Hash(purge.hash));
        }
        if seq < purge.seq {
            return Ok(Stored::Purged { through: purge.seq });
        }
    }
    let rows = db.audit_chain_page(org, seq.saturating_sub(1), seq, 1).await?;
    Ok(rows.into_iter().next().and_then(|r| r.hash).map_or(Stored::Missing, Stored::Hash))
}

/// Signs today's (UTC, by the state's clock) checkpoint of every chain
/// whose head moved since its last checkpoint and that has none today.
/// Safe with several instances at once: each chain's checkpoint of a day
/// is one row, and the insert that comes second does nothing. A chain
/// that does not verify is logged and not signed.
pub async fn checkpoint_all(state: &AppState) -> ServiceResult<CheckpointPass> {
    let now = state.clock.now().trunc_subsecs(0);
    let day: NaiveDate = now.date_naive();
    let chains = state.store.conn().await?.audit_chains_to_checkpoint(day).await?;
    let signer = &state.audit_signer;
    let mut pass = CheckpointPass::default();
    for moved in chains {
        let Some(org) = chain_of_key(&moved.chain_key) else {
            tracing::error!(chain_key = moved.chain_key, "an audit head names no chain; not signed");
            continue;
        };
        let name = chain_name(org);
        // The head verified is the one signed: it may lie beyond the one
        // listed if events were recorded meanwhile.
        let report = audit::verify_chain(&state.store, org).await?;
        let (true, Some(seq), Some(hash)) = (report.intact, report.head_seq, report.head_hash.clone()) else {
            tracing::error!(chain = name, ?report, "the audit chain does not verify: no checkpoint signed for it");
            pass.broken.push(name);
            continue;
        };
        if seq == 0 {
            continue;
        }
        // A chain rewritten and re-hashed consistently replays intact; the
        // last checkpoint signed of it tells. Such a chain is not signed
        // again, so the forgery never gets a signature of its own.
        let mut db = state.store.conn().await?;
        if let Some(last) = db.audit_checkpoints_of(&moved.chain_key, 1).await?.into_iter().next() {
            // A seq purged since is not compared: the chain now starts at
            // the purge row, which the replay above checked.
            let holds = match hash_at(&mut db, org, last.seq).await? {
                Stored::Hash(h) => h == last.hash,
                Stored::Purged { .. } => true,
                Stored::Missing => false,
            };
            if !holds {
                tracing::error!(
                    chain = name,
                    seq = last.seq,
                    day = %last.day,
                    "the audit chain replays intact but no longer has the hash its last checkpoint signed at that seq: it \
                     was rewritten; no checkpoint signed for it"
                );
                pass.broken.push(name);
                continue;
            }
        }
        drop(db);
        let statement = Statement { chain: name.clone(), seq, hash, signed_at: signed_at(now), key_id: signer.key_id().to_owned() };
        let record = CheckpointRecord {
            chain_key: moved.chain_key,
            day,
            seq,
            hash: statement.hash.clone(),
            signed_at: now,
            key_id: statement.key_id.clone(),
            signature: signer.sign(statement.canonical().as_bytes()),
        };
        if state.store.conn().await?.insert_audit_checkpoint(&record).await? {
            pass.written.push(name);
        } else {
            pass.taken.push(name);
        }
    }
    Ok(pass)
}

/// `GET /api/audit/public-key`.
pub fn public_key(state: &AppState) -> PublicKeyInfo {
    let signer = &state.audit_signer;
    PublicKeyInfo {
        algorithm: "Ed25519".to_owned(),
        key_id: signer.key_id().to_owned(),
        public_key: signer.public_key_base64(),
        public_key_pem: signer.public_key_pem(),
    }
}

/// The organization's checkpoints, newest first, for its org admins and
/// platform admins (others get what other organization routes answer).
pub async fn list_org(state: &AppState, principal: &super::Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<Vec<Checkpoint>> {
    let org = super::orgs::managed_org(state, principal, org_id, "list_audit_checkpoints", meta).await?;
    let rows = state.store.conn().await?.audit_checkpoints_of(&chain_key(Some(org.id)), LIST_LIMIT).await?;
    Ok(rows.iter().map(checkpoint_of).collect())
}

/// The organization's newest checkpoint as a file to keep, with its day;
/// 404 while none has been signed.
pub async fn latest_org(
    state: &AppState,
    principal: &super::Principal,
    org_id: Uuid,
    meta: &RequestMeta,
) -> ServiceResult<(String, CheckpointFile)> {
    let org = super::orgs::managed_org(state, principal, org_id, "download_audit_checkpoint", meta).await?;
    let rows = state.store.conn().await?.audit_checkpoints_of(&chain_key(Some(org.id)), 1).await?;
    let latest = rows.first().map(checkpoint_of).ok_or_else(|| {
        ServiceError::NotFound(
            "No checkpoint of this organization's audit log has been signed yet: one is signed each day its log has new events.".into(),
        )
    })?;
    let file = CheckpointFile {
        statement: latest.statement,
        signature: latest.signature,
        public_key: Some(state.audit_signer.public_key_base64()),
    };
    Ok((latest.day, file))
}

/// Checks a kept checkpoint against chain `org` as it is now: the
/// signature is this installation's over the statement, the statement is
/// of this chain, the chain replays intact, and its event at the
/// statement's seq still has the statement's hash. A chain rewritten and
/// re-hashed consistently after the checkpoint replays intact, but fails
/// the last test.
pub async fn verify_checkpoint(state: &AppState, org: Option<Uuid>, file: &CheckpointFile) -> ServiceResult<CheckpointCheck> {
    let statement = &file.statement;
    let signature_valid = audit_key::verify(&state.audit_signer.public_key(), statement.canonical().as_bytes(), &file.signature);
    let report = audit::verify_chain(&state.store, org).await?;
    let reason = if statement.chain != chain_name(org) {
        Some(format!("the checkpoint is of chain {}, not {}", statement.chain, chain_name(org)))
    } else if !signature_valid {
        Some(if statement.key_id == state.audit_signer.key_id() {
            "the signature does not verify with this installation's key: the statement or the signature was altered".to_owned()
        } else {
            format!("signed by key {}, not this installation's key {}", statement.key_id, state.audit_signer.key_id())
        })
    } else if !report.intact {
        Some(format!(
            "the chain is broken at seq {} ({})",
            report.first_broken_seq.unwrap_or_default(),
            report.reason.as_deref().unwrap_or("unknown")
        ))
    } else if report.head_seq.unwrap_or_default() < statement.seq {
        Some(format!("the chain ends at seq {}, before the checkpoint's seq {}", report.head_seq.unwrap_or_default(), statement.seq))
    } else {
        let mut db = state.store.conn().await?;
        match hash_at(&mut db, org, statement.seq).await? {
            Stored::Hash(hash) if hash == statement.hash => None,
            Stored::Purged { through } => Some(format!(
                "the checkpoint's seq {} was purged by the organization's retention (events up to seq {through} are gone), so it \
                 cannot be checked; keep a newer checkpoint",
                statement.seq
            )),
            _ => Some(format!("the chain was rewritten: its event at seq {} no longer has the checkpoint's hash", statement.seq)),
        }
    };
    Ok(CheckpointCheck { holds: reason.is_none(), chain: statement.chain.clone(), seq: statement.seq, signature_valid, reason, report })
}

/// `POST /api/organizations/{id}/audit/verify`: `verify_checkpoint` on the
/// organization's chain, for its org admins and platform admins.
pub async fn verify_org_checkpoint(
    state: &AppState,
    principal: &super::Principal,
    org_id: Uuid,
    file: &CheckpointFile,
    meta: &RequestMeta,
) -> ServiceResult<CheckpointCheck> {
    let org = super::orgs::managed_org(state, principal, org_id, "verify_audit_checkpoint", meta).await?;
    verify_checkpoint(state, Some(org.id), file).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statement is a format: its bytes are what was signed.
    #[test]
    fn the_statement_has_one_canonical_form() {
        let s = Statement {
            chain: "installation".into(),
            seq: 7,
            hash: "ab".repeat(32),
            signed_at: signed_at(DateTime::parse_from_rfc3339("2026-11-27T21:00:00.987654Z").unwrap().with_timezone(&Utc)),
            key_id: "0123456789abcdef".into(),
        };
        assert_eq!(
            s.canonical(),
            format!(
                r#"{{"chain":"installation","seq":7,"hash":"{}","signed_at":"2026-11-27T21:00:00Z","key_id":"0123456789abcdef"}}"#,
                "ab".repeat(32)
            )
        );
        let parsed: Statement = serde_json::from_str(r#"{"key_id":"k","signed_at":"t","hash":"h","seq":1,"chain":"c"}"#).unwrap();
        assert_eq!(parsed.canonical(), r#"{"chain":"c","seq":1,"hash":"h","signed_at":"t","key_id":"k"}"#, "any order in, one order out");
        assert!(serde_json::from_str::<Statement>(r#"{"chain":"c","seq":1,"hash":"h","signed_at":"t","key_id":"k","x":1}"#).is_err());
        assert_eq!(chain_of_key("installation"), Some(None));
        assert_eq!(chain_of_key("nonsense"), None);
    }
}
