//! What the owner is told the AI will see (`check-config`) and the per-room summary.

use super::*;

/// Every room with its device count and kinds: one pass over the exposed devices (a room ×
/// device scan, with a case-insensitive comparison per pair, was quadratic in the house).
pub fn room_summary(house: &House) -> Vec<(&str, usize, Vec<&'static str>)> {
    let mut by_room: std::collections::BTreeMap<&str, (usize, u32)> = Default::default();
    for d in house.exposed().filter(|d| !d.room_name.is_empty()) {
        let (n, kinds) = by_room.entry(d.room_name.as_str()).or_default();
        *n += 1;
        *kinds |= 1 << (d.kind as u32);
    }
    by_room
        .into_iter()
        .map(|(room, (n, kinds))| {
            let mut names: Vec<&'static str> = Kind::ALL
                .iter()
                .filter(|k| kinds & (1 << (**k as u32)) != 0)
                .map(|k| k.as_str())
                .collect();
            names.sort_unstable();
            (room, n, names)
        })
        .collect()
}

/// What the AI would see of `house`, as `check-config` prints it: how many devices in how
/// many rooms, of which kinds, how many it may control, what the config hides, the config
/// entries that matched nothing, and the inventory per Loxone type.
pub fn what_the_ai_sees(house: &House) -> Vec<String> {
    let exposed: Vec<&crate::house::Device> = house.exposed().collect();
    let kinds: Vec<String> = Kind::ALL
        .iter()
        .filter_map(|k| {
            let n = exposed.iter().filter(|d| d.kind == *k).count();
            (n > 0).then(|| format!("{n} {k}"))
        })
        .collect();
    let read_only = exposed.iter().filter(|d| d.read_only.is_some()).count();
    let mut lines = vec![
        format!(
            "the AI sees  {} device(s) in {} room(s): {}",
            exposed.len(),
            house.rooms().len(),
            if kinds.is_empty() {
                "none".to_owned()
            } else {
                kinds.join(", ")
            }
        ),
        format!(
            "             {} it may control, {read_only} read-only; {} not exposed by the config",
            exposed.len() - read_only,
            house.all().len() - exposed.len()
        ),
    ];
    lines.extend(house.warnings.iter().map(|w| format!("config note  {w}")));
    // Per Loxone type: how many, and what the AI may do with them (house::inventory).
    lines.extend(crate::house::inventory::lines(house));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::house::testhouse::{manison, test_house};

    #[test]
    fn the_room_summary_in_one_pass_counts_what_listing_each_room_finds() {
        for house in [manison(), test_house()] {
            let summary = room_summary(&house);
            let rooms: Vec<&str> = summary.iter().map(|(r, _, _)| *r).collect();
            assert_eq!(rooms, house.rooms());
            assert!(summary.len() > 3);
            for (room, n, kinds) in &summary {
                let ids = house.list(Some(room), None);
                assert_eq!(*n, ids.len(), "{room}");
                let mut want: Vec<&str> = ids
                    .iter()
                    .map(|id| house.device(*id).kind.as_str())
                    .collect();
                want.sort_unstable();
                want.dedup();
                assert_eq!(kinds, &want, "{room}");
            }
        }
    }
}
