//! The tour's steps for the Loxone app channel (issue 21): a session without elicitation, the
//! question in the app's text input, and a call that waits for the person there: an unlock that
//! goes out only after a press in the app, and one the person declines there.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Demo, Tour};
use crate::loxone::state::StateValue;

/// What the simulated person does in the app while the call waits.
#[derive(Clone, Copy)]
enum Person {
    Presses,
    ClearsTheQuestion,
}

impl Tour<'_> {
    /// Issue 21: a client that cannot ask (no elicitation, like Claude Desktop); the person
    /// approves in the Loxone app while the call waits.
    pub(super) fn in_the_app(&mut self) {
        let unlock = json!({"device": "Hall/Door opener", "action": "unlock"});
        self.heading(
            "A client that cannot ask the person (no elicitation): the question goes to the Loxone app, and the call waits for the press",
        );
        // The door opener keeps 2 s between commands; ring again so the visitor is recent.
        std::thread::sleep(Duration::from_millis(2_100));
        self.demo.sim.ring_bell();
        std::thread::sleep(Duration::from_millis(300));
        crate::say!("   (the simulated doorbell rang again)");
        let mark = self.demo.sim.log_mark();
        let (r, seen) = self.while_the_person(Person::Presses, "control_access", unlock.clone());
        crate::say!("   meanwhile the Loxone app showed in 'AI/AI request': \"{seen}\"");
        crate::say!("   and the person pressed 'AI/Approve AI request' there during the call");
        self.result(&r);
        self.received(mark);
        self.expect(
            r["structuredContent"]["done"] == true
                && r["structuredContent"]["consent"]["outcome"] == "app_approved",
            "the unlock approved in the app is sent, in the same call",
        );

        self.heading("The same unlock again; this time the person clears the question in the app");
        std::thread::sleep(Duration::from_millis(2_100));
        let mark = self.demo.sim.log_mark();
        let (r, _) = self.while_the_person(Person::ClearsTheQuestion, "control_access", unlock);
        crate::say!("   (the person cleared the question in the Loxone app during the call)");
        self.result(&r);
        self.received(mark);
        self.expect(
            r["structuredContent"]["done"] == false
                && r["structuredContent"]["consent"]["outcome"] == "app_declined",
            "declined in the app, nothing sent",
        );
    }

    /// Calls `tool` from the session without elicitation while the simulated person acts in
    /// the app as soon as the question is shown; returns the result and the question seen.
    fn while_the_person(&mut self, person: Person, tool: &str, args: Value) -> (Value, String) {
        let demo = self.demo;
        let seen = Mutex::new(String::new());
        let r = std::thread::scope(|s| {
            s.spawn(|| {
                if let Some(t) = act_in_app(demo, person) {
                    *seen.lock().unwrap_or_else(|e| e.into_inner()) = t;
                }
            });
            self.app_call(tool, args)
        });
        (r, seen.into_inner().unwrap_or_else(|e| e.into_inner()))
    }

    fn app_call(&mut self, tool: &str, args: Value) -> Value {
        crate::say!("   → {tool} {args}   (from the session without elicitation)");
        match self.app_client.call(tool, args) {
            Ok(r) => r,
            Err(e) => {
                crate::say!("   ✗ {e}");
                self.failures.push(format!("{tool}: {e}"));
                Value::Null
            }
        }
    }
}

/// Waits (up to 10 s) for a question in the app's text input, then acts "as a person in the
/// app" a moment later. Returns the question it saw.
fn act_in_app(demo: &Demo, person: Person) -> Option<String> {
    let sim = &demo.sim;
    let question = sim.control_named("AI request")?;
    let mut text = None;
    for _ in 0..200 {
        if let Some(StateValue::Text(t)) = sim.control_state(&question, "text")
            && t.contains("Asked by")
        {
            text = Some(t);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = text?;
    std::thread::sleep(Duration::from_millis(800));
    match person {
        Person::Presses => {
            let approve = sim.control_named("Approve AI request")?;
            sim.press_in_app(&approve);
        }
        Person::ClearsTheQuestion => {
            sim.type_in_app(&question, "");
        }
    }
    Some(text)
}
