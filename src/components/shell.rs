//! The two frames pages are drawn in: the sign-in card and the console
//! (top bar with navigation, the signed-in user, the API reference and
//! sign-out).

use leptos::prelude::*;
use leptos_router::components::A;

use super::{use_current_user, Badge, Icon, IconKind, Tone};
use crate::api::auth::Logout;
use crate::model::Role;
use crate::pages::paths;

fn brand() -> impl IntoView {
    view! {
        <a href=paths::HOME class="flex items-center gap-2 rounded-md font-semibold tracking-tight">
            <span class="flex h-8 w-8 items-center justify-center rounded-lg bg-gradient-to-br from-cyan-500/30 to-orange-500/30">
                <Icon kind=IconKind::ShieldCheck class="h-4.5 w-4.5 text-primary"/>
            </span>
            <span>"NeoSC"</span>
        </a>
    }
}

/// The frame of the sign-in and registration pages.
#[component]
pub fn AuthCard(#[prop(into)] title: String, #[prop(into)] subtitle: String, children: Children) -> impl IntoView {
    view! {
        <main class="flex min-h-screen items-center justify-center px-4 py-12">
            <div class="w-full max-w-md space-y-6">
                <div class="flex justify-center">{brand()}</div>
                <div class="card p-8 shadow-xl shadow-black/20">
                    <h1 class="text-xl font-semibold">{title}</h1>
                    <p class="mt-1 mb-6 text-sm text-muted-foreground">{subtitle}</p>
                    {children()}
                </div>
            </div>
        </main>
    }
}

const NAV_LINK: &str = "rounded-md px-3 py-1.5 text-muted-foreground hover:text-foreground aria-[current=page]:bg-secondary aria-[current=page]:text-foreground";

/// The frame of every console page: top bar with the signed-in user and
/// sign-out.
#[component]
pub fn ConsoleLayout(children: Children) -> impl IntoView {
    let user = use_current_user();
    let logout = ServerAction::<Logout>::new();
    provide_context(super::Toasts::new());
    // A session that ended elsewhere (removed, disabled, signed out on
    // another device) ends here too, on the next page it opens.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if user.signed_out() {
            navigate(paths::LOGIN, Default::default());
        }
    });
    view! {
        <div class="min-h-screen">
            // The first Tab stop: past the navigation, straight to the page.
            // Focus moves by hand (the router would only scroll).
            <a href="#main" rel="external" on:click=|ev| { ev.prevent_default(); super::focus::focus_id("main"); } class="sr-only rounded-md bg-primary px-3 py-2 text-sm font-medium text-primary-foreground focus:not-sr-only focus:fixed focus:left-4 focus:top-3 focus:z-50">
                "Skip to content"
            </a>
            <header class="sticky top-0 z-10 border-b border-border bg-background/80 backdrop-blur">
                <div class="mx-auto flex h-14 max-w-7xl items-center justify-between px-6">
                    <div class="flex items-center gap-8">
                        {brand()}
                        <nav class="flex items-center gap-1 text-sm" aria-label="Console">
                            <A href=paths::ORGANIZATIONS attr:class=NAV_LINK>"Organizations"</A>
                            <A href=paths::WORKSPACES attr:class=NAV_LINK>"Workspaces"</A>
                            <A href=paths::ACCOUNT attr:class=NAV_LINK>"Account"</A>
                            // A server page, not a route of this app: rel=external
                            // makes the router leave it to the browser.
                            <a href=paths::API_DOCS rel="external" class=NAV_LINK>"API reference"</a>
                        </nav>
                    </div>
                    <div class="flex items-center gap-4 text-sm">
                        <Transition fallback=|| ()>
                            {move || {
                                user.get().map(|u| {
                                    let admin = (u.role != Role::User).then(|| view! { <Badge tone=Tone::Primary>{u.role.label()}</Badge> });
                                    view! {
                                        <div class="hidden sm:flex items-center gap-2" data-testid="current-user">
                                            <span class="text-muted-foreground">{u.email}</span>
                                            {admin}
                                        </div>
                                    }
                                })
                            }}
                        </Transition>
                        <ActionForm action=logout>
                            <button type="submit" class="btn btn-md btn-ghost px-3 py-1.5">
                                <Icon kind=IconKind::LogOut class="h-4 w-4"/>
                                "Sign out"
                            </button>
                        </ActionForm>
                    </div>
                </div>
            </header>
            <main id="main" tabindex="-1" class="mx-auto max-w-7xl px-6 py-8 focus:outline-none">{children()}</main>
            <super::ToastHost/>
        </div>
    }
}
