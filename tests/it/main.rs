//! The one integration-test binary: end-to-end behaviours through the real `loxwarden` binary
//! and against the Miniserver simulator on loopback.

mod audit;
mod cli;
mod daemon;
mod daemon_support;
mod demo;
mod estop;
mod faults;
mod faults_local;
mod golden;
mod hostile;
mod link_auth;
mod link_cli;
mod link_live;
mod link_support;
mod link_tls;
mod mcp;
mod mcp_fuzz;
mod packaging;
mod panics;
mod probe;
mod raw_session;
mod secrets;
mod sim_cli;
mod sim_client;
mod sim_faults;
mod sim_support;
mod soak;
mod stopping;
mod support;
mod tools;
mod tools_consent;
mod tools_limits;
mod tools_mrtr;
mod tools_posture;
mod tools_support;
