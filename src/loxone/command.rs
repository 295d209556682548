//! The fixed command vocabulary: the only way a device command becomes a URL path.
//!
//! Why: the earlier server built `format!("jdev/sps/io/{uuid}/{command}")` from strings the AI
//! supplied (LS-4, LS-8). Here a [`Command`] is a parsed [`ControlAddr`] plus an [`Op`] from a
//! closed enum whose numeric arguments are range-checked newtypes. Rendering can only produce
//! `[0-9a-f-]`, the address suffix `[A-Za-z0-9]`, fixed ASCII words spelled as in Loxone's
//! *Structure File* document, `/` and decimal numbers. Nothing else can reach the Miniserver
//! (SC-10). The link refuses to send anything that is not a `Command`.

use std::fmt;

use super::uuid::ControlAddr;

/// 0–100, checked on construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(u8);

impl Percent {
    pub fn new(v: u8) -> Option<Percent> {
        (v <= 100).then_some(Percent(v))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

/// A value in tenths (temperatures, kW), rendered with one decimal: `215` → `21.5`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tenths(i32);

impl Tenths {
    /// Rounds to the nearest tenth; `None` for NaN, infinities and absurd magnitudes.
    pub fn from_f64(v: f64) -> Option<Tenths> {
        if !v.is_finite() || v.abs() > 100_000.0 {
            return None;
        }
        Some(Tenths((v * 10.0).round() as i32))
    }
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl fmt::Display for Tenths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{}", a / 10, a % 10)
    }
}

/// Every command loxwarden can send, spelled as in the Structure File (SF) document.
/// The comment on each variant names the control types that take it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `on`: Switch, Pushbutton, Dimmer (last position), LightController v1, CentralLightController.
    On,
    /// `off`: Switch, Pushbutton, Dimmer, LightController v1.
    Off,
    /// `pulse`: Pushbutton (intercom door openers are Pushbutton sub-controls).
    Pulse,
    /// `{pos}`: Dimmer / EIBDimmer position 0–100.
    DimTo(Percent),
    /// `changeTo/{moodId}`: LightControllerV2 mood.
    ChangeTo(u32),
    /// `{sceneNumber}`: LightController v1 scene.
    Scene(u8),
    /// `plus` / `minus`: LightController scene stepping.
    Plus,
    Minus,
    /// `FullUp`, `FullDown`, `stop`, `shade`, `manualPosition/{0..100}`: Jalousie, CentralJalousie.
    FullUp,
    FullDown,
    Stop,
    Shade,
    ManualPosition(Percent),
    /// `open`, `close`: Gate, CentralGate (`stop` is [`Op::Stop`]).
    Open,
    Close,
    /// `fullopen`, `fullclose`, `moveToPosition/{0..100}`: Window; `fullopen`, `fullclose`:
    /// CentralWindow (`stop` is [`Op::Stop`]).
    FullOpen,
    FullClose,
    MoveToPosition(Percent),
    /// `setComfortTemperature/{t}`: IRoomControllerV2, in the Miniserver's unit.
    SetComfortTemperature(Tenths),
    /// `play`, `pause` (AudioZone), `Pause` (AudioZoneV2), `volume/{v}`, `next`, `prev`.
    Play,
    Pause,
    PauseV2,
    Volume(Percent),
    Next,
    Prev,
    /// `allow/on`, `allow/off`, `manualLimit/{kW}`: Wallbox2.
    AllowOn,
    AllowOff,
    ManualLimit(Tenths),
    /// `charge/on`, `charge/off`, `limit/{kW}`: CarCharger (wallbox gen 1).
    ChargeOn,
    ChargeOff,
    Limit(Tenths),
    /// `on/{0|1}`, `delayedon/{0|1}`, `off`, `quit`: Alarm (1 = with movement detection).
    Arm {
        movement: bool,
    },
    ArmDelayed {
        movement: bool,
    },
    Disarm,
    Quit,
    /// `answer`: Intercom.
    Answer,
    /// `output/{1..6}`: NfcCodeTouch outputs.
    Output(u8),
    /// `setTimer/{interval}/{speed}/{modeId}/-1`: Ventilation, a manual timer (SF "Ventilation"
    /// Commands: interval in s, speed 0–100, a mode id from `details.modes`, timer profile index
    /// -1 for the manual mode). The Miniserver ends the timer itself after `interval`.
    VentTimer {
        secs: u32,
        speed: Percent,
        mode: u16,
    },
    /// `setTimer/0`: Ventilation, "stops any currently running timer, returns to automatic mode".
    VentAuto,
    /// `ontemp/{target}`: Sauna, "turns the sauna on and sets target temperature" (SF "Sauna";
    /// `off` is [`Op::Off`], "turns the sauna off right away").
    SaunaOnTemp(Tenths),
    /// `temp/{target}`: Sauna, "set the target temperature (for manual mode)".
    SaunaTemp(Tenths),
    /// `start`: Irrigation, "start irrigation only when it has not rained enough and will not
    /// rain enough" (each zone for its own `duration`; `stop` is [`Op::Stop`]).
    IrrigationStart,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::On => f.write_str("on"),
            Op::Off => f.write_str("off"),
            Op::Pulse => f.write_str("pulse"),
            Op::DimTo(p) => write!(f, "{}", p.get()),
            Op::ChangeTo(id) => write!(f, "changeTo/{id}"),
            Op::Scene(n) => write!(f, "{n}"),
            Op::Plus => f.write_str("plus"),
            Op::Minus => f.write_str("minus"),
            Op::FullUp => f.write_str("FullUp"),
            Op::FullDown => f.write_str("FullDown"),
            Op::Stop => f.write_str("stop"),
            Op::Shade => f.write_str("shade"),
            Op::ManualPosition(p) => write!(f, "manualPosition/{}", p.get()),
            Op::Open => f.write_str("open"),
            Op::Close => f.write_str("close"),
            Op::FullOpen => f.write_str("fullopen"),
            Op::FullClose => f.write_str("fullclose"),
            Op::MoveToPosition(p) => write!(f, "moveToPosition/{}", p.get()),
            Op::SetComfortTemperature(t) => write!(f, "setComfortTemperature/{t}"),
            Op::Play => f.write_str("play"),
            Op::Pause => f.write_str("pause"),
            Op::PauseV2 => f.write_str("Pause"),
            Op::Volume(p) => write!(f, "volume/{}", p.get()),
            Op::Next => f.write_str("next"),
            Op::Prev => f.write_str("prev"),
            Op::AllowOn => f.write_str("allow/on"),
            Op::AllowOff => f.write_str("allow/off"),
            Op::ManualLimit(kw) => write!(f, "manualLimit/{kw}"),
            Op::ChargeOn => f.write_str("charge/on"),
            Op::ChargeOff => f.write_str("charge/off"),
            Op::Limit(kw) => write!(f, "limit/{kw}"),
            Op::Arm { movement } => write!(f, "on/{}", u8::from(movement)),
            Op::ArmDelayed { movement } => write!(f, "delayedon/{}", u8::from(movement)),
            Op::Disarm => f.write_str("off"),
            Op::Quit => f.write_str("quit"),
            Op::Answer => f.write_str("answer"),
            Op::Output(n) => write!(f, "output/{n}"),
            Op::VentTimer { secs, speed, mode } => {
                write!(f, "setTimer/{secs}/{}/{mode}/-1", speed.get())
            }
            Op::VentAuto => f.write_str("setTimer/0"),
            Op::SaunaOnTemp(t) => write!(f, "ontemp/{t}"),
            Op::SaunaTemp(t) => write!(f, "temp/{t}"),
            Op::IrrigationStart => f.write_str("start"),
        }
    }
}

/// A validated device command: where it goes and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Command {
    pub target: ControlAddr,
    pub op: Op,
}

impl Command {
    pub fn new(target: ControlAddr, op: Op) -> Command {
        Command { target, op }
    }

    /// `jdev/sps/io/{addr}/{op}`: the path of a plain control command.
    pub fn io_path(&self) -> String {
        format!("jdev/sps/io/{}/{}", self.target, self.op)
    }

    /// `jdev/sps/ios/{hash}/{addr}/{op}`: the path for an `isSecured` control, where `hash` is the
    /// visualisation-password HMAC (hex). Returns `None` if `hash` is not plain hex.
    pub fn ios_path(&self, visu_hash_hex: &str) -> Option<String> {
        let ok = !visu_hash_hex.is_empty()
            && visu_hash_hex.len() <= 128
            && visu_hash_hex.bytes().all(|c| c.is_ascii_hexdigit());
        ok.then(|| format!("jdev/sps/ios/{visu_hash_hex}/{}/{}", self.target, self.op))
    }
}

/// `jdev/sps/io/{addr}/{text}`: the value of a virtual text input (SF "TextInput": command
/// `{text}`, "new value of text input"). Only the consent channel writes one, and only text it
/// built from the structure file's names (`consent::app`); every byte outside `A-Za-z0-9-_.~` is
/// percent-encoded, so the text is one path segment and can carry no command of its own.
pub fn text_path(target: &ControlAddr, text: &str) -> String {
    let mut out = format!("jdev/sps/io/{target}/");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> ControlAddr {
        ControlAddr::parse("0f86a2fe-0378-3e15-ffff373f9870b52a").unwrap()
    }

    #[test]
    fn paths_use_structure_file_spelling() {
        let c = |op| Command::new(addr(), op).io_path();
        let p = |v| Percent::new(v).unwrap();
        assert_eq!(
            c(Op::FullUp),
            "jdev/sps/io/0f86a2fe-0378-3e15-ffff373f9870b52a/FullUp"
        );
        assert!(c(Op::ManualPosition(p(40))).ends_with("/manualPosition/40"));
        assert!(c(Op::ChangeTo(778)).ends_with("/changeTo/778"));
        assert!(
            c(Op::SetComfortTemperature(Tenths::from_f64(21.5).unwrap()))
                .ends_with("/setComfortTemperature/21.5")
        );
        assert!(c(Op::Arm { movement: true }).ends_with("/on/1"));
        assert!(c(Op::ArmDelayed { movement: false }).ends_with("/delayedon/0"));
        assert!(c(Op::PauseV2).ends_with("/Pause"));
        assert!(c(Op::ManualLimit(Tenths::from_f64(7.4).unwrap())).ends_with("/manualLimit/7.4"));
        assert!(
            c(Op::VentTimer {
                secs: 3600,
                speed: p(40),
                mode: 2
            })
            .ends_with("/setTimer/3600/40/2/-1")
        );
        assert!(c(Op::VentAuto).ends_with("/setTimer/0"));
        assert!(c(Op::SaunaOnTemp(Tenths::from_f64(80.0).unwrap())).ends_with("/ontemp/80.0"));
        assert!(c(Op::SaunaTemp(Tenths::from_f64(75.5).unwrap())).ends_with("/temp/75.5"));
        assert!(c(Op::IrrigationStart).ends_with("/start"));
    }

    #[test]
    fn a_text_is_one_percent_encoded_segment() {
        let p = text_path(&addr(), "Unlock 'Hall/Front door'? ä/../on");
        assert_eq!(
            p,
            "jdev/sps/io/0f86a2fe-0378-3e15-ffff373f9870b52a/Unlock%20%27Hall%2FFront%20door%27%3F%20%C3%A4%2F..%2Fon"
        );
        assert_eq!(
            text_path(&addr(), ""),
            "jdev/sps/io/0f86a2fe-0378-3e15-ffff373f9870b52a/"
        );
    }

    #[test]
    fn percent_above_100_does_not_exist() {
        assert!(Percent::new(101).is_none());
        assert_eq!(Percent::new(100).map(Percent::get), Some(100));
    }

    #[test]
    fn tenths_render_with_one_decimal_and_sign() {
        assert_eq!(Tenths::from_f64(-2.25).unwrap().to_string(), "-2.3");
        assert_eq!(Tenths::from_f64(0.04).unwrap().to_string(), "0.0");
        assert_eq!(Tenths::from_f64(22.0).unwrap().to_string(), "22.0");
        assert!(Tenths::from_f64(f64::NAN).is_none());
        assert!(Tenths::from_f64(1e300).is_none());
    }

    #[test]
    fn secured_paths_accept_only_hex_hashes() {
        let cmd = Command::new(addr(), Op::Disarm);
        assert_eq!(
            cmd.ios_path("04f5b16e67a5").unwrap(),
            "jdev/sps/ios/04f5b16e67a5/0f86a2fe-0378-3e15-ffff373f9870b52a/off"
        );
        assert!(cmd.ios_path("../x").is_none());
        assert!(cmd.ios_path("").is_none());
    }
}
