//! Single sign-on: sign-ins in flight, identities at the provider, ID
//! tokens already exchanged, and the SSO facts kept on users and sessions.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{on_conn, Db, DbResult};

/// A sign-in between the redirect to the provider and its callback.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OidcFlowRecord {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub expires_at: DateTime<Utc>,
    /// The account this flow links an identity to, when started from the
    /// account page.
    pub link_user_id: Option<Uuid>,
}

pub struct NewOidcFlow<'a> {
    pub id_hash: &'a [u8],
    pub state: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    pub return_to: &'a str,
    pub link_user_id: Option<Uuid>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Db {
    pub async fn insert_oidc_flow(&mut self, new: &NewOidcFlow<'_>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO oidc_flows (id_hash, state, nonce, pkce_verifier, return_to, created_at, expires_at, link_user_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(new.id_hash)
        .bind(new.state)
        .bind(new.nonce)
        .bind(new.pkce_verifier)
        .bind(new.return_to)
        .bind(new.now)
        .bind(new.expires_at)
        .bind(new.link_user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Reads and deletes a flow in one statement, so two callbacks racing
    /// with the same cookie cannot both use it.
    pub async fn take_oidc_flow(&mut self, id_hash: &[u8]) -> DbResult<Option<OidcFlowRecord>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, OidcFlowRecord>(
            "DELETE FROM oidc_flows WHERE id_hash = $1 RETURNING state, nonce, pkce_verifier, return_to, expires_at, link_user_id"
        )
        .bind(id_hash)
        .fetch_optional(c)
        .await)?)
    }

    /// Removes what expired: abandoned sign-ins and the record of used ID
    /// tokens that could not be replayed any more anyway.
    pub async fn delete_expired_sso_state(&mut self, now: DateTime<Utc>) -> DbResult<u64> {
        let flows = on_conn!(self, |c| sqlx::query("DELETE FROM oidc_flows WHERE expires_at <= $1")
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        let tokens = on_conn!(self, |c| sqlx::query("DELETE FROM oidc_used_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(flows + tokens)
    }

    /// Records that an ID token was exchanged; false when it already was.
    pub async fn claim_id_token(&mut self, token_hash: &[u8], expires_at: DateTime<Utc>) -> DbResult<bool> {
        let done = on_conn!(self, |c| sqlx::query(
            "INSERT INTO oidc_used_tokens (token_hash, expires_at) VALUES ($1, $2) ON CONFLICT (token_hash) DO NOTHING"
        )
        .bind(token_hash)
        .bind(expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Stores a nonce issued to an API client; expired ones go at the
    /// same time, so unauthenticated callers cannot grow the table beyond
    /// what they ask for within one nonce's lifetime.
    pub async fn insert_api_nonce(&mut self, nonce_hash: &[u8], now: DateTime<Utc>, expires_at: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("DELETE FROM oidc_api_nonces WHERE expires_at <= $1")
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        on_conn!(self, |c| sqlx::query("INSERT INTO oidc_api_nonces (nonce_hash, expires_at) VALUES ($1, $2)")
            .bind(nonce_hash)
            .bind(expires_at)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Uses a nonce: true once, if it was issued and has not expired.
    pub async fn take_api_nonce(&mut self, nonce_hash: &[u8], now: DateTime<Utc>) -> DbResult<bool> {
        let taken = on_conn!(self, |c| sqlx::query("DELETE FROM oidc_api_nonces WHERE nonce_hash = $1 AND expires_at > $2")
            .bind(nonce_hash)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(taken == 1)
    }

    /// Keeps the removed member's identities (before their row and, with it,
    /// their `user_identities` go).
    pub async fn mark_identities_removed(&mut self, org_id: Uuid, user_id: Uuid, email: &str, now: DateTime<Utc>) -> DbResult<u64> {
        Ok(on_conn!(self, |c| sqlx::query(
            "INSERT INTO removed_identities (organization_id, issuer, subject, email, removed_at) \
             SELECT $1, issuer, subject, $3, $4 FROM user_identities WHERE user_id = $2 \
             ON CONFLICT (organization_id, issuer, subject) DO UPDATE SET email = $3, removed_at = $4"
        )
        .bind(org_id)
        .bind(user_id)
        .bind(email)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    pub async fn identity_was_removed(&mut self, org_id: Uuid, issuer: &str, subject: &str) -> DbResult<bool> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM removed_identities WHERE organization_id = $1 AND issuer = $2 AND subject = $3"
        )
        .bind(org_id)
        .bind(issuer)
        .bind(subject)
        .fetch_one(c)
        .await)?
            > 0)
    }

    /// An invited account took the identity back: the tombstone has done
    /// its work.
    pub async fn clear_removed_identity(&mut self, org_id: Uuid, issuer: &str, subject: &str) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("DELETE FROM removed_identities WHERE organization_id = $1 AND issuer = $2 AND subject = $3")
            .bind(org_id)
            .bind(issuer)
            .bind(subject)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Db {
    /// The user an identity at `issuer` belongs to.
    pub async fn user_id_by_identity(&mut self, issuer: &str, subject: &str) -> DbResult<Option<Uuid>> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, Uuid>("SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2")
            .bind(issuer)
            .bind(subject)
            .fetch_optional(c)
            .await)?)
    }

    pub async fn insert_identity(
        &mut self,
        issuer: &str,
        subject: &str,
        user_id: Uuid,
        email: Option<&str>,
        now: DateTime<Utc>,
    ) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "INSERT INTO user_identities (issuer, subject, user_id, email, created_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $5)"
        )
        .bind(issuer)
        .bind(subject)
        .bind(user_id)
        .bind(email)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn touch_identity(&mut self, issuer: &str, subject: &str, email: Option<&str>, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query(
            "UPDATE user_identities SET last_login_at = $3, email = COALESCE($4, email) WHERE issuer = $1 AND subject = $2"
        )
        .bind(issuer)
        .bind(subject)
        .bind(now)
        .bind(email)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether the user's last SSO sign-in showed a second factor.
    pub async fn set_user_sso_mfa(&mut self, user_id: Uuid, mfa: bool, now: DateTime<Utc>) -> DbResult<()> {
        on_conn!(self, |c| sqlx::query("UPDATE users SET sso_mfa = $2, updated_at = $3 WHERE id = $1")
            .bind(user_id)
            .bind(mfa)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The ID token an SSO session was opened with, for the logout hint.
    pub async fn session_id_token(&mut self, session_id: Uuid) -> DbResult<Option<String>> {
        Ok(on_conn!(self, |c| sqlx::query_scalar::<_, Option<String>>("SELECT id_token FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(c)
            .await)?
        .flatten())
    }
}
