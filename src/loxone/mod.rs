//! Everything that speaks the Miniserver's protocol from the client side: addresses, the command
//! vocabulary, the structure file, live state, authentication, TLS, HTTP and the websocket.

pub mod auth;
pub mod client;
pub mod command;
pub mod crypto;
pub mod enc;
pub mod errors;
pub mod events;
pub mod health;
pub mod http;
pub mod link;
pub mod ll;
pub mod secret;
pub mod setup;
pub mod state;
pub mod store;
pub mod structure;
pub mod tls;
pub mod uuid;
pub mod ws;
