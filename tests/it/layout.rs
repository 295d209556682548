//! The layout rule (issue 19, "Layout"): a reader sees the pipeline in the folder names, and no
//! module keeps more than about 400 lines of code besides its tests. A rule that only a review
//! remembers erodes one convenient addition at a time, so it is a test.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What may stand loose in `src/`: the thin shell around the stages.
const LOOSE: &[&str] = &["error.rs", "lib.rs", "logger.rs", "main.rs", "run.rs"];
/// The pipeline's stages, in the order a command passes them, each a folder.
const STAGES: &[&str] = &[
    "mcp", "tools", "intent", "house", "safety", "consent", "lane", "loxone", "audit", "dispatch",
];
/// "About 400 lines": the bound with a little room for a doc comment more.
const MAX_CODE_LINES: usize = 420;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src is readable") {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Files that are compiled only for tests: `#[cfg(test)]` on the `mod x;` that declares them.
fn test_only(files: &[PathBuf]) -> HashSet<PathBuf> {
    let mut only = HashSet::new();
    for f in files {
        let text = std::fs::read_to_string(f).expect("a source file");
        let dir = match f.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs" | "main.rs") => f.parent().unwrap().to_path_buf(),
            _ => f.with_extension(""),
        };
        let lines: Vec<&str> = text.lines().collect();
        for w in lines.windows(2) {
            if w[0].trim() != "#[cfg(test)]" {
                continue;
            }
            let decl = w[1]
                .trim()
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ");
            if let Some(name) = decl.strip_prefix("mod ").and_then(|d| d.strip_suffix(';')) {
                only.insert(dir.join(format!("{name}.rs")));
                only.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    only
}

/// Lines before the file's inline test module (`#[cfg(test)]` then `mod tests {`).
fn code_lines(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .position(|w| w[0] == "#[cfg(test)]" && w[1].starts_with("mod tests"))
        .unwrap_or(lines.len())
}

#[test]
fn the_pipeline_stages_are_folders_and_only_the_shell_stands_loose_in_src() {
    for stage in STAGES {
        assert!(
            src().join(stage).join("mod.rs").is_file(),
            "the stage {stage} is not a folder with a mod.rs"
        );
    }
    let mut loose: Vec<String> = std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| !LOOSE.contains(&n.as_str()))
        .collect();
    loose.sort();
    assert!(
        loose.is_empty(),
        "files loose in src/ that belong in a stage's folder: {loose:?}"
    );
}

#[test]
fn no_module_keeps_more_than_about_400_lines_of_code_besides_its_tests() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let only = test_only(&files);
    // A test-only module's own submodules are test-only too.
    let under_test_only = |f: &Path| {
        only.iter()
            .any(|t| t.ends_with("mod.rs") && f.starts_with(t.parent().unwrap()))
    };
    let mut big: Vec<String> = files
        .iter()
        .filter(|f| !only.contains(*f) && !under_test_only(f))
        .filter_map(|f| {
            let n = code_lines(&std::fs::read_to_string(f).unwrap());
            (n > MAX_CODE_LINES)
                .then(|| format!("{} ({n})", f.strip_prefix(src()).unwrap().display()))
        })
        .collect();
    big.sort();
    assert!(
        big.is_empty(),
        "modules over {MAX_CODE_LINES} lines of non-test code (split them by job): {big:?}"
    );
    // The rule sees the test-only files it exempts (a parse that found none would exempt
    // nothing and still pass on a small tree).
    assert!(
        only.contains(&src().join("safety/guard/tests.rs")),
        "{only:?}"
    );
}
