//! Tabs as the WAI-ARIA tabs pattern has them: a `tablist` of `tab`
//! buttons and one `tabpanel`. Only the selected tab is in the Tab order
//! (roving tabindex); Left/Right move to the previous/next tab (wrapping),
//! Home/End to the first/last, and moving also selects (automatic
//! activation). Tab from the list goes into the panel.

use leptos::prelude::*;

use super::focus::focus_id;

/// What a tab set is made of: a small `Copy` enum with a label per tab.
pub trait TabKey: Copy + PartialEq + Send + Sync + 'static {
    fn label(self) -> &'static str;
}

/// A tab list and the panel of the selected tab. `id` prefixes the tabs'
/// and panel's element ids; `label` names the tab list.
#[component]
pub fn Tabs<T: TabKey, V: IntoView + 'static>(
    id: &'static str,
    label: &'static str,
    tabs: Vec<T>,
    selected: RwSignal<T>,
    /// Draws the panel of a tab.
    panel: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView {
    let tabs = StoredValue::new(tabs);
    let tab_id = move |t: T| {
        let index = tabs.with_value(|all| all.iter().position(|x| *x == t).unwrap_or(0));
        format!("{id}-tab-{index}")
    };
    let panel_id = format!("{id}-panel");

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let next = tabs.with_value(|all| {
            let current = all.iter().position(|t| *t == selected.get_untracked()).unwrap_or(0);
            let last = all.len().saturating_sub(1);
            match ev.key().as_str() {
                "ArrowRight" => Some(if current >= last { 0 } else { current + 1 }),
                "ArrowLeft" => Some(if current == 0 { last } else { current - 1 }),
                "Home" => Some(0),
                "End" => Some(last),
                _ => None,
            }
            .and_then(|i| all.get(i).copied())
        });
        if let Some(t) = next {
            ev.prevent_default();
            selected.set(t);
            focus_id(&tab_id(t));
        }
    };

    let buttons = tabs.with_value(|all| all.clone()).into_iter().map(|t| {
        let is_selected = move || selected.get() == t;
        view! {
            <button
                type="button"
                role="tab"
                id=tab_id(t)
                aria-selected=move || is_selected().to_string()
                aria-controls=panel_id.clone()
                tabindex=move || if is_selected() { "0" } else { "-1" }
                on:click=move |_| selected.set(t)
                class="-mb-px border-b-2 border-transparent px-4 py-2 text-sm text-muted-foreground hover:text-foreground aria-selected:border-primary aria-selected:text-foreground"
            >
                {t.label()}
            </button>
        }
    }).collect_view();

    view! {
        <div role="tablist" aria-label=label class="mb-6 flex gap-1 border-b border-border" on:keydown=on_keydown>
            {buttons}
        </div>
        <div role="tabpanel" id=panel_id.clone() aria-labelledby=move || tab_id(selected.get()) tabindex="0" class="rounded-sm">
            {move || panel(selected.get())}
        </div>
    }
}
