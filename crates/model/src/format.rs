//! Human-readable numbers for the dashboard: durations, token counts, costs.
//!
//! Decimals are written by `fixed` and `exponent`, not `format!("{:.2}")`: core's float
//! formatting (Grisu with a Dragon4 fallback) is wasm that every page would download (its size:
//! bench/README.md, Bundle).

/// `v` with `decimals` digits after the point (at most 9), like `format!("{v:.decimals$}")`,
/// except that a value that rounds to zero has no sign ("-0.00" reads as a sign error). Ties go
/// to even; where `v` times 10^decimals lands on a tie that the exact value misses, the last
/// digit may be one off. From 1e21 on, like JavaScript's `toFixed`, the form of `exponent`.
pub fn fixed(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return non_finite(v);
    }
    if v.abs() >= 1e21 {
        return exponent(v, decimals.min(3));
    }
    let decimals = decimals.min(9);
    let scale = 10u128.pow(decimals as u32);
    // The whole part and the fraction apart: both are exact, and the fraction scaled keeps
    // every digit (a whole-number product would lose the last ones beyond 2^53).
    let a = v.abs();
    if decimals == 0 {
        let units = a.round_ties_even() as u128;
        let sign = if v.is_sign_negative() && units != 0 {
            "-"
        } else {
            ""
        };
        return format!("{sign}{units}");
    }
    let whole = a.trunc();
    let mut units = whole as u128;
    let mut fraction = ((a - whole) * scale as f64).round_ties_even() as u128;
    if fraction == scale {
        units += 1;
        fraction = 0;
    }
    let mut text = String::new();
    // Only a result other than zero keeps its sign.
    if v.is_sign_negative() && (units != 0 || fraction != 0) {
        text.push('-');
    }
    text.push_str(&units.to_string());
    let fraction = fraction.to_string();
    text.push('.');
    text.extend(std::iter::repeat_n('0', decimals - fraction.len()));
    text.push_str(&fraction);
    text
}

/// `250`, `1.5`, `0.000125`: a number for a URL or an input, to a millionth, without trailing
/// zeros (`v.to_string()` would pull in core's float formatting).
pub fn plain(v: f64) -> String {
    trimmed(v, 6)
}

/// `fixed(v, decimals)` without the trailing zeros (nor a trailing point): `0.5`, `2`.
pub fn trimmed(v: f64, decimals: usize) -> String {
    let text = fixed(v, decimals);
    if text.contains('e') || !text.contains('.') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `1.23e-5`, `-4.00e7`: `v` in exponent form with `decimals` digits after the point, like
/// `format!("{v:.decimals$e}")`.
pub fn exponent(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return non_finite(v);
    }
    let a = v.abs();
    let mut power = if a == 0.0 {
        0
    } else {
        a.log10().floor() as i32
    };
    let mut mantissa = if a == 0.0 { 0.0 } else { a / 10f64.powi(power) };
    // log10 and the division may be off by a hair around powers of ten, and rounding to the
    // decimals may carry into a tenth digit ("10.00"): normalise to 1 ≤ mantissa < 10.
    let digits = 10f64.powi(decimals.min(9) as i32);
    if a != 0.0 && (mantissa * digits).round_ties_even() >= 10.0 * digits {
        power += 1;
        mantissa /= 10.0;
    } else if a != 0.0 && mantissa < 1.0 {
        power -= 1;
        mantissa *= 10.0;
    }
    let sign = if v.is_sign_negative() && a != 0.0 {
        "-"
    } else {
        ""
    };
    format!("{sign}{}e{power}", fixed(mantissa, decimals))
}

fn non_finite(v: f64) -> String {
    match v {
        v if v.is_nan() => "NaN",
        v if v > 0.0 => "inf",
        _ => "-inf",
    }
    .to_string()
}

/// `1.23 s`, `45.6 ms`, `789 µs`, `2m 05s`: three significant figures, a unit that fits.
pub fn duration_ns(ns: i64) -> String {
    let ns = ns.max(0) as f64;
    if ns < 1_000.0 {
        format!("{} ns", fixed(ns, 0))
    } else if ns < 1_000_000.0 {
        format!("{} µs", three_figures(ns / 1_000.0))
    } else if ns < 1_000_000_000.0 {
        format!("{} ms", three_figures(ns / 1_000_000.0))
    } else if ns < 60_000_000_000.0 {
        format!("{} s", three_figures(ns / 1_000_000_000.0))
    } else if ns < 3_600_000_000_000.0 {
        let s = (ns / 1_000_000_000.0).round() as i64;
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        let m = (ns / 60_000_000_000.0).round() as i64;
        format!("{}h {:02}m", m / 60, m % 60)
    }
}

/// `+12.3 ms`, `−4.50 ms`, `0 ns`: a duration that may go either way (a shift, a gap).
pub fn signed_duration_ns(ns: i64) -> String {
    let sign = match ns.signum() {
        1 => "+",
        -1 => "\u{2212}",
        _ => "",
    };
    format!("{sign}{}", duration_ns(ns.saturating_abs()))
}

fn three_figures(v: f64) -> String {
    if v >= 100.0 {
        fixed(v, 0)
    } else if v >= 10.0 {
        fixed(v, 1)
    } else {
        fixed(v, 2)
    }
}

/// `950`, `1.2k`, `34k`, `1.5M`.
pub fn count(n: i64) -> String {
    let a = n.unsigned_abs() as f64;
    let sign = if n < 0 { "-" } else { "" };
    if a < 1_000.0 {
        format!("{n}")
    } else if a < 10_000.0 {
        format!("{sign}{}k", fixed(a / 1_000.0, 1))
    } else if a < 1_000_000.0 {
        format!("{sign}{}k", fixed(a / 1_000.0, 0))
    } else if a < 10_000_000.0 {
        format!("{sign}{}M", fixed(a / 1_000_000.0, 1))
    } else {
        format!("{sign}{}M", fixed(a / 1_000_000.0, 0))
    }
}

/// `$0.0042`, `$1.25`: enough digits to tell small LLM costs apart.
pub fn cost_usd(cost: f64) -> String {
    if cost == 0.0 {
        "$0".to_string()
    } else if cost.abs() < 0.01 {
        format!("${}", fixed(cost, 4))
    } else if cost.abs() < 100.0 {
        format!("${}", fixed(cost, 2))
    } else {
        format!("${}", fixed(cost, 0))
    }
}

/// `3s ago`, `5m ago`, `2h ago`, `4d ago` from two Unix-millisecond times.
pub fn ago(then_ms: i64, now_ms: i64) -> String {
    let s = ((now_ms - then_ms) / 1000).max(0);
    if s < 60 {
        format!("{s}s ago")
    } else if s < 3600 {
        format!("{}m ago", s / 60)
    } else if s < 86_400 {
        format!("{}h ago", s / 3600)
    } else {
        format!("{}d ago", s / 86_400)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn signed_durations_show_their_direction() {
        assert_eq!(signed_duration_ns(12_300_000), "+12.3 ms");
        assert_eq!(signed_duration_ns(-4_500_000), "\u{2212}4.50 ms");
        assert_eq!(signed_duration_ns(0), "0 ns");
    }
    use super::*;

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(duration_ns(512), "512 ns");
        assert_eq!(duration_ns(1_500), "1.50 µs");
        assert_eq!(duration_ns(45_600_000), "45.6 ms");
        assert_eq!(duration_ns(1_234_000_000), "1.23 s");
        assert_eq!(duration_ns(125_000_000_000), "2m 05s");
        assert_eq!(duration_ns(-5), "0 ns");
    }

    #[test]
    fn counts_and_costs_are_short() {
        assert_eq!(count(950), "950");
        assert_eq!(count(1_234), "1.2k");
        assert_eq!(count(34_000), "34k");
        assert_eq!(count(1_500_000), "1.5M");
        assert_eq!(cost_usd(0.0042), "$0.0042");
        assert_eq!(cost_usd(1.254), "$1.25");
    }

    #[test]
    fn fixed_writes_what_format_writes() {
        for (v, decimals, expected) in [
            (0.0, 2, "0.00"),
            (1.5, 0, "2"),
            (2.5, 0, "2"),
            (0.125, 2, "0.12"),
            (45.6, 1, "45.6"),
            (1.005, 2, "1.00"),
            (99.999, 2, "100.00"),
            (0.0042, 4, "0.0042"),
            (-3.14449, 3, "-3.144"),
            (-0.001, 2, "0.00"),
            (123_456_789.0, 0, "123456789"),
            (1e20, 1, "100000000000000000000.0"),
            (1e21, 2, "1.00e21"),
            (f64::NAN, 2, "NaN"),
            (f64::NEG_INFINITY, 1, "-inf"),
        ] {
            assert_eq!(fixed(v, decimals), expected, "{v} to {decimals} decimals");
        }
        // A sweep of magnitudes and fractions, against format! (which rounds the exact value).
        let mut v = 1.0e-6_f64;
        while v < 1e15 {
            for x in [v, -v, v * 1.37, v * 2.5, v * 7.77777] {
                for decimals in 0..=6 {
                    let theirs = format!("{x:.decimals$}");
                    let zero = theirs.chars().all(|c| matches!(c, '-' | '0' | '.'));
                    let theirs = if zero {
                        theirs.trim_start_matches('-')
                    } else {
                        &theirs
                    };
                    assert_eq!(fixed(x, decimals), theirs, "{x} to {decimals} decimals");
                }
            }
            v *= 3.3;
        }
    }

    #[test]
    fn plain_numbers_drop_trailing_zeros() {
        assert_eq!(plain(250.0), "250");
        assert_eq!(plain(1.5), "1.5");
        assert_eq!(plain(0.000125), "0.000125");
        assert_eq!(plain(-2.0), "-2");
        assert_eq!(plain(0.0), "0");
        assert_eq!(trimmed(0.8234, 3), "0.823");
        assert_eq!(trimmed(0.5, 3), "0.5");
        assert_eq!(trimmed(2.0004, 3), "2");
    }

    #[test]
    fn exponent_writes_what_format_writes() {
        for (v, expected) in [
            (0.0, "0.00e0"),
            (0.000_012_345, "1.23e-5"),
            (-40_000_000.0, "-4.00e7"),
            (9.999, "1.00e1"),
            (1e-300, "1.00e-300"),
            (1.7e308, "1.70e308"),
        ] {
            assert_eq!(exponent(v, 2), expected);
            assert_eq!(format!("{v:.2e}"), expected);
        }
    }

    #[test]
    fn ago_is_relative() {
        assert_eq!(ago(0, 30_000), "30s ago");
        assert_eq!(ago(0, 7_200_000), "2h ago");
        assert_eq!(ago(0, 3 * 86_400_000), "3d ago");
    }
}
