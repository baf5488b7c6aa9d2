use leptos::prelude::*;

use crate::model::AppError;

/// A labelled input. `error` shows the message for this field inline.
#[component]
pub fn TextField(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    #[prop(into, default = "text".into())] kind: String,
    #[prop(into, optional)] autocomplete: String,
    #[prop(into, optional)] placeholder: String,
    #[prop(into, optional)] hint: String,
    #[prop(optional)] required: bool,
    #[prop(into, optional)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_view = (!hint.is_empty()).then(|| view! { <p class="text-xs text-muted-foreground">{hint}</p> });
    view! {
        <div class="space-y-1.5">
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                placeholder=placeholder
                required=required
                aria-invalid=move || error.get().is_some().to_string()
                class="w-full rounded-lg border border-border bg-input px-3 py-2 text-sm outline-none \
                       placeholder:text-muted-foreground/60 focus:border-primary focus:ring-2 focus:ring-primary/30 \
                       aria-[invalid=true]:border-destructive"
            />
            {hint_view}
            {move || error.get().map(|m| view! { <p class="text-xs text-destructive" role="alert">{m}</p> })}
        </div>
    }
}

/// A form-level error (one that belongs to no single field).
#[component]
pub fn ErrorBanner(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().filter(|e| e.field.is_none()).map(|e| {
            view! {
                <div role="alert" class="rounded-lg border border-destructive/40 bg-destructive/10 px-3 py-2 text-sm text-destructive">
                    {e.message}
                </div>
            }
        })
    }
}
