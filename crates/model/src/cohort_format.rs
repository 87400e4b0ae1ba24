//! How the cohort page writes a comparison's figures (shared with the tests that read them
//! back): durations from milliseconds, per-trace counts, rates and the signed differences of
//! each measure.

use crate::cohort::CohortMeasure;
use crate::format;

/// `12.3 ms` from milliseconds.
pub fn ms(v: f64) -> String {
    format::duration_ns((v * 1e6).round() as i64)
}

/// `1.5`, `0.33`: a count per trace (spans, error spans), two decimals at most.
pub fn per_trace(v: f64) -> String {
    format::trimmed(v, 2)
}

/// `1,234.5`: tokens per trace, one decimal at most.
pub fn tokens(v: f64) -> String {
    let whole = format::trimmed(v, 1);
    // Thousands apart in the whole part only.
    let (int, frac) = whole.split_once('.').unwrap_or((&whole, ""));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// `33.3%` from a share.
pub fn rate(r: f64) -> String {
    format!("{}%", format::fixed(r * 100.0, 1))
}

/// A value of the measure, per trace.
pub fn measure(by: CohortMeasure, v: f64) -> String {
    match by {
        CohortMeasure::Duration => ms(v),
        CohortMeasure::Tokens => tokens(v),
        CohortMeasure::Cost => format::cost_usd(v),
        CohortMeasure::Errors => per_trace(v),
    }
}

/// `+12.3 ms`, `−40`, `+$0.0042`: a difference B − A of the measure, per trace.
pub fn difference(by: CohortMeasure, d: f64) -> String {
    let sign = if d > 0.0 {
        "+"
    } else if d < 0.0 {
        "\u{2212}"
    } else {
        ""
    };
    format!("{sign}{}", measure(by, d.abs()))
}

/// `p = 0.012`, `p < 0.0001`.
pub fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "p < 0.0001".to_string()
    } else if p < 0.001 {
        format!("p = {}", format::fixed(p, 4))
    } else {
        format!("p = {}", format::fixed(p, 3))
    }
}

/// The measure's name in a heading.
pub fn measure_label(by: CohortMeasure) -> &'static str {
    match by {
        CohortMeasure::Duration => "Self time",
        CohortMeasure::Tokens => "Tokens",
        CohortMeasure::Cost => "Cost",
        CohortMeasure::Errors => "Error spans",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_written() {
        assert_eq!(ms(12.345), "12.3 ms");
        assert_eq!(tokens(1234.56), "1,234.6");
        assert_eq!(tokens(-1234567.0), "-1,234,567");
        assert_eq!(tokens(105.5), "105.5");
        assert_eq!(rate(1.0 / 3.0), "33.3%");
        assert_eq!(
            difference(CohortMeasure::Duration, -80.0),
            "\u{2212}80.0 ms"
        );
        assert_eq!(difference(CohortMeasure::Cost, 0.0042), "+$0.0042");
        assert_eq!(difference(CohortMeasure::Errors, 0.0), "0");
        assert_eq!(per_trace(1.0), "1");
        assert_eq!(p_value(0.00002), "p < 0.0001");
    }
}
