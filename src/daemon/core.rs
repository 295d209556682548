//! The daemon's [`Core`] is the gateway: this adapter turns its answers into the control
//! channel's words.

use std::io;
use std::sync::Arc;

use serde_json::Value;

use super::Core;
use crate::control::{DeviceStop, StopReport};
use crate::dispatch::gateway::Gateway;
use crate::mcp::tool::ToolHost;
use crate::safety::latch::Latched;

/// The gateway as the daemon serves it.
pub struct GatewayCore {
    gw: Arc<Gateway>,
    host: Arc<dyn ToolHost>,
}

impl GatewayCore {
    pub fn new(gw: Arc<Gateway>) -> GatewayCore {
        let host = gw.host();
        GatewayCore { gw, host }
    }
}

impl Core for GatewayCore {
    fn host(&self) -> Arc<dyn ToolHost> {
        self.host.clone()
    }

    fn emergency_stop(&self, reason: &str, by: &str) -> StopReport {
        let started = std::time::Instant::now();
        let r = self.gw.emergency_stop(reason, by);
        let mut report = StopReport {
            devices: r
                .results
                .into_iter()
                .map(|d| DeviceStop {
                    device: if d.room.is_empty() {
                        d.name
                    } else {
                        format!("{}/{}", d.room, d.name)
                    },
                    command: d.command,
                    code: d.code,
                    value: d.value,
                    error: d.error,
                })
                .collect(),
            problems: Vec::new(),
            notes: r.notes,
            elapsed_ms: started.elapsed().as_millis() as u64,
        };
        // "Nothing failed" is not "everything stopped" when the house is not known yet.
        if let Some(why) = r.unavailable {
            report.problems.push(why);
        }
        report.problems.extend(r.skipped);
        if let Some(e) = r.latch_error {
            report
                .problems
                .push(format!("the latch file could not be written: {e}"));
        }
        report
    }

    fn resume(&self, by: &str) -> io::Result<Option<Latched>> {
        self.gw.resume(by)
    }

    fn status(&self) -> Value {
        serde_json::to_value(self.gw.status()).unwrap_or(Value::Null)
    }

    fn link_alive(&self) -> bool {
        self.gw.link_alive()
    }

    fn drain(&self, bound: std::time::Duration) -> usize {
        self.gw.shutdown().drain(bound)
    }

    fn stopping(&self) -> bool {
        self.gw.shutdown().is_stopping()
    }
}
