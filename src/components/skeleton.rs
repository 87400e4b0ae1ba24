//! Shimmering placeholder rows while a table loads.

use leptos::prelude::*;

/// `rows` table rows of `cols` cells, bars of varied (but fixed) widths.
#[component]
pub fn SkeletonRows(rows: usize, cols: usize) -> impl IntoView {
    (0..rows)
        .map(|r| {
            view! {
                <tr class="skeleton-row" aria-hidden="true">
                    {(0..cols)
                        .map(|c| {
                            let width = 35 + (r * 37 + c * 23) % 55;
                            view! {
                                <td><span class="shimmer" style=format!("width: {width}%")></span></td>
                            }
                        })
                        .collect_view()}
                </tr>
            }
        })
        .collect_view()
}
