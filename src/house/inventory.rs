//! The owner's inventory: per Loxone type present in the house, how many there are and how
//! loxwarden treats them — controllable (and how), read-only and why, waiting for a
//! `[[classify]]` entry, hidden until opted in, or unknown to loxwarden.
//!
//! Why: an owner should see before the first session what the AI will be able to do with each
//! thing in the house, in the words the safety rules use, and which types loxwarden has never
//! heard of (newer than the Structure File it was built against; those stay read-only).

use std::collections::BTreeMap;

use super::kind::{UNCLASSIFIED, catalogue};
use super::{Device, House};

/// How loxwarden treats one device, as the inventory says it.
pub fn treatment(d: &Device) -> String {
    let known = catalogue::lookup(&d.loxone_type).is_some();
    if !d.exposed {
        return if d.kind.needs_opt_in() {
            format!(
                "hidden until opted in ({}; name it in exposure.opt_in)",
                d.kind
            )
        } else {
            "hidden by the config's exposure rules".to_owned()
        };
    }
    if !known && !d.classified_by_config {
        return format!(
            "{UNKNOWN}: read-only ({})",
            d.read_only
                .as_deref()
                .unwrap_or("not in the Structure File v16")
        );
    }
    match d.read_only.as_deref() {
        Some(UNCLASSIFIED) => "needs classification: read-only until a [[classify]] entry says \
                               what it drives"
            .to_owned(),
        Some(why) => format!("read-only ({}): {why}", d.kind),
        None if !catalogue::has_commands(&d.loxone_type) => format!(
            "read-only ({}): loxwarden has no command for this type (SC-10)",
            d.kind
        ),
        None => format!(
            "controllable ({}): {}",
            d.kind,
            catalogue::lookup(&d.loxone_type).map_or("", |c| c.does)
        ),
    }
}

/// The words that mark a type loxwarden does not know.
pub const UNKNOWN: &str = "unknown to loxwarden";

/// `(type, count, treatment)` per type and treatment present, sorted by type.
pub fn inventory(house: &House) -> Vec<(String, usize, String)> {
    let mut m: BTreeMap<(String, String), usize> = BTreeMap::new();
    for d in house.all() {
        *m.entry((d.loxone_type.clone(), treatment(d))).or_default() += 1;
    }
    m.into_iter().map(|((ty, t), n)| (ty, n, t)).collect()
}

/// The inventory as `check-config` and `loxwarden sim` print it, with a closing count of the
/// types loxwarden does not know.
pub fn lines(house: &House) -> Vec<String> {
    let inv = inventory(house);
    let mut out: Vec<String> = inv
        .iter()
        .map(|(ty, n, t)| format!("type         {ty} ×{n}: {t}"))
        .collect();
    let types: std::collections::BTreeSet<&str> = inv.iter().map(|(t, _, _)| t.as_str()).collect();
    let unknown: std::collections::BTreeSet<&str> = inv
        .iter()
        .filter(|(_, _, t)| t.starts_with(UNKNOWN))
        .map(|(ty, _, _)| ty.as_str())
        .collect();
    out.push(format!(
        "types        {} type(s) present, {} {UNKNOWN}{}",
        types.len(),
        unknown.len(),
        if unknown.is_empty() {
            String::new()
        } else {
            format!(
                " ({}; read-only)",
                unknown.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::super::testhouse::*;
    use super::*;
    use std::sync::Arc;

    fn every_type(cfg: &str) -> House {
        let s = crate::loxone::structure::Structure::parse(
            crate::sim::every_type_structure().as_bytes(),
        )
        .unwrap();
        House::new(Arc::new(s), &config(cfg)).unwrap()
    }

    fn count_unknown(h: &House) -> usize {
        inventory(h)
            .iter()
            .filter(|(_, _, t)| t.starts_with(UNKNOWN))
            .count()
    }

    #[test]
    fn every_fixture_and_the_every_type_house_have_no_type_unknown_to_loxwarden() {
        for h in [
            manison(),
            smarteon(),
            test_house(),
            every_type("[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n"),
        ] {
            assert_eq!(count_unknown(&h), 0, "{:#?}", inventory(&h));
            let last = lines(&h).pop().unwrap();
            assert!(last.contains(&format!("0 {UNKNOWN}")), "{last}");
        }
    }

    #[test]
    fn the_inventory_names_each_treatment_in_the_every_type_house() {
        let h = every_type("[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n");
        let of = |ty: &str| -> String {
            let inv = inventory(&h);
            let (_, n, t) = inv.iter().find(|(x, _, _)| x == ty).unwrap().clone();
            assert_eq!(n, 1, "{ty}");
            t
        };
        assert!(of("Dimmer").starts_with("controllable (light): on, off, dim"));
        assert!(of("TimedSwitch").starts_with("controllable (light)"));
        assert!(
            of("Switch").starts_with("controllable (light)"),
            "lighting category"
        );
        for t in ["Sauna", "Ventilation", "Irrigation"] {
            assert!(
                of(t).starts_with("controllable (appliance)"),
                "{t}: {}",
                of(t)
            );
        }
        assert!(of("PoolController").starts_with("read-only (other): pumps and valves"));
        assert!(of("Slider").starts_with("read-only (other): what this input drives"));
        assert!(of("ColorPickerV2").contains("no command for this type (SC-10)"));
        for t in [
            "AalSmartAlarm",
            "AalEmergency",
            "AlarmChain",
            "SmokeAlarm",
            "Alarm",
        ] {
            assert!(of(t).starts_with("hidden until opted in (alarm"), "{t}");
        }
        assert!(of("NfcCodeTouch").starts_with("hidden until opted in (access"));
        assert!(of("CentralWindow").starts_with("controllable (scene)"));
        let h = every_type(
            "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n[exposure]\nopt_in = [\"Every AlarmChain\", \"Every NfcCodeTouch\"]\n",
        );
        let t = treatment(
            h.all()
                .iter()
                .find(|d| d.loxone_type == "AlarmChain")
                .unwrap(),
        );
        assert!(
            t.starts_with("read-only (alarm): life-safety alarms are never"),
            "{t}"
        );
        let t = treatment(
            h.all()
                .iter()
                .find(|d| d.loxone_type == "NfcCodeTouch")
                .unwrap(),
        );
        assert!(t.starts_with("read-only (access)"), "{t}");
    }

    #[test]
    fn a_switch_outside_the_lighting_category_needs_classification() {
        let h = manison();
        let inv = inventory(&h);
        assert!(
            inv.iter()
                .any(|(ty, _, t)| ty == "Switch" && t.starts_with("needs classification")),
            "{inv:#?}"
        );
    }

    #[test]
    fn a_type_newer_than_the_document_is_reported_unknown_and_read_only() {
        let text = crate::sim::every_type_structure()
            .replace("\"Every Slider\"", "\"Every Gadget\"")
            .replacen(
                "\"type\": \"Slider\"",
                "\"type\": \"QuantumToaster2031\"",
                1,
            );
        let s = crate::loxone::structure::Structure::parse(text.as_bytes()).unwrap();
        let h = House::new(Arc::new(s), &bare_config()).unwrap();
        let l = lines(&h);
        assert!(
            l.iter()
                .any(|x| x.contains("QuantumToaster2031 ×1: unknown to loxwarden: read-only")),
            "{l:#?}"
        );
        assert!(
            l.last()
                .unwrap()
                .contains("1 unknown to loxwarden (QuantumToaster2031; read-only)")
        );
    }
}
