//! Keeping workspace views current without a reload: the reconciler moves
//! workspaces on by itself, so the pages ask again, often while something
//! is on its way and rarely otherwise.

use std::time::Duration;

use leptos::prelude::*;

use crate::model::{DesiredState, Workspace, WorkspaceStatus};

/// Bumps `tick` every 2 s while `busy`, otherwise every 10 s, until the
/// component that called it goes away. Only in the browser (effects do not
/// run on the server).
pub fn poll(tick: RwSignal<u32>, busy: Signal<bool>) {
    let handle = StoredValue::new(None::<IntervalHandle>);
    Effect::new(move |_| {
        let every = Duration::from_secs(if busy.get() { 2 } else { 10 });
        if let Some(old) = handle.get_value() {
            old.clear();
        }
        handle.set_value(set_interval_with_handle(move || tick.update(|n| *n = n.wrapping_add(1)), every).ok());
    });
    on_cleanup(move || {
        if let Some(h) = handle.try_get_value().flatten() {
            h.clear();
        }
    });
}

/// Whether the reconciler still has to move this workspace: a status in
/// between, or one that is not yet what was asked for (a start just
/// accepted may still read `stopped`).
pub fn settling(w: &Workspace) -> bool {
    use WorkspaceStatus as S;
    w.status.is_transitional()
        || match w.desired_state {
            DesiredState::Running => matches!(w.status, S::Stopped),
            DesiredState::Stopped => matches!(w.status, S::Running),
            DesiredState::Deleted => w.status != S::Deleted && w.status != S::Failed,
        }
}
