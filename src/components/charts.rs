//! The `/metrics` charts, drawn with plotters to SVG strings: a time series per group, each
//! group's mean with its 95% confidence interval, and each group's distribution (box plot from
//! the quantiles, or histogram over the shared bins).
//!
//! Plotters draws the geometry and the numeric tick labels (numbers we format; plotters escapes
//! them itself). Every piece of text that comes from the data (group values, which are tag
//! values, and the metric's label, which may hold a feedback key) is written by this module's
//! `Overlay` through `crate::svg::escape`, never handed to plotters. On wasm32 plotters measures
//! text with a `<span>` on `document.body`: these functions only run in a browser.

mod distribution;
mod means;
mod time_series;

pub use distribution::distribution;
pub use means::means;
pub use time_series::time_series;

use chrono::{Local, TimeZone};
use plotters::coord::types::RangedCoordf64;
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
    let labels: Vec<String> = resp
        .groups
        .iter()
        .map(|g| metrics_view::pair_label(g, resp))
        .collect();
    // Pairs take a colour each; single groups keep their value's.
    let values: Vec<Option<String>> = match resp.then_by {
        Some(_) => labels.iter().cloned().map(Some).collect(),
        None => resp.groups.iter().map(|g| g.value.clone()).collect(),
    };
    let slots = svg::group_slots(&values);
    resp.groups
        .iter()
        .zip(slots)
        .zip(labels)
        .map(|((g, slot), label)| Series {
            label,
            color: colors.group(if g.value.is_none() && resp.group_by.is_none() {
                Some(0)
            } else {
                slot
            }),
        })
        .collect()
}

/// Named scores (a categorical feedback key's labels, from its score config), drawn on the
/// value axis of the means and the series.
pub type ScoreScale = [(f64, String)];

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

    /// A named score's label just inside the plot's left edge at its height `y` (escaped).
    fn scale_label(&mut self, x: i32, y: i32, label: &str, colors: &Colors) {
        self.text(
            x + 4,
            y - 3,
            "start",
            10,
            colors.muted,
            600,
            &svg::shorten(label, 24),
        );
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

    /// A dashed line across missing buckets of a series, with a tooltip (escaped).
    fn gap(&mut self, (x1, y1): (i32, i32), (x2, y2): (i32, i32), color: RGBColor, tip: &str) {
        self.0.push_str(&format!(
            r#"<g class="series-gap" data-testid="series-gap"><line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{}" stroke-width="1.5" stroke-dasharray="2 4" stroke-opacity="0.7"/><line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="transparent" stroke-width="8"><title>{}</title></line></g>"#,
            hex(color),
            escape(tip)
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

/// A chart's frame: the room over the plot (for its titles) and under it (for the x labels),
/// and the labels plotters writes on the axes (none on x where the chart writes its own).
struct Frame<'f> {
    top: u32,
    x_area: u32,
    x_labels: usize,
    x_fmt: Option<&'f dyn Fn(&f64) -> String>,
    y_fmt: &'f dyn Fn(&f64) -> String,
}

type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The plot every chart draws on: x and y ranges in the frame, with the grid, the axes and
/// their labels in the theme's colours (one place for what the charts share; `None` when
/// plotters cannot lay it out).
fn axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    frame: Frame,
    colors: &Colors,
) -> Option<Plot<'a, 'b>> {
    let mut chart = ChartBuilder::on(root)
        .margin_top(frame.top)
        .margin_right(18)
        .x_label_area_size(frame.x_area)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)
        .ok()?;
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .max_light_lines(0)
        .bold_line_style(colors.grid)
        .axis_style(colors.axis)
        .label_style(tick_style(colors))
        .x_labels(frame.x_labels)
        .y_labels(5)
        .y_label_formatter(frame.y_fmt);
    if let Some(x_fmt) = frame.x_fmt {
        mesh.x_label_formatter(x_fmt);
    }
    let _ = mesh.draw();
    Some(chart)
}

/// The axes of a chart with a slot per group (`n` of them, centred on 0, 1, …) and no x labels
/// of plotters' (the chart writes the groups' names).
fn group_axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    n: usize,
    y: std::ops::Range<f64>,
    y_fmt: &dyn Fn(&f64) -> String,
    colors: &Colors,
) -> Option<Plot<'a, 'b>> {
    let frame = Frame {
        top: 26,
        x_area: 24,
        x_labels: 0,
        x_fmt: None,
        y_fmt,
    };
    axes(root, -0.5f64..(n as f64 - 0.5), y, frame, colors)
}

/// A group's name under its slot (`left`..`right` px, the plot's `bottom`), shortened to what
/// a slot of `slot` px holds.
fn group_label(
    overlay: &mut Overlay,
    (left, right, bottom): (i32, i32, i32),
    slot: f64,
    label: &str,
    colors: &Colors,
) {
    let chars = ((slot / 6.5) as usize).clamp(3, 28);
    overlay.text(
        (left + right) / 2,
        bottom + 16,
        "middle",
        11,
        colors.text,
        500,
        &svg::shorten(label, chars),
    );
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
