//! `/api/docs`: the API reference, rendered in the browser by Redoc from
//! `/api/openapi.json`. Redoc's standalone bundle (npm `redoc`, pinned in
//! package-lock.json; `make api-contract` checks this copy is that file)
//! is compiled into the binary and served from here: no CDN. The page's
//! CSP runs only that script (`script-src 'self'`, no inline script);
//! Redoc's styles carry a per-response nonce.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rand::RngCore;

/// Where the script is served: Redoc, then the few lines that start it.
pub const SCRIPT_PATH: &str = "/api/docs/redoc.js";

const REDOC: &str = include_str!("redoc/redoc.standalone.js");

const START: &str = r#"
;(function () {
  var nonce = document.querySelector('meta[name="neosc-style-nonce"]');
  Redoc.init('/api/openapi.json', {
    nonce: nonce ? nonce.content : undefined,
    disableSearch: true,
    expandResponses: '200,201',
    jsonSampleExpandLevel: 2,
    sortPropsAlphabetically: false
  }, document.getElementById('redoc'));
})();
"#;

fn csp(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; \
         font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

pub async fn page() -> Response {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let nonce = base64::engine::general_purpose::STANDARD.encode(bytes);
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="neosc-style-nonce" content="{nonce}">
<title>NeoSC API reference</title>
<style nonce="{nonce}">body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>The API reference needs JavaScript. The document itself is at <a href="/api/openapi.json">/api/openapi.json</a>.</noscript>
<div id="redoc"></div>
<script src="{SCRIPT_PATH}"></script>
</body>
</html>
"#
    );
    let mut res = (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    if let Ok(v) = HeaderValue::from_str(&csp(&nonce)) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub async fn script() -> Response {
    static SCRIPT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = SCRIPT.get_or_init(|| format!("{REDOC}{START}")).as_str();
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}
