//! How the metrics page writes numbers: values with their unit, signed differences, axis
//! ticks and p-values; and how it reads them. Pure (compiled and tested natively, through
//! `metrics_view`).

use skein_model::format::{exponent, fixed};
use skein_model::metrics::{Metric, MetricKind};
use skein_model::num::clamp;
use skein_model::query::ReadNumber;

/// How the page reads a number (a link's threshold, a group's value): the browser's `Number()`
/// in the dashboard (`crate::number`: core's float parser stays out of the page), Rust's
/// parser in the native tests.
#[cfg(target_arch = "wasm32")]
pub const READ_NUMBER: ReadNumber = crate::number::parse_finite;
#[cfg(not(target_arch = "wasm32"))]
pub const READ_NUMBER: ReadNumber = skein_model::query::rust_number;

/// `1.23`, `45.6`, `789`, `12.3k`, `0.00123`: about three significant figures.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return "—".to_string();
    }
    let a = v.abs();
    let text = if a == 0.0 {
        "0".to_string()
    } else if a >= 1e6 {
        format!("{}M", fixed(v / 1e6, 2))
    } else if a >= 1e4 {
        format!("{}k", fixed(v / 1e3, 1))
    } else if a >= 100.0 {
        fixed(v, 0)
    } else if a >= 10.0 {
        fixed(v, 1)
    } else if a >= 1.0 {
        fixed(v, 2)
    } else if a >= 0.001 {
        // Three significant figures below 1.
        let digits = (-(a.log10().floor()) as usize) + 2;
        fixed(v, digits)
    } else {
        exponent(v, 2)
    };
    zero_as_0(text)
}

/// "0" for a number written as zero ("0.00", "-0.0"): the decimals of nothing are noise.
fn zero_as_0(text: String) -> String {
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        "0".to_string()
    } else {
        text
    }
}

/// Axis tick labels for values from `low` to `high`: one number of decimals for the whole
/// axis (`0.00, 0.25, 0.50`), `k`/`M` for large values; rates as percentages.
pub fn tick(low: f64, high: f64, rate: bool) -> impl Fn(&f64) -> String {
    let scale = if rate { 100.0 } else { 1.0 };
    let top = (low.abs().max(high.abs()) * scale).max(f64::MIN_POSITIVE);
    let (divisor, suffix) = if top >= 1e6 {
        (1e6, "M")
    } else if top >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let step = ((high - low).abs() * scale / divisor / 5.0).max(1e-9);
    let decimals = clamp(-step.log10().floor(), 0.0, 6.0) as usize;
    let percent = if rate { "%" } else { "" };
    move |v: &f64| {
        let x = v * scale / divisor;
        let text = zero_as_0(fixed(x, decimals));
        format!("{text}{suffix}{percent}")
    }
}

/// A value of a metric with its unit: `412 ms`, `3.2k tokens`, `$0.0123`, `12.5%`, `0.82`.
pub fn value(v: f64, metric: &Metric) -> String {
    match metric.kind() {
        MetricKind::Rate => format!("{}%", number(v * 100.0)),
        MetricKind::Count => number(v),
        MetricKind::Value => match metric.unit() {
            "ms" => format!("{} ms", number(v)),
            "USD" => {
                if v < 0.0 {
                    format!("−${}", number(-v))
                } else {
                    format!("${}", number(v))
                }
            }
            "tokens" => format!("{} tokens", number(v)),
            _ => number(v),
        },
    }
}

/// A difference of a metric (`a − b`), signed: `+12 ms`, `−3.1 pp` (percentage points).
pub fn difference(d: f64, metric: &Metric) -> String {
    let sign = if d > 0.0 {
        "+"
    } else if d < 0.0 {
        "−"
    } else {
        ""
    };
    let body = match metric.kind() {
        MetricKind::Rate => format!("{} pp", number(d.abs() * 100.0)),
        _ => value(d.abs(), metric),
    };
    format!("{sign}{body}")
}

/// `p = 0.031`, `p < 0.0001`.
pub fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "p < 0.0001".to_string()
    } else if p < 0.001 {
        format!("p = {}", fixed(p, 4))
    } else {
        format!("p = {}", fixed(p, 3))
    }
}
