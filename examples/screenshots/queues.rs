//! Review work, in both themes: `/queues` with an annotation queue and a pairwise queue (and
//! its empty state), the reviewer's name asked, an annotation queue's review page, a pairwise
//! queue's pair, and `/metrics` with the pairwise panel.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use thirtyfour::prelude::*;

use crate::common::{eventually, texts, Browser, Collector};
use crate::shots::{set_theme, shot};

const WAIT: Duration = Duration::from_secs(30);

async fn wait_for(driver: &WebDriver, css: &str) {
    eventually(WAIT, css, || async {
        (!texts(driver, css).await.is_empty()).then_some(())
    })
    .await;
}

/// What a picture needs: the browser, the collector, the folder.
struct Camera<'a> {
    driver: &'a WebDriver,
    collector: &'a Collector,
    dir: &'a Path,
}

impl Camera<'_> {
    /// Opens `path` in `theme`, waits for `css` and takes `name-theme.png`.
    async fn page(&self, path: &str, css: &str, name: &str, theme: &str) {
        self.driver.goto(self.collector.url(path)).await.unwrap();
        set_theme(self.driver, theme).await;
        wait_for(self.driver, css).await;
        shot(self.driver, self.dir, &format!("{name}-{theme}")).await;
    }
}

pub async fn run(dir: &Path) {
    let collector = Collector::start_demo().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    let camera = Camera {
        driver,
        collector: &collector,
        dir,
    };

    // Before any queue: the empty states.
    for theme in ["light", "dark"] {
        camera
            .page("/queues", "[data-testid=queue-form]", "queues-empty", theme)
            .await;
    }

    let category = |label: &str, score: f64| json!({"label": label, "score": score});
    let categories = [
        category("right", 1.0),
        category("half", 0.5),
        category("wrong", 0.0),
    ];
    let config = json!({"key": "correctness", "type": "categorical", "categories": categories});
    collector
        .post_json("/api/v1/score-configs?project=default", config)
        .await;
    let queue = collector
        .post_json(
            "/api/v1/queues?project=default",
            json!({"name": "Agent answers", "score_keys": ["correctness"],
                "query": "name=main_agent"}),
        )
        .await;
    let queue = queue["id"].as_str().unwrap().to_string();
    let pairwise = collector
        .post_json(
            "/api/v1/pairwise?project=default",
            json!({"name": "Variant B vs A", "cohort_a": "tag=ab_test_variant%3DA",
                "cohort_b": "tag=ab_test_variant%3DB", "pairs": 10}),
        )
        .await;
    let pairwise = pairwise["id"].as_str().unwrap().to_string();

    for theme in ["light", "dark"] {
        driver.goto(collector.url("/queues")).await.unwrap();
        driver
            .execute("localStorage.removeItem('skein-reviewer')", vec![])
            .await
            .unwrap();
        camera
            .page(
                "/queues",
                "[data-testid=pairwise-queues] tbody tr",
                "queues",
                theme,
            )
            .await;
        camera
            .page(
                &format!("/queues/{queue}"),
                "[data-testid=reviewer-form]",
                "review-name",
                theme,
            )
            .await;
        driver
            .execute("localStorage.setItem('skein-reviewer', 'Ada')", vec![])
            .await
            .unwrap();
        camera
            .page(
                &format!("/queues/{queue}"),
                "[data-testid=review-item]",
                "review",
                theme,
            )
            .await;
        camera
            .page(
                &format!("/pairwise/{pairwise}"),
                "[data-testid=pw-pair]",
                "pairwise-review",
                theme,
            )
            .await;
        camera
            .page(
                &format!(
                    "/metrics?metric=latency_p95&group_by=ab_test_variant&pairwise={pairwise}"
                ),
                "[data-testid=chart-series] svg",
                "metrics-pairwise",
                theme,
            )
            .await;
    }
}
