//! The session, user and service pages: loaded, loading, empty and narrow; in both themes.

use std::path::Path;
use std::time::Duration;

use crate::common::{eventually, texts, Browser, Collector};
use thirtyfour::prelude::*;

use crate::shots::{set_theme, shot};

const WAIT: Duration = Duration::from_secs(30);

async fn wait_for(driver: &WebDriver, css: &str) {
    eventually(WAIT, css, || async {
        (!texts(driver, css).await.is_empty()).then_some(())
    })
    .await;
}

/// Makes every later API call hang, then follows an in-app link: the page shows its loading
/// state for as long as one likes.
async fn open_loading(driver: &WebDriver, nav_text: &str) {
    driver
        .execute("window.fetch = () => new Promise(() => {});", vec![])
        .await
        .unwrap();
    let links = driver.find_all(By::Css("nav a")).await.unwrap();
    for link in links {
        if link.text().await.unwrap_or_default() == nav_text {
            link.click().await.unwrap();
            return;
        }
    }
    panic!("no nav link {nav_text}");
}

pub async fn run(dir: &Path) {
    let collector = Collector::start_demo().await;
    let empty = Collector::start(false).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    let busiest = collector
        .get_json("/api/v1/sessions?project=default&sort=requests_desc&limit=1")
        .await;
    let session = busiest["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let user = busiest["sessions"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();

    for theme in ["light", "dark"] {
        driver.goto(collector.url("/sessions")).await.unwrap();
        set_theme(driver, theme).await;
        wait_for(driver, "tr.session-row").await;
        shot(driver, dir, &format!("sessions-{theme}")).await;

        driver
            .goto(collector.url(&format!("/sessions/{session}")))
            .await
            .unwrap();
        wait_for(driver, ".timeline .req-row[data-trace-id]").await;
        shot(driver, dir, &format!("session-{theme}")).await;

        driver.goto(collector.url("/users")).await.unwrap();
        wait_for(driver, "tr.user-row").await;
        shot(driver, dir, &format!("users-{theme}")).await;

        driver
            .goto(collector.url(&format!("/users/{user}")))
            .await
            .unwrap();
        wait_for(driver, "tr.session-row").await;
        shot(driver, dir, &format!("user-{theme}")).await;

        driver
            .goto(collector.url("/services?range=7d"))
            .await
            .unwrap();
        wait_for(driver, "svg.service-graph .node-name").await;
        shot(driver, dir, &format!("services-{theme}")).await;

        // Loading states.
        for (page, nav) in [("sessions", "Sessions"), ("services", "Services")] {
            driver.goto(collector.url("/traces")).await.unwrap();
            wait_for(driver, "tr.trace-row").await;
            open_loading(driver, nav).await;
            shot(driver, dir, &format!("{page}-loading-{theme}")).await;
        }

        // Empty states.
        driver.goto(empty.url("/sessions")).await.unwrap();
        set_theme(driver, theme).await;
        driver.refresh().await.unwrap();
        wait_for(driver, ".empty-state h2").await;
        shot(driver, dir, &format!("sessions-empty-{theme}")).await;
        driver.goto(empty.url("/services")).await.unwrap();
        wait_for(driver, ".empty-state h2").await;
        shot(driver, dir, &format!("services-empty-{theme}")).await;
        driver
            .goto(collector.url("/sessions/no-such-session"))
            .await
            .unwrap();
        wait_for(driver, ".empty-state h2").await;
        shot(driver, dir, &format!("session-missing-{theme}")).await;
    }

    // A narrow window.
    driver.set_window_rect(0, 0, 1000, 800).await.unwrap();
    set_theme(driver, "light").await;
    for (path, css, name) in [
        ("/sessions".to_string(), "tr.session-row", "sessions-narrow"),
        (
            format!("/sessions/{session}"),
            ".timeline .req-row[data-trace-id]",
            "session-narrow",
        ),
        (
            "/services?range=7d".to_string(),
            "svg.service-graph .node-name",
            "services-narrow",
        ),
    ] {
        driver.goto(collector.url(&path)).await.unwrap();
        wait_for(driver, css).await;
        shot(driver, dir, &format!("{name}-light")).await;
    }

    browser.quit().await;
}
