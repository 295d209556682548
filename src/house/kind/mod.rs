//! What a control *is*, decided by a const rule table over its Loxone type, its parent's type
//! and its category.
//!
//! Why a table: the kind decides which tool may address a device (a lock must never be reachable
//! through `control_light`, H-1) and which devices are hidden until the config opts them in. A
//! table read top to bottom, first match wins, with a test under every rule, is something a
//! reviewer can check line by line against Loxone's *Structure File* document; a cascade of
//! `if`s is not.
//!
//! The one deliberate gap: a plain `Switch` or `Pushbutton` says nothing about what it switches.
//! Under a light controller or in a category of type `lights` it is a light; anywhere else it
//! could be a lock, a pump or a garage door, so it is read-only until `[[classify]]` in the
//! config says what it is (issue 5 "Devices").

use std::fmt;

/// The device kinds of issue 5, in the order tools list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Light,
    Blind,
    Climate,
    Audio,
    Alarm,
    Access,
    Intercom,
    Charger,
    /// Household plant with a command set of its own (ventilation, sauna, irrigation):
    /// `control_appliance`.
    Appliance,
    Scene,
    Sensor,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Light,
        Kind::Blind,
        Kind::Climate,
        Kind::Audio,
        Kind::Alarm,
        Kind::Access,
        Kind::Intercom,
        Kind::Charger,
        Kind::Appliance,
        Kind::Scene,
        Kind::Sensor,
        Kind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Light => "light",
            Kind::Blind => "blind",
            Kind::Climate => "climate",
            Kind::Audio => "audio",
            Kind::Alarm => "alarm",
            Kind::Access => "access",
            Kind::Intercom => "intercom",
            Kind::Charger => "charger",
            Kind::Appliance => "appliance",
            Kind::Scene => "scene",
            Kind::Sensor => "sensor",
            Kind::Other => "other",
        }
    }

    /// Parses the lowercase name used in the config and in tool arguments.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Alarm, access and intercom devices stay hidden from the AI until the config names each
    /// one in `exposure.opt_in` (issue 5 "Exposure", as Home Assistant does for locks).
    /// "a light", "an access device": the kind with its article, for messages.
    pub fn with_article(self) -> String {
        let a = if matches!(
            self,
            Kind::Access
                | Kind::Alarm
                | Kind::Appliance
                | Kind::Audio
                | Kind::Intercom
                | Kind::Other
        ) {
            "an"
        } else {
            "a"
        };
        format!("{a} {} device", self.as_str())
    }

    pub fn needs_opt_in(self) -> bool {
        matches!(self, Kind::Alarm | Kind::Access | Kind::Intercom)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the rules see of a control.
#[derive(Clone, Copy, Debug)]
pub struct Shape<'a> {
    /// Loxone type, e.g. `Switch`.
    pub ty: &'a str,
    /// The parent's Loxone type for sub-controls.
    pub parent: Option<&'a str>,
    /// The category's `type` (`lights`, `shading`, …), inherited from the parent for subs.
    pub cat: Option<&'a str>,
}

/// Which parents a rule accepts.
#[derive(Clone, Copy, Debug)]
pub enum Parent {
    Any,
    /// Only top-level controls.
    None,
    /// Only sub-controls of these types.
    OneOf(&'static [&'static str]),
}

/// One classification rule. Empty `types` matches any type.
#[derive(Clone, Copy, Debug)]
pub struct KindRule {
    pub name: &'static str,
    pub types: &'static [&'static str],
    pub parent: Parent,
    /// Category type the control must be in, if any.
    pub cat: Option<&'static str>,
    pub kind: Kind,
    /// Why a device matched by this rule may never be actuated, if so.
    pub read_only: Option<&'static str>,
}

impl KindRule {
    fn matches(&self, s: &Shape<'_>) -> bool {
        let ty_ok = self.types.is_empty() || self.types.contains(&s.ty);
        let parent_ok = match self.parent {
            Parent::Any => true,
            Parent::None => s.parent.is_none(),
            Parent::OneOf(list) => s.parent.is_some_and(|p| list.contains(&p)),
        };
        let cat_ok = self.cat.is_none_or(|c| s.cat == Some(c));
        ty_ok && parent_ok && cat_ok
    }
}

/// The reason an unclassified switch is read-only; tests and docs refer to it.
pub const UNCLASSIFIED: &str = "its purpose cannot be told from the structure file (a switch could drive a lock); \
     name it in a [[classify]] entry of the config to control it";

pub mod catalogue;
mod read_only;
mod rules;

pub use rules::*;

/// The kind of a control and, if it may never be actuated, why.
pub fn classify(s: &Shape<'_>) -> (Kind, Option<&'static str>) {
    RULES
        .iter()
        .find(|r| r.matches(s))
        .map(|r| (r.kind, r.read_only))
        .unwrap_or((Kind::Other, FALLBACK.read_only))
}

/// Whether `[[classify]]` may turn a device of derived kind `from` (Loxone type `ty`, read-only
/// reason `ro`, `parent` type for sub-controls) into `to`. The config may resolve what the
/// structure file cannot tell — an unclassified switch, or an intercom output (SF: outputs are
/// "door openers / lights"; by default loxwarden treats them all as door openers) — make a device
/// stricter (alarm, access, intercom: hidden unless opted in, consent for the risky direction),
/// or make it read-only (sensor, other). It may never turn any other known device into a more
/// permissive kind: not a gate, a smoke alarm or a blind into a light.
pub fn may_reclassify(
    ty: &str,
    parent: Option<&str>,
    from: Kind,
    ro: Option<&str>,
    to: Kind,
) -> bool {
    if to.needs_opt_in() || matches!(to, Kind::Sensor | Kind::Other) || from == to {
        return true;
    }
    // An appliance's commands are its type's own (`setTimer`, `ontemp`, `start`): a switch
    // called an appliance would have none, and the config may not make one.
    if to == Kind::Appliance {
        return false;
    }
    let switch = matches!(ty, "Switch" | "Pushbutton" | "TimedSwitch");
    let intercom_output = INTERCOM_OUTPUT.matches(&Shape {
        ty,
        parent,
        cat: None,
    });
    switch
        && (intercom_output
            || ((ro == Some(UNCLASSIFIED) || from == Kind::Light) && !from.needs_opt_in()))
}

/// Why an input whose output could drive anything is read-only; tests and docs refer to it.
pub const UNKNOWN_PURPOSE: &str = "what this input drives cannot be told from the structure file \
     (it could set a light or a pump), and loxwarden has no command for a free value";

/// Life-safety blocks: they put the house in the emergency posture when active or unknown, and
/// the AI never mutes, confirms, quits, disables or triggers them (L-1, L-7).
pub fn is_life_safety(ty: &str) -> bool {
    matches!(
        ty,
        "SmokeAlarm" | "AalSmartAlarm" | "AalEmergency" | "AlarmChain"
    )
}

#[cfg(test)]
fn shape<'a>(ty: &'a str, parent: Option<&'a str>, cat: Option<&'a str>) -> Shape<'a> {
    Shape { ty, parent, cat }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_reachable_in_the_table_order() {
        // A rule shadowed by an earlier one would be dead text pretending to be policy.
        for (i, r) in RULES.iter().enumerate() {
            let ty = r.types.first().copied().unwrap_or("SomethingNew");
            let parent = match r.parent {
                Parent::OneOf(p) => Some(p[0]),
                _ => None,
            };
            let s = Shape {
                ty,
                parent,
                cat: r.cat,
            };
            let first = RULES.iter().position(|x| x.matches(&s));
            assert_eq!(first, Some(i), "rule {} is shadowed", r.name);
        }
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("Light"), None);
    }

    #[test]
    fn reclassification_may_resolve_or_tighten_but_never_loosen() {
        let unclassified = Some(UNCLASSIFIED);
        assert!(may_reclassify(
            "Switch",
            None,
            Kind::Other,
            unclassified,
            Kind::Light
        ));
        assert!(may_reclassify(
            "Switch",
            None,
            Kind::Other,
            unclassified,
            Kind::Access
        ));
        assert!(may_reclassify(
            "Switch",
            None,
            Kind::Light,
            None,
            Kind::Access
        ));
        assert!(may_reclassify(
            "Jalousie",
            None,
            Kind::Blind,
            None,
            Kind::Other
        ));
        // An intercom output may be a porch light: the structure file cannot tell.
        assert!(may_reclassify(
            "Pushbutton",
            Some("Intercom"),
            Kind::Access,
            None,
            Kind::Light
        ));
        // Anything else that is access stays access: a gate or a classified lock.
        assert!(!may_reclassify(
            "Gate",
            None,
            Kind::Access,
            None,
            Kind::Light
        ));
        assert!(!may_reclassify(
            "Pushbutton",
            None,
            Kind::Access,
            None,
            Kind::Light
        ));
        // A smoke alarm can never become anything actuable.
        let smoke = SMOKE_ALARM.read_only;
        assert!(!may_reclassify(
            "SmokeAlarm",
            None,
            Kind::Alarm,
            smoke,
            Kind::Light
        ));
        assert!(!may_reclassify(
            "Jalousie",
            None,
            Kind::Blind,
            None,
            Kind::Light
        ));
    }
}
