//! Scores as typed and as shown.

use skein_model::format::trimmed;

/// A typed score: what Rust's `str::parse::<f64>` reads, when finite. On the web the browser's
/// `Number()` converts the checked text (both round a decimal correctly), which keeps core's
/// float parser and its tables out of the trace page's wasm.
pub fn parse_score(text: &str) -> Option<f64> {
    if !is_decimal(text) {
        return None;
    }
    let value = js_number(text);
    value.is_finite().then_some(value)
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Number)]
    fn js_number(text: &str) -> f64;
    /// The shortest text that reads back as the same number (`0.1`, `1e+21`), which
    /// `parse_score` accepts; `f64::to_string` would pull core's float formatting in.
    #[wasm_bindgen(js_name = String)]
    pub fn js_number_text(value: f64) -> String;
}

/// Rust's decimal float syntax: `[+-]digits[.digits][(e|E)[+-]digits]`, with digits on at
/// least one side of the point (`inf` and `NaN` are not finite scores, so not accepted).
fn is_decimal(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let mut mantissa = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A score as shown: `1`, `0.5`, `0.82`, `150`, `0.123` (at most three decimals).
pub fn score_text(score: Option<f64>) -> String {
    match score {
        None => "—".into(),
        Some(s) if s.fract() == 0.0 && s.abs() < 1e15 => format!("{}", s as i64),
        Some(s) if s.abs() >= 1e4 => crate::metrics_view::number(s),
        Some(s) => trimmed(s, 3),
    }
}
