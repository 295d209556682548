//! Central objects (SF "Central Objects"): one command to many listed controls.

use super::*;

/// The controls a central object lists in `details.controls` (indexes into the structure).
pub(super) fn central_members(h: &House, idx: usize, ids: Option<&[u32]>) -> Vec<usize> {
    let d = h.structure.controls[idx].details();
    let Some(list) = d["controls"].as_array() else {
        return Vec::new();
    };
    list.iter()
        .filter(|e| {
            ids.is_none_or(|ids| {
                e["id"]
                    .as_u64()
                    .is_some_and(|id| ids.contains(&(id as u32)))
            })
        })
        .filter_map(|e| e["uuid"].as_str())
        .filter_map(|u| crate::loxone::uuid::ControlAddr::parse(u).ok())
        .filter_map(|a| h.structure.index_of(&a))
        .collect()
}

/// Central objects (SF "Central Objects"): the command goes to each listed control;
/// `selectedcontrols/{ids}/{cmd}` to a subset.
pub(super) fn central(h: &mut House, idx: usize, cmd: &[&str], words: &[&str], now: Now) -> u16 {
    let (members, inner): (Vec<usize>, &[&str]) = match cmd {
        ["selectedcontrols", ids, rest @ ..] => {
            let ids: Option<Vec<u32>> = ids.split(',').map(|i| i.parse().ok()).collect();
            match ids {
                Some(ids) => (central_members(h, idx, Some(&ids)), rest),
                None => return 400,
            }
        }
        _ => (central_members(h, idx, None), cmd),
    };
    let is_lc = h.structure.controls[idx].kind == "CentralLightController";
    match inner {
        [w] if words.contains(w) => {}
        ["setMoods", _] if is_lc => return 200,
        _ => return 404,
    }
    for m in members {
        let sub: Vec<&str> = if is_lc {
            match inner[0] {
                "on" => vec!["changeTo", "777"],
                _ => vec!["changeTo", "0"],
            }
        } else {
            inner.to_vec()
        };
        command(h, m, &sub, now);
    }
    200
}

pub(super) fn central_audio(h: &mut House, idx: usize, cmd: &[&str], now: Now) -> u16 {
    let members = central_members(h, idx, None);
    let sub: &[&str] = match cmd {
        ["play"] => &["play"],
        ["pause"] => &["pause"],
        ["volup"] => &["volstep", "3"],
        ["voldown"] => &["volstep", "-3"],
        _ => return 404,
    };
    for m in members {
        let s: Vec<&str> = if h.structure.controls[m].kind == "AudioZoneV2" {
            match sub[0] {
                "pause" => vec!["Pause"],
                "volstep" if sub[1] == "3" => vec!["volUp"],
                "volstep" => vec!["volDown"],
                _ => sub.to_vec(),
            }
        } else {
            sub.to_vec()
        };
        command(h, m, &s, now);
    }
    200
}
