//! The manual page the package installs (`man loxwarden`), made from the `--help` texts.
//!
//! Why from the help texts: a second, hand-written description of the commands would drift
//! from the one the binary prints. The page is committed (`systemd/loxwarden.1`, a package
//! asset that cargo-deb compresses), and the test below fails when it no longer matches the
//! help texts; `LOXWARDEN_BLESS=1 cargo test --lib manpage` rewrites it. Test-only code: the
//! binary carries no renderer.

use crate::cli::{COMMANDS, HELP, help_text};

const PAGE: &str = "systemd/loxwarden.1";

/// One help text as troff lines in no-fill mode (the layout is the help's own).
fn preformatted(out: &mut String, text: &str) {
    out.push_str(".nf\n");
    for line in text.trim_end().lines() {
        out.push_str(&escape(line));
        out.push('\n');
    }
    out.push_str(".fi\n");
}

/// troff escapes: `\` prints as `\e`, `-` as a minus (`\-`, so options can be copied), and a
/// line that starts with `.` or `'` is text, not a request.
fn escape(line: &str) -> String {
    let mut s = line.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with(['.', '\'']) {
        s.insert_str(0, "\\&");
    }
    s
}

/// The help text without its first line ("loxwarden X - what it is") and the blank after it.
fn body(text: &str) -> (&str, &str) {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    (first, rest.trim_start_matches('\n'))
}

fn render() -> String {
    let (first, rest) = body(HELP);
    let summary = first.trim_start_matches("loxwarden - ");
    let mut out = format!(
        ".\\\" Made from the --help texts by src/cli/manpage.rs; do not edit by hand.\n\
         .TH LOXWARDEN 1 \"\" \"loxwarden {}\" \"User Commands\"\n\
         .SH NAME\nloxwarden \\- {}\n.SH DESCRIPTION\n",
        env!("CARGO_PKG_VERSION"),
        escape(summary)
    );
    preformatted(&mut out, rest);
    out.push_str(".SH COMMANDS\n");
    for cmd in COMMANDS {
        let (first, rest) = body(help_text(Some(cmd)).expect("every command has help"));
        out.push_str(&format!(".SS \"{}\"\n", escape(first)));
        preformatted(&mut out, rest);
    }
    out.push_str(
        ".SH SEE ALSO\n\
         /usr/share/doc/loxwarden/README.md, /usr/share/doc/loxwarden/install.md \
         (installation, SSH, the emergency stop, the audit log)\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packaged_manual_page_is_made_from_the_help_texts_as_they_are() {
        let path = format!("{}/{PAGE}", env!("CARGO_MANIFEST_DIR"));
        let page = render();
        if std::env::var_os("LOXWARDEN_BLESS").is_some() {
            std::fs::write(&path, &page).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == page,
            "{PAGE} does not match the --help texts; run \
             `LOXWARDEN_BLESS=1 cargo test --lib manpage` and commit it"
        );
    }

    #[test]
    fn the_manual_page_has_every_command_the_help_lists() {
        let listed: Vec<&str> = HELP
            .split_once("COMMANDS:\n")
            .unwrap()
            .1
            .lines()
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_whitespace().next())
            .filter(|c| *c != "help")
            .collect();
        assert_eq!(listed, COMMANDS);
        let page = render();
        for cmd in COMMANDS {
            assert!(
                page.contains(&format!(".SS \"loxwarden {}", escape(cmd))),
                "{cmd}"
            );
        }
    }

    #[test]
    fn text_that_troff_would_read_as_a_request_or_an_escape_is_escaped() {
        assert_eq!(escape(".config"), "\\&.config");
        assert_eq!(escape("'quoted'"), "\\&'quoted'");
        assert_eq!(escape("a\\b --help"), "a\\eb \\-\\-help");
    }
}
