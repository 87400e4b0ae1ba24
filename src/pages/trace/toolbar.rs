//! The explorer's toolbar: find, the timing switches, and the tree's tools (expand, collapse,
//! levels, reset zoom).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::critical::TimingTools;
use super::find::FindBox;
use super::state::Ex;

#[component]
pub fn Toolbar(ex: Ex) -> impl IntoView {
    let max_depth = ex.tree.with_value(|t| t.max_depth());
    let expand_all = move |_| {
        let tree = ex.tree.get_value();
        ex.view.update(|v| v.expand_all(&tree));
    };
    let collapse_all = move |_| {
        let tree = ex.tree.get_value();
        ex.view.update(|v| v.collapse_to_depth(&tree, 0));
    };
    let on_level = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let tree = ex.tree.get_value();
        match value.parse::<usize>() {
            Ok(level) if level >= 1 => ex.view.update(|v| v.collapse_to_depth(&tree, level - 1)),
            _ => ex.view.update(|v| v.expand_all(&tree)),
        }
        if let Some(select) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        {
            select.set_value("");
        }
    };
    let zoomed = move || ex.window.get().is_zoomed_in(ex.whole());
    let reset_zoom = move |_| ex.window.set(ex.whole_untracked());

    view! {
        <div class="explorer-toolbar" role="toolbar" aria-label="Trace tools">
            <FindBox ex=ex/>
            <div class="toolbar-spacer"></div>
            <TimingTools ex=ex/>
            <div class="tree-tools">
                <button type="button" class="button small" on:click=expand_all title="Expand every span">"Expand all"</button>
                <button type="button" class="button small" on:click=collapse_all title="Show only the root">"Collapse all"</button>
                <select class="select small" name="levels" aria-label="Expand to level" on:change=on_level
                    title="Expand to a level, collapse what is deeper">
                    <option value="" selected=true>"Levels…"</option>
                    {(1..=(max_depth + 1).min(12))
                        .map(|l| view! { <option value=l.to_string()>{format!("Expand to level {l}")}</option> })
                        .collect_view()}
                    <option value="all">"Expand all levels"</option>
                </select>
                {move || zoomed().then(|| view! {
                    <button type="button" class="button small zoom-reset" on:click=reset_zoom
                        title="Show the whole trace again">"Reset zoom"</button>
                })}
            </div>
        </div>
    }
}
