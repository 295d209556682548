//! Refusal records under the session's budget (R-14, `audit::limit`): every refused call is
//! audited until the budget runs out, then one record says how many were left out, so a flood
//! of refused calls cannot fill the SD card and with it refuse every command.

use super::*;

impl Rec<'_> {
    /// Writes a record that decides nothing is sent; an audit failure is logged (nothing was
    /// going to be sent anyway) and noted in the result.
    pub(super) fn write_refusal(&mut self, rule: &str, reason: &str) {
        let pending = self.consent.as_ref().is_some_and(|(c, _)| {
            matches!(
                c.outcome.as_str(),
                "pending" | "app_pending" | "app_waiting"
            )
        });
        // An MRTR first round, or a question shown in the Loxone app: nothing is decided yet.
        let verdict = if pending { "pending" } else { "refuse" };
        let rec = self.decided_record(verdict, Some(rule), Some(reason.to_owned()), Vec::new());
        let written = if pending {
            self.gw.audit().write(&rec)
        } else {
            self.write_limited(&rec)
        };
        if let Err(e) = written {
            log::error!("{e}");
            self.notes
                .push(format!("R-14: this refusal could not be audited: {e}"));
        }
    }

    /// Writes a refusal record within the session's budget (`audit::limit`): past it, the
    /// refusal is counted instead, and the count is written before the session's next record.
    pub(super) fn write_limited(&mut self, rec: &Record) -> Result<(), AuditError> {
        match self.gw.admit_refusal_record(self.session.id) {
            Admit::Write { suppressed } => {
                if suppressed > 0 {
                    self.gw
                        .audit()
                        .write(&self.suppressed_record(Some(suppressed)))?;
                }
                self.gw.audit().write(rec)
            }
            Admit::Suppress { first } => {
                if first {
                    self.gw.audit().write(&self.suppressed_record(None))?;
                }
                self.notes.push(format!(
                    "R-14: this session refused more than {} calls at once, so this refusal is \
                     counted in the audit log, not recorded on its own (audit id {} is not in \
                     the log)",
                    limit::BURST,
                    self.audit_id
                ));
                Ok(())
            }
        }
    }

    /// The record that says refusals of this session were (`Some(n)`) or from now on are
    /// (`None`) not recorded one by one.
    pub(super) fn suppressed_record(&self, count: Option<u64>) -> Record {
        let reason = match count {
            None => format!(
                "this session's refused calls exceed {} at once ({} a second after): further \
                 ones are counted, not recorded one by one",
                limit::BURST,
                limit::PER_SECOND
            ),
            Some(n) => format!(
                "{n} refused call(s) of this session were not recorded one by one (more than {} \
                 at once, {} a second after)",
                limit::BURST,
                limit::PER_SECOND
            ),
        };
        Record::Decided(Box::new(Decided {
            time: audit::rfc3339(self.gw.clock().wall()),
            audit_id: self.gw.audit().next_id(),
            session: self.session.id,
            client: client(self.session),
            peer_uid: self.session.peer_uid,
            tool: "(refused calls)".into(),
            device: None,
            intent: json!({ "suppressed": count }),
            verdict: "refuse".into(),
            rule: Some("R-14".into()),
            reason: Some(reason),
            consent: None,
            plan: Vec::new(),
        }))
    }
}
