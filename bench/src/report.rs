//! Results: a JSON file per benchmark in `bench/results/`, and its row in `bench/README.md`.

use std::path::{Path, PathBuf};

/// Where results go: `bench/results/` of this repository.
pub fn results_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("results")
}

/// Writes `bench/results/<name>.json`.
pub fn write_json(name: &str, value: &impl serde::Serialize) -> std::io::Result<PathBuf> {
    let dir = results_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(&path, text + "\n")?;
    Ok(path)
}

/// Replaces the table row of `bench/README.md` whose first cell is `key` with `row`; the row
/// must already exist (the README lists every benchmark), so nothing is appended blindly.
pub fn update_readme_row(key: &str, row: &str) -> std::io::Result<bool> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&path)?;
    let prefix = format!("| {key} |");
    let mut found = false;
    let updated: Vec<String> = text
        .lines()
        .map(|line| {
            // The first row only: the results table; other tables quote figures in their own words.
            if !found && line.starts_with(&prefix) {
                found = true;
                row.to_string()
            } else {
                line.to_string()
            }
        })
        .collect();
    if found {
        std::fs::write(&path, updated.join("\n") + "\n")?;
    }
    Ok(found)
}
