//! The Miniserver simulator (placeholder during construction).
pub mod auth;
pub mod crypto;
pub mod devices;
pub mod house;
pub mod wire;
