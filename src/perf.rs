//! Performance API marks and measures, for benchmarks (`performance.getEntriesByName`), and
//! the work deferred until the first page has painted.

use std::cell::RefCell;
use std::time::Duration;

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

/// Marks `name`, replacing an earlier mark of the same name.
pub fn mark(name: &str) {
    if let Some(p) = performance() {
        p.clear_marks_with_mark_name(name);
        let _ = p.mark(name);
    }
}

/// Measures from mark `start` to mark `end` as `name`.
pub fn measure(name: &str, start: &str, end: &str) {
    if let Some(p) = performance() {
        p.clear_measures_with_measure_name(name);
        let _ = p.measure_with_start_mark_and_end_mark(name, start, end);
    }
}

/// Work waiting for the first page's paint.
type Waiting = Vec<Box<dyn FnOnce()>>;

thread_local! {
    /// What waits for the first page's paint; `None` once it has come.
    static AFTER_PAINT: RefCell<Option<Waiting>> = RefCell::new(Some(Vec::new()));
}

/// A page that never says it has painted (`painted`) lets what waits for it go after this.
const PAINT_AT_LATEST: Duration = Duration::from_millis(2_000);

/// Runs `f` once the first page shown has painted (at once if it has): for work the first
/// screen does not need, kept off the start's main thread.
pub fn after_paint(f: impl FnOnce() + 'static) {
    let mut f = Some(Box::new(f) as Box<dyn FnOnce()>);
    let queued = AFTER_PAINT.with(|q| {
        q.borrow_mut().as_mut().map(|q| {
            q.extend(f.take());
            q.len() == 1
        })
    });
    match (queued, f) {
        (Some(true), _) => leptos::prelude::set_timeout(painted, PAINT_AT_LATEST),
        (None, Some(f)) => f(),
        _ => {}
    }
}

/// The page has painted: runs what waited for it.
pub fn painted() {
    let waiting = AFTER_PAINT.with(|q| q.borrow_mut().take());
    for f in waiting.into_iter().flatten() {
        f();
    }
}
