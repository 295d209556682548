//! Typed access to one call's JSON arguments: each getter names the tool, the argument and
//! what was wrong (a string where a number belongs, NaN, a missing or extra argument).

use super::*;

pub(super) struct Args<'a> {
    pub(super) tool: &'a str,
    pub(super) args: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    pub(super) fn opt_str(&self, name: &str) -> Result<Option<&'a str>, Refusal> {
        match self.args.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(bad(format!(
                "{} must be a string, not {}",
                name,
                type_name(other)
            ))),
        }
    }

    pub(super) fn req_str(&self, name: &str) -> Result<&'a str, Refusal> {
        self.opt_str(name)?
            .ok_or_else(|| bad(format!("{} needs the argument {name}", self.tool)))
    }

    pub(super) fn action(&self, vocab: &[&'static str]) -> Result<&'static str, Refusal> {
        let s = self.req_str("action")?;
        vocab.iter().copied().find(|v| *v == s).ok_or_else(|| {
            bad(format!(
                "action {} is not one of: {}",
                quote_untrusted(s),
                vocab.join(", ")
            ))
        })
    }

    pub(super) fn req_number(&self, name: &str) -> Result<f64, Refusal> {
        match self.args.get(name) {
            None | Some(Value::Null) => {
                Err(bad(format!("{} needs the argument {name}", self.tool)))
            }
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) if f.is_finite() => Ok(f),
                _ => Err(bad(format!("{name} must be a finite number"))),
            },
            Some(other) => Err(bad(format!(
                "{name} must be a number, not {}",
                type_name(other)
            ))),
        }
    }

    /// A 1-based page number (1 when absent).
    pub(super) fn opt_page(&self, name: &str) -> Result<usize, Refusal> {
        if self.args.get(name).is_none_or(Value::is_null) {
            return Ok(1);
        }
        let f = self.req_number(name)?;
        if f.fract() != 0.0 || !(1.0..=MAX_PAGE as f64).contains(&f) {
            return Err(bad(format!(
                "{name} must be a whole number from 1 to {MAX_PAGE}, not {f}"
            )));
        }
        Ok(f as usize)
    }

    pub(super) fn req_percent(&self, name: &str) -> Result<Percent, Refusal> {
        let f = self.req_number(name)?;
        if f.fract() != 0.0 || !(0.0..=100.0).contains(&f) {
            return Err(bad(format!(
                "{name} must be a whole number from 0 to 100, not {f}"
            )));
        }
        Percent::new(f as u8).ok_or_else(|| bad(format!("{name} must be 0–100")))
    }

    pub(super) fn forbid(&self, name: &str, only_for: &str) -> Result<(), Refusal> {
        if self.args.get(name).is_some_and(|v| !v.is_null()) {
            return Err(bad(format!("{name} is only used with action {only_for}")));
        }
        Ok(())
    }
}

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The highest page number accepted (100,000 devices).
pub(super) const MAX_PAGE: usize = 1000;

pub(super) fn bad(reason: String) -> Refusal {
    Refusal::new("SC-10", reason)
}
