//! The cost of a tool call through the daemon: `tools/call` against the same command sent
//! directly, the audit log's `fdatasync` under it, and `list_devices` of a large house.
//!
//! Why apart: these figures need a running daemon and an MCP session; each compares the whole
//! call with the part it cannot avoid.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use loxwarden::loxone::command::{Command as LoxCommand, Op, Percent};
use loxwarden::loxone::link;
use loxwarden::loxone::uuid::ControlAddr;
use serde_json::json;

use crate::site::{Daemon, Mcp, Site};
use crate::stats::{self, Row, Samples, num};
use crate::{Plan, ms};

/// `control_light dim` through the daemon against the same command sent directly with the
/// Loxone client (same token, same encryption), paired, on different dimmers so that no rate
/// limit applies.
pub fn call_overhead(site: &Site, daemon: &Daemon, plan: &Plan) -> Vec<Row> {
    eprintln!("bench:   tools/call overhead ({} pairs)", plan.pairs);
    let _ = daemon;
    let dimmers = site.controls_of(&["Dimmer"]);
    let pairs = plan.pairs.min(dimmers.len() / 2);
    let (client, _, stored) = link::direct(&site.cfg).expect("direct client");
    let mut mcp = Mcp::connect(&site.socket());
    let (mut direct, mut tool, mut diff) = (Vec::new(), Vec::new(), Vec::new());
    let mut less_check = Vec::new();
    let mut failures = 0;
    for i in 0..pairs {
        let level = 20 + (i % 60) as u8;
        let addr = ControlAddr::parse(&dimmers[2 * i]).expect("address");
        let cmd = LoxCommand::new(addr, Op::DimTo(Percent::new(level).expect("0–100")));
        let t = Instant::now();
        let version = client.structure_version(&stored.token);
        let v = ms(t.elapsed());
        let t = Instant::now();
        let reply = client.send(&stored.token, &cmd, false, None);
        let d = ms(t.elapsed());
        let t = Instant::now();
        let (r, err) = mcp.call(
            "control_light",
            json!({"device": dimmers[2 * i + 1], "action": "dim", "brightness": level}),
        );
        let c = ms(t.elapsed());
        if err || version.is_err() || !reply.as_ref().is_ok_and(|r| r.code == 200) {
            failures += 1;
            if failures <= 3 {
                eprintln!(
                    "bench:     a failed pair: {r} / {:?}",
                    reply.map(|r| r.code)
                );
            }
            continue;
        }
        direct.push(d);
        tool.push(c);
        diff.push(c - d);
        less_check.push(c - d - v);
    }
    let less_check = Samples::new(less_check);
    let (direct, tool, diff) = (Samples::new(direct), Samples::new(tool), Samples::new(diff));
    eprintln!(
        "bench:     direct median {:.3} ms, tools/call median {:.3} ms, {failures} failed",
        direct.median(),
        tool.median()
    );
    let mut p50 = Row::lower(
        "`tools/call` overhead over a direct request, p50 (`control_light dim`, daemon)",
        &diff,
        "ms",
        2,
        Some(0.3),
    );
    p50.median = format!("{} ms", num(diff.median(), 2));
    let mut p99 = Row::lower("… p99", &diff, "ms", 2, Some(2.0));
    p99.median = format!("{} ms", num(diff.pct(0.99), 2));
    p99.verdict = if diff.len() == 0 {
        stats::Verdict::None
    } else if diff.pct(0.99) <= 2.0 {
        stats::Verdict::Within
    } else {
        stats::Verdict::Over
    };
    let d = Row::lower(
        "… the direct request alone (Loxone client, encrypted HTTP command)",
        &direct,
        "ms",
        2,
        None,
    );
    let t = Row::lower("… the whole `tools/call`", &tool, "ms", 2, None);
    let mut l = Row::lower(
        "… overhead less the one structure-version request the link makes before every command (SC-8), p50 (p99 in spread)",
        &less_check,
        "ms",
        2,
        None,
    );
    l.spread = format!("p99 {}", num(less_check.pct(0.99), 2));
    vec![p50, p99, d, t, l]
}

/// What the audit log pays per record on this disk: one append of an audit-sized line and
/// `fdatasync`, as `AuditLog::write` does (an actuation writes two records).
pub fn fdatasync(dir: &Path, plan: &Plan) -> Row {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("fdatasync.probe");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .expect("probe file");
    let line = [b'x'; 400];
    let v: Vec<f64> = (0..plan.pairs.max(100))
        .map(|_| {
            let t = Instant::now();
            f.write_all(&line).expect("write");
            f.sync_data().expect("fdatasync");
            ms(t.elapsed())
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    let s = Samples::new(v);
    let mut r = Row::lower(
        "… for comparison: one audit record's append + `fdatasync` on this disk, p50 (p99 in spread)",
        &s,
        "ms",
        2,
        None,
    );
    r.spread = format!("p99 {}, max {}", num(s.pct(0.99), 2), num(s.max(), 2));
    r
}

/// `list_devices` of the whole house (its first page of 100, the answer a client gets when it
/// asks for everything), and of one room (what a client asks when it follows the instructions:
/// rooms first).
pub fn list_devices(site: &Site, daemon: &Daemon, plan: &Plan) -> Vec<Row> {
    eprintln!("bench:   list_devices");
    let _ = daemon;
    let mut mcp = Mcp::connect(&site.socket());
    let room = site
        .sim
        .structure()
        .rooms
        .values()
        .next()
        .map(|r| r.name.clone())
        .expect("a room");
    let mut rows = Vec::new();
    for (args, budget) in [(json!({}), Some(10.0)), (json!({ "room": room }), None)] {
        let mut v = Vec::new();
        let (mut bytes, mut count, mut total) = (0, 0, 0);
        for _ in 0..plan.repeats {
            let t = Instant::now();
            let (r, err) = mcp.call("list_devices", args.clone());
            let took = ms(t.elapsed());
            assert!(!err, "list_devices failed: {r}");
            bytes = r.to_string().len();
            count = r["result"]["structuredContent"]["count"]
                .as_u64()
                .unwrap_or(0);
            total = r["result"]["structuredContent"]["total"]
                .as_u64()
                .unwrap_or(0);
            v.push(took);
        }
        let what = if budget.is_some() {
            format!("`list_devices`, {} controls, first page", plan.big)
        } else {
            "… one room of it".to_owned()
        };
        rows.push(Row::lower(
            &format!(
                "{what} ({count} of {total} devices listed, answer {:.2} MB)",
                bytes as f64 / 1e6
            ),
            &Samples::new(v),
            "ms",
            1,
            budget,
        ));
    }
    rows
}
