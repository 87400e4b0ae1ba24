#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

//! Skein's dashboard: a client-side Leptos app, built for the browser by Trunk
//! (`scripts/build-dashboard.sh`) and served by the collector (`skein serve --dist dist`).
//!
//! The pure helpers (URLs, the span tree, number formatting) compile natively too, so
//! `cargo test` checks them without a browser.

mod calendar;
mod links;
mod metrics_format;
mod metrics_pairs;
mod metrics_view;
mod svg;
mod text;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod number;
#[cfg(target_arch = "wasm32")]
mod pages;
#[cfg(target_arch = "wasm32")]
mod perf;
#[cfg(target_arch = "wasm32")]
mod time;

#[cfg(target_arch = "wasm32")]
fn main() {
    leptos::mount::mount_to_body(app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    println!(
        "The Skein dashboard runs in the browser: build it with Trunk (scripts/build-dashboard.sh) \
         and open it through `skein serve --dist dist`."
    );
}
