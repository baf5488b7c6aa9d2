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

    pub fn dismiss(&self, id: u64) {
        self.list.update(|l| l.retain(|t| t.id != id));
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

/// Two live regions that exist from the start (a region added together
/// with its message is often not read): successes are announced politely,
/// errors at once.
#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = use_toasts();
    let of_kind = move |error: bool| move || toasts.list.get().into_iter().filter(|t| t.error == error).collect::<Vec<_>>();
    view! {
        <div class="pointer-events-none fixed bottom-4 right-4 z-50 flex w-80 flex-col gap-2">
            <div role="status" aria-live="polite" class="flex flex-col gap-2">
                <For each=of_kind(false) key=|t| t.id let:t>
                    <ToastCard toast=t toasts/>
                </For>
            </div>
            <div aria-live="assertive" aria-atomic="false" class="flex flex-col gap-2">
                <For each=of_kind(true) key=|t| t.id let:t>
                    <ToastCard toast=t toasts/>
                </For>
            </div>
        </div>
    }
}

#[component]
fn ToastCard(toast: Toast, toasts: Toasts) -> impl IntoView {
    let id = toast.id;
    let class = if toast.error {
        "pointer-events-auto flex items-start justify-between gap-3 rounded-lg border border-destructive/50 bg-popover px-4 py-3 text-sm text-destructive shadow-lg"
    } else {
        "pointer-events-auto flex items-start justify-between gap-3 rounded-lg border border-emerald-500/40 bg-popover px-4 py-3 text-sm text-emerald-300 shadow-lg"
    };
    view! {
        <div data-testid="toast" class=class>
            <span>{toast.message}</span>
            <button
                type="button"
                aria-label="Dismiss notification"
                class="-mr-1 rounded px-1 leading-none text-muted-foreground hover:text-foreground"
                on:click=move |_| toasts.dismiss(id)
            >
                <span aria-hidden="true">"×"</span>
            </button>
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
