//! What the link knows about the Miniserver and its structure file: the loaded structure with
//! its generation (commands are resolved against one), and the facts `check-config` and
//! `get_system_status` report.
//!
//! Why apart from the link's thread: these are plain values read by many callers at any time;
//! the thread only replaces them.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use super::Link;
use crate::loxone::structure::Structure;
use crate::loxone::tls::TlsState;

/// Where the loaded structure came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StructureSource {
    /// Nothing loaded yet (no cache, not connected).
    None,
    /// The cache in the state directory (not yet confirmed by the Miniserver).
    Cache,
    /// Downloaded from the Miniserver (or the cache confirmed by `LoxAPPversion3`).
    Miniserver,
}

/// A structure with its generation: callers resolve against one and pass its generation to
/// [`Link::send`], which refuses if the structure has changed since.
#[derive(Debug)]
pub struct LoadedStructure {
    pub generation: u64,
    /// Shared, not copied: the device model and a confirmed cache hold the same one (a
    /// 5,000-control structure is megabytes; issue 8's RSS figure).
    pub structure: Arc<Structure>,
    pub source: StructureSource,
    /// Size of the file in bytes.
    pub bytes: usize,
    /// When it was downloaded or confirmed.
    pub fetched_wall: Option<SystemTime>,
}

impl LoadedStructure {
    pub(super) fn empty() -> LoadedStructure {
        LoadedStructure {
            generation: 0,
            structure: Arc::new(empty_structure()),
            source: StructureSource::None,
            bytes: 0,
            fetched_wall: None,
        }
    }
}

fn empty_structure() -> Structure {
    // A constant, valid document: parsing cannot fail.
    Structure::parse(br#"{"lastModified":"","controls":{}}"#)
        .unwrap_or_else(|_| unreachable!("the empty structure parses"))
}

/// What loxwarden knows about the Miniserver and the link (for `check-config` and
/// `get_system_status`).
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    pub url: String,
    pub user: String,
    pub firmware: String,
    pub serial: String,
    /// `local` from `jdev/cfg/apiKey` (12.1+).
    pub local: Option<bool>,
    /// `msInfo.miniserverType`: 0 Gen 1, 1 Go Gen 1, 2 Gen 2, 3 Go Gen 2, 4 Compact.
    pub miniserver_type: Option<i64>,
    pub ms_name: String,
    pub tls: Option<TlsState>,
    pub structure_last_modified: String,
    pub structure_source: StructureSource,
    pub structure_bytes: usize,
    pub structure_fetched_wall: Option<SystemTime>,
    pub structure_generation: u64,
    pub controls: usize,
    pub states_cached: usize,
    pub token_expires_unix: Option<u64>,
    pub token_rights: Option<u64>,
    /// How many times the link has become live since it started (1 = never reconnected).
    pub sessions: u64,
}

/// The name of a `miniserverType` value (SF `msInfo`).
pub fn miniserver_type_name(t: Option<i64>) -> &'static str {
    match t {
        Some(0) => "Miniserver Gen 1",
        Some(1) => "Miniserver Go Gen 1",
        Some(2) => "Miniserver Gen 2",
        Some(3) => "Miniserver Go Gen 2",
        Some(4) => "Miniserver Compact",
        _ => "unknown",
    }
}

impl Link {
    /// What is known about the Miniserver and the link.
    pub fn facts(&self) -> Facts {
        let boot = self.boot.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let s = self.structure();
        let token = self.token.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Facts {
            url: self.cfg.miniserver.url.clone(),
            user: self.cfg.miniserver.user.clone(),
            firmware: boot
                .as_ref()
                .map(|b| b.api.version.clone())
                .unwrap_or_default(),
            serial: boot.as_ref().map(|b| b.api.snr.clone()).unwrap_or_default(),
            local: boot.as_ref().and_then(|b| b.api.local),
            miniserver_type: s.structure.ms_info.miniserver_type,
            ms_name: s.structure.ms_info.ms_name.clone(),
            tls: boot.map(|b| b.tls),
            structure_last_modified: s.structure.last_modified.clone(),
            structure_source: s.source,
            structure_bytes: s.bytes,
            structure_fetched_wall: s.fetched_wall,
            structure_generation: s.generation,
            controls: s.structure.controls.len(),
            states_cached: self.states.len(),
            token_expires_unix: Some(token.token.expires_unix()),
            token_rights: Some(token.token.rights),
            sessions: self.sessions.load(Ordering::SeqCst),
        }
    }
}
