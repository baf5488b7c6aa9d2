//! "Confirm it's you": shown where a change answered that it needs a
//! sign-in from the last minutes (API tokens, two-factor, linking SSO).
//! The password confirms in place; an account without one signs in at the
//! identity provider again, which asks for the sign-in anew (`reauth=1`).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::{field_error, submit_button, TextField};
use crate::api::account::Reauthenticate;
use crate::api::auth::sso_provider;

#[component]
pub fn ReauthForm() -> impl IntoView {
    let confirm = ServerAction::<Reauthenticate>::new();
    let err = Signal::derive(move || confirm.value().get().and_then(Result::err));
    let done = move || matches!(confirm.value().get(), Some(Ok(())));
    let provider = Resource::new(|| (), |_| sso_provider());
    let here = use_location().pathname;
    view! {
        <Show
            when=done
            fallback=move || view! {
                <div class="mt-3 space-y-3" data-testid="reauth">
                    <ActionForm action=confirm attr:class="flex flex-wrap items-end gap-3" attr:novalidate="true">
                        <div class="w-64">
                            <TextField
                                label="Your password"
                                name="password"
                                kind="password"
                                autocomplete="current-password"
                                required=true
                                error=field_error(err, "password")
                            />
                        </div>
                        {submit_button("Confirm", "Confirming…", confirm.pending().into(), "")}
                    </ActionForm>
                    {move || err.get().filter(|e| e.field.is_none()).map(|e| view! { <p role="alert" class="text-sm">{e.message}</p> })}
                    <Suspense fallback=|| ()>
                        {move || provider.get().and_then(Result::ok).flatten().map(|name| view! {
                            <form method="post" action="/auth/sso/start">
                                <input type="hidden" name="return_to" value=here.get_untracked()/>
                                <input type="hidden" name="reauth" value="1"/>
                                <button type="submit" class="btn btn-sm btn-secondary">{format!("Or sign in again with {name}")}</button>
                            </form>
                        })}
                    </Suspense>
                </div>
            }
        >
            <p role="status" class="mt-2 text-sm text-emerald-300">"Confirmed. Now try again."</p>
        </Show>
    }
}
