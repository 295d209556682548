//! The one integration-test binary: end-to-end behaviours through the real `loxwarden` binary
//! and against the Miniserver simulator on loopback.

mod cli;
mod packaging;
