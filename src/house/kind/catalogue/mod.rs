//! Every control type Loxone's *Structure File* document (v16.0, chapter "Control Types")
//! describes — 70 control types and the 6 central objects, 76 in all — with what loxwarden
//! lets the AI do with each: what it reads, what it may do, what needs a person, what is
//! refused, and the hazard that decides it.
//!
//! Why a catalogue beside the rule table: the rules decide a device's kind from its type and
//! place; the catalogue says, per documented type, *why*, in words an owner reads
//! (`docs/control-types.md` is rendered from it, and `check-config` prints its treatment). The
//! tests below tie the two together: every documented type is matched by a rule of its own
//! (never the fallback), and a type the document does not know stays read-only `other`.
//!
//! Source: Smarteon/loxone-client-kotlin `docs/loxone/StructureFile.md` (the PDF "Structure
//! File" v16.0, 2025-06-03, as Markdown), one entry per `###` heading of "Control Types" and
//! one per item of "Central Objects — Covered Config Items".

mod comfort;
mod other;
mod safety;

use super::{Kind, Shape, classify};

/// One documented type and how loxwarden treats it.
#[derive(Clone, Copy, Debug)]
pub struct Documented {
    /// The heading in the Structure File (or the central object's name).
    pub heading: &'static str,
    /// The `type` strings of the structure file this heading covers.
    pub types: &'static [&'static str],
    /// The hazard that decides the rule, with its losses (L-*) and constraints.
    pub hazard: &'static str,
    /// What the AI may read (always in human terms where `tools::human` knows words).
    pub reads: &'static str,
    /// What the AI may do; empty when nothing.
    pub does: &'static str,
    /// What needs a person's consent; empty when nothing.
    pub consent: &'static str,
    /// What is refused, and by which rule.
    pub refused: &'static str,
}

/// The documented types, in the document's order within each family file.
pub fn all() -> impl Iterator<Item = &'static Documented> {
    safety::ENTRIES
        .iter()
        .chain(comfort::ENTRIES)
        .chain(other::ENTRIES)
}

/// The catalogue entry of a Loxone type, if the document describes it.
pub fn lookup(ty: &str) -> Option<&'static Documented> {
    all().find(|d| d.types.contains(&ty))
}

/// Whether loxwarden has a command for a type at all (a kind that tools address is not enough:
/// a colour picker is a light, but no tool sets a colour).
pub fn has_commands(ty: &str) -> bool {
    lookup(ty).is_some_and(|d| !d.does.is_empty())
}

/// The kind a documented type gets on its own (top level, no category), for the docs table.
fn plain_kind(ty: &str) -> (Kind, Option<&'static str>) {
    classify(&Shape {
        ty,
        parent: None,
        cat: None,
    })
}

/// `docs/control-types.md`'s table rows, from the catalogue.
pub fn markdown_rows() -> String {
    let mut out = String::new();
    for d in all() {
        let kinds: Vec<String> = d
            .types
            .iter()
            .map(|t| {
                let (k, _) = plain_kind(t);
                match *t {
                    "Switch" | "Pushbutton" | "TimedSwitch" => {
                        "light (lighting category or light controller), else other until classified"
                            .to_owned()
                    }
                    _ => k.as_str().to_owned(),
                }
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let rule = super::RULES
            .iter()
            .find(|r| r.types.contains(&d.types[0]))
            .map_or("fallback", |r| r.name);
        let dash = |s: &str| {
            if s.is_empty() {
                "—".to_owned()
            } else {
                s.to_owned()
            }
        };
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} | {} | {} | `{rule}` |\n",
            d.heading,
            d.types.join("`, `"),
            kinds.join("; "),
            d.reads,
            dash(d.does),
            dash(d.consent),
            dash(d.refused),
            d.hazard,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{FALLBACK, RULES};
    use super::*;

    #[test]
    fn the_catalogue_holds_the_76_documented_types_once_each() {
        let headings: Vec<&str> = all().map(|d| d.heading).collect();
        assert_eq!(headings.len(), 76, "{headings:?}");
        let mut types: Vec<&str> = all().flat_map(|d| d.types.iter().copied()).collect();
        let n = types.len();
        types.sort_unstable();
        types.dedup();
        assert_eq!(types.len(), n, "a type string appears under two headings");
        let mut h = headings.clone();
        h.sort_unstable();
        h.dedup();
        assert_eq!(h.len(), 76, "a heading appears twice");
    }

    #[test]
    fn every_documented_type_has_a_rule_of_its_own_never_the_fallback() {
        for d in all() {
            for t in d.types {
                let s = Shape {
                    ty: t,
                    parent: None,
                    cat: None,
                };
                let rule = RULES.iter().find(|r| r.matches(&s)).map(|r| r.name);
                assert!(
                    rule.is_some_and(|r| r != FALLBACK.name),
                    "{t} ({}) falls through to the fallback",
                    d.heading
                );
            }
        }
    }

    #[test]
    fn what_the_catalogue_says_the_ai_may_do_matches_the_rule_table() {
        for d in all() {
            for t in d.types {
                let (_, ro) = plain_kind(t);
                let switch = matches!(*t, "Switch" | "Pushbutton" | "TimedSwitch");
                if ro.is_some() && !switch {
                    assert!(
                        d.does.is_empty() && d.consent.is_empty(),
                        "{t}: read-only by the table, but the catalogue says it does '{}'",
                        d.does
                    );
                    assert!(
                        !d.refused.is_empty(),
                        "{t}: read-only must say what is refused"
                    );
                }
                assert!(!d.hazard.is_empty() && !d.reads.is_empty(), "{t}");
                assert!(d.hazard.contains("L-"), "{t}: the hazard names its losses");
            }
        }
    }

    #[test]
    fn a_type_the_document_does_not_describe_is_read_only_other() {
        assert!(lookup("QuantumToaster2031").is_none());
        assert!(!has_commands("QuantumToaster2031"));
        let (k, ro) = plain_kind("QuantumToaster2031");
        assert_eq!(k, Kind::Other);
        assert_eq!(ro, FALLBACK.read_only);
    }

    #[test]
    fn docs_control_types_md_holds_the_catalogue_table() {
        // `LOXWARDEN_BLESS=1 cargo test --lib control_types_md` rewrites the table.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/control-types.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        let begin = "<!-- catalogue:begin -->\n";
        let end = "<!-- catalogue:end -->";
        let (head, rest) = doc.split_once(begin).expect("the begin marker");
        let (_, tail) = rest.split_once(end).expect("the end marker");
        let header = "| Type (SF heading) | `type` | Kind | The AI reads | The AI may do | Needs a person | Refused | Hazard | Rule |\n|---|---|---|---|---|---|---|---|---|\n";
        let want = format!("{head}{begin}{header}{}{end}{tail}", markdown_rows());
        if std::env::var_os("LOXWARDEN_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        assert!(
            doc == want,
            "docs/control-types.md is out of date; LOXWARDEN_BLESS=1 rewrites it"
        );
    }
}
