//! The help texts: the manual a person on the Pi reads (`loxwarden --help`, `loxwarden help
//! TOPIC`), and the source of the man page (`cli/manpage.rs` keeps the two equal).

/// The commands, in the order `--help` lists them (`help` aside).
pub const COMMANDS: [&str; 12] = [
    "serve",
    "demo",
    "sim",
    "login",
    "logout",
    "estop",
    "resume",
    "status",
    "check-config",
    "call",
    "daemon",
    "audit",
];

/// The main `--help`.
pub const HELP: &str = "\
loxwarden - a safety-first MCP gateway between an AI assistant and a Loxone Miniserver

loxwarden lets an AI assistant (Claude Desktop, Claude Code, n8n, any MCP client) read and
control a Loxone smart home without being able to talk it into hurting anyone: every command
is checked against compiled-in safety limits before it reaches the Miniserver, critical
actions (doors, alarm) need a person's confirmation through the MCP client, and
`loxwarden estop` stops every actuator from inside the house.

USAGE:
    loxwarden [--config PATH] COMMAND [OPTIONS]
    loxwarden COMMAND --help

COMMANDS:
    serve          Speak MCP on stdin/stdout through the daemon: what an MCP client launches
    demo           Try it: a simulated house and the gateway on stdio (--tour: a scripted walk)
    sim            Run the Miniserver simulator (real Loxone protocol, simulated house)
    login          Log in to the Miniserver once and keep the token
    logout         Revoke and delete the stored token
    estop          Emergency stop: latch, stop every blind, window and gate, pause all audio
    resume         Release the emergency-stop latch (root, the service user, resume_users)
    status         Show the daemon, the link health, the estop latch, posture and sessions
    check-config   Validate the config file and show what the AI would see
    call           Call one tool from the shell through the daemon: call TOOL [JSON]
    daemon         Run the resident daemon (Miniserver link, local sockets)
    audit          Print the audit log: audit [--follow] [--since TIME]
    help           Print this help, or a command's: help COMMAND

OPTIONS:
    --config PATH  The site config file (default /etc/loxwarden/config.toml)
    -h, --help     Print help
    -V, --version  Print the version

ENVIRONMENT:
    LOXWARDEN_LOG       Log filter for stderr (env_logger syntax: info, debug,
                        loxwarden::mcp=debug); default info
    RUST_LOG            Used when LOXWARDEN_LOG is not set
    LOXWARDEN_PASSWORD  The Miniserver password for `loxwarden login`

stdout carries only the MCP protocol (serve) or a command's answer; logs go to stderr.

EXIT STATUS:
    0    success
    1    an action failed (e.g. a device did not confirm the emergency stop)
    2    usage error (an unknown command or option, a missing value)
    69   the Miniserver is unreachable or answered nonsense
    74   a local file or socket failed
    76   TLS verification failed or the pinned certificate changed
    77   the Miniserver refused the credentials or the token
    78   the config file is missing or invalid
";

pub(super) const SERVE_HELP: &str = "\
loxwarden serve - speak MCP on stdin/stdout

USAGE:
    loxwarden [--config PATH] serve [--standalone]

An MCP client starts this command (locally or as `ssh -T user@pi loxwarden serve`) and talks
JSON-RPC to it: one message per line on stdin and stdout, logs on stderr. It serves both MCP
eras: the 2025-11-25 / 2025-06-18 `initialize` handshake and the stateless 2026-07-28 revision.

`serve` connects to the daemon's socket (paths.socket, default /run/loxwarden/mcp.sock) and
copies bytes both ways, so every client shares one Miniserver link, one set of safety limits,
one audit log and one emergency-stop latch. The user must be root, the service user or in the
group loxwarden. It exits when stdin closes or the daemon ends the session. When no daemon
runs, it says how to start one and exits 1.

--standalone runs the whole gateway in this process instead (trying loxwarden without
systemd); the consent timeout then comes from `consent.timeout_s` (default 60 s).

OPTIONS:
    --standalone   Run the gateway in this process, without the daemon
    --config PATH  The site config file (default /etc/loxwarden/config.toml; only the socket
                   path is read from it)
    -h, --help     Print this help
";

pub(super) const DEMO_HELP: &str = "\
loxwarden demo - the simulator and the gateway together, for a local tour

USAGE:
    loxwarden demo [--tour]

Starts a simulated Miniserver with a built-in demo house (real Loxone protocol on 127.0.0.1),
logs in to it, and serves the full loxwarden gateway over MCP on stdin/stdout, so any MCP
client can be pointed at `loxwarden demo`. The state directory and audit log are temporary
(their paths are printed to stderr, with what to try). Nothing outside this process is touched.

OPTIONS:
    --tour      Walk through a scripted MCP session instead (reads, a light, a refusal, a
                declined and a confirmed door, an emergency stop) and exit
    -h, --help  Print this help
";

pub(super) const SIM_HELP: &str = "\
loxwarden sim - a Miniserver simulator speaking the real Loxone protocol

USAGE:
    loxwarden sim [--structure FILE | --generate N] [--port N] [--tls] [--user U] [--password P]

Runs a simulated Miniserver on 127.0.0.1 in the foreground and prints how to connect: the
Miniserver URL (HTTP and the websocket /ws/rfc6455), the admin URL (fault injection and the
command log), the credentials and the visualisation password. Without --structure or
--generate it serves the built-in demo house. Its keys and certificates are public test
material: never expose it beyond this machine.

OPTIONS:
    --structure FILE        Serve this LoxAPP3.json
    --generate N            Serve a generated house of N controls
    --port N                Port on 127.0.0.1 (0 picks a free one; default 0)
    --admin-port N          Admin port on 127.0.0.1 (0 picks a free one; default 0)
    --tls                   Serve HTTPS/WSS (Gen 2) instead of plain HTTP with command encryption
    --user U                Account name (default admin)
    --password P            Account password (default password)
    --firmware VERSION      Firmware to report (default 16.0.6.17; below 10.3 hashes with SHA1)
    --hash sha1|sha256      Hash algorithm, overriding the firmware's
    --allow-basic-auth      Accept HTTP Basic authentication (refused by default)
    --write-structure FILE  Write the structure file (e.g. of --generate N) to FILE and exit
    -h, --help              Print this help
";

pub(super) const LOGIN_HELP: &str = "\
loxwarden login - log in to the Miniserver once and keep the token

USAGE:
    loxwarden [--config PATH] login [--accept-fingerprint SHA256]

The password comes from the terminal, LOXWARDEN_PASSWORD, or miniserver.password_file; only
the token is stored (in the state directory). On a TLS Miniserver whose certificate is not
publicly trusted, login shows the certificate's SHA-256 fingerprint and asks; give it with
--accept-fingerprint (or LOXWARDEN_ACCEPT_FINGERPRINT) to accept it without a terminal.

OPTIONS:
    --accept-fingerprint SHA256  Pin this certificate fingerprint (64 hex digits, colons allowed)
    -h, --help                   Print this help
";

pub(super) const LOGOUT_HELP: &str = "\
loxwarden logout - revoke and delete the stored token

USAGE:
    loxwarden [--config PATH] logout
";

pub(super) const ESTOP_HELP: &str = "\
loxwarden estop - emergency stop

USAGE:
    loxwarden [--config PATH] estop [--reason TEXT]

Latches the stop (every AI command that would move something is refused until `loxwarden
resume`; the latch is a file in the state directory and survives restarts), sends `stop` to
every blind, window, gate and irrigation block, pauses every audio zone, turns every sauna
off, and prints what the Miniserver answered for each device. Anyone on this machine may run it: it asks the daemon over
/run/loxwarden/control.sock. If the daemon does not answer within 1 s, estop writes the latch
file and talks to the Miniserver itself with the stored token, and says so; that needs root or
the service user (sudo -u loxwarden loxwarden estop).

EXIT STATUS: 0 every device answered 200; 1 any device failed or the latch was not written.

OPTIONS:
    --reason TEXT  Why (shown by status, written to the audit log)
    -h, --help     Print this help
";

pub(super) const RESUME_HELP: &str = "\
loxwarden resume - release the emergency-stop latch

USAGE:
    loxwarden [--config PATH] resume

Only root, the service user (loxwarden) and the users listed in [control] resume_users may
resume; the daemon checks the caller's uid. Being in the group loxwarden is not enough (the
AI's SSH account is in it). No MCP tool can resume. Without a running daemon, resume removes
the latch file if this user may (root, the service user).
";

pub(super) const STATUS_HELP: &str = "\
loxwarden status - the daemon, link health, estop latch, posture and sessions

USAGE:
    loxwarden [--config PATH] status [--json]

EXIT STATUS: 0 the daemon answered; 3 the daemon is not running (the latch file is still shown
when this user can read it).

OPTIONS:
    --json      Print the daemon's status as JSON
    -h, --help  Print this help
";

pub(super) const CHECK_CONFIG_HELP: &str = "\
loxwarden check-config - validate the config file and show what the AI would see

USAGE:
    loxwarden [--config PATH] check-config

Connects with the stored token and prints the Miniserver, the link and what the AI would see:
devices by kind, what the config hides, and per Loxone type present the count and how
loxwarden treats it (controllable, read-only and why, needs classification, hidden until
opted in, unknown to loxwarden).
";

pub(super) const CALL_HELP: &str = "\
loxwarden call - call one tool from the shell, through the same checks as an AI

USAGE:
    loxwarden [--config PATH] call [--standalone] TOOL [JSON]

JSON is the arguments object (default {}). The call goes through the daemon as one MCP session
(same safety checks, same audit log, your uid recorded). This client cannot answer a consent
question, so actions that need a person's confirmation are refused; use the Loxone app.
Prints the result; exits 0 on success, 1 when the tool reports an error.

OPTIONS:
    --standalone  Run the gateway in this process instead of asking the daemon
    -h, --help    Print this help
";

pub(super) const DAEMON_HELP: &str = "\
loxwarden daemon - the resident daemon: Miniserver link and local sockets

USAGE:
    loxwarden [--config PATH] daemon

systemd runs this (Type=notify, watchdog fed only while the Miniserver link is alive). It
holds the one Miniserver link, the shared safety state and the audit log, and listens on
paths.socket (MCP sessions from `loxwarden serve`, mode 0660: root, the service user and the
group loxwarden) and control.sock beside it (estop/status for anyone, resume for root, the
service user and [control] resume_users). It has no network listener.
";

pub(super) const AUDIT_HELP: &str = "\
loxwarden audit - print the audit log

USAGE:
    loxwarden [--config PATH] audit [--follow] [--since TIME]

OPTIONS:
    --follow      Keep printing new records
    --since TIME  Only records from TIME on: UTC date or time (2026-11-23, 2026-11-23T08:00:00Z)
                  or a span back from now (30s, 10m, 2h, 3d)
    -h, --help    Print this help
";

/// The help text for a topic (`None`: the main help); `None` for an unknown topic.
pub fn help_text(topic: Option<&str>) -> Option<&'static str> {
    Some(match topic {
        None | Some("help") => HELP,
        Some("serve") => SERVE_HELP,
        Some("demo") => DEMO_HELP,
        Some("sim") => SIM_HELP,
        Some("login") => LOGIN_HELP,
        Some("logout") => LOGOUT_HELP,
        Some("estop") => ESTOP_HELP,
        Some("resume") => RESUME_HELP,
        Some("status") => STATUS_HELP,
        Some("check-config") => CHECK_CONFIG_HELP,
        Some("call") => CALL_HELP,
        Some("daemon") => DAEMON_HELP,
        Some("audit") => AUDIT_HELP,
        Some(_) => return None,
    })
}
