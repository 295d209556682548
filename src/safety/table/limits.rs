//! The effective limits: the compiled table as tightened by one site's config (a nursery's
//! band, night hours, a lower volume cap). Anything that would widen the table is an error.

use super::*;

/// The table as tightened by one site's config. Built once at start; a config that would loosen
/// the table is refused with the key at fault.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    pub temp_free: Band,
    pub temp_hard: Band,
    pub temp_max_step: f64,
    pub volume_free_max: u8,
    pub volume_hard_max: u8,
    pub intercom_window: Duration,
    pub rooms: Vec<RoomLimits>,
    pub night: Option<NightHours>,
    /// Rooms the site declares covered by presence detection (`[presence] covered_rooms`,
    /// UCA-S1), besides those with a detector of their own.
    pub presence_covered: Vec<String>,
}

/// A room's tightening (`[[limits.room]]`, UCA-T3: a nursery's band).
#[derive(Clone, Debug, PartialEq)]
pub struct RoomLimits {
    pub room: String,
    pub temp_free: Band,
    pub temp_hard: Band,
    pub volume_free_max: u8,
    pub volume_hard_max: u8,
}

/// Night hours and sleeping rooms (`[night]`, UCA-L2), minutes after local midnight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NightHours {
    pub start: u16,
    pub end: u16,
    pub sleeping_rooms: Vec<String>,
}

impl NightHours {
    /// Whether `minute` (after local midnight) is inside the night, which may wrap midnight.
    pub fn contains(&self, minute: u16) -> bool {
        if self.start <= self.end {
            minute >= self.start && minute < self.end
        } else {
            minute >= self.start || minute < self.end
        }
    }

    pub fn is_sleeping_room(&self, room: &str) -> bool {
        self.sleeping_rooms.iter().any(|r| eq_ci(r, room))
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            temp_free: TEMP_FREE_C,
            temp_hard: TEMP_HARD_C,
            temp_max_step: TEMP_MAX_STEP_C,
            volume_free_max: VOLUME_FREE_MAX,
            volume_hard_max: VOLUME_HARD_MAX,
            intercom_window: INTERCOM_WINDOW,
            rooms: Vec::new(),
            night: None,
            presence_covered: Vec::new(),
        }
    }
}

impl Limits {
    /// The compiled table tightened by `cfg`. `temperature_min_c`/`max_c` narrow the band a
    /// setpoint may take at all (values outside are refused; inside it, 16–28 °C stays free and
    /// the rest needs consent); `volume_max` lowers the absolute cap; the step and the intercom
    /// window may only shrink. Anything that would widen the table is an error.
    pub fn from_config(cfg: &Config) -> Result<Limits, String> {
        let l = &cfg.limits;
        let mut out = Limits::default();
        let (min, max) = check_band("limits", l.temperature_min_c, l.temperature_max_c)?;
        out.temp_hard = TEMP_HARD_C.intersect(min, max);
        out.temp_free = TEMP_FREE_C.intersect(min, max);
        if let Some(step) = l.temperature_max_step_c {
            if !step.is_finite() || step <= 0.0 || step > TEMP_MAX_STEP_C {
                return Err(format!(
                    "limits.temperature_max_step_c = {step} would loosen the table: it must be \
                     more than 0 and at most {TEMP_MAX_STEP_C} (SC-2)"
                ));
            }
            out.temp_max_step = step;
        }
        if let Some(v) = l.volume_max {
            out.volume_hard_max = check_volume("limits.volume_max", v)?;
            out.volume_free_max = VOLUME_FREE_MAX.min(v);
        }
        for (n, r) in l.room.iter().enumerate() {
            let key = format!("limits.room[{n}]");
            if r.room.trim().is_empty() {
                return Err(format!("{key}.room must name a room"));
            }
            let (min, max) = check_band(&key, r.temperature_min_c, r.temperature_max_c)?;
            let mut rl = RoomLimits {
                room: r.room.clone(),
                temp_free: out.temp_free.intersect(min, max),
                temp_hard: out.temp_hard.intersect(min, max),
                volume_free_max: out.volume_free_max,
                volume_hard_max: out.volume_hard_max,
            };
            if rl.temp_hard.min > rl.temp_hard.max {
                return Err(format!(
                    "{key}: the band {}–{} °C does not overlap the site band {} °C",
                    num(rl.temp_hard.min),
                    num(rl.temp_hard.max),
                    band_text(out.temp_hard)
                ));
            }
            if let Some(v) = r.volume_max {
                let v = check_volume(&format!("{key}.volume_max"), v)?;
                rl.volume_hard_max = rl.volume_hard_max.min(v);
                rl.volume_free_max = rl.volume_free_max.min(v);
            }
            out.rooms.push(rl);
        }
        let w = cfg.consent.intercom_window_s;
        if w == 0 || Duration::from_secs(w) > INTERCOM_WINDOW {
            return Err(format!(
                "consent.intercom_window_s = {w} would loosen the table: it must be 1–{} (UCA-I1)",
                INTERCOM_WINDOW.as_secs()
            ));
        }
        out.intercom_window = Duration::from_secs(w);
        if let Some(n) = &cfg.night {
            out.night = Some(NightHours {
                start: parse_hhmm("night.start", &n.start)?,
                end: parse_hhmm("night.end", &n.end)?,
                sleeping_rooms: n.sleeping_rooms.clone(),
            });
        }
        out.presence_covered = cfg.presence.covered_rooms.clone();
        Ok(out)
    }

    fn room(&self, room: &str) -> Option<&RoomLimits> {
        self.rooms.iter().find(|r| eq_ci(&r.room, room))
    }

    /// The bands that apply in `room`.
    pub fn temp_bands(&self, room: &str) -> (Band, Band) {
        match self.room(room) {
            Some(r) => (r.temp_free, r.temp_hard),
            None => (self.temp_free, self.temp_hard),
        }
    }

    /// The volume caps that apply in `room` (free, hard).
    pub fn volume_caps(&self, room: &str) -> (u8, u8) {
        match self.room(room) {
            Some(r) => (r.volume_free_max, r.volume_hard_max),
            None => (self.volume_free_max, self.volume_hard_max),
        }
    }

    /// Classifies a setpoint `target_c` for `room` given the current target (SC-2).
    pub fn temperature(
        &self,
        target_c: f64,
        current_c: Option<f64>,
        room: &str,
    ) -> Result<TempClass, Refusal> {
        let (free, hard) = self.temp_bands(room);
        let scope = if self.room(room).is_some() {
            format!(" in {room}")
        } else {
            String::new()
        };
        if !target_c.is_finite() || !hard.contains(target_c) {
            return Err(Refusal::new(
                "SC-2",
                format!(
                    "{} °C is outside {} °C{scope} ({} °C without consent)",
                    num(target_c),
                    band_text(hard),
                    band_text(free)
                ),
            ));
        }
        let Some(cur) = current_c else {
            return Err(Refusal::new(
                "SC-2",
                "the current target temperature is not known, so the size of the change cannot \
                 be checked; try again when the link reports it",
            ));
        };
        let step = (target_c - cur).abs();
        if step > self.temp_max_step + 1e-9 {
            return Err(Refusal::new(
                "SC-2",
                format!(
                    "{} °C is a change of {} °C from the current target {} °C; at most {} °C at once",
                    num(target_c),
                    num(step),
                    num(cur),
                    num(self.temp_max_step)
                ),
            ));
        }
        Ok(if free.contains(target_c) {
            TempClass::Free
        } else {
            TempClass::NeedsConsent
        })
    }

    /// Classifies a volume for `room` (UCA-A1).
    pub fn volume(&self, v: u8, room: &str) -> Result<VolumeClass, Refusal> {
        let (free, hard) = self.volume_caps(room);
        if v > hard {
            return Err(Refusal::new(
                "UCA-A1",
                format!("volume {v} % is above the absolute cap of {hard} %"),
            ));
        }
        Ok(if v <= free {
            VolumeClass::Free
        } else {
            VolumeClass::NeedsConsent
        })
    }
}

fn check_band(
    key: &str,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<(Option<f64>, Option<f64>), String> {
    for (v, name) in [(min, "temperature_min_c"), (max, "temperature_max_c")] {
        if let Some(v) = v
            && (!v.is_finite() || !TEMP_HARD_C.contains(v))
        {
            return Err(format!(
                "{key}.{name} = {v} would loosen the table: it must lie within {} °C (SC-2)",
                band_text(TEMP_HARD_C)
            ));
        }
    }
    if let (Some(a), Some(b)) = (min, max)
        && a > b
    {
        return Err(format!(
            "{key}.temperature_min_c ({a}) is above temperature_max_c ({b})"
        ));
    }
    Ok((min, max))
}

fn check_volume(key: &str, v: u8) -> Result<u8, String> {
    if v > VOLUME_HARD_MAX {
        return Err(format!(
            "{key} = {v} would loosen the table: it must be at most {VOLUME_HARD_MAX} (UCA-A1)"
        ));
    }
    Ok(v)
}

fn parse_hhmm(key: &str, s: &str) -> Result<u16, String> {
    let bad = || format!("{key} must be HH:MM (24 h), got {s:?}");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> Result<Limits, String> {
        let c = Config::parse(&format!(
            "[miniserver]\nurl=\"http://x\"\nuser=\"u\"\n{extra}"
        ))?;
        Limits::from_config(&c)
    }

    #[test]
    fn the_default_config_gives_the_compiled_table() {
        assert_eq!(cfg("").unwrap(), Limits::default());
    }

    #[test]
    fn config_may_narrow_the_temperature_band() {
        let l = cfg("[limits]\ntemperature_min_c = 18\ntemperature_max_c = 25\n").unwrap();
        assert_eq!(
            l.temp_hard,
            Band {
                min: 18.0,
                max: 25.0
            }
        );
        assert_eq!(
            l.temp_free,
            Band {
                min: 18.0,
                max: 25.0
            }
        );
        assert!(l.temperature(17.9, Some(20.0), "").is_err());
        assert!(l.temperature(25.1, Some(24.0), "").is_err());
        let l = cfg("[limits]\ntemperature_min_c = 12\n").unwrap();
        assert_eq!(
            l.temperature(13.0, Some(16.0), "").unwrap(),
            TempClass::NeedsConsent
        );
        assert!(l.temperature(11.0, Some(16.0), "").is_err());
    }

    #[test]
    fn config_values_that_would_loosen_the_table_are_rejected() {
        for bad in [
            "[limits]\ntemperature_min_c = 5\n",
            "[limits]\ntemperature_max_c = 35\n",
            "[limits]\ntemperature_max_step_c = 10\n",
            "[limits]\ntemperature_max_step_c = 0\n",
            "[limits]\nvolume_max = 90\n",
            "[limits]\ntemperature_min_c = 25\ntemperature_max_c = 20\n",
            "[[limits.room]]\nroom = \"Nursery\"\ntemperature_max_c = 31\n",
            "[[limits.room]]\nroom = \"Nursery\"\nvolume_max = 100\n",
            "[consent]\nintercom_window_s = 600\n",
        ] {
            let e = cfg(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
        let e = cfg("[limits]\ntemperature_max_c = 35\n").unwrap_err();
        assert!(
            e.contains("limits.temperature_max_c") && e.contains("loosen"),
            "{e}"
        );
    }

    #[test]
    fn uca_t3_a_nurserys_band_applies_only_in_the_nursery() {
        let l = cfg(
            "[[limits.room]]\nroom = \"Nursery\"\ntemperature_min_c = 18\ntemperature_max_c = 24\n",
        )
        .unwrap();
        let r = l.temperature(26.0, Some(22.0), "nursery").unwrap_err();
        assert_eq!(r.rule, "SC-2");
        assert!(r.reason.contains("18–24 °C in nursery"), "{r}");
        assert_eq!(
            l.temperature(24.0, Some(22.0), "Nursery").unwrap(),
            TempClass::Free
        );
        assert_eq!(
            l.temperature(26.0, Some(22.0), "Kitchen").unwrap(),
            TempClass::Free
        );
    }

    #[test]
    fn a_room_volume_cap_tightens_only_that_room() {
        let l = cfg("[[limits.room]]\nroom = \"Nursery\"\nvolume_max = 40\n").unwrap();
        assert!(l.volume(41, "Nursery").is_err());
        assert_eq!(l.volume(40, "Nursery").unwrap(), VolumeClass::Free);
        assert_eq!(l.volume(70, "Kitchen").unwrap(), VolumeClass::NeedsConsent);
    }

    #[test]
    fn a_site_volume_cap_below_60_also_lowers_the_free_cap() {
        let l = cfg("[limits]\nvolume_max = 50\n").unwrap();
        assert_eq!(l.volume_caps(""), (50, 50));
        assert!(l.volume(51, "").is_err());
    }

    #[test]
    fn night_hours_parse_and_wrap_midnight() {
        let l =
            cfg("[night]\nstart = \"22:00\"\nend = \"06:30\"\nsleeping_rooms = [\"Bedroom\"]\n")
                .unwrap();
        let n = l.night.unwrap();
        assert!(n.contains(22 * 60) && n.contains(0) && n.contains(6 * 60 + 29));
        assert!(!n.contains(6 * 60 + 30) && !n.contains(12 * 60) && !n.contains(21 * 60 + 59));
        assert!(n.is_sleeping_room("bedroom"));
        for bad in ["24:00", "7:00", "07-00", "07:60", ""] {
            assert!(
                cfg(&format!("[night]\nstart = \"{bad}\"\nend = \"06:00\"\n")).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn config_values_at_the_table_bounds_are_accepted_and_apply() {
        // Tightening up to the table itself is allowed: the bound is not a loosening.
        let l = cfg("[limits]\ntemperature_max_step_c = 6\nvolume_max = 85\n").unwrap();
        assert_eq!(l.volume_caps(""), (VOLUME_FREE_MAX, VOLUME_HARD_MAX));
        let l = cfg("[limits]\ntemperature_max_step_c = 3\n").unwrap();
        assert!(l.temperature(23.0, Some(20.0), "").is_ok());
        let r = l.temperature(23.5, Some(20.0), "").unwrap_err();
        assert_eq!(r.rule, "SC-2");
        assert!(cfg("[limits]\ntemperature_max_step_c = inf\n").is_err());
    }

    #[test]
    fn a_band_of_one_temperature_is_allowed_but_not_an_inverted_one() {
        let l = cfg("[limits]\ntemperature_min_c = 21\ntemperature_max_c = 21\n").unwrap();
        assert!(l.temperature(21.0, Some(21.0), "").is_ok());
        assert_eq!(
            l.temperature(21.5, Some(21.0), "").unwrap_err().rule,
            "SC-2"
        );
        let e = cfg("[limits]\ntemperature_min_c = 22\ntemperature_max_c = 21\n").unwrap_err();
        assert!(e.contains("is above temperature_max_c"), "{e}");
    }

    #[test]
    fn a_room_band_outside_the_site_band_is_a_config_error() {
        let e = cfg(
            "[limits]\ntemperature_max_c = 22\n[[limits.room]]\nroom = \"Nursery\"\ntemperature_min_c = 25\n",
        )
        .unwrap_err();
        assert!(e.contains("does not overlap"), "{e}");
        assert!(
            cfg("[limits]\ntemperature_max_c = 22\n[[limits.room]]\nroom = \"Nursery\"\ntemperature_min_c = 22\n")
                .is_ok()
        );
    }

    #[test]
    fn night_hours_that_do_not_wrap_midnight_and_the_last_minute_of_the_day() {
        let l = cfg("[night]\nstart = \"01:00\"\nend = \"23:59\"\n").unwrap();
        let n = l.night.unwrap();
        assert!(!n.contains(59) && n.contains(60) && n.contains(23 * 60 + 58));
        assert!(!n.contains(23 * 60 + 59));
        let l = cfg("[night]\nstart = \"23:00\"\nend = \"05:00\"\n").unwrap();
        let n = l.night.unwrap();
        assert!(n.contains(23 * 60) && n.contains(4 * 60 + 59) && !n.contains(5 * 60));
    }

    #[test]
    fn non_finite_targets_are_refused() {
        let l = Limits::default();
        assert!(l.temperature(f64::NAN, Some(20.0), "").is_err());
        assert!(l.temperature(f64::INFINITY, Some(20.0), "").is_err());
    }
}
