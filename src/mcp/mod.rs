//! The hand-written MCP server engine (no SDK): JSON-RPC over newline-delimited JSON, both
//! protocol eras (the `2025-11-25` handshake and the stateless `2026-07-28`), generic over any
//! byte stream so stdio, the daemon's Unix socket and in-memory tests share one session loop.

pub mod tool;
