//! The console's building blocks: cards, buttons, badges, page headers,
//! empty states and usage bars. Their looks are the component classes in
//! `style/tailwind.css` (`.card`, `.btn-*`, `.badge-*`), so a page never
//! repeats a utility string.

use leptos::prelude::*;

use super::{Icon, IconKind};

/// A bordered panel. With a `title`, it is a `<section>` headed by an `<h2>`.
#[component]
pub fn Card(
    #[prop(optional)] title: Option<&'static str>,
    #[prop(into, optional)] subtitle: Option<String>,
    /// Extra classes (padding, layout) for the panel.
    #[prop(into, default = "card-body".into())]
    class: String,
    children: Children,
) -> impl IntoView {
    let class = format!("card {class}");
    match title {
        Some(title) => view! {
            <section class=class>
                <h2 class="text-lg font-semibold">{title}</h2>
                {subtitle.map(|s| view! { <p class="mt-1 mb-5 text-sm text-muted-foreground">{s}</p> })}
                {children()}
            </section>
        }
        .into_any(),
        None => view! { <div class=class>{children()}</div> }.into_any(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Variant {
    #[default]
    Primary,
    Secondary,
    Danger,
    Ghost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Size {
    Sm,
    #[default]
    Md,
}

/// The classes of a button of this variant and size; also for links that
/// look like buttons.
pub fn button_class(variant: Variant, size: Size) -> &'static str {
    use {Size::*, Variant::*};
    match (variant, size) {
        (Primary, Md) => "btn btn-md btn-primary",
        (Primary, Sm) => "btn btn-sm btn-primary",
        (Secondary, Md) => "btn btn-md btn-secondary",
        (Secondary, Sm) => "btn btn-sm btn-secondary",
        (Danger, Md) => "btn btn-md btn-danger",
        (Danger, Sm) => "btn btn-sm btn-danger",
        (Ghost, Md) => "btn btn-md btn-ghost",
        (Ghost, Sm) => "btn btn-sm btn-ghost",
    }
}

/// A button. `submit` makes it submit its form; while `busy` it ignores
/// activation and says so (`aria-busy`, `aria-disabled`), keeping focus. An icon-only button must be given
/// `label`, its accessible name.
#[component]
pub fn Button(
    #[prop(optional)] variant: Variant,
    #[prop(optional)] size: Size,
    #[prop(optional)] submit: bool,
    #[prop(into, optional)] busy: Signal<bool>,
    #[prop(into, optional)] disabled: Signal<bool>,
    /// `aria-label`, for buttons whose content is only an icon.
    #[prop(optional)]
    label: Option<&'static str>,
    #[prop(into, optional)] class: String,
    #[prop(optional)] on_click: Option<Callback<leptos::ev::MouseEvent>>,
    children: Children,
) -> impl IntoView {
    view! {
        <button
            type=if submit { "submit" } else { "button" }
            class=format!("{} {class}", button_class(variant, size))
            // Busy is not `disabled`: a disabled button drops keyboard focus
            // to <body> mid-action. It says so and ignores activation instead.
            disabled=move || disabled.get()
            aria-disabled=move || busy.get().then_some("true")
            aria-busy=move || busy.get().then_some("true")
            aria-label=label
            on:click=move |ev| {
                if busy.get_untracked() {
                    ev.prevent_default();
                    return;
                }
                if let Some(cb) = on_click {
                    cb.run(ev);
                }
            }
        >
            {children()}
        </button>
    }
}

/// A submit button that says it is busy while its action runs.
pub fn submit_button(label: &'static str, busy_label: &'static str, pending: Signal<bool>, class: &'static str) -> impl IntoView {
    view! {
        <Button submit=true busy=pending class=class>
            {move || if pending.get() { busy_label } else { label }}
        </Button>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Neutral,
    Primary,
    Success,
    Danger,
}

/// A short status word in a pill.
#[component]
pub fn Badge(#[prop(optional)] tone: Tone, children: Children) -> impl IntoView {
    let class = match tone {
        Tone::Neutral => "badge badge-neutral",
        Tone::Primary => "badge badge-primary",
        Tone::Success => "badge badge-success",
        Tone::Danger => "badge badge-danger",
    };
    view! { <span class=class>{children()}</span> }
}

/// The page's `<h1>`, a line under it, and (as children) the page's main
/// actions.
#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(into, optional)] subtitle: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="mb-8 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="text-3xl font-bold tracking-tight">{title}</h1>
                {subtitle.map(|s| view! { <p class="mt-1 text-muted-foreground">{s}</p> })}
            </div>
            {children.map(|c| c())}
        </div>
    }
}

/// What a list shows when it has nothing to show. Its title is an `<h2>`,
/// the level under the page's `<h1>` (axe: heading-order).
#[component]
pub fn EmptyState(#[prop(into)] title: String, #[prop(into)] text: String, #[prop(optional)] icon: Option<IconKind>) -> impl IntoView {
    let icon = icon.unwrap_or(IconKind::Building2);
    view! {
        <div class="flex flex-col items-center justify-center rounded-xl border border-dashed border-border py-16 text-center" data-testid="empty-state">
            <div class="icon-tile mb-4">
                <Icon kind=icon class="h-7 w-7 text-primary"/>
            </div>
            <h2 class="text-lg font-semibold">{title}</h2>
            <p class="mt-1 max-w-sm text-sm text-muted-foreground">{text}</p>
        </div>
    }
}

/// How much of a limit is used, as text and as a bar. A `<progress>` rather
/// than a styled div: the CSP allows no inline styles, so a width cannot be set.
#[component]
pub fn UsageBar(
    /// What is measured, e.g. "Seat usage" (the bar's accessible name).
    label: &'static str,
    used: i64,
    limit: Option<i64>,
    /// The sentence above the bar, e.g. "3 of 10 seats".
    #[prop(into)]
    text: String,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let percent = limit.filter(|l| *l > 0).map(|l| (used * 100 / l).clamp(0, 100)).unwrap_or(0);
    view! {
        <p class="mb-2 text-sm" data-testid=testid>{text}</p>
        <progress
            max="100"
            value=percent
            aria-label=label
            class="h-2 w-full appearance-none overflow-hidden rounded-full [&::-moz-progress-bar]:bg-cyan-400 [&::-webkit-progress-bar]:bg-secondary [&::-webkit-progress-value]:bg-gradient-to-r [&::-webkit-progress-value]:from-cyan-500 [&::-webkit-progress-value]:to-orange-400"
        ></progress>
    }
}
