//! The key prompt (empty, refused, accepted) and the no-access notice, in both themes.

use std::path::Path;
use std::time::Duration;

use crate::common::keys::{enter_key, prompt_shown, root_names, send_trace};
use crate::common::{eventually, js, texts, Browser, Collector};

const WAIT: Duration = Duration::from_secs(20);

pub async fn run(dir: &Path) {
    let mut key = String::new();
    let collector = Collector::start_prepared(false, |dir| {
        Collector::cli(dir, &["project", "create", "team-a"]);
        key = Collector::cli(dir, &["key", "create", "--project", "team-a"]);
    })
    .await;
    send_trace(
        &collector,
        &key,
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
        "team_a_agent",
    )
    .await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    for theme in ["light", "dark"] {
        driver.goto(collector.url("/traces")).await.unwrap();
        js(driver, &format!("localStorage.setItem('skein-theme', '{theme}'); sessionStorage.clear(); return null;")).await;
        driver.refresh().await.unwrap();
        eventually(WAIT, "the key prompt", || async {
            prompt_shown(driver).await.then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        driver
            .screenshot(&dir.join(format!("key-prompt-{theme}.png")))
            .await
            .unwrap();
        enter_key(driver, "skein_wrong").await;
        eventually(WAIT, "the refusal", || async {
            texts(driver, ".key-card .key-error")
                .await
                .into_iter()
                .next()
        })
        .await;
        driver
            .screenshot(&dir.join(format!("key-refused-{theme}.png")))
            .await
            .unwrap();
        enter_key(driver, &key).await;
        eventually(WAIT, "team-a's traces", || async {
            (!root_names(driver).await.is_empty()).then_some(())
        })
        .await;
        driver
            .screenshot(&dir.join(format!("key-accepted-{theme}.png")))
            .await
            .unwrap();
        driver
            .goto(collector.url("/sessions?project=team-b"))
            .await
            .unwrap();
        eventually(WAIT, "the no-access notice", || async {
            texts(driver, ".forbidden-card").await.into_iter().next()
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        driver
            .screenshot(&dir.join(format!("key-forbidden-{theme}.png")))
            .await
            .unwrap();
    }
    browser.quit().await;
}
