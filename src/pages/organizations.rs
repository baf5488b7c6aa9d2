//! The product spec's OrganizationsPage: a card per organization with its
//! domain and real user and workspace counts, and a search box that filters
//! the cards in the browser.

use leptos::prelude::*;
use leptos_meta::Title;

use super::paths;
use crate::api::orgs::list_organizations;
use crate::components::{AsyncView, Button, ConsoleLayout, EmptyState, Icon, IconKind, PageHeader, Size, Variant};
use crate::model::{Organization, Page};

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
            <PageHeader title="Organizations" subtitle="Tenants, their domains, users and workspaces.">
                <NewOrganization/>
            </PageHeader>
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
                    class="input pl-9"
                />
            </form>
            <AsyncView resource=orgs fallback=skeleton let:page>
                <OrgGrid orgs=page.items.clone() query=query/>
                <Pager page set_offset/>
            </AsyncView>
        </ConsoleLayout>
    }
}

/// The product keeps this button disabled; the hint says why. It is tied
/// to the button (`aria-describedby`) and shown on hover and focus.
#[component]
fn NewOrganization() -> impl IntoView {
    view! {
        <span class="group relative inline-block" title=NEW_ORG_HINT>
            <button type="button" disabled=true aria-describedby="new-org-hint" class="btn btn-md btn-primary">
                <Icon kind=IconKind::Plus class="h-4 w-4"/>
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
    let visible = Memo::new(move |_| orgs.with_value(|all| all.iter().filter(|o| matches(o, &query.get())).cloned().collect::<Vec<_>>()));
    view! {
        <Show
            when=move || !visible.get().is_empty()
            fallback=move || view! { <EmptyState title="No matches" text="No organization name or domain contains that text."/> }
        >
            <ul class="grid gap-6 md:grid-cols-2 lg:grid-cols-3" data-testid="org-grid" aria-label="Organizations">
                <For each=move || visible.get() key=|o| o.id let:org>
                    <li><OrgCard org/></li>
                </For>
            </ul>
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
                    <Button variant=Variant::Secondary size=Size::Sm disabled={offset == 0}
                        on_click=Callback::new(move |_| set_offset.set((offset - limit).max(0)))>"Previous"</Button>
                    <Button variant=Variant::Secondary size=Size::Sm disabled={last >= total}
                        on_click=Callback::new(move |_| set_offset.set(offset + limit))>"Next"</Button>
                </div>
            </nav>
        }
    })
}

/// One organization, as a link to its page. Its name is an `<h2>`, the
/// level under the page's `<h1>` (axe: heading-order), and names the link:
/// Chromium computes no name from an `<article>` inside a link.
#[component]
fn OrgCard(org: Organization) -> impl IntoView {
    let name_id = format!("org-name-{}", org.id);
    let labelled_by = name_id.clone();
    view! {
        <a href=paths::organization(org.id) class="block rounded-xl" aria-labelledby=labelled_by>
            <article class="card card-body transition-colors hover:border-primary/40" data-testid="org-card">
                <div class="mb-4 flex items-center gap-4">
                    <div class="icon-tile">
                        <Icon kind=IconKind::Building2 class="h-7 w-7 text-primary"/>
                    </div>
                    <div class="min-w-0">
                        <h2 id=name_id class="truncate text-lg font-semibold">{org.name}</h2>
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

fn skeleton() -> impl IntoView {
    view! {
        <div class="grid gap-6 md:grid-cols-2 lg:grid-cols-3" aria-busy="true">
            {(0..3).map(|_| view! { <div class="card h-44 animate-pulse"></div> }).collect_view()}
        </div>
    }
}
