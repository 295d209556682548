//! What the link keeps in the state directory: the token (mode 0600) and the cached structure.
//!
//! Why a file per thing, written atomically: the daemon refreshes the token while it runs, and a
//! crash mid-write must leave either the old or the new token, never half of one. Files are
//! written to a temporary name with mode 0600 from the start (no window where they are
//! readable by others), synced, then renamed. A token file readable by group or others is
//! refused, the way ssh refuses a private key.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::auth::Token;
use super::crypto::HashAlg;
use super::errors::LinkError;
use super::secret::Secret;
use super::tls::Fingerprint;

pub const TOKEN_FILE: &str = "token.json";
pub const STRUCTURE_FILE: &str = "LoxAPP3.json";

/// The token file's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    pub token: Token,
    /// The certificate pinned at login (https only).
    pub tls_pin: Option<Fingerprint>,
    pub client_uuid: String,
    /// `miniserver.url` at login; a different URL means the token belongs elsewhere.
    pub url: String,
    /// The Miniserver's serial at login.
    pub serial: String,
}

#[derive(Serialize, Deserialize)]
struct TokenFileV1 {
    version: u32,
    user: String,
    token: String,
    valid_until: u64,
    rights: u64,
    hash_alg: String,
    unsecure_pass: bool,
    obtained_unix: u64,
    tls_pin: Option<String>,
    client_uuid: String,
    url: String,
    serial: String,
}

fn state_err(what: String) -> impl FnOnce(std::io::Error) -> LinkError {
    move |source| LinkError::State { what, source }
}

/// Writes `bytes` to `dir/name` atomically with mode 0600, creating `dir` (0700) if needed.
pub fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, LinkError> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(state_err(format!(
                "cannot create the state directory {}",
                dir.display()
            )))?;
    }
    let target = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &target)?;
        Ok(())
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        LinkError::State {
            what: format!("cannot write {}", target.display()),
            source: e,
        }
    })?;
    Ok(target)
}

impl StoredToken {
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join(TOKEN_FILE)
    }

    /// Saves with mode 0600.
    pub fn save(&self, state_dir: &Path) -> Result<PathBuf, LinkError> {
        let t = &self.token;
        let file = TokenFileV1 {
            version: 1,
            user: t.user.clone(),
            token: t.token.expose().to_owned(),
            valid_until: t.valid_until,
            rights: t.rights,
            hash_alg: t.hash_alg.as_str().to_owned(),
            unsecure_pass: t.unsecure_pass,
            obtained_unix: t.obtained_unix,
            tls_pin: self.tls_pin.map(|p| p.to_string()),
            client_uuid: self.client_uuid.clone(),
            url: self.url.clone(),
            serial: self.serial.clone(),
        };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| LinkError::Protocol(format!("cannot encode the token file: {e}")))?;
        write_private(state_dir, TOKEN_FILE, &json)
    }

    /// Loads the token file; `Ok(None)` when there is none.
    pub fn load(state_dir: &Path) -> Result<Option<StoredToken>, LinkError> {
        let path = Self::path(state_dir);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(state_err(format!("cannot read {}", path.display()))(e)),
        };
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(LinkError::Config(format!(
                "{} is readable by other users (mode {:o}); run 'chmod 600 {}' or 'loxwarden login' again",
                path.display(),
                meta.permissions().mode() & 0o777,
                path.display()
            )));
        }
        let bytes =
            fs::read(&path).map_err(state_err(format!("cannot read {}", path.display())))?;
        let f: TokenFileV1 = serde_json::from_slice(&bytes).map_err(|e| {
            LinkError::Config(format!(
                "{} is not a loxwarden token file ({e}); run 'loxwarden login'",
                path.display()
            ))
        })?;
        let hash_alg = HashAlg::from_field(Some(&f.hash_alg))
            .map_err(|e| LinkError::Config(format!("{}: {e}", path.display())))?;
        let tls_pin = match f.tls_pin {
            Some(p) => Some(Fingerprint::parse(&p).ok_or_else(|| {
                LinkError::Config(format!("{}: tls_pin is not a fingerprint", path.display()))
            })?),
            None => None,
        };
        Ok(Some(StoredToken {
            token: Token {
                token: Secret::new(f.token),
                valid_until: f.valid_until,
                rights: f.rights,
                hash_alg,
                user: f.user,
                unsecure_pass: f.unsecure_pass,
                obtained_unix: f.obtained_unix,
            },
            tls_pin,
            client_uuid: f.client_uuid,
            url: f.url,
            serial: f.serial,
        }))
    }

    /// Deletes the token file (logout). Missing is fine.
    pub fn delete(state_dir: &Path) -> Result<bool, LinkError> {
        let path = Self::path(state_dir);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(state_err(format!("cannot delete {}", path.display()))(e)),
        }
    }
}

/// Writes the structure cache.
pub fn save_structure(state_dir: &Path, bytes: &[u8]) -> Result<PathBuf, LinkError> {
    write_private(state_dir, STRUCTURE_FILE, bytes)
}

/// Reads the structure cache, if any.
pub fn load_structure(state_dir: &Path) -> Option<Vec<u8>> {
    fs::read(state_dir.join(STRUCTURE_FILE)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lw-store-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn stored() -> StoredToken {
        StoredToken {
            token: Token {
                token: Secret::new("eyJhbGciOi.x.y"),
                valid_until: 500_000_000,
                rights: 4,
                hash_alg: HashAlg::Sha256,
                user: "ai".into(),
                unsecure_pass: false,
                obtained_unix: 1_700_000_000,
            },
            tls_pin: Some(Fingerprint([7; 32])),
            client_uuid: "098802e1-02b4-603c-ffffeee000d80cfd".into(),
            url: "https://h".into(),
            serial: "504F94A00000".into(),
        }
    }

    #[test]
    fn the_token_file_round_trips_with_mode_0600() {
        let d = tmpdir("rt");
        let path = stored().save(&d).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(StoredToken::load(&d).unwrap(), Some(stored()));
        assert!(StoredToken::delete(&d).unwrap());
        assert_eq!(StoredToken::load(&d).unwrap(), None);
        assert!(!StoredToken::delete(&d).unwrap());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_token_file_readable_by_others_is_refused() {
        let d = tmpdir("perm");
        let path = stored().save(&d).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = StoredToken::load(&d).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        fs::remove_dir_all(&d).unwrap();
    }
}
