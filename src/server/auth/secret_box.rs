//! Secrets kept at rest encrypted (AES-256-GCM): the TOTP seeds. A stolen
//! database dump (backup, replica, SQL injection) then yields nothing that
//! mints codes; the key lives outside the database (`NEOSC_SECRET_KEY` or
//! the key file in the data directory).
//!
//! Stored form, ASCII: `v1:<key id>:<base64(nonce || ciphertext || tag)>`.
//! The key id says which key of the keyring opens it, so a key can be
//! rotated while old values stay readable. The nonce is 96 random bits per
//! encryption. The owning user's id is the associated data: a value copied
//! into another user's row does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;
const PREFIX: &[u8] = b"v1:";
/// Every secret written before encryption was 20 raw bytes
/// (`totp::new_secret`); a sealed value is always longer. So a value is
/// sealed exactly when it has the prefix and is not that size, and a raw
/// seed that happens to begin with `v1:` is still read as one.
const LEGACY_SECRET_BYTES: usize = 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretBoxError {
    #[error("the secret was encrypted under key {0}, which is not configured (NEOSC_SECRET_KEY / NEOSC_SECRET_KEY_PREVIOUS / key file)")]
    UnknownKey(String),
    #[error("the secret does not decrypt: it was altered, or belongs to another account")]
    Undecryptable,
    #[error("the stored secret is not in the v1 format")]
    Malformed,
}

/// A 256-bit key as configured: 64 hex digits or base64 (standard or
/// URL-safe, padding optional).
pub fn parse_key(text: &str) -> Result<[u8; KEY_BYTES], String> {
    let text = text.trim();
    let bytes = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        data_encoding::HEXLOWER_PERMISSIVE.decode(text.as_bytes()).map_err(|e| e.to_string())?
    } else {
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or_else(|| "is neither 64 hex digits nor base64".to_owned())?
    };
    <[u8; KEY_BYTES]>::try_from(bytes.as_slice())
        .map_err(|_| format!("decodes to {} bytes; it must be exactly {KEY_BYTES} (e.g. `openssl rand -base64 32`)", bytes.len()))
}

pub fn generate_key() -> [u8; KEY_BYTES] {
    let mut key = [0u8; KEY_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

/// How a key is written down (key file, `rotate-secret-key` output).
pub fn encode_key(key: &[u8; KEY_BYTES]) -> String {
    STANDARD.encode(key)
}

/// A short public name for a key: the first 32 bits of a hash of it. It
/// says which key a value needs without saying anything usable about it.
pub fn key_id(key: &[u8; KEY_BYTES]) -> String {
    let digest = Sha256::new().chain_update(b"neosc secret key id\0").chain_update(key).finalize();
    data_encoding::HEXLOWER.encode(&digest[..4])
}

struct BoxKey {
    id: String,
    cipher: Aes256Gcm,
}

impl BoxKey {
    fn new(key: &[u8; KEY_BYTES]) -> Self {
        Self { id: key_id(key), cipher: Aes256Gcm::new_from_slice(key).expect("a 32-byte key") }
    }
}

/// The key new values are sealed with, and older keys that may still open
/// values sealed before a rotation.
pub struct Keyring {
    current: BoxKey,
    previous: Vec<BoxKey>,
}

/// Keys stay out of logs.
impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field("previous", &self.previous.iter().map(|k| k.id.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

/// What a stored value is.
#[derive(Debug, PartialEq, Eq)]
pub enum Stored<'a> {
    /// Written before encryption at rest: the secret itself.
    Plain,
    Sealed {
        key_id: &'a str,
    },
}

pub fn classify(stored: &[u8]) -> Result<Stored<'_>, SecretBoxError> {
    if !stored.starts_with(PREFIX) || stored.len() == LEGACY_SECRET_BYTES {
        return Ok(Stored::Plain);
    }
    let rest = &stored[PREFIX.len()..];
    let colon = rest.iter().position(|b| *b == b':').ok_or(SecretBoxError::Malformed)?;
    let key_id = std::str::from_utf8(&rest[..colon]).map_err(|_| SecretBoxError::Malformed)?;
    Ok(Stored::Sealed { key_id })
}

impl Keyring {
    pub fn new(current: &[u8; KEY_BYTES], previous: &[[u8; KEY_BYTES]]) -> Self {
        let current = BoxKey::new(current);
        let mut ring = Self { previous: Vec::new(), current };
        for key in previous {
            let key = BoxKey::new(key);
            if key.id != ring.current.id && ring.previous.iter().all(|k| k.id != key.id) {
                ring.previous.push(key);
            }
        }
        ring
    }

    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    pub fn previous_ids(&self) -> Vec<&str> {
        self.previous.iter().map(|k| k.id.as_str()).collect()
    }

    /// Encrypts `secret` for the account `owner`.
    pub fn seal(&self, owner: Uuid, secret: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .current
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad: owner.as_bytes() })
            .expect("AES-GCM encrypts any input of this size");
        let mut payload = nonce.to_vec();
        payload.extend_from_slice(&ciphertext);
        format!("v1:{}:{}", self.current.id, STANDARD.encode(payload)).into_bytes()
    }

    /// The secret a stored value holds. A value from before encryption is
    /// returned as it is (the start-up pass seals it soon after).
    pub fn open(&self, owner: Uuid, stored: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let key_id = match classify(stored)? {
            Stored::Plain => return Ok(stored.to_vec()),
            Stored::Sealed { key_id } => key_id,
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
            .ok_or_else(|| SecretBoxError::UnknownKey(key_id.to_owned()))?;
        let encoded = &stored[PREFIX.len() + key_id.len() + 1..];
        let payload = STANDARD.decode(encoded).map_err(|_| SecretBoxError::Malformed)?;
        if payload.len() < NONCE_BYTES {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, ciphertext) = payload.split_at(NONCE_BYTES);
        key.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: owner.as_bytes() })
            .map_err(|_| SecretBoxError::Undecryptable)
    }

    /// Whether a stored value is already sealed under the current key
    /// (nothing for a re-encryption pass to do).
    pub fn is_current(&self, stored: &[u8]) -> bool {
        matches!(classify(stored), Ok(Stored::Sealed { key_id }) if key_id == self.current.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::new(&[7u8; KEY_BYTES], &[])
    }

    #[test]
    fn round_trip_and_a_fresh_nonce_each_time() {
        let ring = ring();
        let owner = Uuid::now_v7();
        let secret = b"12345678901234567890";
        let a = ring.seal(owner, secret);
        let b = ring.seal(owner, secret);
        assert_ne!(a, b, "a random nonce per encryption");
        assert!(a.starts_with(format!("v1:{}:", ring.current_id()).as_bytes()));
        assert!(!a.windows(secret.len()).any(|w| w == secret));
        assert_eq!(ring.open(owner, &a).unwrap(), secret);
        assert_eq!(ring.open(owner, &b).unwrap(), secret);
        assert!(ring.is_current(&a));
    }

    #[test]
    fn another_owner_does_not_open_it() {
        let ring = ring();
        let sealed = ring.seal(Uuid::now_v7(), b"12345678901234567890");
        assert_eq!(ring.open(Uuid::now_v7(), &sealed), Err(SecretBoxError::Undecryptable));
    }

    #[test]
    fn tampering_is_detected() {
        let ring = ring();
        let owner = Uuid::now_v7();
        let sealed = ring.seal(owner, b"12345678901234567890");
        let prefix = format!("v1:{}:", ring.current_id()).len();
        let mut payload = STANDARD.decode(&sealed[prefix..]).unwrap();
        for i in [0, NONCE_BYTES, payload.len() - 1] {
            payload[i] ^= 1;
            let mut tampered = sealed[..prefix].to_vec();
            tampered.extend_from_slice(STANDARD.encode(&payload).as_bytes());
            assert_eq!(ring.open(owner, &tampered), Err(SecretBoxError::Undecryptable), "byte {i}");
            payload[i] ^= 1;
        }
        let mut cut = sealed.clone();
        cut.truncate(prefix + 12);
        assert!(ring.open(owner, &cut).is_err());
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_unknown_keys_are_named() {
        let old = ring();
        let owner = Uuid::now_v7();
        let sealed = old.seal(owner, b"12345678901234567890");
        let rotated = Keyring::new(&[9u8; KEY_BYTES], &[[7u8; KEY_BYTES]]);
        assert_eq!(rotated.open(owner, &sealed).unwrap(), b"12345678901234567890");
        assert!(!rotated.is_current(&sealed));
        let without_old = Keyring::new(&[9u8; KEY_BYTES], &[]);
        assert_eq!(without_old.open(owner, &sealed), Err(SecretBoxError::UnknownKey(old.current_id().to_owned())));
    }

    #[test]
    fn legacy_plaintext_is_read_as_is() {
        let ring = ring();
        let mut raw = *b"v1:45678901234567890";
        assert_eq!(ring.open(Uuid::now_v7(), &raw).unwrap(), raw, "a raw seed that looks like the prefix");
        raw[0] = 0xff;
        assert_eq!(classify(&raw), Ok(Stored::Plain));
        assert!(!ring.is_current(&raw));
    }

    #[test]
    fn keys_parse_from_hex_or_base64_and_nothing_else() {
        let key = [0xabu8; KEY_BYTES];
        assert_eq!(parse_key(&"ab".repeat(32)).unwrap(), key);
        assert_eq!(parse_key(&encode_key(&key)).unwrap(), key);
        assert_eq!(parse_key(&URL_SAFE_NO_PAD.encode(key)).unwrap(), key);
        assert!(parse_key("too short").is_err());
        assert!(parse_key(&STANDARD.encode([1u8; 16])).unwrap_err().contains("16 bytes"));
        assert_ne!(key_id(&key), key_id(&[0u8; KEY_BYTES]));
    }
}
