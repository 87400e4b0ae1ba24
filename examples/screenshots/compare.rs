//! Comparing, in both themes: a metric over spans (LLM latency p95 by model), a metric by two
//! tags (variant × user tier, with the A/B test within each tier), two rows of the trace list
//! selected to compare, and the cohort page's totals at the default width.

use std::path::Path;
use std::time::Duration;

use crate::common::{click, eventually, texts, Browser, Collector};
use thirtyfour::prelude::*;

use crate::shots::{set_theme, shot};

const WAIT: Duration = Duration::from_secs(30);

async fn wait_for(driver: &WebDriver, css: &str) {
    eventually(WAIT, css, || async {
        (!texts(driver, css).await.is_empty()).then_some(())
    })
    .await;
}

pub async fn run(dir: &Path) {
    let collector = Collector::start_demo().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    for theme in ["light", "dark"] {
        driver
            .goto(collector.url(
                "/metrics?metric=latency_p95&over=spans&group_by=span.model&filter=eq(type%2C%20%22llm%22)",
            ))
            .await
            .unwrap();
        set_theme(driver, theme).await;
        wait_for(driver, "[data-testid=groups-table] tbody tr").await;
        driver
            .query(By::Css("[data-testid=chart-series] svg"))
            .first()
            .await
            .unwrap();
        shot(driver, dir, &format!("span-metrics-{theme}")).await;

        driver
            .goto(collector.url(
                "/metrics?metric=feedback:user_satisfaction&group_by=ab_test_variant&then_by=user_tier",
            ))
            .await
            .unwrap();
        wait_for(driver, "[data-testid=pairs-table] tbody tr").await;
        shot(driver, dir, &format!("metric-pairs-{theme}")).await;

        driver.goto(collector.url("/traces")).await.unwrap();
        wait_for(driver, "tr.trace-row").await;
        click(driver, "tr.trace-row:nth-child(2) input.row-select").await;
        click(driver, "tr.trace-row:nth-child(4) input.row-select").await;
        wait_for(driver, "[data-testid=compare-selected]").await;
        shot(driver, dir, &format!("list-selected-{theme}")).await;

        driver
            .goto(
                collector
                    .url("/compare/cohorts?a.tag=ab_test_variant%3DA&b.tag=ab_test_variant%3DB"),
            )
            .await
            .unwrap();
        wait_for(driver, "[data-testid=cohort-totals] td[data-col=ci]").await;
        shot(driver, dir, &format!("cohort-totals-{theme}")).await;
    }
    browser.quit().await;
}
