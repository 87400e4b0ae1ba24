//! API keys in the browser: a collector with two projects and a key for one, made with the
//! CLI. The dashboard asks for a key, refuses a wrong one, shows the key's project with the
//! right one, keeps it across a reload but not into a new browser session, lists only the
//! key's project, and says so when a link names a project the key can't see.
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_keys`.

mod common;

use std::time::Duration;

use common::keys::{enter_key, prompt_shown, root_names, send_trace};
use common::{eventually, js, texts, Browser, Collector};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

async fn switcher_options(driver: &WebDriver) -> Vec<String> {
    let value = js(
        driver,
        "return [...document.querySelectorAll('.project-switcher option')].map(o => o.value);",
    )
    .await;
    serde_json::from_value(value).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_asks_for_a_key_and_shows_only_the_keys_project() {
    let mut key = String::new();
    let mut other_key = String::new();
    let collector = Collector::start_prepared(false, |dir| {
        Collector::cli(dir, &["project", "create", "team-a"]);
        Collector::cli(dir, &["project", "create", "team-b"]);
        key = Collector::cli(dir, &["key", "create", "--project", "team-a"]);
        other_key = Collector::cli(dir, &["key", "create", "--project", "team-b"]);
    })
    .await;
    send_trace(
        &collector,
        &key,
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
        "team_a_agent",
    )
    .await;
    send_trace(
        &collector,
        &other_key,
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2",
        "team_b_secret_run",
    )
    .await;

    let browser = Browser::start().await;
    let driver = &browser.driver;

    // No key yet: the prompt, and nothing of any project behind it.
    driver.goto(collector.url("/traces")).await.unwrap();
    eventually(WAIT, "the key prompt", || async {
        prompt_shown(driver).await.then_some(())
    })
    .await;
    let card = driver
        .find(By::Css(".key-card"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(card.contains("skein key create --project NAME"), "{card}");
    assert!(root_names(driver).await.is_empty());

    // A wrong key: refused, with a message; still asking.
    enter_key(driver, "skein_not_a_real_key").await;
    let error = eventually(WAIT, "the refusal", || async {
        texts(driver, ".key-card .key-error")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert!(error.contains("Key refused"), "{error}");
    assert!(prompt_shown(driver).await);
    let stored = js(driver, "return sessionStorage.getItem('skein.apiKey');").await;
    assert!(stored.is_null(), "a refused key is not kept: {stored}");

    // The right key: the prompt goes, the page moves to the key's project and shows its trace.
    enter_key(driver, &key).await;
    let names = eventually(WAIT, "team-a's traces", || async {
        let names = root_names(driver).await;
        (!names.is_empty()).then_some(names)
    })
    .await;
    assert_eq!(names, vec!["team_a_agent".to_string()]);
    assert!(!prompt_shown(driver).await);
    let url = driver.current_url().await.unwrap();
    assert_eq!(url.path(), "/traces");
    assert!(
        url.query().unwrap_or("").contains("project=team-a"),
        "{url}"
    );
    let body = driver
        .find(By::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !body.contains("team_b_secret_run") && !body.contains("team-b"),
        "{body}"
    );

    // The switcher lists the key's project only.
    let options = eventually(WAIT, "the switcher's projects", || async {
        let options = switcher_options(driver).await;
        (options == ["team-a"]).then_some(options)
    })
    .await;
    assert_eq!(options, ["team-a"]);

    // A reload keeps the key for the browser session.
    driver.refresh().await.unwrap();
    let names = eventually(WAIT, "team-a's traces after a reload", || async {
        let names = root_names(driver).await;
        (!names.is_empty()).then_some(names)
    })
    .await;
    assert_eq!(names, vec!["team_a_agent".to_string()]);
    assert!(!prompt_shown(driver).await);

    // Another page asks nothing more and shows the project's data.
    driver
        .goto(collector.url("/services?project=team-a"))
        .await
        .unwrap();
    eventually(WAIT, "team-a's service map", || async {
        // `main` appears only once the app has mounted.
        let text = js(
            driver,
            "const main = document.querySelector('main'); return main ? main.textContent : '';",
        )
        .await;
        text.as_str().unwrap_or("").contains("svc").then_some(())
    })
    .await;
    assert!(!prompt_shown(driver).await);

    // A link to a project the key can't see: a clear notice with the key's projects.
    driver
        .goto(collector.url("/traces?project=team-b"))
        .await
        .unwrap();
    let notice = eventually(WAIT, "the no-access notice", || async {
        texts(driver, ".forbidden-card").await.into_iter().next()
    })
    .await;
    assert!(
        notice.contains("This key can't see project team-b"),
        "{notice}"
    );
    assert!(notice.contains("team-a"), "{notice}");
    assert!(root_names(driver).await.is_empty());
    let body = driver
        .find(By::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains("team_b_secret_run"), "{body}");
    driver
        .find(By::Css(".forbidden-projects a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let names = eventually(WAIT, "back in team-a", || async {
        let names = root_names(driver).await;
        (!names.is_empty()).then_some(names)
    })
    .await;
    assert_eq!(names, vec!["team_a_agent".to_string()]);

    // "Forget key" asks again.
    driver
        .find(By::Css(".key-forget"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the prompt after forgetting the key", || async {
        prompt_shown(driver).await.then_some(())
    })
    .await;
    browser.quit().await;

    // A new browser session asks again.
    let fresh = Browser::start().await;
    let driver = &fresh.driver;
    driver
        .goto(collector.url("/traces?project=team-a"))
        .await
        .unwrap();
    eventually(WAIT, "the prompt in a new session", || async {
        prompt_shown(driver).await.then_some(())
    })
    .await;
    assert!(root_names(driver).await.is_empty());
    fresh.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_brings_the_prompt_back() {
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
    driver
        .goto(collector.url("/traces?project=team-a"))
        .await
        .unwrap();
    eventually(WAIT, "the key prompt", || async {
        prompt_shown(driver).await.then_some(())
    })
    .await;
    enter_key(driver, &key).await;
    eventually(WAIT, "team-a's traces", || async {
        (!root_names(driver).await.is_empty()).then_some(())
    })
    .await;

    let listed = Collector::cli(&collector.data_dir(), &["key", "list"]);
    let id = listed
        .split_whitespace()
        .next()
        .expect("a key id")
        .to_string();
    Collector::cli(&collector.data_dir(), &["key", "revoke", &id]);
    // The key table is re-read within 2 s; then the next request is refused.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    driver.refresh().await.unwrap();
    let lead = eventually(WAIT, "the prompt for a revoked key", || async {
        texts(driver, ".key-card").await.into_iter().next()
    })
    .await;
    assert!(lead.contains("no longer accepted"), "{lead}");
    browser.quit().await;
}
