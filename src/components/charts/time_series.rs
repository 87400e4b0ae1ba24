//! A time series per group: the headline statistic per bucket.

use plotters::prelude::*;
use skein_model::metrics::{MetricKind, MetricResponse};

use super::*;

/// A line per group over time (the metric's statistic per bucket), with a legend.
pub fn time_series(
    resp: &MetricResponse,
    series: &[Series],
    scale: &ScoreScale,
    width: u32,
    colors: &Colors,
) -> String {
    let mut out = String::new();
    let mut overlay = Overlay::new();
    let lines: Vec<Vec<(f64, f64, u64)>> = resp
        .groups
        .iter()
        .map(|g| {
            g.series
                .iter()
                .filter_map(|p| {
                    p.headline(resp.statistic)
                        .map(|v| (p.start_ms as f64, v, p.n))
                })
                .filter(|(_, v, _)| v.is_finite())
                .collect()
        })
        .collect();
    let (lo, hi) = lines
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v, _)| {
            (lo.min(*v), hi.max(*v))
        });
    let (y0, y1) = y_bounds(lo, hi, true);
    let bucket = resp.bucket_ms.max(1);
    let x0 = skein_model::metrics::bucket_start(resp.from_ms, bucket) as f64;
    let x1 = (resp.to_ms.max(resp.from_ms + 1)) as f64;
    {
        let root = SVGBackend::with_string(&mut out, (width, HEIGHT)).into_drawing_area();
        let y_fmt = metrics_view::tick(y0, y1, resp.kind == MetricKind::Rate);
        let frame = Frame {
            top: 30,
            x_area: 24,
            x_labels: 0,
            x_fmt: None,
            y_fmt: &y_fmt,
        };
        let Some(mut chart) = axes(&root, x0..x1, y0..y1, frame, colors) else {
            return String::new();
        };
        // Time ticks on round local times (plotters would put them on round milliseconds).
        let (ticks, step) = time_ticks(x0 as i64, x1 as i64, i64::from(width / 100).max(2));
        for t in ticks {
            let (px, top) = chart.backend_coord(&(t as f64, y1));
            let (_, bottom) = chart.backend_coord(&(t as f64, y0));
            overlay.line((px, top), (px, bottom), colors.grid);
            overlay.line((px, bottom), (px, bottom + 4), colors.axis);
            let label = time_tick_label(t, step);
            overlay.text(px, bottom + 16, "middle", 11, colors.muted, 400, &label);
        }
        for (score, label) in scale.iter().filter(|(s, _)| (y0..=y1).contains(s)) {
            let (x, y) = chart.backend_coord(&(x0, *score));
            overlay.scale_label(x, y, label, colors);
        }
        for (points, s) in lines.iter().zip(series) {
            // A missing bucket breaks the line; the break is drawn dashed (with what is
            // missing in its tooltip), so that a reader sees a gap rather than a lone dot.
            let mut segment: Vec<(f64, f64)> = Vec::new();
            let mut segments = Vec::new();
            for (i, (x, y, _)) in points.iter().enumerate() {
                if i > 0 && x - points[i - 1].0 > bucket as f64 * 1.5 {
                    segments.push(std::mem::take(&mut segment));
                    let (px, py) = (points[i - 1].0, points[i - 1].1);
                    let tip = format!(
                        "{} · no data from {} to {}",
                        s.label,
                        time_label(px as i64 + bucket),
                        time_label(*x as i64)
                    );
                    let from = chart.backend_coord(&(px, py));
                    let to = chart.backend_coord(&(*x, *y));
                    overlay.gap(from, to, s.color, &tip);
                }
                segment.push((*x, *y));
            }
            segments.push(segment);
            for seg in segments {
                if seg.len() > 1 {
                    let _ = chart.draw_series(LineSeries::new(seg, s.color.stroke_width(2)));
                }
            }
        }
        for (points, s) in lines.iter().zip(series) {
            let dots = points.len() <= 120;
            for (i, (x, y, n)) in points.iter().enumerate() {
                // A point with no neighbour bucket on either side has no line: a bigger dot.
                let near = |j: Option<usize>| {
                    j.and_then(|j| points.get(j))
                        .is_some_and(|p| (p.0 - x).abs() <= bucket as f64 * 1.5)
                };
                let alone = !near(i.checked_sub(1)) && !near(Some(i + 1));
                let (px, py) = chart.backend_coord(&(*x, *y));
                let tip = format!(
                    "{} · {} · {} {} (n = {})",
                    s.label,
                    time_label(*x as i64),
                    statistic_name(resp),
                    y_tick(resp.kind)(y),
                    n
                );
                let r = match (alone, dots) {
                    (true, _) => 4,
                    (false, true) => 2,
                    (false, false) => 1,
                };
                overlay.tip_circle(px, py, r, s.color, &tip);
            }
        }
        let _ = root.present();
        drop(chart);
        drop(root);
        let what = if resp.kind == MetricKind::Rate {
            ""
        } else {
            statistic_name(resp)
        };
        let left = y_title(&mut overlay, &axis_title(resp, what), colors);
        overlay.legend(series, left, width as i32 - 18, 14, colors);
    }
    overlay.finish(out)
}
