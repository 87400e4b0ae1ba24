//! Every input that ever crashed a fuzz target (`fuzz/`), kept in `tests/fuzz_regressions/<target>/`
//! and replayed through the same code the fuzzer runs (`skein_collector::fuzzing`).

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let data = std::fs::read(&path).expect("read input");
        run(&data);
        count += 1;
    }
    count
}

#[test]
fn otlp_protobuf_inputs_that_once_crashed() {
    replay("otlp_protobuf", skein_collector::fuzzing::otlp_protobuf);
}

#[test]
fn otlp_json_inputs_that_once_crashed() {
    replay("otlp_json", skein_collector::fuzzing::otlp_json);
}

#[test]
fn langsmith_multipart_inputs_that_once_crashed() {
    replay(
        "langsmith_multipart",
        skein_collector::fuzzing::langsmith_multipart,
    );
}

#[test]
fn query_filter_inputs_that_once_crashed() {
    assert!(replay("query_filters", skein_collector::fuzzing::query_filters) > 0);
}

#[test]
fn langsmith_filter_inputs_that_once_crashed() {
    assert!(
        replay(
            "langsmith_filter",
            skein_collector::fuzzing::langsmith_filter
        ) > 0
    );
}
