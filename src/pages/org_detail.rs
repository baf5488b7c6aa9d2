//! One organization: overview, members, invitations and settings.
//! Admins of the organization (and platform admins) see every tab; other
//! members see the overview.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::auth::current_user;
use crate::api::orgs::{
    get_organization, list_invitations, list_members, ChangeMemberRole, InviteMember, RemoveMember, ResendInvitation,
    RevokeInvitation, SetMemberDisabled, SetOrganizationSuspended, UpdateOrganization,
};
use crate::components::{field_error, primary_button, toast_outcome, ConsoleLayout, ErrorBanner, Icon, IconKind, TextField};
use crate::model::{Invitation, OrganizationDetail, Role};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Overview,
    Members,
    Invitations,
    Settings,
}

impl Tab {
    fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Members => "Members",
            Tab::Invitations => "Invitations",
            Tab::Settings => "Settings",
        }
    }
}

#[component]
pub fn OrgDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let reload = RwSignal::new(0u32);
    let org = Resource::new(move || (id.get(), reload.get()), |(id, _)| get_organization(id));
    let me = Resource::new(|| (), |_| current_user());
    let tab = RwSignal::new(Tab::Overview);
    view! {
        <Title text="Organization"/>
        <ConsoleLayout>
            <a href="/organizations" class="mb-4 inline-block text-sm text-muted-foreground hover:text-foreground">"← Organizations"</a>
            <Suspense fallback=|| view! { <div class="h-40 animate-pulse rounded-xl border border-border bg-card"></div> }>
                {move || {
                    let viewer = me.get().and_then(Result::ok).flatten();
                    org.get().map(|r| match r {
                        Err(e) => view! {
                            <div role="alert" class="rounded-xl border border-destructive/40 bg-destructive/10 p-6 text-sm text-destructive">{e.message}</div>
                        }.into_any(),
                        Ok(o) => {
                            let role = viewer.as_ref().map(|u| u.role).unwrap_or(Role::User);
                            let admin = role != Role::User;
                            let tabs: Vec<Tab> = if admin {
                                vec![Tab::Overview, Tab::Members, Tab::Invitations, Tab::Settings]
                            } else {
                                vec![Tab::Overview]
                            };
                            view! {
                                <Header org=o.clone()/>
                                <nav class="mb-6 flex gap-1 border-b border-border" role="tablist">
                                    {tabs.into_iter().map(|t| view! {
                                        <button
                                            type="button"
                                            role="tab"
                                            aria-selected=move || (tab.get() == t).to_string()
                                            on:click=move |_| tab.set(t)
                                            class="-mb-px border-b-2 border-transparent px-4 py-2 text-sm text-muted-foreground hover:text-foreground aria-selected:border-primary aria-selected:text-foreground"
                                        >
                                            {t.label()}
                                        </button>
                                    }).collect_view()}
                                </nav>
                                {move || match tab.get() {
                                    Tab::Overview => view! { <Overview org=o.clone()/> }.into_any(),
                                    Tab::Members => view! { <Members org_id=id.get() reload/> }.into_any(),
                                    Tab::Invitations => view! { <Invitations org_id=id.get()/> }.into_any(),
                                    Tab::Settings => view! { <Settings org=o.clone() platform=role == Role::PlatformAdmin reload/> }.into_any(),
                                }}
                            }.into_any()
                        }
                    })
                }}
            </Suspense>
        </ConsoleLayout>
    }
}

#[component]
fn Header(org: OrganizationDetail) -> impl IntoView {
    let suspended = org.status == crate::model::OrgStatus::Suspended;
    view! {
        <div class="mb-6 flex items-center gap-4">
            <div class="flex h-14 w-14 items-center justify-center rounded-xl bg-gradient-to-br from-cyan-500/20 to-orange-500/20">
                <Icon kind=IconKind::Building2 class="h-7 w-7 text-primary"/>
            </div>
            <div>
                <h1 class="flex items-center gap-3 text-2xl font-bold tracking-tight">
                    {org.organization.name.clone()}
                    {suspended.then(|| view! { <span class="rounded-full bg-destructive/15 px-2 py-0.5 text-xs font-medium text-destructive">"Suspended"</span> })}
                </h1>
                <div class="flex items-center gap-1.5 text-sm text-muted-foreground">
                    <Icon kind=IconKind::Globe class="h-3.5 w-3.5"/>
                    {org.organization.domain.clone()}
                </div>
            </div>
        </div>
    }
}

#[component]
fn Overview(org: OrganizationDetail) -> impl IntoView {
    let users = org.organization.users_count;
    let seats = match org.seat_limit {
        Some(limit) => format!("{users} of {limit} seats"),
        None => format!("{users} users · no seat limit"),
    };
    let percent = org.seat_limit.filter(|l| *l > 0).map(|l| (users * 100 / l).min(100)).unwrap_or(0);
    let stat = |label: &'static str, value: String| view! {
        <div class="rounded-xl border border-border bg-card p-5">
            <p class="text-xs uppercase tracking-wide text-muted-foreground">{label}</p>
            <p class="mt-1 text-2xl font-semibold">{value}</p>
        </div>
    };
    view! {
        <div class="grid gap-4 md:grid-cols-4">
            {stat("Users", users.to_string())}
            {stat("Workspaces", org.organization.workspaces_count.to_string())}
            {stat("Status", if org.status == crate::model::OrgStatus::Active { "Active".into() } else { "Suspended".into() })}
            {stat("Created", org.organization.created_at.format("%Y-%m-%d").to_string())}
        </div>
        <div class="mt-4 rounded-xl border border-border bg-card p-5">
            <p class="mb-2 text-sm" data-testid="seat-usage">{seats}</p>
            // A <progress> rather than a styled div: the CSP allows no inline styles.
            <progress
                max="100"
                value=percent
                aria-label="Seat usage"
                class="h-2 w-full appearance-none overflow-hidden rounded-full [&::-moz-progress-bar]:bg-cyan-400 [&::-webkit-progress-bar]:bg-secondary [&::-webkit-progress-value]:bg-gradient-to-r [&::-webkit-progress-value]:from-cyan-500 [&::-webkit-progress-value]:to-orange-400"
            ></progress>
            <p class="mt-3 text-sm text-muted-foreground">
                {if org.require_mfa { "Members must use two-factor authentication." } else { "Two-factor authentication is optional." }}
            </p>
        </div>
    }
}

#[component]
fn Members(org_id: String, reload: RwSignal<u32>) -> impl IntoView {
    let role_change = ServerAction::<ChangeMemberRole>::new();
    let disable = ServerAction::<SetMemberDisabled>::new();
    let remove = ServerAction::<RemoveMember>::new();
    toast_outcome(role_change.value().into(), Some("Role changed."));
    toast_outcome(disable.value().into(), Some("Member updated."));
    toast_outcome(remove.value().into(), Some("Member removed."));
    let (query, set_query) = signal(None::<String>);
    let (draft, set_draft) = signal(String::new());
    let id = org_id.clone();
    let members = Resource::new(
        move || (query.get(), role_change.version().get(), disable.version().get(), remove.version().get()),
        move |(q, ..)| list_members(id.clone(), q, 0),
    );
    Effect::new(move |_| {
        if matches!(remove.value().get(), Some(Ok(()))) {
            reload.update(|n| *n += 1);
        }
    });
    let busy = move || role_change.pending().get() || disable.pending().get() || remove.pending().get();
    view! {
        <form class="mb-4 max-w-sm" role="search" on:submit=move |ev| {
            ev.prevent_default();
            let q = draft.get_untracked();
            set_query.set((!q.trim().is_empty()).then_some(q));
        }>
            <input type="search" placeholder="Search members by name or email" aria-label="Search members"
                on:input=move |ev| set_draft.set(event_target_value(&ev))
                class="w-full rounded-lg border border-border bg-input px-3 py-2 text-sm outline-none focus:border-primary"/>
        </form>
        <Transition fallback=|| view! { <p class="text-sm text-muted-foreground">"Loading…"</p> }>
            {move || members.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="text-sm text-destructive">{e.message}</p> }.into_any(),
                Ok(page) => {
                    let org_id = org_id.clone();
                    view! {
                        <p class="mb-2 text-sm text-muted-foreground">{format!("{} members", page.total)}</p>
                        <div class="overflow-x-auto rounded-xl border border-border bg-card" class:opacity-60=busy>
                            <table class="w-full text-left text-sm" data-testid="members">
                                <thead class="text-xs uppercase text-muted-foreground">
                                    <tr><th class="px-4 py-2">"Name"</th><th class="px-4 py-2">"Email"</th><th class="px-4 py-2">"Role"</th><th class="px-4 py-2">"Sign-in"</th><th class="px-4 py-2">"Status"</th><th></th></tr>
                                </thead>
                                <tbody class="divide-y divide-border">
                                    {page.items.into_iter().map(|m| {
                                        let uid = m.user.id.to_string();
                                        let (u1, u2, u3) = (uid.clone(), uid.clone(), uid.clone());
                                        let org_id = org_id.clone();
                                        let email = m.user.email.clone();
                                        let disabled = m.status == crate::model::UserStatus::Disabled;
                                        let is_platform = m.user.role == Role::PlatformAdmin;
                                        view! {
                                            <tr data-testid="member-row" data-email=m.user.email.clone()>
                                                <td class="px-4 py-2">{m.user.name.clone()}</td>
                                                <td class="px-4 py-2 text-muted-foreground">{m.user.email.clone()}</td>
                                                <td class="px-4 py-2">
                                                    {if is_platform {
                                                        view! { <span>"Platform admin"</span> }.into_any()
                                                    } else {
                                                        view! {
                                                            <select aria-label=format!("Role of {}", m.user.email)
                                                                class="rounded-md border border-border bg-input px-2 py-1 text-sm"
                                                                on:change=move |ev| {
                                                                    let role = if event_target_value(&ev) == "org_admin" { Role::OrgAdmin } else { Role::User };
                                                                    role_change.dispatch(ChangeMemberRole { user_id: u1.clone(), role });
                                                                }>
                                                                <option value="user" selected=m.user.role == Role::User>"User"</option>
                                                                <option value="org_admin" selected=m.user.role == Role::OrgAdmin>"Organization admin"</option>
                                                            </select>
                                                        }.into_any()
                                                    }}
                                                </td>
                                                <td class="px-4 py-2 text-muted-foreground" data-testid="member-sign-in">
                                                    {sign_in_method(m.user.sso_linked, m.user.mfa_enabled)}
                                                </td>
                                                <td class="px-4 py-2">{if disabled { "Disabled" } else { "Active" }}</td>
                                                <td class="whitespace-nowrap px-4 py-2 text-right">
                                                    <button type="button" class="mr-3 text-sm text-muted-foreground hover:text-foreground"
                                                        on:click=move |_| { disable.dispatch(SetMemberDisabled { user_id: u2.clone(), disabled: !disabled }); }>
                                                        {if disabled { "Enable" } else { "Disable" }}
                                                    </button>
                                                    <button type="button" class="text-sm text-destructive hover:underline"
                                                        on:click=move |_| {
                                                            let ok = window().confirm_with_message(&format!("Remove {email}? Their access ends at once.")).unwrap_or(false);
                                                            if ok {
                                                                remove.dispatch(RemoveMember { id: org_id.clone(), user_id: u3.clone() });
                                                            }
                                                        }>
                                                        "Remove"
                                                    </button>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
fn Invitations(org_id: String) -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let resend = ServerAction::<ResendInvitation>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    toast_outcome(resend.value().into(), Some("A new link was made; the old one no longer works."));
    toast_outcome(revoke.value().into(), Some("Invitation revoked."));
    let id = org_id.clone();
    let list = Resource::new(
        move || (invite.version().get(), resend.version().get(), revoke.version().get()),
        move |_| list_invitations(id.clone()),
    );
    let err = Signal::derive(move || invite.value().get().and_then(Result::err));
    // The newest link made here, shown until the next action.
    let fresh_link = Signal::derive(move || {
        resend.value().get().and_then(Result::ok).or_else(|| invite.value().get().and_then(Result::ok)).and_then(|i: Invitation| i.link.map(|l| (i.email, l)))
    });
    let form_org = org_id.clone();
    view! {
        <ActionForm action=invite attr:class="mb-4 flex flex-wrap items-end gap-3" attr:novalidate="true">
            <input type="hidden" name="id" value=form_org/>
            <div class="w-72"><TextField label="Email to invite" name="email" kind="email" required=true error=field_error(err, "email")/></div>
            <div class="space-y-1.5">
                <label for="invite-role" class="block text-sm font-medium">"Role"</label>
                <select id="invite-role" name="role" class="rounded-lg border border-border bg-input px-3 py-2 text-sm">
                    <option value="user">"User"</option>
                    <option value="org_admin">"Organization admin"</option>
                </select>
            </div>
            {primary_button("Invite", "Inviting…", invite.pending().into())}
        </ActionForm>
        <ErrorBanner error=err/>
        {move || fresh_link.get().map(|(email, link)| view! {
            <div class="my-4 rounded-lg border border-primary/40 bg-primary/10 p-3 text-sm" data-testid="invite-link">
                <p class="mb-2">{format!("Send this one-time link to {email} (it is also in the server log). It works for 7 days.")}</p>
                <div class="flex gap-2">
                    <input readonly class="w-full rounded-md border border-border bg-input px-2 py-1 font-mono text-xs" value=link.clone() aria-label="Invitation link"/>
                    <button type="button" class="rounded-md border border-border px-3 py-1 text-xs hover:bg-secondary"
                        on:click=move |_| { let _ = window().navigator().clipboard().write_text(&link); }>"Copy"</button>
                </div>
            </div>
        })}
        <Transition fallback=|| ()>
            {move || list.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="text-sm text-destructive">{e.message}</p> }.into_any(),
                Ok(items) if items.is_empty() => view! { <p class="text-sm text-muted-foreground">"No pending invitations."</p> }.into_any(),
                Ok(items) => {
                    let org_id = org_id.clone();
                    view! {
                        <ul class="divide-y divide-border rounded-xl border border-border bg-card text-sm" data-testid="invitations">
                            {items.into_iter().map(|i| {
                                let (a, b) = (org_id.clone(), org_id.clone());
                                let inv = i.id;
                                let state = if i.expired { "expired".to_string() } else { format!("expires {}", i.expires_at.format("%Y-%m-%d %H:%M UTC")) };
                                view! {
                                    <li class="flex items-center justify-between gap-4 px-4 py-3" data-testid="invitation-row">
                                        <div>
                                            <p class="font-medium">{i.email.clone()}</p>
                                            <p class="text-xs text-muted-foreground">{format!("{} · {state}", i.role.label())}</p>
                                        </div>
                                        <div class="whitespace-nowrap">
                                            <button type="button" class="mr-3 text-sm text-muted-foreground hover:text-foreground"
                                                on:click=move |_| { resend.dispatch(ResendInvitation { id: a.clone(), invitation_id: inv }); }>"Resend"</button>
                                            <button type="button" class="text-sm text-destructive hover:underline"
                                                on:click=move |_| { revoke.dispatch(RevokeInvitation { id: b.clone(), invitation_id: inv }); }>"Revoke"</button>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
fn Settings(org: OrganizationDetail, platform: bool, reload: RwSignal<u32>) -> impl IntoView {
    let save = ServerAction::<UpdateOrganization>::new();
    let suspend = ServerAction::<SetOrganizationSuspended>::new();
    toast_outcome(save.value().into(), Some("Settings saved."));
    toast_outcome(suspend.value().into(), None);
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) || matches!(suspend.value().get(), Some(Ok(_))) {
            reload.update(|n| *n += 1);
        }
    });
    let err = Signal::derive(move || save.value().get().and_then(Result::err));
    let id = org.organization.id.to_string();
    let suspended = org.status == crate::model::OrgStatus::Suspended;
    let suspend_id = id.clone();
    view! {
        <div class="space-y-6">
            <section class="rounded-xl border border-border bg-card p-6">
                <ActionForm action=save attr:class="max-w-md space-y-4" attr:novalidate="true">
                    <input type="hidden" name="id" value=id.clone()/>
                    <Field label="Name" name="name" value=org.organization.name.clone() error=field_error(err, "organization")/>
                    <Field label="Domain" name="domain" value=org.organization.domain.clone() error=field_error(err, "domain")/>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="require_mfa" checked=org.require_mfa class="h-4 w-4 accent-cyan-400"/>
                        "Require two-factor authentication (members enrol at their next sign-in)"
                    </label>
                    {if platform {
                        view! { <Field label="Seat limit (empty: unlimited)" name="seat_limit" value=org.seat_limit.map(|n| n.to_string()).unwrap_or_default() error=field_error(err, "seat_limit")/> }.into_any()
                    } else {
                        view! {
                            <div class="space-y-1 text-sm">
                                <p class="font-medium">"Seat limit"</p>
                                <p class="text-muted-foreground">{org.seat_limit.map(|n| n.to_string()).unwrap_or_else(|| "Unlimited".into())}" · set by the platform admins"</p>
                            </div>
                        }.into_any()
                    }}
                    <ErrorBanner error=err/>
                    {primary_button("Save settings", "Saving…", save.pending().into())}
                </ActionForm>
            </section>
            <section class="rounded-xl border border-border bg-card p-6 text-sm">
                <p class="font-medium">"Status"</p>
                <p class="mb-3 text-muted-foreground">{if suspended { "Suspended: members cannot sign in." } else { "Active." }}</p>
                {if platform && !org.is_default {
                    view! {
                        <button type="button"
                            class="rounded-lg border border-destructive/50 px-4 py-2 text-sm text-destructive hover:bg-destructive/10"
                            on:click=move |_| { suspend.dispatch(SetOrganizationSuspended { id: suspend_id.clone(), suspended: !suspended }); }>
                            {if suspended { "Reactivate organization" } else { "Suspend organization" }}
                        </button>
                    }.into_any()
                } else {
                    view! { <p class="text-xs text-muted-foreground">"Only platform admins suspend organizations (never the default one)."</p> }.into_any()
                }}
            </section>
        </div>
    }
}

/// A text input that starts with the current value.
#[component]
fn Field(label: &'static str, name: &'static str, value: String, error: Signal<Option<String>>) -> impl IntoView {
    let id = format!("setting-{name}");
    view! {
        <div class="space-y-1.5">
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input id=id name=name value=value
                class="w-full rounded-lg border border-border bg-input px-3 py-2 text-sm outline-none focus:border-primary"/>
            {move || error.get().map(|m| view! { <p class="text-xs text-destructive" role="alert">{m}</p> })}
        </div>
    }
}

/// How a member signs in, as the members table shows it.
fn sign_in_method(sso: bool, mfa: bool) -> &'static str {
    match (sso, mfa) {
        (true, true) => "SSO · 2FA",
        (true, false) => "SSO",
        (false, true) => "Password · 2FA",
        (false, false) => "Password",
    }
}
