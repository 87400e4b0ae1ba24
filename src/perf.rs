//! Performance API marks and measures, for benchmarks (`performance.getEntriesByName`).

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
