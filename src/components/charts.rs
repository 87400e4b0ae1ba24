//! The `/metrics` charts, drawn with plotters to SVG strings: a time series per group, each
//! group's mean with its 95% confidence interval, and each group's distribution (box plot from
//! the quantiles, or histogram over the shared bins).
//!
//! Plotters draws the geometry and the numeric tick labels (numbers we format; plotters escapes
//! them itself). Every piece of text that comes from the data (group values, which are tag
//! values, and the metric's label, which may hold a feedback key) is written by this module's
//! `Overlay` through `crate::svg::escape`, never handed to plotters. On wasm32 plotters measures
//! text with a `<span>` on `document.body`: these functions only run in a browser.

use chrono::{Local, TimeZone};
use plotters::prelude::*;
use skein_model::metrics::{MetricKind, MetricResponse};
use skein_model::num::clamp;
use skein_model::palette::HUES;

use crate::metrics_view::{self, Dist};
use crate::svg::{self, escape};
use crate::time;

/// The font plotters measures and draws with (the SVG text of the overlay uses it too).
const FONT: &str = "sans-serif";
/// Plotters writes `font-size = size / 1.24`: this gives 11px text.
const TICK_SIZE: f64 = 11.0 * 1.24;
pub const HEIGHT: u32 = 240;

/// The theme's colours for a chart (`data-theme` on `<html>`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Colors {
    pub text: RGBColor,
    pub muted: RGBColor,
    pub grid: RGBColor,
    pub axis: RGBColor,
    pub dark: bool,
}

impl Colors {
    pub fn new(dark: bool) -> Colors {
        if dark {
            Colors {
                text: RGBColor(0xe5, 0xe8, 0xee),
                muted: RGBColor(0x8b, 0x93, 0xa4),
                grid: RGBColor(0x23, 0x28, 0x33),
                axis: RGBColor(0x35, 0x3c, 0x4b),
                dark,
            }
        } else {
            Colors {
                text: RGBColor(0x1b, 0x21, 0x30),
                muted: RGBColor(0x6b, 0x73, 0x84),
                grid: RGBColor(0xee, 0xf0, 0xf3),
                axis: RGBColor(0xcd, 0xd2, 0xda),
                dark,
            }
        }
    }

    /// A group's colour: its palette hue, lighter on dark backgrounds; grey without a hue.
    pub fn group(&self, slot: Option<usize>) -> RGBColor {
        let (r, g, b) = match slot {
            Some(i) => {
                let hue = f64::from(HUES[i % HUES.len()]);
                if self.dark {
                    svg::hsl_to_rgb(hue, 70.0, 64.0)
                } else {
                    svg::hsl_to_rgb(hue, 62.0, 46.0)
                }
            }
            None => {
                if self.dark {
                    (0x8b, 0x93, 0xa4)
                } else {
                    (0x85, 0x8d, 0x9d)
                }
            }
        };
        RGBColor(r, g, b)
    }
}

pub fn hex(c: RGBColor) -> String {
    svg::hex((c.0, c.1, c.2))
}

/// One group as a chart draws it. `label` is raw (untrusted) text: escaped when written.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
}

/// The groups of a response with their labels and colours, in the response's order.
pub fn series(resp: &MetricResponse, colors: &Colors) -> Vec<Series> {
    let values: Vec<Option<String>> = resp.groups.iter().map(|g| g.value.clone()).collect();
    let slots = svg::group_slots(&values);
    resp.groups
        .iter()
        .zip(slots)
        .map(|(g, slot)| Series {
            label: metrics_view::group_label(&g.value, resp.group_by.as_deref()),
            color: colors.group(if g.value.is_none() && resp.group_by.is_none() {
                Some(0)
            } else {
                slot
            }),
        })
        .collect()
}

/// SVG elements added after plotters is done. Every text goes through `escape`.
struct Overlay(String);

impl Overlay {
    fn new() -> Overlay {
        Overlay(String::new())
    }

    /// A text element. `text` may be untrusted: it is escaped here.
    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        x: i32,
        y: i32,
        anchor: &str,
        size: u32,
        fill: RGBColor,
        weight: u32,
        text: &str,
    ) {
        self.0.push_str(&format!(
            r#"<text x="{x}" y="{y}" text-anchor="{anchor}" font-family="{FONT}" font-size="{size}" font-weight="{weight}" fill="{}">{}</text>"#,
            hex(fill),
            escape(text)
        ));
    }

    /// An invisible hit area with a tooltip (`<title>`, escaped).
    fn tip_rect(&mut self, x: i32, y: i32, w: i32, h: i32, tip: &str) {
        self.0.push_str(&format!(
            r#"<rect x="{x}" y="{y}" width="{}" height="{}" fill="transparent"><title>{}</title></rect>"#,
            w.max(1),
            h.max(1),
            escape(tip)
        ));
    }

    fn tip_circle(&mut self, x: i32, y: i32, r: u32, fill: RGBColor, tip: &str) {
        self.0.push_str(&format!(
            r#"<circle cx="{x}" cy="{y}" r="{r}" fill="{}"><title>{}</title></circle>"#,
            hex(fill),
            escape(tip)
        ));
    }

    fn line(&mut self, (x1, y1): (i32, i32), (x2, y2): (i32, i32), color: RGBColor) {
        self.0.push_str(&format!(
            r#"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{}" stroke-width="1"/>"#,
            hex(color)
        ));
    }

    fn swatch(&mut self, x: i32, y: i32, color: RGBColor) {
        self.0.push_str(&format!(
            r#"<rect x="{x}" y="{}" width="10" height="10" rx="2" fill="{}"/>"#,
            y - 9,
            hex(color)
        ));
    }

    /// The legend: swatches and escaped labels, flowing right to left from `right`.
    fn legend(&mut self, series: &[Series], left: i32, right: i32, y: i32, colors: &Colors) {
        let mut x = right;
        for s in series.iter().rev() {
            let label = svg::shorten(&s.label, 24);
            // An estimate (no DOM here): 6.5 px a character at 11 px.
            let w = (label.chars().count() as f64 * 6.5).ceil() as i32 + 16;
            if x - w < left {
                break;
            }
            x -= w;
            self.swatch(x, y, s.color);
            self.text(x + 14, y, "start", 11, colors.text, 400, &label);
            x -= 10;
        }
    }

    /// Puts the overlay into plotters' SVG, before its closing tag.
    fn finish(self, mut plotted: String) -> String {
        match plotted.rfind("</svg>") {
            Some(end) => {
                plotted.insert_str(end, &self.0);
                plotted
            }
            None => plotted,
        }
    }
}

fn tick_style(colors: &Colors) -> TextStyle<'static> {
    (FONT, TICK_SIZE).into_font().color(&colors.muted)
}

/// Rounded-out y bounds that include zero when the data are all on one side of it.
fn y_bounds(low: f64, high: f64, include_zero: bool) -> (f64, f64) {
    let (mut low, mut high) = if low.is_finite() && high.is_finite() {
        (low, high)
    } else {
        (0.0, 1.0)
    };
    if include_zero {
        low = low.min(0.0);
        high = high.max(0.0);
    }
    if high - low <= f64::EPSILON * high.abs().max(1.0) {
        let pad = high.abs().max(1.0) * 0.5;
        return (low - pad, high + pad);
    }
    let pad = (high - low) * 0.08;
    (
        if include_zero && low >= 0.0 {
            low
        } else {
            low - pad
        },
        high + pad,
    )
}

fn y_tick(kind: MetricKind) -> impl Fn(&f64) -> String {
    move |v: &f64| match kind {
        MetricKind::Rate => format!("{}%", metrics_view::number(*v * 100.0)),
        _ => metrics_view::number(*v),
    }
}

/// An axis title: the metric (which may name a feedback key: escaped when drawn), what of it
/// is shown, and its unit: "Latency (p95, ms)", "Feedback: user_satisfaction (mean)".
fn axis_title(resp: &MetricResponse, what: &str) -> String {
    use skein_model::metrics::Metric;
    let label = match resp.metric {
        Metric::LatencyP50 | Metric::LatencyP95 | Metric::LatencyMean => "Latency".to_string(),
        ref m => m.label(),
    };
    match (resp.kind, resp.unit.as_str(), what) {
        (MetricKind::Count, _, _) => "Traces".to_string(),
        (MetricKind::Rate, _, "") => format!("{label} (%)"),
        (MetricKind::Rate, _, what) => format!("{label} ({what}, %)"),
        (_, "", "") => label,
        (_, "", what) => format!("{label} ({what})"),
        (_, unit, "") => format!("{label} ({unit})"),
        (_, unit, what) => format!("{label} ({what}, {unit})"),
    }
}

/// The y axis title, rotated, escaped.
/// The y axis title: a caption above the axis, at the top left (escaped). Returns the x where
/// the room on its right starts (for the legend).
fn y_title(overlay: &mut Overlay, text: &str, colors: &Colors) -> i32 {
    let text = svg::shorten(text, 60);
    overlay.text(10, 14, "start", 11, colors.muted, 500, &text);
    10 + (text.chars().count() as f64 * 6.2).ceil() as i32 + 24
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Time ticks between `from_ms` and `to_ms`, at most `max`, on round local times: whole
/// hours, local midnights, Mondays are not attempted (a week is 7 midnights). Returns the
/// ticks and the step.
fn time_ticks(from_ms: i64, to_ms: i64, max: i64) -> (Vec<i64>, i64) {
    const STEPS: [i64; 14] = [
        MINUTE,
        5 * MINUTE,
        15 * MINUTE,
        30 * MINUTE,
        HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY,
        2 * DAY,
        7 * DAY,
        14 * DAY,
        30 * DAY,
        365 * DAY,
    ];
    let span = (to_ms - from_ms).max(1);
    let step = STEPS
        .into_iter()
        .find(|s| span / s <= max.max(1))
        .unwrap_or(span / max.max(1) + 1);
    // The local zone's offset, so that ticks fall on local round times.
    let offset = Local
        .timestamp_millis_opt(from_ms)
        .single()
        .map(|t| i64::from(t.offset().local_minus_utc()) * 1000)
        .unwrap_or(0);
    let unit = if step >= DAY { DAY } else { step };
    let mut t = ((from_ms + offset).div_euclid(unit) + 1) * unit - offset;
    let mut ticks = Vec::new();
    while t < to_ms && ticks.len() < 400 {
        ticks.push(t);
        t += step;
    }
    (ticks, step)
}

/// A tick's label: the date at midnights and for daily steps, else the time.
fn time_tick_label(ms: i64, step: i64) -> String {
    let Some(t) = time::local_parts(ms) else {
        return String::new();
    };
    let midnight = t.hour == 0 && t.minute == 0;
    if step >= DAY || midnight {
        t.month_day()
    } else {
        t.hour_minute()
    }
}

fn time_label(ms: i64) -> String {
    time::local_parts(ms)
        .map(|t| t.date_hour_minute())
        .unwrap_or_default()
}

/// What the series chart shows per bucket: "Mean", "p95", "Traces".
fn statistic_name(resp: &MetricResponse) -> &'static str {
    use skein_model::metrics::Statistic;
    match resp.statistic {
        Statistic::Count => "traces",
        Statistic::Mean if resp.kind == MetricKind::Rate => "rate",
        Statistic::Mean => "mean",
        Statistic::P50 => "p50",
        Statistic::P95 => "p95",
        Statistic::Sum => "sum",
        Statistic::P99 => "p99",
    }
}

/// A line per group over time (the metric's statistic per bucket), with a legend.
pub fn time_series(
    resp: &MetricResponse,
    series: &[Series],
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
        let Ok(mut chart) = ChartBuilder::on(&root)
            .margin_top(30)
            .margin_right(18)
            .x_label_area_size(24)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)
        else {
            return String::new();
        };
        let y_fmt = metrics_view::tick(y0, y1, resp.kind == MetricKind::Rate);
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .bold_line_style(colors.grid)
            .axis_style(colors.axis)
            .label_style(tick_style(colors))
            .x_labels(0)
            .y_labels(5)
            .y_label_formatter(&y_fmt)
            .draw();
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
        for (points, s) in lines.iter().zip(series) {
            // A missing bucket breaks the line rather than drawing across the gap.
            let mut segment: Vec<(f64, f64)> = Vec::new();
            let mut segments = Vec::new();
            for (i, (x, y, _)) in points.iter().enumerate() {
                if i > 0 && x - points[i - 1].0 > bucket as f64 * 1.5 {
                    segments.push(std::mem::take(&mut segment));
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
            for (x, y, n) in points {
                let (px, py) = chart.backend_coord(&(*x, *y));
                let tip = format!(
                    "{} · {} · {} {} (n = {})",
                    s.label,
                    time_label(*x as i64),
                    statistic_name(resp),
                    y_tick(resp.kind)(y),
                    n
                );
                overlay.tip_circle(px, py, if dots { 2 } else { 1 }, s.color, &tip);
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

/// Each group's mean with its 95% CI as an error bar (for counts, the number of traces).
pub fn means(resp: &MetricResponse, series: &[Series], width: u32, colors: &Colors) -> String {
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
        let Ok(mut chart) = ChartBuilder::on(&root)
            .margin_top(26)
            .margin_right(18)
            .x_label_area_size(24)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), y0..y1)
        else {
            return String::new();
        };
        let y_fmt = y_tick(resp.kind);
        let axis_fmt = metrics_view::tick(y0, y1, resp.kind == MetricKind::Rate);
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .bold_line_style(colors.grid)
            .axis_style(colors.axis)
            .label_style(tick_style(colors))
            .x_labels(0)
            .y_labels(5)
            .y_label_formatter(&axis_fmt)
            .draw();
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
            let chars = ((slot / 6.5) as usize).clamp(3, 28);
            overlay.text(
                (left + right) / 2,
                bottom + 16,
                "middle",
                11,
                colors.text,
                500,
                &svg::shorten(&s.label, chars),
            );
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
        let Ok(mut chart) = ChartBuilder::on(&root)
            .margin_top(26)
            .margin_right(18)
            .x_label_area_size(24)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), y0..y1)
        else {
            return String::new();
        };
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .bold_line_style(colors.grid)
            .axis_style(colors.axis)
            .label_style(tick_style(colors))
            .x_labels(0)
            .y_labels(5)
            .y_label_formatter(&axis_fmt)
            .draw();
        let slot = (width as f64 - 82.0) / n as f64;
        let half = (0.25f64).min(24.0 / slot.max(1.0));
        for (i, (q, s)) in quantiles.iter().zip(series).enumerate() {
            let x = i as f64;
            let (left, top) = chart.backend_coord(&(x - 0.5, y1));
            let (right, bottom) = chart.backend_coord(&(x + 0.5, y0));
            let chars = ((slot / 6.5) as usize).clamp(3, 28);
            overlay.text(
                (left + right) / 2,
                bottom + 16,
                "middle",
                11,
                colors.text,
                500,
                &svg::shorten(&s.label, chars),
            );
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
        let Ok(mut chart) = ChartBuilder::on(&root)
            .margin_top(30)
            .margin_right(18)
            .x_label_area_size(38)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)
        else {
            return String::new();
        };
        let pct = metrics_view::tick(y0, y1, true);
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .bold_line_style(colors.grid)
            .axis_style(colors.axis)
            .label_style(tick_style(colors))
            .x_labels(((width / 90).max(2)) as usize)
            .y_labels(5)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&pct)
            .draw();
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
