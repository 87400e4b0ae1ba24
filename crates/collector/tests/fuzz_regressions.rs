//! Inputs replayed through the same code the fuzzers run (`skein_collector::fuzzing`), kept in
//! `tests/fuzz_regressions/<target>/`: every input that ever crashed a fuzz target (`fuzz/`), and
//! the seeds the fuzzers start from (`seed-*`, copies of `fuzz/seeds/<target>/`), so that each
//! target replays real input even before its first finding. Each target must replay at least
//! one input, and each seed must get past the decoder (a seed the decoder refuses would only
//! exercise its error path).

use std::path::{Path, PathBuf};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue};
use skein_collector::fuzzing::FUZZ_BOUNDARY;
use skein_collector::ingest::otlp::{convert, decode_request, Encoding};
use skein_collector::langsmith::multipart;
use skein_collector::BodyLimits;

fn folder(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target)
}

/// The inputs kept for `target` (every file but the README), sorted by name.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = folder(target);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        out.push((name, std::fs::read(&path).expect("read input")));
    }
    out.sort();
    out
}

/// Runs every kept input of `target` through `run`; panics unless there was at least one.
fn replay(target: &str, run: fn(&[u8])) {
    let inputs = inputs(target);
    assert!(
        !inputs.is_empty(),
        "{} holds no input: the test would replay nothing",
        folder(target).display()
    );
    for (_, data) in &inputs {
        run(data);
    }
}

/// The kept seeds of `target` (`seed-*`), after checking that every file of `fuzz/seeds/<target>/`
/// has a copy among them.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let kept: Vec<(String, Vec<u8>)> = inputs(target)
        .into_iter()
        .filter(|(name, _)| name.starts_with("seed-"))
        .collect();
    let fuzz_seeds = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut count = 0;
    for entry in
        std::fs::read_dir(&fuzz_seeds).unwrap_or_else(|e| panic!("{}: {e}", fuzz_seeds.display()))
    {
        let path = entry.expect("directory entry").path();
        let data = std::fs::read(&path).expect("read seed");
        assert!(
            kept.iter().any(|(_, k)| *k == data),
            "the fuzz seed {} has no copy in {}",
            path.display(),
            folder(target).display()
        );
        count += 1;
    }
    assert!(count > 0, "{} is empty", fuzz_seeds.display());
    kept
}

fn otlp_spans(encoding: Encoding, data: &[u8]) -> usize {
    let request = decode_request(encoding, &Bytes::copy_from_slice(data))
        .unwrap_or_else(|e| panic!("the seed does not decode: {e}"));
    let converted = convert(&request, None);
    assert!(converted.rejected.is_empty(), "{:?}", converted.rejected);
    converted.spans.len()
}

#[test]
fn otlp_protobuf_inputs() {
    replay("otlp_protobuf", skein_collector::fuzzing::otlp_protobuf);
}

#[test]
fn otlp_protobuf_seeds_decode_to_spans() {
    for (name, data) in seeds("otlp_protobuf") {
        assert!(otlp_spans(Encoding::Protobuf, &data) > 0, "{name}");
    }
}

#[test]
fn otlp_json_inputs() {
    replay("otlp_json", skein_collector::fuzzing::otlp_json);
}

#[test]
fn otlp_json_seeds_decode_to_spans() {
    for (name, data) in seeds("otlp_json") {
        assert!(otlp_spans(Encoding::Json, &data) > 0, "{name}");
    }
}

#[test]
fn langsmith_multipart_inputs() {
    replay(
        "langsmith_multipart",
        skein_collector::fuzzing::langsmith_multipart,
    );
}

#[tokio::test]
async fn langsmith_multipart_seeds_parse_into_parts() {
    let seeds = seeds("langsmith_multipart");
    // The target's first byte picks plain (even) or zstd (odd): a seed of each.
    let modes: Vec<u8> = seeds.iter().map(|(_, data)| data[0] & 1).collect();
    assert!(modes.contains(&0) && modes.contains(&1), "{modes:?}");
    for (name, data) in seeds {
        let (&mode, rest) = data.split_first().unwrap();
        let mut headers = HeaderMap::new();
        if mode & 1 == 1 {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("zstd"));
        }
        let body = multipart::decode_body(
            &headers,
            Bytes::copy_from_slice(rest),
            BodyLimits::default(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let parsed = multipart::parse(body, FUZZ_BOUNDARY, 1_000).await;
        assert_eq!(parsed.broken, None, "{name}");
        assert!(parsed.skipped.is_empty(), "{name}: {:?}", parsed.skipped);
        assert!(!parsed.parts.is_empty(), "{name}");
    }
}

#[test]
fn query_filter_inputs() {
    replay("query_filters", skein_collector::fuzzing::query_filters);
}

#[test]
fn query_filter_seeds_parse() {
    for (name, data) in seeds("query_filters") {
        let text = std::str::from_utf8(&data).unwrap();
        let list = skein_model::TraceQuery::from_query_string(text);
        let metric = skein_model::metrics::MetricQuery::from_query_string(text);
        assert!(
            list.is_ok() || metric.is_ok(),
            "{name}: {list:?} {metric:?}"
        );
    }
}

#[test]
fn langsmith_filter_inputs_that_once_crashed() {
    // `replay` fails on a folder with nothing in it.
    replay(
        "langsmith_filter",
        skein_collector::fuzzing::langsmith_filter,
    );
}

#[test]
fn clickhouse_literal_inputs() {
    replay(
        "clickhouse_literal",
        skein_collector::fuzzing::clickhouse_literal,
    );
    // Every seed of the fuzzer is kept here (`seeds` checks), an injection attempt among them.
    assert!(seeds("clickhouse_literal")
        .iter()
        .any(|(_, data)| data.windows(10).any(|w| w == b"DROP TABLE")));
}
