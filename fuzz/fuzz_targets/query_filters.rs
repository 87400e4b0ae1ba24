#![no_main]
//! See `skein_collector::fuzzing::query_filters`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| skein_collector::fuzzing::query_filters(data));
