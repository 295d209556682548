//! The stripped release binaries, x86_64 and (when the cross tools are there) aarch64.
//!
//! Why apart: it builds, it does not run anything; `--no-cross` skips the second build.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::Plan;
use crate::stats::{Row, Samples};

/// Stripped release binaries (the release profile strips).
pub fn sizes(bin: &Path, plan: &Plan) -> Vec<Row> {
    let mut rows = Vec::new();
    let size = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len() as f64 / 1_048_576.0)
            .ok()
    };
    let one = |figure: &str, mb: f64, budget: Option<f64>| {
        let mut r = Row::lower(figure, &Samples::new(vec![mb]), "MiB", 2, budget);
        r.spread = "—".into();
        r
    };
    match size(bin) {
        Some(mb) if !cfg!(debug_assertions) => {
            rows.push(one("stripped binary, x86_64", mb, None));
        }
        _ => rows.push(Row::missing(
            "stripped binary, x86_64",
            "—",
            "not a release build",
        )),
    }
    let target = "aarch64-unknown-linux-gnu";
    let figure = "stripped binary, aarch64";
    let budget = "≤ 3.00 MiB";
    if !plan.cross {
        rows.push(Row::missing(figure, budget, "not built: --no-cross"));
        return rows;
    }
    if cfg!(debug_assertions) {
        rows.push(Row::missing(figure, budget, "not built: debug run"));
        return rows;
    }
    let has_linker = Command::new("aarch64-linux-gnu-gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let has_std = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == target)
        });
    if !has_linker || !has_std {
        let why = if has_linker {
            "not built: the Rust std for aarch64 is missing (cross/setup installs it)"
        } else {
            "not built: no aarch64-linux-gnu-gcc (cross/setup installs it)"
        };
        rows.push(Row::missing(figure, budget, why));
        return rows;
    }
    eprintln!("bench:   building {target} (cross/config.toml)");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(cargo)
        .current_dir(manifest)
        .args([
            "--config",
            "cross/config.toml",
            "build",
            "--release",
            "--locked",
        ])
        .args(["--target", target, "--bin", "loxwarden"])
        .status()
        .is_ok_and(|s| s.success());
    // target/release/loxwarden → target/{triple}/release/loxwarden
    let built = bin
        .parent()
        .and_then(Path::parent)
        .map(|t| t.join(target).join("release").join("loxwarden"));
    match built.as_deref().and_then(size) {
        Some(mb) if ok => rows.push(one(figure, mb, Some(3.0))),
        _ => rows.push(Row::missing(
            figure,
            budget,
            "not built: the cross build failed",
        )),
    }
    rows
}
