//! The list (plain, filtered, with the filter picker open), a trace, the metrics page, and the
//! empty states, in both themes.

use std::path::Path;
use std::time::Duration;

use crate::common::{eventually, texts, Browser, Collector};
use thirtyfour::prelude::*;

use crate::shots::{set_theme, shot};

const WAIT: Duration = Duration::from_secs(20);

async fn rows(driver: &WebDriver) {
    eventually(WAIT, "rows", || async {
        (!texts(driver, "tr.trace-row").await.is_empty()).then_some(())
    })
    .await;
}

pub async fn run(dir: &Path) {
    let mut collector = Collector::start_demo().await;
    let empty = Collector::start(false).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    for theme in ["light", "dark"] {
        driver.goto(collector.url("/traces")).await.unwrap();
        set_theme(driver, theme).await;
        rows(driver).await;
        shot(driver, dir, &format!("list-{theme}")).await;

        driver
            .goto(collector.url(
                "/traces?tag=ab_test_variant=A&tag=env=production&status=error&sort=duration_desc",
            ))
            .await
            .unwrap();
        rows(driver).await;
        driver
            .query(By::Css("button.add-filter"))
            .first()
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        driver
            .query(By::Css("select[name=tag-key] option[value=user_tier]"))
            .first()
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        driver
            .query(By::Css("select[name=tag-value] option[value=premium]"))
            .first()
            .await
            .unwrap();
        shot(driver, dir, &format!("list-filtered-{theme}")).await;

        driver
            .goto(collector.url("/traces?name=main_agent"))
            .await
            .unwrap();
        rows(driver).await;
        let link = driver
            .find(By::Css("tr.trace-row .root-name"))
            .await
            .unwrap();
        link.click().await.unwrap();
        eventually(WAIT, "spans", || async {
            (!texts(driver, ".span-row[data-span-id]").await.is_empty()).then_some(())
        })
        .await;
        shot(driver, dir, &format!("trace-{theme}")).await;

        // Another origin: its own localStorage, so the theme is set again.
        driver.goto(empty.url("/traces")).await.unwrap();
        set_theme(driver, theme).await;
        driver.refresh().await.unwrap();
        driver.query(By::Css(".empty-state")).first().await.unwrap();
        shot(driver, dir, &format!("empty-{theme}")).await;

        driver
            .goto(collector.url("/traces?name=no-such-name"))
            .await
            .unwrap();
        driver.query(By::Css(".empty-state")).first().await.unwrap();
        shot(driver, dir, &format!("no-match-{theme}")).await;

        driver.goto(collector.url("/nowhere")).await.unwrap();
        driver.query(By::Css(".empty-state")).first().await.unwrap();
        shot(driver, dir, &format!("not-found-{theme}")).await;

        driver
            .goto(collector.url("/metrics?metric=latency_p95&group_by=ab_test_variant"))
            .await
            .unwrap();
        driver
            .query(By::Css("[data-testid=chart-series] svg"))
            .first()
            .await
            .unwrap();
        shot(driver, dir, &format!("metrics-{theme}")).await;
    }

    // Unreachable: the page is loaded, then the collector goes away.
    driver.goto(collector.url("/traces")).await.unwrap();
    rows(driver).await;
    collector.stop();
    for theme in ["light", "dark"] {
        set_theme(driver, theme).await;
        driver
            .find(By::Css("select[name=status] option[value=ok]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        driver
            .query(By::Css(".error-banner"))
            .first()
            .await
            .unwrap();
        shot(driver, dir, &format!("unreachable-{theme}")).await;
        driver
            .find(By::Css("select[name=status] option[value='']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    // A narrow window.
    collector.restart().await;
    driver.set_window_rect(0, 0, 1000, 800).await.unwrap();
    driver.goto(collector.url("/traces")).await.unwrap();
    set_theme(driver, "light").await;
    rows(driver).await;
    shot(driver, dir, "list-narrow-light").await;

    browser.quit().await;
}
