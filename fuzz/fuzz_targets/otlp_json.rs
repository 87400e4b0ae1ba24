#![no_main]
//! See `skein_collector::fuzzing::otlp_json`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| skein_collector::fuzzing::otlp_json(data));
