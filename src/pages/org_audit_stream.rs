//! The SIEM stream panel of the Audit tab: where the organization's events
//! are pushed, how far delivery got (last delivered seq, lag, failures),
//! and setting it up, pausing it or removing it. The secret is shown once,
//! when it is made.

use leptos::prelude::*;

use crate::api::audit_stream::{get_audit_stream, CreateAuditStream, DeleteAuditStream, UpdateAuditStream};
use crate::components::{field_error, submit_button, AsyncView, Badge, Card, ErrorBanner, TextField, Tone};
use crate::model::AuditStream;

#[component]
pub fn AuditStreamPanel(org_id: String) -> impl IntoView {
    let create = ServerAction::<CreateAuditStream>::new();
    let update = ServerAction::<UpdateAuditStream>::new();
    let delete = ServerAction::<DeleteAuditStream>::new();
    let org = StoredValue::new(org_id);
    let stream = Resource::new(
        move || (create.version().get(), update.version().get(), delete.version().get()),
        move |_| get_audit_stream(org.get_value()),
    );
    let secret = Signal::derive(move || create.value().get().and_then(Result::ok).map(|c| c.secret));
    let create_err = Signal::derive(move || create.value().get().and_then(Result::err));
    let change_err =
        Signal::derive(move || update.value().get().and_then(Result::err).or_else(|| delete.value().get().and_then(Result::err)));
    view! {
        <Card title="Streaming to your SIEM" subtitle="Every event, in order, signed with HMAC-SHA256, to one HTTPS address of yours. Delivery resumes where it stopped.">
            <div data-testid="audit-stream">
                <AsyncView resource=stream let:current>
                    {match current {
                        Some(s) => view! { <StreamState stream=s org=org.get_value() update delete/> }.into_any(),
                        None => view! {
                            <ActionForm action=create attr:class="max-w-xl space-y-3" attr:novalidate="true">
                                <input type="hidden" name="org" value=org.get_value()/>
                                <TextField label="Receiver URL" name="url" kind="url" placeholder="https://siem.example.com/neosc"
                                    required=true autocomplete="off" error=field_error(create_err, "url")/>
                                <label class="flex items-center gap-2 text-sm">
                                    <input type="checkbox" name="from_beginning" value="true" class="h-4 w-4 accent-cyan-400"/>
                                    "Send the whole log first (otherwise only new events)"
                                </label>
                                <ErrorBanner error=create_err/>
                                {submit_button("Start streaming", "Starting…", create.pending().into(), "")}
                            </ActionForm>
                        }.into_any(),
                    }}
                </AsyncView>
                {move || secret.get().map(|s| view! {
                    <div role="status" class="mt-3 rounded-lg border border-border p-3 text-sm">
                        <p class="font-medium">"The signing secret, shown this once: give it to your SIEM to check signatures."</p>
                        <p class="mt-1 break-all font-mono" data-testid="stream-secret">{s}</p>
                    </div>
                })}
                <ErrorBanner error=change_err/>
            </div>
        </Card>
    }
}

#[component]
fn StreamState(
    stream: AuditStream,
    org: String,
    update: ServerAction<UpdateAuditStream>,
    delete: ServerAction<DeleteAuditStream>,
) -> impl IntoView {
    let enabled = stream.enabled;
    let (state, tone) = match (enabled, stream.failures) {
        (false, _) => ("Paused".to_owned(), Tone::Neutral),
        (true, 0) => ("Delivering".to_owned(), Tone::Success),
        (true, n) => (format!("Failing ({n} in a row)"), Tone::Danger),
    };
    let toggle = {
        let org = org.clone();
        move |_| {
            update.dispatch(UpdateAuditStream {
                org: org.clone(),
                url: None,
                enabled: Some(if enabled { "false" } else { "true" }.to_owned()),
                start_seq: None,
            });
        }
    };
    let remove = move |_| {
        if window().confirm_with_message("Stop streaming and forget this receiver?").unwrap_or(false) {
            delete.dispatch(DeleteAuditStream { org: org.clone() });
        }
    };
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    view! {
        <dl class="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
            <dt class="text-muted-foreground">"Receiver"</dt><dd class="break-all font-mono">{stream.url.clone()}</dd>
            <dt class="text-muted-foreground">"State"</dt><dd><Badge tone>{state}</Badge></dd>
            <dt class="text-muted-foreground">"Delivered"</dt>
            <dd data-testid="stream-progress">{format!("up to #{} of #{} · {} behind", stream.last_delivered_seq, stream.head_seq, stream.lag)}</dd>
            {when(stream.last_delivered_at).map(|t| view! { <dt class="text-muted-foreground">"Last delivery"</dt><dd>{t}</dd> })}
            {stream.last_error.clone().map(|e| view! { <dt class="text-muted-foreground">"Last error"</dt><dd class="text-destructive">{e}</dd> })}
            {when(stream.next_attempt_at).filter(|_| stream.failures > 0).map(|t| view! { <dt class="text-muted-foreground">"Next attempt"</dt><dd>{t}</dd> })}
        </dl>
        <div class="mt-3 flex gap-2">
            <button type="button" class="btn btn-sm btn-secondary" on:click=toggle>{if enabled { "Pause" } else { "Resume" }}</button>
            <button type="button" class="btn btn-sm btn-danger" on:click=remove>"Remove"</button>
        </div>
    }
}
