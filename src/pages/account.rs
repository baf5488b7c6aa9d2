//! The account page (profile, password, two-factor, sessions, API tokens)
//! and the two pages a sign-in may have to pass first: enrolling MFA when
//! the organization requires it, and replacing a one-time password.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{get_mfa_status, list_sessions, list_tokens, CreateToken, DisableMfa, EndSession, RevokeToken};
use crate::api::auth::current_user;
use crate::components::{field_error, primary_button, AuthCard, ConsoleLayout, ErrorBanner, PasswordChangeForm, TextField, TotpEnrolment};

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[component]
fn Section(title: &'static str, #[prop(into)] subtitle: String, children: Children) -> impl IntoView {
    view! {
        <section class="rounded-xl border border-border bg-card p-6">
            <h2 class="text-lg font-semibold">{title}</h2>
            <p class="mb-5 mt-1 text-sm text-muted-foreground">{subtitle}</p>
            {children()}
        </section>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Account"/>
        <ConsoleLayout>
            <h1 class="mb-8 text-3xl font-bold tracking-tight">"Account"</h1>
            <div class="space-y-6">
                <Profile/>
                <Section title="Password" subtitle="Changing it signs you out everywhere else.">
                    <PasswordChangeForm/>
                </Section>
                <TwoFactor/>
                <Sessions/>
                <ApiTokens/>
            </div>
        </ConsoleLayout>
    }
}

#[component]
fn Profile() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Section title="Profile" subtitle="Who you are in NeoSC.">
            <Suspense fallback=|| view! { <p class="text-sm text-muted-foreground">"Loading…"</p> }>
                {move || user.get().and_then(Result::ok).flatten().map(|u| view! {
                    <dl class="grid gap-x-8 gap-y-3 text-sm sm:grid-cols-[max-content_1fr]">
                        <dt class="text-muted-foreground">"Name"</dt><dd>{u.name}</dd>
                        <dt class="text-muted-foreground">"Email"</dt><dd>{u.email}</dd>
                        <dt class="text-muted-foreground">"Organization"</dt><dd>{u.organization}</dd>
                        <dt class="text-muted-foreground">"Role"</dt><dd>{u.role.label()}</dd>
                    </dl>
                })}
            </Suspense>
        </Section>
    }
}

#[component]
fn TwoFactor() -> impl IntoView {
    let disable = ServerAction::<DisableMfa>::new();
    let status = Resource::new(move || disable.version().get(), |_| get_mfa_status());
    let err = Signal::derive(move || disable.value().get().and_then(Result::err));
    view! {
        <Section title="Two-factor authentication" subtitle="A code from an authenticator app at every sign-in.">
            <Suspense fallback=|| view! { <p class="text-sm text-muted-foreground">"Loading…"</p> }>
                {move || status.get().and_then(Result::ok).map(|s| {
                    if s.enabled {
                        let locked = s.required_by_organization;
                        view! {
                            <div class="space-y-4" data-testid="mfa-on">
                                <p class="text-sm"><span class="font-medium text-emerald-400">"On."</span>" "{format!("{} recovery codes left.", s.recovery_codes_left)}</p>
                                {if locked {
                                    view! { <p class="text-sm text-muted-foreground">"Your organization requires it, so it cannot be turned off."</p> }.into_any()
                                } else {
                                    view! {
                                        <ActionForm action=disable attr:class="flex flex-wrap items-end gap-3" attr:novalidate="true">
                                            <div class="w-56">
                                                <TextField label="Code or recovery code" name="code" autocomplete="one-time-code" required=true error=field_error(err, "code")/>
                                            </div>
                                            <button type="submit" class="rounded-lg border border-destructive/50 px-4 py-2 text-sm text-destructive hover:bg-destructive/10">"Turn off"</button>
                                        </ActionForm>
                                        <ErrorBanner error=err/>
                                    }.into_any()
                                }}
                            </div>
                        }.into_any()
                    } else {
                        view! { <TotpEnrolment/> }.into_any()
                    }
                })}
            </Suspense>
        </Section>
    }
}

#[component]
fn Sessions() -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let sessions = Resource::new(move || end.version().get(), |_| list_sessions());
    view! {
        <Section title="Sessions" subtitle="Where you are signed in. End any session you do not recognise.">
            <Suspense fallback=|| view! { <p class="text-sm text-muted-foreground">"Loading…"</p> }>
                {move || sessions.get().and_then(Result::ok).map(|list| view! {
                    <div class="overflow-x-auto">
                        <table class="w-full text-left text-sm" data-testid="sessions">
                            <thead class="text-xs uppercase text-muted-foreground">
                                <tr><th class="py-2 pr-4">"Signed in"</th><th class="py-2 pr-4">"Last seen"</th><th class="py-2 pr-4">"IP"</th><th class="py-2 pr-4">"Device"</th><th></th></tr>
                            </thead>
                            <tbody class="divide-y divide-border">
                                {list.into_iter().map(|s| {
                                    let id = s.id;
                                    let device = s.user_agent.clone().unwrap_or_else(|| s.kind.as_str().to_owned());
                                    let device_title = device.clone();
                                    view! {
                                        <tr data-testid="session-row" data-current=s.current.to_string()>
                                            <td class="py-2 pr-4 whitespace-nowrap">{when(s.created_at)}</td>
                                            <td class="py-2 pr-4 whitespace-nowrap">{when(s.last_seen_at)}</td>
                                            <td class="py-2 pr-4">{s.ip.unwrap_or_default()}</td>
                                            <td class="max-w-xs truncate py-2 pr-4 text-muted-foreground" title=device_title>{device}</td>
                                            <td class="py-2 text-right">
                                                {if s.current {
                                                    view! { <span class="rounded-full bg-primary/15 px-2 py-0.5 text-xs text-primary">"This session"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <button type="button" class="text-sm text-destructive hover:underline" on:click=move |_| { end.dispatch(EndSession { id }); }>
                                                            "End session"
                                                        </button>
                                                    }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                })}
            </Suspense>
        </Section>
    }
}

#[component]
fn ApiTokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    let err = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <Section title="API tokens" subtitle="For scripts and API clients: send as Authorization: Bearer. Shown once when created.">
            <ActionForm action=create attr:class="mb-4 flex flex-wrap items-end gap-3" attr:novalidate="true">
                <div class="w-64"><TextField label="Token name" name="name" required=true error=field_error(err, "name")/></div>
                <div class="space-y-1.5">
                    <label for="token-expiry" class="block text-sm font-medium">"Expires"</label>
                    <select id="token-expiry" name="expires_in_days" class="rounded-lg border border-border bg-input px-3 py-2 text-sm">
                        <option value="30">"in 30 days"</option>
                        <option value="90">"in 90 days"</option>
                        <option value="365">"in a year"</option>
                        <option value="">"never"</option>
                    </select>
                </div>
                {primary_button("Create token", "Creating…", create.pending().into())}
            </ActionForm>
            <ErrorBanner error=err/>
            {move || create.value().get().and_then(Result::ok).map(|t| view! {
                <div class="mb-4 rounded-lg border border-primary/40 bg-primary/10 p-3 text-sm" data-testid="new-token">
                    <p class="mb-1">"Copy your new token now; it will not be shown again:"</p>
                    <code class="block break-all font-mono">{t.token}</code>
                </div>
            })}
            <Suspense fallback=|| ()>
                {move || tokens.get().and_then(Result::ok).map(|list| {
                    if list.is_empty() {
                        return view! { <p class="text-sm text-muted-foreground">"No tokens yet."</p> }.into_any();
                    }
                    view! {
                        <ul class="divide-y divide-border text-sm" data-testid="tokens">
                            {list.into_iter().map(|t| {
                                let id = t.id;
                                let expiry = t.expires_at.map(|e| format!("expires {}", when(e))).unwrap_or_else(|| "never expires".into());
                                let used = t.last_used_at.map(|u| format!("last used {}", when(u))).unwrap_or_else(|| "never used".into());
                                view! {
                                    <li class="flex items-center justify-between gap-4 py-2" data-testid="token-row">
                                        <div>
                                            <p class="font-medium">{t.name}</p>
                                            <p class="text-xs text-muted-foreground">{format!("created {} · {expiry} · {used}", when(t.created_at))}</p>
                                        </div>
                                        <button type="button" class="text-sm text-destructive hover:underline" on:click=move |_| { revoke.dispatch(RevokeToken { id }); }>"Revoke"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })}
            </Suspense>
        </Section>
    }
}

/// Shown instead of the console until the member enrols, when their
/// organization requires MFA.
#[component]
pub fn MfaRequiredPage() -> impl IntoView {
    view! {
        <Title text="Set up two-factor authentication"/>
        <AuthCard title="Set up two-factor authentication" subtitle="Your organization requires a second factor before you continue.">
            <TotpEnrolment continue_href="/organizations"/>
        </AuthCard>
    }
}

/// Shown after signing in with a one-time password from an operator.
#[component]
pub fn PasswordRequiredPage() -> impl IntoView {
    view! {
        <Title text="Choose a new password"/>
        <AuthCard title="Choose a new password" subtitle="You signed in with a one-time password. Choose your own to continue.">
            <PasswordChangeForm/>
        </AuthCard>
    }
}
