//! A fresh `skein` process on a temporary data dir, for the benchmarks' `--collector-bin`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running collector; killed (and its data dir removed) on drop.
pub struct Collector {
    child: Child,
    dir: tempfile::TempDir,
    /// The OTLP traces URL (`http://127.0.0.1:port/v1/traces`).
    pub otlp: String,
    /// The API base (`http://127.0.0.1:port`).
    pub api: String,
}

impl Collector {
    /// Starts `bin serve` on ephemeral ports and a fresh data dir, and waits for its ready line.
    pub fn start(bin: &Path) -> Result<Collector, String> {
        Collector::start_with(bin, &[])
    }

    /// `start`, with more arguments for `serve` (`--dist DIR`...).
    pub fn start_with(bin: &Path, extra: &[&str]) -> Result<Collector, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut child = Command::new(bin)
            .args([
                "serve",
                "--http-addr",
                "127.0.0.1:0",
                "--otlp-addr",
                "127.0.0.1:0",
                "--otlp-grpc-addr",
                "off",
                "--data-dir",
            ])
            .arg(dir.path())
            .args(extra)
            .env("SKEIN_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let urls: Vec<&str> = line
            .split_whitespace()
            .filter(|w| w.starts_with("http://"))
            .collect();
        if urls.len() < 2 {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("unexpected first line from skein: {line:?}"));
        }
        Ok(Collector {
            api: urls[0].trim_end_matches("/traces").to_string(),
            otlp: urls[1].trim_end_matches(')').to_string(),
            child,
            dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Bytes in the files directly under `dir` (the database, its WAL and shared memory).
pub fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// The median (the mean of the middle two for an even count); NaN for none.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The q-quantile (0..=1) by linear interpolation between closest ranks; NaN for none.
pub fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return f64::NAN;
    }
    let rank = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    values[low] + (values[high] - values[low]) * (rank - low as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_quantiles() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
        let v: Vec<f64> = (1..=101).map(f64::from).collect();
        assert_eq!(quantile(v.clone(), 0.5), 51.0);
        assert_eq!(quantile(v.clone(), 0.95), 96.0);
        assert_eq!(quantile(vec![1.0, 2.0], 0.5), 1.5);
    }
}
