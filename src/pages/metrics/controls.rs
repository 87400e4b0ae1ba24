//! The metrics page's controls: what is measured (traces or spans), metric, grouping by one
//! or two keys, filters, time range and bucket. They only edit the URL.

use leptos::prelude::*;
use skein_model::metrics::{self, Metric, MetricQuery, Over, SpanGroup};
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
        let spans = q.over == Over::Spans;
        let mut metric_groups: Vec<(&str, Vec<(String, String)>)> = Vec::new();
        for (group, name, label) in mv::BUILT_IN {
            let (group, label) = match (spans, group, name) {
                (true, _, "count") => ("Spans", "Span count"),
                (true, "Traces", _) => ("Spans", label),
                _ => (group, label),
            };
            match metric_groups.last_mut() {
                Some((g, items)) if *g == group => items.push((name.into(), label.into())),
                _ => metric_groups.push((group, vec![(name.into(), label.into())])),
            }
        }
        if let Metric::Attr(key) = &q.metric {
            metric_groups.push((
                "Span attribute",
                vec![(metric_now.clone(), format!("Attribute: {key}"))],
            ));
        }
        if !keys.is_empty() && !spans {
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
        if spans {
            let fields = SpanGroup::FIELDS.into_iter().zip([
                "Span name",
                "Span type",
                "Span model",
                "Span service",
            ]);
            for (i, (key, label)) in fields.enumerate() {
                group_keys.insert(i, (key.to_string(), label.to_string()));
            }
        }
        for chosen in [&q.group_by, &q.then_by].into_iter().flatten() {
            if !group_keys.iter().any(|(k, _)| k == chosen) {
                group_keys.insert(0, (chosen.clone(), chosen.clone()));
            }
        }
        let key_options = |none: &str, chosen: &Option<String>, other: &Option<String>| {
            std::iter::once((String::new(), none.to_string()))
                .chain(
                    group_keys
                        .iter()
                        .filter(|(k, _)| Some(k) != other.as_ref())
                        .cloned(),
                )
                .map(|(key, label)| {
                    let selected = chosen.as_deref().unwrap_or("") == key;
                    option(key, label, selected)
                })
                .collect_view()
        };
        let group_options = key_options("No grouping", &q.group_by, &None);
        let then_options = q
            .group_by
            .is_some()
            .then(|| key_options("Nothing", &q.then_by, &q.group_by));
        let then_control = then_options.map(|options| {
            view! {
                <label class="m-control">
                    <span class="m-control-label">"Then by"</span>
                    <select class="select" name="then_by" on:change=move |ev| {
                        let key = event_target_value(&ev);
                        edit(&|q| q.then_by = (!key.is_empty()).then(|| key.clone()));
                    }>{options}</select>
                </label>
            }
        });
        let attr_now = match &q.metric {
            Metric::Attr(key) => key.clone(),
            _ => String::new(),
        };
        let attr_control = spans.then(|| view! {
            <label class="m-control">
                <span class="m-control-label">"Attribute"</span>
                <input class="input m-attr" name="attr" type="text" value=attr_now
                    placeholder="e.g. retrieval.documents" spellcheck="false"
                    title="A numeric span attribute to measure (spans without it are left out)"
                    on:change=move |ev| {
                        let key = event_target_value(&ev).trim().to_string();
                        let metric = if key.is_empty() { Ok(Metric::Count) } else { Metric::parse(&format!("attr:{key}")) };
                        if let Ok(m) = metric {
                            edit(&|q| q.metric = m.clone());
                        }
                    }/>
            </label>
        });
        let overs = [(Over::Traces, "Traces"), (Over::Spans, "Spans")]
            .into_iter()
            .map(|(over, label)| {
                let pick = move |_| {
                    edit(&|q| {
                        if q.over == over {
                            return;
                        }
                        q.over = over;
                        if over.check(&q.metric).is_err() {
                            q.metric = Metric::Count;
                        }
                        // A span field names nothing on a trace.
                        for key in [&mut q.group_by, &mut q.then_by] {
                            if key
                                .as_deref()
                                .is_some_and(|k| !matches!(SpanGroup::of(k), SpanGroup::Tag(_)))
                            {
                                *key = None;
                            }
                        }
                    })
                };
                view! {
                    <button type="button" class="m-seg-button" data-over=over.as_str()
                        aria-pressed=(q.over == over).to_string() on:click=pick>{label}</button>
                }
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
                <div class="m-control">
                    <span class="m-control-label">"Measure"</span>
                    <div class="m-seg" role="group" aria-label="Measure">{overs}</div>
                </div>
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
                        edit(&|q| {
                            q.group_by = (!key.is_empty()).then(|| key.clone());
                            if q.group_by.is_none() || q.group_by == q.then_by {
                                q.then_by = None;
                            }
                        });
                    }>{group_options}</select>
                </label>
                {then_control}
                {attr_control}
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
