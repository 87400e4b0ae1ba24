//! Times in the viewer's local zone, and "5m ago" that stays current.

use chrono::{Local, TimeZone};
use leptos::prelude::*;

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
    if t.date_naive() == now.date_naive() {
        t.format("%H:%M:%S").to_string()
    } else if t.format("%Y").to_string() == now.format("%Y").to_string() {
        t.format("%b %d, %H:%M").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// The full local timestamp with its zone, for tooltips.
pub fn full_time(ns: i64) -> String {
    Local
        .timestamp_nanos(ns)
        .format("%Y-%m-%d %H:%M:%S%.3f %:z")
        .to_string()
}

/// The value of an `<input type="datetime-local">` for a Unix ms time, in the local zone.
pub fn datetime_input_value(ms: i64) -> String {
    Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// Unix ms of an `<input type="datetime-local">` value (local zone); `None` when empty or not
/// a time.
pub fn parse_datetime_input(value: &str) -> Option<i64> {
    let naive = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
}
