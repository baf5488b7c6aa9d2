//! Every request has an id: made here or kept from a proxy when it is a
//! plain token, sent back as `X-Request-Id` and quoted in problem+json.

use reqwest::StatusCode;

use crate::helpers::*;

both_backends! {
    async fn every_response_carries_its_request_id_and_problems_quote_it(app: TestApp) {
        let res = app.get("/api/auth/me").send().await.unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "a fresh id is a UUID: {id}");
        let problem = assert_problem(res, StatusCode::UNAUTHORIZED).await;
        assert_eq!(problem["instance"], format!("urn:neosc:request:{id}"));

        let ok = app.get("/healthz").send().await.unwrap();
        assert_ne!(ok.headers()["x-request-id"].to_str().unwrap(), id, "one id per request");
    }

    async fn a_proxy_id_is_kept_only_when_it_is_a_plain_token(app: TestApp) {
        let kept = app.get("/api/auth/me").header("x-request-id", "edge-7f3a.1").send().await.unwrap();
        assert_eq!(kept.headers()["x-request-id"], "edge-7f3a.1");
        assert_eq!(assert_problem(kept, StatusCode::UNAUTHORIZED).await["instance"], "urn:neosc:request:edge-7f3a.1");

        let forged = app.get("/api/auth/me").header("x-request-id", "x\" level=ERROR msg=forged").send().await.unwrap();
        let id = forged.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "an unsafe id is replaced: {id}");
    }
}
