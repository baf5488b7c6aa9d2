//! The Audit tab of an organization (`/organizations/{id}/audit`): the
//! organization's events newest first, searched with a query bar whose text
//! lives in the URL (`?q=`), each event worded for people and openable to
//! its details and hash; the chain's verification; CSV and JSON Lines
//! exports of what the search finds.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::org_audit_stream::AuditStreamPanel;
use crate::api::audit::list_audit_events;
use crate::api::audit_status::get_audit_chain_status;
use crate::components::{AsyncView, Badge, Card, Column, DataTable, EmptyState, IconKind, Tone, CELL, CELL_MUTED};
use crate::model::audit_query::{self, QUALIFIERS};
use crate::model::{AuditEvent, AuditFilter, AuditOutcome};

/// What one action reads as, after the actor's name; `{t}` is the target.
fn phrase(action: &str) -> &'static str {
    match action {
        "create_organization" => "created the organization {t}",
        "update_organization" => "changed the settings of {t}",
        "add_user_to_org" => "added {t} to the organization",
        "remove_user_from_org" => "removed {t} from the organization",
        "suspend_organization" => "suspended {t}",
        "activate_organization" => "reactivated {t}",
        "invite_user" => "invited {t}",
        "revoke_invitation" => "revoked the invitation of {t}",
        "change_user_role" => "changed the role of {t}",
        "login" => "signed in",
        "login_failed" => "failed to sign in",
        "login_throttled" => "was stopped from signing in (too many attempts)",
        "mfa_failed" => "gave a wrong two-factor code",
        "mfa_enabled" => "turned on two-factor authentication",
        "mfa_disabled" => "turned off two-factor authentication",
        "recovery_code_used" => "signed in with a recovery code",
        "change_password" => "changed their password",
        "reset_password" => "reset the password of {t}",
        "end_session" => "ended a session",
        "end_user_sessions" => "ended every session of {t}",
        "create_api_token" => "created an API token",
        "revoke_api_token" => "revoked an API token",
        "disable_user" => "disabled {t}",
        "enable_user" => "enabled {t}",
        "cross_org_access_denied" => "was refused access to another organization",
        "permission_denied" => "was refused an admin's operation",
        "logout" => "signed out",
        "create_workspace" => "created the workspace {t}",
        "start_workspace" => "started {t}",
        "stop_workspace" => "stopped {t}",
        "resize_workspace" => "resized {t}",
        "update_workspace" => "changed {t}",
        "suspend_workspace" => "suspended {t}",
        "resume_workspace" => "resumed {t}",
        "delete_workspace" => "deleted {t}",
        "workspace_failed" => "reported {t} as failed",
        "update_quota" => "changed the quotas",
        "create_workspace_template" => "added the template {t}",
        "sso_login" => "signed in through SSO",
        "sso_login_failed" => "failed to sign in through SSO",
        "link_sso_identity" => "linked an SSO identity to {t}",
        "add_domain" => "added the domain {t}",
        "verify_domain" => "verified the domain {t}",
        "verify_domain_failed" => "could not verify the domain {t}",
        "remove_domain" => "removed the domain {t}",
        "confirm_email" => "confirmed the address of {t}",
        "reauthenticate" => "confirmed their password again",
        "reauthentication_failed" => "gave a wrong password when confirming it",
        "purge_audit_events" => "purged audit events past the retention period",
        "export_audit_log" => "exported the audit log",
        _ => "",
    }
}

fn actor_name(e: &AuditEvent) -> String {
    match (e.actor.kind.as_str(), &e.actor.email) {
        (_, Some(email)) => email.clone(),
        ("operator", None) => "An operator".into(),
        ("system", None) => "NeoSC".into(),
        _ => "Someone".into(),
    }
}

/// "Ada removed Bob from the organization": the sentence a row shows.
pub fn describe(e: &AuditEvent) -> String {
    let target = e.target.as_ref().map(|t| t.name.clone().unwrap_or_else(|| t.id.clone())).unwrap_or_default();
    let phrase = phrase(&e.action);
    let what = if phrase.is_empty() {
        format!("did {}{}", e.action.replace('_', " "), if target.is_empty() { String::new() } else { format!(" on {target}") })
    } else {
        phrase.replace("{t}", &target)
    };
    format!("{} {what}", actor_name(e))
}

fn outcome_badge(outcome: AuditOutcome) -> impl IntoView {
    let tone = match outcome {
        AuditOutcome::Success => Tone::Success,
        AuditOutcome::Denied | AuditOutcome::Failure => Tone::Danger,
    };
    view! { <Badge tone>{outcome.as_str()}</Badge> }
}

/// The export URL of the current search.
fn export_href(org_id: &str, filter: &AuditFilter, format: &str) -> String {
    let mut q = vec![("format".to_owned(), format.to_owned())];
    let stamp = |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (k, v) in [
        ("action", filter.action.clone()),
        ("actor", filter.actor.clone()),
        ("target", filter.target.clone()),
        ("outcome", filter.outcome.map(|o| o.as_str().to_owned())),
        ("ip", filter.ip.clone()),
        ("from", filter.from.as_ref().map(stamp)),
        ("to", filter.to.as_ref().map(stamp)),
    ] {
        if let Some(v) = v {
            q.push((k.to_owned(), v));
        }
    }
    let query: Vec<String> = q.into_iter().map(|(k, v)| format!("{k}={}", urlencode(&v))).collect();
    format!("/api/organizations/{org_id}/audit/export?{}", query.join("&"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn OrgAudit(org_id: String) -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|m| m.get("q").unwrap_or_default()));
    let parsed = Memo::new(move |_| audit_query::parse(&q.get()));
    // The cursors of the pages shown before this one, so "Newer" can go
    // back; a new search starts again at the newest.
    let cursor = RwSignal::new(None::<i64>);
    let history = RwSignal::new(Vec::<Option<i64>>::new());
    Effect::new(move |_| {
        q.track();
        cursor.set(None);
        history.set(Vec::new());
    });
    let id = StoredValue::new(org_id.clone());
    let page = Resource::new(
        move || (parsed.get().ok(), cursor.get()),
        move |(filter, before)| {
            let id = id.get_value();
            async move {
                let filter = AuditFilter { before, ..filter.unwrap_or_default() };
                list_audit_events(id, filter).await
            }
        },
    );
    let status = Resource::new(|| (), move |_| get_audit_chain_status(id.get_value()));
    let query_error = Signal::derive(move || parsed.get().err().map(|e| e.0));
    let filter = Signal::derive(move || parsed.get().unwrap_or_default());
    let columns = vec![Column::new("When"), Column::new("Event"), Column::new("Outcome"), Column::new("Address")];
    view! {
        <div class="space-y-4">
            <Card title="Audit log" subtitle="Every change and every refusal in this organization, newest first. Each event is chained to the one before it by its hash.">
                <div class="mb-4 text-sm" data-testid="chain-status" aria-live="polite">
                    <AsyncView resource=status let:s>
                        {if s.intact {
                            view! {
                                <p class="flex flex-wrap items-center gap-2">
                                    <Badge tone=Tone::Success>"Chain intact"</Badge>
                                    <span>{format!("verified up to #{}", s.head_seq)}</span>
                                    <span class="text-muted-foreground">{match &s.last_checkpoint {
                                        Some(day) => format!("· last signed checkpoint {day}"),
                                        None => "· no signed checkpoint yet".to_owned(),
                                    }}</span>
                                </p>
                            }.into_any()
                        } else {
                            view! {
                                <p role="alert" class="alert-error">
                                    {format!("The chain is broken at #{}: {}. Someone changed the stored events; keep your exports and checkpoints and tell your platform operator.",
                                        s.first_broken_seq.unwrap_or_default(), s.reason.clone().unwrap_or_default())}
                                </p>
                            }.into_any()
                        }}
                    </AsyncView>
                </div>
                <Form method="GET" action=format!("/organizations/{org_id}/audit") attr:class="flex flex-wrap items-start gap-3" attr:role="search">
                    <div class="min-w-72 flex-1">
                        <label for="audit-q" class="mb-1 block text-sm font-medium">"Search events"</label>
                        <input id="audit-q" name="q" type="search" class="input w-full font-mono" autocomplete="off"
                            placeholder="action:remove_user_from_org actor:ada@example.com created:2026-11-01..2026-11-27"
                            prop:value=move || q.get()
                            aria-describedby="audit-q-help audit-q-error"
                            aria-invalid=move || query_error.get().is_some().then_some("true")/>
                        {move || query_error.get().map(|m| view! { <p id="audit-q-error" class="mt-1 text-sm text-destructive" role="alert">{m}</p> })}
                        <details id="audit-q-help" class="mt-1 text-sm text-muted-foreground">
                            <summary class="cursor-pointer">"What can I search by?"</summary>
                            <ul class="mt-1 space-y-0.5">
                                {QUALIFIERS.iter().map(|(q, help)| view! { <li><code class="font-mono">{*q}</code>" "{*help}</li> }).collect_view()}
                            </ul>
                        </details>
                    </div>
                    <div class="flex gap-2 pt-6">
                        <button type="submit" class="btn btn-md btn-primary">"Search"</button>
                        <a href=format!("/organizations/{org_id}/audit") class="btn btn-md btn-secondary">"Clear"</a>
                    </div>
                </Form>
                <p class="mt-3 flex flex-wrap gap-3 text-sm">
                    <a data-testid="export-csv" class="link" download=""
                        href=move || export_href(&id.get_value(), &filter.get(), "csv")>"Export CSV"</a>
                    <a data-testid="export-jsonl" class="link" download=""
                        href=move || export_href(&id.get_value(), &filter.get(), "jsonl")>"Export JSON Lines"</a>
                    <span class="text-muted-foreground">"of everything this search finds"</span>
                </p>
            </Card>
            <AsyncView resource=page let:p>
                {if p.events.is_empty() {
                    view! { <EmptyState title="No events" text="Nothing matches this search." icon=IconKind::Search/> }.into_any()
                } else {
                    let next = p.next_before;
                    view! {
                        <DataTable caption="Audit events" columns=columns.clone() testid="audit-events">
                            {p.events.into_iter().map(|e| view! { <EventRow event=e/> }).collect_view()}
                        </DataTable>
                        <nav class="flex justify-between" aria-label="Audit pages">
                            <button type="button" class="btn btn-md btn-secondary" disabled=move || history.with(Vec::is_empty)
                                on:click=move |_| {
                                    let back = history.try_update(|h| h.pop()).flatten().flatten();
                                    cursor.set(back);
                                }>"Newer"</button>
                            <button type="button" class="btn btn-md btn-secondary" disabled=next.is_none() data-testid="audit-older"
                                on:click=move |_| {
                                    history.update(|h| h.push(cursor.get_untracked()));
                                    cursor.set(next);
                                }>"Older"</button>
                        </nav>
                    }.into_any()
                }}
            </AsyncView>
            <AuditStreamPanel org_id=id.get_value()/>
        </div>
    }
}

#[component]
fn EventRow(event: AuditEvent) -> impl IntoView {
    let sentence = describe(&event);
    let when = event.occurred_at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let details = serde_json::to_string_pretty(&event.details).unwrap_or_default();
    let ip = event.context.ip.clone().unwrap_or_else(|| "—".into());
    view! {
        <tr class="border-t border-border align-top" data-testid="audit-row" data-action=event.action.clone() data-seq=event.seq>
            <td class=CELL_MUTED><time datetime=event.occurred_at.to_rfc3339()>{when}</time></td>
            <td class=CELL>
                <details>
                    <summary class="cursor-pointer">
                        <span class="text-muted-foreground">{format!("#{} ", event.seq)}</span>{sentence}
                    </summary>
                    <dl class="mt-2 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-xs" data-testid="audit-details">
                        <dt class="text-muted-foreground">"Action"</dt><dd class="font-mono">{event.action.clone()}</dd>
                        {event.reason_code.clone().map(|r| view! { <dt class="text-muted-foreground">"Reason"</dt><dd class="font-mono">{r}</dd> })}
                        <dt class="text-muted-foreground">"Actor"</dt>
                        <dd>{format!("{} {}{}", event.actor.kind, event.actor.email.clone().unwrap_or_default(),
                            event.actor.role.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())}</dd>
                        {event.target.clone().map(|t| view! {
                            <dt class="text-muted-foreground">"Target"</dt>
                            <dd>{format!("{} {}{}", t.kind, t.id, t.name.map(|n| format!(" · {n}")).unwrap_or_default())}</dd>
                        })}
                        {event.context.session_kind.clone().map(|k| view! { <dt class="text-muted-foreground">"Signed in with"</dt><dd class="font-mono" data-testid="audit-session-kind">{k}</dd> })}
                        {event.context.user_agent.clone().map(|ua| view! { <dt class="text-muted-foreground">"Client"</dt><dd>{ua}</dd> })}
                        {event.context.request_id.clone().map(|r| view! { <dt class="text-muted-foreground">"Request"</dt><dd class="font-mono">{r}</dd> })}
                        <dt class="text-muted-foreground">"Details"</dt><dd><pre class="whitespace-pre-wrap font-mono">{details}</pre></dd>
                        <dt class="text-muted-foreground">"Hash"</dt><dd class="break-all font-mono" data-testid="audit-hash">{event.hash.clone()}</dd>
                        <dt class="text-muted-foreground">"Previous"</dt><dd class="break-all font-mono">{event.prev_hash.clone()}</dd>
                    </dl>
                </details>
            </td>
            <td class=CELL>{outcome_badge(event.outcome)}</td>
            <td class=CELL_MUTED>{ip}</td>
        </tr>
    }
}
