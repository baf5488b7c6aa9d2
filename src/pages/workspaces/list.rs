//! /workspaces: the workspaces the caller may see (their own; their
//! organization's for its admins; every organization's for platform
//! admins, who may narrow to one), the quota usage of the organization
//! shown, and the create dialog.

use leptos::prelude::*;
use leptos_meta::Title;

use super::create::CreateWorkspace;
use super::table::WorkspaceTable;
use super::usage::UsagePanel;
use crate::api::orgs::{get_organization, list_organizations};
use crate::components::{use_current_user, AsyncView, ConsoleLayout, PageHeader};
use crate::model::{Role, User};

#[component]
pub fn WorkspacesPage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Title text="Workspaces"/>
        <ConsoleLayout>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    user.user().await.map(|u| view! { <Workspaces user=u/> })
                })}
            </Transition>
        </ConsoleLayout>
    }
}

#[component]
fn Workspaces(user: User) -> impl IntoView {
    let platform = user.role == Role::PlatformAdmin;
    let own_org = user.organization_id.to_string();
    // Platform admins narrow the list to one organization; "" is all.
    let filter = RwSignal::new(String::new());
    let organization = Signal::derive(move || Some(filter.get()).filter(|f| !f.is_empty()));
    // The organization whose quotas and create dialog the page shows.
    let target = {
        let own_org = own_org.clone();
        Signal::derive(move || organization.get().unwrap_or_else(|| own_org.clone()))
    };
    let tick = RwSignal::new(0u32);
    let org = Resource::new(move || target.get(), get_organization);
    let admin = user.role.is_admin();
    // Users make their own workspaces only where the organization allows it.
    let may_create = move || admin || org.get().and_then(Result::ok).is_some_and(|o| o.self_service_workspaces);
    let subtitle = match user.role {
        Role::PlatformAdmin => "Every organization's workspaces, live.",
        Role::OrgAdmin => "Your organization's workspaces, live.",
        Role::User => "Your workspaces, live.",
    };
    view! {
        <PageHeader title="Workspaces" subtitle=subtitle>
            <Transition fallback=|| ()>
                {move || may_create().then(|| view! { <CreateWorkspace organization=target admin platform tick/> })}
            </Transition>
        </PageHeader>
        {platform.then(|| view! { <OrgFilter filter/> })}
        <UsagePanel organization=target tick/>
        <WorkspaceTable organization tick/>
    }
}

/// The organization filter of platform admins.
#[component]
fn OrgFilter(filter: RwSignal<String>) -> impl IntoView {
    let orgs = Resource::new(|| (), |_| list_organizations(None, 0));
    view! {
        <AsyncView resource=orgs fallback=|| () let:page>
            <div class="mb-6 max-w-sm space-y-1.5">
                <label for="ws-org-filter" class="block text-sm font-medium">"Organization"</label>
                <select id="ws-org-filter" class="select w-full" prop:value=filter on:change=move |ev| filter.set(event_target_value(&ev))>
                    <option value="">"All organizations"</option>
                    {page.items.into_iter().map(|o| view! { <option value=o.id.to_string()>{o.name}</option> }).collect_view()}
                </select>
            </div>
        </AsyncView>
    }
}
