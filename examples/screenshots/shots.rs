//! What every set of screenshots does: switch the theme, and take a picture once the page has
//! settled.

use std::path::Path;
use std::time::Duration;

use thirtyfour::prelude::*;

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

/// Writes `DIR/NAME.png` once transitions and the loading shimmer have settled a little.
pub async fn shot(driver: &WebDriver, dir: &Path, name: &str) {
    tokio::time::sleep(Duration::from_millis(400)).await;
    let path = dir.join(format!("{name}.png"));
    driver.screenshot(&path).await.unwrap();
    eprintln!("screenshot: {}", path.display());
}
