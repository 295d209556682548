//! `[consent]` and `[consent.house]`: how a person is asked (issue 21).
//!
//! Why a channel setting: MCP elicitation asks through the AI's own client, and many clients
//! cannot ask at all (Claude Desktop, claude.ai, MCP Inspector's CLI), while others can be made
//! to answer by themselves (a settings hook the agent may edit). The house channel asks in the
//! Loxone app instead: the gateway writes the question to a virtual text input and waits for a
//! press of a virtual input push button, two controls the owner adds in Loxone Config. Which
//! controls they are is checked against the structure file when the house is built
//! (`house::exposure::consent_controls`), where names can be resolved.

use serde::Deserialize;

/// `[consent]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// How long a person has to answer an elicitation (MCP clients that can ask).
    #[serde(default = "sixty")]
    pub timeout_s: u64,
    /// How long after a bell ring the intercom door may be opened (with consent).
    #[serde(default = "one_twenty")]
    pub intercom_window_s: u64,
    /// `auto`: elicitation where the client declares it, else the house channel if configured;
    /// `house`: the house channel for every client.
    #[serde(default)]
    pub channel: Channel,
    /// The two controls of the house channel.
    #[serde(default)]
    pub house: Option<HouseChannel>,
}

impl Default for Consent {
    fn default() -> Self {
        Consent {
            timeout_s: 60,
            intercom_window_s: 120,
            channel: Channel::Auto,
            house: None,
        }
    }
}

/// `[consent] channel`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    #[default]
    Auto,
    House,
}

/// `[consent.house]`: the approval push button and the question text input, each by
/// `Room/Name`, name or UUID, and how long a shown question may be approved.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseChannel {
    /// A virtual input (push button), e.g. `"AI/Approve AI request"`.
    pub approve: String,
    /// A virtual text input, e.g. `"AI/AI request"`.
    pub question: String,
    #[serde(default = "one_twenty")]
    pub window_s: u64,
    /// How long a call waits for the press when its client sent no progress token (0: never;
    /// the call answers at once and the AI repeats it after the press). A call with a progress
    /// token may wait the whole window, reporting progress meanwhile.
    #[serde(default = "thirty")]
    pub wait_s: u64,
}

/// The longest window: a question left unanswered this long counts toward consent fatigue
/// (`safety::table::FATIGUE_MRTR_UNANSWERED`), so it must not outlive it.
pub const MAX_WINDOW_S: u64 = 120;

/// The longest wait without progress: below the 60 s after which common clients give up on a
/// request (the TypeScript SDK's default), with room for the plan to be sent after the press.
pub const MAX_WAIT_S: u64 = 50;

impl Consent {
    pub(super) fn validate(&self) -> Result<(), String> {
        if let Some(h) = &self.house {
            for (key, v) in [
                ("consent.house.approve", &h.approve),
                ("consent.house.question", &h.question),
            ] {
                if v.trim().is_empty() || v.len() > 200 || v.chars().any(char::is_control) {
                    return Err(format!(
                        "{key} must name a control (`Room/Name`, name or UUID), at most 200 characters"
                    ));
                }
            }
            if h.approve.trim().eq_ignore_ascii_case(h.question.trim()) {
                return Err(
                    "consent.house.approve and consent.house.question must be two different controls"
                        .into(),
                );
            }
            if !(10..=MAX_WINDOW_S).contains(&h.window_s) {
                return Err(format!(
                    "consent.house.window_s must be 10 to {MAX_WINDOW_S} (seconds a person has to press the button)"
                ));
            }
            if h.wait_s > MAX_WAIT_S {
                return Err(format!(
                    "consent.house.wait_s must be 0 to {MAX_WAIT_S} (seconds a call waits for the press; 0: never, the AI repeats the call; clients commonly give up on a request after 60 s)"
                ));
            }
        }
        if self.channel == Channel::House && self.house.is_none() {
            return Err(
                "consent.channel = \"house\" needs [consent.house] with approve and question"
                    .into(),
            );
        }
        Ok(())
    }
}

fn sixty() -> u64 {
    60
}
fn one_twenty() -> u64 {
    120
}
fn thirty() -> u64 {
    30
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const BASE: &str = "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n";

    fn parse(extra: &str) -> Result<Config, String> {
        Config::parse(&format!("{BASE}{extra}"))
    }

    #[test]
    fn the_house_channel_is_off_unless_configured_and_auto_by_default() {
        let c = parse("").unwrap();
        assert_eq!(c.consent.channel, super::Channel::Auto);
        assert!(c.consent.house.is_none());
        let c = parse("[consent.house]\napprove = \"AI/Approve\"\nquestion = \"AI/Request\"\n")
            .unwrap();
        let h = c.consent.house.unwrap();
        assert_eq!((h.window_s, h.wait_s), (120, 30));
    }

    #[test]
    fn a_house_channel_config_that_cannot_work_is_refused_with_the_key() {
        for (extra, key) in [
            ("[consent]\nchannel = \"house\"\n", "consent.channel"),
            (
                "[consent]\nchannel = \"app\"\n",
                "expected `auto` or `house`",
            ),
            (
                "[consent.house]\napprove = \"AI/X\"\nquestion = \"ai/x\"\n",
                "two different",
            ),
            (
                "[consent.house]\napprove = \"\"\nquestion = \"AI/Q\"\n",
                "consent.house.approve",
            ),
            (
                "[consent.house]\napprove = \"A\"\nquestion = \"Q\"\nwindow_s = 600\n",
                "window_s",
            ),
            (
                "[consent.house]\napprove = \"A\"\nquestion = \"Q\"\nprompt = \"x\"\n",
                "prompt",
            ),
            (
                "[consent.house]\napprove = \"A\"\nquestion = \"Q\"\nwait_s = 60\n",
                "consent.house.wait_s must be 0 to 50",
            ),
            (
                "[consent.house]\napprove = \"A\"\nquestion = \"Q\"\nwait_s = -1\n",
                "expected u64",
            ),
        ] {
            let e = parse(extra).unwrap_err();
            assert!(e.contains(key), "{extra}: {e}");
        }
    }
}
