//! Human-readable numbers for the dashboard: durations, token counts, costs.

/// `1.23 s`, `45.6 ms`, `789 µs`, `2m 05s`: three significant figures, a unit that fits.
pub fn duration_ns(ns: i64) -> String {
    let ns = ns.max(0) as f64;
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
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
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// `950`, `1.2k`, `34k`, `1.5M`.
pub fn count(n: i64) -> String {
    let a = n.unsigned_abs() as f64;
    let sign = if n < 0 { "-" } else { "" };
    if a < 1_000.0 {
        format!("{n}")
    } else if a < 10_000.0 {
        format!("{sign}{:.1}k", a / 1_000.0)
    } else if a < 1_000_000.0 {
        format!("{sign}{:.0}k", a / 1_000.0)
    } else if a < 10_000_000.0 {
        format!("{sign}{:.1}M", a / 1_000_000.0)
    } else {
        format!("{sign}{:.0}M", a / 1_000_000.0)
    }
}

/// `$0.0042`, `$1.25`: enough digits to tell small LLM costs apart.
pub fn cost_usd(cost: f64) -> String {
    if cost == 0.0 {
        "$0".to_string()
    } else if cost.abs() < 0.01 {
        format!("${cost:.4}")
    } else if cost.abs() < 100.0 {
        format!("${cost:.2}")
    } else {
        format!("${cost:.0}")
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
    fn ago_is_relative() {
        assert_eq!(ago(0, 30_000), "30s ago");
        assert_eq!(ago(0, 7_200_000), "2h ago");
        assert_eq!(ago(0, 3 * 86_400_000), "3d ago");
    }
}
