//! ok / error status of a trace or span.

use leptos::prelude::*;
use skein_model::SpanStatus;

/// `ok`, or `error` with the number of failed spans when there is more than one.
/// OTel's "unset" status means "no error reported" and reads as ok.
#[component]
pub fn StatusBadge(status: SpanStatus, #[prop(optional)] error_count: u64) -> impl IntoView {
    let failed = status.is_error() || error_count > 0;
    let title = if failed {
        match error_count {
            0 | 1 => "1 span failed".to_string(),
            n => format!("{n} spans failed"),
        }
    } else if status == SpanStatus::Ok {
        "Status ok".to_string()
    } else {
        "No error reported".to_string()
    };
    view! {
        <span class="status" class:status-error=failed class:status-ok=!failed title=title>
            <span class="status-dot"></span>
            {if failed { "error" } else { "ok" }}
            {(failed && error_count > 1).then(|| view! { <span class="status-count">{error_count}</span> })}
        </span>
    }
}
