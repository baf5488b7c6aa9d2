//! Moving stored TOTP secrets onto the current key: at start-up (secrets
//! from before encryption at rest, or under a key rotated away from) and
//! for `neosc admin rotate-secret-key`.
//!
//! The pass goes through the accounts in id order, a bounded page per
//! transaction. Each value is replaced only if it is still what was read
//! (conditional UPDATE), so an enrolment in between wins, several
//! instances may run the pass at once, and a second run finds nothing to
//! do.

use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::secret_box::{classify, generate_key, Keyring, SecretBoxError, Stored, KEY_BYTES};
use crate::server::db::{Store, TotpColumn};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// Accounts per transaction.
const PAGE: i64 = 200;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// Values re-encrypted under the current key.
    pub resealed: u64,
    /// Of those, values that were stored in plain text.
    pub were_plain: u64,
    /// Values changed by someone else between read and write: left as the
    /// other writer put them.
    pub changed_meanwhile: u64,
    /// Values no configured key opens (see the log): left untouched.
    pub unreadable: u64,
}

/// What `rotate` did, for the operator.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub old_key_id: String,
    pub new_key_id: String,
    pub report: ResealReport,
}

/// Start-up: seals what is not yet under the current key.
pub async fn seal_stored_secrets(state: &AppState) -> ServiceResult<ResealReport> {
    let report = reseal_all(&state.store, &state.secrets, state.clock.now(), "startup").await?;
    if report.resealed > 0 {
        tracing::info!(
            resealed = report.resealed,
            were_plain = report.were_plain,
            key = state.secrets.current_id(),
            "TOTP secrets sealed under the current key"
        );
    }
    if report.unreadable > 0 {
        tracing::error!(
            unreadable = report.unreadable,
            "TOTP secrets under a key this instance does not have: those members cannot sign in with their authenticator \
             until the key is configured (NEOSC_SECRET_KEY / NEOSC_SECRET_KEY_PREVIOUS) or they sign in with a recovery code and enrol again"
        );
    }
    Ok(report)
}

/// `neosc admin rotate-secret-key`: every stored secret re-encrypted under
/// `new_key` (a generated one when None); the keys the state has stay
/// readable during the pass.
/// `previous` are the keys to keep readable: the state's current and
/// previous ones.
pub async fn rotate(
    state: &AppState,
    new_key: Option<[u8; KEY_BYTES]>,
    previous: &[[u8; KEY_BYTES]],
) -> ServiceResult<(Rotation, [u8; KEY_BYTES])> {
    let new_key = new_key.unwrap_or_else(generate_key);
    let ring = Keyring::new(&new_key, previous);
    let old_key_id = state.secrets.current_id().to_owned();
    if ring.current_id() == old_key_id {
        return Err(ServiceError::Conflict("That key is already the current one; give another or none (one is generated).".into()));
    }
    let now = state.clock.now();
    let report = reseal_all(&state.store, &ring, now, "rotate-secret-key").await?;
    let rotation = Rotation { old_key_id, new_key_id: ring.current_id().to_owned(), report };
    let mut db = state.store.begin().await?;
    audit::record(
        &mut db,
        now,
        &RequestMeta { ip: None, user_agent: Some("neosc admin (operator CLI)".into()), operator: true, ..Default::default() },
        Event {
            org: None,
            actor: None,
            action: action::ROTATE_SECRET_KEY,
            target: None,
            details: json!({
                "old_key_id": rotation.old_key_id,
                "new_key_id": rotation.new_key_id,
                "resealed": report.resealed,
                "changed_meanwhile": report.changed_meanwhile,
                "unreadable": report.unreadable,
            }),
        },
    )
    .await?;
    db.commit().await?;
    Ok((rotation, new_key))
}

async fn reseal_all(store: &Store, ring: &Keyring, now: chrono::DateTime<chrono::Utc>, source: &str) -> ServiceResult<ResealReport> {
    let mut report = ResealReport::default();
    let mut after: Option<Uuid> = None;
    loop {
        let mut db = store.begin().await?;
        let page = db.totp_secrets_after(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let before = report;
        for row in &page {
            for (column, stored) in [(TotpColumn::Active, &row.totp_secret), (TotpColumn::Pending, &row.totp_pending_secret)] {
                let Some(stored) = stored else { continue };
                if ring.is_current(stored) {
                    continue;
                }
                let secret = match ring.open(row.id, stored) {
                    Ok(secret) => secret,
                    Err(e) => {
                        tracing::warn!(user = %row.id, ?column, error = %e, "a stored TOTP secret cannot be re-encrypted");
                        report.unreadable += 1;
                        continue;
                    }
                };
                let was_plain = matches!(classify(stored), Ok(Stored::Plain));
                if db.reseal_totp_secret(row.id, column, stored, &ring.seal(row.id, &secret)).await? {
                    report.resealed += 1;
                    report.were_plain += u64::from(was_plain);
                } else {
                    report.changed_meanwhile += 1;
                }
            }
        }
        let resealed = report.resealed - before.resealed;
        if resealed > 0 {
            // One event per committed page, in its transaction: what this
            // page changed, under which key.
            audit::record(
                &mut db,
                now,
                &RequestMeta { ip: None, user_agent: Some(format!("neosc ({source})")), operator: false, ..Default::default() },
                Event {
                    org: None,
                    actor: None,
                    action: action::RESEAL_SECRETS,
                    target: None,
                    details: json!({
                        "source": source,
                        "key_id": ring.current_id(),
                        "resealed": resealed,
                        "were_plain": report.were_plain - before.were_plain,
                    }),
                },
            )
            .await?;
        }
        db.commit().await?;
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    // The audit streams' signing secrets are sealed the same way.
    let (streams, unreadable) = super::audit_stream::reseal_secrets(store, ring).await?;
    report.resealed += streams;
    report.unreadable += unreadable;
    Ok(report)
}

/// A stored secret as the TOTP code check needs it.
pub fn open(state: &AppState, owner: Uuid, stored: &[u8]) -> ServiceResult<Vec<u8>> {
    state.secrets.open(owner, stored).map_err(|e: SecretBoxError| ServiceError::internal(anyhow::anyhow!("TOTP secret of {owner}: {e}")))
}

/// `open` for the sign-in check: a secret that does not open is logged
/// (it needs the key it was sealed with) and counts as no secret.
pub fn open_or_log(state: &AppState, owner: Uuid, stored: &[u8]) -> Option<Vec<u8>> {
    open(state, owner, stored).map_err(|e| tracing::error!(error = %e.log_detail(), "TOTP code not checked")).ok()
}

/// A new secret as it is stored.
pub fn seal(state: &AppState, owner: Uuid, secret: &[u8]) -> Vec<u8> {
    state.secrets.seal(owner, secret)
}
