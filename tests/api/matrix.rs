//! The isolation matrix: every route (REST from the OpenAPI document,
//! server functions from their registry) × every kind of caller, against
//! objects of a foreign organization. Each cell names the status; for
//! everyone but the platform admin, no field of the foreign organization
//! may appear in any answer. A route without a row fails the test, so new
//! routes cannot skip it.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// The callers: nobody, a user of organization A, an admin of organization
/// B, a platform admin. None but the last belongs to the foreign one.
const ROLES: [&str; 4] = ["anonymous", "user", "other_org_admin", "platform_admin"];

enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

struct Row {
    method: &'static str,
    /// The route as served (and documented).
    path: &'static str,
    /// What `{id}` stands for in this route, when not the organization.
    id: Option<String>,
    body: Body,
    /// Statuses for ROLES, in order.
    expect: [u16; 4],
}

fn row(method: &'static str, path: &'static str, body: Body, expect: [u16; 4]) -> Row {
    Row { method, path, id: None, body, expect }
}

/// A row whose `{id}` is not an organization's.
fn row_id(method: &'static str, path: &'static str, id: &str, body: Body, expect: [u16; 4]) -> Row {
    Row { method, path, id: Some(id.to_owned()), body, expect }
}

/// What the foreign organization has, to aim at and to look for.
struct Foreign {
    org_id: String,
    member_id: String,
    session_id: String,
    token_id: String,
    invitation_id: String,
    /// A second member and invitation, for the server functions' turn.
    member2_id: String,
    invitation2_id: String,
    workspace_id: String,
    /// A second workspace for the server functions' turn (the REST rows
    /// delete the first).
    workspace2_id: String,
    template_id: String,
    secrets: Vec<String>,
}

fn table(f: &Foreign) -> Vec<Row> {
    use Body::{Form, Json as J, None as N};
    let form = |pairs: &[(&'static str, &str)]| Form(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect());
    vec![
        row("GET", "/healthz", N, [200, 200, 200, 200]),
        row("GET", "/api/openapi.json", N, [200, 200, 200, 200]),
        row("GET", "/api/docs", N, [200, 200, 200, 200]),
        row("GET", "/api/docs/redoc.js", N, [200, 200, 200, 200]),
        // Sign-in and registration are public; these bodies fail on purpose.
        row(
            "POST",
            "/api/auth/register",
            J(json!({ "email": "member@foreign.test", "password": PASSWORD, "name": "X" })),
            [409, 409, 409, 409],
        ),
        row("POST", "/api/auth/login", J(json!({ "email": "member@foreign.test", "password": "not the password" })), [401, 401, 401, 401]),
        // An empty password is refused before it could count as a failure.
        row("POST", "/api/auth/reauthenticate", J(json!({ "password": "" })), [401, 400, 400, 400]),
        // Email confirmation is public too: the link or the password is the credential.
        row("POST", "/api/auth/verify-email", J(json!({ "token": "not-a-live-confirmation-token" })), [404, 404, 404, 404]),
        // Not an address: refused before any password work, so the row
        // spends none of the client IP's sign-in failures the rows below need.
        row("POST", "/api/auth/verify-email/resend", J(json!({ "email": "nobody", "password": "not the password" })), [401, 401, 401, 401]),
        row("GET", "/api/auth/me", N, [401, 200, 200, 200]),
        // SSO is not configured in this app: refusals, never a session.
        row(
            "POST",
            "/api/auth/sso",
            J(json!({ "id_token": "e30.e30.x", "profile": { "org": "Foreign Corp" }, "roles": ["admin"] })),
            [404, 404, 404, 404],
        ),
        row("POST", "/api/auth/sso/nonce", N, [404, 404, 404, 404]),
        row("POST", "/auth/sso/start", form(&[("return_to", "/organizations")]), [303, 303, 303, 303]),
        // SSO is not configured here: back to the account page, signed in.
        row("POST", "/auth/sso/link", form(&[]), [401, 303, 303, 303]),
        row("GET", "/auth/callback", N, [303, 303, 303, 303]),
        row("POST", "/api/fn/sso_provider", form(&[]), [200, 200, 200, 200]),
        row("POST", "/api/auth/mfa", J(json!({ "code": "000000" })), [401, 403, 403, 403]),
        row(
            "POST",
            "/api/account/password",
            J(json!({ "current_password": "wrong wrong wrong", "new_password": "whatever it is now" })),
            [401, 400, 400, 400],
        ),
        row("GET", "/api/account/sessions", N, [401, 200, 200, 200]),
        row_id("DELETE", "/api/account/sessions/{id}", &f.session_id, N, [401, 404, 404, 404]),
        row("GET", "/api/account/tokens", N, [401, 200, 200, 200]),
        row("POST", "/api/account/tokens", J(json!({ "name": "matrix" })), [401, 201, 201, 201]),
        row_id("GET", "/api/account/tokens/{id}", &f.token_id, N, [401, 404, 404, 404]),
        row_id("DELETE", "/api/account/tokens/{id}", &f.token_id, N, [401, 404, 404, 404]),
        row("GET", "/api/account/mfa", N, [401, 200, 200, 200]),
        // Every caller here confirmed their address at registration.
        row("POST", "/api/account/email/confirmation", N, [401, 409, 409, 409]),
        row("POST", "/api/account/email/confirm", J(json!({ "token": "not-a-live-confirmation-token" })), [401, 404, 404, 404]),
        row("POST", "/api/account/mfa/totp/setup", N, [401, 200, 200, 200]),
        row("POST", "/api/account/mfa/totp/confirm", J(json!({ "code": "000000" })), [401, 400, 400, 400]),
        row("POST", "/api/account/mfa/disable", J(json!({ "code": "000000" })), [401, 409, 409, 409]),
        row("GET", "/api/organizations", N, [401, 200, 200, 200]),
        row("POST", "/api/organizations", J(json!({ "name": "Matrix Made", "domain": "matrix-made.test" })), [401, 403, 403, 201]),
        row("GET", "/api/organizations/{id}", N, [401, 404, 404, 200]),
        row("PATCH", "/api/organizations/{id}", J(json!({ "require_mfa": false })), [401, 404, 404, 200]),
        row("GET", "/api/organizations/{id}/members", N, [401, 404, 404, 200]),
        row("GET", "/api/organizations/{id}/invitations", N, [401, 404, 404, 200]),
        row(
            "POST",
            "/api/organizations/{id}/invitations",
            J(json!({ "email": "newcomer@elsewhere.test", "role": "user" })),
            [401, 404, 404, 201],
        ),
        row("POST", "/api/organizations/{id}/invitations/{invitation_id}/resend", N, [401, 404, 404, 200]),
        row("GET", "/api/organizations/{id}/invitations/{invitation_id}", N, [401, 404, 404, 200]),
        row("DELETE", "/api/organizations/{id}/invitations/{invitation_id}", N, [401, 404, 404, 204]),
        row("GET", "/api/organizations/{id}/domains", N, [401, 404, 404, 200]),
        row("POST", "/api/organizations/{id}/domains", J(json!({ "domain": "matrix-extra.test" })), [401, 404, 404, 201]),
        // `{domain}`: a claim of the foreign organization that nobody
        // published, so the platform admin's verification is a real lookup
        // answered NXDOMAIN (422), then the claim is removed (204).
        row("POST", "/api/organizations/{id}/domains/{domain}/verify", N, [401, 404, 404, 422]),
        row("DELETE", "/api/organizations/{id}/domains/{domain}", N, [401, 404, 404, 204]),
        row("GET", "/api/organizations/{id}/audit/verify", N, [401, 404, 404, 200]),
        // A checkpoint that is not this installation's: checked, and it does not hold (200 with holds: false).
        row(
            "POST",
            "/api/organizations/{id}/audit/verify",
            J(
                json!({ "statement": { "chain": "installation", "seq": 1, "hash": "00", "signed_at": "2026-01-01T00:00:00Z", "key_id": "0" }, "signature": "AA==" }),
            ),
            [401, 404, 404, 200],
        ),
        row("GET", "/api/audit/public-key", N, [200, 200, 200, 200]),
        row("GET", "/api/organizations/{id}/audit/checkpoints", N, [401, 404, 404, 200]),
        // The app's first checkpoint pass ran before the foreign organization existed: none yet.
        row("GET", "/api/organizations/{id}/audit/checkpoints/latest", N, [401, 404, 404, 404]),
        // Disabled, so nothing is ever sent to the (unroutable, documentation) address.
        row("POST", "/api/organizations/{id}/audit/stream", J(json!({ "url": STREAM_URL, "enabled": false })), [401, 404, 404, 201]),
        row("GET", "/api/organizations/{id}/audit/stream", N, [401, 404, 404, 200]),
        row("PATCH", "/api/organizations/{id}/audit/stream", J(json!({ "enabled": false })), [401, 404, 404, 200]),
        row("POST", "/api/organizations/{id}/audit/stream/rotate-secret", N, [401, 404, 404, 200]),
        row("DELETE", "/api/organizations/{id}/audit/stream", N, [401, 404, 404, 204]),
        row("GET", "/api/organizations/{id}/audit", N, [401, 404, 404, 200]),
        row("GET", "/api/organizations/{id}/audit/export", N, [401, 404, 404, 200]),
        row("GET", "/api/audit", N, [401, 403, 403, 200]),
        row("GET", "/api/invitations/{token}", N, [404, 404, 404, 404]),
        row("POST", "/api/invitations/{token}/accept", J(json!({ "name": "X", "password": PASSWORD })), [404, 404, 404, 404]),
        row_id("PATCH", "/api/users/{id}", &f.member_id, J(json!({ "role": "user" })), [401, 403, 404, 204]),
        row_id("DELETE", "/api/users/{id}/sessions", &f.member_id, N, [401, 403, 404, 200]),
        row_id("POST", "/api/users/{id}/disable", &f.member_id, N, [401, 403, 404, 204]),
        row_id("POST", "/api/users/{id}/enable", &f.member_id, N, [401, 403, 404, 204]),
        row("GET", "/api/workspaces", N, [401, 200, 200, 200]),
        row(
            "POST",
            "/api/workspaces",
            J(
                json!({ "name": "Matrix Box", "template_id": f.template_id, "organization_id": f.org_id, "owner_id": f.member2_id, "start": false }),
            ),
            [401, 404, 404, 201],
        ),
        row_id("GET", "/api/workspaces/{id}", &f.workspace_id, N, [401, 404, 404, 200]),
        row_id("PATCH", "/api/workspaces/{id}", &f.workspace_id, J(json!({ "name": "Foreign Box" })), [401, 404, 404, 200]),
        row_id("POST", "/api/workspaces/{id}/start", &f.workspace_id, N, [401, 404, 404, 200]),
        row_id("POST", "/api/workspaces/{id}/stop", &f.workspace_id, N, [401, 404, 404, 200]),
        row_id("POST", "/api/workspaces/{id}/restart", &f.workspace_id, N, [401, 404, 404, 200]),
        row_id("POST", "/api/workspaces/{id}/suspend", &f.workspace_id, J(json!({ "reason": "matrix" })), [401, 404, 404, 200]),
        row_id("POST", "/api/workspaces/{id}/resume", &f.workspace_id, N, [401, 404, 404, 200]),
        row_id("DELETE", "/api/workspaces/{id}", &f.workspace_id, N, [401, 404, 404, 200]),
        row("GET", "/api/workspace-templates", N, [401, 200, 200, 200]),
        row(
            "POST",
            "/api/workspace-templates",
            J(json!({ "name": "Matrix Template", "image": "neosc/workspace-busybox:dev", "default_vcpu": 100, "default_memory_mib": 32,
                "default_storage_gib": 1, "max_vcpu": 100, "max_memory_mib": 32, "max_storage_gib": 1 })),
            [401, 403, 403, 201],
        ),
        row("GET", "/api/organizations/{id}/usage", N, [401, 404, 404, 200]),
        row("GET", "/api/organizations/{id}/quotas", N, [401, 404, 404, 200]),
        row("PATCH", "/api/organizations/{id}/quotas", J(json!({ "max_workspaces": 10 })), [401, 404, 404, 200]),
        row("POST", "/api/organizations/{id}/suspend", N, [401, 404, 404, 200]),
        row("POST", "/api/organizations/{id}/activate", N, [401, 404, 404, 200]),
        // Server functions: the tenant comes from the session alone; the
        // only ids they take name the caller's own sessions and tokens.
        row("POST", "/api/fn/login", form(&[("email", "boss@foreign.test"), ("password", "not the password")]), [401, 401, 401, 401]),
        row(
            "POST",
            "/api/fn/register",
            form(&[("email", "member@foreign.test"), ("password", PASSWORD), ("name", "X")]),
            [409, 409, 409, 409],
        ),
        row("POST", "/api/fn/verify_email", form(&[("token", "not-a-live-confirmation-token")]), [404, 404, 404, 404]),
        row("POST", "/api/fn/resend_verification", form(&[("email", "nobody"), ("password", "not the password")]), [401, 401, 401, 401]),
        row("POST", "/api/fn/request_email_confirmation", form(&[]), [401, 409, 409, 409]),
        row("POST", "/api/fn/confirm_email", form(&[("token", "not-a-live-confirmation-token")]), [401, 404, 404, 404]),
        row("POST", "/api/fn/current_user", form(&[]), [200, 200, 200, 200]),
        row("POST", "/api/fn/list_organizations", form(&[("offset", "0")]), [401, 200, 200, 200]),
        row("POST", "/api/fn/complete_mfa", form(&[("code", "000000")]), [401, 403, 403, 403]),
        row("POST", "/api/fn/mfa_status", form(&[]), [401, 200, 200, 200]),
        row("POST", "/api/fn/begin_totp", form(&[]), [401, 200, 200, 200]),
        row("POST", "/api/fn/confirm_totp", form(&[("code", "000000")]), [401, 400, 400, 400]),
        row("POST", "/api/fn/disable_mfa", form(&[("code", "000000")]), [401, 409, 409, 409]),
        row(
            "POST",
            "/api/fn/change_password",
            form(&[("current_password", "wrong wrong wrong"), ("new_password", "whatever it is now")]),
            [401, 400, 400, 400],
        ),
        row("POST", "/api/fn/reauthenticate", form(&[("password", "")]), [401, 400, 400, 400]),
        row("POST", "/api/fn/list_sessions", form(&[]), [401, 200, 200, 200]),
        row("POST", "/api/fn/list_audit_events", form(&[("org_id", f.org_id.as_str()), ("filter[limit]", "5")]), [401, 404, 404, 200]),
        row("POST", "/api/fn/verify_audit_log", form(&[("org_id", f.org_id.as_str())]), [401, 404, 404, 200]),
        row("POST", "/api/fn/get_audit_chain_status", form(&[("id", f.org_id.as_str())]), [401, 404, 404, 200]),
        row("POST", "/api/fn/end_session", form(&[("id", f.session_id.as_str())]), [401, 404, 404, 404]),
        row("POST", "/api/fn/list_tokens", form(&[]), [401, 200, 200, 200]),
        row("POST", "/api/fn/create_token", form(&[("name", "matrix"), ("expires_in_days", "")]), [401, 200, 200, 200]),
        row("POST", "/api/fn/revoke_token", form(&[("id", f.token_id.as_str())]), [401, 404, 404, 404]),
        // Near the end: it deletes the foreign member the rows above aim at.
        row("DELETE", "/api/organizations/{id}/members/{user_id}", N, [401, 404, 404, 204]),
        row("POST", "/api/fn/get_organization", form(&[("id", f.org_id.as_str())]), [401, 404, 404, 200]),
        row(
            "POST",
            "/api/fn/update_organization",
            form(&[("id", f.org_id.as_str()), ("name", "Foreign Corp"), ("domain", "foreign.test")]),
            [401, 404, 404, 200],
        ),
        row("POST", "/api/fn/set_organization_suspended", form(&[("id", f.org_id.as_str()), ("suspended", "false")]), [401, 404, 404, 200]),
        row("POST", "/api/fn/list_members", form(&[("id", f.org_id.as_str()), ("offset", "0")]), [401, 404, 404, 200]),
        row("POST", "/api/fn/change_member_role", form(&[("user_id", f.member2_id.as_str()), ("role", "user")]), [401, 403, 404, 200]),
        row(
            "POST",
            "/api/fn/set_member_disabled",
            form(&[("user_id", f.member2_id.as_str()), ("disabled", "false")]),
            [401, 403, 404, 200],
        ),
        row("POST", "/api/fn/list_invitations", form(&[("id", f.org_id.as_str())]), [401, 404, 404, 200]),
        row(
            "POST",
            "/api/fn/invite_member",
            form(&[("id", f.org_id.as_str()), ("email", "fn-newcomer@elsewhere.test"), ("role", "user")]),
            [401, 404, 404, 200],
        ),
        row(
            "POST",
            "/api/fn/resend_invitation",
            form(&[("id", f.org_id.as_str()), ("invitation_id", f.invitation2_id.as_str())]),
            [401, 404, 404, 200],
        ),
        row(
            "POST",
            "/api/fn/revoke_invitation",
            form(&[("id", f.org_id.as_str()), ("invitation_id", f.invitation2_id.as_str())]),
            [401, 404, 404, 200],
        ),
        // A domain of the foreign organization's that only this turn adds:
        // the platform admin's check is a real lookup nobody answered
        // (NXDOMAIN, 422), then the domain is removed again.
        row("POST", "/api/fn/list_domains", form(&[("id", f.org_id.as_str())]), [401, 404, 404, 200]),
        row("POST", "/api/fn/add_domain", form(&[("id", f.org_id.as_str()), ("domain", FN_DOMAIN)]), [401, 404, 404, 200]),
        row("POST", "/api/fn/verify_domain", form(&[("id", f.org_id.as_str()), ("domain", FN_DOMAIN)]), [401, 404, 404, 422]),
        row("POST", "/api/fn/remove_domain", form(&[("id", f.org_id.as_str()), ("domain", FN_DOMAIN)]), [401, 404, 404, 200]),
        row("POST", "/api/fn/preview_invitation", form(&[("token", "not-a-live-invitation-token")]), [404, 404, 404, 404]),
        row(
            "POST",
            "/api/fn/accept_invitation",
            form(&[("token", "not-a-live-invitation-token"), ("name", "X"), ("password", PASSWORD)]),
            [404, 404, 404, 404],
        ),
        // Before the second member is removed: it owns the new workspace.
        row("POST", "/api/fn/list_workspaces", form(&[("offset", "0")]), [401, 200, 200, 200]),
        row("POST", "/api/fn/get_workspace", form(&[("id", f.workspace2_id.as_str())]), [401, 404, 404, 200]),
        row(
            "POST",
            "/api/fn/create_workspace",
            form(&[
                ("name", "Matrix Fn Box"),
                ("template_id", f.template_id.as_str()),
                ("owner_id", f.member2_id.as_str()),
                ("organization_id", f.org_id.as_str()),
                ("start", "false"),
            ]),
            [401, 404, 404, 200],
        ),
        row(
            "POST",
            "/api/fn/update_workspace",
            form(&[("id", f.workspace2_id.as_str()), ("name", "Foreign Box Two")]),
            [401, 404, 404, 200],
        ),
        row("POST", "/api/fn/workspace_lifecycle", form(&[("id", f.workspace2_id.as_str()), ("action", "start")]), [401, 404, 404, 200]),
        row("POST", "/api/fn/suspend_workspace", form(&[("id", f.workspace2_id.as_str()), ("reason", "matrix")]), [401, 404, 404, 200]),
        row("POST", "/api/fn/list_workspace_templates", form(&[]), [401, 200, 200, 200]),
        row("POST", "/api/fn/organization_usage", form(&[("id", f.org_id.as_str())]), [401, 404, 404, 200]),
        row("POST", "/api/fn/get_quotas", form(&[("id", f.org_id.as_str())]), [401, 404, 404, 200]),
        row("POST", "/api/fn/set_quotas", form(&[("id", f.org_id.as_str()), ("max_workspaces", "10")]), [401, 404, 404, 200]),
        row("POST", "/api/fn/get_audit_stream", form(&[("org", f.org_id.as_str())]), [401, 404, 404, 200]),
        row(
            "POST",
            "/api/fn/create_audit_stream",
            form(&[("org", f.org_id.as_str()), ("url", STREAM_URL), ("enabled", "false")]),
            [401, 404, 404, 200],
        ),
        row("POST", "/api/fn/update_audit_stream", form(&[("org", f.org_id.as_str()), ("enabled", "false")]), [401, 404, 404, 200]),
        row("POST", "/api/fn/rotate_audit_stream_secret", form(&[("org", f.org_id.as_str())]), [401, 404, 404, 200]),
        row("POST", "/api/fn/delete_audit_stream", form(&[("org", f.org_id.as_str())]), [401, 404, 404, 200]),
        row("POST", "/api/fn/remove_member", form(&[("id", f.org_id.as_str()), ("user_id", f.member2_id.as_str())]), [401, 404, 404, 200]),
        // Sign-out last, as it ends the caller's session.
        row("POST", "/api/auth/logout", N, [401, 204, 204, 204]),
        row("POST", "/api/fn/logout", form(&[]), [200, 200, 200, 200]),
    ]
}

/// Every route the application serves, as `METHOD path-template`.
fn served_routes() -> BTreeSet<String> {
    use utoipa::OpenApi;
    let doc = neosc::server::rest::ApiDoc::openapi();
    let mut routes: BTreeSet<String> = doc
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
                ("HEAD", item.head.is_some()),
                ("OPTIONS", item.options.is_some()),
                ("TRACE", item.trace.is_some()),
            ];
            methods.into_iter().filter(|(_, on)| *on).map(move |(m, _)| format!("{m} {path}"))
        })
        .collect();
    for (path, method) in server_fn::axum::server_fn_paths() {
        routes.insert(format!("{method} {path}"));
    }
    // Served but not part of the API description.
    for (method, path) in neosc::server::rest::UNDOCUMENTED {
        routes.insert(format!("{method} {path}"));
    }
    routes
}

/// The audit stream receiver of the rows (TEST-NET-3: never reached, the
/// streams are disabled).
const STREAM_URL: &str = "https://203.0.113.10/siem";

/// The domain the server functions' rows add, verify and remove.
const FN_DOMAIN: &str = "matrix-fn.test";

/// The foreign organization's unverified extra domain (see the rows).
const SPARE_DOMAIN: &str = "spare.foreign.test";

async fn setup(app: &TestApp) -> (Foreign, [Option<String>; 4]) {
    let (f_admin, _) = app.register_founder("boss@foreign.test", "Foreign Boss", "Foreign Corp").await;
    let (f_member, member) = app.register_ok("member@foreign.test", "Foreign Member", None).await;
    let (_, member2) = app.register_ok("second@foreign.test", "Foreign Second", None).await;
    let me: Value = app.me(&f_admin).await.json().await.unwrap();
    let org_id = me["organization_id"].as_str().unwrap().to_owned();
    let spare = app.post_json(&format!("/api/organizations/{org_id}/domains"), &f_admin, json!({ "domain": SPARE_DOMAIN })).await;
    assert_eq!(spare.status(), StatusCode::CREATED);
    let sessions: Vec<Value> = app.get("/api/account/sessions").bearer_auth(&f_member).send().await.unwrap().json().await.unwrap();
    let token: Value = app.post_json("/api/account/tokens", &f_member, json!({ "name": "foreign token" })).await.json().await.unwrap();
    let inv: Value = app
        .post_json(
            &format!("/api/organizations/{org_id}/invitations"),
            &f_admin,
            json!({ "email": "invitee@elsewhere.test", "role": "user" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let inv2: Value = app
        .post_json(
            &format!("/api/organizations/{org_id}/invitations"),
            &f_admin,
            json!({ "email": "invitee2@elsewhere.test", "role": "user" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let platform = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let template: Value = app
        .post_json(
            "/api/workspace-templates",
            &platform,
            json!({ "name": "Foreign Template", "image": "neosc/workspace-busybox:dev", "default_vcpu": 100, "default_memory_mib": 32,
                "default_storage_gib": 1, "max_vcpu": 100, "max_memory_mib": 32, "max_storage_gib": 1 }),
        )
        .await
        .json()
        .await
        .unwrap();
    let ws: Value = app
        .post_json("/api/workspaces", &f_admin, json!({ "name": "Foreign Box", "template_id": template["id"], "start": false }))
        .await
        .json()
        .await
        .unwrap();
    let ws2: Value = app
        .post_json("/api/workspaces", &f_admin, json!({ "name": "Foreign Box Two", "template_id": template["id"], "start": false }))
        .await
        .json()
        .await
        .unwrap();
    let foreign = Foreign {
        secrets: vec![
            "Foreign Box".into(),
            ws["id"].as_str().unwrap().to_owned(),
            "Foreign Corp".into(),
            "foreign.test".into(),
            "Foreign Member".into(),
            "invitee@elsewhere.test".into(),
            "invitee2@elsewhere.test".into(),
            "Foreign Second".into(),
            org_id.clone(),
            member["id"].as_str().unwrap().to_owned(),
        ],
        org_id,
        member_id: member["id"].as_str().unwrap().to_owned(),
        session_id: sessions[0]["id"].as_str().unwrap().to_owned(),
        token_id: token["id"].as_str().unwrap().to_owned(),
        invitation_id: inv["id"].as_str().unwrap().to_owned(),
        member2_id: member2["id"].as_str().unwrap().to_owned(),
        invitation2_id: inv2["id"].as_str().unwrap().to_owned(),
        workspace_id: ws["id"].as_str().unwrap().to_owned(),
        workspace2_id: ws2["id"].as_str().unwrap().to_owned(),
        template_id: template["id"].as_str().unwrap().to_owned(),
    };
    app.register_founder("owner@alpha.test", "Alpha Owner", "Alpha").await;
    let (user, _) = app.register_ok("user@alpha.test", "Alpha User", None).await;
    let (other_admin, _) = app.register_ok("owner@beta.test", "Beta Owner", Some("Beta")).await;
    (foreign, [None, Some(user), Some(other_admin), Some(platform)])
}

/// No engine: the platform admin's turn starts workspaces, and nothing of
/// that should reach a container.
const NO_ENGINE: &[(&str, &str)] = &[("NEOSC_WORKSPACE_ENGINE", "none")];

both_backends! {
    env = NO_ENGINE;

    async fn every_route_for_every_caller_against_a_foreign_organization(app: TestApp) {
        let (foreign, tokens) = setup(&app).await;
        let rows = table(&foreign);
        let covered: BTreeSet<String> = rows.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
        let served = served_routes();
        let missing: Vec<_> = served.difference(&covered).collect();
        let stale: Vec<_> = covered.difference(&served).collect();
        assert!(missing.is_empty(), "routes without a matrix row: {missing:?}");
        assert!(stale.is_empty(), "matrix rows for routes that are not served: {stale:?}");

        let mut failures = Vec::new();
        for r in &rows {
            let path = r
                .path
                .replace("{id}", r.id.as_deref().unwrap_or(&foreign.org_id))
                .replace("{user_id}", &foreign.member_id)
                .replace("{invitation_id}", &foreign.invitation_id)
                .replace("{domain}", SPARE_DOMAIN)
                .replace("{token}", "not-a-live-invitation-token");
            for (i, role) in ROLES.iter().enumerate() {
                let mut req = match r.method {
                    "GET" => app.get(&path),
                    "POST" => app.post(&path),
                    "PATCH" => app.patch(&path),
                    "DELETE" => app.delete(&path),
                    other => panic!("no matrix support for {other}"),
                };
                req = match &r.body {
                    Body::None => req,
                    Body::Json(v) => req.json(v),
                    Body::Form(pairs) => req.form(pairs),
                };
                if let Some(t) = &tokens[i] {
                    req = req.header("cookie", format!("neosc_session={t}"));
                }
                let res = req.send().await.unwrap();
                let status = res.status();
                let body = res.text().await.unwrap();
                if status != StatusCode::from_u16(r.expect[i]).unwrap() {
                    failures.push(format!("{} {} as {role}: {status}, expected {} ({body})", r.method, r.path, r.expect[i]));
                }
                if *role != "platform_admin" {
                    for secret in &foreign.secrets {
                        if body.contains(secret.as_str()) {
                            failures.push(format!("{} {} as {role} leaked {secret:?}", r.method, r.path));
                        }
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
