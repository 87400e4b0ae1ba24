//! The metrics page's controls: metric, grouping, filters, time range and bucket. They only
//! edit the URL.

use leptos::prelude::*;
use skein_model::metrics::{self, Metric, MetricQuery};
use skein_model::TagFilter;

use crate::components::tag_chip::FilterChips;
use crate::components::tag_picker::AddTagFilter;
use crate::metrics_view::{self as mv, MetricsView, Range};
use crate::text;

use super::{day_time, TagKeys};

/// The metric, grouping, filters, time range and bucket pickers. They only edit the URL.
#[component]
pub fn Controls(
    view: Memo<MetricsView>,
    project: Memo<String>,
    tag_keys: TagKeys,
    feedback_keys: RwSignal<Vec<String>>,
    set_view: Callback<MetricsView>,
) -> impl IntoView {
    let set_query = move |q: MetricQuery| set_view.run(view.get_untracked().with_query(q));
    let edit = move |f: &dyn Fn(&mut MetricQuery)| {
        let mut q = view.get_untracked().query;
        f(&mut q);
        set_query(q);
    };
    let row = move || {
        let v = view.get();
        let q = v.query.clone();
        let metric_now = q.metric.to_string();
        let mut keys = feedback_keys.get();
        if let Some(key) = metric_now.strip_prefix("feedback:") {
            if !keys.iter().any(|k| k == key) {
                keys.push(key.to_string());
            }
        }
        let option = |value: String, label: String, selected: bool| {
            view! { <option value=value selected=selected>{label}</option> }
        };
        let mut metric_groups: Vec<(&str, Vec<(String, String)>)> = Vec::new();
        for (group, name, label) in mv::BUILT_IN {
            match metric_groups.last_mut() {
                Some((g, items)) if *g == group => items.push((name.into(), label.into())),
                _ => metric_groups.push((group, vec![(name.into(), label.into())])),
            }
        }
        if !keys.is_empty() {
            let items = keys
                .into_iter()
                .map(|k| (format!("feedback:{k}"), format!("Feedback: {k}")))
                .collect();
            metric_groups.push(("Feedback score (mean)", items));
        }
        let metric_options = metric_groups
            .into_iter()
            .map(|(group, items)| {
                let options = items
                    .into_iter()
                    .map(|(value, label)| {
                        let selected = value == metric_now;
                        option(value, label, selected)
                    })
                    .collect_view();
                view! { <optgroup label=group>{options}</optgroup> }
            })
            .collect_view();

        let mut group_keys: Vec<(String, String)> = match tag_keys.get() {
            Some(Ok(list)) => list
                .into_iter()
                .map(|k| {
                    let label = format!("{} ({})", k.key, text::thousands(k.trace_count));
                    (k.key, label)
                })
                .collect(),
            _ => Vec::new(),
        };
        if let Some(c) = &q.group_by {
            if !group_keys.iter().any(|(k, _)| k == c) {
                group_keys.insert(0, (c.clone(), c.clone()));
            }
        }
        let group_options = std::iter::once((String::new(), "No grouping".to_string()))
            .chain(group_keys)
            .map(|(key, label)| {
                let selected = q.group_by.as_deref().unwrap_or("") == key;
                option(key, label, selected)
            })
            .collect_view();

        let bucket_now = q.bucket.to_string();
        let mut buckets: Vec<String> = mv::BUCKETS.iter().map(|s| s.to_string()).collect();
        if !buckets.contains(&bucket_now) {
            buckets.push(bucket_now.clone());
        }
        let bucket_options = buckets
            .into_iter()
            .map(|b| {
                let label = if b == "auto" {
                    "Auto".into()
                } else {
                    b.clone()
                };
                let selected = b == bucket_now;
                option(b, label, selected)
            })
            .collect_view();

        let fixed = q.from_ms.is_some() || q.to_ms.is_some();
        let ranges = Range::ALL
            .into_iter()
            .map(|r| {
                let pressed = !fixed && v.range == r;
                let v = v.clone();
                let pick = move |_| {
                    let mut v = v.clone();
                    v.range = r;
                    v.query.from_ms = None;
                    v.query.to_ms = None;
                    set_view.run(v);
                };
                view! {
                    <button type="button" class="m-seg-button" data-range=r.as_str()
                        aria-pressed=pressed.to_string() on:click=pick>{r.label()}</button>
                }
            })
            .collect_view();
        let fixed_text = fixed.then(|| {
            let from = q.from_ms.map(day_time).unwrap_or_else(|| "…".into());
            let to = q.to_ms.map(day_time).unwrap_or_else(|| "now".into());
            view! { <span class="range-fixed" title="A fixed range from the link">{format!("{from} – {to}")}</span> }
        });

        view! {
            <div class="filter-row">
                <label class="m-control">
                    <span class="m-control-label">"Metric"</span>
                    <select class="select" name="metric" on:change=move |ev| {
                        if let Ok(m) = Metric::parse(&event_target_value(&ev)) {
                            edit(&|q| q.metric = m.clone());
                        }
                    }>{metric_options}</select>
                </label>
                <label class="m-control">
                    <span class="m-control-label">"Group by"</span>
                    <select class="select" name="group_by" on:change=move |ev| {
                        let key = event_target_value(&ev);
                        edit(&|q| q.group_by = (!key.is_empty()).then(|| key.clone()));
                    }>{group_options}</select>
                </label>
                <div class="m-control">
                    <span class="m-control-label">"Range"</span>
                    <div class="m-seg" role="group" aria-label="Time range">{ranges}</div>
                    {fixed_text}
                </div>
                <label class="m-control">
                    <span class="m-control-label">"Bucket"</span>
                    <select class="select" name="bucket" on:change=move |ev| {
                        if let Ok(b) = metrics::Bucket::parse(&event_target_value(&ev)) {
                            edit(&|q| q.bucket = b);
                        }
                    }>{bucket_options}</select>
                </label>
            </div>
        }
    };

    let remove_tag = Callback::new(move |i: usize| {
        edit(&|q| {
            if i < q.tags.len() {
                q.tags.remove(i);
            }
        })
    });
    let filter_tags = Signal::derive(move || view.get().query.tags);
    let add_tag = Callback::new(move |(key, value): (String, String)| {
        let tag = TagFilter { key, value };
        if !view.get_untracked().query.tags.contains(&tag) {
            edit(&|q| q.tags.push(tag.clone()));
        }
    });

    view! {
        <div class="filter-bar metrics-controls">
            {row}
            <div class="filter-row tag-row">
                <span class="filter-label">"Filters"</span>
                <FilterChips tags=filter_tags on_remove=remove_tag/>
                <AddTagFilter project=project on_add=add_tag/>
            </div>
        </div>
    }
}
