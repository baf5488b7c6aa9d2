//! The table of workspaces shared by /workspaces and the organization's
//! Workspaces tab: live status, sizes, and the lifecycle buttons, deletion
//! confirmed in a dialog. The dialog and the actions live outside the
//! rows, which are redrawn on every poll.

use leptos::prelude::*;

use super::live::{poll, settling};
use crate::api::workspaces::{list_workspaces, Lifecycle, WorkspaceLifecycle};
use crate::components::{
    use_toasts, AsyncView, Button, Column, DataTable, Dialog, EmptyState, IconKind, Size, Variant, WorkspaceStatusView, CELL, CELL_ACTIONS,
    CELL_MUTED,
};
use crate::model::{format_mib, format_vcpu, DesiredState, Workspace, WorkspaceStatus};
use crate::pages::paths;

/// The lifecycle buttons a workspace in this state offers (whether the
/// caller may press them is the server's to say). A suspended one offers
/// none: only admins resume it, on its page.
pub fn offered(w: &Workspace) -> Vec<Lifecycle> {
    use WorkspaceStatus as S;
    let mut out = Vec::new();
    if w.desired_state == DesiredState::Deleted {
        return out;
    }
    // A failed workspace may be tried again whatever was wanted of it.
    if w.status == S::Failed || (w.status == S::Stopped && w.desired_state != DesiredState::Running) {
        out.push(Lifecycle::Start);
    }
    if w.desired_state == DesiredState::Running && w.status != S::Suspended {
        out.push(Lifecycle::Stop);
    }
    if w.status == S::Running {
        out.push(Lifecycle::Restart);
    }
    out.push(Lifecycle::Delete);
    out
}

/// Runs lifecycle actions for a view and says how they went.
#[derive(Clone, Copy)]
pub struct LifecycleRunner {
    pub action: ServerAction<WorkspaceLifecycle>,
    last: RwSignal<Option<Lifecycle>>,
}

impl LifecycleRunner {
    /// `tick` is bumped when an action settles, so the view shows its effect.
    pub fn new(tick: RwSignal<u32>) -> Self {
        let action = ServerAction::<WorkspaceLifecycle>::new();
        let last = RwSignal::new(None::<Lifecycle>);
        let toasts = use_toasts();
        Effect::new(move |_| match action.value().get() {
            Some(Ok(_)) => {
                if let Some(a) = last.get_untracked() {
                    toasts.success(a.accepted());
                }
                tick.update(|n| *n = n.wrapping_add(1));
            }
            Some(Err(e)) => {
                toasts.error(e.message);
                tick.update(|n| *n = n.wrapping_add(1));
            }
            None => {}
        });
        Self { action, last }
    }

    pub fn run(&self, id: String, what: Lifecycle) {
        self.last.set(Some(what));
        self.action.dispatch(WorkspaceLifecycle { id, action: what });
    }
}

/// A workspace waiting for "Delete" to be confirmed: id and name.
pub type Deleting = RwSignal<Option<(String, String)>>;

/// The confirmation before a workspace is deleted, for the whole view.
#[component]
pub fn DeleteDialog(deleting: Deleting, runner: LifecycleRunner) -> impl IntoView {
    let open = RwSignal::new(false);
    // Each side is written only when it differs: a `set` notifies even with
    // the same value, and the two effects would wake each other for ever.
    Effect::new(move |_| {
        let asked = deleting.get().is_some();
        if open.get_untracked() != asked {
            open.set(asked);
        }
    });
    Effect::new(move |_| {
        if !open.get() && deleting.get_untracked().is_some() {
            deleting.set(None);
        }
    });
    let title = move || deleting.get().map(|(_, name)| format!("Delete {name}?")).unwrap_or_default();
    let confirm = Callback::new(move |_| {
        if let Some((id, _)) = deleting.get_untracked() {
            runner.run(id, Lifecycle::Delete);
        }
        open.set(false);
    });
    view! {
        <Dialog open id="delete-workspace-dialog" title=Signal::derive(title)
            description="Its container and its home volume are removed; this cannot be undone. The record stays for the audit trail.">
            <div class="flex justify-end gap-3">
                <Button variant=Variant::Secondary on_click=Callback::new(move |_| open.set(false))>"Cancel"</Button>
                <Button variant=Variant::Danger on_click=confirm>"Delete workspace"</Button>
            </div>
        </Dialog>
    }
}

/// The workspaces the caller may see, of `organization` when given, kept
/// current by polling (bumping `tick`, which the caller may share with
/// views that should refresh along).
#[component]
pub fn WorkspaceTable(#[prop(into)] organization: Signal<Option<String>>, tick: RwSignal<u32>) -> impl IntoView {
    let list = Resource::new(move || (organization.get(), tick.get()), |(org, _)| list_workspaces(org, 0));
    let busy = Signal::derive(move || list.get().and_then(Result::ok).is_some_and(|p| p.items.iter().any(settling)));
    poll(tick, busy);
    let runner = LifecycleRunner::new(tick);
    let deleting: Deleting = RwSignal::new(None);
    let columns = vec![
        Column::new("Status"),
        Column::new("Name"),
        Column::new("Owner"),
        Column::new("Template"),
        Column::new("vCPU"),
        Column::new("RAM"),
        Column::new("Disk"),
        Column::actions(),
    ];
    view! {
        <AsyncView resource=list let:page>
            {if page.items.is_empty() {
                view! { <EmptyState title="No workspaces" text="Workspaces made here appear in this list." icon=IconKind::Monitor/> }.into_any()
            } else {
                let more = (page.total > page.items.len() as i64)
                    .then(|| view! { <p class="mt-2 text-sm text-muted-foreground">{format!("Showing the first {} of {}.", page.items.len(), page.total)}</p> });
                view! {
                    <DataTable caption="Workspaces" columns=columns.clone() testid="workspaces" busy=runner.action.pending()>
                        {page.items.into_iter().map(|w| view! { <WorkspaceRow w runner deleting/> }).collect_view()}
                    </DataTable>
                    {more}
                }.into_any()
            }}
        </AsyncView>
        <DeleteDialog deleting runner/>
    }
}

#[component]
fn WorkspaceRow(w: Workspace, runner: LifecycleRunner, deleting: Deleting) -> impl IntoView {
    let id = w.id.to_string();
    let buttons = offered(&w)
        .into_iter()
        .map(|what| {
            let (id, name, label) = (id.clone(), w.name.clone(), format!(" {}", w.name));
            let click = Callback::new(move |_| {
                if what == Lifecycle::Delete {
                    deleting.set(Some((id.clone(), name.clone())));
                } else {
                    runner.run(id.clone(), what);
                }
            });
            let variant = if what == Lifecycle::Delete { Variant::Danger } else { Variant::Ghost };
            // The row's name in the button's accessible name: a list of
            // "Stop" buttons says nothing out of context.
            view! {
                <Button variant size=Size::Sm on_click=click>
                    {what.label()}<span class="sr-only">{label}</span>
                </Button>
            }
        })
        .collect_view();
    let owner = w.owner.as_ref().map(|o| o.name.clone()).unwrap_or_else(|| "(deleted account)".into());
    let owner_email = w.owner.as_ref().map(|o| o.email.clone()).unwrap_or_default();
    let template = w.template.as_ref().map(|t| t.name.clone()).unwrap_or_else(|| "—".into());
    view! {
        <tr data-testid="workspace-row" data-name=w.name.clone() data-status=w.status.as_str()>
            <td class=CELL><WorkspaceStatusView status=w.status reason=w.status_reason.clone() testid="workspace-status"/></td>
            <td class=CELL><a href=paths::workspace(&id) class="link font-medium">{w.name.clone()}</a></td>
            <td class=CELL>
                <span>{owner}</span>
                <span class="block text-xs text-muted-foreground">{owner_email}</span>
            </td>
            <td class=CELL_MUTED>{template}</td>
            <td class=CELL_MUTED>{format_vcpu(w.vcpu)}</td>
            <td class=CELL_MUTED>{format_mib(w.memory_mib)}</td>
            <td class=CELL_MUTED>{format!("{} GiB", w.storage_gib)}</td>
            <td class=CELL_ACTIONS><div class="inline-flex gap-2">{buttons}</div></td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::model::{OrgId, WorkspaceId};

    fn ws(desired: DesiredState, status: WorkspaceStatus) -> Workspace {
        Workspace {
            id: WorkspaceId::new(),
            organization_id: OrgId::new(),
            name: "box".into(),
            owner: None,
            template: None,
            vcpu: 500,
            memory_mib: 512,
            storage_gib: 1,
            desired_state: desired,
            status,
            status_reason: String::new(),
            suspended_reason: None,
            engine_ref: None,
            autostop_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn buttons_follow_the_state() {
        use DesiredState as D;
        use Lifecycle::*;
        use WorkspaceStatus as S;
        assert_eq!(offered(&ws(D::Running, S::Running)), vec![Stop, Restart, Delete]);
        assert_eq!(offered(&ws(D::Stopped, S::Stopped)), vec![Start, Delete]);
        assert_eq!(offered(&ws(D::Running, S::Starting)), vec![Stop, Delete]);
        assert_eq!(offered(&ws(D::Running, S::Failed)), vec![Start, Stop, Delete]);
        assert_eq!(offered(&ws(D::Stopped, S::Suspended)), vec![Delete]);
        assert!(offered(&ws(D::Deleted, S::Deleting)).is_empty());
    }
}
