//! An organization's quotas: how much of each is used (bars), and the
//! form platform admins set them with.

use leptos::prelude::*;

use crate::api::workspaces::{get_organization_usage, get_quotas, SetQuotas};
use crate::components::{field_error, submit_button, toast_outcome, AsyncView, ErrorBanner, TextField, UsageBar};
use crate::model::{format_mib, format_vcpu, OrganizationUsage, QuotaUse, Quotas};

/// One quota as words: "3 of 10 running workspaces", "1.5 of unlimited vCPU".
fn describe(q: QuotaUse, unit: fn(i64) -> String, what: &str) -> String {
    let limit = q.limit.map(unit).unwrap_or_else(|| "unlimited".into());
    format!("{} of {limit} {what}", unit(q.used))
}

fn count(n: i64) -> String {
    n.to_string()
}

fn gib(n: i64) -> String {
    format!("{n} GiB")
}

/// One quota as the pages show it.
#[derive(Clone, Copy)]
pub struct QuotaRow {
    /// The bar's accessible name.
    pub label: &'static str,
    pub testid: &'static str,
    pub quota: QuotaUse,
    pub unit: fn(i64) -> String,
    /// What is counted, after "3 of 10".
    pub what: &'static str,
}

/// The quotas of the usage panel, in its order.
pub fn quota_rows(u: &OrganizationUsage) -> [QuotaRow; 6] {
    let row = |label, testid, quota, unit: fn(i64) -> String, what| QuotaRow { label, testid, quota, unit, what };
    [
        row("Workspaces", "usage-workspaces", u.workspaces, count, "workspaces"),
        row("Running workspaces", "usage-running", u.running, count, "running"),
        row("vCPU of running workspaces", "usage-vcpu", u.vcpu, format_vcpu, "vCPU"),
        row("Memory of running workspaces", "usage-memory", u.memory_mib, format_mib, "memory"),
        row("Storage", "usage-storage", u.storage_gib, gib, "storage"),
        row("Your workspaces", "usage-per-user", u.workspaces_per_user, count, "per member (yours)"),
    ]
}

/// The quota bars of an organization, reloaded with `tick`.
#[component]
pub fn UsagePanel(#[prop(into)] organization: Signal<String>, tick: RwSignal<u32>) -> impl IntoView {
    let usage = Resource::new(move || (organization.get(), tick.get()), |(id, _)| get_organization_usage(id));
    view! {
        <section class="card card-body mb-6" aria-labelledby="quota-usage-title">
            <h2 id="quota-usage-title" class="mb-4 text-lg font-semibold">"Quota usage"</h2>
            <AsyncView resource=usage let:u>
                <div class="grid gap-5 md:grid-cols-3">
                    {quota_rows(&u)
                        .into_iter()
                        .map(|r| {
                            view! {
                                <div>
                                    <UsageBar label=r.label used=r.quota.used limit=r.quota.limit text=describe(r.quota, r.unit, r.what) testid=r.testid/>
                                </div>
                            }
                        })
                        .collect_view()}
                </div>
            </AsyncView>
        </section>
    }
}

fn limit_text(limit: Option<i64>, unit: fn(i64) -> String) -> String {
    limit.map(unit).unwrap_or_default()
}

/// Platform admins set the limits; an empty field is unlimited.
#[component]
pub fn QuotaForm(organization: String, tick: RwSignal<u32>) -> impl IntoView {
    let save = ServerAction::<SetQuotas>::new();
    toast_outcome(save.value().into(), Some("Quotas saved."));
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            tick.update(|n| *n = n.wrapping_add(1));
        }
    });
    let id = organization.clone();
    let quotas = Resource::new(move || save.version().get(), move |_| get_quotas(id.clone()));
    let err = Signal::derive(move || save.value().get().and_then(Result::err));
    let organization = StoredValue::new(organization);
    view! {
        <section class="card card-body mb-6" aria-labelledby="quota-form-title">
            <h2 id="quota-form-title" class="text-lg font-semibold">"Quotas"</h2>
            <p class="mt-1 mb-5 text-sm text-muted-foreground">"Leave a field empty for no limit. vCPU and memory count running workspaces only."</p>
            <AsyncView resource=quotas let:q>
                <QuotaFields q organization=organization.get_value() save err/>
            </AsyncView>
        </section>
    }
}

#[component]
fn QuotaFields(
    q: Quotas,
    organization: String,
    save: ServerAction<SetQuotas>,
    err: Signal<Option<crate::model::AppError>>,
) -> impl IntoView {
    let whole = |n: i64| n.to_string();
    view! {
        <ActionForm action=save attr:class="space-y-4" attr:novalidate="true">
            <input type="hidden" name="id" value=organization/>
            <div class="grid gap-4 md:grid-cols-3">
                <TextField label="Max. workspaces" name="max_workspaces" value=limit_text(q.max_workspaces, whole) error=field_error(err, "max_workspaces")/>
                <TextField label="Max. running" name="max_running" value=limit_text(q.max_running, whole) error=field_error(err, "max_running")/>
                <TextField label="Max. vCPU (e.g. 0.5, 8)" name="max_vcpu" value=limit_text(q.max_vcpu, format_vcpu) error=field_error(err, "max_vcpu")/>
                <TextField label="Max. memory (MiB)" name="max_memory_mib" value=limit_text(q.max_memory_mib, whole) error=field_error(err, "max_memory_mib")/>
                <TextField label="Max. storage (GiB)" name="max_storage_gib" value=limit_text(q.max_storage_gib, whole) error=field_error(err, "max_storage_gib")/>
                <TextField label="Max. workspaces per member" name="max_workspaces_per_user" value=limit_text(q.max_workspaces_per_user, whole) error=field_error(err, "max_workspaces_per_user")/>
            </div>
            <ErrorBanner error=err/>
            {submit_button("Save quotas", "Saving…", save.pending().into(), "")}
        </ActionForm>
    }
}
