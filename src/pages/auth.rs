//! Sign-in and registration. Both are plain forms that also work before
//! the WASM has loaded; once hydrated they submit in place and keep what
//! the person typed when the server refuses it.

use leptos::prelude::*;
use leptos_meta::Title;

use super::paths;
use crate::api::account::CompleteMfa;
use crate::api::auth::{sso_provider, Login, Logout, Register};
use crate::components::{field_error, submit_button, AuthCard, ErrorBanner, TextField};
use crate::model::SsoRefusal;

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let err = Signal::derive(move || action.value().get().and_then(Result::err));
    let sso = Resource::new(|| (), |_| sso_provider());
    let query = leptos_router::hooks::use_query_map();
    // A failed SSO sign-in comes back here with the code of its reason.
    let sso_error = move || query.read().get("sso_error").map(|code| SsoRefusal::from_code(&code).message());
    view! {
        <Title text="Sign in"/>
        <AuthCard title="Sign in" subtitle="Welcome back to the NeoSC console.">
            {move || sso_error().map(|message| view! {
                <div role="alert" class="alert-error mb-4" data-testid="sso-error">
                    {message}
                </div>
            })}
            <Suspense fallback=|| ()>
                {move || sso.get().and_then(Result::ok).flatten().map(|name| view! {
                    // A plain form: it works before the WASM has loaded, and
                    // the server answers with the redirect to the provider.
                    <form method="post" action="/auth/sso/start" class="mb-6">
                        <button type="submit" class="btn btn-md btn-secondary w-full">
                            {format!("Sign in with {name}")}
                        </button>
                    </form>
                    <div class="mb-6 flex items-center gap-3 text-xs text-muted-foreground">
                        <span class="h-px flex-1 bg-border" aria-hidden="true"></span>"or with your password"<span class="h-px flex-1 bg-border" aria-hidden="true"></span>
                    </div>
                })}
            </Suspense>
            <ActionForm action=action attr:class="space-y-4" attr:novalidate="true">
                <TextField label="Email" name="email" kind="email" autocomplete="username" required=true error=field_error(err, "email")/>
                <TextField label="Password" name="password" kind="password" autocomplete="current-password" required=true error=field_error(err, "password")/>
                <ErrorBanner error=err/>
                {submit_button("Sign in", "Signing in…", action.pending().into(), "w-full")}
            </ActionForm>
            <p class="mt-6 text-center text-sm text-muted-foreground">
                "No account yet? " <a href=paths::REGISTER class="link">"Create one"</a>
            </p>
        </AuthCard>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let err = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Create account"/>
        <AuthCard title="Create your account" subtitle="Join your organization, or start a new one.">
            <ActionForm action=action attr:class="space-y-4" attr:novalidate="true">
                <TextField label="Name" name="name" autocomplete="name" required=true error=field_error(err, "name")/>
                <TextField label="Work email" name="email" kind="email" autocomplete="email" required=true error=field_error(err, "email")/>
                <TextField
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    required=true
                    hint="At least 12 characters. A passphrase works well."
                    error=field_error(err, "password")
                />
                <TextField
                    label="Organization (optional)"
                    name="organization"
                    autocomplete="organization"
                    hint="Leave empty to join the organization of your email's domain. A new name creates that organization with you as its admin."
                    error=field_error(err, "organization")
                />
                <ErrorBanner error=err/>
                {submit_button("Create account", "Creating account…", action.pending().into(), "w-full")}
            </ActionForm>
            <p class="mt-6 text-center text-sm text-muted-foreground">
                "Already have an account? " <a href=paths::LOGIN class="link">"Sign in"</a>
            </p>
        </AuthCard>
    }
}

/// The second step of sign-in for accounts with MFA.
#[component]
pub fn MfaStepPage() -> impl IntoView {
    let action = ServerAction::<CompleteMfa>::new();
    let restart = ServerAction::<Logout>::new();
    let err = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Two-factor authentication"/>
        <AuthCard title="Two-factor authentication" subtitle="Enter the 6-digit code from your authenticator app, or one of your recovery codes.">
            <ActionForm action=action attr:class="space-y-4" attr:novalidate="true">
                <TextField label="Authentication code" name="code" autocomplete="one-time-code" required=true error=field_error(err, "code")/>
                <ErrorBanner error=err/>
                {submit_button("Verify", "Verifying…", action.pending().into(), "w-full")}
            </ActionForm>
            <ActionForm action=restart attr:class="mt-6 text-center">
                <button type="submit" class="rounded-md text-sm text-muted-foreground underline underline-offset-2 hover:text-foreground">"Cancel and sign in as someone else"</button>
            </ActionForm>
        </AuthCard>
    }
}
