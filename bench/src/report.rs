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

#[cfg(test)]
mod tests {
    //! The README's prose quotes the ingest benchmark's latest figures; they must be the ones
    //! recorded in `results/ingest.json` (the results table's rows are written by the
    //! benchmarks themselves).

    use std::path::Path;

    fn read(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `116141.4` rounded to `step` and written with thousands separators: `116,100`.
    fn thousands(value: f64, step: f64) -> String {
        let digits = format!("{:.0}", (value / step).round() * step);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    /// Every `N spans/s` in `text` (N as written), with the two characters before it.
    fn rates(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (at, _) in text.match_indices(" spans/s") {
            let before = &text[..at];
            // After the last character that is not part of the number (it may be several
            // bytes long: "3,500–5,900 spans/s").
            let start = before
                .char_indices()
                .rev()
                .find(|&(_, c)| !(c.is_ascii_digit() || c == ','))
                .map_or(0, |(i, c)| i + c.len_utf8());
            let number = &before[start..];
            // A comma alone ("ingest, spans/s") is prose, not a number.
            if number.chars().any(|c| c.is_ascii_digit()) {
                let lead: String = before[..start].chars().rev().take(2).collect();
                out.push((number.to_string(), lead.chars().rev().collect()));
            }
        }
        out
    }

    #[test]
    fn a_rate_after_a_dash_or_a_word_is_read_whole() {
        assert_eq!(
            rates("rates swung 3,500–5,900 spans/s, then 43311 spans/s; ingest, spans/s"),
            vec![
                ("5,900".to_string(), "0–".to_string()),
                ("43311".to_string(), "n ".to_string())
            ]
        );
    }

    #[test]
    fn ingest_prose_quotes_the_recorded_results() {
        let results: serde_json::Value =
            serde_json::from_str(&read("results/ingest.json")).unwrap();
        let acked = results["median_spans_per_second_acked"].as_f64().unwrap();
        let cpu = results["median_collector_cpu_seconds"].as_f64().unwrap();
        let runs: Vec<f64> = results["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["spans_per_second_acked"].as_f64().unwrap())
            .collect();
        let (slowest, fastest) = (
            runs.iter().copied().fold(f64::INFINITY, f64::min),
            runs.iter().copied().fold(0.0, f64::max),
        );
        let readme = read("README.md");
        let (rate, cpu_text) = (thousands(acked, 100.0), format!("{cpu:.1}"));
        for expected in [
            format!(
                "### Ingest: 13,200 → {rate} spans/s, 51 → {cpu_text} collector CPU s per 1M spans"
            ),
            format!("| ingest | {rate} spans/s acked, {cpu_text} collector CPU s per 1M |"),
            format!(
                "median of {} ({:.0}k–{:.0}k)",
                runs.len(),
                (slowest / 1000.0).floor(),
                (fastest / 1000.0).floor()
            ),
            format!("Where the collector's {cpu_text} CPU s per 1M spans go now"),
            format!(
                "the slowest of the three recorded runs, at load {}, got {} spans/s",
                results["runs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["spans_per_second_acked"].as_f64() == Some(slowest))
                    .unwrap()["machine"]["load_1m"],
                thousands(slowest, 1000.0)
            ),
        ] {
            assert!(
                readme.contains(&expected),
                "bench/README.md does not say {expected:?} (from results/ingest.json)"
            );
        }
        // Any rate of 100,000 spans/s or more is a recorded one (the median, whole in the
        // benchmark's own row or rounded in prose, or a run), unless it is the target (≥).
        let mut recorded = vec![format!("{acked:.0}"), rate.clone()];
        recorded.extend(runs.iter().map(|r| thousands(*r, 1000.0)));
        for (number, lead) in rates(&readme) {
            let value: f64 = number.replace(',', "").parse().unwrap();
            if value >= 100_000.0 && !lead.contains('≥') {
                assert!(
                    recorded.contains(&number),
                    "bench/README.md quotes {number} spans/s; results/ingest.json records {recorded:?}"
                );
            }
        }
    }
}
