//! Scenes and central objects: one command that moves many devices, decided member by member
//! (a hidden or read-only member refuses the whole scene; moving members get rate marks).

use super::*;

impl Cx<'_> {
    pub(super) fn scene(&self, d: &Device, op: &Op) -> R<Allowed> {
        // Enumerate again now: the mood list and membership are live facts.
        let desc = scene::describe(self.house, d.id, self.states)?;
        let Some(entry) = desc.scenes.iter().find(|s| &s.op == op) else {
            return Err(Refusal::new(
                "SC-7",
                format!("{} no longer offers this scene", self.house.describe(d.id)),
            ));
        };
        if !desc.missing.is_empty() {
            return Err(Refusal::new(
                "SC-7",
                format!(
                    "{} controls {} device(s) that are not in this user's structure file, so its \
                     effect cannot be enumerated",
                    self.house.describe(d.id),
                    desc.missing.len()
                ),
            ));
        }
        let hidden = desc
            .members
            .iter()
            .chain(&desc.affected)
            .filter(|id| !self.house.device(**id).exposed)
            .count();
        if hidden > 0 {
            return Err(Refusal::new(
                "SC-7",
                format!(
                    "{} affects {hidden} device(s) that are not exposed to the AI",
                    self.house.describe(d.id)
                ),
            ));
        }
        // A device the AI may not actuate (the table, the Miniserver's restrictions or the
        // config's `[[classify]]`) is not actuated through a scene either. Stopping or pausing
        // cannot hurt anyone, so those stay allowed.
        if !entry.effect.is_safe_direction() {
            let read_only: Vec<String> = desc
                .members
                .iter()
                .chain(&desc.affected)
                .map(|id| self.house.device(*id))
                .filter(|m| !m.actuable())
                .map(Device::label)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if !read_only.is_empty() {
                return Err(Refusal::new(
                    "SC-7",
                    format!(
                        "{} affects {} device(s) that are read-only for the AI: {}",
                        self.house.describe(d.id),
                        read_only.len(),
                        read_only.join(", ")
                    ),
                ));
            }
        }
        match entry.effect {
            Effect::Close => self.refuse_in_emergency(
                "UCA-B2",
                &format!("'{}' on {}", entry.name, self.house.describe(d.id)),
            )?,
            Effect::LightsChange if self.posture.emergency() => {
                return Err(Refusal::new(
                    "UCA-L1",
                    format!(
                        "a mood may switch lights off; refused during an emergency ({})",
                        self.emergency_text()
                    ),
                ));
            }
            Effect::Play => {
                self.refuse_in_emergency("UCA-A2", "starting audio")?;
                if self.posture.intrusion() {
                    return Err(Refusal::new(
                        "UCA-A2",
                        "starting audio is refused while an alarm sounds",
                    ));
                }
            }
            _ => {}
        }
        let mut a = Allowed::default();
        // Rate limits: every blind or gate the scene moves, and the lights it changes.
        for m in desc.members.iter().map(|id| self.house.device(*id)) {
            let motion = match entry.effect {
                Effect::Open => Motion::Raise,
                Effect::Close => Motion::Lower,
                Effect::Stop => Motion::Stop,
                _ => Motion::Change,
            };
            // A motor is rate-limited as one by its Loxone type, whatever the config calls it;
            // a light member is only ever changed by a light effect (see `house::scene`).
            let class = match m.kind {
                _ if scene::is_motor(&m.loxone_type) || m.table_kind == Kind::Blind => {
                    Some(RateClass::Motor)
                }
                Kind::Blind => Some(RateClass::Motor),
                Kind::Light | Kind::Scene => Some(RateClass::Light),
                _ => None,
            };
            if let Some(class) = class {
                let mark = self.mark(m, class, motion);
                self.check_rate(m, &mark)?;
                a.rate_marks.push(mark);
            }
        }
        if matches!(entry.effect, Effect::LightsOn | Effect::LightsChange) {
            let mark = self.mark(d, RateClass::Light, Motion::Change);
            self.check_rate(d, &mark)?;
            a.rate_marks.push(mark);
        }
        // Consent: SC-7 / R-10 for safety devices or many devices; UCA-L2 at night.
        let critical = scene::critical_members(self.house, &desc);
        let many = desc.leaf_count(self.house) > SCENE_MAX_DEVICES_WITHOUT_CONSENT;
        let mut night_rooms: Vec<String> = Vec::new();
        if matches!(entry.effect, Effect::LightsOn | Effect::LightsChange) {
            for id in std::iter::once(&d.id).chain(&desc.affected) {
                let r = &self.house.device(*id).room_name;
                if self.posture.night_in(r) && !night_rooms.contains(r) {
                    night_rooms.push(r.clone());
                }
            }
        }
        let bulk = !entry.effect.is_safe_direction() && (!critical.is_empty() || many);
        if bulk || !night_rooms.is_empty() {
            let rule = if bulk { "SC-7" } else { "UCA-L2" };
            a.consent = Some(self.consent(
                rule,
                d,
                Subject::Scene {
                    device: d.id,
                    scene: entry.name.clone(),
                    affected: desc.affected.clone(),
                    critical,
                    night_rooms,
                },
            ));
        }
        a.notes.push(format!(
            "'{}' on {} affects {} device(s)",
            entry.name,
            d.label(),
            desc.affected.len()
        ));
        if d.loxone_type == "LightControllerV2" {
            a.expect.extend(self.expect(d, "activeMoods", Change::Any));
        }
        a.plan.push(self.step(d, entry.op));
        Ok(a)
    }
}
