//! The built dashboard as the real binary serves it (`--dist`): page routes get `index.html`,
//! revalidated on each load; the content-hashed wasm modules may be cached for good; a module
//! that is not there (an app open from before an upgrade) is a 404 in the one error shape, not
//! `index.html`; the API is untouched.

mod common;

use common::{client, get_json, Collector};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};

fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dist dir");
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>Skein</title>",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("pkg-0123abcd")).unwrap();
    std::fs::write(
        dir.path().join("pkg-0123abcd/split_trace_page.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    dir
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn pages_modules_and_missing_modules() {
    let dist = dist();
    let collector = Collector::start_with(&["--dist", dist.path().to_str().unwrap()]);

    for page in [
        "/traces",
        "/traces/5ea4c4000000000000000000000000a1",
        "/metrics",
    ] {
        let response = client()
            .get(format!("{}{page}", collector.http))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{page}");
        assert!(
            header(&response, CONTENT_TYPE).starts_with("text/html"),
            "{page}"
        );
        assert_eq!(header(&response, CACHE_CONTROL), "no-cache", "{page}");
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("<title>Skein</title>"));
    }

    let module = client()
        .get(format!(
            "{}/pkg-0123abcd/split_trace_page.wasm",
            collector.http
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(module.status(), 200);
    assert_eq!(header(&module, CONTENT_TYPE), "application/wasm");
    assert_eq!(
        header(&module, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(module.bytes().await.unwrap().as_ref(), b"\0asm\x01\0\0\0");

    let gone = client()
        .get(format!(
            "{}/pkg-old00000/split_trace_page.wasm",
            collector.http
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    assert!(header(&gone, CACHE_CONTROL).is_empty());
    let body: serde_json::Value = gone.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("reload"), "{body}");

    let health = get_json(&format!("{}/api/v1/health", collector.http)).await;
    assert_eq!(health["status"], "ok");
}
