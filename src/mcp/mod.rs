//! The hand-written MCP server engine (no SDK): JSON-RPC over newline-delimited JSON, both
//! protocol eras (the `2025-11-25` handshake and the stateless `2026-07-28`), generic over any
//! byte stream so stdio, the daemon's Unix socket and in-memory tests share one session loop.
//!
//! Layout, outside in:
//! - [`framing`]: lines with a 1 MiB cap; [`jsonrpc`]: the pure codec (parse, classify, build).
//! - [`server`]: [`Server`] — process-wide state (MRTR key, used nonces, session ids) and
//!   [`Server::serve`], which runs one session over any `Read` + `Write`.
//! - `session`: the reader loop, lifecycle, routing of responses and cancellations, the
//!   blocking `elicitation/create`; `call`: one `tools/call` on a worker thread; `context`: the
//!   [`tool::CallContext`] of each era; `methods`: result builders.
//! - [`elicit`]: the consent form and how an answer is read; [`mrtr`]: the signed,
//!   single-use `requestState`; [`versions`]: what we speak.
//! - [`tool`]: the contract with the tools.
//!
//! Use: build one [`Server`] per process (`Server::new(Arc<dyn ToolHost>, ServerConfig)`),
//! then call [`Server::serve`]`(reader, writer, Peer)` once per connection — `loxwarden serve`
//! passes stdin/stdout and `Peer::default()`; the daemon will pass each accepted Unix-socket
//! stream (cloned for reading and writing) with the peer's uid, from one thread per
//! connection. Sessions share the MRTR key and the used-nonce store.
//!
//! A tool asks for consent with `ctx.elicit(&ElicitRequest { message, title, binding })` and may act
//! only on `ElicitOutcome::Accepted`. Handshake era: the call blocks while `elicitation/create`
//! goes to the client (answer, error, timeout or cancellation wake it). Stateless era: the
//! first round returns `Pending` and the engine answers `input_required` with a signed
//! `requestState`; the retry's answer comes back from `elicit` once the ticket verifies; a
//! request without form-mode elicitation makes `elicit` return `Unsupported` and the engine
//! answers `-32021` whatever the tool returned.

mod call;
mod context;
pub mod elicit;
pub mod framing;
pub mod jsonrpc;
mod methods;
pub mod mrtr;
pub mod server;
mod session;
pub mod tool;
pub mod versions;

pub use server::{Peer, Server, ServerConfig, ServerError};

#[cfg(test)]
mod tests;
