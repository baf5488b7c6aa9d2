//! Form fields. Each input is labelled, and its hint and error are tied to
//! it (`aria-describedby`), so a screen reader reads them with the field;
//! a field with an error says so (`aria-invalid`).

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
    /// The starting value (for forms that edit something).
    #[prop(into, optional)]
    value: String,
    #[prop(optional)] required: bool,
    #[prop(into, optional)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let has_hint = !hint.is_empty();
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let ids: Vec<&str> =
                [has_hint.then_some(hint_id.as_str()), error.get().is_some().then_some(error_id.as_str())].into_iter().flatten().collect();
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let hint_view = has_hint.then(|| view! { <p id=hint_id class="text-xs text-muted-foreground">{hint}</p> });
    view! {
        <div class="space-y-1.5">
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                placeholder=placeholder
                value=value
                required=required
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described_by
                class="input"
            />
            {hint_view}
            {move || error.get().map(|m| view! { <p id=error_id.clone() class="text-xs text-destructive" role="alert">{m}</p> })}
        </div>
    }
}

/// A form-level error (one that belongs to no single field).
#[component]
pub fn ErrorBanner(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().filter(|e| e.field.is_none()).map(|e| {
            // A change that needs a fresh sign-in offers it right here.
            let reauth = (e.kind == crate::model::ErrorKind::ReauthRequired).then(|| view! { <super::ReauthForm/> });
            view! { <div role="alert" class="alert-error">{e.message}{reauth}</div> }
        })
    }
}

/// The message of `err` when it is about `field`.
pub fn field_error(err: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || err.get().filter(|e| e.field.as_deref() == Some(field)).map(|e| e.message))
}
