//! The command line, parsed once into a typed [`Command`] (lexopt; no clap).
//!
//! Skeleton: the foundation issue fills in the parser and `--help` texts. The shape of
//! [`Command`] is the contract other modules build against.

use std::path::PathBuf;

/// Options every subcommand understands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Global {
    /// `--config PATH` (default [`crate::config::DEFAULT_PATH`]).
    pub config: Option<PathBuf>,
}

/// `loxwarden sim` options.
#[derive(Debug, Clone, PartialEq)]
pub struct SimArgs {
    pub structure: Option<PathBuf>,
    /// `--generate N`: a generated house of N controls instead of a file.
    pub generate: Option<usize>,
    /// Miniserver port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub tls: bool,
    pub user: String,
    pub password: String,
    /// `--admin-port N`: the simulator's admin (fault injection) port; 0 picks a free one.
    pub admin_port: u16,
    /// `--hash sha1|sha256`: override the hash algorithm the firmware implies.
    pub hash: Option<String>,
    /// `--firmware VERSION`: the version to report (default 16.0.6.17; 10.2 means SHA1).
    pub firmware: Option<String>,
    /// `--allow-basic-auth`: accept HTTP Basic authentication (refused by default).
    pub allow_basic_auth: bool,
    /// `--write-structure FILE`: write the (generated) structure file and exit.
    pub write_structure: Option<PathBuf>,
}

impl Default for SimArgs {
    fn default() -> Self {
        SimArgs {
            structure: None,
            generate: None,
            port: 0,
            tls: false,
            user: "admin".into(),
            password: "password".into(),
            admin_port: 0,
            hash: None,
            firmware: None,
            allow_basic_auth: false,
            write_structure: None,
        }
    }
}

/// Everything loxwarden can do: one variant per mode.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help(Option<String>),
    Version,
    Serve { standalone: bool },
    Demo { tour: bool },
    Sim(SimArgs),
    Login,
    Logout,
    Estop { reason: Option<String> },
    Resume,
    Status,
    CheckConfig,
    Call { tool: String, arguments: String },
    Daemon,
    Audit { follow: bool, since: Option<String> },
}

/// Parses `argv` (without the program name).
pub fn parse<I>(args: I) -> Result<(Global, Command), String>
where
    I: IntoIterator,
    I::Item: Into<std::ffi::OsString>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    match args.first().and_then(|a| a.to_str()) {
        None | Some("-h") | Some("--help") | Some("help") => {
            Ok((Global::default(), Command::Help(None)))
        }
        Some("-V") | Some("--version") => Ok((Global::default(), Command::Version)),
        Some("serve") => Ok((Global::default(), Command::Serve { standalone: false })),
        Some(other) => Err(format!("unknown subcommand '{other}'")),
    }
}
