//! JSON as a collapsible tree: objects and arrays fold (open to a depth), strings wrap, long
//! strings and long lists show their start with a "show all". Everything is text nodes.

use leptos::prelude::*;

use crate::components::long_text::LongText;
use serde_json::Value;

/// Items of an array or object shown before "show N more".
const FIRST_ITEMS: usize = 100;
/// Characters of a string shown before "show all".
const FIRST_CHARS: usize = 1_200;

#[component]
pub fn JsonView(
    value: Value,
    /// Containers nested less deeply than this start open.
    #[prop(default = 2)]
    open_depth: usize,
) -> impl IntoView {
    view! { <div class="json-view">{node(None, value, 0, open_depth)}</div> }
}

fn key_view(key: Option<String>) -> impl IntoView {
    key.map(|k| {
        view! {
            <span class="jv-key">{k}</span>
            <span class="jv-punct">": "</span>
        }
    })
}

fn node(key: Option<String>, value: Value, depth: usize, open_depth: usize) -> AnyView {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let n = map.len();
            let entries: Vec<(Option<String>, Value)> =
                map.into_iter().map(|(k, v)| (Some(k), v)).collect();
            container(
                key,
                entries,
                ("{", "}"),
                plural(n, "key", "keys"),
                depth,
                open_depth,
            )
        }
        Value::Array(items) if !items.is_empty() => {
            let n = items.len();
            let entries: Vec<(Option<String>, Value)> =
                items.into_iter().map(|v| (None, v)).collect();
            container(
                key,
                entries,
                ("[", "]"),
                plural(n, "item", "items"),
                depth,
                open_depth,
            )
        }
        leaf => view! {
            <div class="jv-line">{key_view(key)}{leaf_view(leaf)}</div>
        }
        .into_any(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn container(
    key: Option<String>,
    entries: Vec<(Option<String>, Value)>,
    (open_brace, close_brace): (&'static str, &'static str),
    summary: String,
    depth: usize,
    open_depth: usize,
) -> AnyView {
    let open = RwSignal::new(depth < open_depth);
    let all = RwSignal::new(entries.len() <= FIRST_ITEMS);
    let total = entries.len();
    let entries = StoredValue::new(entries);
    let toggle = move |_| open.update(|o| *o = !*o);
    let children = move || {
        if !open.get() {
            return None;
        }
        let show = if all.get() {
            total
        } else {
            FIRST_ITEMS.min(total)
        };
        let items = entries.with_value(|e| e[..show].to_vec());
        Some(view! {
            <div class="jv-children">
                {items
                    .into_iter()
                    .map(|(k, v)| node(k, v, depth + 1, open_depth))
                    .collect_view()}
                {(show < total).then(|| view! {
                    <button type="button" class="link-button jv-more" on:click=move |_| all.set(true)>
                        {format!("Show {} more", total - show)}
                    </button>
                })}
            </div>
        })
    };
    view! {
        <div class="jv-node">
            <div class="jv-line">
                <button type="button" class="jv-toggle" aria-expanded=move || open.get().to_string()
                    title=move || if open.get() { "Collapse" } else { "Expand" } on:click=toggle>
                    <span class="chevron" class:open=move || open.get()></span>
                </button>
                {key_view(key)}
                <span class="jv-punct">{open_brace}</span>
                {move || (!open.get()).then(|| view! {
                    <button type="button" class="jv-summary" on:click=toggle>{summary.clone()}</button>
                    <span class="jv-punct">{close_brace}</span>
                })}
            </div>
            {children}
            {move || open.get().then(|| view! { <div class="jv-line"><span class="jv-punct">{close_brace}</span></div> })}
        </div>
    }
    .into_any()
}

fn leaf_view(value: Value) -> AnyView {
    let (class, text) = match value {
        Value::String(s) => ("jv-str", format!("\"{s}\"")),
        Value::Number(n) => ("jv-num", n.to_string()),
        Value::Bool(b) => ("jv-bool", b.to_string()),
        Value::Null => ("jv-null", "null".to_string()),
        Value::Object(_) => ("jv-punct", "{}".to_string()),
        Value::Array(_) => ("jv-punct", "[]".to_string()),
    };
    view! { <LongText text=text class=class first_chars=FIRST_CHARS button_class="link-button jv-more"/> }
    .into_any()
}
