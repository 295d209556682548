//! The local control channel: `loxwarden estop`, `resume` and `status` talk to the daemon
//! over a second Unix socket, `control.sock`, next to the MCP socket.
//!
//! Why a separate socket and not an MCP tool: the people in the house must be able to stop
//! everything without being able to reach the AI's tools, and the AI must never be able to
//! lift a stop. So `control.sock` is mode 0666 (anyone on the machine who can reach the
//! runtime directory may stop the house or ask for its status), while `resume` is checked
//! against the peer's uid (`SO_PEERCRED`, [`crate::daemon::peer::Policy::may_resume`]). No MCP tool
//! can resume; the MCP tool `emergency_stop` and `loxwarden estop` both end in the one
//! `emergency_stop` of the daemon's core.
//!
//! Protocol: one connection per request; the client writes one JSON line ([`Request`]), the
//! daemon answers with JSON lines ([`Reply`]) and closes. An estop gets two answers: `latched`
//! as soon as the latch file is written (the client waits at most [`ANSWER_WITHIN`] for it,
//! else it stops the house itself, see [`direct`]), then `stopped` with each device's answer
//! from the Miniserver.
//!
//! ```text
//! → {"op":"estop","reason":"kids in the garage"}
//! ← {"event":"latched","latched":{"since_unix":…,"reason":"kids in the garage","by":"uid 1000 (alice) via loxwarden estop"}}
//! ← {"event":"stopped","report":{"devices":[{"device":"Garage/Door","command":"jdev/sps/io/…/stop","code":200,…}],…}}
//! → {"op":"resume"}             ← {"event":"resumed","was":{…}} | {"event":"refused","error":"…"}
//! → {"op":"status"}             ← {"event":"status","status":{…}}
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Paths;
use crate::safety::latch::Latched;

pub mod client;
pub mod direct;
pub mod server;

/// The control socket's file name, in the directory of `paths.socket`.
pub const SOCKET_NAME: &str = "control.sock";

/// How long `loxwarden estop` waits for the daemon's first answer before it stops the house
/// itself (R-11: a hung daemon must not hold up a stop).
pub const ANSWER_WITHIN: Duration = Duration::from_secs(1);

/// Longest request line the daemon reads.
pub const MAX_REQUEST: usize = 4096;

/// `control.sock` next to the MCP socket.
pub fn socket_path(paths: &Paths) -> PathBuf {
    socket_beside(&paths.socket)
}

/// `control.sock` in the directory of `mcp_socket`.
pub fn socket_beside(mcp_socket: &Path) -> PathBuf {
    mcp_socket
        .parent()
        .unwrap_or_else(|| Path::new("/"))
        .join(SOCKET_NAME)
}

/// What a client asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    Estop { reason: String },
    Resume,
    Status,
}

/// What the daemon answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Reply {
    /// First answer to an estop: the latch as it is now. `error` when the latch file could not
    /// be written (the daemon is latched in memory; a restart would forget it).
    Latched {
        latched: Option<Latched>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Second answer to an estop: what each device's Miniserver said.
    Stopped {
        report: StopReport,
    },
    /// The latch was lifted; `was` is what had been latched (none: it was not latched).
    Resumed {
        was: Option<Latched>,
    },
    Status {
        status: Value,
    },
    /// The peer may not do this.
    Refused {
        error: String,
    },
    /// The request could not be carried out.
    Failed {
        error: String,
    },
}

/// The outcome of an emergency stop, per device, as the Miniserver answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StopReport {
    pub devices: Vec<DeviceStop>,
    /// What kept the stop from reaching some or all devices (no structure, no token, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// What else the stop did and a person should know (a device stopped a second time
    /// because a command was under way when the stop latched).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// From the start of the stop to the last answer.
    pub elapsed_ms: u64,
}

impl StopReport {
    /// True when every device answered LL 200 and nothing kept the stop from being tried.
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.devices.iter().all(DeviceStop::ok)
    }

    pub fn failed(&self) -> usize {
        self.devices.iter().filter(|d| !d.ok()).count()
    }
}

/// One device's stop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStop {
    /// `Room/Name`.
    pub device: String,
    /// The command path sent (`jdev/sps/io/{uuid}/stop`).
    pub command: String,
    /// The LL code, when the Miniserver answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Why no answer came (connection, timeout, no visualisation password, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DeviceStop {
    pub fn ok(&self) -> bool {
        self.code == Some(200) && self.error.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_are_one_json_object_each() {
        let r: Request = serde_json::from_str(r#"{"op":"estop","reason":"smoke"}"#).unwrap();
        assert_eq!(
            r,
            Request::Estop {
                reason: "smoke".into()
            }
        );
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"op":"resume"}"#).unwrap(),
            Request::Resume
        );
        assert!(
            serde_json::from_str::<Request>(r#"{"op":"estop","reason":"x","by":"root"}"#).is_err()
        );
        assert!(serde_json::from_str::<Request>(r#"{"op":"unlock"}"#).is_err());
        let line = serde_json::to_string(&Reply::Refused { error: "no".into() }).unwrap();
        assert_eq!(line, r#"{"event":"refused","error":"no"}"#);
    }

    #[test]
    fn a_stop_is_ok_only_when_every_device_answered_200() {
        let dev = |code, error: Option<&str>| DeviceStop {
            device: "Living/Blind".into(),
            command: "jdev/sps/io/x/stop".into(),
            code,
            value: None,
            error: error.map(str::to_owned),
        };
        let mut r = StopReport {
            devices: vec![dev(Some(200), None), dev(Some(200), None)],
            ..StopReport::default()
        };
        assert!(r.ok());
        r.devices.push(dev(Some(500), None));
        assert!(!r.ok());
        assert_eq!(r.failed(), 1);
        r.devices.pop();
        r.devices.push(dev(None, Some("timed out")));
        assert!(!r.ok());
        r.devices.pop();
        r.problems.push("no structure".into());
        assert!(!r.ok(), "a stop that could not be tried is not ok");
    }

    #[test]
    fn the_control_socket_sits_beside_the_mcp_socket() {
        assert_eq!(
            socket_beside(Path::new("/run/loxwarden/mcp.sock")),
            PathBuf::from("/run/loxwarden/control.sock")
        );
    }
}
