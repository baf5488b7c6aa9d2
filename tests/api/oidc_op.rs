//! An OpenID Provider that runs inside a test and says whatever the test
//! wants: discovery, keys, token and userinfo endpoints over real HTTP, ID
//! tokens signed with real RSA keys, and every kind of wrong one. The
//! relying party under test cannot tell it from Zitadel until a token is
//! crafted to be wrong.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, TestApp};

pub const CLIENT_ID: &str = "neosc-test";
pub const CLIENT_SECRET: &str = "test-client-secret-of-some-length";
pub const PUBLIC_URL: &str = "http://console.neosc.test";

const KEY_PEMS: [&str; 3] =
    [include_str!("fixtures/oidc-key-a.pem"), include_str!("fixtures/oidc-key-b.pem"), include_str!("fixtures/oidc-key-c.pem")];
pub const KID_A: &str = "key-a";
pub const KID_B: &str = "key-b";
pub const KID_C: &str = "key-c";

fn key(kid: &str) -> CoreRsaPrivateSigningKey {
    let i = [KID_A, KID_B, KID_C].iter().position(|k| *k == kid).expect("known kid");
    CoreRsaPrivateSigningKey::from_pem(KEY_PEMS[i], Some(JsonWebKeyId::new(kid.to_owned()))).expect("test key")
}

/// How the next ID token is signed.
#[derive(Clone, Debug)]
pub enum Signing {
    /// RS256 with this key; the header names `kid` unless `None`.
    Rs256 { key: &'static str, kid_in_header: bool },
    /// RS256 with a valid signature over different claims than sent.
    Rs256Tampered,
    /// HS256 with the client secret as the key.
    Hs256ClientSecret,
    /// `alg: none`, no signature.
    None,
}

/// What the token endpoint answers for the next code.
pub struct Plan {
    pub signing: Signing,
    /// Changes to the default claims: a `null` removes a claim.
    pub claims: Value,
    /// Put this into the ID token's `nonce` instead of the request's.
    pub nonce: Option<String>,
}

impl Default for Plan {
    fn default() -> Self {
        Plan { signing: Signing::Rs256 { key: KID_A, kid_in_header: true }, claims: json!({}), nonce: None }
    }
}

struct Authorized {
    nonce: String,
    code_challenge: String,
    redirect_uri: String,
}

struct OpState {
    issuer: String,
    /// What discovery says the issuer is (a lie when set).
    metadata_issuer: Option<String>,
    /// Keys in the published set.
    published: Vec<&'static str>,
    /// Publish keys without their `kid`.
    publish_without_kid: bool,
    iss_parameter_supported: bool,
    codes: HashMap<String, Authorized>,
    used_codes: Vec<String>,
    plans: Vec<Plan>,
    /// What userinfo returns (merged over `sub`).
    userinfo: Value,
    pub token_requests: usize,
    pub jwks_requests: usize,
}

#[derive(Clone)]
pub struct TestOp {
    pub issuer: String,
    state: Arc<Mutex<OpState>>,
}

/// The default person: Zitadel-shaped claims of an org admin of org 111.
pub fn alice() -> Value {
    json!({
        "sub": "zitadel-alice",
        "email": "alice@acme-zitadel.test",
        "email_verified": true,
        "name": "Alice Acme",
        "amr": ["pwd", "otp"],
        "urn:zitadel:iam:user:resourceowner:id": "111",
        "urn:zitadel:iam:user:resourceowner:name": "Acme Zitadel",
        "urn:zitadel:iam:user:resourceowner:primary_domain": "acme-zitadel.test",
        "urn:zitadel:iam:org:project:roles": { "admin": { "111": "acme-zitadel.test" } }
    })
}

impl TestOp {
    pub async fn start() -> TestOp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(OpState {
            issuer: issuer.clone(),
            metadata_issuer: None,
            published: vec![KID_A],
            publish_without_kid: false,
            iss_parameter_supported: false,
            codes: HashMap::new(),
            used_codes: Vec::new(),
            plans: Vec::new(),
            userinfo: json!({}),
            token_requests: 0,
            jwks_requests: 0,
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/keys", get(jwks))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestOp { issuer, state }
    }

    /// Starts NeoSC configured for this provider; `extra` adds settings.
    pub async fn spawn_app(&self, backend: Backend, extra: &[(&str, &str)]) -> Option<TestApp> {
        let mut env = vec![
            ("NEOSC_OIDC_ISSUER", self.issuer.as_str()),
            ("NEOSC_OIDC_CLIENT_ID", CLIENT_ID),
            ("NEOSC_OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("NEOSC_PUBLIC_URL", PUBLIC_URL),
        ];
        env.extend_from_slice(extra);
        TestApp::spawn(backend, &env).await
    }

    pub fn lie_about_issuer(&self, issuer: &str) {
        self.state.lock().unwrap().metadata_issuer = Some(issuer.to_owned());
    }

    pub fn publish(&self, kids: &[&'static str], with_kid: bool) {
        let mut s = self.state.lock().unwrap();
        s.published = kids.to_vec();
        s.publish_without_kid = !with_kid;
    }

    pub fn announce_iss_parameter(&self) {
        self.state.lock().unwrap().iss_parameter_supported = true;
    }

    pub fn set_userinfo(&self, claims: Value) {
        self.state.lock().unwrap().userinfo = claims;
    }

    /// The next code's token answer.
    pub fn plan(&self, plan: Plan) {
        self.state.lock().unwrap().plans.push(plan);
    }

    pub fn jwks_requests(&self) -> usize {
        self.state.lock().unwrap().jwks_requests
    }

    /// Plays the provider's login page: takes the authorization URL the RP
    /// redirected to, and issues a code for it.
    pub fn authorize(&self, authorization_url: &str) -> String {
        let url = reqwest::Url::parse(authorization_url).unwrap();
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q.get("response_type").map(String::as_str), Some("code"));
        assert_eq!(q.get("client_id").map(String::as_str), Some(CLIENT_ID));
        assert_eq!(q.get("code_challenge_method").map(String::as_str), Some("S256"), "PKCE S256 is always used");
        let scope = q.get("scope").cloned().unwrap_or_default();
        // The Zitadel scopes are the RP's configuration (NEOSC_OIDC_SCOPES);
        // these three it always needs.
        for s in ["openid", "profile", "email"] {
            assert!(scope.split(' ').any(|x| x == s), "scope {s} requested: {scope}");
        }
        assert!(q.get("state").is_some_and(|s| s.len() >= 16), "state is random");
        let code = format!("code-{}", uuid::Uuid::new_v4());
        self.state.lock().unwrap().codes.insert(
            code.clone(),
            Authorized { nonce: q["nonce"].clone(), code_challenge: q["code_challenge"].clone(), redirect_uri: q["redirect_uri"].clone() },
        );
        code
    }

    /// An ID token as the token endpoint would sign it, for API clients'
    /// own flows.
    pub fn id_token(&self, plan: Plan, nonce: &str) -> String {
        let issuer = self.issuer.clone();
        make_id_token(&issuer, &plan, nonce)
    }
}

async fn discovery(State(s): State<Arc<Mutex<OpState>>>) -> Json<Value> {
    let s = s.lock().unwrap();
    let iss = &s.issuer;
    Json(json!({
        "issuer": s.metadata_issuer.clone().unwrap_or_else(|| iss.clone()),
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "jwks_uri": format!("{iss}/keys"),
        "end_session_endpoint": format!("{iss}/end_session"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256"],
        "scopes_supported": ["openid", "profile", "email"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": s.iss_parameter_supported,
    }))
}

async fn jwks(State(s): State<Arc<Mutex<OpState>>>) -> Json<Value> {
    let mut s = s.lock().unwrap();
    s.jwks_requests += 1;
    let keys: Vec<Value> = s
        .published
        .iter()
        .map(|kid| {
            let mut jwk = serde_json::to_value(key(kid).as_verification_key()).unwrap();
            if s.publish_without_kid {
                jwk.as_object_mut().unwrap().remove("kid");
            }
            jwk
        })
        .collect();
    Json(json!({ "keys": keys }))
}

fn oauth_error(code: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": code }))).into_response()
}

async fn token(State(s): State<Arc<Mutex<OpState>>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let mut s = s.lock().unwrap();
    s.token_requests += 1;
    let code = form.get("code").cloned().unwrap_or_default();
    if s.used_codes.contains(&code) {
        return oauth_error("invalid_grant");
    }
    let Some(auth) = s.codes.remove(&code) else { return oauth_error("invalid_grant") };
    s.used_codes.push(code);
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != auth.code_challenge {
        return oauth_error("invalid_grant");
    }
    if form.get("redirect_uri") != Some(&auth.redirect_uri) {
        return oauth_error("invalid_grant");
    }
    let plan = if s.plans.is_empty() { Plan::default() } else { s.plans.remove(0) };
    let id_token = make_id_token(&s.issuer, &plan, &auth.nonce);
    Json(json!({ "access_token": "opaque-access-token", "token_type": "Bearer", "expires_in": 300, "id_token": id_token })).into_response()
}

async fn userinfo(State(s): State<Arc<Mutex<OpState>>>) -> Json<Value> {
    let s = s.lock().unwrap();
    let mut claims = alice();
    merge(&mut claims, &s.userinfo);
    Json(claims)
}

fn merge(base: &mut Value, changes: &Value) {
    let base = base.as_object_mut().unwrap();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            base.remove(k);
        } else {
            base.insert(k.clone(), v.clone());
        }
    }
}

fn make_id_token(issuer: &str, plan: &Plan, nonce: &str) -> String {
    let now = Utc::now().timestamp();
    let mut claims = alice();
    merge(
        &mut claims,
        &json!({
            "iss": issuer,
            "aud": CLIENT_ID,
            "azp": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": plan.nonce.clone().unwrap_or_else(|| nonce.to_owned()),
        }),
    );
    merge(&mut claims, &plan.claims);
    let payload = serde_json::to_vec(&claims).unwrap();
    let (alg, kid) = match &plan.signing {
        Signing::Rs256 { key, kid_in_header } => ("RS256", kid_in_header.then_some(*key)),
        Signing::Rs256Tampered => ("RS256", Some(KID_A)),
        Signing::Hs256ClientSecret => ("HS256", None),
        Signing::None => ("none", None),
    };
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg));
    header.insert("typ".into(), json!("JWT"));
    if let Some(kid) = kid {
        header.insert("kid".into(), json!(kid));
    }
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()), URL_SAFE_NO_PAD.encode(&payload));
    let signature = match &plan.signing {
        Signing::Rs256 { key: k, .. } => key(k).sign(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, signing_input.as_bytes()).unwrap(),
        Signing::Rs256Tampered => {
            // Signed over the true claims, sent with an email swapped in.
            let sig = key(KID_A).sign(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, signing_input.as_bytes()).unwrap();
            let mut forged = claims.clone();
            forged["email"] = json!("mallory@acme-zitadel.test");
            let forged_input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap())
            );
            return format!("{forged_input}.{}", URL_SAFE_NO_PAD.encode(sig));
        }
        Signing::Hs256ClientSecret => {
            let mut mac = Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).unwrap();
            mac.update(signing_input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Signing::None => Vec::new(),
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
