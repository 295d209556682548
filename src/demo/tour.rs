//! `loxwarden demo --tour`: a scripted walk through a real MCP session, printed for a person.
//!
//! The session is the real engine over pipes; the "AI" is this script and the "person" who
//! answers consent questions is scripted too (declines once, then accepts). After each step the
//! tour shows what the simulated Miniserver actually received, from its own command log, so a
//! refusal is seen to send nothing. A second session, without elicitation, shows the Loxone app
//! channel: the question appears in the app's text input, the call waits, and the unlock goes
//! out only after a simulated press in the app during the call (and not when the person clears
//! the question there instead).

// The tour is a CLI answer for a person, not MCP mode: stdout is free here.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

use super::Demo;
use super::client::{Answer, Client};
use crate::error::{Error, Result};
use crate::mcp::{Peer, Server, ServerConfig};

#[path = "tour_app.rs"]
mod app;

struct Tour<'a> {
    demo: &'a Demo,
    client: Client,
    /// A second session that declares no elicitation: its consent goes to the Loxone app.
    app_client: Client,
    step: usize,
    failures: Vec<String>,
}

pub fn run(demo: &Demo, engine: ServerConfig) -> Result<ExitCode> {
    let server = Server::new(demo.gateway.host(), engine)
        .map_err(|e| Error::Failed(format!("cannot start the MCP engine: {e}")))?;
    let client = Client::start(&server, Peer::default())
        .map_err(|e| Error::io("starting the tour's MCP session", e))?;
    let mut app_client = Client::start(&server, Peer::default())
        .map_err(|e| Error::io("starting the tour's second MCP session", e))?;
    app_client
        .initialize("tour-without-elicitation", json!({}))
        .map_err(Error::Failed)?;
    let mut t = Tour {
        demo,
        client,
        app_client,
        step: 0,
        failures: Vec::new(),
    };
    let init = t
        .client
        .initialize("loxwarden-tour", json!({"elicitation": {"form": {}}}))
        .map_err(Error::Failed)?;
    crate::say!("loxwarden demo --tour");
    crate::say!(
        "A real MCP session (protocol {}, server {} {}) with the gateway in this process. The",
        init["protocolVersion"].as_str().unwrap_or("?"),
        init["serverInfo"]["name"].as_str().unwrap_or("?"),
        init["serverInfo"]["version"].as_str().unwrap_or("?"),
    );
    crate::say!(
        "house is the simulator's demo house at {}. The person answering consent questions",
        demo.sim.url()
    );
    crate::say!("is scripted. Audit log: {}", demo.audit_log().display());
    t.script();
    let records = std::fs::read_to_string(demo.audit_log())
        .map(|s| s.lines().count())
        .unwrap_or(0);
    crate::say!();
    crate::say!(
        "The audit log holds {records} records (a decision and an outcome for every call); \
         `loxwarden audit` prints such a log readably."
    );
    t.client.close();
    t.app_client.close();
    if t.failures.is_empty() {
        crate::say!("Tour complete.");
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Failed(format!(
            "the tour did not go as scripted: {}",
            t.failures.join("; ")
        )))
    }
}

impl Tour<'_> {
    fn script(&mut self) {
        self.heading("Is the gateway connected? (read)");
        let r = self.call("get_system_status", json!({}));
        let s = &r["structuredContent"];
        crate::say!(
            "   link {} · Miniserver '{}' ({}, firmware {}) · posture {} · emergency stop {}",
            s["link"]["state"].as_str().unwrap_or("?"),
            s["miniserver"]["name"].as_str().unwrap_or("?"),
            s["miniserver"]["model"].as_str().unwrap_or("?"),
            s["miniserver"]["firmware"].as_str().unwrap_or("?"),
            s["posture"]["name"].as_str().unwrap_or("?"),
            if s["emergency_stop"]["latched"] == json!(true) {
                "LATCHED"
            } else {
                "not latched"
            },
        );
        self.expect(s["link"]["state"] == "live", "the link is live");

        self.heading("What is in the house? (read)");
        let r = self.call("list_rooms", json!({}));
        crate::say!("   {}", text(&r));

        self.heading("The kitchen, with live state and what is possible now (read)");
        let r = self.call("list_devices", json!({"room": "Kitchen"}));
        for d in r["structuredContent"]["devices"]
            .as_array()
            .into_iter()
            .flatten()
        {
            crate::say!("   {}", device_line(d));
        }

        self.heading("Switch on the hall light (control)");
        let mark = self.demo.sim.log_mark();
        let r = self.call(
            "control_light",
            json!({"device": "Hall Light", "action": "on"}),
        );
        self.result(&r);
        self.received(mark);
        self.expect(
            r["structuredContent"]["done"] == true,
            "the hall light is on",
        );

        self.heading("Heat the living room to 35 °C (refused before the network)");
        let mark = self.demo.sim.log_mark();
        let r = self.call(
            "set_temperature",
            json!({"device": "Living Room", "target": 35, "unit": "C"}),
        );
        self.result(&r);
        self.received(mark);
        self.expect(r["isError"] == true, "35 °C is refused");

        self.heading("Switch on the 'Garden socket' (an unclassified switch: read-only)");
        let mark = self.demo.sim.log_mark();
        let r = self.call(
            "control_light",
            json!({"device": "Garden socket", "action": "on"}),
        );
        self.result(&r);
        self.received(mark);
        self.expect(r["isError"] == true, "the garden socket is refused");

        self.heading("Lower a living-room blind (it takes time: pending)");
        let mark = self.demo.sim.log_mark();
        let r = self.call(
            "control_blind",
            json!({"device": "Living Room Blind West", "action": "down"}),
        );
        self.result(&r);
        self.received(mark);

        self.heading("Someone rings at the front door; the AI wants to let them in");
        // Bell events count as rings only 5 s after the link came up (older values arrive at
        // connect); wait for that, then ring the simulated doorbell.
        let link = self.demo.gateway.link();
        while link.now().since(link.health().since) < Duration::from_millis(5_500) {
            std::thread::sleep(Duration::from_millis(100));
        }
        self.demo.sim.ring_bell();
        std::thread::sleep(Duration::from_millis(300));
        crate::say!("   (the simulated doorbell rang)");
        self.client.answer_next(Answer::Decline);
        let mark = self.demo.sim.log_mark();
        let r = self.call(
            "control_access",
            json!({"device": "Hall/Door opener", "action": "unlock"}),
        );
        self.question();
        crate::say!("   the person: declines");
        self.result(&r);
        self.received(mark);
        self.expect(
            r["structuredContent"]["done"] == false && r["isError"] == false,
            "a declined unlock sends nothing",
        );

        self.heading("The AI asks again; this time the person agrees");
        self.client.answer_next(Answer::Accept);
        let mark = self.demo.sim.log_mark();
        let r = self.call(
            "control_access",
            json!({"device": "Hall/Door opener", "action": "unlock"}),
        );
        self.question();
        crate::say!("   the person: accepts");
        self.result(&r);
        self.received(mark);
        self.expect(
            r["structuredContent"]["done"] == true,
            "the consented unlock is sent",
        );

        self.in_the_app();

        self.heading(
            "Emergency stop: every blind, window, gate and irrigation stops, every zone pauses, \
             the sauna goes off",
        );
        let mark = self.demo.sim.log_mark();
        let r = self.call("emergency_stop", json!({"reason": "demo tour"}));
        crate::say!("   {}", text(&r));
        let commands: Vec<&Value> = r["structuredContent"]["commands"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let width = commands
            .iter()
            .map(|c| c["device"].as_str().unwrap_or("?").chars().count())
            .max()
            .unwrap_or(0);
        for c in commands {
            crate::say!(
                "     {:<width$} {:<6} → {}",
                c["device"].as_str().unwrap_or("?"),
                c["command"]
                    .as_str()
                    .and_then(|p| p.rsplit('/').next())
                    .unwrap_or("?"),
                match c["code"].as_u64() {
                    Some(code) => format!("LL {code}"),
                    None => c["error"].as_str().unwrap_or("no answer").to_owned(),
                }
            );
        }
        self.received(mark);
        self.expect(
            r["structuredContent"]["done"] == true,
            "every device stopped",
        );

        self.heading("After the stop, nothing else moves until a person runs `loxwarden resume`");
        let mark = self.demo.sim.log_mark();
        let r = self.call(
            "control_light",
            json!({"device": "Hall Light", "action": "off"}),
        );
        self.result(&r);
        self.received(mark);
        self.expect(r["isError"] == true, "commands are refused while latched");
    }

    fn heading(&mut self, what: &str) {
        self.step += 1;
        crate::say!();
        crate::say!("{}. {what}", self.step);
    }

    fn call(&mut self, tool: &str, args: Value) -> Value {
        crate::say!("   → {tool} {args}");
        match self.client.call(tool, args) {
            Ok(r) => r,
            Err(e) => {
                crate::say!("   ✗ {e}");
                self.failures.push(format!("{tool}: {e}"));
                Value::Null
            }
        }
    }

    fn result(&self, r: &Value) {
        let s = &r["structuredContent"];
        let mark = if r["isError"] == true { "✗" } else { "✓" };
        crate::say!("   {mark} {}", text(r));
        for c in s["commands"].as_array().into_iter().flatten() {
            if let Some(code) = c["code"].as_u64() {
                crate::say!(
                    "     Miniserver: LL {code}, value {:?}",
                    c["value"].as_str().unwrap_or("")
                );
            }
        }
        if let Some(a) = s["audit_id"].as_str() {
            crate::say!("     audit id {a}");
        }
    }

    fn question(&self) {
        if let Some(q) = self.client.asked.last() {
            crate::say!(
                "   the gateway asks the person: \"{}\"",
                q["message"].as_str().unwrap_or("?")
            );
        }
    }

    /// What the simulated Miniserver received since `mark` (device commands only).
    fn received(&self, mark: u64) {
        let got: Vec<String> = self
            .demo
            .sim
            .commands_since(mark)
            .into_iter()
            .filter(|e| e.device)
            .map(|e| format!("{} → {}", e.command, e.code))
            .collect();
        if got.is_empty() {
            crate::say!("     the Miniserver received: nothing");
        } else {
            for g in got {
                crate::say!("     the Miniserver received: {g}");
            }
        }
    }

    fn expect(&mut self, ok: bool, what: &str) {
        if !ok {
            crate::say!("   ✗ expected: {what}");
            self.failures.push(what.to_owned());
        }
    }
}

fn text(r: &Value) -> String {
    r["content"][0]["text"]
        .as_str()
        .or_else(|| r["message"].as_str())
        .unwrap_or("(no text)")
        .to_owned()
}

/// The states a person looks at first, in this order; the tour shows these before any other.
const FIRST_STATES: &[&str] = &[
    "active",
    "position",
    "value",
    "tempActual",
    "tempTarget",
    "armed",
    "level",
    "volume",
    "playState",
    "activeMoods",
];

fn device_line(d: &Value) -> String {
    let mut numeric: Vec<(&String, &Value)> = d["state"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v["value"].is_number())
        .collect();
    numeric.sort_by_key(|(k, _)| {
        FIRST_STATES
            .iter()
            .position(|f| f == k)
            .unwrap_or(FIRST_STATES.len())
    });
    let states: Vec<String> = numeric
        .into_iter()
        .take(3)
        .map(|(k, v)| format!("{k}={} ({} s old)", v["value"], v["age_s"]))
        .collect();
    // In words where the gateway has them (`30 % closed`, `19.5 °C, target 21.0 °C`).
    let states = match d["summary"].as_str() {
        Some(words) => vec![words.to_owned()],
        None => states,
    };
    let actions: Vec<String> = d["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let sign = match a["now"].as_str() {
                Some("allowed") => "ok",
                Some("needs_consent") => "consent",
                _ => a["rule"].as_str().unwrap_or("refused"),
            };
            format!("{} {sign}", a["action"].as_str().unwrap_or("?"))
        })
        .collect();
    format!(
        "{} ({}, {}): {}{}",
        d["name"].as_str().unwrap_or("?"),
        d["kind"].as_str().unwrap_or("?"),
        d["type"].as_str().unwrap_or("?"),
        if states.is_empty() {
            "no state yet".to_owned()
        } else {
            states.join(", ")
        },
        match (&d["read_only"], actions.is_empty()) {
            (Value::String(why), _) => format!(" — read-only: {why}"),
            (_, true) => String::new(),
            (_, false) => format!(" — {}", actions.join(", ")),
        }
    )
}
