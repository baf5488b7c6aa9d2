//! Moving keyboard focus: what can take it inside an element, and putting
//! it somewhere. Used by the dialog (focus trap) and the tabs (roving focus).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

/// The elements inside `root` that Tab stops at, in document order.
pub fn focusable_within(root: &Element) -> Vec<HtmlElement> {
    let all = root.get_elements_by_tag_name("*");
    (0..all.length()).filter_map(|i| all.item(i)).filter(is_tabbable).filter_map(|el| el.dyn_into::<HtmlElement>().ok()).collect()
}

fn is_tabbable(el: &Element) -> bool {
    if el.has_attribute("disabled") || el.get_attribute("tabindex").as_deref() == Some("-1") {
        return false;
    }
    if el.get_attribute("type").as_deref() == Some("hidden") {
        return false;
    }
    match el.tag_name().as_str() {
        "BUTTON" | "INPUT" | "SELECT" | "TEXTAREA" => true,
        "A" => el.has_attribute("href"),
        _ => el.has_attribute("tabindex"),
    }
}

/// Focuses the element with this id, if it is on the page.
pub fn focus_id(id: &str) {
    if let Some(el) = document().get_element_by_id(id).and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

/// The element that has focus now.
pub fn active_element() -> Option<HtmlElement> {
    document().active_element().and_then(|e| e.dyn_into::<HtmlElement>().ok())
}
