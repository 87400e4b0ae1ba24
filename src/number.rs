//! Numbers typed or in a link, read by the browser (`Number()`) instead of core's float
//! parser, and written by it (`String()`) instead of core's float formatting.

/// What Rust's `str::parse::<f64>` reads, when finite: the browser's `Number()` converts the
/// checked text (both round a decimal correctly), which keeps core's float parser and its
/// tables out of the pages' wasm.
pub fn parse_finite(text: &str) -> Option<f64> {
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
    /// `parse_finite` accepts; `f64::to_string` would pull core's float formatting in.
    #[wasm_bindgen(js_name = String)]
    pub fn js_number_text(value: f64) -> String;
}

/// Rust's decimal float syntax: `[+-]digits[.digits][(e|E)[+-]digits]`, with digits on at
/// least one side of the point (`inf` and `NaN` are not finite, so not accepted).
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
