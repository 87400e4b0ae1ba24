//! One trace page opened and timed: the scripts it runs in the page (scroll, first rows,
//! the app's marks) and what they report.

use std::time::Duration;

use serde_json::{json, Value};
use thirtyfour::extensions::cdp::ChromeDevTools;

use super::{js, wait_for, Browser, BrowserConfig, BrowserError, Cache, ScrollStats, TraceRun};
use crate::collector::quantile;

const SCROLL_SCRIPT: &str = r#"
const frames = arguments[0];
window.__skeinScroll = null;
(async () => {
  const v = document.querySelector('.rows-viewport');
  if (!v) { window.__skeinScroll = {error: 'no .rows-viewport'}; return; }
  let longTasks = 0;
  let observer = null;
  try {
    observer = new PerformanceObserver(list => { longTasks += list.getEntries().length; });
    observer.observe({entryTypes: ['longtask']});
  } catch (e) {}
  v.scrollTop = 0;
  let last = await new Promise(r => requestAnimationFrame(r));
  const intervals = [];
  let maxRows = 0;
  const total = v.scrollHeight - v.clientHeight;
  for (let i = 1; i <= frames; i++) {
    v.scrollTop = Math.round(total * i / frames);
    const now = await new Promise(r => requestAnimationFrame(r));
    intervals.push(now - last);
    last = now;
    maxRows = Math.max(maxRows, document.querySelectorAll('.span-row').length);
  }
  // One more frame so the last position is rendered before it is checked.
  await new Promise(r => requestAnimationFrame(r));
  if (observer) observer.disconnect();
  window.__skeinScroll = {
    intervals, maxRows, longTasks,
    atEnd: v.scrollTop + v.clientHeight >= v.scrollHeight - 2,
  };
})();
return true;
"#;

/// Set on every new document: `window.__skeinFirstRows` is the time of the first frame after
/// a `.span-row` entered the DOM (taken as the app takes its own marks: after that frame).
pub(super) const FIRST_ROWS_WATCH: &str = r#"
window.__skeinFirstRows = null;
new MutationObserver((_, observer) => {
  if (window.__skeinFirstRows === null && document.querySelector('.span-row')) {
    observer.disconnect();
    window.__skeinFirstRows = -1;
    requestAnimationFrame(() => setTimeout(() => { window.__skeinFirstRows = performance.now(); }, 0));
  }
}).observe(document, {childList: true, subtree: true});
"#;

const READ_MARKS: &str = r#"
const m = n => { const e = performance.getEntriesByName(n); return e.length ? e[e.length - 1].duration : null; };
const painted = performance.getEntriesByName('skein:trace-painted');
const critical = performance.getEntriesByName('skein:trace-critical');
const shown = document.querySelector('[data-testid=rows-shown]');
return {
  firstRows: window.__skeinFirstRows > 0 ? window.__skeinFirstRows : null,
  painted: painted.length ? painted[0].startTime : null,
  critical: critical.length ? critical[0].startTime : null,
  fetch: m('skein:trace-fetch'),
  build: m('skein:trace-build'),
  load: m('skein:trace-load'),
  heap: performance.memory ? performance.memory.usedJSHeapSize : null,
  wasm: (window.__skeinWasm && window.__skeinWasm.memory) ? window.__skeinWasm.memory.buffer.byteLength : null,
  rows: document.querySelectorAll('.span-row').length,
  shown: shown ? shown.textContent : '',
};
"#;

/// How long to wait for the critical path after the paint.
const CRITICAL_WAIT: Duration = Duration::from_secs(15);

/// A frame slower than this is counted in `ScrollStats::over_20_9_ms`.
pub const SLOW_FRAME_MS: f64 = 20.9;

fn scroll_stats(v: &Value) -> Option<ScrollStats> {
    let intervals: Vec<f64> = v["intervals"]
        .as_array()?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    Some(ScrollStats {
        frames: intervals.len(),
        p50_ms: quantile(intervals.clone(), 0.5),
        p95_ms: quantile(intervals.clone(), 0.95),
        max_ms: intervals.iter().copied().fold(0.0, f64::max),
        over_20_9_ms: intervals.iter().filter(|i| **i > SLOW_FRAME_MS).count(),
        long_tasks: v["longTasks"].as_u64().unwrap_or(0),
        max_row_elements: v["maxRows"].as_u64().unwrap_or(0),
        reached_end: v["atEnd"].as_bool().unwrap_or(false),
    })
}

pub(super) async fn open_trace(
    browser: &Browser,
    config: &BrowserConfig,
    trace_id: &str,
    cache: Cache,
) -> Result<TraceRun, BrowserError> {
    let driver = &browser.driver;
    driver.goto("about:blank").await?;
    if cache == Cache::Cold {
        ChromeDevTools::new(driver.handle.clone())
            .execute_cdp("Network.clearBrowserCache")
            .await?;
    }
    driver
        .goto(format!("{}/traces/{trace_id}", config.app_url))
        .await?;
    wait_for(
        driver,
        "return performance.getEntriesByName('skein:trace-painted').length > 0",
        config.timeout,
        "the painted waterfall",
    )
    .await?;
    // The critical path comes after the paint: memory is read once it is there too. A
    // dashboard that draws it with the rows never sets the mark.
    let _ = wait_for(
        driver,
        "return performance.getEntriesByName('skein:trace-critical').length > 0",
        config.timeout.min(CRITICAL_WAIT),
        "the critical path",
    )
    .await;
    let m = js(driver, READ_MARKS).await?;
    let mib = |v: &Value| v.as_f64().map(|b| b / 1024.0 / 1024.0);
    let mut run = TraceRun {
        cache,
        navigation_to_first_rows_ms: m["firstRows"].as_f64(),
        navigation_to_painted_ms: m["painted"].as_f64().unwrap_or(f64::NAN),
        navigation_to_critical_ms: m["critical"].as_f64(),
        fetch_ms: m["fetch"].as_f64(),
        build_ms: m["build"].as_f64(),
        requested_to_painted_ms: m["load"].as_f64(),
        js_heap_mib: mib(&m["heap"]),
        wasm_memory_mib: mib(&m["wasm"]),
        row_elements: m["rows"].as_u64().unwrap_or(0),
        rows_shown: m["shown"].as_str().unwrap_or("").to_string(),
        scroll: None,
    };
    if config.scroll_frames > 0 && cache == Cache::Warm {
        driver
            .execute(SCROLL_SCRIPT, vec![json!(config.scroll_frames)])
            .await?;
        let result = wait_for(
            driver,
            "return window.__skeinScroll",
            config.timeout,
            "the scroll to the end",
        )
        .await?;
        run.scroll = scroll_stats(&result);
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slow_frame_count_counts_what_its_name_says() {
        let stats = scroll_stats(&json!({
            "intervals": [7.0, 16.6, 16.8, 20.9, 20.91, 35.0],
            "longTasks": 1,
            "maxRows": 30,
            "atEnd": true,
        }))
        .unwrap();
        assert_eq!(stats.frames, 6);
        // 16.8 and 20.9 are not over 20.9 ms; 20.91 and 35 are.
        assert_eq!(stats.over_20_9_ms, 2);
        assert_eq!(stats.max_ms, 35.0);
    }
}
