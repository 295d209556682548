//! # loxwarden
//!
//! A safety-first MCP server between an AI assistant and a Loxone Miniserver. The code is laid
//! out along the path every command takes:
//!
//! ```text
//! AI client → ssh → `loxwarden serve` (daemon::bridge) → mcp (stdio JSON-RPC) → tools →
//! intent (parse, resolve against house, the structure file's model) → safety (compiled table,
//! posture, rate limits, latch, link health) → consent (a person) → lane (one plan per device,
//! re-checked before every command) → loxone (token auth, TLS or command encryption) →
//! Miniserver → its real answer → audit → tool result
//! ```
//!
//! One folder per stage, in that order; `dispatch` walks one call through them, and the shell
//! (`main`, `run`, `cli`, `daemon`, `demo`, `sim`) starts the process around them.
//!
//! Nothing on that path is optional: a module that is not called on it does not exist here.

/// `println!` for what a person reads on stdout (the tour, `--help`, `sim`), except that a
/// reader that went away (`loxwarden demo --tour | head`) ends the output instead of the
/// process with a panic. Never used for the MCP protocol, whose writer reports its errors.
#[macro_export]
macro_rules! say {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout());
    }};
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `print!` with the same care as [`say!`].
#[macro_export]
macro_rules! say_raw {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod consent;
pub mod control;
pub mod daemon;
pub mod demo;
pub mod dispatch;
pub mod error;
pub mod house;
pub mod intent;
pub mod lane;
pub mod logger;
pub mod loxone;
pub mod mcp;
pub mod run;
pub mod safety;
pub mod sim;
pub mod tools;
