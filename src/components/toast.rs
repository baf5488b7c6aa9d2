//! Short messages in the corner after an action: what went wrong, or that
//! it worked. Provided once by the console layout.

use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub message: String,
    pub error: bool,
}

#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: RwSignal<u64>,
}

impl Toasts {
    pub fn new() -> Self {
        Self { list: RwSignal::new(Vec::new()), next: RwSignal::new(0) }
    }

    fn push(&self, message: String, error: bool) {
        let id = self.next.get_untracked();
        self.next.set(id + 1);
        self.list.update(|l| l.push(Toast { id, message, error }));
        let list = self.list;
        set_timeout(move || list.update(|l| l.retain(|t| t.id != id)), std::time::Duration::from_secs(6));
    }

    pub fn error(&self, message: impl Into<String>) {
        self.push(message.into(), true);
    }

    pub fn success(&self, message: impl Into<String>) {
        self.push(message.into(), false);
    }
}

impl Default for Toasts {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_default()
}

#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="pointer-events-none fixed bottom-4 right-4 z-50 flex w-80 flex-col gap-2" aria-live="polite">
            <For each=move || toasts.list.get() key=|t| t.id let:t>
                <div
                    role=if t.error { "alert" } else { "status" }
                    data-testid="toast"
                    class=if t.error {
                        "pointer-events-auto rounded-lg border border-destructive/50 bg-popover px-4 py-3 text-sm text-destructive shadow-lg"
                    } else {
                        "pointer-events-auto rounded-lg border border-emerald-500/40 bg-popover px-4 py-3 text-sm text-emerald-300 shadow-lg"
                    }
                >
                    {t.message}
                </div>
            </For>
        </div>
    }
}

/// Shows an action's outcome as a toast once it settles.
pub fn toast_outcome<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<T, crate::model::AppError>>>,
    success: Option<&'static str>,
) {
    let toasts = use_toasts();
    Effect::new(move |_| match value.get() {
        Some(Err(e)) => toasts.error(e.message),
        Some(Ok(_)) => {
            if let Some(msg) = success {
                toasts.success(msg)
            }
        }
        None => {}
    });
}
