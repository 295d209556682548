//! The daemon's core until the gateway (`gateway.rs`, another branch) lands: the link, the
//! latch, the emergency stop through the link, and the current minimal tool catalogue.
//! Replaced by `Gateway` when that merges; kept small so nothing here outlives it.

use std::io;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde_json::{Value, json};

use super::Core;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::control::{DeviceStop, StopReport};
use crate::error::Error;
use crate::estop::{Latch, Latched};
use crate::house::House;
use crate::loxone::link::{Link, Secrets};
use crate::mcp::tool::ToolHost;
use crate::safety::stop;
use crate::tools::Catalogue;

pub struct Interim {
    cfg: Config,
    link: Arc<Link>,
    latch: Latch,
    host: Arc<dyn ToolHost>,
}

impl Interim {
    pub fn start(cfg: &Config) -> Result<Interim, Error> {
        let secrets = Secrets::from_config(cfg).map_err(|e| Error::Config(e.to_string()))?;
        let link = Link::start(cfg, Arc::new(SystemClock::new()), secrets)
            .map_err(|e| Error::Failed(format!("cannot start the Miniserver link: {e}")))?;
        Ok(Interim {
            cfg: cfg.clone(),
            link,
            latch: Latch::in_dir(&cfg.paths.state_dir),
            host: Arc::new(Catalogue::new()),
        })
    }
}

impl Core for Interim {
    fn host(&self) -> Arc<dyn ToolHost> {
        self.host.clone()
    }

    fn emergency_stop(&self, reason: &str, by: &str) -> StopReport {
        let started = Instant::now();
        let mut report = StopReport::default();
        if let Err(e) = self.latch.engage(reason, by, SystemTime::now()) {
            report
                .problems
                .push(format!("the latch file could not be written: {e}"));
        }
        let loaded = self.link.structure();
        if loaded.source == crate::loxone::link::StructureSource::None {
            report
                .problems
                .push("no structure loaded yet: the devices to stop are not known".into());
            return report;
        }
        let house = match House::new(Arc::new(loaded.structure.clone()), &self.cfg) {
            Ok(h) => h,
            Err(e) => {
                report.problems.push(format!("no usable house: {e}"));
                return report;
            }
        };
        for step in stop::plan(&house).plan {
            let device = house.device(step.device).label();
            let command = step.command.io_path();
            report
                .devices
                .push(match self.link.send_emergency(&step.command) {
                    Ok(r) => DeviceStop {
                        device,
                        command,
                        code: Some(r.code),
                        value: Some(r.value),
                        error: None,
                    },
                    Err(e) => DeviceStop {
                        device,
                        command,
                        code: None,
                        value: None,
                        error: Some(e.to_string()),
                    },
                });
        }
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        report
    }

    fn resume(&self, _by: &str) -> io::Result<Option<Latched>> {
        self.latch.release()
    }

    fn status(&self) -> Value {
        let h = self.link.health();
        json!({
            "link": h.state.as_str(),
            "link_reason": h.reason,
            "estop": self.latch.current(),
        })
    }

    fn link_alive(&self) -> bool {
        self.link.health().is_live()
    }
}
