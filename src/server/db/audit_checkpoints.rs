use chrono::{DateTime, NaiveDate, Utc};

use super::{on_conn, AuditHead, Db, DbResult};

/// One signed checkpoint: chain `chain_key` stood at (`seq`, `hash`) when
/// it was signed on `day` (UTC). See `service::audit_checkpoints`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckpointRecord {
    pub chain_key: String,
    pub day: NaiveDate,
    pub seq: i64,
    pub hash: String,
    pub signed_at: DateTime<Utc>,
    pub key_id: String,
    pub signature: String,
}

/// A chain's head that moved since the chain's last checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MovedChain {
    pub chain_key: String,
    pub seq: i64,
    pub hash: String,
}

impl MovedChain {
    pub fn head(&self) -> AuditHead {
        AuditHead { seq: self.seq, hash: self.hash.clone() }
    }
}

const COLUMNS: &str = "chain_key, day, seq, hash, signed_at, key_id, signature";

impl Db {
    /// Writes a checkpoint unless the chain has one for that day already
    /// (another instance's pass won). True when this one was written.
    pub async fn insert_audit_checkpoint(&mut self, c: &CheckpointRecord) -> DbResult<bool> {
        let n = on_conn!(self, |conn| sqlx::query(
            "INSERT INTO audit_checkpoints (chain_key, day, seq, hash, signed_at, key_id, signature) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (chain_key, day) DO NOTHING"
        )
        .bind(&c.chain_key)
        .bind(c.day)
        .bind(c.seq)
        .bind(&c.hash)
        .bind(c.signed_at)
        .bind(&c.key_id)
        .bind(&c.signature)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The chains whose head lies beyond their newest checkpoint (or that
    /// have none) and that have no checkpoint for `day` yet.
    pub async fn audit_chains_to_checkpoint(&mut self, day: NaiveDate) -> DbResult<Vec<MovedChain>> {
        Ok(on_conn!(self, |c| sqlx::query_as::<_, MovedChain>(
            "SELECT h.chain_key, h.seq, h.hash FROM audit_heads h \
             WHERE h.seq > COALESCE((SELECT k.seq FROM audit_checkpoints k WHERE k.chain_key = h.chain_key \
                                     ORDER BY k.day DESC LIMIT 1), 0) \
             AND NOT EXISTS (SELECT 1 FROM audit_checkpoints k WHERE k.chain_key = h.chain_key AND k.day = $1) \
             ORDER BY h.chain_key"
        )
        .bind(day)
        .fetch_all(c)
        .await)?)
    }

    /// The newest checkpoints of one chain, newest first.
    pub async fn audit_checkpoints_of(&mut self, chain_key: &str, limit: i64) -> DbResult<Vec<CheckpointRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_checkpoints WHERE chain_key = $1 ORDER BY day DESC LIMIT $2");
        Ok(on_conn!(self, |c| sqlx::query_as::<_, CheckpointRecord>(&sql).bind(chain_key).bind(limit).fetch_all(c).await)?)
    }
}
