//! The cross-service timing marks (a client/server pair, a skewed server span), its detail,
//! the adjustment off and the critical-path list, and a trace whose children start before and
//! end after its root (a millisecond clock), in both themes.

use std::path::Path;
use std::time::Duration;

use crate::common::timing::{overhanging_trace, skewed_trace, JS_TRACE, MS, SERVE, TRACE};
use crate::common::{eventually, js, span_rows, Browser, Collector};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

pub async fn run(dir: &Path) {
    let collector = Collector::start(false).await;
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - 60_000 * MS;
    collector.send_otlp_json(&skewed_trace(t0)).await;
    collector
        .send_otlp_json(&overhanging_trace(t0 / MS * MS))
        .await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    let shot = |name: String| {
        let path = dir.join(format!("{name}.png"));
        async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            driver.screenshot(&path).await.unwrap();
            eprintln!("screenshot: {}", path.display());
        }
    };
    for theme in ["light", "dark"] {
        for (suffix, query) in [
            ("", String::new()),
            ("-detail", format!("?span={SERVE}")),
            ("-off", format!("?span={SERVE}&skew=off")),
        ] {
            driver
                .goto(collector.url(&format!("/traces/{TRACE}{query}")))
                .await
                .unwrap();
            js(
                driver,
                &format!(
                    "localStorage.setItem('skein-theme', '{theme}'); \
                     document.documentElement.dataset.theme = '{theme}'; return 0"
                ),
            )
            .await;
            eventually(WAIT, "six rows", || async {
                (span_rows(driver).await == 6).then_some(())
            })
            .await;
            shot(format!("timing{suffix}-{theme}")).await;
        }
        driver
            .find(By::Css(".critical-switch button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        shot(format!("timing-list-{theme}")).await;

        driver
            .goto(collector.url(&format!("/traces/{JS_TRACE}")))
            .await
            .unwrap();
        eventually(WAIT, "three rows", || async {
            (span_rows(driver).await == 3).then_some(())
        })
        .await;
        shot(format!("timing-overhang-{theme}")).await;
    }
    browser.quit().await;
}
