//! Takes screenshots of the dashboard for a person to look at: a tool, not a test (it checks
//! nothing). Each set starts its own collector (with the demo data where it needs some) and a
//! headless Chromium, as the browser tests do (tests/common), and writes PNGs.
//!
//! ```sh
//! cargo build -p skein-collector && bash scripts/build-dashboard.sh
//! cargo run --example screenshots -- --out /tmp/shots             # every set
//! cargo run --example screenshots -- --out /tmp/shots trace keys  # some
//! ```
//!
//! Sets: `pages` (the list, a trace, empty states), `trace` (the trace explorer), `sessions`
//! (sessions, users, services), `spans` (the spans page and the filter box), `keys` (the key prompt), `timing` (cross-service timing),
//! `clients` (each real client's trace, its conversation, two traces compared; needs the venv),
//! `scores` (score configs: the settings page, the rating widget, the metrics of a category),
//! `compare` (span metrics, variant × tier, two rows selected, the cohort totals), `queues`
//! (the queue lists, a review page, a pairwise pair, the pairwise panel on /metrics).
//! Without `--out`, `target/screenshots`.

#[path = "../../tests/common/mod.rs"]
mod common;

mod clients;
mod compare;
mod keys;
mod pages;
mod queues;
mod scores;
mod sessions;
mod shots;
mod spans;
mod timing;
mod trace;

use std::path::PathBuf;

const SETS: [&str; 10] = [
    "pages", "trace", "sessions", "spans", "keys", "timing", "clients", "scores", "compare",
    "queues",
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut out = common::repo_root().join("target/screenshots");
    let mut sets: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = PathBuf::from(args.next().expect("--out needs a directory")),
            "-h" | "--help" => {
                println!("screenshots [--out DIR] [{}]...", SETS.join("|"));
                return;
            }
            set if SETS.contains(&set) => sets.push(set.to_string()),
            other => {
                eprintln!("unknown argument {other:?}; sets: {}", SETS.join(", "));
                std::process::exit(2);
            }
        }
    }
    if sets.is_empty() {
        sets = SETS.iter().map(|s| s.to_string()).collect();
    }
    std::fs::create_dir_all(&out)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
    for set in &sets {
        eprintln!("screenshots: {set} -> {}", out.display());
        match set.as_str() {
            "pages" => pages::run(&out).await,
            "trace" => trace::run(&out).await,
            "sessions" => sessions::run(&out).await,
            "spans" => spans::run(&out).await,
            "keys" => keys::run(&out).await,
            "timing" => timing::run(&out).await,
            "clients" => clients::run(&out).await,
            "scores" => scores::run(&out).await,
            "compare" => compare::run(&out).await,
            "queues" => queues::run(&out).await,
            _ => unreachable!(),
        }
    }
}
