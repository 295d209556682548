//! Secrets (passwords, the token) and where the passwords come from.
//!
//! Why a type: a [`Secret`] has no `Display` and its `Debug` prints `***`, so a password or
//! token cannot reach a log line or an error message by accident (`{:?}` of a struct holding
//! one stays safe). Reading the value needs an explicit [`Secret::expose`].
//!
//! Sources, in order (documented in docs/link.md):
//! - user password (`loxwarden login` only): `LOXWARDEN_PASSWORD`, then `miniserver.password_file`,
//!   then a prompt on the terminal with echo off;
//! - visualisation password (the running link, for `isSecured` controls):
//!   `LOXWARDEN_VISU_PASSWORD`, then `miniserver.visu_password_file` (e.g. a systemd credential
//!   under `$CREDENTIALS_DIRECTORY`). It is read once at start, kept only in memory, and never
//!   written to the state directory or the config.

use std::fmt;
use std::io::{BufRead, Write};
use std::path::Path;

/// A secret string. No `Display`; `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself. Call only where it is hashed, encrypted or sent.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The environment variable `loxwarden login` reads the password from.
pub const PASSWORD_ENV: &str = "LOXWARDEN_PASSWORD";
/// The environment variable the link reads the visualisation password from.
pub const VISU_PASSWORD_ENV: &str = "LOXWARDEN_VISU_PASSWORD";

/// Why no secret could be had.
#[derive(Debug)]
pub enum SecretError {
    File {
        path: String,
        source: std::io::Error,
    },
    Empty(String),
    NoTerminal,
    Terminal(std::io::Error),
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::File { path, source } => {
                write!(f, "cannot read the password file {path}: {source}")
            }
            SecretError::Empty(what) => write!(f, "{what} is empty"),
            SecretError::NoTerminal => write!(
                f,
                "no password: set {PASSWORD_ENV}, set miniserver.password_file, or run on a terminal"
            ),
            SecretError::Terminal(e) => {
                write!(f, "cannot read the password from the terminal: {e}")
            }
        }
    }
}

impl std::error::Error for SecretError {}

/// Reads a secret file: the first line, without its line ending (systemd credentials and
/// `echo pw > file` both work).
pub fn read_secret_file(path: &Path) -> Result<Secret, SecretError> {
    let text = std::fs::read_to_string(path).map_err(|source| SecretError::File {
        path: path.display().to_string(),
        source,
    })?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(SecretError::Empty(path.display().to_string()));
    }
    Ok(Secret::new(line))
}

fn from_env(var: &str) -> Option<Result<Secret, SecretError>> {
    let v = std::env::var(var).ok()?;
    Some(if v.is_empty() {
        Err(SecretError::Empty(var.to_owned()))
    } else {
        Ok(Secret::new(v))
    })
}

/// The user password for `loxwarden login`.
pub fn login_password(password_file: Option<&Path>, user: &str) -> Result<Secret, SecretError> {
    if let Some(s) = from_env(PASSWORD_ENV) {
        return s;
    }
    if let Some(p) = password_file {
        return read_secret_file(p);
    }
    prompt_hidden(&format!("Password for Loxone user {user}: "))
}

/// The visualisation password for the running link, if one is configured.
pub fn visu_password(visu_password_file: Option<&Path>) -> Result<Option<Secret>, SecretError> {
    if let Some(s) = from_env(VISU_PASSWORD_ENV) {
        return s.map(Some);
    }
    match visu_password_file {
        Some(p) => read_secret_file(p).map(Some),
        None => Ok(None),
    }
}

/// True when stdin is a terminal (a person can answer).
pub fn stdin_is_terminal() -> bool {
    rustix::termios::isatty(std::io::stdin())
}

/// Asks on the terminal with echo off (rustix termios); the prompt goes to stderr.
pub fn prompt_hidden(prompt: &str) -> Result<Secret, SecretError> {
    let stdin = std::io::stdin();
    if !rustix::termios::isatty(&stdin) {
        return Err(SecretError::NoTerminal);
    }
    let fd = &stdin;
    let old = rustix::termios::tcgetattr(fd).map_err(|e| SecretError::Terminal(e.into()))?;
    let mut quiet = old.clone();
    quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
    quiet
        .local_modes
        .insert(rustix::termios::LocalModes::ECHONL);
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    rustix::termios::tcsetattr(fd, rustix::termios::OptionalActions::Flush, &quiet)
        .map_err(|e| SecretError::Terminal(e.into()))?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    // Echo comes back on whatever happened.
    let _ = rustix::termios::tcsetattr(fd, rustix::termios::OptionalActions::Flush, &old);
    read.map_err(SecretError::Terminal)?;
    let pw = line.trim_end_matches(['\n', '\r']);
    if pw.is_empty() {
        return Err(SecretError::Empty("the password typed".into()));
    }
    Ok(Secret::new(pw))
}

/// Asks a yes/no question on the terminal; only `y`/`yes` is yes.
pub fn confirm(question: &str) -> Result<bool, SecretError> {
    let stdin = std::io::stdin();
    if !rustix::termios::isatty(&stdin) {
        return Err(SecretError::NoTerminal);
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(SecretError::Terminal)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "***");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            pw: Secret,
        }
        assert!(!format!("{:?}", Holder { pw: s }).contains("hunter2"));
    }

    #[test]
    fn a_secret_file_gives_its_first_line() {
        let dir = std::env::temp_dir().join(format!("lw-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("pw");
        std::fs::write(&p, "s3cret\nignored\n").unwrap();
        assert_eq!(read_secret_file(&p).unwrap().expose(), "s3cret");
        std::fs::write(&p, "\n").unwrap();
        assert!(read_secret_file(&p).is_err());
        assert!(read_secret_file(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
