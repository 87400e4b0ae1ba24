//! chromedriver and one headless Chromium session, and the script calls the benchmark makes.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use thirtyfour::prelude::*;

use super::{BrowserError, CHROMEDRIVER, CHROMIUM};

/// chromedriver and one headless Chromium session on a fresh profile.
pub struct Browser {
    pub driver: WebDriver,
    chromedriver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Result<Browser, BrowserError> {
        for tool in [CHROMEDRIVER, CHROMIUM] {
            if !Path::new(tool).exists() {
                return Err(BrowserError::Setup(format!(
                    "{tool} is missing: run scripts/setup.sh (Debian chromium, chromium-driver)"
                )));
            }
        }
        // Port 0: chromedriver picks a free port itself and prints it ("ChromeDriver was started
        // successfully on port N."), so nothing can take it between choosing and binding.
        let mut chromedriver = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BrowserError::Setup(format!("cannot start chromedriver: {e}")))?;
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(stdout) = chromedriver.stdout.take() {
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stdout)
                    .lines()
                    .map_while(Result::ok)
                {
                    let port = line
                        .strip_prefix("ChromeDriver was started successfully on port ")
                        .and_then(|rest| rest.trim_end_matches('.').trim().parse::<u16>().ok());
                    if let Some(port) = port {
                        let _ = tx.send(port);
                    }
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut started = None;
        let port = loop {
            started = started.or_else(|| rx.try_recv().ok());
            if let Some(port) = started {
                let status = format!("http://127.0.0.1:{port}/status");
                if reqwest::get(&status)
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    break port;
                }
            }
            if Instant::now() > deadline {
                let _ = chromedriver.kill();
                let _ = chromedriver.wait();
                return Err(BrowserError::Setup("chromedriver did not start".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let profile = tempfile::tempdir().map_err(|e| BrowserError::Setup(e.to_string()))?;
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM)?;
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-precise-memory-info",
            // Frames as fast as they can be made: their interval is their cost.
            "--disable-gpu-vsync",
            "--disable-frame-rate-limit",
            "--window-size=1440,900",
        ] {
            caps.add_arg(arg)?;
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))?;
        let driver = match WebDriver::new(format!("http://127.0.0.1:{port}"), caps).await {
            Ok(d) => d,
            Err(e) => {
                let _ = chromedriver.kill();
                let _ = chromedriver.wait();
                return Err(e.into());
            }
        };
        Ok(Browser {
            driver,
            chromedriver,
            profile,
        })
    }

    pub async fn quit(self) {
        let _ = self.driver.clone().quit().await;
    }
}

impl Drop for Browser {
    /// Ends chromedriver and any Chromium still using this session's own profile directory.
    fn drop(&mut self) {
        let marker = format!("--user-data-dir={}", self.profile.path().display());
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry
                    .file_name()
                    .to_str()
                    .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|n| n.parse::<i32>().ok())
                else {
                    continue;
                };
                let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                    continue;
                };
                if cmdline
                    .split(|b| *b == 0)
                    .any(|arg| arg == marker.as_bytes())
                {
                    let _ = Command::new("kill")
                        .args(["-9", &pid.to_string()])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                }
            }
        }
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

pub(super) async fn js(driver: &WebDriver, script: &str) -> Result<Value, BrowserError> {
    Ok(driver.execute(script, vec![]).await?.json().clone())
}

/// Polls `script` (returning something other than null/false when done) until `timeout`.
pub(super) async fn wait_for(
    driver: &WebDriver,
    script: &str,
    timeout: Duration,
    what: &str,
) -> Result<Value, BrowserError> {
    let deadline = Instant::now() + timeout;
    loop {
        let v = js(driver, script).await?;
        if !(v.is_null() || v == Value::Bool(false)) {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(BrowserError::Timeout(format!("{what} after {timeout:?}")));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
