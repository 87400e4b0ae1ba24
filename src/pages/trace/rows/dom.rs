//! Small DOM helpers for the row slots: elements made once, attributes and texts written only
//! when they change, children that come and go in a fixed order.

use leptos::prelude::document;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Node};

pub type Made<T> = Result<T, JsValue>;

pub fn element(node: Node) -> Made<Element> {
    node.dyn_into::<Element>()
        .map_err(|_| JsValue::from_str("not an element"))
}

pub fn make(tag: &str, class: &str) -> Made<Element> {
    let el = document().create_element(tag)?;
    if !class.is_empty() {
        el.set_class_name(class);
    }
    Ok(el)
}

pub fn with_attrs(el: Element, attrs: &[(&str, &str)]) -> Made<Element> {
    for (name, value) in attrs {
        el.set_attribute(name, value)?;
    }
    Ok(el)
}

/// A text node appended to `parent`.
pub fn text_in(parent: &Element, text: &str) -> Made<Node> {
    parent.append_with_str_1(text)?;
    parent
        .last_child()
        .ok_or_else(|| JsValue::from_str("no text node"))
}

/// An attribute, written when it differs from what was written last (`None`: absent).
pub fn attr(el: &Element, name: &str, last: &mut Option<String>, value: Option<String>) {
    if *last != value {
        let _ = match &value {
            Some(v) => el.set_attribute(name, v),
            None => el.remove_attribute(name),
        };
        *last = value;
    }
}

/// A text node's value, written when it differs.
pub fn text(node: &Node, last: &mut String, value: String) {
    if *last != value {
        node.set_node_value(Some(&value));
        *last = value;
    }
}

/// An element's text (it has no other children), written when it differs.
pub fn content(el: &Node, last: &mut String, value: String) {
    if *last != value {
        el.set_text_content(Some(&value));
        *last = value;
    }
}

/// Children of one parent that come and go, in the order they are drawn.
pub struct Kids<const N: usize> {
    pub nodes: [Node; N],
    /// Bit i: `nodes[i]` is attached.
    pub shown: u32,
}

impl<const N: usize> Kids<N> {
    /// Attaches and detaches so that exactly the children in `want` are shown, in order.
    pub fn show(&mut self, parent: &Node, want: u32) {
        if want == self.shown {
            return;
        }
        // From the last: each child goes before the next shown one, which is in place.
        let mut next: Option<&Node> = None;
        for (i, node) in self.nodes.iter().enumerate().rev() {
            let bit = 1 << i;
            match (want & bit != 0, self.shown & bit != 0) {
                (true, false) => {
                    let _ = parent.insert_before(node, next);
                }
                (false, true) => {
                    let _ = parent.remove_child(node);
                }
                _ => {}
            }
            if want & bit != 0 {
                next = Some(node);
            }
        }
        self.shown = want;
    }

    /// Puts `node` in place of child `i` (attached where that one was).
    pub fn replace(&mut self, parent: &Node, i: usize, node: Node) {
        if self.shown & (1 << i) != 0 {
            let _ = parent.replace_child(&node, &self.nodes[i]);
        }
        self.nodes[i] = node;
    }
}
