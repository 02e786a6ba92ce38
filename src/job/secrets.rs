//! Keeping job credentials out of the warehouse's plain text.
//!
//! A job's SQL is stored with its secrets (`s3.access_key`, `s3.secret_key`,
//! `s3.session_token`) blanked, as `job()` shows it; the full SQL is stored
//! next to it sealed with AES-256-GCM under a key that lives outside the
//! warehouse: the file named by `TRIBUTARY_SECRET_KEY_FILE`, or
//! `~/.tributary/secret.key` (created with mode 0600 on first use). A reader
//! of the warehouse files alone cannot recover the credentials; a process
//! that runs the job needs the same key file.

use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::error::{Error, Result};

const KEY_LEN: usize = 32;

/// Where the key is: `TRIBUTARY_SECRET_KEY_FILE` or `~/.tributary/secret.key`.
pub fn default_key_path() -> PathBuf {
    if let Some(path) = std::env::var_os("TRIBUTARY_SECRET_KEY_FILE") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".tributary").join("secret.key")
}

fn key_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::SecretKey {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// The key that seals job credentials.
pub struct SecretKey {
    key: LessSafeKey,
    /// The same bytes, for the tokens [`SecretKey::derive`] makes.
    bytes: Vec<u8>,
}

impl SecretKey {
    /// Reads the key file, creating it with a random key if it is missing.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path)?,
            Err(e) => return Err(key_error(path, e)),
        };
        Self::from_bytes(path, &bytes)
    }

    /// Reads an existing key file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| {
            key_error(path, format!("{e}; the job's credentials were sealed with it: restore the file, or give the credentials again with ALTER JOB"))
        })?;
        Self::from_bytes(path, &bytes)
    }

    fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self> {
        let key = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| key_error(path, format!("must hold exactly {KEY_LEN} bytes")))?;
        Ok(Self {
            key: LessSafeKey::new(key),
            bytes: bytes.to_vec(),
        })
    }

    /// A token for `purpose` that only holders of this key can make
    /// (HMAC-SHA256, base64): processes that share the key file recognize
    /// each other by it without the key crossing the network.
    pub fn derive(&self, purpose: &str) -> String {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.bytes);
        BASE64.encode(aws_lc_rs::hmac::sign(&key, purpose.as_bytes()).as_ref())
    }

    /// Seals `plaintext` as base64 of nonce, ciphertext and tag.
    pub fn seal(&self, plaintext: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| {
            Error::Credentials("cannot draw a random nonce to seal the job's credentials".into())
        })?;
        let mut data = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .map_err(|_| Error::Credentials("cannot seal the job's credentials".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(BASE64.encode(out))
    }

    /// Opens what [`SecretKey::seal`] sealed.
    pub fn open(&self, sealed: &str) -> Result<String> {
        let wrong = || {
            Error::Credentials(
                "cannot open the job's sealed credentials: the secret key file is not the one they were sealed with; give them again with ALTER JOB".into(),
            )
        };
        let bytes = BASE64.decode(sealed).map_err(|_| wrong())?;
        if bytes.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .map_err(|_| wrong())?;
        String::from_utf8(plain.to_vec()).map_err(|_| wrong())
    }
}

fn create(path: &Path) -> Result<Vec<u8>> {
    let mut key = vec![0u8; KEY_LEN];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| key_error(path, "cannot draw a random key"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| key_error(path, e))?;
    // Written whole to a temporary file (mode 0600), then linked into
    // place unless a key is there: another process finds either no key
    // file or a whole one.
    let published = tempfile::NamedTempFile::new_in(dir).and_then(|mut file| {
        use std::io::Write;
        file.write_all(&key)?;
        file.as_file().sync_all()?;
        file.persist_noclobber(path).map(drop).map_err(|e| e.error)
    });
    match published {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created the key that seals job credentials");
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read(path).map_err(|e| key_error(path, e))
        }
        Err(e) => Err(key_error(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = SecretKey::load_or_create(&path).unwrap();
        let sealed = key.seal("secret sql").unwrap();
        assert!(!sealed.contains("secret"));
        assert_eq!(
            SecretKey::load(&path).unwrap().open(&sealed).unwrap(),
            "secret sql"
        );
        let other = SecretKey::load_or_create(&dir.path().join("other")).unwrap();
        assert!(other.open(&sealed).is_err());
    }

    #[test]
    fn processes_creating_the_key_at_once_all_get_the_whole_one() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("secret.key");
            let keys: Vec<String> = std::thread::scope(|scope| {
                let makers: Vec<_> = (0..8)
                    .map(|_| {
                        scope.spawn(|| SecretKey::load_or_create(&path).map(|k| k.derive("t")))
                    })
                    .collect();
                makers
                    .into_iter()
                    .map(|m| m.join().unwrap().unwrap())
                    .collect()
            });
            assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
            let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(files.len(), 1, "only the key file is left");
        }
    }
}
