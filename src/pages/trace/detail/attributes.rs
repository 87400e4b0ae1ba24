//! Attribute tables and long text, as the detail panel shows them.

use leptos::either::Either;
use leptos::prelude::*;
use serde_json::Value;

use crate::components::json_view::JsonView;
use crate::text;

/// Characters of a long text shown before "show all".
const FIRST_CHARS: usize = 4_000;

/// Attribute `key → value` rows: text wraps, JSON (objects, arrays, JSON in a string) folds.
#[component]
pub fn AttributeTable(entries: Vec<(String, Value)>) -> impl IntoView {
    if entries.is_empty() {
        return Either::Left(view! { <p class="muted empty-note">"None."</p> });
    }
    Either::Right(view! {
        <table class="attr-table">
            <tbody>
                {entries
                    .into_iter()
                    .map(|(k, v)| {
                        let json = match &v {
                            Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
                                serde_json::from_str::<Value>(s).ok()
                            }
                            Value::Object(_) | Value::Array(_) => Some(v.clone()),
                            _ => None,
                        };
                        let value = match json {
                            Some(j) => Either::Left(view! { <JsonView value=j open_depth=0/> }),
                            None => {
                                Either::Right(view! { <LongText text=scalar_text(&v)/> })
                            }
                        };
                        view! {
                            <tr>
                                <th scope="row" class="mono" title=k.clone()>{k.clone()}</th>
                                <td>{value}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    })
}

/// A JSON scalar as text (strings unquoted); containers are shown by `JsonView` instead.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::Array(a) => format!("[{} items]", a.len()),
        Value::Object(o) => format!("{{{} keys}}", o.len()),
    }
}

/// Text that wraps, its start only when very long.
#[component]
pub fn LongText(text: String) -> impl IntoView {
    let total = text.chars().count();
    if total <= FIRST_CHARS {
        return Either::Left(view! { <span class="long-text">{text}</span> });
    }
    let all = RwSignal::new(false);
    let head: String = text.chars().take(FIRST_CHARS).collect();
    Either::Right(view! {
        <span class="long-text">{move || if all.get() { text.clone() } else { format!("{head}…") }}</span>
        {move || (!all.get()).then(|| view! {
            <button type="button" class="link-button" on:click=move |_| all.set(true)>
                {format!("Show all {} characters", text::thousands(total as u64))}
            </button>
        })}
    })
}
