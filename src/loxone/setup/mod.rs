//! The person's commands for the link: `loxwarden login`, `logout` and `check-config`.
//!
//! Why here and not in `run.rs`: they are the link's setup story (what to trust, which token to
//! keep) and reuse its parts directly. Each writes its answer to the writer it is given (the
//! CLI passes stdout); prompts and warnings go to stderr.
//!
//! Layout: `login.rs` for `login` and `logout` (what to trust, which token to keep),
//! `check.rs` for `check-config`; the helpers they share here.

mod check;
mod login;

pub use check::{check_config, check_config_with};
pub use login::{login, login_with, logout, logout_with};

use crate::error::Error;

/// Environment variable that answers the fingerprint question non-interactively (the same as
/// `--accept-fingerprint`).
pub const ACCEPT_FINGERPRINT_ENV: &str = "LOXWARDEN_ACCEPT_FINGERPRINT";

pub(super) fn out_err(e: std::io::Error) -> Error {
    Error::io("cannot write the answer", e)
}

pub(super) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "loxwarden".into())
}

pub(super) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
