//! File modes of the config and the secrets it names: a config or password file others can read
//! or write is reported at start (`check-config` and the daemon's log), not silently used.

use super::*;

/// Who else may read or change the site's files: the warnings the commands that handle
/// credentials (`daemon`, `serve --standalone`, `login`, `check-config`) log at start.
///
/// Why warnings and not errors: the package installs the config 0644 so that anyone in the
/// house can run `loxwarden status`; it holds no secret (no password key exists and a URL with
/// one is refused). But it names the Miniserver, the Loxone user and where the passwords are,
/// and whoever can *write* it decides what the AI may see and do. The password files
/// themselves must be private.
pub fn file_mode_warnings(config_path: &Path, cfg: Option<&Config>) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    };
    let mut out = Vec::new();
    if let Some(m) = mode(config_path) {
        out.extend(config_mode_warnings(config_path, m));
    }
    if let Some(cfg) = cfg {
        let m = &cfg.miniserver;
        for (what, path) in [
            ("miniserver.password_file", &m.password_file),
            ("miniserver.visu_password_file", &m.visu_password_file),
        ] {
            if let Some(p) = path
                && let Some(mode) = mode(p)
            {
                out.extend(secret_mode_warning(what, p, mode));
            }
        }
    }
    out
}

/// The warnings for a config file with permission bits `mode`.
pub(super) fn config_mode_warnings(path: &Path, mode: u32) -> Vec<String> {
    let mut out = Vec::new();
    if mode & 0o022 != 0 {
        out.push(format!(
            "the config file {} can be changed by users other than its owner (mode {mode:03o}): \
             they decide what the AI may see and do; run 'chmod go-w {}'",
            path.display(),
            path.display()
        ));
    }
    if mode & 0o004 != 0 {
        out.push(format!(
            "the config file {} is readable by every local user (mode {mode:03o}); it holds no \
             password, but it names the Miniserver, the Loxone user and the password files; \
             'chmod o-r {}' keeps it to its owner and group",
            path.display(),
            path.display()
        ));
    }
    out
}

/// The warning for a password file with permission bits `mode`, if group or others may use it.
pub(super) fn secret_mode_warning(what: &str, path: &Path, mode: u32) -> Option<String> {
    (mode & 0o077 != 0).then(|| {
        format!(
            "{what} {} holds a password and is open to other users (mode {mode:03o}); \
             run 'chmod 600 {}'",
            path.display(),
            path.display()
        )
    })
}
