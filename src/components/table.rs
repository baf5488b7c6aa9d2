//! Tables of records: a header row declared as data, rows as components.
//! Every column header has text; an actions column's text is for screen
//! readers only (axe: empty-table-header).

use leptos::prelude::*;

/// One column header.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    label: &'static str,
    /// Read by screen readers, not shown (e.g. "Actions" over buttons).
    hidden: bool,
    right: bool,
}

impl Column {
    pub const fn new(label: &'static str) -> Self {
        Self { label, hidden: false, right: false }
    }

    /// The column of row buttons: named "Actions", aligned right.
    pub const fn actions() -> Self {
        Self { label: "Actions", hidden: true, right: true }
    }
}

/// Cell padding, shared by headers and the rows' `<td>`s.
pub const CELL: &str = "px-4 py-2";
pub const CELL_MUTED: &str = "px-4 py-2 text-muted-foreground";
pub const CELL_ACTIONS: &str = "whitespace-nowrap px-4 py-2 text-right";

/// A table in a card. `caption` names it for screen readers; `busy` dims
/// it while a change is on its way.
#[component]
pub fn DataTable(
    caption: &'static str,
    columns: Vec<Column>,
    #[prop(optional)] testid: &'static str,
    #[prop(into, optional)] busy: Signal<bool>,
    /// `false` for a table inside a card that already has a border.
    #[prop(default = true)]
    framed: bool,
    children: Children,
) -> impl IntoView {
    let frame = if framed { "overflow-x-auto card" } else { "overflow-x-auto" };
    view! {
        <div class=frame class:opacity-60=move || busy.get() aria-busy=move || busy.get().then_some("true")>
            <table class="w-full text-left text-sm" data-testid=testid>
                <caption class="sr-only">{caption}</caption>
                <thead class="text-xs uppercase text-muted-foreground">
                    <tr>
                        {columns
                            .into_iter()
                            .map(|c| {
                                let class = if c.right { "px-4 py-2 text-right" } else { "px-4 py-2" };
                                view! {
                                    <th scope="col" class=class>
                                        {if c.hidden {
                                            view! { <span class="sr-only">{c.label}</span> }.into_any()
                                        } else {
                                            c.label.into_any()
                                        }}
                                    </th>
                                }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-border">{children()}</tbody>
            </table>
        </div>
    }
}
