//! The marks on a session's timeline: round steps of time since its first request.

/// A mark on a session's timeline: where it falls (fraction of the width) and its label, the
/// time since the session's first request (`+5m`).
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineTick {
    pub frac: f64,
    pub label: String,
}

/// Round steps for a session timeline, in seconds.
const TIMELINE_STEPS_S: [i64; 21] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200,
    86_400, 172_800, 604_800, 2_592_000,
];

/// At most `max_ticks` round ticks over a session lasting `span_ns`, from its start.
pub fn timeline_ticks(span_ns: i64, max_ticks: usize) -> Vec<TimelineTick> {
    let span_s = span_ns.max(1) as f64 / 1e9;
    let max_ticks = max_ticks.max(1);
    let step = TIMELINE_STEPS_S
        .iter()
        .copied()
        .find(|&s| span_s / s as f64 <= max_ticks as f64)
        .unwrap_or(TIMELINE_STEPS_S[TIMELINE_STEPS_S.len() - 1]);
    (0..)
        .map(|k| k * step)
        .take_while(|&t| t as f64 <= span_s)
        .map(|t| TimelineTick {
            frac: t as f64 / span_s,
            label: offset_label(t),
        })
        .collect()
}

/// `start`, `+45s`, `+5m`, `+1h 30m`, `+2d`: the time since the session's first request (its
/// first request itself, and anything at the same second, says `start`, not a bare `+0`).
pub fn offset_label(seconds: i64) -> String {
    let s = seconds.max(0);
    if s == 0 {
        "start".to_string()
    } else if s < 60 {
        format!("+{s}s")
    } else if s < 3_600 {
        if s % 60 == 0 {
            format!("+{}m", s / 60)
        } else {
            format!("+{}m {:02}s", s / 60, s % 60)
        }
    } else if s < 86_400 {
        let m = (s % 3_600) / 60;
        if m == 0 {
            format!("+{}h", s / 3_600)
        } else {
            format!("+{}h {:02}m", s / 3_600, m)
        }
    } else {
        let h = (s % 86_400) / 3_600;
        if h == 0 {
            format!("+{}d", s / 86_400)
        } else {
            format!("+{}d {}h", s / 86_400, h)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_ticks_are_round_and_fit() {
        // A 22-minute session, at most 6 ticks: every 5 minutes.
        let ticks = timeline_ticks(22 * 60 * 1_000_000_000, 6);
        let labels: Vec<&str> = ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["start", "+5m", "+10m", "+15m", "+20m"]);
        assert_eq!(ticks[0].frac, 0.0);
        assert!(ticks.iter().all(|t| (0.0..=1.0).contains(&t.frac)));
        // A single short request: seconds.
        let ticks = timeline_ticks(3_500_000_000, 4);
        assert_eq!(ticks[1].label, "+1s");
        assert!(!timeline_ticks(0, 5).is_empty());
        assert_eq!(offset_label(90), "+1m 30s");
        assert_eq!(offset_label(5_400), "+1h 30m");
        assert_eq!(offset_label(7_200), "+2h");
        assert_eq!(offset_label(90_000), "+1d 1h");
    }
}
