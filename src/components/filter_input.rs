//! The filter text box: any expression of the filter language
//! (`and(eq(run_type, "llm"), gt(latency, "2s"))`), checked as it is typed by the model's own
//! parser (no round trip; its code loads on the box's first use, `filter_check`), with the place
//! of an error underlined and its message; suggestions of functions, fields and stored values at
//! the caret (↑/↓, Enter or Tab to accept, Escape to close). Enter applies a valid expression: the page puts it in its URL (`filter=`).

use std::time::Duration;

use leptos::html::Input;
use leptos::prelude::*;
use skein_model::filter::complete;
use skein_model::filter::FilterError;

use super::filter_check::{self, Check};
use super::filter_suggest::{Catalog, Suggestion};
use super::icons::CloseIcon;

/// How long typing pauses before an error is shown (an unfinished call is not yet a mistake).
const SETTLE: Duration = Duration::from_millis(600);
/// Characters of the text shown on each side of an error.
const ERROR_CONTEXT: usize = 40;

#[component]
pub fn FilterInput(
    project: Memo<String>,
    /// The expression the page applies (from its URL).
    #[prop(into)]
    value: Signal<String>,
    /// Called with a checked expression (empty: no filter) when the user applies it.
    on_apply: Callback<String>,
    /// A short label before the box ("Filter", "Having a span where").
    label: &'static str,
    /// The input's name (and the prefix of its element ids).
    #[prop(default = "filter")]
    name: &'static str,
    #[prop(default = "and(eq(run_type, \"llm\"), gt(latency, \"2s\"))")] placeholder: &'static str,
) -> impl IntoView {
    let input = NodeRef::<Input>::new();
    let text = RwSignal::new(value.get_untracked());
    // The caret, in bytes of `text`.
    let caret = RwSignal::new(0usize);
    let open = RwSignal::new(false);
    let active = RwSignal::new(None::<usize>);
    // False while typing; an error is shown once typing pauses or on Enter.
    let settled = RwSignal::new(true);
    let typing = StoredValue::new(0u64);
    let catalog = Catalog::new(project);
    // The parser, loaded on first use (or at once for a filter from the link).
    let check = RwSignal::new(filter_check::loaded());
    let start_checking = move || {
        if check.get_untracked().is_none() {
            filter_check::load(check);
        }
    };

    // The URL changed (back, a chip, a link): the box shows what is applied.
    Effect::new(move |_| {
        let v = value.get();
        if !v.trim().is_empty() {
            start_checking();
        }
        text.set(v);
        settled.set(true);
    });

    // Unchecked (no error shown) until the parser is loaded.
    let checked = Memo::new(move |_| {
        let check: Option<Check> = check.get();
        check.and_then(|check| text.with(|t| check(t)))
    });
    let completion = Memo::new(move |_| {
        let at = caret.get();
        text.with(|t| complete::completion_at(t, at))
    });
    Effect::new(move |_| {
        if open.get() {
            if let Some(at) = completion.get() {
                catalog.prefetch(&at);
            }
        }
    });
    let suggestions = Memo::new(move |_| {
        if !open.get() {
            return Vec::new();
        }
        completion
            .get()
            .map(|at| catalog.suggest(&at))
            .unwrap_or_default()
    });
    let listed = move || !suggestions.with(Vec::is_empty);

    let read_caret = move || {
        if let Some(el) = input.get_untracked() {
            let units = el.selection_start().ok().flatten().unwrap_or(0) as usize;
            caret.set(text.with_untracked(|t| byte_of_utf16(t, units)));
        }
    };
    let apply = move || {
        let t = text.get_untracked();
        settled.set(true);
        open.set(false);
        filter_check::with_checker(move |check| {
            if check(&t).is_none() {
                on_apply.run(t.trim().to_string());
            }
        });
    };
    let accept = move |choice: Suggestion| {
        let Some(at) = completion.get_untracked() else {
            return;
        };
        let (next, at_byte) =
            text.with_untracked(|t| complete::accept(t, &at, &choice.text, choice.bare));
        if let Some(el) = input.get_untracked() {
            el.set_value(&next);
            let units = utf16_of_byte(&next, at_byte) as u32;
            let _ = el.set_selection_range(units, units);
            let _ = el.focus();
        }
        text.set(next);
        caret.set(at_byte);
        active.set(None);
        open.set(true);
    };

    let on_input = move |ev: leptos::ev::Event| {
        text.set(event_target_value(&ev));
        start_checking();
        read_caret();
        catalog.load();
        open.set(true);
        // A word being typed: its best match is ready for Enter.
        let typed_word = completion
            .get_untracked()
            .is_some_and(|c| !c.prefix.is_empty());
        active.set(typed_word.then_some(0));
        settled.set(false);
        let ticket = typing.get_value() + 1;
        typing.set_value(ticket);
        set_timeout(
            move || {
                if typing.try_get_value() == Some(ticket) {
                    settled.try_set(true);
                }
            },
            SETTLE,
        );
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = suggestions.with_untracked(Vec::len);
        let showing = open.get_untracked() && count > 0;
        match ev.key().as_str() {
            "ArrowDown" if showing => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % count)));
            }
            "ArrowUp" if showing => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(count - 1, |i| (i + count - 1) % count)));
            }
            "Enter" => {
                ev.prevent_default();
                match active.get_untracked().filter(|_| showing) {
                    Some(i) => {
                        if let Some(s) = suggestions.with_untracked(|all| all.get(i).cloned()) {
                            accept(s);
                        }
                    }
                    None => apply(),
                }
            }
            "Tab" if showing => {
                ev.prevent_default();
                let i = active.get_untracked().unwrap_or(0);
                if let Some(s) = suggestions.with_untracked(|all| all.get(i).cloned()) {
                    accept(s);
                }
            }
            "Escape" => {
                if showing {
                    open.set(false);
                } else {
                    text.set(value.get_untracked());
                    settled.set(true);
                }
            }
            _ => {}
        }
    };
    let on_keyup = move |ev: leptos::ev::KeyboardEvent| {
        if matches!(
            ev.key().as_str(),
            "ArrowLeft" | "ArrowRight" | "Home" | "End"
        ) {
            read_caret();
        }
    };
    let clear = move |_| {
        text.set(String::new());
        open.set(false);
        on_apply.run(String::new());
    };

    let error = move || {
        let e = checked.get()?;
        (settled.get() && !text.with(|t| t.trim().is_empty())).then_some(e)
    };
    let changed = move || text.with(|t| value.with(|v| t.trim() != v.trim()));
    let list_id = format!("{name}-suggestions");
    let option_id = move |i: usize| format!("{name}-option-{i}");

    let error_view = move || {
        error().map(|e| {
            let (before, at, after) = text.with_untracked(|t| error_excerpt(t, &e));
            let place = format!(" (at character {})", e.char_offset + 1);
            let offset = e.offset;
            let jump = move |_| {
                if let Some(el) = input.get_untracked() {
                    let units = text.with_untracked(|t| utf16_of_byte(t, offset)) as u32;
                    let _ = el.focus();
                    let _ = el.set_selection_range(units, units);
                    caret.set(offset);
                }
            };
            view! {
                <div class="filter-error" role="alert" data-testid=format!("{name}-error")
                    data-offset=e.char_offset.to_string()>
                    <code class="filter-error-text" on:click=jump title="Move the caret there">
                        {before}<mark class="filter-error-at">{at}</mark>{after}
                    </code>
                    <span class="filter-error-message">{e.message.clone()}{place}</span>
                </div>
            }
        })
    };

    let list = {
        let list_id = list_id.clone();
        move || {
            let items = suggestions.get();
            (!items.is_empty()).then(|| {
                let current = active.get();
                view! {
                    <ul class="filter-suggestions" role="listbox" id=list_id.clone()
                        data-testid=format!("{name}-suggestions")>
                        {items
                            .into_iter()
                            .enumerate()
                            .map(|(i, s)| {
                                let pick = s.clone();
                                view! {
                                    <li role="option" id=option_id(i) class="filter-suggestion"
                                        class:active=current == Some(i)
                                        aria-selected=(current == Some(i)).to_string()
                                        on:mousedown=move |ev| {
                                            // Keep the focus (and the caret) in the box.
                                            ev.prevent_default();
                                            accept(pick.clone());
                                        }>
                                        <span class="suggestion-text">{s.text}</span>
                                        <span class="suggestion-detail">{s.detail}</span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })
        }
    };

    view! {
        <div class="filter-input" class:invalid=move || error().is_some()>
            <label class="filter-label" for=format!("{name}-input")>{label}</label>
            <div class="filter-field">
                <input node_ref=input class="input filter-text" type="text" name=name
                    id=format!("{name}-input")
                    spellcheck="false" autocomplete="off"
                    role="combobox" aria-autocomplete="list" aria-controls=list_id
                    aria-expanded=move || listed().to_string()
                    aria-activedescendant=move || active.get().filter(|_| listed()).map(option_id)
                    aria-invalid=move || error().is_some().to_string()
                    placeholder=placeholder
                    prop:value=move || text.get()
                    on:input=on_input on:keydown=on_keydown on:keyup=on_keyup
                    on:click=move |_| read_caret()
                    on:focus=move |_| {
                        start_checking();
                        catalog.load();
                    }
                    on:blur=move |_| open.set(false)/>
                {list}
            </div>
            <Show when=changed>
                <button type="button" class="button filter-apply" on:click=move |_| apply()
                    disabled=move || checked.get().is_some()
                    title="Apply the filter (Enter)">"Apply"</button>
            </Show>
            <Show when=move || !value.with(String::is_empty)>
                <button type="button" class="icon-button" title="Remove this filter"
                    aria-label="Remove this filter" on:click=clear>
                    <CloseIcon/>
                </button>
            </Show>
            {error_view}
        </div>
    }
}

/// The text around an error: before it, the offending part (a space when it is the end of the
/// text), after it; long text cut to `ERROR_CONTEXT` characters each side.
fn error_excerpt(text: &str, e: &FilterError) -> (String, String, String) {
    let start = e.offset.min(text.len());
    let end = e.end.clamp(start, text.len());
    let before: Vec<char> = text[..start].chars().collect();
    let before: String = if before.len() > ERROR_CONTEXT {
        let tail: String = before[before.len() - ERROR_CONTEXT..].iter().collect();
        format!("…{tail}")
    } else {
        before.into_iter().collect()
    };
    let at = if end > start {
        text[start..end].to_string()
    } else {
        " ".to_string()
    };
    let after: Vec<char> = text[end..].chars().collect();
    let after: String = if after.len() > ERROR_CONTEXT {
        let head: String = after[..ERROR_CONTEXT].iter().collect();
        format!("{head}…")
    } else {
        after.into_iter().collect()
    };
    (before, at, after)
}

/// The byte offset of a UTF-16 offset (a text box's caret) in `text`.
fn byte_of_utf16(text: &str, units: usize) -> usize {
    let mut seen = 0;
    for (i, c) in text.char_indices() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16();
    }
    text.len()
}

fn utf16_of_byte(text: &str, byte: usize) -> usize {
    text.get(..byte)
        .unwrap_or(text)
        .chars()
        .map(char::len_utf16)
        .sum()
}
