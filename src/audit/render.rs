//! `loxwarden audit`: the log as a person reads it, one line per record, every field escaped
//! (a tool name the AI chose must not forge a line or move the terminal's cursor), and
//! `--follow` that waits for whole lines.

use super::*;

/// Whether `c` is a Unicode format character (category Cf: bidi overrides and isolates,
/// zero-width characters, the byte-order mark, invisible operators, tags). They change how a
/// line looks on a terminal without being visible, so a record could forge another.
pub(super) fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{0600}'..='\u{0605}' | '\u{061c}' | '\u{06dd}' | '\u{070f}'
        | '\u{0890}'..='\u{0891}' | '\u{08e2}' | '\u{180e}' | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}'
        | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{110bd}' | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0001}' | '\u{e0020}'..='\u{e007f}')
}

/// A field of a record as a terminal may show it: control and format characters (newlines,
/// escapes, bidi overrides) and the backslash become visible `\u{…}` / `\\` escapes, so no
/// field can start a line of its own, move the cursor or reorder what follows it.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if c.is_control() || is_format(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// How a decision's verdict reads: what it is, never "allowed" for what was not allowed.
pub(super) fn verdict_text(verdict: &str) -> String {
    match verdict {
        "allow" => "-> allowed".into(),
        "refuse" => "-> REFUSED".into(),
        "pending" => "-> PENDING (a person was asked; nothing sent)".into(),
        "rejected" => "-> REJECTED (malformed call; nothing sent)".into(),
        "read" => "-> read (nothing sent)".into(),
        other => format!("-> {} (unknown verdict; nothing assumed)", escape(other)),
    }
}

/// Renders one record as a line for people. Every field is [`escape`]d.
pub fn render(r: &Record) -> String {
    let e = escape;
    match r {
        Record::Decided(d) => {
            let mut s = format!("{} {} session {}", e(&d.time), e(&d.audit_id), d.session);
            if !d.client.is_empty() || d.peer_uid.is_some() {
                s.push_str(" (");
                s.push_str(&e(&d.client));
                if let Some(uid) = d.peer_uid {
                    if !d.client.is_empty() {
                        s.push_str(", ");
                    }
                    s.push_str(&format!("uid {uid}"));
                }
                s.push(')');
            }
            s.push(' ');
            s.push_str(&e(&d.tool));
            if let Some(dev) = &d.device {
                s.push_str(&format!(" {} ({})", e(&dev.name), e(&dev.id)));
            }
            if let Some(a) = d
                .intent
                .get("action")
                .and_then(|a| a.as_str())
                .filter(|a| !a.is_empty())
            {
                s.push(' ');
                s.push_str(&e(a));
            }
            s.push(' ');
            s.push_str(&verdict_text(&d.verdict));
            if let Some(rule) = &d.rule {
                s.push_str(&format!(" {}", e(rule)));
            }
            if let Some(reason) = &d.reason {
                s.push_str(&format!(": {}", e(reason)));
            }
            if let Some(c) = &d.consent {
                s.push_str(&format!(" [consent {}: {}]", e(&c.rule), e(&c.outcome)));
            }
            if !d.plan.is_empty() {
                let plan: Vec<String> = d.plan.iter().map(|p| e(p)).collect();
                s.push_str(&format!(" sends {}", plan.join(", ")));
            }
            s
        }
        Record::Outcome(o) => {
            let mut s = format!(
                "{} {} outcome {} in {} ms",
                e(&o.time),
                e(&o.audit_id),
                if o.ok {
                    "ok"
                } else if o.interrupted {
                    "NOT KNOWN (interrupted)"
                } else {
                    "FAILED"
                },
                o.latency_ms
            );
            // Never a colon with nothing after it.
            if o.results.is_empty() && o.read_back.is_empty() {
                s.push_str(": no command was sent");
            } else {
                s.push(':');
            }
            for r in &o.results {
                s.push_str(&format!(" {}", e(&r.command)));
                match (&r.code, &r.error) {
                    (Some(c), _) => s.push_str(&format!(" -> {c}")),
                    (None, Some(err)) => s.push_str(&format!(" -> error: {}", e(err))),
                    (None, None) => s.push_str(" -> no answer"),
                }
                if let Some(v) = &r.value {
                    s.push_str(&format!(" \"{}\"", e(v)));
                }
                s.push(';');
            }
            for b in &o.read_back {
                s.push_str(&format!(
                    " read back {}.{} = {} ({} ms old);",
                    e(&b.device),
                    e(&b.state),
                    e(&b.value.to_string()),
                    b.age_ms
                ));
            }
            s
        }
    }
}

/// Reads a log from an offset onwards, printing readable lines.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    offset: u64,
    since_ms: Option<u64>,
    partial: String,
}

impl Follower {
    pub fn new(path: &Path, since_ms: Option<u64>) -> Follower {
        Follower {
            path: path.to_owned(),
            offset: 0,
            since_ms,
            partial: String::new(),
        }
    }

    /// Prints every complete record added since the last call; returns how many lines it printed.
    /// A log that shrank (rotated or truncated) is read again from the start.
    pub fn poll(&mut self, out: &mut dyn Write) -> io::Result<usize> {
        let mut f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let len = f.metadata()?.len();
        if len < self.offset {
            self.offset = 0;
            self.partial.clear();
        }
        f.seek(SeekFrom::Start(self.offset))?;
        let mut reader = BufReader::new(f.take(len - self.offset));
        let mut printed = 0;
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line)?;
            if n == 0 {
                break;
            }
            self.offset += n as u64;
            if !line.ends_with('\n') {
                self.partial.push_str(&line);
                continue;
            }
            let full = std::mem::take(&mut self.partial) + line.trim_end();
            if full.is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(&full) {
                Ok(r) => {
                    let keep = self
                        .since_ms
                        .is_none_or(|s| record_ms(r.time()).is_none_or(|t| t >= s));
                    if keep {
                        writeln!(out, "{}", render(&r))?;
                        printed += 1;
                    }
                }
                Err(_) => {
                    let shown: String = full.chars().take(200).collect();
                    writeln!(out, "(unreadable record) {}", escape(&shown))?;
                    printed += 1;
                }
            }
        }
        Ok(printed)
    }
}

/// `loxwarden audit [--follow] [--since TIME]`: prints the log; with `follow`, keeps printing
/// new records until the process is stopped.
pub fn follow(
    path: &Path,
    follow: bool,
    since: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), String> {
    let since_ms = since
        .map(|s| parse_since(s, SystemTime::now()))
        .transpose()?;
    if !follow {
        // Say which: a missing log and one this user may not read need different fixes.
        match std::fs::File::open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("no audit log at {}", path.display()));
            }
            Err(e) => return Err(format!("cannot read the audit log {}: {e}", path.display())),
        }
    }
    let mut f = Follower::new(path, since_ms);
    loop {
        f.poll(out)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        out.flush().map_err(|e| e.to_string())?;
        if !follow {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
