//! Times in the viewer's local zone, and "5m ago" that stays current.

use chrono::{DateTime, Datelike, Local, TimeZone, Timelike};
use leptos::prelude::*;

use crate::calendar::{self, Parts};

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A clock for relative times, ticking every 15 seconds; provided by the app shell.
#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<i64>);

impl Clock {
    pub fn start() -> Clock {
        let now = RwSignal::new(now_ms());
        set_interval(
            move || {
                now.try_set(now_ms());
            },
            std::time::Duration::from_secs(15),
        );
        Clock(now)
    }
}

pub fn use_clock() -> RwSignal<i64> {
    use_context::<Clock>()
        .map(|c| c.0)
        .unwrap_or_else(|| RwSignal::new(now_ms()))
}

/// `14:03:22` today, `Nov 21, 14:03` this year, `2024-11-21 14:03` before.
pub fn local_time(ns: i64, now_ms: i64) -> String {
    let t = Local.timestamp_nanos(ns);
    let now = Local
        .timestamp_millis_opt(now_ms)
        .single()
        .unwrap_or_else(Local::now);
    let p = parts(&t);
    if t.date_naive() == now.date_naive() {
        p.hour_minute_second()
    } else if t.year() == now.year() {
        format!("{}, {}", p.month_day(), p.hour_minute())
    } else {
        p.date_hour_minute()
    }
}

/// The full local timestamp with its zone, for tooltips.
pub fn full_time(ns: i64) -> String {
    parts(&Local.timestamp_nanos(ns)).full()
}

/// The local date and time of a Unix ms time, field by field (none when the zone has no such
/// time), for `calendar`'s formatting.
pub fn local_parts(ms: i64) -> Option<Parts> {
    Local.timestamp_millis_opt(ms).single().map(|t| parts(&t))
}

fn parts(t: &DateTime<Local>) -> Parts {
    Parts {
        year: t.year(),
        month: t.month(),
        day: t.day(),
        hour: t.hour(),
        minute: t.minute(),
        second: t.second(),
        nanosecond: t.nanosecond(),
        offset_secs: t.offset().local_minus_utc(),
    }
}

/// The value of an `<input type="datetime-local">` for a Unix ms time, in the local zone.
pub fn datetime_input_value(ms: i64) -> String {
    local_parts(ms)
        .map(|p| format!("{}T{}", p.date(), p.hour_minute()))
        .unwrap_or_default()
}

/// Unix ms of an `<input type="datetime-local">` value (local zone); `None` when empty or not
/// a time.
pub fn parse_datetime_input(value: &str) -> Option<i64> {
    let p = calendar::parse_datetime_local(value)?;
    let naive = chrono::NaiveDate::from_ymd_opt(p.year, p.month, p.day)?.and_hms_nano_opt(
        p.hour,
        p.minute,
        p.second,
        p.nanosecond,
    )?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
}
