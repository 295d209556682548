//! Everything that speaks the Miniserver's protocol from the client side: addresses, the command
//! vocabulary, the structure file, live state, authentication, TLS, HTTP and the websocket.

pub mod command;
pub mod state;
pub mod structure;
pub mod uuid;
