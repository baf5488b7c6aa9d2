//! The Domains tab of an organization: the domains it claims, the TXT
//! record that proves each one, and the check against DNS. Only verified
//! domains place people who register (issue 10, section 2).

use leptos::prelude::*;

use crate::api::domains::{list_domains, AddDomain, RemoveDomain, VerifyDomain};
use crate::components::{
    button_class, field_error, focus_id, submit_button, toast_outcome, use_toasts, AsyncView, Badge, Card, EmptyState, ErrorBanner,
    IconKind, Size, TextField, Tone, Variant,
};
use crate::model::{DomainStatus, ErrorKind, OrganizationDomain};

/// The actions a domain's row can start; shared by every row.
#[derive(Clone, Copy)]
struct DomainActions {
    verify: ServerAction<VerifyDomain>,
    remove: ServerAction<RemoveDomain>,
    /// The domain whose check runs now (for its button's pending state).
    checking: RwSignal<Option<String>>,
    /// The element to focus once the list has been drawn again (its rows
    /// are replaced, so focus would fall back to the page).
    refocus: RwSignal<Option<String>>,
}

/// An element id made from a domain name (letters, digits, dots, hyphens).
fn slug(domain: &str) -> String {
    domain.replace('.', "-")
}

#[component]
pub fn OrgDomains(org_id: String) -> impl IntoView {
    let add = ServerAction::<AddDomain>::new();
    let actions = DomainActions {
        verify: ServerAction::new(),
        remove: ServerAction::new(),
        checking: RwSignal::new(None),
        refocus: RwSignal::new(None),
    };
    toast_outcome(actions.remove.value().into(), Some("Domain removed."));
    let toasts = use_toasts();
    // A verification that found the record is a toast; one that did not is
    // the row's alert (the check error the list shows), any other refusal
    // (another organization verified it, it was removed) a toast.
    Effect::new(move |_| {
        let Some(outcome) = actions.verify.value().get() else { return };
        let domain = actions.checking.get_untracked().unwrap_or_default();
        match outcome {
            Ok(d) => {
                toasts.success(format!("{} is verified.", d.domain));
                actions.refocus.set(Some(format!("domain-{}", slug(&d.domain))));
            }
            Err(e) if e.kind == ErrorKind::Unprocessable => actions.refocus.set(Some(format!("verify-{}", slug(&domain)))),
            Err(e) => toasts.error(e.message),
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(added)) = add.value().get() {
            toasts.success(format!("{} added. Publish its TXT record, then verify it.", added.domain));
            clear_input("field-domain");
        }
    });
    let id = org_id.clone();
    let list = Resource::new(
        move || (add.version().get(), actions.verify.version().get(), actions.remove.version().get()),
        move |_| list_domains(id.clone()),
    );
    Effect::new(move |_| {
        if matches!(list.get(), Some(Ok(_))) {
            if let Some(target) = actions.refocus.get_untracked() {
                actions.refocus.set(None);
                request_animation_frame(move || focus_id(&target));
            }
        }
    });
    let err = Signal::derive(move || add.value().get().and_then(Result::err));
    let org_id = StoredValue::new(org_id);
    view! {
        <Card title="Domains" subtitle="Publish this TXT record at your DNS provider, then Verify. Only verified domains let people join automatically.">
            <AsyncView resource=list let:domains>
                {if domains.is_empty() {
                    view! { <EmptyState title="No domains yet" text="Add your company's email domain below to let colleagues join automatically." icon=IconKind::Globe/> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-border" data-testid="domains" aria-label="Domains">
                            {domains.into_iter().map(|domain| view! { <DomainRow domain org_id=org_id.get_value() actions/> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </AsyncView>
            <ActionForm action=add attr:class="mt-6 flex flex-wrap items-start gap-3" attr:novalidate="true" attr:aria-labelledby="add-domain-heading">
                <h3 id="add-domain-heading" class="w-full text-sm font-semibold">"Add a domain"</h3>
                <input type="hidden" name="id" value=org_id.get_value()/>
                <div class="w-72">
                    <TextField label="Domain to add" name="domain" placeholder="example.com" required=true autocomplete="off"
                        hint="Your company's email domain, e.g. example.com" error=field_error(err, "domain")/>
                </div>
                <div class="pt-7">{submit_button("Add domain", "Adding…", add.pending().into(), "")}</div>
            </ActionForm>
            <ErrorBanner error=err/>
        </Card>
    }
}

/// Empties a text input by id (after its form's value was saved).
fn clear_input(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(input) = document().get_element_by_id(id).and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok()) {
        input.set_value("");
    }
}

#[component]
fn DomainRow(domain: OrganizationDomain, org_id: String, actions: DomainActions) -> impl IntoView {
    let name = domain.domain.clone();
    let slug = slug(&name);
    let verified = domain.status == DomainStatus::Verified;
    let status = match (domain.status, domain.method) {
        (DomainStatus::Verified, Some(method)) => format!("Verified via {}", method.label()),
        (DomainStatus::Verified, None) => "Verified".to_string(),
        (DomainStatus::Unverified, _) => "Unverified".to_string(),
    };
    let checking = {
        let name = name.clone();
        Signal::derive(move || actions.verify.pending().get() && actions.checking.get().as_deref() == Some(name.as_str()))
    };
    let verify = {
        let (id, name) = (org_id.clone(), name.clone());
        move |_| {
            if actions.verify.pending().get_untracked() {
                return;
            }
            actions.checking.set(Some(name.clone()));
            actions.verify.dispatch(VerifyDomain { id: id.clone(), domain: name.clone() });
        }
    };
    let remove = {
        let name = name.clone();
        move |_| {
            let ok = window()
                .confirm_with_message(&format!("Remove {name}? People who register at it no longer join automatically."))
                .unwrap_or(false);
            if ok {
                actions.remove.dispatch(RemoveDomain { id: org_id.clone(), domain: name.clone() });
            }
        }
    };
    let checked = domain.checked_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string());
    let error_id = format!("check-error-{slug}");
    let has_error = !verified && domain.check_error.is_some();
    view! {
        <li class="py-4" data-testid="domain-row" data-domain=name.clone()>
            <div class="flex flex-wrap items-center justify-between gap-3">
                <div class="flex flex-wrap items-center gap-2">
                    <h3 id=format!("domain-{slug}") tabindex="-1" class="rounded-sm font-mono text-base font-semibold">{name.clone()}</h3>
                    <Badge tone=if verified { Tone::Success } else { Tone::Neutral }>
                        <span data-testid="domain-status">{status}</span>
                    </Badge>
                    {domain.primary.then(|| view! { <Badge tone=Tone::Primary>"Primary"</Badge> })}
                </div>
                <div class="inline-flex gap-2">
                    {(!verified).then(|| view! {
                        <button type="button" id=format!("verify-{slug}") class=button_class(Variant::Primary, Size::Sm)
                            aria-busy=move || checking.get().then_some("true")
                            aria-disabled=move || checking.get().then_some("true")
                            aria-describedby=has_error.then(|| error_id.clone())
                            on:click=verify>
                            {move || if checking.get() { "Checking DNS…" } else { "Verify" }}
                            <span class="sr-only">{format!(" {name}")}</span>
                        </button>
                    })}
                    {(!domain.primary).then(|| view! {
                        <button type="button" class=button_class(Variant::Danger, Size::Sm) on:click=remove>
                            "Remove"<span class="sr-only">{format!(" {name}")}</span>
                        </button>
                    })}
                </div>
            </div>
            {(!verified).then(|| view! {
                <div class="mt-3 grid gap-3 md:grid-cols-2">
                    <CopyField id=format!("txt-name-{slug}") label="TXT name" value=domain.txt_name.clone() domain=name.clone()/>
                    <CopyField id=format!("txt-value-{slug}") label="TXT value" value=domain.txt_value.clone() domain=name.clone()/>
                </div>
            })}
            {(!verified).then(|| domain.check_error.clone()).flatten().map(|message| view! {
                <div id=format!("check-error-{slug}") role="alert" class="alert-error mt-3" data-testid="check-error">
                    <p class="font-medium">{match checked.clone() { Some(at) => format!("Last check ({at}) failed:"), None => "Last check failed:".into() }}</p>
                    <p>{message}</p>
                </div>
            })}
        </li>
    }
}

/// What the last Copy did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Copied {
    Not,
    Yes,
    Failed,
}

/// A read-only value to publish, labelled, with a button that copies it.
/// The clipboard may refuse (no permission): the field is then selected,
/// so the value can be copied by hand, and the page says so.
#[component]
fn CopyField(id: String, label: &'static str, value: String, domain: String) -> impl IntoView {
    let copied = RwSignal::new(Copied::Not);
    let input = NodeRef::<leptos::html::Input>::new();
    let copy = {
        let value = value.clone();
        move |_| {
            use wasm_bindgen::closure::Closure;
            use wasm_bindgen::JsValue;
            let settle = move |outcome: Copied| {
                let _ = copied.try_set(outcome);
                if outcome == Copied::Failed {
                    if let Some(el) = input.get_untracked() {
                        el.select();
                    }
                }
                set_timeout(
                    move || {
                        let _ = copied.try_set(Copied::Not);
                    },
                    std::time::Duration::from_secs(4),
                );
            };
            let done = Closure::<dyn FnMut(JsValue)>::new(move |_| settle(Copied::Yes));
            let failed = Closure::<dyn FnMut(JsValue)>::new(move |_| settle(Copied::Failed));
            let _ = window().navigator().clipboard().write_text(&value).then2(&done, &failed);
            // Called at most once each, by the browser, after this returns.
            done.forget();
            failed.forget();
        }
    };
    let testid = label.to_lowercase().replace(' ', "-");
    view! {
        <div class="space-y-1.5">
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <div class="flex gap-2">
                <input id=id node_ref=input readonly class="input py-1 font-mono text-xs" value=value data-testid=testid/>
                <button type="button" class=button_class(Variant::Secondary, Size::Sm) on:click=copy>
                    {move || if copied.get() == Copied::Yes { "Copied" } else { "Copy" }}
                    <span class="sr-only">{format!(" {label} of {domain}")}</span>
                </button>
            </div>
            <p role="status" class="text-xs text-muted-foreground">
                {move || match copied.get() {
                    Copied::Yes => format!("{label} copied to the clipboard."),
                    Copied::Failed => "The clipboard refused; the text is selected, copy it with Ctrl+C.".to_string(),
                    Copied::Not => String::new(),
                }}
            </p>
        </div>
    }
}
