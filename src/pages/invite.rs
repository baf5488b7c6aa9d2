//! The invitee's page: who invites them, and the form that creates their
//! account in that organization.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::orgs::{preview_invitation, AcceptInvitation};
use crate::components::{field_error, submit_button, AsyncView, AuthCard, ErrorBanner, TextField};

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = Memo::new(move |_| params.with(|p| p.get("token").unwrap_or_default()));
    let preview = Resource::new(move || token.get(), preview_invitation);
    let accept = ServerAction::<AcceptInvitation>::new();
    let err = Signal::derive(move || accept.value().get().and_then(Result::err));
    view! {
        <Title text="Invitation"/>
        <AuthCard title="You are invited" subtitle="Create your NeoSC account to join.">
            <AsyncView resource=preview fallback=|| view! { <p class="text-sm text-muted-foreground" role="status">"Checking the link…"</p> } let:p>
                        <p class="mb-4 text-sm" data-testid="invite-summary">
                            {format!("Join “{}” as {} with ", p.organization, p.role.label().to_lowercase())}
                            <span class="font-medium">{p.email.clone()}</span>"."
                        </p>
                        <ActionForm action=accept attr:class="space-y-4" attr:novalidate="true">
                            <input type="hidden" name="token" value=token.get_untracked()/>
                            <TextField label="Name" name="name" autocomplete="name" required=true error=field_error(err, "name")/>
                            <TextField label="Password" name="password" kind="password" autocomplete="new-password" required=true
                                hint="At least 12 characters, not a common password." error=field_error(err, "password")/>
                            <ErrorBanner error=err/>
                            {submit_button("Join organization", "Joining…", accept.pending().into(), "w-full")}
                        </ActionForm>
            </AsyncView>
        </AuthCard>
    }
}
