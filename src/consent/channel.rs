//! Which channel asks the person for this session (`[consent] channel`, issue 21).
//!
//! Why per session: the choice depends on what the client declared (form-mode elicitation) and
//! on the site config. `auto` uses elicitation where the client declares it, else the Loxone app
//! when `[consent.house]` is configured; `house` uses the app for every client, so an
//! elicitation a client (or a hook the agent wrote into its settings) could answer by itself is
//! never trusted.

use serde_json::{Value, json};

use crate::config::{Channel, Consent};

/// The channel that applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    /// MCP elicitation (`elicitation/create`, or an MRTR round in 2026-07-28).
    Elicitation,
    /// The Loxone app: question in the text input, approval by the push button.
    App,
    /// Neither: this client cannot ask and no app channel is configured; critical commands are
    /// refused.
    None,
}

impl Applies {
    pub fn as_str(self) -> &'static str {
        match self {
            Applies::Elicitation => "elicitation",
            Applies::App => "loxone_app",
            Applies::None => "none",
        }
    }
}

/// The channel for a client that does (`can_elicit`) or does not declare form elicitation.
pub fn choose(cfg: &Consent, can_elicit: bool) -> Applies {
    match (cfg.channel, cfg.house.is_some(), can_elicit) {
        (Channel::House, _, _) | (Channel::Auto, true, false) => Applies::App,
        (Channel::Auto, _, true) => Applies::Elicitation,
        (Channel::Auto, false, false) => Applies::None,
    }
}

/// The `consent` member of `get_system_status`: which channel applies to this session, in
/// words a model can pass on.
pub fn status(cfg: &Consent, can_elicit: bool) -> (Value, String) {
    let applies = choose(cfg, can_elicit);
    let text = match (applies, &cfg.house) {
        (Applies::App, Some(h)) if h.wait_s == 0 => format!(
            "consent: in the Loxone app (the person presses '{}' within {} s of the question \
             appearing in '{}', then you repeat the same call)",
            h.approve, h.window_s, h.question
        ),
        (Applies::App, Some(h)) => format!(
            "consent: in the Loxone app (the person presses '{}' within {} s of the question \
             appearing in '{}'; the call waits up to {} s for the press, or the whole window \
             when it carries a progress token; else you repeat the same call after the press)",
            h.approve, h.window_s, h.question, h.wait_s
        ),
        (Applies::Elicitation, _) => "consent: asked in this client (elicitation)".to_owned(),
        _ => "consent: none available (this client cannot ask and no Loxone app channel is \
              configured), so actions that need a person's consent are refused"
            .to_owned(),
    };
    let mut v = json!({
        "channel": applies.as_str(),
        "configured": match cfg.channel { Channel::Auto => "auto", Channel::House => "house" },
        "client_can_ask": can_elicit,
    });
    if let (Applies::App, Some(h)) = (applies, &cfg.house) {
        v["approve"] = json!(h.approve);
        v["question"] = json!(h.question);
        v["window_s"] = json!(h.window_s);
        v["wait_s"] = json!(h.wait_s);
    }
    (v, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HouseChannel;

    fn cfg(channel: Channel, house: bool) -> Consent {
        Consent {
            channel,
            house: house.then(|| HouseChannel {
                approve: "AI/Approve".into(),
                question: "AI/Request".into(),
                window_s: 120,
                wait_s: 30,
            }),
            ..Consent::default()
        }
    }

    #[test]
    fn auto_asks_in_the_client_where_it_can_else_in_the_app_if_configured() {
        assert_eq!(
            choose(&cfg(Channel::Auto, true), true),
            Applies::Elicitation
        );
        assert_eq!(choose(&cfg(Channel::Auto, true), false), Applies::App);
        assert_eq!(
            choose(&cfg(Channel::Auto, false), true),
            Applies::Elicitation
        );
        assert_eq!(choose(&cfg(Channel::Auto, false), false), Applies::None);
    }

    #[test]
    fn house_asks_in_the_app_even_when_the_client_could_ask() {
        assert_eq!(choose(&cfg(Channel::House, true), true), Applies::App);
        assert_eq!(choose(&cfg(Channel::House, true), false), Applies::App);
        let (v, text) = status(&cfg(Channel::House, true), true);
        assert_eq!(v["channel"], "loxone_app");
        assert!(text.contains("AI/Approve"), "{text}");
    }
}
