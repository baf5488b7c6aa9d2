//! The OpenID Connect relying party: discovery, the authorization request
//! (code flow, PKCE S256, state, nonce), the code exchange, and the checks
//! every ID token passes before anyone is signed in with it. What the
//! claims *mean* (organization, role, MFA) is decided in `service::sso`;
//! this module only turns a provider's answer into verified facts.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreErrorResponseType,
    CoreGenderClaim, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::OAuth2TokenResponse;
use openidconnect::{
    AccessToken, AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IdTokenClaims, IdTokenFields,
    IdTokenVerifier, IssuerUrl, JsonWebKeySet, JsonWebKeySetUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, StandardErrorResponse,
    StandardTokenResponse, SubjectIdentifier, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::server::clock::Clock;
use crate::server::config::OidcConfig;

/// Claims beyond the standard ones, kept as they came: Zitadel's are URNs
/// (`urn:zitadel:iam:…`) that no fixed struct can name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
impl AdditionalClaims for ExtraClaims {}

/// Discovery fields the core metadata type does not carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtraMetadata {
    /// RP-initiated logout.
    pub end_session_endpoint: Option<EndSessionUrl>,
    /// RFC 9207: the provider puts `iss` on its authorization responses.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: Option<bool>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;
type ZitadelIdToken = IdToken<ExtraClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type ZitadelIdTokenClaims = IdTokenClaims<ExtraClaims, CoreGenderClaim>;
type ZitadelTokenResponse = StandardTokenResponse<
    IdTokenFields<ExtraClaims, EmptyExtraTokenFields, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>,
    CoreTokenType,
>;
type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    ZitadelTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in through the provider failed. `code` goes to the audit
/// trail and tests; `detail` to the log and the audit trail, never to the
/// browser (it can name keys and claims).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct OidcError {
    pub code: &'static str,
    pub detail: String,
}

impl OidcError {
    fn new(code: &'static str, detail: impl std::fmt::Display) -> Self {
        Self { code, detail: detail.to_string() }
    }

    /// What the person signing in is told.
    pub fn public_message(&self) -> &'static str {
        match self.code {
            "discovery_failed" => "The identity provider cannot be reached right now. Try again later or sign in with your password.",
            "provider_error" => "The identity provider did not sign you in.",
            "flow_missing" | "state_mismatch" | "flow_expired" => {
                "This sign-in link is no longer valid. Start again with “Sign in with Zitadel”."
            }
            _ => "Single sign-on failed: the identity provider's answer could not be verified.",
        }
    }
}

/// The start of a sign-in: where to send the browser, and what the
/// callback must find again.
pub struct AuthRequest {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// What the provider asserted about the organization the person belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgClaim {
    pub external_id: String,
    pub name: Option<String>,
    pub primary_domain: Option<String>,
}

/// A role key granted at the provider, with the provider organizations it
/// was granted in (empty when the claim does not say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    pub key: String,
    pub org_ids: Vec<String>,
}

/// Facts from a verified ID token (and userinfo, where the token lacked them).
#[derive(Debug, Clone)]
pub struct VerifiedLogin {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub org: Option<OrgClaim>,
    /// The token names the user's resource owner
    /// (`urn:zitadel:iam:user:resourceowner:id`), not only a fallback claim.
    pub resource_owner_claimed: bool,
    /// The token's `nonce`, for the API exchange's check.
    pub nonce: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub amr: Vec<String>,
    pub expires_at: DateTime<Utc>,
    /// The token as received, for the logout hint.
    pub raw_id_token: String,
}

impl VerifiedLogin {
    /// Whether the provider says a second factor was used (RFC 8176 values;
    /// `u2f` is Zitadel's own).
    pub fn second_factor(&self) -> bool {
        const SECOND: &[&str] = &["mfa", "otp", "hwk", "swk", "sc", "sms", "tel", "user", "fpt", "face", "iris", "retina", "vbm", "u2f"];
        self.amr.iter().any(|m| SECOND.contains(&m.as_str()))
    }
}

/// The provider as discovered, with its keys.
struct Discovered {
    client: OidcClient,
    issuer: IssuerUrl,
    jwks_uri: JsonWebKeySetUrl,
    end_session: Option<EndSessionUrl>,
    iss_parameter_supported: bool,
    keys: Mutex<Keys>,
}

struct Keys {
    set: JsonWebKeySet<CoreJsonWebKey>,
    /// When the set was last re-fetched because of an unknown key id.
    refreshed: Option<Instant>,
}

enum Discovery {
    Ready(Arc<Discovered>),
    Failed { error: OidcError, at: Instant },
}

/// A failed discovery is retried at most this often, so a dead provider is
/// not hammered by every click on the button.
const REDISCOVER_AFTER: Duration = Duration::from_secs(10);
/// The key set is re-fetched for an unknown `kid` at most this often, so
/// tokens with made-up key ids cannot make us flood the provider.
const REFRESH_KEYS_AFTER: Duration = Duration::from_secs(10);
/// An ID token issued further in the future than this is refused (clock skew).
const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// The relying party. Cheap to clone; discovery happens once and is cached.
#[derive(Clone)]
pub struct OidcProvider {
    inner: Arc<Inner>,
}

struct Inner {
    config: OidcConfig,
    http: openidconnect::reqwest::Client,
    clock: Arc<dyn Clock>,
    discovery: tokio::sync::Mutex<Option<Discovery>>,
}

impl OidcProvider {
    pub fn new(config: OidcConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        // No redirects: a provider endpoint that redirects elsewhere is a
        // misconfiguration or an attack (SSRF), not something to follow.
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self { inner: Arc::new(Inner { config, http, clock, discovery: tokio::sync::Mutex::new(None) }) })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.inner.config
    }

    pub fn issuer(&self) -> &str {
        &self.inner.config.issuer
    }

    /// The provider's metadata and keys, discovered on first use (and at
    /// start-up, to report a bad configuration early).
    pub async fn discover(&self) -> Result<(), OidcError> {
        self.discovered().await.map(|_| ())
    }

    async fn discovered(&self) -> Result<Arc<Discovered>, OidcError> {
        let mut slot = self.inner.discovery.lock().await;
        match &*slot {
            Some(Discovery::Ready(d)) => return Ok(d.clone()),
            Some(Discovery::Failed { error, at }) if at.elapsed() < REDISCOVER_AFTER => return Err(error.clone()),
            _ => {}
        }
        match self.fetch_metadata().await {
            Ok(d) => {
                let d = Arc::new(d);
                *slot = Some(Discovery::Ready(d.clone()));
                Ok(d)
            }
            Err(error) => {
                *slot = Some(Discovery::Failed { error: error.clone(), at: Instant::now() });
                Err(error)
            }
        }
    }

    async fn fetch_metadata(&self) -> Result<Discovered, OidcError> {
        let cfg = &self.inner.config;
        let issuer = IssuerUrl::new(cfg.issuer.clone()).map_err(|e| OidcError::new("discovery_failed", e))?;
        // The crate refuses metadata whose `issuer` differs from the one
        // asked for (OpenID Connect Discovery §4.3).
        let metadata = Metadata::discover_async(issuer.clone(), &self.inner.http)
            .await
            .map_err(|e| OidcError::new("discovery_failed", describe_discovery_error(&e, &cfg.issuer)))?;
        let jwks_uri = metadata.jwks_uri().clone();
        let extra = metadata.additional_metadata().clone();
        // The set read with the metadata does not count as a refresh: the
        // first unknown `kid` after start-up may re-fetch at once.
        let keys = Keys { set: metadata.jwks().clone(), refreshed: None };
        let redirect = RedirectUrl::new(cfg.redirect_url.clone()).map_err(|e| OidcError::new("discovery_failed", e))?;
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(cfg.client_id.clone()),
            cfg.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        Ok(Discovered {
            client,
            issuer,
            jwks_uri,
            end_session: extra.end_session_endpoint,
            iss_parameter_supported: extra.authorization_response_iss_parameter_supported.unwrap_or(false),
            keys: Mutex::new(keys),
        })
    }

    /// A new authorization request: code flow with PKCE S256, a fresh
    /// `state` and `nonce`.
    /// `fresh` asks the provider to prove the person again (`prompt=login`)
    /// rather than reuse its own session: a re-authentication must not be
    /// satisfied by whoever holds the browser.
    pub async fn authorization_request(&self, fresh: bool) -> Result<AuthRequest, OidcError> {
        let d = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let scopes = self.inner.config.scopes.iter().filter(|s| s.as_str() != "openid").map(|s| Scope::new(s.clone()));
        let mut request = d
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scopes(scopes)
            .set_pkce_challenge(challenge);
        if fresh {
            request = request.add_prompt(openidconnect::core::CoreAuthPrompt::Login);
        }
        let (url, state, nonce) = request.url();
        Ok(AuthRequest {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// The callback's second half: the RFC 9207 `iss` check, the code
    /// exchange (with the PKCE verifier), and the ID token checks against
    /// the nonce this browser's flow was started with.
    pub async fn finish(
        &self,
        code: &str,
        iss_parameter: Option<&str>,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<VerifiedLogin, OidcError> {
        let d = self.discovered().await?;
        match iss_parameter {
            Some(iss) if iss != d.issuer.as_str() => {
                return Err(OidcError::new(
                    "invalid_iss_parameter",
                    format!("authorization response iss {iss:?} is not {:?}", d.issuer.as_str()),
                ));
            }
            None if d.iss_parameter_supported => {
                return Err(OidcError::new("invalid_iss_parameter", "the provider announces the iss response parameter but sent none"));
            }
            _ => {}
        }
        let response = d
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::new("token_exchange_failed", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.inner.http)
            .await
            .map_err(|e| OidcError::new("token_exchange_failed", describe_token_error(&e)))?;
        let id_token = response.id_token().ok_or_else(|| OidcError::new("invalid_id_token", "the token response has no id_token"))?;
        let expected = Nonce::new(nonce.to_owned());
        let mut login = self.verify(&d, id_token, &expected, None).await?;
        if login.email.is_none() || login.name.is_none() {
            self.complete_from_userinfo(&d, response.access_token(), &mut login).await?;
        }
        Ok(login)
    }

    /// Checks an ID token an API client obtained with its own PKCE flow.
    /// There is no nonce of ours to compare, so the token must be fresh
    /// (`iat` within `max_age`) and the caller refuses a second use.
    pub async fn verify_external(&self, raw: &str, max_age: chrono::Duration) -> Result<VerifiedLogin, OidcError> {
        let d = self.discovered().await?;
        let token: ZitadelIdToken =
            raw.trim().parse().map_err(|e: serde_json::Error| OidcError::new("invalid_id_token", format!("not a valid ID token: {e}")))?;
        let login = self.verify(&d, &token, |_: Option<&Nonce>| Ok(()), Some(max_age)).await?;
        if login.email.is_none() {
            return Err(OidcError::new("missing_email", "the ID token carries no email (request the email scope)"));
        }
        Ok(login)
    }

    /// Where the browser goes to end its session at the provider, if the
    /// provider offers RP-initiated logout.
    pub async fn end_session_url(&self, id_token: Option<&str>) -> Option<String> {
        let d = self.discovered().await.ok()?;
        let endpoint = d.end_session.clone()?;
        let mut req = LogoutRequest::from(endpoint).set_client_id(ClientId::new(self.inner.config.client_id.clone()));
        if let Ok(url) = PostLogoutRedirectUrl::new(self.inner.config.post_logout_url.clone()) {
            req = req.set_post_logout_redirect_uri(url);
        }
        if let Some(hint) = id_token.and_then(|t| t.parse::<ZitadelIdToken>().ok()) {
            req = req.set_id_token_hint(&hint);
        }
        Some(req.http_get_url().to_string())
    }

    /// The issuer's origin, for the pages' `form-action` policy (a form
    /// that signs out may be redirected there).
    pub fn issuer_origin(&self) -> Option<String> {
        let url = url::Url::parse(&self.inner.config.issuer).ok()?;
        Some(url.origin().ascii_serialization())
    }

    async fn verify<N>(
        &self,
        d: &Discovered,
        token: &ZitadelIdToken,
        nonce: N,
        max_age: Option<chrono::Duration>,
    ) -> Result<VerifiedLogin, OidcError>
    where
        N: openidconnect::NonceVerifier + Clone,
    {
        let first = self.check(d, token, nonce.clone(), max_age);
        let claims = match first {
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                // An unknown key id: the provider may have rotated its keys.
                if self.refresh_keys(d).await? {
                    self.check(d, token, nonce, max_age)
                } else {
                    first
                }
            }
            other => other,
        }
        .map_err(|e| OidcError::new(verification_code(&e), e))?;
        self.check_authorized_party(&claims)?;
        Ok(login_from_claims(d.issuer.as_str(), &claims, token.to_string()))
    }

    fn check<N>(
        &self,
        d: &Discovered,
        token: &ZitadelIdToken,
        nonce: N,
        max_age: Option<chrono::Duration>,
    ) -> Result<ZitadelIdTokenClaims, ClaimsVerificationError>
    where
        N: openidconnect::NonceVerifier,
    {
        let cfg = &self.inner.config;
        let keys = d.keys.lock().expect("keys lock").set.clone();
        let algs: Vec<CoreJwsSigningAlgorithm> = cfg.signing_algs.iter().filter_map(|a| signing_alg_named(a)).collect();
        let trusted: HashSet<String> = cfg.extra_audiences.iter().cloned().collect();
        let clock = self.inner.clock.clone();
        let iat_clock = self.inner.clock.clone();
        // A public-client verifier: no client secret, so HS256/384/512 are
        // refused whatever the token's header says (and `none` always is).
        let verifier: IdTokenVerifier<CoreJsonWebKey> =
            IdTokenVerifier::new_public_client(ClientId::new(cfg.client_id.clone()), d.issuer.clone(), keys)
                .set_allowed_algs(algs)
                .set_other_audience_verifier_fn(move |aud| trusted.contains(aud.as_str()))
                .set_time_fn(move || clock.now())
                .set_issue_time_verifier_fn(move |iat| {
                    let now = iat_clock.now();
                    if iat > now + MAX_CLOCK_SKEW {
                        return Err(format!("issued in the future ({iat})"));
                    }
                    if let Some(max) = max_age {
                        if now - iat > max {
                            return Err(format!("issued at {iat}, more than {} minutes ago", max.num_minutes()));
                        }
                    }
                    Ok(())
                });
        token.claims(&verifier, nonce).cloned()
    }

    /// `azp` (OpenID Connect Core §3.1.3.7, steps 4–5), which the crate
    /// leaves to the client: present and ours whenever there are several
    /// audiences, and ours whenever present.
    fn check_authorized_party(&self, claims: &ZitadelIdTokenClaims) -> Result<(), OidcError> {
        let ours = self.inner.config.client_id.as_str();
        match claims.authorized_party() {
            Some(azp) if azp.as_str() != ours => Err(OidcError::new("invalid_azp", format!("azp {:?} is not our client id", azp.as_str()))),
            None if claims.audiences().len() > 1 => Err(OidcError::new("invalid_azp", "several audiences but no azp")),
            _ => Ok(()),
        }
    }

    /// Re-reads the provider's key set; false when it was read too recently
    /// to try again.
    async fn refresh_keys(&self, d: &Discovered) -> Result<bool, OidcError> {
        if d.keys.lock().expect("keys lock").refreshed.is_some_and(|t| t.elapsed() < REFRESH_KEYS_AFTER) {
            return Ok(false);
        }
        let set = JsonWebKeySet::<CoreJsonWebKey>::fetch_async(&d.jwks_uri, &self.inner.http)
            .await
            .map_err(|e| OidcError::new("jwks_fetch_failed", e))?;
        let mut keys = d.keys.lock().expect("keys lock");
        keys.set = set;
        keys.refreshed = Some(Instant::now());
        Ok(true)
    }

    async fn complete_from_userinfo(&self, d: &Discovered, access_token: &AccessToken, login: &mut VerifiedLogin) -> Result<(), OidcError> {
        let request = match d.client.user_info(access_token.clone(), Some(SubjectIdentifier::new(login.subject.clone()))) {
            Ok(r) => r,
            // No userinfo endpoint: what the token has is all there is.
            Err(_) => return Ok(()),
        };
        let info: openidconnect::UserInfoClaims<ExtraClaims, CoreGenderClaim> =
            request.request_async(&self.inner.http).await.map_err(|e| OidcError::new("userinfo_failed", e))?;
        if login.email.is_none() {
            login.email = info.email().map(|e| e.as_str().to_owned());
            login.email_verified = info.email_verified().unwrap_or(false);
        }
        if login.name.is_none() {
            login.name = info.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned());
        }
        Ok(())
    }
}

/// `RS256` → the crate's algorithm value (its serde names are the JOSE ones).
fn signing_alg_named(name: &str) -> Option<CoreJwsSigningAlgorithm> {
    serde_json::from_value(Value::String(name.to_owned())).ok()
}

/// A short code per kind of refusal, named after what was wrong.
fn verification_code(e: &ClaimsVerificationError) -> &'static str {
    match e {
        ClaimsVerificationError::Expired(_) => "token_expired",
        ClaimsVerificationError::InvalidAudience(_) => "invalid_aud",
        ClaimsVerificationError::InvalidIssuer(_) => "invalid_iss",
        ClaimsVerificationError::InvalidNonce(_) => "invalid_nonce",
        ClaimsVerificationError::InvalidSubject(_) => "invalid_sub",
        ClaimsVerificationError::SignatureVerification(s) => match s {
            SignatureVerificationError::NoSignature | SignatureVerificationError::DisallowedAlg(_) => "disallowed_alg",
            SignatureVerificationError::NoMatchingKey => "unknown_key",
            SignatureVerificationError::AmbiguousKeyId(_) => "ambiguous_key",
            _ => "invalid_signature",
        },
        _ => "invalid_id_token",
    }
}

/// An error with its causes ("client error: error sending request: connection
/// refused"), since the outer layers alone say little.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn describe_discovery_error<E: std::error::Error>(e: &openidconnect::DiscoveryError<E>, issuer: &str) -> String {
    use openidconnect::DiscoveryError as D;
    match e {
        D::Request(inner) => format!("the issuer {issuer} is unreachable: {}", error_chain(inner)),
        D::Validation(v) => format!("the metadata of {issuer} is not valid for it: {v}"),
        D::Parse(p) => format!("the metadata of {issuer} does not parse: {p}"),
        D::Response(status, _, _) => format!("the issuer {issuer} answered discovery with HTTP {status}"),
        other => format!("discovery of {issuer} failed: {other}"),
    }
}

fn describe_token_error<E: std::error::Error>(e: &RequestTokenError<E, StandardErrorResponse<CoreErrorResponseType>>) -> String {
    match e {
        RequestTokenError::ServerResponse(r) => format!("the token endpoint refused the code: {r}"),
        RequestTokenError::Parse(p, _) => format!("the token response does not parse: {p}"),
        RequestTokenError::Request(r) => format!("the token endpoint is unreachable: {}", error_chain(r)),
        RequestTokenError::Other(o) => format!("token exchange failed: {o}"),
    }
}

fn string_claim(extra: &Map<String, Value>, key: &str) -> Option<String> {
    extra.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The claim Zitadel fills when the `urn:zitadel:iam:user:resourceowner`
/// scope was asked for.
pub const RESOURCE_OWNER_ID: &str = "urn:zitadel:iam:user:resourceowner:id";
/// That scope.
pub const RESOURCE_OWNER_SCOPE: &str = "urn:zitadel:iam:user:resourceowner";

/// Organization, in the product's order: the user's resource owner, then
/// the token's organization, then a plain `org` claim.
fn org_claim(extra: &Map<String, Value>) -> Option<OrgClaim> {
    if let Some(id) = string_claim(extra, RESOURCE_OWNER_ID) {
        return Some(OrgClaim {
            external_id: id,
            name: string_claim(extra, "urn:zitadel:iam:user:resourceowner:name"),
            primary_domain: string_claim(extra, "urn:zitadel:iam:user:resourceowner:primary_domain"),
        });
    }
    if let Some(id) = string_claim(extra, "urn:zitadel:iam:org:id") {
        return Some(OrgClaim { external_id: id, name: None, primary_domain: None });
    }
    string_claim(extra, "org").map(|org| OrgClaim { external_id: org.clone(), name: Some(org), primary_domain: None })
}

/// Role keys from `urn:zitadel:iam:org:project:roles` and
/// `urn:zitadel:iam:org:project:{id}:roles`, each with the provider
/// organizations it was granted in.
fn role_grants(extra: &Map<String, Value>) -> Vec<RoleGrant> {
    let mut grants: Vec<RoleGrant> = Vec::new();
    for (claim, value) in extra {
        let is_roles = claim == "urn:zitadel:iam:org:project:roles"
            || claim
                .strip_prefix("urn:zitadel:iam:org:project:")
                .and_then(|r| r.strip_suffix(":roles"))
                .is_some_and(|id| !id.is_empty() && !id.contains(':'));
        let Some(roles) = is_roles.then(|| value.as_object()).flatten() else { continue };
        for (key, granted_in) in roles {
            let org_ids: Vec<String> = granted_in.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
            match grants.iter_mut().find(|g| &g.key == key) {
                Some(g) => g.org_ids.extend(org_ids),
                None => grants.push(RoleGrant { key: key.clone(), org_ids }),
            }
        }
    }
    grants
}

fn login_from_claims(issuer: &str, claims: &ZitadelIdTokenClaims, raw: String) -> VerifiedLogin {
    let extra = &claims.additional_claims().other;
    VerifiedLogin {
        issuer: issuer.to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned())
            .or_else(|| claims.preferred_username().map(|u| u.as_str().to_owned())),
        org: org_claim(extra),
        resource_owner_claimed: string_claim(extra, RESOURCE_OWNER_ID).is_some(),
        nonce: claims.nonce().map(|n| n.secret().clone()),
        roles: role_grants(extra),
        amr: claims.auth_method_refs().map(|v| v.iter().map(|m| m.as_str().to_owned()).collect()).unwrap_or_default(),
        expires_at: claims.expiration(),
        raw_id_token: raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn organization_claims_in_the_products_order() {
        let all = map(json!({
            "urn:zitadel:iam:user:resourceowner:id": "111",
            "urn:zitadel:iam:user:resourceowner:name": "Acme",
            "urn:zitadel:iam:user:resourceowner:primary_domain": "acme.test",
            "urn:zitadel:iam:org:id": "222",
            "org": "Plain"
        }));
        assert_eq!(
            org_claim(&all),
            Some(OrgClaim { external_id: "111".into(), name: Some("Acme".into()), primary_domain: Some("acme.test".into()) })
        );
        let no_owner = map(json!({ "urn:zitadel:iam:org:id": "222", "org": "Plain" }));
        assert_eq!(org_claim(&no_owner).unwrap().external_id, "222");
        let plain = map(json!({ "org": "Plain" }));
        assert_eq!(org_claim(&plain).unwrap(), OrgClaim { external_id: "Plain".into(), name: Some("Plain".into()), primary_domain: None });
        assert_eq!(org_claim(&map(json!({ "org": "  " }))), None);
        assert_eq!(org_claim(&map(json!({ "urn:zitadel:iam:org:id": 5 }))), None);
    }

    #[test]
    fn roles_from_both_claim_shapes() {
        let claims = map(json!({
            "urn:zitadel:iam:org:project:roles": { "admin": { "111": "acme.test" } },
            "urn:zitadel:iam:org:project:999:roles": { "admin": { "333": "x.test" }, "viewer": {} },
            "urn:zitadel:iam:org:project:roles:extra": { "owner": {} },
            "roles": { "platform": {} }
        }));
        let mut grants = role_grants(&claims);
        grants.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(grants.len(), 2, "{grants:?}");
        assert_eq!(grants[0].key, "admin");
        let mut ids = grants[0].org_ids.clone();
        ids.sort();
        assert_eq!(ids, vec!["111".to_string(), "333".to_string()]);
        assert_eq!(grants[1], RoleGrant { key: "viewer".into(), org_ids: vec![] });
    }
}
