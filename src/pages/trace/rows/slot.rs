//! A row slot: the elements of one drawn row, made once and kept while the rows scroll by.
//! Drawing another row into a slot writes only the attributes and texts that differ from what
//! the slot shows, and attaches or detaches only the marks that come or go. (A Leptos rebuild
//! of the row would remove and set every attribute again in this build, `erase_components`,
//! and at 10k spans and more every slot draws a new row on every frame: bench/README.)
//! Untrusted text (names, services, ids) goes in as text nodes' values and attribute values.

use leptos::prelude::*;
use leptos::tachys::view::any_view::AnyViewState;
use leptos::tachys::view::{Mountable, Render};
use skein_model::SpanType;
use wasm_bindgen::JsValue;
use web_sys::{Element, Node};

use super::super::row::{Chip, Label, RowView, Segment, Twisty};
use super::dom::{attr, content, element, make, text, text_in, with_attrs, Kids, Made};
use crate::components::feedback::{FeedbackBadge, TraceFeedback};
use crate::components::icons::AlertIcon;
use crate::components::span_type::SpanTypeIcon;

/// Icons made once by Leptos and cloned into the slots.
pub struct Icons {
    /// One per `SpanType::ALL`.
    types: Vec<Element>,
    alert: Element,
}

impl Icons {
    pub fn new() -> Made<Icons> {
        Ok(Icons {
            types: SpanType::ALL
                .iter()
                .map(|&kind| made(view! { <SpanTypeIcon kind=kind/> }))
                .collect::<Made<_>>()?,
            alert: made(view! { <AlertIcon/> })?,
        })
    }

    fn of(&self, kind: SpanType) -> Made<Element> {
        let icon = self
            .types
            .get(usize::from(kind.code()))
            .ok_or_else(|| JsValue::from_str("no icon for this span type"))?;
        element(icon.clone_node_with_deep(true)?)
    }
}

/// The element a static view makes.
fn made(view: impl IntoView) -> Made<Element> {
    let holder = document().create_element("div")?;
    let mut state = view.into_view().build();
    state.mount(&holder, None);
    holder
        .first_element_child()
        .ok_or_else(|| JsValue::from_str("the view made no element"))
}

// The tree cell's children, in order.
const INDENT: u32 = 1 << 0;
const BUTTON: u32 = 1 << 1;
const LEAF: u32 = 1 << 2;
const DEPTH_NOTE: u32 = 1 << 3;
const MISSING_ICON: u32 = 1 << 4;
const TYPE_ICON: u32 = 1 << 5;
const TYPE_ICON_AT: usize = 5;
const NAME: u32 = 1 << 6;
const HINT: u32 = 1 << 7;
const ERROR_MARK: u32 = 1 << 8;
const BADGE: u32 = 1 << 9;
const SERVICE: u32 = 1 << 10;
const HIDDEN_COUNT: u32 = 1 << 11;
const SPACER: u32 = 1 << 12;
const SKEW: u32 = 1 << 13;
const TOKENS: u32 = 1 << 14;
const COST: u32 = 1 << 15;

/// What a slot's elements show now, as last written.
#[derive(Default)]
struct Written {
    class: String,
    id: Option<String>,
    style: Option<String>,
    span_id: Option<String>,
    missing_parent: Option<String>,
    call: Option<String>,
    skew_us: Option<String>,
    depth: Option<String>,
    selected: Option<String>,
    expanded: Option<String>,
    title: Option<String>,
    indent: Option<String>,
    button_title: Option<String>,
    button_label: Option<String>,
    chevron: String,
    depth_note: String,
    icon: Option<SpanType>,
    before: String,
    marked: String,
    after: String,
    missing_id: String,
    service: String,
    hidden_count: String,
    skew_title: Option<String>,
    skew_text: String,
    tokens: String,
    cost: String,
    label_class: String,
    label_style: Option<String>,
    label_text: String,
    chip_class: String,
    chip_testid: Option<String>,
    chip_title: Option<String>,
    chip_text: String,
}

/// A bar-cell piece and what it shows.
struct Piece {
    el: Element,
    class: String,
    style: Option<String>,
    title: Option<String>,
}

pub struct RowSlot {
    /// The row element, attached while the slot draws a row.
    pub row: Element,
    /// The tree position drawn (none: the slot is empty and detached).
    pub pos: Option<usize>,
    written: Written,
    tree_cell: Element,
    cell: Kids<16>,
    indent: Element,
    chevron: Element,
    button: Element,
    depth_note: Element,
    /// This slot's type icons, made when first needed.
    type_icons: Vec<Option<Element>>,
    name: Element,
    name_kids: Kids<4>,
    service: Node,
    hidden_count: Element,
    skew: Element,
    tokens: Element,
    cost: Element,
    bar_cell: Element,
    pieces: Vec<Piece>,
    pieces_shown: usize,
    label: Element,
    chip: Element,
    label_kids: Kids<2>,
    label_shown: bool,
    /// The span whose feedback the badge shows.
    badge_span: RwSignal<Option<String>>,
    badge: AnyViewState,
}

impl RowSlot {
    /// Made in the explorer's owner (the badge reads its context and lives as long as it).
    pub fn new(icons: &Icons) -> Made<RowSlot> {
        let row = with_attrs(make("div", "")?, &[("role", "treeitem")])?;
        let tree_cell = make("div", "tree-cell")?;
        let bar_cell = make("div", "bar-cell")?;
        row.append_with_node_2(&tree_cell, &bar_cell)?;

        let indent = make("span", "indent")?;
        let button = with_attrs(
            make("button", "twisty")?,
            &[("type", "button"), ("tabindex", "-1")],
        )?;
        let chevron = make("span", "")?;
        button.append_child(&chevron)?;
        let leaf = with_attrs(make("span", "twisty leaf")?, &[("aria-hidden", "true")])?;
        let depth_note = with_attrs(make("span", "depth-note")?, &[("title", "Nesting depth")])?;
        let missing_icon = with_attrs(make("span", "missing-icon")?, &[("aria-hidden", "true")])?;
        missing_icon.set_text_content(Some("?"));
        let internal = icons.of(SpanType::Internal)?;
        let mut type_icons = vec![None; SpanType::ALL.len()];
        type_icons[usize::from(SpanType::Internal.code())] = Some(internal.clone());

        let name = make("span", "name")?;
        let before = text_in(&name, "")?;
        let mark = make("mark", "")?;
        let after = text_in(&name, "")?;
        name.remove_child(&after)?;
        let code = make("code", "")?;

        let hint = make("span", "hint")?;
        hint.set_text_content(Some("never arrived"));
        let error_mark = with_attrs(
            make("span", "error-mark")?,
            &[("title", "This span failed")],
        )?;
        error_mark.append_child(&icons.alert.clone_node_with_deep(true)?)?;
        let badge_box = make("span", "row-fb")?;
        let service_el = make("span", "row-service")?;
        let dot = make("span", "svc-dot")?;
        service_el.append_child(&dot)?;
        let service = text_in(&service_el, "")?;
        let hidden_count = with_attrs(
            make("span", "hidden-count")?,
            &[("title", "Spans hidden below")],
        )?;
        let spacer = make("span", "row-spacer")?;
        let skew = with_attrs(make("span", "skew-mark")?, &[("data-testid", "skew-mark")])?;
        let tokens = with_attrs(
            make("span", "row-tokens")?,
            &[("title", "Input + output tokens")],
        )?;
        let cost = with_attrs(
            make("span", "row-cost")?,
            &[("title", "This span's own cost")],
        )?;

        let label = make("span", "")?;
        let label_text = text_in(&label, "")?;
        let chip = make("span", "")?;

        let badge_span = RwSignal::new(None::<String>);
        // Built only for a span with feedback (most have none): a slot that draws another
        // unrated row then leaves its badge's place alone.
        let feedback = TraceFeedback::from_context();
        let mut badge = (move || {
            let span_id = badge_span.get()?;
            let rated = feedback?.items.with(|items| {
                items
                    .iter()
                    .any(|i| i.record.run_id.eq_ignore_ascii_case(&span_id))
            });
            rated.then(|| view! { <FeedbackBadge span_id=span_id/> })
        })
        .into_any()
        .build();
        badge.mount(&badge_box, None);

        let node = |el: &Element| Node::from(el.clone());
        Ok(RowSlot {
            row,
            pos: None,
            written: Written {
                icon: Some(SpanType::Internal),
                ..Written::default()
            },
            cell: Kids {
                nodes: [
                    node(&indent),
                    node(&button),
                    node(&leaf),
                    node(&depth_note),
                    node(&missing_icon),
                    node(&internal),
                    node(&name),
                    node(&hint),
                    node(&error_mark),
                    node(&badge_box),
                    node(&service_el),
                    node(&hidden_count),
                    node(&spacer),
                    node(&skew),
                    node(&tokens),
                    node(&cost),
                ],
                shown: 0,
            },
            tree_cell,
            indent,
            chevron,
            button,
            depth_note,
            type_icons,
            name_kids: Kids {
                nodes: [before, node(&mark), after, node(&code)],
                shown: 1,
            },
            name,
            service,
            hidden_count,
            skew,
            tokens,
            cost,
            bar_cell,
            pieces: Vec::new(),
            pieces_shown: 0,
            label_kids: Kids {
                nodes: [label_text, node(&chip)],
                shown: 1,
            },
            label,
            chip,
            label_shown: false,
            badge_span,
            badge,
        })
    }

    /// Draws a row in this slot, or nothing (the row element detached).
    pub fn draw(&mut self, canvas: &Element, icons: &Icons, view: Option<RowView>) {
        match view {
            None => {
                if self.pos.take().is_some() {
                    let _ = canvas.remove_child(&self.row);
                }
            }
            Some(view) => {
                let pos = view.pos;
                self.patch(icons, view);
                if self.pos.replace(pos).is_none() {
                    let _ = canvas.append_child(&self.row);
                }
            }
        }
    }

    fn patch(&mut self, icons: &Icons, v: RowView) {
        let RowView {
            class,
            id,
            style,
            span_id,
            missing_parent,
            call,
            skew_us,
            depth,
            selected,
            expanded,
            title,
            indent,
            twisty,
            depth_note,
            icon,
            name,
            failed,
            service,
            hidden_count,
            skew_chip,
            tokens,
            cost,
            segments,
            label,
            ..
        } = v;
        if let Some(kind) = icon.filter(|&k| self.written.icon != Some(k)) {
            if let Ok(el) = type_icon(&mut self.type_icons, icons, kind) {
                self.cell.replace(&self.tree_cell, TYPE_ICON_AT, el.into());
                self.written.icon = Some(kind);
            }
        }
        if self.badge_span.with_untracked(|s| *s != span_id) {
            self.badge_span.set(span_id.clone());
        }
        let w = &mut self.written;
        let row = &self.row;
        if w.class != class {
            row.set_class_name(&class);
            w.class = class;
        }
        attr(row, "id", &mut w.id, Some(id));
        attr(row, "style", &mut w.style, Some(style));
        attr(row, "data-span-id", &mut w.span_id, span_id);
        let missing = missing_parent.is_some();
        attr(
            row,
            "data-missing-parent",
            &mut w.missing_parent,
            missing_parent,
        );
        attr(row, "data-call", &mut w.call, call.map(String::from));
        attr(row, "data-skew-us", &mut w.skew_us, skew_us);
        attr(row, "data-depth", &mut w.depth, Some(depth));
        attr(
            row,
            "aria-selected",
            &mut w.selected,
            Some(selected.to_string()),
        );
        attr(
            row,
            "aria-expanded",
            &mut w.expanded,
            expanded.map(|e| e.to_string()),
        );
        attr(&self.tree_cell, "title", &mut w.title, Some(title));
        attr(&self.indent, "style", &mut w.indent, Some(indent));

        let mut want = INDENT | NAME | BADGE | SPACER;
        let button = match twisty {
            Twisty::Leaf => None,
            Twisty::Open => Some(("Collapse".to_string(), "Collapse", "chevron open")),
            Twisty::Closed(title) => Some((title, "Expand", "chevron")),
        };
        match button {
            None => want |= LEAF,
            Some((title, aria_label, chevron)) => {
                want |= BUTTON;
                attr(&self.button, "title", &mut w.button_title, Some(title));
                attr(
                    &self.button,
                    "aria-label",
                    &mut w.button_label,
                    Some(aria_label.into()),
                );
                if w.chevron != chevron {
                    self.chevron.set_class_name(chevron);
                    w.chevron = chevron.into();
                }
            }
        }
        if let Some(d) = depth_note {
            want |= DEPTH_NOTE;
            content(&self.depth_note, &mut w.depth_note, d);
        }
        want |= if icon.is_some() {
            TYPE_ICON
        } else {
            MISSING_ICON
        };
        let mut name_want = 1;
        text(&self.name_kids.nodes[0], &mut w.before, name.before);
        if let Some(marked) = name.marked {
            name_want |= 2 | 4;
            content(&self.name_kids.nodes[1], &mut w.marked, marked);
            text(&self.name_kids.nodes[2], &mut w.after, name.after);
        }
        if let Some(id) = name.missing_id {
            name_want |= 8;
            content(&self.name_kids.nodes[3], &mut w.missing_id, id);
        }
        self.name_kids.show(&self.name, name_want);
        if missing {
            want |= HINT;
        }
        if failed {
            want |= ERROR_MARK;
        }
        if let Some(s) = service {
            want |= SERVICE;
            text(&self.service, &mut w.service, s);
        }
        if let Some(n) = hidden_count {
            want |= HIDDEN_COUNT;
            content(&self.hidden_count, &mut w.hidden_count, n);
        }
        if let Some(Chip { title, text, .. }) = skew_chip {
            want |= SKEW;
            attr(&self.skew, "title", &mut w.skew_title, Some(title));
            content(&self.skew, &mut w.skew_text, text);
        }
        if let Some(t) = tokens {
            want |= TOKENS;
            content(&self.tokens, &mut w.tokens, t);
        }
        if let Some(c) = cost {
            want |= COST;
            content(&self.cost, &mut w.cost, c);
        }
        self.cell.show(&self.tree_cell, want);
        self.patch_bar_cell(segments, label);
    }

    fn patch_bar_cell(&mut self, segments: Vec<Segment>, label: Option<Label>) {
        if label.is_none() && self.label_shown {
            let _ = self.bar_cell.remove_child(&self.label);
            self.label_shown = false;
        }
        let count = segments.len();
        for (i, segment) in segments.into_iter().enumerate() {
            if i == self.pieces.len() {
                let Ok(el) = make("span", "") else { break };
                self.pieces.push(Piece {
                    el,
                    class: String::new(),
                    style: None,
                    title: None,
                });
            }
            let piece = &mut self.pieces[i];
            if piece.class != segment.class {
                piece.el.set_class_name(&segment.class);
                piece.class = segment.class;
            }
            attr(&piece.el, "style", &mut piece.style, Some(segment.style));
            attr(&piece.el, "title", &mut piece.title, segment.title);
            if i >= self.pieces_shown {
                let before = self.label_shown.then_some(&*self.label);
                let _ = self.bar_cell.insert_before(&piece.el, before);
            }
        }
        let count = count.min(self.pieces.len());
        for piece in self.pieces.iter().take(self.pieces_shown).skip(count) {
            let _ = self.bar_cell.remove_child(&piece.el);
        }
        self.pieces_shown = count;
        let Some(Label {
            class,
            style,
            text: duration,
            chip,
        }) = label
        else {
            return;
        };
        let w = &mut self.written;
        if w.label_class != class {
            self.label.set_class_name(class);
            w.label_class = class.into();
        }
        attr(&self.label, "style", &mut w.label_style, Some(style));
        text(&self.label_kids.nodes[0], &mut w.label_text, duration);
        let mut label_want = 1;
        if let Some(chip) = chip {
            label_want |= 2;
            let el = &self.chip;
            if w.chip_class != chip.class {
                el.set_class_name(chip.class);
                w.chip_class = chip.class.into();
            }
            attr(
                el,
                "data-testid",
                &mut w.chip_testid,
                chip.testid.map(String::from),
            );
            attr(el, "title", &mut w.chip_title, Some(chip.title));
            content(el, &mut w.chip_text, chip.text);
        }
        self.label_kids.show(&self.label, label_want);
        if !self.label_shown {
            let _ = self.bar_cell.append_child(&self.label);
            self.label_shown = true;
        }
    }
}

impl Drop for RowSlot {
    fn drop(&mut self) {
        self.row.remove();
        self.badge.unmount();
        self.badge_span.dispose();
    }
}

/// The slot's icon for a span type (made once, from the shared one).
fn type_icon(cache: &mut [Option<Element>], icons: &Icons, kind: SpanType) -> Made<Element> {
    let at = usize::from(kind.code());
    if let Some(Some(el)) = cache.get(at) {
        return Ok(el.clone());
    }
    let el = icons.of(kind)?;
    if let Some(slot) = cache.get_mut(at) {
        *slot = Some(el.clone());
    }
    Ok(el)
}
