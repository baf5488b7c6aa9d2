//! How the built site's files and the dynamic answers travel: `/pkg` (the
//! WASM bundle, its JS glue and the stylesheet) from files compressed at
//! build time (`scripts/precompress.mjs` writes `.br`/`.gz` next to each),
//! chosen by `Accept-Encoding`; content-hashed names (cargo-leptos
//! `hash-files`) cached for a year, everything else revalidated; answers
//! the server makes compressed on the fly when that pays.

use std::path::{Path, PathBuf};

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Response, StatusCode};
use axum::middleware::Next;
use futures_util::StreamExt;
use leptos::config::LeptosOptions;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// The header of a file whose name holds its content hash: the name changes
/// whenever a byte does, so a copy never goes stale.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else may be kept but is checked (Last-Modified) before use,
/// so a new release is picked up on the next visit.
pub const REVALIDATE: &str = "no-cache";

/// Smaller answers are sent as they are: a compressed frame and its header
/// would save next to nothing, and each costs an encoder.
pub const MIN_COMPRESSED_BYTES: u64 = 1024;

/// The files under the site root, precompressed variants preferred (brotli,
/// then gzip, by the request's `Accept-Encoding`; a client that accepts
/// neither gets the plain file).
pub fn site_files(site_root: &str) -> ServeDir {
    ServeDir::new(site_root).precompressed_br().precompressed_gzip()
}

/// Cache headers for the static files served under `/pkg` and the site
/// root. A response that set its own `Cache-Control` keeps it.
pub async fn static_cache(req: Request, next: Next) -> Response<Body> {
    let hashed = is_content_hashed(req.uri().path());
    let mut res = next.run(req).await;
    if !matches!(res.status(), StatusCode::OK | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT) {
        return res;
    }
    let headers = res.headers_mut();
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static(if hashed { IMMUTABLE } else { REVALIDATE }));
    // The same URL answers brotli, gzip or plain bytes: caches must key
    // on the request's Accept-Encoding.
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

/// Pages are rendered for one visitor (their session, their nonce): never
/// shared, always fetched anew (`no-cache` without validators).
pub async fn page_cache(req: Request, next: Next) -> Response<Body> {
    let mut res = next.run(req).await;
    let html = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("text/html"));
    if html {
        res.headers_mut().entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("private, no-cache"));
    }
    res
}

/// A cargo-leptos hashed name: `stem.<22 base64url characters of MD5>.ext`.
pub fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.rsplit('.');
    let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else { return false };
    !stem.is_empty() && hash.len() == 22 && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Compression of what the server makes (JSON answers, server functions,
/// rendered pages). Precompressed files pass untouched (they carry their
/// `Content-Encoding`).
pub fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new().br(true).gzip(true).no_deflate().no_zstd().compress_when(DynamicPredicate)
}

/// Streamed bodies that end for good. The compression body polls its
/// source once more after the source said it was done, and a stream such
/// as the audit export's `unfold` panics when polled after its end (the
/// connection then breaks off mid-body); a fused stream answers "done"
/// again. Bodies of a known length are left as they are (they keep their
/// Content-Length).
pub async fn fuse_streams(req: Request, next: Next) -> Response<Body> {
    let res = next.run(req).await;
    if res.body().size_hint().exact().is_some() {
        return res;
    }
    let (parts, body) = res.into_parts();
    Response::from_parts(parts, Body::from_stream(body.into_data_stream().fuse()))
}

/// Which dynamic answers are compressed: bodies of a known length of at
/// least [`MIN_COMPRESSED_BYTES`], and streams (rendered pages, the audit
/// export); never images, event streams or gRPC. A stream still streams:
/// the encoder (async-compression) flushes what it holds whenever the
/// source has nothing ready, so an export read from the database reaches
/// the client as it is read (`streamed_bodies_are_flushed_before_they_end`
/// below checks it).
#[derive(Clone, Copy)]
struct DynamicPredicate;

impl Predicate for DynamicPredicate {
    fn should_compress<B: HttpBody>(&self, response: &Response<B>) -> bool {
        let eligible = NotForContentType::IMAGES.and(NotForContentType::SSE).and(NotForContentType::GRPC).should_compress(response);
        eligible && response.body().size_hint().exact().is_none_or(|len| len >= MIN_COMPRESSED_BYTES)
    }
}

/// cargo-leptos writes the hashed names it gave the bundle to `hash.txt`
/// next to the server binary, and Leptos reads them from there when
/// `hash_files` is on. A release built by `make build` has that file, so
/// the names are used without a setting; `LEPTOS_HASH_FILES` set decides
/// either way.
pub fn use_hashed_names_when_built(options: &mut LeptosOptions) {
    if std::env::var_os("LEPTOS_HASH_FILES").is_some() {
        return;
    }
    if let Some(file) = hash_file(&options.hash_file) {
        if file.is_file() {
            tracing::info!(hash_file = %file.display(), "serving the bundle under its content-hashed names");
            options.hash_files = true;
        }
    }
}

fn hash_file(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent().unwrap_or(Path::new(".")).join(name))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::Request;
    use axum::middleware::from_fn;
    use axum::routing::get;
    use axum::Router;
    use tokio::sync::mpsc;
    use tower::ServiceExt;

    use super::*;

    /// A stream whose next chunk waits for the test: the first chunk must
    /// arrive compressed while the stream is still open.
    #[tokio::test]
    async fn streamed_bodies_are_flushed_before_they_end() {
        let (tx, rx) = mpsc::channel::<String>(1);
        let rx = std::sync::Arc::new(std::sync::Mutex::new(Some(rx)));
        let router = Router::new()
            .route(
                "/export",
                get(move || {
                    let rx = rx.lock().unwrap().take().unwrap();
                    let chunks =
                        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|s| (Ok::<_, std::io::Error>(s), rx)) });
                    async move { Body::from_stream(chunks) }
                }),
            )
            .layer(from_fn(fuse_streams))
            .layer(compression());
        let req = Request::get("/export").header(header::ACCEPT_ENCODING, "br").body(Body::empty()).unwrap();
        let res = router.oneshot(req).await.unwrap();
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
        let mut body = res.into_body().into_data_stream();
        tx.send("seq,action\n1,create_organization\n".repeat(50)).await.unwrap();
        let first = tokio::time::timeout(Duration::from_secs(5), body.next()).await;
        let first = first.expect("the first rows leave before the stream ends").unwrap().unwrap();
        assert!(!first.is_empty());
        drop(tx);
        while let Some(chunk) = body.next().await {
            chunk.unwrap();
        }
    }

    #[test]
    fn small_answers_of_known_length_are_not_compressed() {
        let small = Response::builder().header(header::CONTENT_TYPE, "application/json").body(Body::from("{}")).unwrap();
        assert!(!DynamicPredicate.should_compress(&small));
        let large = Response::builder().body(Body::from(vec![b'a'; MIN_COMPRESSED_BYTES as usize])).unwrap();
        assert!(DynamicPredicate.should_compress(&large));
        let image = Response::builder().header(header::CONTENT_TYPE, "image/png").body(Body::from(vec![0; 4096])).unwrap();
        assert!(!DynamicPredicate.should_compress(&image));
    }

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_content_hashed("/pkg/neosc.VQ0dBUv9O1kRZ9pi9Q2V5A.wasm"));
        assert!(is_content_hashed("/pkg/neosc.a-_Bc9dEfGhIjKlMnOpQrS.css"));
        assert!(!is_content_hashed("/pkg/neosc.wasm"));
        assert!(!is_content_hashed("/pkg/neosc_bg.wasm"));
        assert!(!is_content_hashed("/favicon.svg"));
        assert!(!is_content_hashed("/pkg/.VQ0dBUv9O1kRZ9pi9Q2V5A.wasm"));
        assert!(!is_content_hashed("/pkg/neosc.VQ0dBUv9O1kRZ9pi9Q2V5!.wasm"));
    }
}
