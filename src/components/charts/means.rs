//! Each group's mean with its 95% confidence interval.

use plotters::prelude::*;
use skein_model::metrics::{MetricKind, MetricResponse};

use super::*;

/// Each group's mean with its 95% CI as an error bar (for counts, the number of traces).
pub fn means(
    resp: &MetricResponse,
    series: &[Series],
    scale: &ScoreScale,
    width: u32,
    colors: &Colors,
) -> String {
    let count = resp.kind == MetricKind::Count;
    let bars: Vec<(f64, Option<(f64, f64)>)> = resp
        .groups
        .iter()
        .map(|g| {
            if count {
                (g.n as f64, None)
            } else {
                (g.mean, g.ci.map(|ci| (ci.low, ci.high)))
            }
        })
        .collect();
    let (lo, hi) = bars
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, (m, ci)| {
            let (l, h) = ci.unwrap_or((*m, *m));
            (acc.0.min(l).min(*m), acc.1.max(h).max(*m))
        });
    let (y0, y1) = y_bounds(lo, hi, true);
    let n = bars.len().max(1);
    let mut out = String::new();
    let mut overlay = Overlay::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, HEIGHT)).into_drawing_area();
        let y_fmt = y_tick(resp.kind);
        let axis_fmt = metrics_view::tick(y0, y1, resp.kind == MetricKind::Rate);
        let Some(mut chart) = group_axes(&root, n, y0..y1, &axis_fmt, colors) else {
            return String::new();
        };
        for (score, label) in scale.iter().filter(|(s, _)| (y0..=y1).contains(s)) {
            let (x, y) = chart.backend_coord(&(-0.5, *score));
            overlay.scale_label(x, y, label, colors);
        }
        let slot = (width as f64 - 82.0) / n as f64;
        let half = (0.3f64).min(28.0 / slot.max(1.0));
        let base = clamp(0.0, y0, y1);
        for (i, ((mean, ci), s)) in bars.iter().zip(series).enumerate() {
            let x = i as f64;
            let fill = s.color.mix(if colors.dark { 0.55 } else { 0.35 });
            let _ = chart.draw_series(std::iter::once(Rectangle::new(
                [(x - half, base), (x + half, *mean)],
                fill.filled(),
            )));
            let _ = chart.draw_series(std::iter::once(PathElement::new(
                vec![(x - half, *mean), (x + half, *mean)],
                s.color.stroke_width(2),
            )));
            if let Some((l, h)) = ci {
                let cap = half * 0.45;
                let style = colors.text.stroke_width(1);
                let _ = chart.draw_series([
                    PathElement::new(vec![(x, *l), (x, *h)], style),
                    PathElement::new(vec![(x - cap, *l), (x + cap, *l)], style),
                    PathElement::new(vec![(x - cap, *h), (x + cap, *h)], style),
                ]);
            }
            let (left, top) = chart.backend_coord(&(x - 0.5, y1));
            let (right, bottom) = chart.backend_coord(&(x + 0.5, y0));
            let tip = match (count, ci) {
                (true, _) => format!("{} · {} traces", s.label, *mean as u64),
                (false, Some((l, h))) => format!(
                    "{} · mean {} · 95% CI {} to {} · n = {}",
                    s.label,
                    y_fmt(mean),
                    y_fmt(l),
                    y_fmt(h),
                    resp.groups[i].n
                ),
                (false, None) => format!(
                    "{} · mean {} · n = {} (too few for an interval)",
                    s.label,
                    y_fmt(mean),
                    resp.groups[i].n
                ),
            };
            overlay.tip_rect(left, top, right - left, bottom - top, &tip);
            group_label(&mut overlay, (left, right, bottom), slot, &s.label, colors);
        }
        let _ = root.present();
    }
    let what = if resp.kind == MetricKind::Rate {
        "95% CI"
    } else {
        "mean, 95% CI"
    };
    let _ = y_title(&mut overlay, &axis_title(resp, what), colors);
    overlay.finish(out)
}
