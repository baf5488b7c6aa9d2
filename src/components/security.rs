//! Forms shared by the account page and the sign-in steps: changing the
//! password and enrolling an authenticator app.

use leptos::prelude::*;

use super::{button_class, field_error, submit_button, Button, ErrorBanner, Size, TextField, Variant};
use crate::api::account::{BeginTotp, ChangePassword, ConfirmTotp};

fn primary_button(label: &'static str, busy_label: &'static str, pending: Signal<bool>) -> impl IntoView {
    submit_button(label, busy_label, pending, "")
}

/// Current and new password. On success every other session has ended.
#[component]
pub fn PasswordChangeForm() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let err = Signal::derive(move || action.value().get().and_then(Result::err));
    let done = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <ActionForm action=action attr:class="space-y-4 max-w-md" attr:novalidate="true">
            <TextField label="Current password" name="current_password" kind="password" autocomplete="current-password" required=true error=field_error(err, "current_password")/>
            <TextField
                label="New password"
                name="new_password"
                kind="password"
                autocomplete="new-password"
                required=true
                hint="At least 12 characters, not a common password."
                error=field_error(err, "new_password")
            />
            <ErrorBanner error=err/>
            <Show when=done>
                <p role="status" class="text-sm text-emerald-300">"Password changed. Your other sessions have been signed out."</p>
            </Show>
            {primary_button("Change password", "Changing…", action.pending().into())}
        </ActionForm>
    }
}

/// Enrols an authenticator app: QR code and secret, a code to confirm, then
/// the recovery codes, shown once.
#[component]
pub fn TotpEnrolment(#[prop(optional, into)] continue_href: Option<String>) -> impl IntoView {
    let begin = ServerAction::<BeginTotp>::new();
    let confirm = ServerAction::<ConfirmTotp>::new();
    let confirm_err = Signal::derive(move || confirm.value().get().and_then(Result::err));
    view! {
        {move || {
            if let Some(Ok(codes)) = confirm.value().get() {
                return view! { <RecoveryCodes codes continue_href=continue_href.clone()/> }.into_any();
            }
            match begin.value().get() {
                Some(Ok(setup)) => view! {
                    <div class="space-y-4">
                        <p class="text-sm text-muted-foreground">
                            "Scan this code with your authenticator app (or type the key), then enter the 6-digit code it shows."
                        </p>
                        <div class="flex flex-wrap items-start gap-6">
                            <div class="rounded-lg bg-white p-2" role="img" inner_html=setup.qr_svg aria-label="QR code for your authenticator app"></div>
                            <div class="space-y-2">
                                <p class="text-xs uppercase tracking-wide text-muted-foreground">"Setup key"</p>
                                <code class="block break-all rounded bg-input px-2 py-1 font-mono text-sm" data-testid="totp-secret">{setup.secret}</code>
                            </div>
                        </div>
                        <ActionForm action=confirm attr:class="flex flex-wrap items-end gap-3" attr:novalidate="true">
                            <div class="w-48">
                                <TextField label="Code from the app" name="code" autocomplete="one-time-code" required=true error=field_error(confirm_err, "code")/>
                            </div>
                            {primary_button("Turn on", "Checking…", confirm.pending().into())}
                        </ActionForm>
                        <ErrorBanner error=confirm_err/>
                    </div>
                }
                .into_any(),
                other => {
                    let err = other.and_then(Result::err);
                    view! {
                        <div class="space-y-3">
                            <ErrorBanner error=Signal::stored(err)/>
                            <Button busy=begin.pending() on_click=Callback::new(move |_| { begin.dispatch(BeginTotp {}); })>
                                "Set up authenticator app"
                            </Button>
                        </div>
                    }
                    .into_any()
                }
            }
        }}
    }
}

#[component]
fn RecoveryCodes(codes: Vec<String>, continue_href: Option<String>) -> impl IntoView {
    view! {
        <div class="space-y-3" data-testid="recovery-codes">
            <p class="text-sm font-medium text-emerald-300" role="status">"Two-factor authentication is on."</p>
            <p class="text-sm text-muted-foreground">
                "Save these recovery codes somewhere safe. Each works once if you lose your device. They will not be shown again."
            </p>
            <ul class="grid max-w-md grid-cols-2 gap-2 font-mono text-sm">
                {codes.into_iter().map(|c| view! { <li class="rounded bg-input px-2 py-1" data-testid="recovery-code">{c}</li> }).collect_view()}
            </ul>
            {continue_href.map(|href| view! {
                <a href=href class=button_class(Variant::Primary, Size::Md)>
                    "Continue to the console"
                </a>
            })}
        </div>
    }
}
