//! Consent in the Loxone app (issue 21): for a client that cannot ask (no elicitation), or for
//! every client when the site requires it, the question is written to the virtual text input and
//! a plan goes out only when a person pressed the approval push button in the app after the
//! question was shown and before it expired, and the same session repeats the same call. Every
//! test judges by the simulator's command log: nothing reaches a device unless a valid press
//! arrived. (Writing the question to the text input is the one command the channel sends.)

use std::time::Duration;

use loxwarden::demo::client::{Answer, Client};
use loxwarden::loxone::link::{Link, Secrets};
use loxwarden::loxone::secret::Secret;
use loxwarden::loxone::state::StateValue;
use loxwarden::mcp::{Peer, Server, ServerConfig};
use loxwarden::sim::{DEMO_HOUSE, HouseSource, LogEntry};
use serde_json::{Value, json};

use crate::link_support;
use crate::tools_support::{Options, Rig, Wire, text};

const APPROVE: &str = "Approve AI request";
const QUESTION: &str = "AI request";

fn open_garage() -> Value {
    json!({"device": "Garage Door", "action": "open"})
}

fn blinds(scene: &str) -> Value {
    json!({"device": "All Blinds", "scene": scene})
}

/// A session that declares no elicitation (Claude Desktop, MCP Inspector's CLI).
fn no_elicitation(rig: &Rig) -> Client {
    rig.client_with(json!({}), Peer::default())
}

/// Device commands after `mark`, except the question written to the text input.
fn to_devices(rig: &Rig, mark: u64) -> Vec<LogEntry> {
    let q = rig.addr(QUESTION).to_string();
    let got = rig.received(mark);
    let approve = rig.addr(APPROVE).to_string();
    assert!(
        got.iter().all(|e| !e.command.contains(&approve)),
        "a command reached the approval input: {got:?}"
    );
    got.into_iter()
        .filter(|e| !e.command.contains(&q))
        .collect()
}

fn outcome(r: &Value) -> String {
    r["structuredContent"]["consent"]["outcome"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn shown_text(rig: &Rig) -> String {
    match rig.sim.control_state(&rig.addr(QUESTION), "text") {
        Some(StateValue::Text(t)) => t,
        other => panic!("text input: {other:?}"),
    }
}

/// A person presses the approval button in the app, and the gateway has seen the press.
fn press(rig: &Rig) {
    let a = rig.addr(APPROVE);
    let u = rig
        .sim
        .structure()
        .control(&a)
        .and_then(|c| c.state("active"))
        .unwrap();
    let before = rig.gw.link().states().last_rise(&u);
    assert!(rig.sim.press_in_app(&a));
    assert!(
        link_support::wait_until(Duration::from_secs(5), || {
            let now = rig.gw.link().states().last_rise(&u);
            now.is_some() && now != before
        })
        .is_some(),
        "the gateway never saw the press"
    );
    // The button falls back to 0 (a pulse), as in the app.
    assert!(rig.wait_state(&a, "active", |v| v == 0.0));
}

/// The first call: the question is shown in the app, nothing reaches a device.
fn ask(rig: &Rig, c: &mut Client, tool: &str, args: Value) -> Value {
    let mark = rig.sim.log_mark();
    let r = c.call(tool, args).unwrap();
    assert_eq!(outcome(&r), "app_pending", "{r}");
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(r["structuredContent"]["done"], false);
    assert!(text(&r).contains(APPROVE), "{}", text(&r));
    assert!(text(&r).contains("repeat this same call"), "{}", text(&r));
    assert!(to_devices(rig, mark).is_empty());
    r
}

/// A repeated call that must send nothing; returns its consent outcome.
fn nothing_sent(rig: &Rig, c: &mut Client, tool: &str, args: Value) -> String {
    let mark = rig.sim.log_mark();
    let r = c.call(tool, args).unwrap();
    assert_eq!(r["structuredContent"]["done"], false, "{r}");
    assert!(text(&r).contains("Nothing was sent"), "{}", text(&r));
    assert!(to_devices(rig, mark).is_empty(), "{r}");
    outcome(&r)
}

#[test]
fn a_door_opens_only_after_a_press_in_the_app_and_the_same_call_repeated() {
    let rig = Rig::start();
    let gate = rig.addr("Garage Door");
    let mut c = no_elicitation(&rig);
    ask(&rig, &mut c, "control_access", open_garage());
    // The question in the app names the device canonically and the button to press.
    let q = shown_text(&rig);
    assert!(q.contains("Open 'Garage - Garage Door'?"), "{q}");
    assert!(q.contains(APPROVE) && q.contains("MCP session"), "{q}");
    // No press yet: nothing.
    assert_eq!(
        nothing_sent(&rig, &mut c, "control_access", open_garage()),
        "app_waiting"
    );
    press(&rig);
    let mark = rig.sim.log_mark();
    let r = c.call("control_access", open_garage()).unwrap();
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(outcome(&r), "app_approved");
    let got = to_devices(&rig, mark);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].command, format!("jdev/sps/io/{gate}/open"));
    // Used: the text is cleared, and the audit log has every step.
    assert_eq!(shown_text(&rig), "No AI request is waiting.");
    let outcomes: Vec<String> = rig
        .audit()
        .iter()
        .filter_map(|r| r["consent"]["outcome"].as_str().map(str::to_owned))
        .collect();
    for o in ["app_pending", "app_waiting", "app_approved"] {
        assert!(outcomes.iter().any(|x| x == o), "{o} not in {outcomes:?}");
    }
}

#[test]
fn a_press_before_the_question_approves_nothing() {
    let rig = Rig::start();
    let mut c = no_elicitation(&rig);
    press(&rig);
    ask(&rig, &mut c, "control_access", open_garage());
    assert_eq!(
        nothing_sent(&rig, &mut c, "control_access", open_garage()),
        "app_waiting"
    );
}

#[test]
fn a_press_after_the_window_approves_nothing_and_the_question_is_cleared() {
    let rig = Rig::with(Options {
        manual: true,
        ..Options::default()
    });
    let mut c = no_elicitation(&rig);
    ask(&rig, &mut c, "control_access", open_garage());
    rig.advance_alive(Duration::from_secs(121));
    press(&rig);
    assert_eq!(
        nothing_sent(&rig, &mut c, "control_access", open_garage()),
        "app_expired"
    );
    assert_eq!(shown_text(&rig), "No AI request is waiting.");
    // Asking again shows a new question, which the earlier press does not approve.
    ask(&rig, &mut c, "control_access", open_garage());
    rig.advance(Duration::from_secs(1));
    assert_eq!(
        nothing_sent(&rig, &mut c, "control_access", open_garage()),
        "app_waiting"
    );
}

#[test]
fn a_press_while_another_question_is_shown_approves_only_that_one() {
    let rig = Rig::start();
    let mut a = no_elicitation(&rig);
    let mut b = no_elicitation(&rig);
    ask(&rig, &mut a, "control_access", open_garage());
    // One question for the whole house: b's is not shown.
    assert_eq!(
        nothing_sent(&rig, &mut b, "activate_scene", blinds("down")),
        "app_busy"
    );
    press(&rig);
    // The press was for a's question: b still gets nothing.
    assert_eq!(
        nothing_sent(&rig, &mut b, "activate_scene", blinds("down")),
        "app_busy"
    );
    let mark = rig.sim.log_mark();
    let r = a.call("control_access", open_garage()).unwrap();
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(to_devices(&rig, mark).len(), 1);
    // Now b's question is shown; the press before it does not count.
    ask(&rig, &mut b, "activate_scene", blinds("down"));
    assert_eq!(
        nothing_sent(&rig, &mut b, "activate_scene", blinds("down")),
        "app_waiting"
    );
}

#[test]
fn the_repeated_call_with_other_arguments_or_from_another_session_sends_nothing() {
    let rig = Rig::start();
    let mut a = no_elicitation(&rig);
    let mut other = no_elicitation(&rig);
    ask(&rig, &mut a, "activate_scene", blinds("down"));
    press(&rig);
    // Other arguments: another plan.
    assert_eq!(
        nothing_sent(&rig, &mut a, "activate_scene", blinds("up")),
        "app_busy"
    );
    // The same call from another session.
    assert_eq!(
        nothing_sent(&rig, &mut other, "activate_scene", blinds("down")),
        "app_busy"
    );
    // The approval is still a's, for exactly its plan.
    let mark = rig.sim.log_mark();
    let r = a.call("activate_scene", blinds("down")).unwrap();
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    let got = to_devices(&rig, mark);
    assert!(
        got.iter().all(|e| e.command.ends_with("/FullDown")),
        "{got:?}"
    );
    assert!(!got.is_empty());
}

#[test]
fn a_replay_after_use_sends_nothing() {
    let rig = Rig::start();
    let mut c = no_elicitation(&rig);
    ask(&rig, &mut c, "control_access", open_garage());
    press(&rig);
    let r = c.call("control_access", open_garage()).unwrap();
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    // The same call again (past the garage door's 2 s between commands): a new question, and
    // the used press approves nothing.
    std::thread::sleep(Duration::from_millis(2100));
    ask(&rig, &mut c, "control_access", open_garage());
    assert_eq!(
        nothing_sent(&rig, &mut c, "control_access", open_garage()),
        "app_waiting"
    );
}

#[test]
fn a_restart_between_the_press_and_the_repeat_sends_nothing() {
    let rig = Rig::start();
    let mut c = no_elicitation(&rig);
    ask(&rig, &mut c, "control_access", open_garage());
    press(&rig);
    c.close();
    rig.gw.stop();
    // The stopping process withdrew its question and cleared it in the app.
    assert_eq!(shown_text(&rig), "No AI request is waiting.");
    // A new process: a new link, gateway and engine on the same Miniserver.
    let link = Link::start(
        &rig.cfg,
        rig.gw.clock().clone(),
        Secrets {
            visu_password: Some(Secret::new(rig.sim.visu_password())),
        },
    )
    .unwrap();
    assert!(link.wait_live(Duration::from_secs(15)).is_live());
    let gw =
        loxwarden::dispatch::gateway::Gateway::from_parts(loxwarden::dispatch::gateway::Parts {
            cfg: rig.cfg.clone(),
            clock: rig.gw.clock().clone(),
            link,
            latch: loxwarden::safety::latch::Latch::in_dir(&rig.cfg.paths.state_dir),
            zone: None,
        })
        .unwrap();
    let server = Server::new(gw.host(), ServerConfig::default()).unwrap();
    let mut c = Client::start(&server, Peer::default()).unwrap();
    c.initialize("after-restart", json!({})).unwrap();
    let mark = rig.sim.log_mark();
    let r = c.call("control_access", open_garage()).unwrap();
    assert_eq!(outcome(&r), "app_pending", "{r}");
    let r = c.call("control_access", open_garage()).unwrap();
    assert_eq!(outcome(&r), "app_waiting", "{r}");
    let q = rig.addr(QUESTION).to_string();
    let got: Vec<_> = rig
        .received(mark)
        .into_iter()
        .filter(|e| !e.command.contains(&q))
        .collect();
    assert!(got.is_empty(), "{got:?}");
    gw.stop();
}

#[test]
fn no_tool_list_or_scene_can_reach_the_approval_input_or_the_question_whatever_the_config_says() {
    // The config tries every way to expose them: an allow list, an opt-in, a classification.
    let rig = Rig::with(Options {
        config: Box::new(|t| {
            t.replace(
                "opt_in = [",
                "opt_in = [\"AI/Approve AI request\", \"AI/AI request\", ",
            ) + "\n[[classify]]\ndevice = \"AI/Approve AI request\"\nkind = \"light\"\n"
        }),
        ..Options::default()
    });
    assert!(
        rig.gw
            .house()
            .unwrap()
            .house
            .warnings
            .iter()
            .any(|w| w.contains("consent channel")),
        "the ignored classification is reported"
    );
    let approve = rig.addr(APPROVE).to_string();
    let question = rig.addr(QUESTION).to_string();
    let mut c = rig.client();
    for name in [
        APPROVE,
        "AI/Approve AI request",
        approve.as_str(),
        QUESTION,
        "AI/AI request",
        question.as_str(),
    ] {
        for (tool, extra) in [
            ("get_device", json!({})),
            ("describe_scene", json!({})),
            ("control_light", json!({"action": "on"})),
            ("control_blind", json!({"action": "up"})),
            ("set_temperature", json!({"target": 21})),
            ("control_audio", json!({"action": "play"})),
            ("control_charger", json!({"action": "start"})),
            ("set_alarm", json!({"action": "arm"})),
            ("control_access", json!({"action": "open"})),
            ("control_intercom", json!({"action": "open_door"})),
            ("activate_scene", json!({"scene": "on"})),
        ] {
            let mut args = extra.clone();
            args["device"] = json!(name);
            c.answer_next(Answer::Accept);
            let mark = rig.sim.log_mark();
            let r = c.call(tool, args).unwrap();
            assert_eq!(r["isError"], true, "{tool} {name}: {r}");
            assert!(rig.received(mark).is_empty(), "{tool} {name}");
        }
    }
    for (tool, args) in [
        ("list_devices", json!({})),
        ("list_devices", json!({"room": "AI"})),
        ("list_rooms", json!({})),
    ] {
        let r = c.call(tool, args).unwrap();
        let s = r.to_string();
        assert!(
            !s.contains(APPROVE) && !s.contains(&approve) && !s.contains(&question),
            "{tool}: {s}"
        );
        assert!(!s.contains("\"AI\""), "{tool}: {s}");
    }
}

#[test]
fn a_central_object_that_touches_the_approval_input_is_refused_and_sends_nothing() {
    // A house whose central light controller also switches the approval button.
    let mut house: Value = serde_json::from_slice(DEMO_HOUSE).unwrap();
    let controls = house["controls"].as_object().unwrap().clone();
    let uuid_of = |name: &str| {
        controls
            .iter()
            .find(|(_, c)| c["name"] == name)
            .map(|(k, _)| k.clone())
            .unwrap()
    };
    let central = "1d62a2fa-03fa-1efa-ffff504f94a00001";
    let room = controls[&uuid_of("All Blinds")]["room"].clone();
    let cat = controls[&uuid_of("Hall Light")]["cat"].clone();
    house["controls"][central] = json!({
        "name": "All Switches", "type": "CentralLightController", "uuidAction": central,
        "room": room, "cat": cat, "isSecured": false,
        "details": {"controls": [
            {"id": 0, "uuid": uuid_of("Hall Light")},
            {"id": 1, "uuid": uuid_of(APPROVE)},
        ]},
        "states": {},
    });
    let rig = Rig::with(Options {
        house: HouseSource::Json(serde_json::to_vec(&house).unwrap()),
        ..Options::default()
    });
    let mut c = rig.client();
    c.answer_next(Answer::Accept);
    let mark = rig.sim.log_mark();
    let r = c
        .call(
            "activate_scene",
            json!({"device": "All Switches", "scene": "on"}),
        )
        .unwrap();
    assert_eq!(r["isError"], true, "{r}");
    assert!(rig.received(mark).is_empty());
    assert!(c.asked.is_empty(), "nobody is asked about it");
    let s = r["structuredContent"].to_string();
    assert!(
        s.contains("consent channel") || s.contains("not exposed"),
        "{s}"
    );
}

#[test]
fn two_sessions_asking_at_once_show_one_question_and_send_nothing() {
    let rig = Rig::start();
    let mark = rig.sim.log_mark();
    let outcomes: Vec<String> = std::thread::scope(|s| {
        let calls = [
            ("control_access", open_garage()),
            ("activate_scene", blinds("down")),
        ];
        let handles: Vec<_> = calls
            .into_iter()
            .enumerate()
            .map(|(i, (tool, args))| {
                let rig = &rig;
                s.spawn(move || {
                    let mut c = rig.client_with(
                        json!({}),
                        Peer {
                            uid: Some(1000 + i as u32),
                            read_only: false,
                        },
                    );
                    outcome(&c.call(tool, args).unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = outcomes.clone();
    sorted.sort();
    assert_eq!(sorted, ["app_busy", "app_pending"], "{outcomes:?}");
    assert!(to_devices(&rig, mark).is_empty());
}

#[test]
fn a_client_with_elicitation_is_not_asked_when_the_site_requires_the_app() {
    let rig = Rig::with(Options {
        config: Box::new(|t| t.replace("channel = \"auto\"", "channel = \"house\"")),
        ..Options::default()
    });
    let mut c = rig.client();
    // Whatever the client would answer (a hook could accept by itself), it is never asked.
    c.answer_next(Answer::Accept);
    let r = c.call("get_system_status", json!({})).unwrap();
    assert_eq!(
        r["structuredContent"]["consent"]["channel"], "loxone_app",
        "{r}"
    );
    ask(&rig, &mut c, "control_access", open_garage());
    assert!(c.asked.is_empty(), "the client was asked: {:?}", c.asked);
    c.answer_next(Answer::Accept);
    assert_eq!(
        nothing_sent(&rig, &mut c, "control_access", open_garage()),
        "app_waiting"
    );
    assert!(c.asked.is_empty());
    press(&rig);
    let r = c.call("control_access", open_garage()).unwrap();
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
}

#[test]
fn the_status_says_which_channel_asks_this_session() {
    let rig = Rig::start();
    let r = no_elicitation(&rig)
        .call("get_system_status", json!({}))
        .unwrap();
    assert_eq!(r["structuredContent"]["consent"]["channel"], "loxone_app");
    assert!(text(&r).contains(APPROVE), "{}", text(&r));
    let r = rig.client().call("get_system_status", json!({})).unwrap();
    assert_eq!(r["structuredContent"]["consent"]["channel"], "elicitation");
    crate::tools_support::assert_conforms("get_system_status", &r);
}

#[test]
fn clearing_the_question_in_the_app_declines_it() {
    let rig = Rig::start();
    let mut c = no_elicitation(&rig);
    ask(&rig, &mut c, "control_access", open_garage());
    let q = rig.addr(QUESTION);
    let u = rig
        .sim
        .structure()
        .control(&q)
        .and_then(|c| c.state("text"))
        .unwrap();
    let cached = |empty: bool| {
        link_support::wait_until(Duration::from_secs(5), || {
            use loxwarden::loxone::state::LiveStates;
            rig.gw
                .link()
                .states()
                .entry(&u)
                .and_then(|e| e.value.as_text().map(|t| t.is_empty() == empty))
                .unwrap_or(false)
        })
        .is_some()
    };
    // The gateway has seen its own question arrive, then the person clears it.
    assert!(cached(false));
    assert!(rig.sim.type_in_app(&q, ""));
    assert!(cached(true));
    assert_eq!(
        nothing_sent(&rig, &mut c, "control_access", open_garage()),
        "app_declined"
    );
}

// ------------------------------------------------------------------ the wait inside the call

/// A rig whose calls wait up to `wait_s` for the press (`[consent.house] wait_s`).
fn waiting(wait_s: u64) -> Rig {
    Rig::with(Options {
        app_wait_s: wait_s,
        ..Options::default()
    })
}

/// Waits until the app shows a question (not the cleared text).
fn question_shown(rig: &Rig) -> bool {
    link_support::wait_until(Duration::from_secs(10), || {
        shown_text(rig).contains("Asked by")
    })
    .is_some()
}

/// Waits until the app's text is the cleared one.
fn cleared(rig: &Rig, within: Duration) -> bool {
    link_support::wait_until(within, || shown_text(rig) == CLEARED).is_some()
}

const CLEARED: &str = "No AI request is waiting.";

/// The opening commands of the garage door after `mark`.
fn garage_opened(rig: &Rig, mark: u64) -> usize {
    let gate = rig.addr("Garage Door").to_string();
    to_devices(rig, mark)
        .iter()
        .filter(|e| e.command == format!("jdev/sps/io/{gate}/open"))
        .count()
}

#[test]
fn a_press_during_the_wait_sends_the_plan_once_in_the_same_call() {
    let rig = waiting(20);
    let mut c = no_elicitation(&rig);
    let mark = rig.sim.log_mark();
    let r = std::thread::scope(|s| {
        s.spawn(|| {
            assert!(question_shown(&rig), "no question in the app");
            std::thread::sleep(Duration::from_millis(300));
            press(&rig);
        });
        c.call("control_access", open_garage()).unwrap()
    });
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(outcome(&r), "app_approved", "{r}");
    assert_eq!(garage_opened(&rig, mark), 1);
    assert_eq!(to_devices(&rig, mark).len(), 1);
    assert_eq!(shown_text(&rig), CLEARED);
    let outcomes: Vec<String> = rig
        .audit()
        .iter()
        .filter_map(|r| r["consent"]["outcome"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        outcomes,
        ["app_approved"],
        "one call, one record of its consent"
    );
}

#[test]
fn no_press_within_the_wait_answers_pending_and_sends_nothing() {
    let rig = waiting(1);
    let mut c = no_elicitation(&rig);
    let mark = rig.sim.log_mark();
    let r = c.call("control_access", open_garage()).unwrap();
    assert_eq!(outcome(&r), "app_pending", "{r}");
    assert_eq!(r["structuredContent"]["done"], false);
    assert!(
        text(&r).contains(
            "nobody pressed 'AI/Approve AI request' there during the 1 s this call waited"
        ),
        "{}",
        text(&r)
    );
    assert!(text(&r).contains("repeat this same call"), "{}", text(&r));
    // The question stays shown; the repeat waits again, and without a press sends nothing.
    assert!(shown_text(&rig).contains("Asked by"));
    let r = c.call("control_access", open_garage()).unwrap();
    assert_eq!(outcome(&r), "app_waiting", "{r}");
    assert!(text(&r).contains("this call waited 1 s"), "{}", text(&r));
    assert!(to_devices(&rig, mark).is_empty());
    // A press after the wait still approves the repeat, as without the wait.
    press(&rig);
    let r = c.call("control_access", open_garage()).unwrap();
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(garage_opened(&rig, mark), 1);
}

#[test]
fn the_emergency_stop_during_the_wait_ends_it_at_once_with_nothing_sent() {
    let rig = waiting(30);
    let mut c = no_elicitation(&rig);
    let mark = rig.sim.log_mark();
    let r = std::thread::scope(|s| {
        s.spawn(|| {
            assert!(question_shown(&rig), "no question in the app");
            // The stop is not held up by the waiting call (it takes no lane).
            let r = rig
                .client()
                .call("emergency_stop", json!({"reason": "during the wait"}))
                .unwrap();
            assert_eq!(r["isError"], false, "{r}");
            assert!(rig.gw.latch().is_latched());
            // A press after the stop approves nothing.
            assert!(
                cleared(&rig, Duration::from_secs(10)),
                "{}",
                shown_text(&rig)
            );
            press(&rig);
        });
        c.call("control_access", open_garage()).unwrap()
    });
    assert_eq!(outcome(&r), "app_withdrawn", "{r}");
    assert_eq!(r["isError"], true, "{r}");
    assert!(
        text(&r).contains("the emergency stop latched") && text(&r).contains("Nothing was sent"),
        "{}",
        text(&r)
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(garage_opened(&rig, mark), 0);
    assert_eq!(shown_text(&rig), CLEARED);
}

#[test]
fn a_cancelled_call_sends_nothing_even_if_the_press_comes_after() {
    let rig = waiting(30);
    let mut w = Wire::start(&rig.server, Peer::default());
    w.handshake(json!({}));
    let mark = rig.sim.log_mark();
    w.send(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                   "params": {"name": "control_access", "arguments": open_garage()}}));
    assert!(question_shown(&rig), "no question in the app");
    w.send(
        &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                   "params": {"requestId": 7, "reason": "the user gave up"}}),
    );
    // The wait ends and the question is withdrawn from the app.
    assert!(
        cleared(&rig, Duration::from_secs(10)),
        "{}",
        shown_text(&rig)
    );
    press(&rig);
    // No answer to a cancelled call, and nothing reached the door.
    assert!(w.quiet(Duration::from_millis(500)));
    assert_eq!(garage_opened(&rig, mark), 0);
    assert!(to_devices(&rig, mark).is_empty());
    let audit = rig.audit();
    let last = audit
        .iter()
        .rev()
        .find(|r| r["consent"]["outcome"].is_string())
        .unwrap();
    assert_eq!(last["consent"]["outcome"], "app_withdrawn", "{last}");
    w.close();
}

#[test]
fn a_call_with_a_progress_token_waits_past_wait_s_and_reports_progress() {
    // wait_s is 1 s, but a client that hears progress may wait the whole window.
    let rig = waiting(1);
    let mut c = no_elicitation(&rig);
    let mark = rig.sim.log_mark();
    let r = std::thread::scope(|s| {
        s.spawn(|| {
            assert!(question_shown(&rig), "no question in the app");
            // Past wait_s and past one progress interval.
            std::thread::sleep(Duration::from_millis(4_000));
            press(&rig);
        });
        let params = json!({"name": "control_access", "arguments": open_garage(),
                            "_meta": {"progressToken": "door"}});
        c.request("tools/call", params).unwrap()["result"].take()
    });
    assert_eq!(r["structuredContent"]["done"], true, "{r}");
    assert_eq!(outcome(&r), "app_approved");
    assert_eq!(garage_opened(&rig, mark), 1);
    assert!(c.progress.len() >= 2, "progress: {:?}", c.progress);
    for p in &c.progress {
        assert_eq!(p["progressToken"], "door");
        assert_eq!(p["total"], 120.0, "{p}");
        let m = p["message"].as_str().unwrap_or("");
        assert!(
            m.contains("press 'AI/Approve AI request' in the Loxone app"),
            "{m}"
        );
    }
}

#[test]
fn wait_s_zero_answers_at_once_even_with_a_progress_token() {
    let rig = waiting(0);
    let mut c = no_elicitation(&rig);
    let mark = rig.sim.log_mark();
    let params = json!({"name": "control_access", "arguments": open_garage(),
                        "_meta": {"progressToken": "door"}});
    let r = c.request("tools/call", params).unwrap()["result"].take();
    assert_eq!(outcome(&r), "app_pending", "{r}");
    assert!(
        text(&r).contains("and then you repeat this same call"),
        "{}",
        text(&r)
    );
    assert!(c.progress.is_empty(), "{:?}", c.progress);
    assert!(to_devices(&rig, mark).is_empty());
}

#[test]
fn an_expired_question_is_cleared_in_the_app_on_time_without_another_call() {
    let rig = Rig::with(Options {
        manual: true,
        ..Options::default()
    });
    let mut c = no_elicitation(&rig);
    let mark = rig.sim.log_mark();
    ask(&rig, &mut c, "control_access", open_garage());
    assert!(shown_text(&rig).contains("Asked by"));
    rig.advance_alive(Duration::from_secs(119));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        shown_text(&rig).contains("Asked by"),
        "still within the window"
    );
    // Past the window: the question's own timer clears it, with no tool call in between.
    rig.advance_alive(Duration::from_secs(2));
    assert!(
        cleared(&rig, Duration::from_secs(5)),
        "{}",
        shown_text(&rig)
    );
    assert!(to_devices(&rig, mark).is_empty());
    // The asker is still told, once, that it expired.
    press(&rig);
    assert_eq!(
        nothing_sent(&rig, &mut c, "control_access", open_garage()),
        "app_expired"
    );
}
