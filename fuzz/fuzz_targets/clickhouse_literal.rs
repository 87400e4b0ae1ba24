#![no_main]
//! See `skein_collector::fuzzing::clickhouse_literal`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| skein_collector::fuzzing::clickhouse_literal(data));
