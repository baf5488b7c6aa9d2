//! A workspace's status as a dot and a word, with the reason under it. The
//! word carries the meaning (the dot's colour only repeats it) and the dot
//! pulses while the reconciler is still at work.

use leptos::prelude::*;

use crate::model::WorkspaceStatus;

fn dot_class(status: WorkspaceStatus) -> &'static str {
    use WorkspaceStatus::*;
    match status {
        Running => "bg-emerald-400",
        Pending | Provisioning | Starting | Stopping | Deleting => "bg-cyan-400 animate-pulse",
        Stopped | Deleted => "bg-slate-500",
        Suspended => "bg-orange-400",
        Failed => "bg-red-400",
        Unknown => "bg-yellow-300 animate-pulse",
    }
}

/// The status of one workspace; `reason` is shown in small print when
/// there is one.
#[component]
pub fn WorkspaceStatusView(
    status: WorkspaceStatus,
    #[prop(into, optional)] reason: String,
    /// Names the element for tests, e.g. "workspace-status".
    #[prop(optional)]
    testid: &'static str,
) -> impl IntoView {
    let reason = (!reason.trim().is_empty()).then_some(reason);
    view! {
        <div data-testid=testid data-status=status.as_str()>
            <span class="inline-flex items-center gap-2 font-medium">
                <span class=format!("inline-block h-2.5 w-2.5 shrink-0 rounded-full {}", dot_class(status)) aria-hidden="true"></span>
                <span data-testid="status-label">{status.label()}</span>
            </span>
            {reason.map(|r| view! { <p class="mt-0.5 text-xs text-muted-foreground" data-testid="status-reason">{r}</p> })}
        </div>
    }
}
