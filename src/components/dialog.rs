//! An accessible modal dialog on the native `<dialog>` element: `showModal`
//! makes the rest of the page inert and puts the dialog in the top layer;
//! on top of that it is labelled by its title, keeps Tab and Shift+Tab
//! inside it (wrapping), closes on Escape, and gives focus back to what
//! opened it.

use leptos::html;
use leptos::prelude::*;

use super::focus::{active_element, focusable_within};

/// A modal dialog, open while `open` is true. `id` must be unique on the
/// page (it names the title and description). Put the dialog's buttons in
/// `children`; a button that closes it sets `open` to false.
#[component]
pub fn Dialog(
    open: RwSignal<bool>,
    id: &'static str,
    /// Reactive, so one dialog can ask about whichever row opened it.
    #[prop(into)]
    title: Signal<String>,
    #[prop(into, optional)] description: Option<String>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let title_id = format!("{id}-title");
    let description_id = format!("{id}-description");

    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        let Some(el) = dialog.get() else { return is_open };
        if is_open && !el.open() {
            opener.set_value(active_element());
            let _ = el.show_modal();
            // The first control, not the dialog's text, so Enter/Space act at once.
            if let Some(first) = focusable_within(&el).first() {
                let _ = first.focus();
            }
        } else if !is_open && was_open == Some(true) {
            if el.open() {
                el.close();
            }
            if let Some(opener) = opener.get_value() {
                let _ = opener.focus();
            }
        }
        is_open
    });

    // Tab from the last control goes to the first, Shift+Tab from the first
    // to the last: focus never leaves the dialog while it is open.
    let trap_tab = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() != "Tab" {
            return;
        }
        let Some(el) = dialog.get() else { return };
        let controls = focusable_within(&el);
        let (Some(first), Some(last)) = (controls.first(), controls.last()) else {
            ev.prevent_default();
            return;
        };
        let active = active_element();
        let at = |target: &web_sys::HtmlElement| active.as_ref() == Some(target);
        if ev.shift_key() && (at(first) || active.is_none()) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key() && at(last) {
            ev.prevent_default();
            let _ = first.focus();
        }
    };

    let described_by = description.is_some().then(|| description_id.clone());
    let labelled_by = title_id.clone();
    let description = description.map(|d| view! { <p id=description_id class="mt-2 text-sm text-muted-foreground">{d}</p> });
    view! {
        <dialog
            node_ref=dialog
            id=id
            aria-modal="true"
            aria-labelledby=labelled_by
            aria-describedby=described_by
            // Escape fires `close` (after `cancel`); so does close() above.
            on:close=move |_| open.set(false)
            on:keydown=trap_tab
            class="m-auto w-full max-w-md rounded-xl border border-border bg-popover p-6 text-foreground shadow-2xl shadow-black/40 backdrop:bg-black/70"
        >
            <h2 id=title_id class="text-lg font-semibold">{move || title.get()}</h2>
            {description}
            <div class="mt-6">{children()}</div>
        </dialog>
    }
}
