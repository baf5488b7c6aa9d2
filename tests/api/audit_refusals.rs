//! Refusals are events too (issue 13): a member's attempt at an admin's
//! operation is recorded as `permission_denied`, outcome `denied`, with
//! who tried it as they were then; and events name their actor and target
//! the way the audit page words them.

use neosc::model::AuditOutcome;
use neosc::server::service::audit::view_of;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

both_backends! {
    async fn a_members_admin_attempt_is_recorded_as_denied(app: TestApp) {
        let (boss, user) = app.register_founder("boss@refuse.test", "Boss", "Refuse").await;
        let org_id = user["organization_id"].as_str().unwrap().to_owned();
        let org = neosc::model::OrgId::parse(&org_id).unwrap().0;
        let (member, _) = app.register_ok("mia@refuse.test", "Mia", None).await;
        let res = app.patch_json(&format!("/api/organizations/{org_id}"), &member, json!({ "name": "Mine now" })).await;
        assert_problem(res, StatusCode::FORBIDDEN).await;
        let res = app.patch_json(&format!("/api/organizations/{org_id}"), &boss, json!({ "name": "Refuse Corp" })).await;
        assert_eq!(res.status(), StatusCode::OK);

        let rows = app.store.conn().await.unwrap().audit_chain_page(Some(org), 0, i64::MAX, 1000).await.unwrap();
        let events: Vec<_> = rows.iter().map(view_of).collect();
        let denied: Vec<_> = events.iter().filter(|e| e.action == "permission_denied").collect();
        assert_eq!(denied.len(), 1, "{events:#?}");
        let e = denied[0];
        assert_eq!(e.outcome, AuditOutcome::Denied);
        assert_eq!(e.reason_code.as_deref(), Some("not_an_admin"));
        assert_eq!(e.actor.kind, "user");
        assert_eq!(e.actor.email.as_deref(), Some("mia@refuse.test"));
        assert_eq!(e.actor.role.as_deref(), Some("user"));
        assert_eq!(e.details["operation"], "update_organization");
        assert!(e.context.request_id.as_deref().is_some_and(|r| !r.is_empty()), "{e:?}");

        // The admin's change: actor as they were, target by its name then.
        let update = events.iter().find(|e| e.action == "update_organization").expect("update_organization");
        assert_eq!(update.outcome, AuditOutcome::Success);
        assert_eq!(update.reason_code, None);
        assert_eq!(update.actor.email.as_deref(), Some("boss@refuse.test"));
        assert_eq!(update.actor.role.as_deref(), Some("org_admin"));
        assert_eq!(update.target.as_ref().and_then(|t| t.name.as_deref()), Some("Refuse Corp"));
        let joined: Vec<_> =
            events.iter().filter(|e| e.action == "add_user_to_org").filter_map(|e| e.target.as_ref()?.name.as_deref()).collect();
        assert_eq!(joined, ["Boss", "Mia"]);
    }
}
