//! `jdev/sps/io/<uuid>/<command>`: a control's command, resolved against the structure, checked
//! (secured controls want the visualisation hash; read-only ones answer 403) and applied to the
//! simulated house; the motor's standing when it arrived goes into the log.

use super::*;

/// Splits `{uuid}[/{suffix}]/{cmd…}` against the structure: the suffix belongs to the address
/// only if such a sub-control exists.
pub(super) fn resolve(sh: &Shared, target: &[&str]) -> Option<(ControlAddr, usize)> {
    let first = *target.first()?;
    Uuid::parse(first).ok()?;
    let house = sh.house();
    if let Some(second) = target.get(1)
        && let Ok(sub) = ControlAddr::parse(&format!("{first}/{second}"))
        && let Some(i) = house.structure.index_of(&sub)
    {
        return Some((sub, i));
    }
    let addr = ControlAddr::parse(first).ok()?;
    let i = house.structure.index_of(&addr)?;
    Some((addr, i))
}

pub(super) fn device(
    sh: &Shared,
    path: &str,
    target: &[&str],
    visu: Option<&str>,
    rec: &mut Rec,
) -> Reply {
    let Some((addr, idx)) = resolve(sh, target) else {
        rec.device = true;
        rec.control = target.first().map(|s| s.to_string());
        rec.op = Some(target.iter().skip(1).copied().collect::<Vec<_>>().join("/"));
        return sps(path, json!(""), 404);
    };
    let skip = if addr.suffix().is_some() { 2 } else { 1 };
    let cmd: Vec<String> = target[skip..]
        .iter()
        .map(|s| crypto::percent_decode(s).unwrap_or_else(|| s.to_string()))
        .collect();
    let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
    rec.control = Some(addr.to_string());
    rec.op = Some(cmd.join("/"));

    // Reads: `all`, `state`, `astate` (KB "Web Services"); not device commands.
    if matches!(cmd.as_slice(), [] | ["state"] | ["astate"] | ["all"]) {
        let house = sh.house();
        let value = devices::reply_value(&house, idx);
        let mut l = Ll::new(
            echo(path, CodeStyle::UpperString),
            json!(value),
            200,
            CodeStyle::UpperString,
        );
        if cmd == ["all"] {
            l.extra = devices::all_outputs(&house, idx);
        }
        return Reply::Ll(l);
    }
    rec.device = true;
    rec.motor = {
        let house = sh.house();
        let has = |s: &str| house.structure.controls[idx].states.contains_key(s);
        (has("up") && has("down") && has("position")).then(|| MotorAt {
            moving: if house.num(idx, "up") > 0.0 {
                Some("up")
            } else if house.num(idx, "down") > 0.0 {
                Some("down")
            } else {
                None
            },
            position: house.num(idx, "position"),
        })
    };

    let (secured, read_only) = {
        let house = sh.house();
        let c = &house.structure.controls[idx];
        let parent_secured = c
            .parent
            .is_some_and(|p| house.structure.controls[p].is_secured);
        (c.is_secured || parent_secured, c.is_read_only())
    };
    if let Some(hash) = visu {
        let user = rec.user.clone().unwrap_or_default();
        if !sh.with_auth(|a| a.check_visu_hash(&user, hash, sh.ms())) {
            return sps(path, json!(""), 500);
        }
    } else if secured {
        return sps(path, json!(""), 500);
    }
    if read_only {
        return sps(path, json!(""), 403);
    }
    if let Some(code) = sh.forced_code(&addr) {
        return sps(path, json!(""), code);
    }
    let outcome = {
        let now = sh.now();
        let mut house = sh.house();
        house.command(idx, &cmd, now)
    };
    sh.flush_changes();
    let Outcome { code, value } = outcome;
    sps(path, json!(value), code)
}
