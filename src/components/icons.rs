//! Small static inline SVG icons (16×16, drawn with `currentColor`), and what views written
//! as markup (the trace page's rows) need: an icon's markup, and text escaping.

use leptos::prelude::*;

/// An icon: an outlined `<svg>` drawn with `currentColor`, and its shapes (markup). Every
/// icon is this one view, with its own values.
struct Glyph {
    class: Option<&'static str>,
    view_box: &'static str,
    /// Width and height (px).
    size: &'static str,
    stroke_width: &'static str,
    /// Round line caps, round line joins.
    cap: bool,
    join: bool,
    shapes: &'static str,
}

fn glyph(g: Glyph) -> impl IntoView {
    view! {
        <svg class=g.class viewBox=g.view_box width=g.size height=g.size aria-hidden="true"
            fill="none" stroke="currentColor" stroke-width=g.stroke_width
            stroke-linecap=g.cap.then_some("round") stroke-linejoin=g.join.then_some("round")
            inner_html=g.shapes></svg>
    }
}

#[component]
pub fn Logo() -> impl IntoView {
    glyph(Glyph {
        class: Some("logo"),
        view_box: "0 0 20 20",
        size: "20",
        stroke_width: "1.7",
        cap: true,
        join: false,
        shapes: r#"<path d="M3 6c4 0 4 8 8 8s4-8 6-8"/><path d="M3 14c4 0 4-8 8-8s4 8 6 8" opacity="0.55"/>"#,
    })
}

#[component]
pub fn SunIcon() -> impl IntoView {
    glyph(Glyph {
        class: None,
        view_box: "0 0 16 16",
        size: "16",
        stroke_width: "1.5",
        cap: true,
        join: false,
        shapes: r#"<circle cx="8" cy="8" r="3"/><path d="M8 1.5v1.5M8 13v1.5M1.5 8H3M13 8h1.5M3.4 3.4l1 1M11.6 11.6l1 1M3.4 12.6l1-1M11.6 4.4l1-1"/>"#,
    })
}

#[component]
pub fn MoonIcon() -> impl IntoView {
    glyph(Glyph {
        class: None,
        view_box: "0 0 16 16",
        size: "16",
        stroke_width: "1.5",
        cap: false,
        join: true,
        shapes: r#"<path d="M13.5 9.5A5.5 5.5 0 0 1 6.5 2.5a5.5 5.5 0 1 0 7 7z"/>"#,
    })
}

#[component]
pub fn SearchIcon() -> impl IntoView {
    glyph(Glyph {
        class: Some("input-icon"),
        view_box: "0 0 16 16",
        size: "14",
        stroke_width: "1.5",
        cap: true,
        join: false,
        shapes: r#"<circle cx="7" cy="7" r="4.5"/><path d="M10.5 10.5L14 14"/>"#,
    })
}

#[component]
pub fn CloseIcon() -> impl IntoView {
    glyph(Glyph {
        class: None,
        view_box: "0 0 16 16",
        size: "12",
        stroke_width: "1.8",
        cap: true,
        join: false,
        shapes: r#"<path d="M4 4l8 8M12 4l-8 8"/>"#,
    })
}

#[component]
pub fn PlusIcon() -> impl IntoView {
    glyph(Glyph {
        class: None,
        view_box: "0 0 16 16",
        size: "12",
        stroke_width: "1.8",
        cap: true,
        join: false,
        shapes: r#"<path d="M8 3v10M3 8h10"/>"#,
    })
}

/// `AlertIcon` as markup.
pub const ALERT_ICON_MARKUP: &str = "<svg viewBox=\"0 0 16 16\" width=\"16\" height=\"16\" aria-hidden=\"true\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" stroke-linecap=\"round\" stroke-linejoin=\"round\"><path d=\"M8 1.8L15 14H1z\"/><path d=\"M8 6.5v3.2M8 11.8v.2\"/></svg>";

/// Appends `text` to markup, escaped for an element's text or a quoted attribute value.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[component]
pub fn AlertIcon() -> impl IntoView {
    glyph(Glyph {
        class: None,
        view_box: "0 0 16 16",
        size: "16",
        stroke_width: "1.5",
        cap: true,
        join: true,
        shapes: r#"<path d="M8 1.8L15 14H1z"/><path d="M8 6.5v3.2M8 11.8v.2"/>"#,
    })
}

#[component]
pub fn InboxIcon() -> impl IntoView {
    glyph(Glyph {
        class: None,
        view_box: "0 0 24 24",
        size: "36",
        stroke_width: "1.3",
        cap: true,
        join: true,
        shapes: r#"<path d="M3 13l3-8h12l3 8v6H3z"/><path d="M3 13h5l1 2.5h6l1-2.5h5"/>"#,
    })
}

#[component]
pub fn ArrowLeftIcon() -> impl IntoView {
    glyph(Glyph {
        class: None,
        view_box: "0 0 16 16",
        size: "14",
        stroke_width: "1.6",
        cap: true,
        join: true,
        shapes: r#"<path d="M13 8H3M7 4L3 8l4 4"/>"#,
    })
}

/// A trace (a small hierarchy), where the root span's type is not known.
#[component]
pub fn TraceIcon() -> impl IntoView {
    glyph(Glyph {
        class: Some("type-icon t-trace"),
        view_box: "0 0 16 16",
        size: "14",
        stroke_width: "1.5",
        cap: true,
        join: true,
        shapes: r#"<path d="M2.5 3.5h5M4.5 3.5v9M4.5 8h5M4.5 12.5h5"/><path d="M11.5 8h2M11.5 12.5h2" opacity="0.6"/>"#,
    })
}
