//! Medians, spreads and percentiles of a handful of samples, and one row of the table.

/// Samples of one figure (any unit).
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn new(mut v: Vec<f64>) -> Samples {
        v.sort_by(f64::total_cmp);
        Samples(v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The value below which `q` (0–1) of the samples lie (nearest rank).
    pub fn pct(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let rank = (q * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    pub fn median(&self) -> f64 {
        self.pct(0.5)
    }

    pub fn min(&self) -> f64 {
        self.0.first().copied().unwrap_or(f64::NAN)
    }

    pub fn max(&self) -> f64 {
        self.0.last().copied().unwrap_or(f64::NAN)
    }
}

/// Whether a figure is within its budget.
#[derive(Clone, Copy, PartialEq)]
pub enum Verdict {
    Within,
    Over,
    /// No budget, or nothing measured.
    None,
}

/// One row of the Markdown table.
pub struct Row {
    pub figure: String,
    pub budget: String,
    pub median: String,
    pub spread: String,
    pub runs: String,
    pub verdict: Verdict,
}

impl Row {
    /// A row for a figure where lower is better: median and min–max with `unit`, checked
    /// against `budget` (same unit) when there is one.
    pub fn lower(figure: &str, s: &Samples, unit: &str, digits: usize, budget: Option<f64>) -> Row {
        Row {
            figure: figure.into(),
            budget: budget.map_or("—".into(), |b| format!("≤ {} {unit}", num(b, digits))),
            median: format!("{} {unit}", num(s.median(), digits)),
            spread: format!("{}–{}", num(s.min(), digits), num(s.max(), digits)),
            runs: s.len().to_string(),
            verdict: match budget {
                _ if s.len() == 0 => Verdict::None,
                Some(b) if s.median() <= b => Verdict::Within,
                Some(_) => Verdict::Over,
                None => Verdict::None,
            },
        }
    }

    /// A row for something that could not be measured.
    pub fn missing(figure: &str, budget: &str, why: &str) -> Row {
        Row {
            figure: figure.into(),
            budget: budget.into(),
            median: format!("not measured: {why}"),
            spread: "—".into(),
            runs: "0".into(),
            verdict: Verdict::None,
        }
    }
}

/// `v` with `digits` decimals.
pub fn num(v: f64, digits: usize) -> String {
    format!("{v:.digits$}")
}

/// The table, GitHub Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| figure | budget | median | spread (min–max) | runs | |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let mark = match r.verdict {
            Verdict::Within => "within",
            Verdict::Over => "**over**",
            Verdict::None => "",
        };
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {mark} |\n",
            r.figure, r.budget, r.median, r.spread, r.runs
        ));
    }
    t
}
