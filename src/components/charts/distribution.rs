//! Each group's distribution: a box plot from the quantiles, or a histogram over shared bins.

use plotters::prelude::*;
use skein_model::metrics::{MetricKind, MetricResponse};

use super::*;

/// Each group's distribution: a box plot (p25–p75 box, median line, whiskers from the minimum
/// to p99) or a histogram over the shared bins (share of the group's traces per bin).
pub fn distribution(
    resp: &MetricResponse,
    series: &[Series],
    dist: Dist,
    width: u32,
    colors: &Colors,
) -> String {
    match dist {
        Dist::Box => box_plot(resp, series, width, colors),
        Dist::Histogram => histogram(resp, series, width, colors),
    }
}

fn box_plot(resp: &MetricResponse, series: &[Series], width: u32, colors: &Colors) -> String {
    let quantiles: Vec<_> = resp.groups.iter().map(|g| g.quantiles).collect();
    let (lo, hi) = quantiles
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, q| {
            (acc.0.min(q.min), acc.1.max(q.p99))
        });
    let (y0, y1) = y_bounds(lo, hi, false);
    let n = quantiles.len().max(1);
    let mut out = String::new();
    let mut overlay = Overlay::new();
    let y_fmt = y_tick(resp.kind);
    let axis_fmt = metrics_view::tick(y0, y1, resp.kind == MetricKind::Rate);
    {
        let root = SVGBackend::with_string(&mut out, (width, HEIGHT)).into_drawing_area();
        let Some(mut chart) = group_axes(&root, n, y0..y1, &axis_fmt, colors) else {
            return String::new();
        };
        let slot = (width as f64 - 82.0) / n as f64;
        let half = (0.25f64).min(24.0 / slot.max(1.0));
        for (i, (q, s)) in quantiles.iter().zip(series).enumerate() {
            let x = i as f64;
            let (left, top) = chart.backend_coord(&(x - 0.5, y1));
            let (right, bottom) = chart.backend_coord(&(x + 0.5, y0));
            group_label(&mut overlay, (left, right, bottom), slot, &s.label, colors);
            let Some(q) = q else { continue };
            let whisker = s.color.stroke_width(1);
            let cap = half * 0.5;
            let _ = chart.draw_series([
                PathElement::new(vec![(x, q.min), (x, q.p25)], whisker),
                PathElement::new(vec![(x, q.p75), (x, q.p99.max(q.p75))], whisker),
                PathElement::new(vec![(x - cap, q.min), (x + cap, q.min)], whisker),
                PathElement::new(vec![(x - cap, q.p99), (x + cap, q.p99)], whisker),
            ]);
            let fill = s.color.mix(if colors.dark { 0.45 } else { 0.25 });
            let _ = chart.draw_series([
                Rectangle::new([(x - half, q.p25), (x + half, q.p75)], fill.filled()),
                Rectangle::new(
                    [(x - half, q.p25), (x + half, q.p75)],
                    s.color.stroke_width(1),
                ),
            ]);
            let _ = chart.draw_series(std::iter::once(PathElement::new(
                vec![(x - half, q.p50), (x + half, q.p50)],
                s.color.stroke_width(3),
            )));
            let tip = format!(
                "{} · min {} · p25 {} · median {} · p75 {} · p95 {} · p99 {} · max {}",
                s.label,
                y_fmt(&q.min),
                y_fmt(&q.p25),
                y_fmt(&q.p50),
                y_fmt(&q.p75),
                y_fmt(&q.p95),
                y_fmt(&q.p99),
                y_fmt(&q.max)
            );
            overlay.tip_rect(left, top, right - left, bottom - top, &tip);
        }
        let _ = root.present();
    }
    let _ = y_title(&mut overlay, &axis_title(resp, ""), colors);
    overlay.finish(out)
}

fn histogram(resp: &MetricResponse, series: &[Series], width: u32, colors: &Colors) -> String {
    let bins = &resp.bins;
    if bins.len() < 2 {
        return String::new();
    }
    // Share of each group's traces per bin, so groups of different sizes compare.
    let shares: Vec<Option<Vec<f64>>> = resp
        .groups
        .iter()
        .map(|g| {
            let h = g.histogram.as_ref()?;
            let total = (h.counts.iter().sum::<u64>() + h.above).max(1) as f64;
            Some(h.counts.iter().map(|c| *c as f64 / total).collect())
        })
        .collect();
    let top = shares
        .iter()
        .flatten()
        .flatten()
        .fold(0f64, |a, b| a.max(*b));
    let (y0, y1) = (0.0, (top * 1.1).max(0.01));
    let (x0, x1) = (bins[0], bins[bins.len() - 1]);
    let mut out = String::new();
    let mut overlay = Overlay::new();
    let x_fmt = metrics_view::tick(x0, x1, resp.kind == MetricKind::Rate);
    {
        let root = SVGBackend::with_string(&mut out, (width, HEIGHT)).into_drawing_area();
        let pct = metrics_view::tick(y0, y1, true);
        let frame = Frame {
            top: 30,
            x_area: 38,
            x_labels: ((width / 90).max(2)) as usize,
            x_fmt: Some(&x_fmt),
            y_fmt: &pct,
        };
        let Some(mut chart) = axes(&root, x0..x1, y0..y1, frame, colors) else {
            return String::new();
        };
        for (share, s) in shares.iter().zip(series) {
            let Some(share) = share else { continue };
            let mut outline = vec![(x0, 0.0)];
            for (i, v) in share.iter().enumerate() {
                if i + 1 >= bins.len() {
                    break;
                }
                outline.push((bins[i], *v));
                outline.push((bins[i + 1], *v));
            }
            outline.push((bins[share.len().min(bins.len() - 1)], 0.0));
            let fill = s.color.mix(if colors.dark { 0.22 } else { 0.14 });
            let _ = chart.draw_series(std::iter::once(Polygon::new(
                outline.clone(),
                fill.filled(),
            )));
            let _ = chart.draw_series(std::iter::once(PathElement::new(
                outline,
                s.color.stroke_width(2),
            )));
        }
        let _ = root.present();
        drop(chart);
        drop(root);
        let left = y_title(&mut overlay, "Share of the group's traces", colors);
        overlay.text(
            (width as i32 + 64) / 2,
            HEIGHT as i32 - 4,
            "middle",
            11,
            colors.muted,
            500,
            &axis_title(resp, ""),
        );
        overlay.legend(series, left, width as i32 - 18, 14, colors);
    }
    overlay.finish(out)
}
