//! /workspaces/:id: one workspace with its status and reason, size, owner,
//! template and times, its actions (admins also suspend with a reason and
//! resume), the rename/resize form (sizes only while stopped) and its
//! timeline, all kept current like the list. Another organization's
//! workspace answers 404 from the server, and the page says not found.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::live::{poll, settling};
use super::table::{offered, DeleteDialog, Deleting, LifecycleRunner};
use crate::api::workspaces::{get_workspace, Lifecycle, SuspendWorkspace, UpdateWorkspace};
use crate::components::{
    toast_outcome, use_current_user, Badge, Button, Card, Column, ConsoleLayout, DataTable, Dialog, LoadError, Size, Tone, Variant,
    WorkspaceStatusView, CELL, CELL_MUTED,
};
use crate::model::{format_vcpu, parse_vcpu, DesiredState, ErrorKind, Workspace, WorkspaceDetail, WorkspaceEvent, WorkspaceStatus};
use crate::pages::paths;

#[component]
pub fn WorkspaceDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    view! {
        <Title text="Workspace"/>
        <ConsoleLayout>
            <a href=paths::WORKSPACES class="mb-4 inline-block rounded-md text-sm text-muted-foreground hover:text-foreground">
                <span aria-hidden="true">"← "</span>"Workspaces"
            </a>
            <WorkspaceView id/>
        </ConsoleLayout>
    }
}

/// Inside the console frame, whose toasts the actions use.
#[component]
fn WorkspaceView(id: Memo<String>) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let detail = Resource::new(move || (id.get(), tick.get()), |(id, _)| get_workspace(id));
    let current = Memo::new(move |_| detail.get().and_then(Result::ok).map(|d| d.workspace));
    poll(tick, Signal::derive(move || current.get().is_some_and(|w| settling(&w))));
    let runner = LifecycleRunner::new(tick);
    let deleting: Deleting = RwSignal::new(None);
    let suspending = RwSignal::new(false);
    // Once the server has taken the deletion, the list is where to be.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(runner.action.value().get(), Some(Ok(w)) if w.desired_state == DesiredState::Deleted) {
            navigate(paths::WORKSPACES, Default::default());
        }
    });
    let stopped = Signal::derive(move || current.get().is_some_and(|w| w.status == WorkspaceStatus::Stopped));
    view! {
        <Transition fallback=|| view! { <div class="card h-40 animate-pulse" aria-busy="true"></div> }>
            {move || detail.get().map(|r| match r {
                Ok(d) => view! {
                    <Overview d=d.clone() runner deleting suspending/>
                    <Timeline events=d.events/>
                }.into_any(),
                // The page's heading even when there is no workspace to name it.
                Err(error) => view! {
                    <h1 class="mb-4 text-2xl font-bold tracking-tight">
                        {if error.kind == ErrorKind::NotFound { "Workspace not found" } else { "Workspace" }}
                    </h1>
                    <LoadError error/>
                }.into_any(),
            })}
        </Transition>
        <ChangeForm id stopped tick/>
        <DeleteDialog deleting runner/>
        <SuspendDialog open=suspending id=Signal::derive(move || id.get()) tick/>
    }
}

#[component]
fn Fact(label: &'static str, #[prop(into)] value: String, #[prop(optional)] testid: &'static str) -> impl IntoView {
    view! {
        <div>
            <dt class="text-xs uppercase tracking-wide text-muted-foreground">{label}</dt>
            <dd class="mt-1" data-testid=testid>{value}</dd>
        </div>
    }
}

#[component]
fn Overview(d: WorkspaceDetail, runner: LifecycleRunner, deleting: Deleting, suspending: RwSignal<bool>) -> impl IntoView {
    let user = use_current_user();
    let w = d.workspace;
    let id = w.id.to_string();
    let buttons = offered(&w)
        .into_iter()
        .map(|what| {
            let (id, name) = (id.clone(), w.name.clone());
            let click = Callback::new(move |_| {
                if what == Lifecycle::Delete {
                    deleting.set(Some((id.clone(), name.clone())));
                } else {
                    runner.run(id.clone(), what);
                }
            });
            let variant = if what == Lifecycle::Delete { Variant::Danger } else { Variant::Secondary };
            view! { <Button variant size=Size::Sm busy=runner.action.pending() on_click=click>{what.label()}</Button> }
        })
        .collect_view();
    let suspended = w.status == WorkspaceStatus::Suspended;
    let resume_id = id.clone();
    let admin_buttons = move || {
        (user.role().is_admin() && w.status != WorkspaceStatus::Deleted).then(|| {
            if suspended {
                let id = resume_id.clone();
                view! { <Button variant=Variant::Secondary size=Size::Sm on_click=Callback::new(move |_| runner.run(id.clone(), Lifecycle::Resume))>"Resume"</Button> }.into_any()
            } else {
                view! { <Button variant=Variant::Danger size=Size::Sm on_click=Callback::new(move |_| suspending.set(true))>"Suspend"</Button> }.into_any()
            }
        })
    };
    let owner = w.owner.as_ref().map(|o| format!("{} ({})", o.name, o.email)).unwrap_or_else(|| "(deleted account)".into());
    let template = w.template.as_ref().map(|t| t.name.clone()).unwrap_or_else(|| "—".into());
    let when = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    view! {
        <div class="mb-6 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="flex items-center gap-3 text-2xl font-bold tracking-tight" data-testid="workspace-name">
                    {w.name.clone()}
                    {suspended.then(|| view! { <Badge tone=Tone::Danger>"Suspended"</Badge> })}
                </h1>
                <div class="mt-2"><WorkspaceStatusView status=w.status reason=w.status_reason.clone() testid="workspace-status"/></div>
            </div>
            <div class="inline-flex flex-wrap gap-2">{buttons}{admin_buttons}</div>
        </div>
        <Card class="card-body mb-6">
            <dl class="grid gap-4 md:grid-cols-4">
                <Fact label="Wanted" value=w.desired_state.as_str().to_string()/>
                <Fact label="Size" value=w.size().describe() testid="workspace-size"/>
                <Fact label="Owner" value=owner testid="workspace-owner"/>
                <Fact label="Template" value=template/>
                <Fact label="Created" value=when(w.created_at)/>
                <Fact label="Updated" value=when(w.updated_at)/>
                <Fact label="Auto-stop" value=w.autostop_at.map(when).unwrap_or_else(|| "—".into())/>
                <Fact label="Container" value=w.engine_ref.as_deref().map(|r| r.chars().take(12).collect::<String>()).unwrap_or_else(|| "—".into())/>
            </dl>
            {w.suspended_reason.clone().map(|r| view! { <p class="mt-4 text-sm">"Suspended: "{r}</p> })}
        </Card>
    }
}

/// Newest first, as the server sends it.
#[component]
fn Timeline(events: Vec<WorkspaceEvent>) -> impl IntoView {
    let columns = vec![Column::new("When"), Column::new("By"), Column::new("Change"), Column::new("Reason")];
    view! {
        <section class="mb-6" aria-labelledby="timeline-title">
            <h2 id="timeline-title" class="mb-3 text-lg font-semibold">"Timeline"</h2>
            <DataTable caption="Timeline" columns testid="timeline">
                {events.into_iter().map(|e| view! {
                    <tr data-testid="timeline-row">
                        <td class=CELL_MUTED>{e.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                        <td class=CELL>{e.actor.unwrap_or_else(|| "system".into())}</td>
                        <td class=CELL>{format!("{} → {}", e.from_status, e.to_status)}</td>
                        <td class=CELL_MUTED>{e.reason}</td>
                    </tr>
                }).collect_view()}
            </DataTable>
        </section>
    }
}

/// Rename at any time; resize only while stopped (the engine applies a
/// size when it makes the container). Loaded on its own, not with every
/// poll, so what is being typed stays; whether sizes can be changed
/// follows the live status. Only changed sizes are sent.
#[component]
fn ChangeForm(id: Memo<String>, stopped: Signal<bool>, tick: RwSignal<u32>) -> impl IntoView {
    let save = ServerAction::<UpdateWorkspace>::new();
    toast_outcome(save.value().into(), Some("Workspace saved."));
    Effect::new(move |_| {
        if save.value().get().is_some() {
            tick.update(|n| *n = n.wrapping_add(1));
        }
    });
    let loaded = Resource::new(move || (id.get(), save.version().get()), |(id, _)| get_workspace(id));
    view! {
        // Nothing on an error: the page above already says what went wrong.
        <Transition fallback=|| ()>
            {move || loaded.get().and_then(Result::ok).map(|d| view! { <ChangeFields w=d.workspace stopped save/> })}
        </Transition>
    }
}

#[component]
fn ChangeFields(w: Workspace, stopped: Signal<bool>, save: ServerAction<UpdateWorkspace>) -> impl IntoView {
    let name = RwSignal::new(w.name.clone());
    let vcpu = RwSignal::new(format_vcpu(w.vcpu));
    let memory = RwSignal::new(w.memory_mib.to_string());
    let storage = RwSignal::new(w.storage_gib.to_string());
    let (id, before) = (w.id.to_string(), w.size());
    let err = Signal::derive(move || save.value().get().and_then(Result::err).map(|e| e.message));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let resize = stopped.get_untracked();
        let changed = |now: String, was: String| (resize && now.trim() != was).then_some(now);
        save.dispatch(UpdateWorkspace {
            id: id.clone(),
            name: name.get_untracked(),
            vcpu: changed(vcpu.get_untracked(), format_vcpu(before.vcpu)).filter(|v| parse_vcpu(v) != Some(before.vcpu)),
            memory_mib: changed(memory.get_untracked(), before.memory_mib.to_string()),
            storage_gib: changed(storage.get_untracked(), before.storage_gib.to_string()),
        });
    };
    let input = move |id: &'static str, label: &'static str, value: RwSignal<String>, size: bool| {
        let off = move || size && !stopped.get();
        view! {
            <div class="space-y-1.5">
                <label for=id class="block text-sm font-medium">{label}</label>
                <input id=id class="input" disabled=off aria-describedby=size.then_some("resize-hint")
                    prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/>
            </div>
        }
    };
    view! {
        <Card title="Name and size" class="card-body mb-6">
            <form class="mt-4 space-y-4" novalidate=true on:submit=submit>
                <div class="grid gap-4 md:grid-cols-4">
                    {input("ws-edit-name", "Name", name, false)}
                    {input("ws-edit-vcpu", "vCPU", vcpu, true)}
                    {input("ws-edit-memory", "Memory (MiB)", memory, true)}
                    {input("ws-edit-storage", "Disk (GiB)", storage, true)}
                </div>
                <p id="resize-hint" class="text-xs text-muted-foreground">
                    {move || if stopped.get() { "Sizes apply at the next start." } else { "Stop the workspace to change its size." }}
                </p>
                <div role="alert">{move || err.get().map(|m| view! { <p class="alert-error">{m}</p> })}</div>
                <Button submit=true busy=save.pending()>{move || if save.pending().get() { "Saving…" } else { "Save" }}</Button>
            </form>
        </Card>
    }
}

/// Suspending asks why; the reason is on the timeline and the owner sees it.
#[component]
fn SuspendDialog(open: RwSignal<bool>, id: Signal<String>, tick: RwSignal<u32>) -> impl IntoView {
    let suspend = ServerAction::<SuspendWorkspace>::new();
    toast_outcome(suspend.value().into(), Some("Workspace suspended."));
    let reason = RwSignal::new(String::new());
    let missing = RwSignal::new(false);
    Effect::new(move |_| {
        if suspend.value().get().is_some() {
            tick.update(|n| *n = n.wrapping_add(1));
        }
        if matches!(suspend.value().get(), Some(Ok(_))) {
            open.set(false);
            reason.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let r = reason.get_untracked();
        missing.set(r.trim().is_empty());
        if !r.trim().is_empty() {
            suspend.dispatch(SuspendWorkspace { id: id.get_untracked(), reason: r });
        }
    };
    view! {
        <Dialog open id="suspend-workspace-dialog" title="Suspend workspace" description="It stops, and its owner cannot start it until an admin resumes it.">
            <form class="space-y-4" novalidate=true on:submit=submit>
                <div class="space-y-1.5">
                    <label for="suspend-reason" class="block text-sm font-medium">"Reason"</label>
                    <input id="suspend-reason" class="input" prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))
                        aria-invalid=move || missing.get().to_string() aria-describedby="suspend-reason-error"/>
                    <p id="suspend-reason-error" class="text-xs text-destructive" role="alert">
                        {move || missing.get().then_some("Say why: the owner reads it.")}
                    </p>
                </div>
                <div class="flex justify-end gap-3">
                    <Button variant=Variant::Secondary on_click=Callback::new(move |_| open.set(false))>"Cancel"</Button>
                    <Button variant=Variant::Danger submit=true busy=suspend.pending()>"Suspend"</Button>
                </div>
            </form>
        </Dialog>
    }
}
