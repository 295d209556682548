//! The TZif format (RFC 8536, versions 1–4) and its POSIX-TZ footer, read into transitions and
//! a rule for the years after them; the civil-date arithmetic they need.

use crate::clock::civil::{civil_from_days, days_from_civil};
pub(super) struct Header {
    pub(super) version: u8,
    pub(super) isutcnt: usize,
    pub(super) isstdcnt: usize,
    pub(super) leapcnt: usize,
    pub(super) timecnt: usize,
    pub(super) typecnt: usize,
    pub(super) charcnt: usize,
}

impl Header {
    pub(super) fn read(b: &[u8], at: usize) -> Result<Header, String> {
        let h = b
            .get(at..at + 44)
            .ok_or("the file is too short for a TZif header")?;
        if &h[..4] != b"TZif" {
            return Err("not a TZif file".into());
        }
        let version = match h[4] {
            0 => 1,
            v @ b'2'..=b'9' => v - b'0',
            _ => return Err("unknown TZif version".into()),
        };
        let n = |i: usize| -> usize {
            u32::from_be_bytes([h[20 + 4 * i], h[21 + 4 * i], h[22 + 4 * i], h[23 + 4 * i]])
                as usize
        };
        let hd = Header {
            version,
            isutcnt: n(0),
            isstdcnt: n(1),
            leapcnt: n(2),
            timecnt: n(3),
            typecnt: n(4),
            charcnt: n(5),
        };
        // Limits far above any real zone keep arithmetic on hostile files small.
        if hd.timecnt > 100_000 || hd.typecnt > 256 || hd.charcnt > 10_000 || hd.leapcnt > 10_000 {
            return Err("implausible counts in the TZif header".into());
        }
        Ok(hd)
    }

    pub(super) fn data_len(&self, width: usize) -> usize {
        self.timecnt * width
            + self.timecnt
            + self.typecnt * 6
            + self.charcnt
            + self.leapcnt * (width + 4)
            + self.isstdcnt
            + self.isutcnt
    }
}

/// The footer: `\n` + POSIX TZ rule + `\n` (an empty rule means "no rule").
pub(super) fn footer(rest: &[u8]) -> Result<Option<Rule>, String> {
    let Some(body) = rest.strip_prefix(b"\n") else {
        return Ok(None);
    };
    let end = body
        .iter()
        .position(|c| *c == b'\n')
        .ok_or("unterminated footer")?;
    let text = std::str::from_utf8(&body[..end]).map_err(|_| "the footer is not text")?;
    if text.is_empty() {
        return Ok(None);
    }
    Rule::parse(text).map(Some)
}

/// A POSIX TZ rule: standard offset, and optionally a daylight offset with its start and end.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Seconds east of UTC.
    pub(super) std: i32,
    pub(super) dst: Option<Dst>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Dst {
    pub(super) offset: i32,
    pub(super) start: (Day, i32),
    pub(super) end: (Day, i32),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Day {
    /// `Jn`: 1–365, February 29 never counted.
    Julian1(u16),
    /// `n`: 0–365, leap days counted.
    Julian0(u16),
    /// `Mm.w.d`: day `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    Month(u8, u8, u8),
}

impl Rule {
    pub fn parse(s: &str) -> Result<Rule, String> {
        let mut p = Cursor {
            s: s.as_bytes(),
            i: 0,
        };
        p.name()?;
        let std = -p.offset()?;
        if p.done() {
            return Ok(Rule { std, dst: None });
        }
        p.name()?;
        let offset = if p.peek().is_some_and(|c| c != b',') {
            -p.offset()?
        } else {
            std + 3600
        };
        let (start, end) = if p.eat(b',') {
            let start = p.date_time()?;
            if !p.eat(b',') {
                return Err("a daylight rule needs a start and an end".into());
            }
            (start, p.date_time()?)
        } else {
            // No rule given: POSIX leaves it to the implementation; the US rule is common.
            ((Day::Month(3, 2, 0), 7200), (Day::Month(11, 1, 0), 7200))
        };
        if !p.done() {
            return Err(format!("unexpected text at position {}", p.i));
        }
        Ok(Rule {
            std,
            dst: Some(Dst { offset, start, end }),
        })
    }

    pub fn offset_at(&self, unix: i64) -> i32 {
        let Some(d) = &self.dst else {
            return self.std;
        };
        let year = civil_from_days((unix + i64::from(self.std)).div_euclid(86_400)).0;
        // The year as local standard time counts it; in the southern hemisphere daylight time
        // spans new year, so the transitions of that one year still decide.
        let start = day_of(year, d.start.0) * 86_400 + i64::from(d.start.1) - i64::from(self.std);
        let end = day_of(year, d.end.0) * 86_400 + i64::from(d.end.1) - i64::from(d.offset);
        let in_dst = if start < end {
            unix >= start && unix < end
        } else {
            !(unix >= end && unix < start)
        };
        if in_dst { d.offset } else { self.std }
    }
}

pub(super) struct Cursor<'a> {
    pub(super) s: &'a [u8],
    pub(super) i: usize,
}

impl Cursor<'_> {
    pub(super) fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    pub(super) fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    pub(super) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    pub(super) fn name(&mut self) -> Result<(), String> {
        let start = self.i;
        if self.eat(b'<') {
            while let Some(c) = self.peek() {
                self.i += 1;
                if c == b'>' {
                    return if self.i - start >= 5 {
                        Ok(())
                    } else {
                        Err("a zone abbreviation needs at least 3 characters".into())
                    };
                }
            }
            return Err("unclosed < in a zone abbreviation".into());
        }
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        if self.i - start < 3 {
            return Err("a zone abbreviation needs at least 3 letters".into());
        }
        Ok(())
    }
    pub(super) fn number(&mut self, max_digits: usize) -> Result<i64, String> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) && self.i - start < max_digits {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("a number expected at position {start}"))
    }
    /// `[+-]hh[:mm[:ss]]` in seconds, as written (POSIX: positive = west of UTC).
    pub(super) fn offset(&mut self) -> Result<i32, String> {
        let sign = if self.eat(b'-') {
            -1
        } else {
            self.eat(b'+');
            1
        };
        let h = self.number(3)?;
        let mut secs = h * 3600;
        if self.eat(b':') {
            secs += self.number(2)? * 60;
            if self.eat(b':') {
                secs += self.number(2)?;
            }
        }
        if h > 167 {
            return Err("an hour offset above 167".into());
        }
        Ok(sign * secs as i32)
    }
    pub(super) fn date_time(&mut self) -> Result<(Day, i32), String> {
        let day = if self.eat(b'J') {
            let n = self.number(3)?;
            if !(1..=365).contains(&n) {
                return Err("Jn needs n from 1 to 365".into());
            }
            Day::Julian1(n as u16)
        } else if self.eat(b'M') {
            let m = self.number(2)?;
            let dot1 = self.eat(b'.');
            let w = self.number(1)?;
            let dot2 = self.eat(b'.');
            let d = self.number(1)?;
            if !dot1 || !dot2 || !(1..=12).contains(&m) || !(1..=5).contains(&w) || d > 6 {
                return Err("Mm.w.d needs m 1–12, w 1–5, d 0–6".into());
            }
            Day::Month(m as u8, w as u8, d as u8)
        } else {
            let n = self.number(3)?;
            if n > 365 {
                return Err("n needs 0 to 365".into());
            }
            Day::Julian0(n as u16)
        };
        let time = if self.eat(b'/') { self.offset()? } else { 7200 };
        Ok((day, time))
    }
}

pub(super) fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(super) fn month_len(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of the rule day in year `y`.
pub(super) fn day_of(y: i64, d: Day) -> i64 {
    let jan1 = days_from_civil(y, 1, 1);
    match d {
        Day::Julian1(n) => {
            let n = i64::from(n);
            jan1 + n - 1 + i64::from(is_leap(y) && n >= 60)
        }
        Day::Julian0(n) => jan1 + i64::from(n),
        Day::Month(m, w, wd) => {
            let m = u32::from(m);
            let first = days_from_civil(y, m, 1);
            // 1970-01-01 was a Thursday (4).
            let first_wd = (first + 4).rem_euclid(7);
            let mut day = 1 + (i64::from(wd) - first_wd).rem_euclid(7) + 7 * (i64::from(w) - 1);
            while day > i64::from(month_len(y, m)) {
                day -= 7;
            }
            first + day - 1
        }
    }
}
