//! The account page (profile, password, two-factor, sessions, API tokens)
//! and the two pages a sign-in may have to pass first: enrolling MFA when
//! the organization requires it, and replacing a one-time password.

use leptos::prelude::*;
use leptos_meta::Title;

use super::paths;
use crate::api::account::{
    get_mfa_status, list_sessions, list_tokens, CreateToken, DisableMfa, EndSession, RequestEmailConfirmation, RevokeToken,
};
use crate::api::auth::sso_provider;
use crate::components::{
    field_error, submit_button, use_current_user, AsyncView, AuthCard, Badge, Button, Card, Column, ConsoleLayout, DataTable, ErrorBanner,
    PageHeader, PasswordChangeForm, ReauthForm, Size, TextField, Tone, TotpEnrolment, Variant, CELL_ACTIONS,
};
use crate::model::{ApiTokenView, MfaStatus, SessionView, SsoRefusal};

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Account"/>
        <ConsoleLayout>
            <PageHeader title="Account"/>
            <div class="space-y-6">
                <Profile/>
                <Card title="Password" subtitle="Changing it signs you out everywhere else.">
                    <PasswordChangeForm/>
                </Card>
                <TwoFactor/>
                <SingleSignOn/>
                <Sessions/>
                <ApiTokens/>
            </div>
        </ConsoleLayout>
    }
}

#[component]
fn Profile() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Card title="Profile" subtitle="Who you are in NeoSC.">
            <Transition fallback=crate::components::loading>
                {move || user.get().map(|u| view! {
                    <dl class="grid gap-x-8 gap-y-3 text-sm sm:grid-cols-[max-content_1fr]">
                        <dt class="text-muted-foreground">"Name"</dt><dd>{u.name}</dd>
                        <dt class="text-muted-foreground">"Email"</dt>
                        <dd>{u.email}{if u.email_verified { None } else { Some(view! { <ConfirmAddress/> }) }}</dd>
                        <dt class="text-muted-foreground">"Organization"</dt><dd>{u.organization}</dd>
                        <dt class="text-muted-foreground">"Role"</dt><dd>{u.role.label()}</dd>
                    </dl>
                })}
            </Transition>
        </Card>
    }
}

/// "Link Zitadel account": shown when SSO is configured and the account has
/// no identity at the provider yet. A plain form, like the sign-in page's:
/// the server answers with the redirect to the provider.
#[component]
fn SingleSignOn() -> impl IntoView {
    let user = use_current_user();
    let provider = Resource::new(|| (), |_| sso_provider());
    // A refused link comes back here as `?sso_error=…`.
    let query = leptos_router::hooks::use_query_map();
    let refused = move || {
        query.read().get("sso_error").map(|code| {
            let refusal = SsoRefusal::from_code(&code);
            let reauth = (refusal == SsoRefusal::ReauthRequired).then(|| view! { <ReauthForm/> });
            view! { <div role="alert" class="alert-error mb-3">{refusal.message()}{reauth}</div> }
        })
    };
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let name = provider.get().and_then(Result::ok).flatten()?;
                let linked = user.get()?.sso_linked;
                Some(view! {
                    <Card title="Single sign-on" subtitle=format!("Sign in with your {name} account instead of your password.")>
                        {refused}
                        {if linked {
                            view! { <p class="text-sm">{format!("Linked to your {name} account.")}</p> }.into_any()
                        } else {
                            view! {
                                <form method="post" action="/auth/sso/link">
                                    <button type="submit" class="btn btn-md btn-secondary">{format!("Link {name} account")}</button>
                                </form>
                            }.into_any()
                        }}
                    </Card>
                })
            }}
        </Suspense>
    }
}

/// An address nobody confirmed counts for nothing that rests on it (SSO
/// linking, domains): offer the mailed link.
#[component]
fn ConfirmAddress() -> impl IntoView {
    let send = ServerAction::<RequestEmailConfirmation>::new();
    let err = Signal::derive(move || send.value().get().and_then(Result::err));
    let sent = move || matches!(send.value().get(), Some(Ok(true)));
    view! {
        <div class="mt-2 space-y-2">
            <p class="text-muted-foreground">"Not confirmed: until you confirm it, this address does not link to single sign-on."</p>
            <ErrorBanner error=err/>
            <Show when=sent fallback=move || view! {
                <ActionForm action=send>
                    {submit_button("Send me a confirmation link", "Sending…", send.pending().into(), "")}
                </ActionForm>
            }>
                <p role="status">"Sent. Open the link in the mail while signed in here."</p>
            </Show>
        </div>
    }
}

#[component]
fn TwoFactor() -> impl IntoView {
    let disable = ServerAction::<DisableMfa>::new();
    let status = Resource::new(move || disable.version().get(), |_| get_mfa_status());
    let err = Signal::derive(move || disable.value().get().and_then(Result::err));
    view! {
        <Card title="Two-factor authentication" subtitle="A code from an authenticator app at every sign-in.">
            <AsyncView resource=status let:s>
                <MfaState status=s disable err/>
            </AsyncView>
        </Card>
    }
}

#[component]
fn MfaState(status: MfaStatus, disable: ServerAction<DisableMfa>, err: Signal<Option<crate::model::AppError>>) -> impl IntoView {
    if !status.enabled {
        return view! { <TotpEnrolment/> }.into_any();
    }
    let turn_off = (!status.required_by_organization).then(|| view! {
        <ActionForm action=disable attr:class="flex flex-wrap items-end gap-3" attr:novalidate="true">
            <div class="w-56">
                <TextField label="Code or recovery code" name="code" autocomplete="one-time-code" required=true error=field_error(err, "code")/>
            </div>
            <Button submit=true variant=Variant::Danger busy=disable.pending()>"Turn off"</Button>
        </ActionForm>
        <ErrorBanner error=err/>
    });
    view! {
        <div class="space-y-4" data-testid="mfa-on">
            <p class="text-sm"><span class="font-medium text-emerald-300">"On."</span>" "{format!("{} recovery codes left.", status.recovery_codes_left)}</p>
            {match turn_off {
                Some(form) => form.into_any(),
                None => view! { <p class="text-sm text-muted-foreground">"Your organization requires it, so it cannot be turned off."</p> }.into_any(),
            }}
        </div>
    }
    .into_any()
}

#[component]
fn Sessions() -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let sessions = Resource::new(move || end.version().get(), |_| list_sessions());
    let columns = vec![Column::new("Signed in"), Column::new("Last seen"), Column::new("IP"), Column::new("Device"), Column::actions()];
    view! {
        <Card title="Sessions" subtitle="Where you are signed in. End any session you do not recognise.">
            <AsyncView resource=sessions let:list>
                <DataTable caption="Your sessions" columns=columns.clone() testid="sessions" framed=false busy=end.pending()>
                    {list.into_iter().map(|session| view! { <SessionRow session end/> }).collect_view()}
                </DataTable>
            </AsyncView>
        </Card>
    }
}

#[component]
fn SessionRow(session: SessionView, end: ServerAction<EndSession>) -> impl IntoView {
    let id = session.id;
    let device = session.user_agent.clone().unwrap_or_else(|| session.kind.as_str().to_owned());
    let device_title = device.clone();
    let action = if session.current {
        view! { <Badge tone=Tone::Primary>"This session"</Badge> }.into_any()
    } else {
        view! {
            <Button variant=Variant::Danger size=Size::Sm on_click=Callback::new(move |_| { end.dispatch(EndSession { id }); })>
                "End session"
            </Button>
        }
        .into_any()
    };
    view! {
        <tr data-testid="session-row" data-current=session.current.to_string()>
            <td class="whitespace-nowrap px-4 py-2">{when(session.created_at)}</td>
            <td class="whitespace-nowrap px-4 py-2">{when(session.last_seen_at)}</td>
            <td class="px-4 py-2">{session.ip.unwrap_or_default()}</td>
            <td class="max-w-xs truncate px-4 py-2 text-muted-foreground" title=device_title>{device}</td>
            <td class=CELL_ACTIONS>{action}</td>
        </tr>
    }
}

#[component]
fn ApiTokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    let err = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <Card title="API tokens" subtitle="For scripts and API clients: send as Authorization: Bearer. Shown once when created.">
            <ActionForm action=create attr:class="mb-4 flex flex-wrap items-end gap-3" attr:novalidate="true">
                <div class="w-64"><TextField label="Token name" name="name" required=true error=field_error(err, "name")/></div>
                <div class="space-y-1.5">
                    <label for="token-expiry" class="block text-sm font-medium">"Expires"</label>
                    <select id="token-expiry" name="expires_in_days" class="select">
                        <option value="30">"in 30 days"</option>
                        <option value="90" selected=true>"in 90 days"</option>
                        <option value="365">"in a year"</option>
                    </select>
                </div>
                {submit_button("Create token", "Creating…", create.pending().into(), "")}
            </ActionForm>
            <ErrorBanner error=err/>
            {move || create.value().get().and_then(Result::ok).map(|t| view! {
                <div class="mb-4 rounded-lg border border-primary/40 bg-primary/10 p-3 text-sm" data-testid="new-token" role="status">
                    <p class="mb-1">"Copy your new token now; it will not be shown again:"</p>
                    <code class="block break-all font-mono">{t.token}</code>
                </div>
            })}
            <AsyncView resource=tokens fallback=|| () let:list>
                {if list.is_empty() {
                    view! { <p class="text-sm text-muted-foreground">"No tokens yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-border text-sm" data-testid="tokens" aria-label="Your API tokens">
                            {list.into_iter().map(|token| view! { <TokenRow token revoke/> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </AsyncView>
        </Card>
    }
}

#[component]
fn TokenRow(token: ApiTokenView, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    let id = token.id;
    let expiry = token.expires_at.map(|e| format!("expires {}", when(e))).unwrap_or_else(|| "never expires".into());
    let used = token.last_used_at.map(|u| format!("last used {}", when(u))).unwrap_or_else(|| "never used".into());
    view! {
        <li class="flex items-center justify-between gap-4 py-2" data-testid="token-row">
            <div>
                <p class="font-medium">{token.name.clone()}</p>
                <p class="text-xs text-muted-foreground">{format!("created {} · {expiry} · {used}", when(token.created_at))}</p>
            </div>
            <Button variant=Variant::Danger size=Size::Sm on_click=Callback::new(move |_| { revoke.dispatch(RevokeToken { id }); })>
                "Revoke"
            </Button>
        </li>
    }
}

/// Shown instead of the console until the member enrols, when their
/// organization requires MFA.
#[component]
pub fn MfaRequiredPage() -> impl IntoView {
    view! {
        <Title text="Set up two-factor authentication"/>
        <AuthCard title="Set up two-factor authentication" subtitle="Your organization requires a second factor before you continue.">
            <TotpEnrolment continue_href=paths::ORGANIZATIONS/>
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
