//! The trace explorer's time axis: which stretch of the trace the waterfall shows (zoom), where
//! a span's bar goes in it, the ruler's ticks, and the minimap's activity profile.
//!
//! Times are microseconds after the skeleton's start (`TraceSkeleton::start_ns`), as `f64`;
//! positions are fractions of the waterfall's width (0 = left edge, 1 = right edge).

use crate::num::clamp;

/// The narrowest window a zoom may produce (µs).
pub const MIN_WINDOW_US: f64 = 1.0;

/// A stretch of trace time shown across the waterfall's width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeWindow {
    pub start: f64,
    pub end: f64,
}

/// A bar's place in the window, as fractions of its width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub left: f64,
    pub width: f64,
    /// The span starts before the window (its bar is cut at the left edge).
    pub cut_left: bool,
    /// The span ends after the window.
    pub cut_right: bool,
}

impl TimeWindow {
    /// A window from `start` to `end`, at least `MIN_WINDOW_US` wide.
    pub fn new(start: f64, end: f64) -> TimeWindow {
        let (a, b) = if end < start {
            (end, start)
        } else {
            (start, end)
        };
        let b = b.max(a + MIN_WINDOW_US);
        TimeWindow { start: a, end: b }
    }

    pub fn width(&self) -> f64 {
        self.end - self.start
    }

    /// Where time `t` falls (unclamped: outside 0..1 when off screen).
    pub fn frac(&self, t: f64) -> f64 {
        (t - self.start) / self.width()
    }

    /// The time at a fraction of the width.
    pub fn at(&self, frac: f64) -> f64 {
        self.start + frac * self.width()
    }

    /// The bar of a span from `start` to `end`, clipped to the window; `None` when it lies
    /// wholly outside. A bar is at least `min_width` wide (a fraction, so that a 1 µs span in
    /// a 10 s trace still shows), pulled left if that would cross the right edge.
    pub fn bar(&self, start: f64, end: f64, min_width: f64) -> Option<Bar> {
        let end = end.max(start);
        if end < self.start || start > self.end {
            return None;
        }
        let left = self.frac(start).max(0.0);
        let right = self.frac(end).min(1.0);
        let min_width = clamp(min_width, 0.0, 1.0);
        let mut width = (right - left).max(min_width);
        let mut left = left;
        if left + width > 1.0 {
            left = (1.0 - width).max(0.0);
            width = width.min(1.0);
        }
        Some(Bar {
            left,
            width,
            cut_left: start < self.start,
            cut_right: end > self.end,
        })
    }

    /// The window between two fractions of this one (a drag on the ruler or minimap, in
    /// either direction), kept inside `bounds`.
    pub fn select(&self, a: f64, b: f64, bounds: TimeWindow) -> TimeWindow {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        TimeWindow::new(self.at(a), self.at(b)).within(bounds)
    }

    /// This window moved and, if need be, shrunk to lie inside `bounds`.
    pub fn within(&self, bounds: TimeWindow) -> TimeWindow {
        let width = self.width().min(bounds.width());
        let start = clamp(
            self.start,
            bounds.start,
            (bounds.end - width).max(bounds.start),
        );
        TimeWindow::new(start, start + width)
    }

    /// Zoomed by `factor` (< 1 zooms in) around the point at fraction `anchor`, inside `bounds`.
    pub fn zoom(&self, factor: f64, anchor: f64, bounds: TimeWindow) -> TimeWindow {
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        let pivot = self.at(clamp(anchor, 0.0, 1.0));
        let width = (self.width() * factor).max(MIN_WINDOW_US);
        let start = pivot - clamp(anchor, 0.0, 1.0) * width;
        TimeWindow::new(start, start + width).within(bounds)
    }

    /// Moved by `frac` of its width (negative: earlier), inside `bounds`.
    pub fn pan(&self, frac: f64, bounds: TimeWindow) -> TimeWindow {
        let shift = frac * self.width();
        TimeWindow::new(self.start + shift, self.end + shift).within(bounds)
    }

    /// True when this window shows less than `whole`.
    pub fn is_zoomed_in(&self, whole: TimeWindow) -> bool {
        self.start > whole.start + 1e-9 || self.end < whole.end - 1e-9
    }
}

/// One mark on the ruler.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// µs after the origin (the trace's start as shown).
    pub time: f64,
    /// Fraction of the window's width.
    pub frac: f64,
    pub label: String,
}

/// A round step (1, 2 or 5 × 10ⁿ µs) that gives at most `max_ticks` ticks over `width`.
pub fn tick_step(width: f64, max_ticks: usize) -> f64 {
    let raw = (width / max_ticks.max(1) as f64).max(1e-3);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// Ruler ticks for the window: round times after `origin` (the trace's start as shown, where
/// the ruler reads 0), labelled in one unit chosen for the window (µs, ms or s) with as many
/// decimals as the step needs.
pub fn ticks(window: TimeWindow, origin: f64, max_ticks: usize) -> Vec<Tick> {
    let step = tick_step(window.width(), max_ticks);
    let (from, to) = (window.start - origin, window.end - origin);
    let biggest = from.abs().max(to.abs());
    let (unit, suffix) = if biggest >= 1_000_000.0 {
        (1_000_000.0, "s")
    } else if biggest >= 1_000.0 {
        (1_000.0, "ms")
    } else {
        (1.0, "µs")
    };
    let decimals = ((unit / step).log10().ceil().max(0.0) as usize).min(6);
    let first = (from / step).ceil();
    let mut out = Vec::new();
    let mut k = first;
    loop {
        let time = k * step;
        if time > to + step * 1e-9 || out.len() > max_ticks * 2 + 2 {
            break;
        }
        let label = if time.abs() < step * 1e-9 {
            "0".to_string()
        } else {
            format!("{} {suffix}", crate::format::fixed(time / unit, decimals))
        };
        out.push(Tick {
            time,
            frac: window.frac(origin + time),
            label,
        });
        k += 1.0;
    }
    out
}

/// The minimap's profile: how many spans are running in each of `buckets` equal slices of
/// `window` (a span counts in every slice it overlaps), in O(spans + buckets).
pub fn activity(
    spans: impl Iterator<Item = (i64, i64)>,
    window: TimeWindow,
    buckets: usize,
) -> Vec<u32> {
    let buckets = buckets.max(1);
    let mut diff = vec![0i64; buckets + 1];
    let last = (buckets - 1) as f64;
    for (start, end) in spans {
        let a = window.frac(start as f64) * buckets as f64;
        let b = window.frac(end.max(start) as f64) * buckets as f64;
        if b < 0.0 || a > buckets as f64 {
            continue;
        }
        let a = clamp(a.floor(), 0.0, last) as usize;
        let b = clamp(b.floor(), 0.0, last) as usize;
        diff[a] += 1;
        diff[b + 1] -= 1;
    }
    let mut running = 0i64;
    diff[..buckets]
        .iter()
        .map(|d| {
            running += d;
            running.max(0) as u32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn bars_are_placed_clipped_and_never_vanish() {
        let w = TimeWindow::new(0.0, 1_000.0);
        let bar = w.bar(250.0, 500.0, 0.0).unwrap();
        assert!(close(bar.left, 0.25) && close(bar.width, 0.25));
        assert!(!bar.cut_left && !bar.cut_right);
        // A zero-length span keeps a minimum width; at the right edge it is pulled left.
        let tiny = w.bar(400.0, 400.0, 0.002).unwrap();
        assert!(close(tiny.width, 0.002));
        let edge = w.bar(1_000.0, 1_000.0, 0.01).unwrap();
        assert!(close(edge.left + edge.width, 1.0));
        // Zoomed in: cut at the edges, or not shown at all.
        let z = TimeWindow::new(300.0, 400.0);
        let cut = z.bar(250.0, 500.0, 0.0).unwrap();
        assert!(close(cut.left, 0.0) && close(cut.width, 1.0));
        assert!(cut.cut_left && cut.cut_right);
        assert_eq!(z.bar(0.0, 100.0, 0.0), None);
        assert_eq!(z.bar(401.0, 500.0, 0.0), None);
    }

    #[test]
    fn selecting_a_range_zooms_and_stays_in_bounds() {
        let whole = TimeWindow::new(0.0, 1_000.0);
        let z = whole.select(0.6, 0.2, whole);
        assert!(close(z.start, 200.0) && close(z.end, 600.0));
        assert!(z.is_zoomed_in(whole));
        assert!(!whole.is_zoomed_in(whole));
        // A selection within the zoomed window is relative to it.
        let zz = z.select(0.5, 1.0, whole);
        assert!(close(zz.start, 400.0) && close(zz.end, 600.0));
        // A click (no width) still gives a usable window.
        let click = whole.select(0.5, 0.5, whole);
        assert!(click.width() >= MIN_WINDOW_US);
        // Past the edges: clamped.
        let wide = whole.select(-0.5, 2.0, whole);
        assert_eq!(wide, whole);
    }

    #[test]
    fn wheel_zoom_keeps_the_anchor_and_pan_stays_inside() {
        let whole = TimeWindow::new(0.0, 1_000.0);
        let z = whole.zoom(0.5, 0.25, whole);
        assert!(close(z.width(), 500.0));
        assert!(
            close(z.frac(250.0), 0.25),
            "the point under the cursor stays"
        );
        let out = z.zoom(10.0, 0.5, whole);
        assert_eq!(out, whole, "zooming out stops at the whole trace");
        let panned = z.pan(1.0, whole);
        assert!(close(panned.end, 1_000.0) && close(panned.width(), 500.0));
        let deep = whole.zoom(1e-9, 0.5, whole);
        assert!(deep.width() >= MIN_WINDOW_US);
    }

    #[test]
    fn ticks_are_round_and_labelled_for_the_scale() {
        assert!(close(tick_step(1_000.0, 10), 100.0));
        assert!(close(tick_step(900.0, 10), 100.0));
        assert!(close(tick_step(1_100.0, 10), 200.0));
        assert!(close(tick_step(3_000.0, 10), 500.0));

        let labels = |w: TimeWindow, n: usize| {
            ticks(w, 0.0, n)
                .into_iter()
                .map(|t| t.label)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            labels(TimeWindow::new(0.0, 10_000_000.0), 5),
            vec!["0", "2 s", "4 s", "6 s", "8 s", "10 s"]
        );
        assert_eq!(
            labels(TimeWindow::new(0.0, 500_000.0), 5),
            vec!["0", "100 ms", "200 ms", "300 ms", "400 ms", "500 ms"]
        );
        assert_eq!(
            labels(TimeWindow::new(0.0, 2_500.0), 5),
            vec!["0", "0.5 ms", "1.0 ms", "1.5 ms", "2.0 ms", "2.5 ms"]
        );
        assert_eq!(
            labels(TimeWindow::new(0.0, 40.0), 4),
            vec!["0", "10 µs", "20 µs", "30 µs", "40 µs"]
        );
        // Zoomed deep into a long trace: enough decimals to tell ticks apart.
        let deep = labels(TimeWindow::new(1_200_000.0, 1_300_000.0), 5);
        assert_eq!(deep[0], "1.20 s");
        assert_eq!(deep[1], "1.22 s");
        let fracs: Vec<f64> = ticks(TimeWindow::new(50.0, 150.0), 0.0, 4)
            .iter()
            .map(|t| t.frac)
            .collect();
        assert!(close(fracs[0], 0.0) && close(fracs[fracs.len() - 1], 1.0));
        // Read from the trace's start as shown: a window from 15 to 115 ms after the earliest
        // recorded span reads 0..100 ms, its first tick at the left edge.
        let shown = ticks(TimeWindow::new(15_000.0, 115_000.0), 15_000.0, 5);
        let labels: Vec<&str> = shown.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            vec!["0", "20 ms", "40 ms", "60 ms", "80 ms", "100 ms"]
        );
        assert!(close(shown[0].frac, 0.0) && close(shown[5].frac, 1.0));
        assert!(close(shown[1].time, 20_000.0));
    }

    #[test]
    fn activity_counts_overlapping_spans() {
        let w = TimeWindow::new(0.0, 100.0);
        let profile = activity([(0, 100), (0, 9), (50, 59), (95, 300)].into_iter(), w, 10);
        assert_eq!(profile, vec![2, 1, 1, 1, 1, 2, 1, 1, 1, 2]);
        assert_eq!(
            activity([(500, 600)].into_iter(), w, 4),
            vec![0, 0, 0, 0],
            "outside the window"
        );
    }
}
