//! Email confirmation: "check your inbox" after registering (or signing in
//! before the link was used), and the page the mailed link opens. Using
//! the link is a button, not the page load: mail scanners that fetch every
//! link must not use it up.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::paths;
use crate::api::account::ConfirmEmail;
use crate::api::auth::{ResendVerification, VerifyEmail};
use crate::components::{field_error, submit_button, AuthCard, ErrorBanner, TextField};

#[component]
pub fn CheckInboxPage() -> impl IntoView {
    let query = use_query_map();
    let email = move || query.read().get("email").unwrap_or_default();
    let resend = ServerAction::<ResendVerification>::new();
    let err = Signal::derive(move || resend.value().get().and_then(Result::err));
    let sent = move || resend.value().get().and_then(Result::ok);
    view! {
        <Title text="Check your inbox"/>
        <AuthCard title="Check your inbox" subtitle="Confirm your email address to finish creating your account.">
            <p class="mb-4 text-sm" data-testid="check-inbox">
                {move || {
                    let to = email();
                    if to.is_empty() {
                        "We sent you a confirmation link. Open it within 24 hours; until then the account does not exist.".to_owned()
                    } else {
                        format!("We sent a confirmation link to {to}. Open it within 24 hours; until then the account does not exist.")
                    }
                }}
            </p>
            {move || sent().map(|to| view! {
                <div role="status" class="mb-4 rounded-lg border border-border px-3 py-2 text-sm" data-testid="resent">{format!("A new link is on its way to {to}.")}</div>
            })}
            <details class="text-sm">
                <summary class="cursor-pointer text-muted-foreground">"No mail? Send the link again"</summary>
                <ActionForm action=resend attr:class="mt-4 space-y-4" attr:novalidate="true">
                    <TextField label="Email" name="email" kind="email" autocomplete="username" value=email() required=true error=field_error(err, "email")/>
                    <TextField label="Password" name="password" kind="password" autocomplete="current-password" required=true
                        hint="The password you registered with." error=field_error(err, "password")/>
                    <ErrorBanner error=err/>
                    {submit_button("Send the link again", "Sending…", resend.pending().into(), "w-full")}
                </ActionForm>
            </details>
            <p class="mt-6 text-center text-sm text-muted-foreground">
                "Confirmed already? " <a href=paths::LOGIN class="link">"Sign in"</a>
            </p>
        </AuthCard>
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let verify = ServerAction::<VerifyEmail>::new();
    let err = Signal::derive(move || verify.value().get().and_then(Result::err));
    view! {
        <Title text="Confirm your email"/>
        <AuthCard title="Confirm your email" subtitle="One step left: confirm the address to create your account and sign in.">
            <ActionForm action=verify attr:class="space-y-4">
                <input type="hidden" name="token" value=token()/>
                <ErrorBanner error=err/>
                {submit_button("Confirm and sign in", "Confirming…", verify.pending().into(), "w-full")}
            </ActionForm>
            <p class="mt-6 text-center text-sm text-muted-foreground">
                "Link expired? " <a href=paths::REGISTER class="link">"Register again"</a>
            </p>
        </AuthCard>
    }
}

/// The link that confirms an existing account's address. It works only
/// while signed in as that account (see `service::email_confirmation`).
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let confirm = ServerAction::<ConfirmEmail>::new();
    let err = Signal::derive(move || confirm.value().get().and_then(Result::err));
    let done = move || matches!(confirm.value().get(), Some(Ok(())));
    view! {
        <Title text="Confirm your email address"/>
        <AuthCard title="Confirm your email address" subtitle="Confirm that this address belongs to the account you are signed in with.">
            <Show
                when=done
                fallback=move || view! {
                    <ActionForm action=confirm attr:class="space-y-4">
                        <input type="hidden" name="token" value=token()/>
                        <ErrorBanner error=err/>
                        {submit_button("Confirm my address", "Confirming…", confirm.pending().into(), "w-full")}
                    </ActionForm>
                    <p class="mt-6 text-center text-sm text-muted-foreground">
                        "Not signed in? " <a href=paths::LOGIN class="link">"Sign in"</a> " to the account first, then open the link again."
                    </p>
                }
            >
                <p role="status" class="text-sm">"Your email address is confirmed."</p>
                <p class="mt-6 text-center text-sm"><a href="/account" class="link">"Back to your account"</a></p>
            </Show>
        </AuthCard>
    }
}
