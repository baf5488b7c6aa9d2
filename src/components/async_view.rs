//! Showing what a server function returns: a placeholder while it loads,
//! the page's view when it answers, the error (as an alert) when it fails.
//! Pages hand over the success view only; errors are drawn in one place.

use leptos::prelude::*;

use crate::model::{AppError, ErrorKind};
use crate::pages::paths;

/// Draws `resource` with `children` once it has loaded. Keeps the last
/// view while it reloads (a `Transition`), so lists do not flicker after
/// each change.
#[component]
pub fn AsyncView<T, V>(
    resource: Resource<Result<T, AppError>>,
    children: impl Fn(T) -> V + Send + Sync + 'static,
    /// Shown while loading; "Loading…" when not given.
    #[prop(optional, into)]
    fallback: Option<ViewFn>,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    let fallback = fallback.unwrap_or_else(|| ViewFn::from(loading));
    view! {
        <Transition fallback=move || fallback.run()>
            {move || resource.get().map(|result| match result {
                Ok(value) => children(value).into_any(),
                Err(error) => view! { <LoadError error/> }.into_any(),
            })}
        </Transition>
    }
}

/// The default placeholder.
pub fn loading() -> impl IntoView {
    view! { <p class="text-sm text-muted-foreground" role="status">"Loading…"</p> }
}

/// A failed load. A signed-out caller gets the way back in.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    let signed_out = error.kind == ErrorKind::Unauthorized;
    view! {
        <div role="alert" class="rounded-xl border border-destructive/40 bg-destructive/10 p-6 text-sm">
            <p class="font-medium text-destructive">{error.message}</p>
            {signed_out.then(|| view! { <a href=paths::LOGIN class="link mt-2 inline-block">"Sign in again"</a> })}
        </div>
    }
}
