use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="flex min-h-screen flex-col items-center justify-center gap-3">
            <h1 class="text-2xl font-semibold">"Page not found"</h1>
            <a href=super::paths::HOME class="link">"Back to the console"</a>
        </main>
    }
}
