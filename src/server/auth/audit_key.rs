//! The installation's Ed25519 key that signs audit checkpoints (see
//! `service::audit_checkpoints`): from `NEOSC_AUDIT_SIGNING_KEY` (the
//! 32-byte seed, base64 or hex), or else from `audit-signing.key` in the
//! data directory, generated on first start, readable by its owner only.
//!
//! The file holds the seed as one base64 line; `#` lines are comments.
//! Losing it does not lose anything already signed (the public key is
//! published and kept by whoever verifies), but checkpoints signed after a
//! new key is made no longer chain to the old public key, so it is backed
//! up with the database.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::EncodePublicKey;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::secret_box::{encode_key, generate_key, parse_key, KEY_BYTES};

pub const FILE_NAME: &str = "audit-signing.key";

/// `NEOSC_AUDIT_SIGNING_KEY`: the seed of the signing key. Kept out of logs.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditSigningSeed(pub [u8; KEY_BYTES]);

impl std::fmt::Debug for AuditSigningSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditSigningSeed(***)")
    }
}

impl AuditSigningSeed {
    /// 32 bytes as base64 (or 64 hex digits), like `NEOSC_SECRET_KEY`.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_key(text).map(Self)
    }
}

/// Where the signing key came from, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningKeySource {
    Environment,
    File(PathBuf),
}

/// The signing key and its public name.
pub struct AuditSigner {
    key: SigningKey,
    key_id: String,
    pub source: SigningKeySource,
}

impl std::fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSigner").field("key_id", &self.key_id).field("source", &self.source).finish()
    }
}

/// The public name of a verifying key: the first 16 hex digits of the
/// SHA-256 of its 32 raw bytes (`base64 -d | sha256sum | cut -c1-16` of
/// the published `public_key`).
pub fn key_id_of(public: &VerifyingKey) -> String {
    let digest = Sha256::digest(public.to_bytes());
    data_encoding::HEXLOWER.encode(&digest[..8])
}

/// Whether `signature` (base64 of 64 bytes) is `public`'s Ed25519
/// signature of `message`. Strict verification: no malleable encodings.
pub fn verify(public: &VerifyingKey, message: &[u8], signature: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(signature.trim()) else { return false };
    let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else { return false };
    public.verify_strict(message, &Signature::from_bytes(&bytes)).is_ok()
}

/// A public key from its base64 form (32 raw bytes).
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let bytes = STANDARD.decode(text.trim()).ok()?;
    VerifyingKey::from_bytes(&<[u8; 32]>::try_from(bytes.as_slice()).ok()?).ok()
}

impl AuditSigner {
    pub fn from_seed(seed: &[u8; KEY_BYTES], source: SigningKeySource) -> Self {
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id_of(&key.verifying_key());
        Self { key, key_id, source }
    }

    /// The configured key; makes the key file in `data_dir` when there is
    /// neither a seed in the environment nor a file yet.
    pub fn load(seed: Option<&AuditSigningSeed>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(seed) = seed {
            return Ok(Self::from_seed(&seed.0, SigningKeySource::Environment));
        }
        let path = data_dir.join(FILE_NAME);
        if !path.exists() {
            create(&path, &generate_key())?;
            tracing::warn!(
                path = %path.display(),
                "generated the key that signs audit checkpoints (NEOSC_AUDIT_SIGNING_KEY unset): back this file up with the \
                 database; several instances must share one key (set NEOSC_AUDIT_SIGNING_KEY on each)"
            );
        }
        let seed = read(&path)?;
        Ok(Self::from_seed(&seed, SigningKeySource::File(path)))
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The 32 raw bytes of the public key, base64.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.public_key().to_bytes())
    }

    /// The public key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, RFC
    /// 8410), what `openssl pkeyutl -verify -pubin` reads.
    pub fn public_key_pem(&self) -> String {
        self.public_key().to_public_key_pem(LineEnding::LF).expect("an Ed25519 public key encodes")
    }

    /// The Ed25519 signature of `message`, base64.
    pub fn sign(&self, message: &[u8]) -> String {
        STANDARD.encode(self.key.sign(message).to_bytes())
    }
}

fn read(path: &Path) -> anyhow::Result<[u8; KEY_BYTES]> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the audit signing key file {}", path.display()))?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(|| anyhow::anyhow!("{} holds no key; restore it from the backup or set NEOSC_AUDIT_SIGNING_KEY", path.display()))?;
    parse_key(line).map_err(|m| anyhow::anyhow!("{}: the key {m}", path.display()))
}

/// Writes a new key file readable by its owner only: written aside and
/// linked into place, so a second instance starting at the same moment
/// either makes the file or finds it whole, and both then use the one
/// that won.
fn create(path: &Path, seed: &[u8; KEY_BYTES]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating the data directory {}", dir.display()))?;
    let aside = dir.join(format!(".{FILE_NAME}.{}", uuid::Uuid::new_v4()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = (|| {
        let mut file = options.open(&aside).with_context(|| format!("writing {}", aside.display()))?;
        file.write_all(
            format!(
                "# NeoSC: the Ed25519 seed that signs audit checkpoints (base64).\n\
                 # Back this file up with the database; keep it secret (the public key is served at /api/audit/public-key).\n{}\n",
                encode_key(seed)
            )
            .as_bytes(),
        )?;
        file.sync_all()?;
        Ok::<_, anyhow::Error>(())
    })();
    let linked = written.map(|()| std::fs::hard_link(&aside, path));
    let _ = std::fs::remove_file(&aside);
    match linked? {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating the audit signing key file {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("neosc-auditkey-{}", uuid::Uuid::new_v4()));
        let first = AuditSigner::load(None, &dir).unwrap();
        let again = AuditSigner::load(None, &dir).unwrap();
        assert_eq!(first.key_id(), again.key_id(), "the same key on the next start");
        assert_eq!(first.source, SigningKeySource::File(dir.join(FILE_NAME)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(FILE_NAME)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join(FILE_NAME), "# nothing\n").unwrap();
        assert!(AuditSigner::load(None, &dir).is_err(), "an emptied file is an error, not a new key");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_environment_wins_and_signatures_verify() {
        let dir = std::env::temp_dir().join(format!("neosc-auditkey-{}", uuid::Uuid::new_v4()));
        let seed = AuditSigningSeed::parse(&STANDARD.encode([7u8; 32])).unwrap();
        let signer = AuditSigner::load(Some(&seed), &dir).unwrap();
        assert_eq!(signer.source, SigningKeySource::Environment);
        assert!(!dir.exists(), "no file is made when the key is configured");
        assert!(!format!("{seed:?}{signer:?}").contains(&STANDARD.encode([7u8; 32])), "the seed stays out of logs");

        let public = parse_public_key(&signer.public_key_base64()).unwrap();
        assert_eq!(key_id_of(&public), signer.key_id());
        assert_eq!(signer.key_id().len(), 16);
        let signature = signer.sign(b"statement");
        assert!(verify(&public, b"statement", &signature));
        assert!(!verify(&public, b"statemenT", &signature), "another message");
        assert!(!verify(&public, b"statement", "not base64!"));
        let other = AuditSigner::from_seed(&[8u8; 32], SigningKeySource::Environment);
        assert!(!verify(&other.public_key(), b"statement", &signature), "another key");
        let pem = signer.public_key_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n") && pem.trim_end().ends_with("-----END PUBLIC KEY-----"), "{pem}");
    }
}
