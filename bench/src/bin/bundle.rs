//! `bundle`: the dashboard's size. Builds it with `scripts/build-dashboard.sh` (release, split
//! wasm, wasm-opt -Oz) unless `--no-build`, then measures `dist/`, raw and gzipped: every
//! file, and the wasm each page downloads. Fails (after recording) when a page downloads more
//! than the budget, `bundle::PAGE_BUDGET_BYTES`.

use std::path::PathBuf;
use std::process::Command;

use clap::Parser;
use skein_bench::bundle::{kib, measure, over_budget, PAGE_BUDGET_BYTES};
use skein_bench::report;

#[derive(Parser)]
#[command(about = "Skein bundle size: the dashboard's wasm and JS, raw and gzipped")]
struct Args {
    /// The built dashboard.
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Measure `dist/` as it is, without building it first.
    #[arg(long)]
    no_build: bool,
    /// Do not write bench/results/bundle.json nor the README row.
    #[arg(long)]
    no_record: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no repository root")?
        .to_path_buf();
    if !args.no_build {
        let status = Command::new("bash")
            .arg(root.join("scripts/build-dashboard.sh"))
            .current_dir(&root)
            .status()?;
        if !status.success() {
            return Err(format!("scripts/build-dashboard.sh failed: {status}").into());
        }
    }
    let dist = args.dist.unwrap_or_else(|| root.join("dist"));
    let report = measure(&dist)?;
    for f in &report.files {
        println!(
            "  {:<48} {:>6} {:>12} raw {:>12} gzipped",
            f.name,
            f.kind,
            kib(f.raw_bytes),
            kib(f.gzip_bytes)
        );
    }
    for p in &report.pages {
        println!(
            "  page {:<20} wasm {:>12} gzipped ({} modules)",
            p.page,
            kib(p.gzip_bytes),
            p.files.len()
        );
    }
    println!(
        "bundle: wasm {} ({} gzipped), JS {} ({} gzipped), everything {} gzipped",
        kib(report.wasm_raw_bytes),
        kib(report.wasm_gzip_bytes),
        kib(report.js_raw_bytes),
        kib(report.js_gzip_bytes),
        kib(report.total_gzip_bytes)
    );
    if !args.no_record {
        let commit = Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(&root)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        let summary = serde_json::json!({
            "benchmark": "bundle",
            "commit": commit,
            "report": report,
        });
        let path = report::write_json("bundle", &summary)?;
        let row = match report.pages.first() {
            Some(largest) => format!(
                "| bundle | dashboard `dist/` (release, split wasm, wasm-opt -Oz), gzip -9 | largest page ({}) downloads {} of wasm gzipped; all {} modules {} gzipped ({} raw); JS {} gzipped | wasm a page downloads ≤ 400 KiB gzipped | sizes do not depend on the machine |",
                largest.page,
                kib(largest.gzip_bytes),
                report.files.iter().filter(|f| f.kind == "wasm").count(),
                kib(report.wasm_gzip_bytes),
                kib(report.wasm_raw_bytes),
                kib(report.js_gzip_bytes),
            ),
            None => format!(
                "| bundle | dashboard `dist/` (release, wasm-opt -Oz), gzip -9 | wasm {} gzipped ({} raw), JS {} gzipped ({} raw) | wasm ≤ 400 KiB gzipped | sizes do not depend on the machine |",
                kib(report.wasm_gzip_bytes),
                kib(report.wasm_raw_bytes),
                kib(report.js_gzip_bytes),
                kib(report.js_raw_bytes)
            ),
        };
        let updated = report::update_readme_row("bundle", &row)?;
        eprintln!(
            "wrote {}{}",
            path.display(),
            if updated {
                " and the row in bench/README.md"
            } else {
                ""
            }
        );
    }
    let over = over_budget(&report);
    if !over.is_empty() {
        let named: Vec<String> = over
            .iter()
            .map(|p| format!("{} {}", p.page, kib(p.gzip_bytes)))
            .collect();
        return Err(format!(
            "over the budget of {} a page: {}",
            kib(PAGE_BUDGET_BYTES),
            named.join(", ")
        )
        .into());
    }
    Ok(())
}
