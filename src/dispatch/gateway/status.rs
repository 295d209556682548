//! `get_system_status` and `loxwarden status`: what the gateway knows about itself, the link,
//! the Miniserver, the structure, the latch and the posture, in one serialisable value.

use super::*;

/// `get_system_status`, `loxwarden status` and the daemon's status answer.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub server: ServerStatus,
    pub link: LinkStatus,
    pub miniserver: MiniserverStatus,
    pub structure: StructureStatus,
    pub emergency_stop: EstopStatus,
    pub posture: PostureStatus,
    /// Smoke, water and burglar alarms that are active now (unexposed ones unnamed).
    pub alarms: Vec<String>,
    /// Why the device model could not be built from the structure and config, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub house_error: Option<String>,
    pub audit_log: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServerStatus {
    pub name: String,
    pub version: String,
    pub uptime_s: u64,
    /// Where local time comes from, or why it is unknown.
    pub local_time: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinkStatus {
    /// `connecting`, `live`, `degraded` or `down`.
    pub state: String,
    /// RFC 3339 UTC.
    pub since: String,
    pub for_s: u64,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MiniserverStatus {
    pub name: String,
    pub model: String,
    pub serial: String,
    pub firmware: String,
    pub url: String,
    pub user: String,
    pub transport: String,
    /// The Miniserver sees the connection as local (`jdev/cfg/apiKey`).
    pub local: Option<bool>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StructureStatus {
    /// `lastModified` of `LoxAPP3.json`: the structure version.
    pub last_modified: String,
    pub generation: u64,
    /// `none`, `cache` or `miniserver`.
    pub source: String,
    pub controls: usize,
    pub bytes: usize,
    /// Seconds since it was downloaded or confirmed, if it was.
    pub age_s: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EstopStatus {
    pub latched: bool,
    pub since: Option<String>,
    pub reason: Option<String>,
    pub by: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PostureStatus {
    /// `emergency-stop`, `degraded`, `emergency`, `intrusion`, `night` or `normal`.
    pub name: String,
    pub reasons: Vec<String>,
}
impl Gateway {
    /// Everything `get_system_status` reports.
    pub fn status(&self) -> Status {
        let now = self.clock.mono();
        let wall = self.clock.wall();
        let health = self.link.health();
        let facts = self.link.facts();
        let snapshot = self.snapshot();
        let (posture, alarms, house_error) = match &snapshot {
            Ok(s) => {
                let p = self.posture(&s.house, now);
                let alarms = p
                    .emergency
                    .iter()
                    .chain(&p.intrusion)
                    .map(|c| c.text.clone())
                    .collect();
                (
                    PostureStatus {
                        name: p.name().into(),
                        reasons: p.reasons(),
                    },
                    alarms,
                    None,
                )
            }
            Err(e) => (
                PostureStatus {
                    name: "degraded".into(),
                    reasons: vec![e.reason.clone()],
                },
                Vec::new(),
                Some(e.reason.clone()),
            ),
        };
        let latched = self.latch.current();
        Status {
            server: ServerStatus {
                name: "loxwarden".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                uptime_s: self.uptime().as_secs(),
                local_time: match &self.zone {
                    Some(z) => format!(
                        "{} (UTC offset now {} s)",
                        z.source,
                        z.offset_at(unix(wall))
                    ),
                    None => "unknown: night rules apply at all hours".into(),
                },
            },
            link: LinkStatus {
                state: health.state.as_str().into(),
                since: audit::rfc3339(health.since_wall),
                for_s: now.since(health.since).as_secs(),
                reason: if health.state == LinkState::Live {
                    String::new()
                } else {
                    health.reason.clone()
                },
            },
            miniserver: MiniserverStatus {
                name: facts.ms_name.clone(),
                model: miniserver_type_name(facts.miniserver_type).into(),
                serial: facts.serial.clone(),
                firmware: facts.firmware.clone(),
                url: facts.url.clone(),
                user: facts.user.clone(),
                transport: facts
                    .tls
                    .as_ref()
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "not connected yet".into()),
                local: facts.local,
            },
            structure: StructureStatus {
                last_modified: facts.structure_last_modified.clone(),
                generation: facts.structure_generation,
                source: match facts.structure_source {
                    StructureSource::None => "none",
                    StructureSource::Cache => "cache",
                    StructureSource::Miniserver => "miniserver",
                }
                .into(),
                controls: facts.controls,
                bytes: facts.structure_bytes,
                age_s: facts
                    .structure_fetched_wall
                    .and_then(|t| wall.duration_since(t).ok())
                    .map(|d| d.as_secs()),
            },
            emergency_stop: EstopStatus {
                latched: latched.is_some(),
                since: latched.as_ref().map(|l| audit::rfc3339(l.since())),
                reason: latched.as_ref().map(|l| l.reason.clone()),
                by: latched.as_ref().map(|l| l.by.clone()),
            },
            posture,
            alarms,
            house_error,
            audit_log: self.audit.path().display().to_string(),
        }
    }
}
