//! The product spec's OrganizationsPage: a card per organization with its
//! domain and real user and workspace counts, and a search box that filters
//! the cards in the browser.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::orgs::list_organizations;
use crate::components::{ConsoleLayout, Icon, IconKind};
use crate::model::{ErrorKind, Organization, Page};

const NEW_ORG_HINT: &str = "Organizations are created automatically at registration and SSO sign-in.";

fn matches(org: &Organization, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    q.is_empty() || org.name.to_lowercase().contains(&q) || org.domain.to_lowercase().contains(&q)
}

#[component]
pub fn OrganizationsPage() -> impl IntoView {
    // Typing filters the loaded cards at once, in the browser; Enter also
    // asks the server, which searches every organization (platform admins
    // may have many pages of them).
    let (query, set_query) = signal(String::new());
    let (server_query, set_server_query) = signal(None::<String>);
    let (offset, set_offset) = signal(0i64);
    let orgs = Resource::new(move || (server_query.get(), offset.get()), |(q, offset)| list_organizations(q, offset));
    view! {
        <Title text="Organizations"/>
        <ConsoleLayout>
            <div class="mb-8 flex flex-wrap items-start justify-between gap-4">
                <div>
                    <h1 class="text-3xl font-bold tracking-tight">"Organizations"</h1>
                    <p class="mt-1 text-muted-foreground">"Tenants, their domains, users and workspaces."</p>
                </div>
                <span class="group relative inline-block" title=NEW_ORG_HINT>
                    <button
                        type="button"
                        disabled=true
                        aria-describedby="new-org-hint"
                        class="flex items-center rounded-lg bg-primary px-4 py-2 text-sm font-medium text-primary-foreground opacity-50 cursor-not-allowed"
                    >
                        <Icon kind=IconKind::Plus class="mr-2 h-4 w-4"/>
                        "New Organization"
                    </button>
                    <span
                        id="new-org-hint"
                        role="tooltip"
                        class="pointer-events-none absolute right-0 top-full z-20 mt-2 w-64 rounded-lg border border-border bg-popover px-3 py-2 text-xs text-muted-foreground opacity-0 shadow-lg transition-opacity group-hover:opacity-100 group-focus-within:opacity-100"
                    >
                        {NEW_ORG_HINT}
                    </span>
                </span>
            </div>
            <form
                class="relative mb-6 max-w-sm"
                role="search"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let q = query.get_untracked();
                    set_offset.set(0);
                    set_server_query.set((!q.trim().is_empty()).then_some(q));
                }
            >
                <Icon kind=IconKind::Search class="pointer-events-none absolute left-3 top-1/2 h-4 w-4 -translate-y-1/2 text-muted-foreground"/>
                <input
                    type="search"
                    placeholder="Search organizations"
                    aria-label="Search organizations"
                    prop:value=query
                    on:input=move |ev| set_query.set(event_target_value(&ev))
                    class="w-full rounded-lg border border-border bg-input py-2 pl-9 pr-3 text-sm outline-none placeholder:text-muted-foreground/60 focus:border-primary focus:ring-2 focus:ring-primary/30"
                />
            </form>
            <Suspense fallback=skeleton>
                {move || orgs.get().map(|result| match result {
                    Ok(page) => view! {
                        <OrgGrid orgs=page.items.clone() query=query/>
                        <Pager page set_offset/>
                    }.into_any(),
                    Err(e) => load_error(e.kind, e.message).into_any(),
                })}
            </Suspense>
        </ConsoleLayout>
    }
}

#[component]
fn OrgGrid(orgs: Vec<Organization>, query: ReadSignal<String>) -> impl IntoView {
    if orgs.is_empty() {
        return view! {
            <EmptyState title="No organizations yet" text="Organizations appear here as people register or sign in with SSO."/>
        }
        .into_any();
    }
    let orgs = StoredValue::new(orgs);
    let visible = Memo::new(move |_| {
        orgs.with_value(|all| all.iter().filter(|o| matches(o, &query.get())).cloned().collect::<Vec<_>>())
    });
    view! {
        <Show
            when=move || !visible.get().is_empty()
            fallback=move || view! { <EmptyState title="No matches" text="No organization name or domain contains that text."/> }
        >
            <div class="grid gap-6 md:grid-cols-2 lg:grid-cols-3" data-testid="org-grid">
                <For each=move || visible.get() key=|o| o.id let:org>
                    <OrgCard org/>
                </For>
            </div>
        </Show>
    }
    .into_any()
}

/// Previous/next when there is more than one page.
#[component]
fn Pager(page: Page<Organization>, set_offset: WriteSignal<i64>) -> impl IntoView {
    let (offset, limit, total) = (page.offset, page.limit, page.total);
    (total > limit).then(|| {
        let last = (offset + limit).min(total);
        view! {
            <nav class="mt-6 flex items-center justify-between text-sm text-muted-foreground" aria-label="Pages">
                <span>{format!("{}–{last} of {total}", offset + 1)}</span>
                <div class="flex gap-2">
                    <button type="button" class="rounded-md border border-border px-3 py-1.5 hover:bg-secondary disabled:opacity-40"
                        disabled=offset == 0 on:click=move |_| set_offset.set((offset - limit).max(0))>"Previous"</button>
                    <button type="button" class="rounded-md border border-border px-3 py-1.5 hover:bg-secondary disabled:opacity-40"
                        disabled=last >= total on:click=move |_| set_offset.set(offset + limit)>"Next"</button>
                </div>
            </nav>
        }
    })
}

#[component]
fn OrgCard(org: Organization) -> impl IntoView {
    let href = format!("/organizations/{}", org.id);
    view! {
        <a href=href class="block rounded-xl focus:outline-none focus:ring-2 focus:ring-primary/50">
        <article class="rounded-xl border border-border bg-card p-6 transition-colors hover:border-primary/40" data-testid="org-card">
            <div class="mb-4 flex items-center gap-4">
                <div class="flex h-14 w-14 shrink-0 items-center justify-center rounded-xl bg-gradient-to-br from-cyan-500/20 to-orange-500/20">
                    <Icon kind=IconKind::Building2 class="h-7 w-7 text-primary"/>
                </div>
                <div class="min-w-0">
                    <h3 class="truncate text-lg font-semibold">{org.name}</h3>
                    <div class="flex items-center gap-1.5 text-sm text-muted-foreground">
                        <Icon kind=IconKind::Globe class="h-3.5 w-3.5"/>
                        <span class="truncate">{org.domain}</span>
                    </div>
                </div>
            </div>
            <div class="grid grid-cols-2 gap-4 border-t border-border pt-4">
                <div class="flex items-center gap-2" data-testid="users-count">
                    <Icon kind=IconKind::Users class="h-4 w-4 text-muted-foreground"/>
                    <span class="font-medium">{org.users_count}</span>
                    " "
                    <span class="text-sm text-muted-foreground">"Users"</span>
                </div>
                <div class="flex items-center gap-2" data-testid="workspaces-count">
                    <Icon kind=IconKind::Monitor class="h-4 w-4 text-muted-foreground"/>
                    <span class="font-medium">{org.workspaces_count}</span>
                    " "
                    <span class="text-sm text-muted-foreground">"Workspaces"</span>
                </div>
            </div>
        </article>
        </a>
    }
}

#[component]
fn EmptyState(title: &'static str, text: &'static str) -> impl IntoView {
    view! {
        <div class="flex flex-col items-center justify-center rounded-xl border border-dashed border-border py-16 text-center" data-testid="empty-state">
            <div class="mb-4 flex h-14 w-14 items-center justify-center rounded-xl bg-gradient-to-br from-cyan-500/20 to-orange-500/20">
                <Icon kind=IconKind::Building2 class="h-7 w-7 text-primary"/>
            </div>
            <h3 class="text-lg font-semibold">{title}</h3>
            <p class="mt-1 max-w-sm text-sm text-muted-foreground">{text}</p>
        </div>
    }
}

fn skeleton() -> impl IntoView {
    view! {
        <div class="grid gap-6 md:grid-cols-2 lg:grid-cols-3" aria-busy="true">
            {(0..3).map(|_| view! { <div class="h-44 animate-pulse rounded-xl border border-border bg-card"></div> }).collect_view()}
        </div>
    }
}

fn load_error(kind: ErrorKind, message: String) -> impl IntoView {
    let signed_out = kind == ErrorKind::Unauthorized;
    view! {
        <div role="alert" class="rounded-xl border border-destructive/40 bg-destructive/10 p-6 text-sm">
            <p class="font-medium text-destructive">{message}</p>
            {signed_out.then(|| view! { <a href="/login" class="mt-2 inline-block text-primary hover:underline">"Sign in again"</a> })}
        </div>
    }
}
