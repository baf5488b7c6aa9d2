//! The keyring secrets are sealed with: from `NEOSC_SECRET_KEY` (and
//! `NEOSC_SECRET_KEY_PREVIOUS`), or else from `secret.key` in the data
//! directory, generated on first start.
//!
//! The file holds one key per line (base64), the current one first and
//! older, read-only ones after it; `#` lines are comments. Losing it makes
//! every TOTP enrolment unusable, so it is backed up with the database.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::secret_box::{encode_key, generate_key, parse_key, Keyring, KEY_BYTES};
use crate::server::config::SecretKeyConfig;

pub const FILE_NAME: &str = "secret.key";

/// Where the keyring came from, for the log and `rotate-secret-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
}

pub struct LoadedKeys {
    pub keyring: Keyring,
    pub source: KeySource,
    pub current: [u8; KEY_BYTES],
    pub previous: Vec<[u8; KEY_BYTES]>,
}

pub fn path(config: &SecretKeyConfig) -> PathBuf {
    config.data_dir.join(FILE_NAME)
}

/// The configured keys; makes the key file when there is neither a key in
/// the environment nor a file yet.
pub fn load(config: &SecretKeyConfig) -> anyhow::Result<LoadedKeys> {
    if let Some(current) = config.current {
        return Ok(LoadedKeys {
            keyring: Keyring::new(&current, &config.previous),
            source: KeySource::Environment,
            current,
            previous: config.previous.clone(),
        });
    }
    let path = path(config);
    if !path.exists() {
        create(&path, &[generate_key()])?;
        tracing::warn!(
            path = %path.display(),
            "generated the key that encrypts TOTP secrets (NEOSC_SECRET_KEY unset): back this file up with the database; \
             several instances must share one key (set NEOSC_SECRET_KEY on each)"
        );
    }
    let keys = read(&path)?;
    let (current, previous) = keys.split_first().expect("read returns at least one key");
    Ok(LoadedKeys {
        keyring: Keyring::new(current, previous),
        source: KeySource::File(path),
        current: *current,
        previous: previous.to_vec(),
    })
}

fn read(path: &Path) -> anyhow::Result<Vec<[u8; KEY_BYTES]>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the secret key file {}", path.display()))?;
    let keys = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .enumerate()
        .map(|(i, l)| parse_key(l).map_err(|m| anyhow::anyhow!("{}: key {} {m}", path.display(), i + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!keys.is_empty(), "{} holds no key; restore it from the backup or set NEOSC_SECRET_KEY", path.display());
    Ok(keys)
}

fn contents(keys: &[[u8; KEY_BYTES]]) -> String {
    let mut text = String::from(
        "# NeoSC: the key TOTP secrets are encrypted with (first line), then older keys still read.\n\
         # Back this file up with the database: without it, two-factor enrolments cannot be used.\n",
    );
    for key in keys {
        text.push_str(&encode_key(key));
        text.push('\n');
    }
    text
}

/// Writes a new key file readable by its owner only. Written aside and
/// linked into place, so a second instance starting at the same moment
/// either makes the file or finds it whole, never half written.
fn create(path: &Path, keys: &[[u8; KEY_BYTES]]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating the data directory {}", dir.display()))?;
    let aside = write_aside(dir, keys)?;
    let linked = std::fs::hard_link(&aside, path);
    let _ = std::fs::remove_file(&aside);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating the secret key file {}", path.display())),
    }
}

/// Replaces the key file (rotation): new key first, older ones after.
pub fn replace(path: &Path, keys: &[[u8; KEY_BYTES]]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let aside = write_aside(dir, keys)?;
    std::fs::rename(&aside, path).with_context(|| format!("replacing the secret key file {}", path.display()))
}

fn write_aside(dir: &Path, keys: &[[u8; KEY_BYTES]]) -> anyhow::Result<PathBuf> {
    let aside = dir.join(format!(".{FILE_NAME}.{}", uuid::Uuid::new_v4()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&aside).with_context(|| format!("writing {}", aside.display()))?;
    file.write_all(contents(keys).as_bytes())?;
    file.sync_all()?;
    Ok(aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> SecretKeyConfig {
        SecretKeyConfig { current: None, previous: Vec::new(), data_dir: dir.to_path_buf() }
    }

    #[test]
    fn generated_once_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("neosc-keyfile-{}", uuid::Uuid::new_v4()));
        let first = load(&config(&dir)).unwrap();
        let again = load(&config(&dir)).unwrap();
        assert_eq!(first.current, again.current, "the same key on the next start");
        assert_eq!(first.source, KeySource::File(dir.join(FILE_NAME)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(FILE_NAME)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let next = generate_key();
        replace(&dir.join(FILE_NAME), &[next, first.current]).unwrap();
        let rotated = load(&config(&dir)).unwrap();
        assert_eq!((rotated.current, rotated.previous.clone()), (next, vec![first.current]));
        std::fs::write(dir.join(FILE_NAME), "# nothing\n").unwrap();
        assert!(load(&config(&dir)).is_err(), "an emptied file is an error, not a new key");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_environment_wins() {
        let dir = std::env::temp_dir().join(format!("neosc-keyfile-{}", uuid::Uuid::new_v4()));
        let key = generate_key();
        let loaded = load(&SecretKeyConfig { current: Some(key), ..config(&dir) }).unwrap();
        assert_eq!(loaded.source, KeySource::Environment);
        assert!(!dir.exists(), "no file is made when the key is configured");
    }
}
