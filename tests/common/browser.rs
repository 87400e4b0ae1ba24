//! The headless Chromium a browser test drives (chromedriver plus one session, ended even
//! when a test panics) and the page helpers the tests share: scripts, rows, keys, clicks,
//! screenshots.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use thirtyfour::error::WebDriverErrorInner;
use thirtyfour::prelude::*;
use thirtyfour::ChromiumLikeCapabilities;

use super::{eventually, Process, TempDir, CHROMEDRIVER, CHROMIUM};

/// chromedriver plus one headless Chromium session.
pub struct Browser {
    pub driver: WebDriver,
    _chromedriver: Process,
    _profile: TempDir,
    _logs: TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        assert!(
            Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
            "{CHROMEDRIVER} or {CHROMIUM} is missing: run scripts/setup.sh (Debian chromium, chromium-driver)"
        );
        let logs = TempDir::new("chromedriver");
        // Port 0: chromedriver picks a free port itself and says which, so nothing can take it
        // between choosing and binding.
        let mut command = Command::new(CHROMEDRIVER);
        command.arg("--port=0");
        let mut chromedriver = Process::spawn(command, logs.path().join("chromedriver.log"));
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            chromedriver.assert_running("chromedriver");
            let started = chromedriver.log_text().lines().find_map(|line| {
                line.strip_prefix("ChromeDriver was started successfully on port ")
                    .and_then(|rest| rest.trim_end_matches('.').trim().parse::<u16>().ok())
            });
            if let Some(port) = started {
                let status = format!("http://127.0.0.1:{port}/status");
                if let Ok(r) = client.get(&status).send().await {
                    if r.status().is_success() {
                        break port;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start; its log:\n{}",
                chromedriver.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };

        let profile = TempDir::new("chromium-profile");
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).unwrap();
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1440,900",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
            .unwrap();
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a Chromium session: {e}; chromedriver log:\n{}",
                    chromedriver.log_text()
                )
            });
        Browser {
            driver,
            _chromedriver: chromedriver,
            _profile: profile,
            _logs: logs,
        }
    }

    /// Ends the session; call at the end of a test (dropping without it leaves the browser to
    /// die with chromedriver).
    pub async fn quit(self) {
        let _ = self.driver.clone().quit().await;
    }
}

impl Drop for Browser {
    /// A test that panics never reaches `quit`, and killing chromedriver leaves Chromium
    /// running: end the processes that use this session's own profile directory.
    fn drop(&mut self) {
        let marker = format!("--user-data-dir={}", self._profile.path().display());
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let ours = cmdline
                .split(|b| *b == 0)
                .any(|arg| arg == marker.as_bytes());
            if ours {
                let _ = Command::new("kill")
                    .arg("-9")
                    .arg(pid)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// Runs a script in the page and returns its result as JSON.
pub async fn js(driver: &WebDriver, script: &str) -> serde_json::Value {
    driver
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script {script:?}: {e}"))
        .json()
        .clone()
}

/// The trace page's span rows in the DOM right now.
/// The span id of the trace page's selected row.
pub async fn selected_span_id(driver: &WebDriver) -> Option<String> {
    js(
        driver,
        "const r = document.querySelector('.span-row.selected'); return r && r.dataset.spanId",
    )
    .await
    .as_str()
    .map(str::to_string)
}

pub async fn span_rows(driver: &WebDriver) -> u64 {
    js(
        driver,
        "return document.querySelectorAll('.span-row').length",
    )
    .await
    .as_u64()
    .unwrap_or(0)
}

/// Opens a trace page, again until it shows `rows` span rows: the spans of a trace sent just
/// before may still be on their way to the store.
pub async fn open_trace_with_rows(driver: &WebDriver, url: &str, rows: u64) {
    eventually(
        Duration::from_secs(20),
        &format!("{url} with {rows} rows"),
        || async {
            driver.goto(url).await.ok()?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            (span_rows(driver).await == rows).then_some(())
        },
    )
    .await;
}

/// Presses and releases one key, wherever the focus is.
pub async fn press(driver: &WebDriver, key: impl Into<char>) {
    let key: char = key.into();
    driver
        .action_chain()
        .key_down(key)
        .key_up(key)
        .perform()
        .await
        .expect("key press");
}

/// The texts of all elements matching a CSS selector, right now. An element removed from the
/// page between finding it and reading it is left out (it is not there any more); any other
/// WebDriver error panics, so that "no such text" never stands for "could not look".
pub async fn texts(driver: &WebDriver, css: &str) -> Vec<String> {
    let elements = driver
        .find_all(By::Css(css))
        .await
        .unwrap_or_else(|e| panic!("could not look for {css:?}: {e}"));
    let mut out = Vec::new();
    for el in elements {
        match el.text().await {
            Ok(t) => out.push(t),
            Err(e) if matches!(e.as_inner(), WebDriverErrorInner::StaleElementReference(_)) => {}
            Err(e) => panic!("could not read the text of {css:?}: {e}"),
        }
    }
    out
}

/// The first element matching `css`, once it is there (within 20 s).
pub async fn element(driver: &WebDriver, css: &str) -> WebElement {
    driver
        .query(By::Css(css))
        .wait(Duration::from_secs(20), Duration::from_millis(100))
        .first()
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

/// Switches the page to `theme` (`light` or `dark`) as the theme toggle does.
pub async fn set_theme(driver: &WebDriver, theme: &str) {
    driver
        .execute(
            &format!(
                "localStorage.setItem('skein-theme', '{theme}'); \
                 document.documentElement.dataset.theme = '{theme}';"
            ),
            vec![],
        )
        .await
        .unwrap();
}

/// Screenshots of the page in both themes, `NAME-light.png` and `NAME-dark.png`, into the
/// directory `SKEIN_SCREENSHOTS` names (none without it): for a person to look at.
pub async fn shot(driver: &WebDriver, name: &str) {
    let Some(dir) = std::env::var_os("SKEIN_SCREENSHOTS") else {
        return;
    };
    for theme in ["light", "dark"] {
        set_theme(driver, theme).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let path = Path::new(&dir).join(format!("{name}-{theme}.png"));
        driver.screenshot(&path).await.unwrap();
    }
}

/// Clicks the first element matching `css`, once it is there.
pub async fn click(driver: &WebDriver, css: &str) {
    driver
        .query(By::Css(css))
        .first()
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Whether an element matching `css` is on the page right now: `false` only when the driver
/// answers that there is none (NoSuchElement). Any other error panics: a check that something
/// is absent must not pass because the browser could not be asked.
pub async fn present(driver: &WebDriver, css: &str) -> bool {
    match driver.find(By::Css(css)).await {
        Ok(_) => true,
        Err(e) if matches!(e.as_inner(), WebDriverErrorInner::NoSuchElement(_)) => false,
        Err(e) => panic!("could not look for {css:?}: {e}"),
    }
}
