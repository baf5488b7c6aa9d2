//! How files and answers travel (issue 15): the bundle's precompressed
//! copies chosen by Accept-Encoding, year-long caching of content-hashed
//! names only, pages never reused without asking, dynamic answers
//! compressed when large or streamed, never when small.
//!
//! Each app serves a site root of its own, made here: a hashed bundle file
//! with `.br` and `.gz` siblings whose bytes differ from each other, so the
//! test sees which file was sent (and that nothing was encoded on the fly).

use std::path::PathBuf;

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use reqwest::StatusCode;

use crate::helpers::*;

const WASM: &str = "/pkg/neosc.VQ0dBUv9O1kRZ9pi9Q2V5A.wasm";
const UNHASHED_JS: &str = "/pkg/neosc.js";

/// A site root under the temp dir with the files of a hashed build.
struct Site {
    root: PathBuf,
}

impl Site {
    fn make() -> Site {
        let root = std::env::temp_dir().join(format!("neosc-assets-{}", uuid::Uuid::new_v4().simple()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        let wasm = pkg.join("neosc.VQ0dBUv9O1kRZ9pi9Q2V5A.wasm");
        std::fs::write(&wasm, Self::bytes("plain")).unwrap();
        std::fs::write(wasm.with_extension("wasm.br"), Self::bytes("brotli")).unwrap();
        std::fs::write(wasm.with_extension("wasm.gz"), Self::bytes("gzip")).unwrap();
        std::fs::write(pkg.join("neosc.js"), "export default function init() {}\n").unwrap();
        Site { root }
    }

    /// Distinct contents for each variant, large enough that an on-the-fly
    /// encoder would take them if the server let it.
    fn bytes(variant: &str) -> Vec<u8> {
        format!("{variant}:").repeat(2000).into_bytes()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    res.headers().get_all(name).iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>().join(", ")
}

/// Runs `body` on an app serving a fresh site root, on both databases.
macro_rules! with_site {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                use super::*;

                async fn run($app: TestApp) $body

                async fn on(backend: Backend) {
                    let site = Site::make();
                    let root = site.root.to_str().unwrap().to_owned();
                    if let Some(app) = TestApp::spawn(backend, &[("LEPTOS_SITE_ROOT", root.as_str())]).await {
                        run(app).await;
                    }
                }

                #[test]
                fn sqlite() {
                    runtime().block_on(on(Backend::Sqlite))
                }

                #[test]
                fn postgres() {
                    runtime().block_on(on(Backend::Postgres))
                }
            }
        )*
    };
}

with_site! {
    async fn bundle_is_sent_precompressed_by_accept_encoding(app: TestApp) {
        for (accept, encoding, variant) in [
            (Some("gzip, deflate, br, zstd"), Some("br"), "brotli"),
            (Some("br;q=1.0, gzip;q=0.5"), Some("br"), "brotli"),
            (Some("gzip"), Some("gzip"), "gzip"),
            (Some("br;q=0, gzip"), Some("gzip"), "gzip"),
            (Some("identity"), None, "plain"),
            (None, None, "plain"),
        ] {
            let mut req = app.get(WASM);
            if let Some(accept) = accept {
                req = req.header(ACCEPT_ENCODING, accept);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{accept:?}");
            assert_eq!(res.headers().get(CONTENT_ENCODING).map(|v| v.to_str().unwrap()), encoding, "{accept:?}");
            assert_eq!(header(&res, CONTENT_TYPE), "application/wasm", "the type of the file, not of its .br/.gz");
            assert_eq!(header(&res, CACHE_CONTROL), "public, max-age=31536000, immutable", "{accept:?}");
            assert!(header(&res, VARY).to_ascii_lowercase().contains("accept-encoding"), "{accept:?}: {}", header(&res, VARY));
            let body = res.bytes().await.unwrap();
            assert_eq!(body.as_ref(), Site::bytes(variant).as_slice(), "{accept:?} sends the {variant} file as it is");
        }
    }

    async fn names_without_a_content_hash_are_revalidated(app: TestApp) {
        let res = app.get(UNHASHED_JS).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, CACHE_CONTROL), "no-cache");
        // A missing bundle file is a plain 404 that no cache keeps for a year.
        let res = app.get("/pkg/neosc.AAAAAAAAAAAAAAAAAAAAAA.wasm").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(!header(&res, CACHE_CONTROL).contains("immutable"));
    }

    async fn pages_are_not_reused_without_asking_and_travel_compressed(app: TestApp) {
        let res = app.get("/login").header(ACCEPT_ENCODING, "br").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(header(&res, CONTENT_TYPE).starts_with("text/html"));
        let cache = header(&res, CACHE_CONTROL);
        assert!(cache.contains("no-cache") && cache.contains("private") && !cache.contains("max-age"), "{cache}");
        assert_eq!(header(&res, CONTENT_ENCODING), "br");
        assert!(header(&res, VARY).to_ascii_lowercase().contains("accept-encoding"));
        let page = app.get("/login").send().await.unwrap();
        assert!(page.headers().get(CONTENT_ENCODING).is_none(), "no Accept-Encoding, no encoding");
        assert!(page.text().await.unwrap().contains("<html"));
    }

    async fn large_json_and_streams_are_compressed_small_answers_are_not(app: TestApp) {
        // The OpenAPI document: large JSON of a known length.
        let res = app.get("/api/openapi.json").header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, CONTENT_ENCODING), "gzip");
        let zipped = res.bytes().await.unwrap();
        let plain = app.get("/api/openapi.json").send().await.unwrap().bytes().await.unwrap();
        assert!(plain.starts_with(b"{") && zipped.len() * 3 < plain.len(), "{} of {} bytes", zipped.len(), plain.len());
        assert_eq!(&zipped[..2], &[0x1f, 0x8b], "a gzip member");

        // A few bytes: sent as they are.
        let res = app.get("/healthz").header(ACCEPT_ENCODING, "br, gzip").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get(CONTENT_ENCODING).is_none());

        // API answers keep their no-store whether compressed or not.
        let (founder, user) = app.register_founder("boss@assets.test", "Asset Boss", "Assets").await;
        let org = user["organization_id"].as_str().unwrap();
        let res = app.get("/api/auth/me").bearer_auth(&founder).header(ACCEPT_ENCODING, "br").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, CACHE_CONTROL), "no-store");

        // The audit export is a stream: compressed too (the encoder flushes
        // whenever the database has no row ready, so it still streams; the
        // unit test assets::tests checks that), and whole once decoded.
        let res = app
            .get(&format!("/api/organizations/{org}/audit/export?format=jsonl"))
            .bearer_auth(&founder)
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, CONTENT_ENCODING), "gzip");
        let zipped = res.bytes().await.unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(zipped.as_ref()), &mut text).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(lines.len() >= 2 && lines.last().unwrap().get("manifest").is_some(), "{text}");
    }
}
