//! Everything that speaks the Miniserver's protocol from the client side: addresses, the command
//! vocabulary, the structure file, live state, authentication, TLS, HTTP and the websocket.

pub mod auth;
pub mod command;
pub mod crypto;
pub mod enc;
pub mod events;
pub mod ll;
pub mod secret;
pub mod state;
pub mod structure;
pub mod uuid;
