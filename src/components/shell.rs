use leptos::prelude::*;
use leptos_router::components::A;

use super::{Icon, IconKind};
use crate::api::auth::{current_user, Logout};
use crate::model::Role;

fn brand() -> impl IntoView {
    view! {
        <a href="/" class="flex items-center gap-2 font-semibold tracking-tight">
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
                <div class="rounded-xl border border-border bg-card p-8 shadow-xl shadow-black/20">
                    <h1 class="text-xl font-semibold">{title}</h1>
                    <p class="mt-1 mb-6 text-sm text-muted-foreground">{subtitle}</p>
                    {children()}
                </div>
            </div>
        </main>
    }
}

/// The frame of every console page: top bar with the signed-in user and
/// sign-out.
#[component]
pub fn ConsoleLayout(children: Children) -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let logout = ServerAction::<Logout>::new();
    provide_context(super::Toasts::new());
    // A session that ended elsewhere (removed, disabled, signed out on
    // another device) ends here too, on the next page it opens.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(None)) = user.get() {
            navigate("/login", Default::default());
        }
    });
    view! {
        <div class="min-h-screen">
            <header class="sticky top-0 z-10 border-b border-border bg-background/80 backdrop-blur">
                <div class="mx-auto flex h-14 max-w-7xl items-center justify-between px-6">
                    <div class="flex items-center gap-8">
                        {brand()}
                        <nav class="flex items-center gap-1 text-sm">
                            <A href="/organizations" attr:class="rounded-md px-3 py-1.5 text-muted-foreground hover:text-foreground aria-[current=page]:bg-secondary aria-[current=page]:text-foreground">
                                "Organizations"
                            </A>
                            <A href="/account" attr:class="rounded-md px-3 py-1.5 text-muted-foreground hover:text-foreground aria-[current=page]:bg-secondary aria-[current=page]:text-foreground">
                                "Account"
                            </A>
                        </nav>
                    </div>
                    <div class="flex items-center gap-4 text-sm">
                        <Suspense fallback=|| ()>
                            {move || {
                                user.get().and_then(Result::ok).flatten().map(|u| {
                                    let admin = (u.role != Role::User).then(|| view! {
                                        <span class="rounded-full bg-primary/15 px-2 py-0.5 text-xs text-primary">{u.role.label()}</span>
                                    });
                                    view! {
                                        <div class="hidden sm:flex items-center gap-2" data-testid="current-user">
                                            <span class="text-muted-foreground">{u.email}</span>
                                            {admin}
                                        </div>
                                    }
                                })
                            }}
                        </Suspense>
                        <ActionForm action=logout>
                            <button type="submit" class="flex items-center gap-1.5 rounded-md px-3 py-1.5 text-muted-foreground hover:bg-secondary hover:text-foreground">
                                <Icon kind=IconKind::LogOut class="h-4 w-4"/>
                                "Sign out"
                            </button>
                        </ActionForm>
                    </div>
                </div>
            </header>
            <main class="mx-auto max-w-7xl px-6 py-8">{children()}</main>
            <super::ToastHost/>
        </div>
    }
}
