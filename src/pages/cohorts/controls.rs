//! What the two cohorts are: per cohort a filter box (traces having a span where…), its tag
//! conditions as chips and its time window; the presets (one tag's two values, last week vs
//! this week) and the measure the rows are sorted by. Every change is a new URL.

use leptos::prelude::*;
use skein_model::cohort::{CohortMeasure, CohortQuery};
use skein_model::cohort_format;
use skein_model::recent::RecentRange;
use skein_model::{StatusFilter, TagFilter, TraceQuery};

use crate::components::filter_input::FilterInput;
use crate::components::tag_chip::FilterChips;
use crate::components::tag_picker::{AddTagFilter, TagLists};
use crate::links;
use crate::time::{full_time, now_ms};

const WEEK_MS: i64 = 7 * 86_400_000;

#[derive(Clone, Copy, PartialEq)]
enum Side {
    A,
    B,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::A => "A",
            Side::B => "B",
        }
    }

    fn of(self, q: &CohortQuery) -> TraceQuery {
        match self {
            Side::A => q.a.clone(),
            Side::B => q.b.clone(),
        }
    }

    fn set(self, q: &mut CohortQuery, side: TraceQuery) {
        match self {
            Side::A => q.a = side,
            Side::B => q.b = side,
        }
    }
}

#[component]
pub fn CohortControls(
    project: Memo<String>,
    query: Memo<CohortQuery>,
    set_query: Callback<CohortQuery>,
) -> impl IntoView {
    let on_by = move |ev: leptos::ev::Event| {
        let mut q = query.get_untracked();
        q.by = CohortMeasure::parse(&event_target_value(&ev)).unwrap_or_default();
        set_query.run(q);
    };
    let measures = [
        CohortMeasure::Duration,
        CohortMeasure::Tokens,
        CohortMeasure::Cost,
        CohortMeasure::Errors,
    ];
    view! {
        <section class="cohort-editors" aria-label="The two cohorts">
            <CohortEditor side=Side::A project=project query=query set_query=set_query/>
            <CohortEditor side=Side::B project=project query=query set_query=set_query/>
            <label class="cohort-by">
                <span class="muted">"Sort rows by their share of B − A in"</span>
                <select class="select" name="by" aria-label="Sort by" on:change=on_by
                    prop:value=move || query.get().by.as_str()>
                    {measures.map(|m| view! {
                        <option value=m.as_str()>{cohort_format::measure_label(m).to_lowercase()}</option>
                    }).collect_view()}
                </select>
            </label>
        </section>
    }
}

/// The time window of a cohort, in words; none without one.
fn window(q: &TraceQuery) -> Option<String> {
    let mut parts = Vec::new();
    if q.range != RecentRange::All {
        parts.push(format!("last {}", q.range.as_str()));
    }
    if let Some(from) = q.from_ms {
        parts.push(format!("from {}", full_time(from * 1_000_000)));
    }
    if let Some(to) = q.to_ms {
        parts.push(format!("before {}", full_time(to * 1_000_000)));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The cohort's other list conditions (from a list link), in words.
fn others(q: &TraceQuery) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = &q.name {
        out.push(format!("root name contains {n:?}"));
    }
    match q.status {
        Some(StatusFilter::Ok) => out.push("without errors".into()),
        Some(StatusFilter::Error) => out.push("with errors".into()),
        None => {}
    }
    if let Some(ms) = q.min_duration_ms {
        out.push(format!("at least {}", cohort_format::ms(ms)));
    }
    if let Some(ms) = q.max_duration_ms {
        out.push(format!("at most {}", cohort_format::ms(ms)));
    }
    if let Some(s) = &q.session_id {
        out.push(format!("session {s}"));
    }
    if let Some(u) = &q.user_id {
        out.push(format!("user {u}"));
    }
    if let Some(f) = &q.trace_filter {
        out.push(format!("root span passes {f}"));
    }
    if let Some(f) = &q.tree_filter {
        out.push(format!("a span passes {f}"));
    }
    out
}

#[component]
fn CohortEditor(
    side: Side,
    project: Memo<String>,
    query: Memo<CohortQuery>,
    set_query: Callback<CohortQuery>,
) -> impl IntoView {
    let cohort = Memo::new(move |_| query.with(|q| side.of(q)));
    let edit = move |change: &dyn Fn(&mut TraceQuery)| {
        let mut q = query.get_untracked();
        let mut c = side.of(&q);
        change(&mut c);
        side.set(&mut q, c);
        set_query.run(q);
    };
    let filter_text = Signal::derive(move || cohort.get().filter.unwrap_or_default());
    let apply = Callback::new(move |text: String| {
        edit(&|c| c.filter = (!text.is_empty()).then(|| text.clone()));
    });
    let remove_tag = Callback::new(move |i: usize| {
        edit(&|c| {
            if i < c.tags.len() {
                c.tags.remove(i);
            }
        })
    });
    let add_tag = Callback::new(move |(key, value): (String, String)| {
        edit(&|c| {
            c.tags.retain(|t| t.key != key);
            c.tags.push(TagFilter {
                key: key.clone(),
                value: value.clone(),
            });
        })
    });
    let clear_window = move |_| {
        edit(&|c| {
            c.range = RecentRange::All;
            c.from_ms = None;
            c.to_ms = None;
        })
    };
    let tags = Signal::derive(move || cohort.get().tags);
    let list_href = move || links::list_href(&project.get(), &cohort.get());
    let name = match side {
        Side::A => "cohort-a-filter",
        Side::B => "cohort-b-filter",
    };
    view! {
        <div class=format!("cohort-editor side-{}", side.label().to_lowercase())
            data-testid=format!("cohort-{}", side.label().to_lowercase())>
            <div class="cohort-editor-head">
                <span class="side-badge">{side.label()}</span>
                <div class="chips wrap">
                    <FilterChips tags=tags on_remove=remove_tag/>
                    {move || window(&cohort.get()).map(|w| view! {
                        <span class="filter-chip">
                            <span class="chip-text">{w}</span>
                            <button type="button" class="chip-remove" title="Remove the time window"
                                aria-label="Remove the time window" on:click=clear_window>"×"</button>
                        </span>
                    })}
                    {move || others(&cohort.get()).into_iter().map(|o| view! {
                        <span class="muted cohort-other">{o}</span>
                    }).collect_view()}
                    <AddTagFilter project=project on_add=add_tag/>
                </div>
                <a class="cohort-list-link" href=list_href title="This cohort's traces in the trace list">"Traces →"</a>
            </div>
            <FilterInput project=project value=filter_text on_apply=apply
                label="Traces having a span where" name=name/>
        </div>
    }
}

/// The presets: one tag key's two values as A and B, or last week as A and this week as B.
#[component]
pub fn Presets(
    project: Memo<String>,
    query: Memo<CohortQuery>,
    set_query: Callback<CohortQuery>,
) -> impl IntoView {
    let lists = TagLists::new();
    let TagLists {
        keys, key, values, ..
    } = lists;
    let (value_a, value_b) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    Effect::new(move |_| lists.load_keys(project.get()));
    let on_key = move |ev: leptos::ev::Event| {
        value_a.set(String::new());
        value_b.set(String::new());
        lists.choose_key(project.get_untracked(), event_target_value(&ev), move |r| {
            // The two most common values, preselected.
            if let Ok(v) = r {
                value_a.set(v.first().map(|x| x.value.clone()).unwrap_or_default());
                value_b.set(v.get(1).map(|x| x.value.clone()).unwrap_or_default());
            }
        });
    };
    let key_options = move || match keys.get() {
        Some(Ok(list)) => list
            .into_iter()
            .map(|k| view! { <option value=k.key.clone()>{k.key.clone()}</option> })
            .collect_view()
            .into_any(),
        _ => ().into_any(),
    };
    let value_options = move |chosen: RwSignal<String>| {
        let list = values.get().and_then(|(_, r)| r.ok()).unwrap_or_default();
        list.into_iter()
            .map(|v| {
                let selected = v.value == chosen.get();
                view! { <option value=v.value.clone() selected=selected>{v.value.clone()}</option> }
            })
            .collect_view()
    };
    let apply_tag = move |_| {
        let (k, a, b) = (
            key.get_untracked(),
            value_a.get_untracked(),
            value_b.get_untracked(),
        );
        if k.is_empty() || a.is_empty() || b.is_empty() {
            return;
        }
        let mut q = query.get_untracked();
        for (side, v) in [(&mut q.a, a), (&mut q.b, b)] {
            side.tags.retain(|t| t.key != k);
            side.tags.push(TagFilter {
                key: k.clone(),
                value: v,
            });
        }
        set_query.run(q);
    };
    let weeks = move |_| {
        let now = now_ms();
        let mut q = query.get_untracked();
        for (side, from, to) in [
            (&mut q.a, now - 2 * WEEK_MS, now - WEEK_MS),
            (&mut q.b, now - WEEK_MS, now),
        ] {
            side.range = RecentRange::All;
            side.from_ms = Some(from);
            side.to_ms = Some(to);
        }
        set_query.run(q);
    };
    let can_apply = move || {
        !key.get().is_empty()
            && !value_a.get().is_empty()
            && !value_b.get().is_empty()
            && value_a.get() != value_b.get()
    };
    view! {
        <section class="cohort-presets" aria-label="Presets">
            <span class="muted">"Preset:"</span>
            <select class="select small" name="preset-key" aria-label="Tag key" on:change=on_key
                prop:value=move || key.get()>
                <option value="">"tag…"</option>
                {key_options}
            </select>
            // The values and the button come with a key: two empty drop-downs said nothing.
            <Show when=move || !key.get().is_empty()>
                <select class="select small" name="preset-a" aria-label="Value for A"
                    on:change=move |ev| value_a.set(event_target_value(&ev))>
                    {move || value_options(value_a)}
                </select>
                <span class="muted">"vs"</span>
                <select class="select small" name="preset-b" aria-label="Value for B"
                    on:change=move |ev| value_b.set(event_target_value(&ev))>
                    {move || value_options(value_b)}
                </select>
                <button type="button" class="button small" name="preset-apply"
                    disabled=move || !can_apply() on:click=apply_tag>"Compare values"</button>
            </Show>
            <span class="preset-sep"></span>
            <button type="button" class="button small" name="preset-weeks" on:click=weeks
                title="A: the 7 days before the last 7; B: the last 7 days">"Last week vs this week"</button>
        </section>
    }
}
