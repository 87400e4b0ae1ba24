#![no_main]
//! See `skein_collector::fuzzing::langsmith_filter`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| skein_collector::fuzzing::langsmith_filter(data));
