//! What every set of screenshots does: switch the theme, and take a picture once the page has
//! settled.

use std::path::Path;
use std::time::Duration;

use thirtyfour::prelude::*;

pub use crate::common::set_theme;

/// Writes `DIR/NAME.png` once transitions and the loading shimmer have settled a little.
pub async fn shot(driver: &WebDriver, dir: &Path, name: &str) {
    tokio::time::sleep(Duration::from_millis(400)).await;
    let path = dir.join(format!("{name}.png"));
    driver.screenshot(&path).await.unwrap();
    eprintln!("screenshot: {}", path.display());
}
