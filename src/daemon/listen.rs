//! Binding the daemon's Unix sockets: a stale file from a crashed daemon is removed, a live
//! daemon or anything that is not a socket is never touched, and the mode is set right after
//! `bind()`.
//!
//! Why so careful: `bind()` fails on an existing path, and after a crash (or a watchdog
//! restart, or SIGKILL) the old socket file is still there, so it must go — but only if
//! nobody answers on it (a second daemon would otherwise steal the first one's clients), and
//! only if it is a socket (a wrong `paths.socket` must never delete a regular file).
//! Between `bind()` and `chmod()` the file has the process umask's mode; under systemd
//! (`UMask=0077`) that is 0700, narrower than the final mode, never wider.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use crate::error::Error;

/// Binds `path` with `mode`, removing a stale socket first.
pub fn bind(path: &Path, mode: u32) -> Result<UnixListener, Error> {
    remove_stale(path)?;
    let listener = UnixListener::bind(path)
        .map_err(|e| Error::io(format!("cannot bind {}", path.display()), e))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| {
        let _ = fs::remove_file(path);
        Error::io(format!("cannot set mode {mode:o} on {}", path.display()), e)
    })?;
    Ok(listener)
}

/// Removes `path` if it is a socket nobody listens on. Errors when a daemon answers there or
/// the path is something else.
pub fn remove_stale(path: &Path) -> Result<(), Error> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = path.parent().unwrap_or(Path::new("/"));
            if !dir.is_dir() {
                return Err(Error::Failed(format!(
                    "the socket directory {} does not exist (systemd creates it as RuntimeDirectory; in the foreground: sudo install -d -m 0751 -o loxwarden -g loxwarden {})",
                    dir.display(),
                    dir.display()
                )));
            }
            return Ok(());
        }
        Err(e) => return Err(Error::io(format!("cannot inspect {}", path.display()), e)),
    };
    if !meta.file_type().is_socket() {
        return Err(Error::Failed(format!(
            "{} exists and is not a socket; not removing it (check paths.socket)",
            path.display()
        )));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(Error::Failed(format!(
            "another loxwarden daemon is listening on {} (systemctl status loxwarden)",
            path.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            log::info!("removing the stale socket {}", path.display());
            fs::remove_file(path)
                .map_err(|e| Error::io(format!("cannot remove the stale {}", path.display()), e))
        }
        Err(e) => Err(Error::io(
            format!("cannot check whether {} is in use", path.display()),
            e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::path::PathBuf;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lw-listen-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_stale_socket_is_replaced_and_the_mode_is_set() {
        let d = dir("stale");
        let p = d.join("mcp.sock");
        drop(UnixListener::bind(&p).unwrap()); // the file stays, nobody listens
        let l = bind(&p, 0o660).expect("stale socket replaced");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o660);
        assert!(UnixStream::connect(&p).is_ok());
        drop(l);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_live_socket_and_a_regular_file_are_left_alone() {
        let d = dir("live");
        let p = d.join("mcp.sock");
        let _first = bind(&p, 0o660).unwrap();
        let e = bind(&p, 0o660).unwrap_err().to_string();
        assert!(e.contains("another loxwarden daemon"), "{e}");
        assert!(
            UnixStream::connect(&p).is_ok(),
            "the first one still serves"
        );
        let f = d.join("notasocket");
        fs::write(&f, b"keep me").unwrap();
        let e = bind(&f, 0o660).unwrap_err().to_string();
        assert!(e.contains("not a socket"), "{e}");
        assert_eq!(fs::read(&f).unwrap(), b"keep me");
        let e = bind(&d.join("missing/mcp.sock"), 0o660)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        fs::remove_dir_all(&d).unwrap();
    }
}
