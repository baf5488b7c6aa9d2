//! One organization: overview, members, invitations, workspaces, domains
//! and settings.
//! Admins of the organization (and platform admins) see every tab; other
//! members see the overview.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};

use super::org_audit::OrgAudit;
use super::org_domains::OrgDomains;
use super::paths;
use super::status::{member_disabled, org_suspended};
use super::workspaces::{QuotaForm, UsagePanel, WorkspaceTable};
use crate::api::orgs::{
    get_organization, list_invitations, list_members, ChangeMemberRole, InviteMember, RemoveMember, ResendInvitation, RevokeInvitation,
    SetMemberDisabled, SetOrganizationSuspended, UpdateOrganization,
};
use crate::components::{
    field_error, submit_button, toast_outcome, use_current_user, AsyncView, Badge, Button, Card, Column, ConsoleLayout, DataTable, Dialog,
    EmptyState, ErrorBanner, Icon, IconKind, Size, TabKey, Tabs, TextField, Tone, UsageBar, Variant, CELL, CELL_ACTIONS, CELL_MUTED,
};
use crate::model::{Invitation, Member, OrganizationDetail, Role};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Overview,
    Members,
    Invitations,
    Settings,
    Workspaces,
    Domains,
    Audit,
}

impl TabKey for Tab {
    fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Members => "Members",
            Tab::Invitations => "Invitations",
            Tab::Settings => "Settings",
            Tab::Workspaces => "Workspaces",
            Tab::Domains => "Domains",
            Tab::Audit => "Audit log",
        }
    }
}

#[component]
pub fn OrgDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let reload = RwSignal::new(0u32);
    let org = Resource::new(move || (id.get(), reload.get()), |(id, _)| get_organization(id));
    // Here, not in the view below: the open tab stays open when a change
    // reloads the organization.
    // `/organizations/{id}/audit` (the audit log's own address, which its
    // searches go to) opens on the audit tab.
    let start = if use_location().pathname.get_untracked().ends_with("/audit") { Tab::Audit } else { Tab::Overview };
    let tab = RwSignal::new(start);
    view! {
        <Title text="Organization"/>
        <ConsoleLayout>
            <a href=paths::ORGANIZATIONS class="mb-4 inline-block rounded-md text-sm text-muted-foreground hover:text-foreground">
                <span aria-hidden="true">"← "</span>"Organizations"
            </a>
            <AsyncView resource=org fallback=|| view! { <div class="card h-40 animate-pulse" aria-busy="true"></div> } let:o>
                <OrgView org=o tab reload/>
            </AsyncView>
        </ConsoleLayout>
    }
}

/// The header and the tabs the viewer may open.
#[component]
fn OrgView(org: OrganizationDetail, tab: RwSignal<Tab>, reload: RwSignal<u32>) -> impl IntoView {
    let user = use_current_user();
    let org = StoredValue::new(org);
    view! {
        <Header org=org.get_value()/>
        {move || {
            let role = user.role();
            let tabs = if role == Role::User {
                vec![Tab::Overview, Tab::Workspaces]
            } else {
                vec![Tab::Overview, Tab::Members, Tab::Invitations, Tab::Workspaces, Tab::Domains, Tab::Audit, Tab::Settings]
            };
            let org_id = org.with_value(|o| o.organization.id.to_string());
            view! {
                <Tabs id="org-tabs" label="Organization" tabs selected=tab panel=move |t| match t {
                    Tab::Overview => view! { <Overview org=org.get_value()/> }.into_any(),
                    Tab::Members => view! { <Members org_id=org_id.clone() reload/> }.into_any(),
                    Tab::Invitations => view! { <Invitations org_id=org_id.clone()/> }.into_any(),
                    Tab::Settings => view! { <Settings org=org.get_value() platform=role == Role::PlatformAdmin reload/> }.into_any(),
                    Tab::Workspaces => view! { <OrgWorkspaces org_id=org_id.clone() platform=role == Role::PlatformAdmin/> }.into_any(),
                    Tab::Domains => view! { <OrgDomains org_id=org_id.clone()/> }.into_any(),
                    Tab::Audit => view! { <OrgAudit org_id=org_id.clone()/> }.into_any(),
                }/>
            }
        }}
    }
}

#[component]
fn Header(org: OrganizationDetail) -> impl IntoView {
    let suspended = org_suspended(&org);
    view! {
        <div class="mb-6 flex items-center gap-4">
            <div class="icon-tile">
                <Icon kind=IconKind::Building2 class="h-7 w-7 text-primary"/>
            </div>
            <div>
                <h1 class="flex items-center gap-3 text-2xl font-bold tracking-tight">
                    {org.organization.name.clone()}
                    {suspended.then(|| view! { <Badge tone=Tone::Danger>"Suspended"</Badge> })}
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
fn Stat(label: &'static str, #[prop(into)] value: String) -> impl IntoView {
    view! {
        <Card class="p-5">
            <p class="text-xs uppercase tracking-wide text-muted-foreground">{label}</p>
            <p class="mt-1 text-2xl font-semibold">{value}</p>
        </Card>
    }
}

#[component]
fn Overview(org: OrganizationDetail) -> impl IntoView {
    let users = org.organization.users_count;
    let seats = match org.seat_limit {
        Some(limit) => format!("{users} of {limit} seats"),
        None => format!("{users} users · no seat limit"),
    };
    let status = if org_suspended(&org) { "Suspended" } else { "Active" };
    view! {
        <div class="grid gap-4 md:grid-cols-4">
            <Stat label="Users" value=users.to_string()/>
            <Stat label="Workspaces" value=org.organization.workspaces_count.to_string()/>
            <Stat label="Status" value=status/>
            <Stat label="Created" value=org.organization.created_at.format("%Y-%m-%d").to_string()/>
        </div>
        <Card class="mt-4 p-5">
            <UsageBar label="Seat usage" used=users limit=org.seat_limit text=seats testid="seat-usage"/>
            <p class="mt-3 text-sm text-muted-foreground">
                {if org.require_mfa { "Members must use two-factor authentication." } else { "Two-factor authentication is optional." }}
            </p>
        </Card>
    }
}

/// The member actions a row can start; shared by every row of the table.
#[derive(Clone, Copy)]
struct MemberActions {
    role: ServerAction<ChangeMemberRole>,
    disable: ServerAction<SetMemberDisabled>,
    remove: ServerAction<RemoveMember>,
}

impl MemberActions {
    fn busy(self) -> bool {
        self.role.pending().get() || self.disable.pending().get() || self.remove.pending().get()
    }
}

#[component]
fn Members(org_id: String, reload: RwSignal<u32>) -> impl IntoView {
    let actions = MemberActions { role: ServerAction::new(), disable: ServerAction::new(), remove: ServerAction::new() };
    toast_outcome(actions.role.value().into(), Some("Role changed."));
    toast_outcome(actions.disable.value().into(), Some("Member updated."));
    toast_outcome(actions.remove.value().into(), Some("Member removed."));
    let (query, set_query) = signal(None::<String>);
    let (draft, set_draft) = signal(String::new());
    let id = org_id.clone();
    let members = Resource::new(
        move || (query.get(), actions.role.version().get(), actions.disable.version().get(), actions.remove.version().get()),
        move |(q, ..)| list_members(id.clone(), q, 0),
    );
    Effect::new(move |_| {
        if matches!(actions.remove.value().get(), Some(Ok(()))) {
            reload.update(|n| *n += 1);
        }
    });
    let columns = vec![
        Column::new("Name"),
        Column::new("Email"),
        Column::new("Role"),
        Column::new("Sign-in"),
        Column::new("Status"),
        Column::actions(),
    ];
    let org_id = StoredValue::new(org_id);
    view! {
        <form class="mb-4 max-w-sm" role="search" on:submit=move |ev| {
            ev.prevent_default();
            let q = draft.get_untracked();
            set_query.set((!q.trim().is_empty()).then_some(q));
        }>
            <input type="search" placeholder="Search members by name or email" aria-label="Search members"
                on:input=move |ev| set_draft.set(event_target_value(&ev))
                class="input"/>
        </form>
        <AsyncView resource=members let:page>
            <p class="mb-2 text-sm text-muted-foreground" role="status">{format!("{} members", page.total)}</p>
            <DataTable caption="Members" columns=columns.clone() testid="members" busy=Signal::derive(move || actions.busy())>
                {page.items.into_iter().map(|member| view! { <MemberRow member org_id=org_id.get_value() actions/> }).collect_view()}
            </DataTable>
        </AsyncView>
    }
}

#[component]
fn MemberRow(member: Member, org_id: String, actions: MemberActions) -> impl IntoView {
    let user_id = member.user.id.to_string();
    let email = member.user.email.clone();
    let disabled = member_disabled(&member);
    let role_cell = if member.user.role == Role::PlatformAdmin {
        view! { <span>"Platform admin"</span> }.into_any()
    } else {
        let user_id = user_id.clone();
        view! {
            <select aria-label=format!("Role of {email}") class="select py-1"
                on:change=move |ev| {
                    let role = if event_target_value(&ev) == "org_admin" { Role::OrgAdmin } else { Role::User };
                    actions.role.dispatch(ChangeMemberRole { user_id: user_id.clone(), role });
                }>
                <option value="user" selected=member.user.role == Role::User>"User"</option>
                <option value="org_admin" selected=member.user.role == Role::OrgAdmin>"Organization admin"</option>
            </select>
        }
        .into_any()
    };
    let toggle = {
        let user_id = user_id.clone();
        Callback::new(move |_| {
            actions.disable.dispatch(SetMemberDisabled { user_id: user_id.clone(), disabled: !disabled });
        })
    };
    let remove = {
        let email = email.clone();
        Callback::new(move |_| {
            // The browser's own confirmation: modal, keyboard-operable, and
            // read by screen readers.
            let ok = window().confirm_with_message(&format!("Remove {email}? Their access ends at once.")).unwrap_or(false);
            if ok {
                actions.remove.dispatch(RemoveMember { id: org_id.clone(), user_id: user_id.clone() });
            }
        })
    };
    view! {
        <tr data-testid="member-row" data-email=email.clone()>
            <td class=CELL>{member.user.name.clone()}</td>
            <td class=CELL_MUTED>{email.clone()}</td>
            <td class=CELL>{role_cell}</td>
            <td class=CELL_MUTED data-testid="member-sign-in">{sign_in_method(member.user.sso_linked, member.user.mfa_enabled)}</td>
            <td class=CELL>
                <Badge tone={if disabled { Tone::Danger } else { Tone::Success }}>{if disabled { "Disabled" } else { "Active" }}</Badge>
            </td>
            <td class=CELL_ACTIONS>
                <div class="inline-flex gap-2">
                    <Button variant=Variant::Ghost size=Size::Sm on_click=toggle>{if disabled { "Enable" } else { "Disable" }}</Button>
                    <Button variant=Variant::Danger size=Size::Sm on_click=remove>"Remove"</Button>
                </div>
            </td>
        </tr>
    }
}

/// The actions on invitations, shared by the form and every row.
#[derive(Clone, Copy)]
struct InvitationActions {
    resend: ServerAction<ResendInvitation>,
    revoke: ServerAction<RevokeInvitation>,
}

#[component]
fn Invitations(org_id: String) -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let actions = InvitationActions { resend: ServerAction::new(), revoke: ServerAction::new() };
    toast_outcome(actions.resend.value().into(), Some("A new link was made; the old one no longer works."));
    toast_outcome(actions.revoke.value().into(), Some("Invitation revoked."));
    let id = org_id.clone();
    let list = Resource::new(
        move || (invite.version().get(), actions.resend.version().get(), actions.revoke.version().get()),
        move |_| list_invitations(id.clone()),
    );
    let err = Signal::derive(move || invite.value().get().and_then(Result::err));
    // The newest link made here, shown until the next action.
    let fresh_link = Signal::derive(move || {
        actions
            .resend
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| invite.value().get().and_then(Result::ok))
            .and_then(|i: Invitation| i.link.map(|l| (i.email, l)))
    });
    let org_id = StoredValue::new(org_id);
    view! {
        <ActionForm action=invite attr:class="mb-4 flex flex-wrap items-end gap-3" attr:novalidate="true">
            <input type="hidden" name="id" value=org_id.get_value()/>
            <div class="w-72"><TextField label="Email to invite" name="email" kind="email" required=true error=field_error(err, "email")/></div>
            <div class="space-y-1.5">
                <label for="invite-role" class="block text-sm font-medium">"Role"</label>
                <select id="invite-role" name="role" class="select">
                    <option value="user">"User"</option>
                    <option value="org_admin">"Organization admin"</option>
                </select>
            </div>
            <label class="flex items-center gap-2 self-center text-sm">
                <input type="checkbox" name="show_link" checked=true class="h-4 w-4 accent-cyan-400"/>
                "Also show me the link to copy (the invitee then confirms their address by mail)"
            </label>
            {submit_button("Invite", "Inviting…", invite.pending().into(), "")}
        </ActionForm>
        <ErrorBanner error=err/>
        // Announced when it appears: the admin learns the link is ready.
        <div role="status">
            {move || fresh_link.get().map(|(email, link)| view! { <InviteLink email link/> })}
        </div>
        <AsyncView resource=list fallback=|| () let:items>
            {if items.is_empty() {
                view! { <EmptyState title="No pending invitations" text="Invite someone by email above; they get a one-time link." icon=IconKind::Users/> }.into_any()
            } else {
                view! {
                    <ul class="card divide-y divide-border text-sm" data-testid="invitations" aria-label="Pending invitations">
                        {items.into_iter().map(|invitation| view! { <InvitationRow invitation org_id=org_id.get_value() actions/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </AsyncView>
    }
}

/// A new invitation link, with a button that copies it.
#[component]
fn InviteLink(email: String, link: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = {
        let link = link.clone();
        Callback::new(move |_| {
            let _ = window().navigator().clipboard().write_text(&link);
            copied.set(true);
        })
    };
    view! {
        <div class="my-4 rounded-lg border border-primary/40 bg-primary/10 p-3 text-sm" data-testid="invite-link">
            <p class="mb-2">{format!("Send this one-time link to {email} (it is also in the server log). It works for 7 days.")}</p>
            <div class="flex gap-2">
                <input readonly class="input py-1 font-mono text-xs" value=link aria-label="Invitation link"/>
                <Button variant=Variant::Secondary size=Size::Sm on_click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </Button>
            </div>
        </div>
    }
}

#[component]
fn InvitationRow(invitation: Invitation, org_id: String, actions: InvitationActions) -> impl IntoView {
    let invitation_id = invitation.id;
    let state =
        if invitation.expired { "expired".to_string() } else { format!("expires {}", invitation.expires_at.format("%Y-%m-%d %H:%M UTC")) };
    let resend = {
        let id = org_id.clone();
        Callback::new(move |_| {
            actions.resend.dispatch(ResendInvitation { id: id.clone(), invitation_id });
        })
    };
    let revoke = Callback::new(move |_| {
        actions.revoke.dispatch(RevokeInvitation { id: org_id.clone(), invitation_id });
    });
    view! {
        <li class="flex items-center justify-between gap-4 px-4 py-3" data-testid="invitation-row">
            <div>
                <p class="font-medium">{invitation.email.clone()}</p>
                <p class="text-xs text-muted-foreground">{format!("{} · {state}", invitation.role.label())}</p>
            </div>
            <div class="inline-flex gap-2 whitespace-nowrap">
                <Button variant=Variant::Ghost size=Size::Sm on_click=resend>"Resend"</Button>
                <Button variant=Variant::Danger size=Size::Sm on_click=revoke>"Revoke"</Button>
            </div>
        </li>
    }
}

#[component]
fn Settings(org: OrganizationDetail, platform: bool, reload: RwSignal<u32>) -> impl IntoView {
    let save = ServerAction::<UpdateOrganization>::new();
    toast_outcome(save.value().into(), Some("Settings saved."));
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            reload.update(|n| *n += 1);
        }
    });
    let err = Signal::derive(move || save.value().get().and_then(Result::err));
    let id = org.organization.id.to_string();
    let seat_limit = org.seat_limit.map(|n| n.to_string());
    let (name, domain, require_mfa) = (org.organization.name.clone(), org.organization.domain.clone(), org.require_mfa);
    let (autostop, self_service) = (org.autostop_after_hours.map(|h| h.to_string()).unwrap_or_default(), org.self_service_workspaces);
    let auto_join = org.auto_join;
    let retention = org.audit_retention_days.map(|d| d.to_string()).unwrap_or_default();
    view! {
        <div class="space-y-6">
            <Card>
                <ActionForm action=save attr:class="max-w-md space-y-4" attr:novalidate="true">
                    <input type="hidden" name="id" value=id/>
                    <TextField label="Name" name="name" value=name error=field_error(err, "organization")/>
                    <TextField label="Domain" name="domain" value=domain error=field_error(err, "domain")/>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="require_mfa" checked=require_mfa class="h-4 w-4 accent-cyan-400"/>
                        "Require two-factor authentication (members enrol at their next sign-in)"
                    </label>
                    <TextField label="Auto-stop workspaces after (hours; empty: never)" name="autostop_after_hours" kind="number" value=autostop
                        error=field_error(err, "autostop_after_hours")/>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="self_service_workspaces" checked=self_service class="h-4 w-4 accent-cyan-400"/>
                        "Members may create their own workspaces (within the per-member quota)"
                    </label>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="auto_join" checked=auto_join class="h-4 w-4 accent-cyan-400"/>
                        "People who register with an address at a verified domain join automatically"
                    </label>
                    <TextField label="Keep audit events for (days; empty: for ever)" name="audit_retention_days" kind="number" value=retention
                        error=field_error(err, "audit_retention_days")/>
                    {if platform {
                        view! { <TextField label="Seat limit (empty: unlimited)" name="seat_limit" value=seat_limit.unwrap_or_default() error=field_error(err, "seat_limit")/> }.into_any()
                    } else {
                        view! {
                            <div class="space-y-1 text-sm">
                                <p class="font-medium">"Seat limit"</p>
                                <p class="text-muted-foreground">{seat_limit.unwrap_or_else(|| "Unlimited".into())}" · set by the platform admins"</p>
                            </div>
                        }.into_any()
                    }}
                    <ErrorBanner error=err/>
                    {submit_button("Save settings", "Saving…", save.pending().into(), "")}
                </ActionForm>
            </Card>
            <OrgStatus org platform reload/>
        </div>
    }
}

/// Whether members can sign in, and (for platform admins, never on the
/// default organization) suspending or reactivating, confirmed in a dialog.
#[component]
fn OrgStatus(org: OrganizationDetail, platform: bool, reload: RwSignal<u32>) -> impl IntoView {
    let suspend = ServerAction::<SetOrganizationSuspended>::new();
    toast_outcome(suspend.value().into(), None);
    Effect::new(move |_| {
        if matches!(suspend.value().get(), Some(Ok(_))) {
            reload.update(|n| *n += 1);
        }
    });
    let suspended = org_suspended(&org);
    let confirming = RwSignal::new(false);
    let control = if platform && !org.is_default {
        let id = org.organization.id.to_string();
        let (verb, question, consequence) = if suspended {
            ("Reactivate organization", format!("Reactivate {}?", org.organization.name), "Its members can sign in again.")
        } else {
            (
                "Suspend organization",
                format!("Suspend {}?", org.organization.name),
                "Every member is signed out at once and cannot sign in until it is reactivated.",
            )
        };
        let confirm = Callback::new(move |_| {
            suspend.dispatch(SetOrganizationSuspended { id: id.clone(), suspended: !suspended });
            confirming.set(false);
        });
        view! {
            <Button variant=Variant::Danger on_click=Callback::new(move |_| confirming.set(true))>{verb}</Button>
            <Dialog open=confirming id="org-status-dialog" title=question description=consequence>
                <div class="flex justify-end gap-3">
                    <Button variant=Variant::Secondary on_click=Callback::new(move |_| confirming.set(false))>"Cancel"</Button>
                    <Button variant=Variant::Danger on_click=confirm>{if suspended { "Reactivate" } else { "Suspend" }}</Button>
                </div>
            </Dialog>
        }
        .into_any()
    } else {
        view! { <p class="text-xs text-muted-foreground">"Only platform admins suspend organizations (never the default one)."</p> }
            .into_any()
    };
    view! {
        <Card title="Status" class="card-body text-sm">
            <p class="mb-3 mt-1 text-muted-foreground">{if suspended { "Suspended: members cannot sign in." } else { "Active." }}</p>
            {control}
        </Card>
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

/// The organization's quota usage (platform admins also set the quotas)
/// and its workspaces, live.
#[component]
fn OrgWorkspaces(org_id: String, platform: bool) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let organization = Signal::stored(org_id.clone());
    view! {
        <UsagePanel organization tick/>
        {platform.then(|| view! { <QuotaForm organization=org_id.clone() tick/> })}
        <WorkspaceTable organization=Signal::stored(Some(org_id)) tick/>
    }
}
