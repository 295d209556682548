//! The command line, parsed once into a typed [`Command`] (lexopt; no clap).
//!
//! Why hand-written: the parser is small, its errors are ours, and the help texts below are
//! the manual a person on the Pi reads. The shape of [`Command`] is the contract other modules
//! build against. Anything unknown is an error (exit 2), never ignored.

pub mod call;
mod help;
#[cfg(test)]
mod manpage;

pub use help::{COMMANDS, HELP, help_text};

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::prelude::*;

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

/// Hidden `serve` options that exist only in test builds (the `test-tools` feature), so the
/// suite can shorten timeouts and force pagination. A release build has no such fields and
/// rejects the options as unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestKnobs {
    /// `--test-consent-timeout-ms N`: elicitation timeout instead of `consent.timeout_s`.
    #[cfg(feature = "test-tools")]
    pub consent_timeout_ms: Option<u64>,
    /// `--test-page-size N`: tools per `tools/list` page.
    #[cfg(feature = "test-tools")]
    pub page_size: Option<usize>,
    /// `demo --test-ring-bell`: the simulated doorbell rings once the link is live (the bell
    /// state stays 1 for 30 s), so a client can open the door without an admin call.
    #[cfg(feature = "test-tools")]
    pub ring_bell: bool,
}

/// Everything loxwarden can do: one variant per mode.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help(Option<String>),
    Version,
    Serve {
        standalone: bool,
        knobs: TestKnobs,
    },
    Demo {
        tour: bool,
        knobs: TestKnobs,
    },
    Sim(SimArgs),
    Login {
        /// `--accept-fingerprint SHA256`: trust this certificate without asking (also
        /// `LOXWARDEN_ACCEPT_FINGERPRINT`).
        accept_fingerprint: Option<String>,
    },
    Logout,
    Estop {
        reason: Option<String>,
    },
    Resume,
    Status {
        json: bool,
    },
    CheckConfig,
    Call {
        tool: String,
        arguments: String,
        standalone: bool,
    },
    Daemon {
        knobs: TestKnobs,
    },
    Audit {
        follow: bool,
        since: Option<String>,
    },
}

/// Parses `argv` (without the program name).
pub fn parse<I>(args: I) -> Result<(Global, Command), String>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut p = lexopt::Parser::from_args(args);
    let mut global = Global::default();
    let sub = loop {
        match p.next().map_err(|e| e.to_string())? {
            None => return Err("no command given".into()),
            Some(Long("config")) => global.config = Some(value(&mut p)?.into()),
            Some(Short('h') | Long("help")) => return Ok((global, Command::Help(None))),
            Some(Short('V') | Long("version")) => return Ok((global, Command::Version)),
            Some(Value(v)) => {
                break v
                    .into_string()
                    .map_err(|v| format!("unknown command {v:?}"))?;
            }
            Some(other) => return Err(other.unexpected().to_string()),
        }
    };
    let command = subcommand(&sub, &mut p, &mut global).map_err(|e| format!("{sub}: {e}"))?;
    Ok((global, command))
}

fn subcommand(sub: &str, p: &mut lexopt::Parser, global: &mut Global) -> Result<Command, String> {
    let help = || Command::Help(Some(sub.to_owned()));
    let mut standalone = false;
    #[allow(unused_mut)] // only test builds have knobs to set
    let mut knobs = TestKnobs::default();
    let mut tour = false;
    let mut sim = SimArgs::default();
    let mut reason = None;
    let mut follow = false;
    let mut since = None;
    let mut positional: Vec<String> = Vec::new();
    let mut accept = None;
    let mut json = false;
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match (sub, arg) {
            (_, Long("config")) => global.config = Some(value(p)?.into()),
            (_, Short('h') | Long("help")) => return Ok(help()),
            ("help", Value(v)) => positional.push(string(v)?),
            ("serve" | "call", Long("standalone")) => standalone = true,
            #[cfg(feature = "test-tools")]
            ("serve" | "daemon" | "demo", Long("test-consent-timeout-ms")) => {
                knobs.consent_timeout_ms = Some(number(p, "--test-consent-timeout-ms")?)
            }
            #[cfg(feature = "test-tools")]
            ("serve" | "daemon" | "demo", Long("test-page-size")) => {
                knobs.page_size = Some(number(p, "--test-page-size")?)
            }
            ("login", Long("accept-fingerprint")) => accept = Some(string(value(p)?)?),
            ("status", Long("json")) => json = true,
            #[cfg(feature = "test-tools")]
            ("demo", Long("test-ring-bell")) => knobs.ring_bell = true,
            ("demo", Long("tour")) => tour = true,
            ("sim", Long("structure")) => sim.structure = Some(value(p)?.into()),
            ("sim", Long("generate")) => sim.generate = Some(number(p, "--generate")?),
            ("sim", Long("port")) => sim.port = number(p, "--port")?,
            ("sim", Long("tls")) => sim.tls = true,
            ("sim", Long("user")) => sim.user = string(value(p)?)?,
            ("sim", Long("password")) => sim.password = string(value(p)?)?,
            ("sim", Long("admin-port")) => sim.admin_port = number(p, "--admin-port")?,
            ("sim", Long("hash")) => sim.hash = Some(string(value(p)?)?),
            ("sim", Long("firmware")) => sim.firmware = Some(string(value(p)?)?),
            ("sim", Long("allow-basic-auth")) => sim.allow_basic_auth = true,
            ("sim", Long("write-structure")) => sim.write_structure = Some(value(p)?.into()),
            ("estop", Long("reason")) => reason = Some(string(value(p)?)?),
            ("audit", Long("follow")) => follow = true,
            ("audit", Long("since")) => since = Some(string(value(p)?)?),
            ("call", Value(v)) => positional.push(string(v)?),
            (_, other) => return Err(other.unexpected().to_string()),
        }
    }
    match sub {
        "help" => match positional.as_slice() {
            [] => Ok(Command::Help(None)),
            [topic] if help_text(Some(topic)).is_some() => Ok(Command::Help(Some(topic.clone()))),
            [topic] => Err(format!("no help for '{topic}'")),
            _ => Err("give at most one command".into()),
        },
        "serve" => Ok(Command::Serve { standalone, knobs }),
        "demo" => Ok(Command::Demo { tour, knobs }),
        "sim" => {
            if sim.structure.is_some() && sim.generate.is_some() {
                return Err("--structure and --generate exclude each other".into());
            }
            Ok(Command::Sim(sim))
        }
        "login" => Ok(Command::Login {
            accept_fingerprint: accept,
        }),
        "logout" => Ok(Command::Logout),
        "estop" => Ok(Command::Estop { reason }),
        "resume" => Ok(Command::Resume),
        "status" => Ok(Command::Status { json }),
        "check-config" => Ok(Command::CheckConfig),
        "call" => {
            let mut it = positional.into_iter();
            let tool = it
                .next()
                .ok_or("missing TOOL (try 'loxwarden call --help')")?;
            let arguments = it.next().unwrap_or_else(|| "{}".to_owned());
            if let Some(extra) = it.next() {
                return Err(format!("unexpected argument '{extra}' (quote the JSON)"));
            }
            Ok(Command::Call {
                tool,
                arguments,
                standalone,
            })
        }
        "daemon" => Ok(Command::Daemon { knobs }),
        "audit" => Ok(Command::Audit { follow, since }),
        other => Err(format!("unknown command '{other}'")),
    }
}

fn value(p: &mut lexopt::Parser) -> Result<OsString, String> {
    p.value().map_err(|e| e.to_string())
}

fn string(v: OsString) -> Result<String, String> {
    v.into_string()
        .map_err(|v| format!("{v:?} is not valid UTF-8"))
}

fn number<T: std::str::FromStr>(p: &mut lexopt::Parser, option: &str) -> Result<T, String> {
    let v = string(value(p)?)?;
    v.parse()
        .map_err(|_| format!("{option} needs a whole number, not '{v}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(args: &[&str]) -> Command {
        parse(args.iter().copied()).expect("parses").1
    }
    fn err(args: &[&str]) -> String {
        parse(args.iter().copied()).expect_err("refused")
    }

    #[test]
    fn serve_parses_with_and_without_standalone() {
        assert_eq!(
            ok(&["serve"]),
            Command::Serve {
                standalone: false,
                knobs: TestKnobs::default()
            }
        );
        assert!(matches!(
            ok(&["serve", "--standalone"]),
            Command::Serve {
                standalone: true,
                ..
            }
        ));
    }

    #[test]
    fn the_config_option_is_accepted_before_and_after_the_command() {
        let (g, _) = parse(["--config", "/tmp/a.toml", "status"]).unwrap();
        assert_eq!(g.config, Some(PathBuf::from("/tmp/a.toml")));
        let (g, _) = parse(["status", "--config=/tmp/b.toml"]).unwrap();
        assert_eq!(g.config, Some(PathBuf::from("/tmp/b.toml")));
    }

    #[test]
    fn every_command_has_help_and_help_wins() {
        for sub in COMMANDS {
            assert_eq!(
                ok(&[sub, "--help"]),
                Command::Help(Some(sub.into())),
                "{sub}"
            );
            assert_eq!(ok(&["help", sub]), Command::Help(Some(sub.into())), "{sub}");
            assert!(help_text(Some(sub)).is_some());
            assert!(
                HELP.contains(&format!("\n    {sub} ")),
                "{sub} missing in HELP"
            );
        }
        assert_eq!(ok(&["-h"]), Command::Help(None));
        assert_eq!(ok(&["-V"]), Command::Version);
    }

    #[test]
    fn sim_options_land_in_sim_args() {
        let Command::Sim(s) = ok(&[
            "sim",
            "--structure",
            "house.json",
            "--port",
            "8080",
            "--tls",
            "--user",
            "u",
            "--password",
            "p",
        ]) else {
            panic!("not sim")
        };
        assert_eq!(s.structure, Some(PathBuf::from("house.json")));
        assert_eq!(
            (s.port, s.tls, s.user.as_str(), s.password.as_str()),
            (8080, true, "u", "p")
        );
        let Command::Sim(s) = ok(&["sim", "--generate", "500"]) else {
            panic!("not sim")
        };
        assert_eq!((s.generate, s.port), (Some(500), 0));
        assert!(err(&["sim", "--port", "99999"]).contains("--port"));
        assert!(err(&["sim", "--structure", "a", "--generate", "3"]).contains("exclude"));
    }

    #[test]
    fn sim_simulator_options_land_in_sim_args() {
        let Command::Sim(s) = ok(&[
            "sim",
            "--admin-port",
            "9090",
            "--hash",
            "sha1",
            "--firmware",
            "10.2.3.26",
            "--allow-basic-auth",
            "--write-structure",
            "out.json",
        ]) else {
            panic!("not sim")
        };
        assert_eq!(s.admin_port, 9090);
        assert_eq!(s.hash.as_deref(), Some("sha1"));
        assert_eq!(s.firmware.as_deref(), Some("10.2.3.26"));
        assert!(s.allow_basic_auth);
        assert_eq!(s.write_structure, Some(PathBuf::from("out.json")));
    }

    #[test]
    fn call_estop_and_audit_take_their_arguments() {
        assert_eq!(
            ok(&["call", "get_system_status"]),
            Command::Call {
                tool: "get_system_status".into(),
                arguments: "{}".into(),
                standalone: false,
            }
        );
        assert_eq!(
            ok(&["call", "set_light", r#"{"x":1}"#]),
            Command::Call {
                tool: "set_light".into(),
                arguments: r#"{"x":1}"#.into(),
                standalone: false,
            }
        );
        assert!(err(&["call"]).contains("TOOL"));
        assert!(err(&["call", "a", "b", "c"]).contains("unexpected"));
        assert_eq!(
            ok(&["estop", "--reason", "smoke"]),
            Command::Estop {
                reason: Some("smoke".into())
            }
        );
        assert_eq!(
            ok(&["audit", "--follow", "--since", "2026-01-01T00:00:00Z"]),
            Command::Audit {
                follow: true,
                since: Some("2026-01-01T00:00:00Z".into())
            }
        );
    }

    #[test]
    fn daemon_side_options_parse() {
        assert_eq!(
            ok(&["login", "--accept-fingerprint", "AB:CD"]),
            Command::Login {
                accept_fingerprint: Some("AB:CD".into())
            }
        );
        assert_eq!(
            ok(&["login"]),
            Command::Login {
                accept_fingerprint: None
            }
        );
        assert_eq!(ok(&["status", "--json"]), Command::Status { json: true });
        assert_eq!(ok(&["status"]), Command::Status { json: false });
        assert_eq!(ok(&["resume"]), Command::Resume);
        assert!(matches!(
            ok(&["call", "--standalone", "get_system_status"]),
            Command::Call {
                standalone: true,
                ..
            }
        ));
        assert!(matches!(ok(&["daemon"]), Command::Daemon { .. }));
        assert!(err(&["resume", "--force"]).contains("--force"));
        assert!(err(&["estop", "--json"]).contains("--json"));
    }

    #[test]
    fn unknown_commands_and_options_are_errors() {
        assert!(err(&[]).contains("no command"));
        assert!(err(&["frobnicate"]).contains("unknown command"));
        assert!(err(&["serve", "--bogus"]).contains("--bogus"));
        assert!(err(&["serve", "extra"]).contains("extra"));
        assert!(err(&["status", "--follow"]).contains("--follow"));
        assert!(err(&["--bogus"]).contains("--bogus"));
        assert!(err(&["help", "frobnicate"]).contains("no help"));
    }

    #[cfg(feature = "test-tools")]
    #[test]
    fn test_builds_accept_the_hidden_serve_knobs() {
        let Command::Serve { knobs, .. } = ok(&[
            "serve",
            "--test-consent-timeout-ms",
            "250",
            "--test-page-size",
            "1",
        ]) else {
            panic!("not serve")
        };
        assert_eq!(knobs.consent_timeout_ms, Some(250));
        assert_eq!(knobs.page_size, Some(1));
    }
}
