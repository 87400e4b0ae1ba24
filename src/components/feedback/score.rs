//! Scores as typed and as shown.

use skein_model::format::trimmed;

/// A typed score: what Rust's `str::parse::<f64>` reads, when finite (read by the browser's
/// `Number()`, `crate::number`).
pub fn parse_score(text: &str) -> Option<f64> {
    crate::number::parse_finite(text)
}

pub use crate::number::js_number_text;

/// A score as shown: `1`, `0.5`, `0.82`, `150`, `0.123` (at most three decimals).
pub fn score_text(score: Option<f64>) -> String {
    match score {
        None => "—".into(),
        Some(s) if s.fract() == 0.0 && s.abs() < 1e15 => format!("{}", s as i64),
        Some(s) if s.abs() >= 1e4 => crate::metrics_view::number(s),
        Some(s) => trimmed(s, 3),
    }
}
