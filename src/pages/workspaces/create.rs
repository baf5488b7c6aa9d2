//! The create dialog: name, template, owner, size and "start now". It shows
//! what the request would use of each quota and refuses before sending
//! when it would not fit, in the words the server's 409 would use.

use std::collections::HashMap;

use leptos::prelude::*;

use super::usage::quota_rows;
use crate::api::orgs::list_members;
use crate::api::workspaces::{get_organization_usage, list_workspace_templates, list_workspaces, CreateWorkspace};
use crate::components::{use_toasts, Button, Dialog, Icon, IconKind, Variant};
use crate::model::{
    check_workspace_name, format_mib, format_vcpu, parse_vcpu, DesiredState, OrganizationUsage, QuotaRefusal, WorkspaceSize,
    WorkspaceTemplate,
};

/// The dialog's fields, as typed.
#[derive(Clone, Copy)]
struct Draft {
    name: RwSignal<String>,
    template: RwSignal<String>,
    owner: RwSignal<String>,
    vcpu: RwSignal<String>,
    memory: RwSignal<String>,
    storage: RwSignal<String>,
    start: RwSignal<bool>,
}

impl Draft {
    fn new() -> Self {
        Self {
            name: RwSignal::new(String::new()),
            template: RwSignal::new(String::new()),
            owner: RwSignal::new(String::new()),
            vcpu: RwSignal::new(String::new()),
            memory: RwSignal::new(String::new()),
            storage: RwSignal::new(String::new()),
            start: RwSignal::new(true),
        }
    }

    fn take_defaults(&self, t: &WorkspaceTemplate) {
        self.template.set(t.id.to_string());
        self.vcpu.set(format_vcpu(t.default_vcpu));
        self.memory.set(t.default_memory_mib.to_string());
        self.storage.set(t.default_storage_gib.to_string());
    }

    /// The size typed, or what is wrong with it for `t`.
    fn size(&self, t: &WorkspaceTemplate) -> Result<WorkspaceSize, String> {
        let vcpu = parse_vcpu(&self.vcpu.get()).ok_or("Give the vCPU as a number, e.g. 0.5 or 2.")?;
        let memory_mib = self.memory.get().trim().parse().map_err(|_| "Give the memory as a whole number of MiB.")?;
        let storage_gib = self.storage.get().trim().parse().map_err(|_| "Give the disk as a whole number of GiB.")?;
        let size = WorkspaceSize { vcpu, memory_mib, storage_gib };
        t.check_size(&size).map_err(|e| e.message)?;
        Ok(size)
    }
}

/// The "New workspace" button and its dialog, for `organization`.
/// `admin`: the caller allocates workspaces to members (otherwise they
/// make their own); `platform`: the organization is named in the request.
#[component]
pub fn CreateWorkspace(#[prop(into)] organization: Signal<String>, admin: bool, platform: bool, tick: RwSignal<u32>) -> impl IntoView {
    let open = RwSignal::new(false);
    let draft = Draft::new();
    let create = ServerAction::<CreateWorkspace>::new();
    let templates = Resource::new(|| (), |_| list_workspace_templates());
    let usage = Resource::new(move || (organization.get(), open.get(), create.version().get()), |(id, ..)| get_organization_usage(id));
    let members = Resource::new(
        move || (admin && open.get()).then(|| organization.get()),
        |org| async move {
            match org {
                Some(id) => list_members(id, None, 0).await.map(|p| p.items),
                None => Ok(Vec::new()),
            }
        },
    );
    // How many workspaces each member has, for the per-member quota (the
    // first page only: a lower bound, so a refusal shown is a sure one).
    let owned = Resource::new(
        move || (admin && open.get()).then(|| organization.get()),
        |org| async move {
            let mut counts = HashMap::<String, i64>::new();
            if let Some(id) = org {
                for w in list_workspaces(Some(id), 0).await.map(|p| p.items).unwrap_or_default() {
                    if let (Some(o), false) = (w.owner, w.desired_state == DesiredState::Deleted) {
                        *counts.entry(o.id.to_string()).or_default() += 1;
                    }
                }
            }
            counts
        },
    );

    let template = Memo::new(move |_| {
        let id = draft.template.get();
        templates.get().and_then(Result::ok).and_then(|all| all.into_iter().find(|t| t.id.to_string() == id))
    });
    // A template picked (or the first one, once they load) brings its sizes.
    Effect::new(move |_| {
        if let Some(Ok(all)) = templates.get() {
            if template.get_untracked().is_none() {
                if let Some(first) = all.first() {
                    draft.take_defaults(first);
                }
            }
        }
    });
    Effect::new(move |_| {
        if admin && draft.owner.get_untracked().is_empty() {
            if let Some(Ok(first)) = members.get().map(|r| r.map(|m| m.into_iter().next())) {
                draft.owner.set(first.map(|m| m.user.id.to_string()).unwrap_or_default());
            }
        }
    });

    let size = Memo::new(move |_| template.get().map(|t| draft.size(&t)));
    let owner_count = move || admin.then(|| owned.get().map(|c| c.get(&draft.owner.get()).copied().unwrap_or(0))).flatten();
    let current_usage = Memo::new(move |_| usage.get().and_then(Result::ok));
    let refusal = Memo::new(move |_| -> Option<QuotaRefusal> {
        let (Some(Ok(size)), Some(u)) = (size.get(), current_usage.get()) else { return None };
        u.refusal(&size, draft.start.get(), owner_count())
    });
    let problem = RwSignal::new(None::<String>);
    let toasts = use_toasts();
    Effect::new(move |_| match create.value().get() {
        Some(Ok(w)) => {
            toasts.success(format!("Workspace {} created.", w.name));
            draft.name.set(String::new());
            problem.set(None);
            open.set(false);
            tick.update(|n| *n = n.wrapping_add(1));
        }
        Some(Err(e)) => problem.set(Some(e.message)),
        None => {}
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if create.pending().get_untracked() {
            return;
        }
        let name = match check_workspace_name(&draft.name.get_untracked()) {
            Ok(n) => n,
            Err(e) => return problem.set(Some(e.message)),
        };
        let Some(t) = template.get_untracked() else {
            return problem.set(Some("Pick a template.".into()));
        };
        let size = match draft.size(&t) {
            Ok(s) => s,
            Err(e) => return problem.set(Some(e)),
        };
        // Not sent: the refusal is on screen already.
        if refusal.get_untracked().is_some() {
            problem.set(None);
            return;
        }
        problem.set(None);
        let owner = draft.owner.get_untracked();
        create.dispatch(CreateWorkspace {
            name,
            template_id: t.id.to_string(),
            owner_id: (admin && !owner.is_empty()).then_some(owner),
            organization_id: platform.then(|| organization.get_untracked()),
            vcpu: Some(size.vcpu),
            memory_mib: Some(size.memory_mib),
            storage_gib: Some(size.storage_gib),
            start: draft.start.get_untracked(),
        });
    };

    let no_templates = move || matches!(templates.get(), Some(Ok(ref all)) if all.is_empty());
    view! {
        <Button on_click=Callback::new(move |_| { problem.set(None); open.set(true); })>
            <Icon kind=IconKind::Plus class="h-4 w-4"/>
            "New workspace"
        </Button>
        <Dialog open id="create-workspace-dialog" title="New workspace" description="A container on the workspace engine, sized within its template.">
            <form class="space-y-4" novalidate=true on:submit=submit>
                <Field id="ws-name" label="Name">
                    <input id="ws-name" class="input" autocomplete="off" prop:value=draft.name
                        on:input=move |ev| draft.name.set(event_target_value(&ev))/>
                </Field>
                <Field id="ws-template" label="Template">
                    <select id="ws-template" class="select w-full" prop:value=draft.template
                        on:change=move |ev| {
                            let id = event_target_value(&ev);
                            if let Some(t) = templates.get_untracked().and_then(Result::ok).and_then(|all| all.into_iter().find(|t| t.id.to_string() == id)) {
                                draft.take_defaults(&t);
                            }
                        }>
                        {move || templates.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|t| {
                            let id = t.id.to_string();
                            view! { <option value=id.clone() selected=move || draft.template.get() == id>{t.name}</option> }
                        }).collect_view()}
                    </select>
                    {move || no_templates().then(|| view! {
                        <p class="text-xs text-muted-foreground">"No templates yet: platform admins add them with POST /api/workspace-templates."</p>
                    })}
                    {move || template.get().filter(|t| !t.description.is_empty()).map(|t| view! { <p class="text-xs text-muted-foreground">{t.description}</p> })}
                </Field>
                {admin.then(|| view! {
                    <Field id="ws-owner" label="Owner">
                        <select id="ws-owner" class="select w-full" prop:value=draft.owner
                            on:change=move |ev| draft.owner.set(event_target_value(&ev))>
                            {move || members.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|m| {
                                let id = m.user.id.to_string();
                                let label = format!("{} ({})", m.user.name, m.user.email);
                                view! { <option value=id.clone() selected=move || draft.owner.get() == id>{label}</option> }
                            }).collect_view()}
                        </select>
                    </Field>
                })}
                <div class="grid grid-cols-3 gap-3">
                    <SizeField id="ws-vcpu" label="vCPU" value=draft.vcpu step="0.001"
                        max=Signal::derive(move || template.get().map(|t| format_vcpu(t.max_vcpu)))
                        hint=Signal::derive(move || template.get().map(|t| format!("at most {}", format_vcpu(t.max_vcpu))))/>
                    <SizeField id="ws-memory" label="Memory (MiB)" value=draft.memory step="1"
                        max=Signal::derive(move || template.get().map(|t| t.max_memory_mib.to_string()))
                        hint=Signal::derive(move || template.get().map(|t| format!("at most {}", format_mib(t.max_memory_mib))))/>
                    <SizeField id="ws-storage" label="Disk (GiB)" value=draft.storage step="1"
                        max=Signal::derive(move || template.get().map(|t| t.max_storage_gib.to_string()))
                        hint=Signal::derive(move || template.get().map(|t| format!("at most {} GiB", t.max_storage_gib)))/>
                </div>
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" class="h-4 w-4 accent-cyan-400" prop:checked=draft.start
                        on:change=move |ev| draft.start.set(event_target_checked(&ev))/>
                    "Start it now"
                </label>
                <WouldUse usage=current_usage size start=draft.start.into() owner_count=Signal::derive(owner_count)/>
                <div id="create-workspace-refusal" role="alert" data-testid="create-refusal">
                    {move || refusal.get().map(|r| view! { <p class="alert-error">{r.to_string()}</p> })}
                    {move || problem.get().map(|p| view! { <p class="alert-error">{p}</p> })}
                </div>
                <div class="flex justify-end gap-3">
                    <Button variant=Variant::Secondary on_click=Callback::new(move |_| open.set(false))>"Cancel"</Button>
                    <button type="submit" class="btn btn-md btn-primary"
                        aria-disabled=move || (refusal.get().is_some() || create.pending().get()).then_some("true")
                        aria-busy=move || create.pending().get().then_some("true")
                        aria-describedby="create-workspace-refusal">
                        {move || if create.pending().get() { "Creating…" } else { "Create workspace" }}
                    </button>
                </div>
            </form>
        </Dialog>
    }
}

/// A label above its control.
#[component]
fn Field(id: &'static str, label: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="space-y-1.5">
            <label for=id class="block text-sm font-medium">{label}</label>
            {children()}
        </div>
    }
}

/// A size input with the template's maximum as its hint.
#[component]
fn SizeField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    step: &'static str,
    max: Signal<Option<String>>,
    hint: Signal<Option<String>>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="space-y-1.5">
            <label for=id class="block text-sm font-medium">{label}</label>
            <input id=id type="number" inputmode="decimal" class="input" min="0" step=step max=move || max.get()
                aria-describedby=hint_id.clone()
                prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/>
            <p id=hint_id class="text-xs text-muted-foreground">{move || hint.get()}</p>
        </div>
    }
}

/// What the request would use of each quota, next to the limits.
#[component]
fn WouldUse(
    usage: Memo<Option<OrganizationUsage>>,
    size: Memo<Option<Result<WorkspaceSize, String>>>,
    start: Signal<bool>,
    owner_count: Signal<Option<i64>>,
) -> impl IntoView {
    let lines = move || {
        let (Some(u), Some(Ok(s))) = (usage.get(), size.get()) else { return Vec::new() };
        let start = start.get();
        let adds = [1, i64::from(start), if start { s.vcpu } else { 0 }, if start { s.memory_mib } else { 0 }, s.storage_gib, 1];
        quota_rows(&u)
            .into_iter()
            .zip(adds)
            .enumerate()
            .map(|(i, (r, add))| {
                // The per-member row counts the chosen owner's workspaces.
                let used = if i == 5 { owner_count.get().unwrap_or(r.quota.used) } else { r.quota.used };
                let limit = r.quota.limit.map(r.unit).unwrap_or_else(|| "unlimited".into());
                let label = if i == 5 { "Owner's workspaces" } else { r.label };
                (label, r.testid, format!("{} → {} of {limit}", (r.unit)(used), (r.unit)(used + add)))
            })
            .collect()
    };
    view! {
        <div class="rounded-lg border border-border p-3 text-sm" data-testid="create-would-use">
            <p class="mb-2 font-medium">"This workspace would use"</p>
            <dl class="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1">
                {move || lines().into_iter().map(|(label, testid, text)| view! {
                    <dt class="text-muted-foreground">{label}</dt>
                    <dd data-testid=format!("would-{testid}")>{text}</dd>
                }).collect_view()}
            </dl>
        </div>
    }
}
