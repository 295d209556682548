//! The tour's steps for the Loxone app channel (issue 21): a session without elicitation, the
//! question in the app's text input, and an unlock that goes out only after a press there.

use std::time::Duration;

use serde_json::{Value, json};

use super::Tour;
use crate::loxone::state::StateValue;

impl Tour<'_> {
    /// Issue 21: a client that cannot ask (no elicitation, like Claude Desktop); the person
    /// approves in the Loxone app.
    pub(super) fn in_the_app(&mut self) {
        let unlock = json!({"device": "Hall/Door opener", "action": "unlock"});
        self.heading(
            "A client that cannot ask the person (no elicitation): the question goes to the Loxone app",
        );
        // The door opener keeps 2 s between commands; ring again so the visitor is recent.
        std::thread::sleep(Duration::from_millis(2_100));
        self.demo.sim.ring_bell();
        std::thread::sleep(Duration::from_millis(300));
        crate::say!("   (the simulated doorbell rang again)");
        let mark = self.demo.sim.log_mark();
        let r = self.app_call("control_access", unlock.clone());
        self.result(&r);
        let question = self.demo.sim.control_named("AI request");
        if let Some(Some(StateValue::Text(t))) = question
            .as_ref()
            .map(|q| self.demo.sim.control_state(q, "text"))
        {
            crate::say!("   the Loxone app shows in 'AI/AI request': \"{t}\"");
        }
        self.received(mark);
        self.expect(
            r["structuredContent"]["consent"]["outcome"] == "app_pending",
            "the question is shown in the app and nothing reaches the door",
        );

        self.heading("The AI repeats the call before anyone pressed: still nothing");
        let mark = self.demo.sim.log_mark();
        let r = self.app_call("control_access", unlock.clone());
        self.result(&r);
        self.received(mark);
        self.expect(
            r["structuredContent"]["done"] == false,
            "no press, nothing sent",
        );

        self.heading(
            "The person presses 'Approve AI request' in the Loxone app; the AI repeats the call",
        );
        let pressed = self.press_in_app();
        crate::say!("   (the simulated app pressed the button; the gateway saw it: {pressed})");
        let mark = self.demo.sim.log_mark();
        let r = self.app_call("control_access", unlock);
        self.result(&r);
        self.received(mark);
        self.expect(
            r["structuredContent"]["done"] == true,
            "the unlock approved in the app is sent",
        );
    }

    /// Presses the approval button "as a person in the app" and waits until the gateway has seen
    /// the press.
    fn press_in_app(&self) -> bool {
        let sim = &self.demo.sim;
        let Some(addr) = sim.control_named("Approve AI request") else {
            return false;
        };
        let Some(u) = sim
            .structure()
            .control(&addr)
            .and_then(|c| c.state("active"))
        else {
            return false;
        };
        let states = self.demo.gateway.link().states();
        let before = states.last_rise(&u);
        if !sim.press_in_app(&addr) {
            return false;
        }
        for _ in 0..100 {
            let now = states.last_rise(&u);
            if now.is_some() && now != before {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
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
