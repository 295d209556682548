//! The test houses: the two real fixtures and our own `tests/fixtures/house/test-house.json`,
//! with a config, and a control by its address. Test-only (declared under `#[cfg(test)]`).

use super::*;

pub const MANISON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/loxone/loxone-net-manison-LoxAPP3.json"
);
pub const SMARTEON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/loxone/loxone-java-smarteon-LoxAPP3.json"
);
pub const TEST_HOUSE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/house/test-house.json"
);

/// The config of the test house: its access, alarm and intercom devices opted in, the lock
/// classified, the nursery band tightened, the bedroom and nursery sleeping rooms.
pub const TEST_CONFIG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/house/test-config.toml"
));

pub fn structure(path: &str) -> Arc<Structure> {
    Arc::new(Structure::parse(&std::fs::read(path).unwrap()).unwrap())
}

pub fn config(text: &str) -> Config {
    Config::parse(text).unwrap()
}

pub fn bare_config() -> Config {
    config("[miniserver]\nurl = \"http://127.0.0.1\"\nuser = \"ai\"\n")
}

pub fn house_with(path: &str, cfg: &str) -> House {
    House::new(structure(path), &config(cfg)).unwrap()
}

pub fn test_house() -> House {
    house_with(TEST_HOUSE, TEST_CONFIG)
}

pub fn manison() -> House {
    House::new(structure(MANISON), &bare_config()).unwrap()
}

pub fn smarteon() -> House {
    House::new(structure(SMARTEON), &bare_config()).unwrap()
}

/// The device with this address in `h`.
pub fn dev(h: &House, addr: &str) -> DevId {
    h.by_addr(&ControlAddr::parse(addr).unwrap())
        .unwrap_or_else(|| panic!("no device {addr}"))
        .id
}

/// Addresses of the test house (see tests/fixtures/house/README.md).
#[allow(dead_code)] // a complete list of the fixture; not every test needs every device
pub mod a {
    pub const LC_LIVING: &str = "4c570000-0001-0000-ffff000000000001";
    pub const LC_LIVING_CEILING: &str = "4c570000-0001-0000-ffff000000000001/AI1";
    pub const LC_LIVING_LAMP: &str = "4c570000-0001-0000-ffff000000000001/AI2";
    pub const LC_BED: &str = "4c570000-0002-0000-ffff000000000002";
    pub const LC_BED_CEILING: &str = "4c570000-0002-0000-ffff000000000002/AI1";
    pub const LC_NURSERY: &str = "4c570000-0003-0000-ffff000000000003";
    pub const READING: &str = "4c570000-0004-0000-ffff000000000004";
    pub const KITCHEN_LIGHT: &str = "4c570000-0005-0000-ffff000000000005";
    pub const HALL_LIGHT: &str = "4c570000-0006-0000-ffff000000000006";
    pub const DOOR_LOCK: &str = "4c570000-0007-0000-ffff000000000007";
    pub const PUMP: &str = "4c570000-0008-0000-ffff000000000008";
    pub const BLIND_LIVING: &str = "4c570000-0009-0000-ffff000000000009";
    pub const BLIND_BED: &str = "4c570000-000a-0000-ffff00000000000a";
    pub const PATIO: &str = "4c570000-000b-0000-ffff00000000000b";
    pub const SKYLIGHT_BLIND: &str = "4c570000-000c-0000-ffff00000000000c";
    pub const SKYLIGHT: &str = "4c570000-000d-0000-ffff00000000000d";
    pub const GARAGE_DOOR: &str = "4c570000-000e-0000-ffff00000000000e";
    pub const ALL_BLINDS: &str = "4c570000-000f-0000-ffff00000000000f";
    pub const ALL_GATES: &str = "4c570000-0010-0000-ffff000000000010";
    pub const ALL_LIGHTS: &str = "4c570000-0011-0000-ffff000000000011";
    pub const ALL_AUDIO: &str = "4c570000-0012-0000-ffff000000000012";
    pub const IRC_LIVING: &str = "4c570000-0013-0000-ffff000000000013";
    pub const IRC_NURSERY: &str = "4c570000-0014-0000-ffff000000000014";
    pub const IRC_BED: &str = "4c570000-0015-0000-ffff000000000015";
    pub const SPEAKER_KITCHEN: &str = "4c570000-0016-0000-ffff000000000016";
    pub const SPEAKER_LIVING: &str = "4c570000-0017-0000-ffff000000000017";
    pub const WALLBOX: &str = "4c570000-0018-0000-ffff000000000018";
    pub const CHARGER: &str = "4c570000-0019-0000-ffff000000000019";
    pub const ALARM: &str = "4c570000-001a-0000-ffff00000000001a";
    pub const SMOKE: &str = "4c570000-001b-0000-ffff00000000001b";
    pub const INTERCOM: &str = "4c570000-001c-0000-ffff00000000001c";
    pub const DOOR_OPENER: &str = "4c570000-001c-0000-ffff00000000001c/1";
    pub const PRESENCE_LIVING: &str = "4c570000-001d-0000-ffff00000000001d";
    pub const PRESENCE_BED: &str = "4c570000-001e-0000-ffff00000000001e";
    pub const KEYPAD: &str = "4c570000-001f-0000-ffff00000000001f";
    pub const SAUNA: &str = "4c570000-0021-0000-ffff000000000021";
    pub const ALL_OFF: &str = "4c570000-0022-0000-ffff000000000022";
}
