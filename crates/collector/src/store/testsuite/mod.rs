//! The conformance suite: every backend-neutral behaviour of the store contract, written once
//! against `Arc<dyn Store>` and run against every engine. An engine runs it with
//! `store_suite!(open)` in its own tests, where `open` is an async fn returning a guard (kept
//! alive for the test: a temp dir, a server) and a fresh, empty store.
//!
//! Each test talks to the store only through the traits, with data it makes itself, and
//! asserts what a client of the API would read back.

pub mod cohort;
pub mod feedback;
pub mod journeys;
pub mod keys;
pub mod metrics;
pub mod pairwise;
pub mod pieces;
pub mod queues;
pub mod received;
pub mod scopes;
pub mod score_configs;
pub mod search;
pub mod skeleton_head;
pub mod span_metrics;
pub mod spans;
pub mod split_traces;
pub mod summary_rules;
pub mod traces;

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use skein_model::span::Span;

/// Calls `$callback!($($args)*; module::test, ...)` with every test of the suite: the one list
/// of them, for `store_suite!` and `store_suite_in_order!`.
#[macro_export]
macro_rules! for_each_suite_test {
    ($callback:ident, $($args:tt)*) => {
        $crate::$callback! {$($args)*;
            traces::summary_is_right_whatever_the_arrival_order,
            traces::a_retried_request_is_stored_once,
            traces::an_orphan_is_kept_and_named_by_its_earliest_span,
            traces::pages_follow_the_cursor_without_gaps,
            traces::a_cursor_the_store_did_not_give_is_invalid,
            traces::tag_filters_count_and_page_like_a_scan_would,
            traces::time_and_latency_ranges_select_like_a_scan_would,
            traces::projects_see_only_their_own_traces,
            traces::skeleton_span_and_search_read_what_was_written,
            split_traces::a_large_trace_in_parts_lists_first_by_its_tags,
            skeleton_head::a_trace_head_is_how_its_skeleton_begins,
            traces::catalog_counts_services_tags_and_projects,
            traces::traces_older_than_the_retention_leave_with_all_they_hold,
            traces::project_names_are_every_project_with_traces,
            traces::the_project_list_follows_every_write,
            summary_rules::trace_tags_are_the_roots_without_instrumentation_keys,
            summary_rules::usage_is_counted_once_in_lists_sessions_users_and_metrics,
            pieces::post_then_patch_reads_as_one_span,
            pieces::a_replaced_piece_keeps_every_count_exact,
            pieces::pieces_are_found_by_span_id_within_their_project,
            feedback::feedback_is_found_through_its_run_and_edited,
            feedback::feedback_before_its_run_takes_the_trace_when_it_arrives,
            feedback::feedback_ids_are_scoped_by_project,
            feedback::the_trace_list_carries_feedback_means,
            feedback::imported_feedback_keeps_its_times,
            feedback::feedback_is_read_by_id_within_its_project,
            feedback::queue_ratings_name_their_queue_and_reviewer,
            score_configs::score_configs_are_kept_per_project_by_key,
            score_configs::feedback_settings_are_per_project,
            queues::queues_are_kept_per_project_with_their_items,
            queues::claims_hold_items_under_leases,
            queues::concurrent_claims_never_share_an_item,
            queues::items_needing_two_reviews_go_to_two_reviewers,
            pairwise::pairwise_queues_hold_pairs_and_store_judgements,
            pairwise::concurrent_claims_never_share_a_pair,
            journeys::sessions_and_users_aggregate_their_requests,
            journeys::the_service_graph_counts_calls_between_services,
            metrics::quantiles_and_moments_are_exact,
            metrics::metrics_group_by_tag_and_filter,
            metrics::feedback_metrics_average_per_trace,
            metrics::statistics_sums_and_thresholds_are_exact,
            span_metrics::span_metrics_measure_the_spans_a_filter_selects,
            span_metrics::trace_metrics_split_by_a_second_tag,
            keys::keys_are_hashed_scoped_and_revocable,
            keys::a_registered_project_keeps_its_creation_time,
            spans::span_filters_select_like_a_scan_would,
            spans::span_rows_carry_what_the_list_shows,
            spans::field_values_are_the_latest_traces_most_used_first,
            spans::the_trace_list_keeps_traces_having_a_matching_span,
            scopes::attribute_filters_select_like_a_scan_would,
            scopes::trace_scopes_take_span_conditions,
            search::search_finds_text_anywhere_in_a_span_as_literal_text,
            cohort::cohorts_compare_span_names_with_exact_figures,
            cohort::a_cohort_without_traces_compares_as_empty,
            received::received_spans_follow_the_cursor_within_their_project,
            received::trace_summaries_are_the_lists_rows,
            received::trace_summaries_pass_the_lists_query,
            received::a_patched_span_is_received_again,
            received::feedback_on_a_span_receives_it_again,
        }
    };
}

/// Runs every test of the suite, each as a test of its own, against the engine `open` gives.
#[macro_export]
macro_rules! store_suite {
    ($open:path) => {
        $crate::for_each_suite_test!(store_suite_tests, $open);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! store_suite_tests {
    ($open:path; $($module:ident :: $test:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let (_guard, store) = $open().await;
                $crate::store::testsuite::$module::$test(store).await;
            }
        )+
    };
}

/// Runs every test of the suite one after the other, in one async block, each on a store
/// `open` gives (for a check that needs the whole suite's traffic in one place).
#[macro_export]
macro_rules! store_suite_in_order {
    ($open:expr) => {
        $crate::for_each_suite_test!(store_suite_sequence, $open)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! store_suite_sequence {
    ($open:expr; $($module:ident :: $test:ident),+ $(,)?) => {
        async {
            $(
                let (_guard, store) = ($open)().await;
                $crate::store::testsuite::$module::$test(store).await;
            )+
        }
    };
}

/// An hour before the suite started, in ns (the same for every call): recent enough for every
/// default time range (the service graph's last day, the metrics' data span).
pub fn base_ns() -> i64 {
    static BASE: OnceLock<i64> = OnceLock::new();
    *BASE.get_or_init(|| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        // Whole milliseconds, so that ms ranges select exactly.
        (now - 3_600_000_000_000) / 1_000_000 * 1_000_000
    })
}

/// A span of project `p`: trace `trace` (a hex digit, repeated), id `id` (repeated), its
/// parent, starting `start_ms` after `base_ns()` and lasting 1 ms.
pub fn span(trace: &str, id: &str, parent: Option<&str>, start_ms: i64) -> Span {
    let start = base_ns() + start_ms * 1_000_000;
    Span {
        project: "p".into(),
        trace_id: trace.repeat(32 / trace.len()),
        span_id: id.repeat(16 / id.len()),
        parent_span_id: parent.map(|p| p.repeat(16 / p.len())),
        name: format!("span-{id}"),
        service: format!("svc-{id}"),
        start_ns: start,
        end_ns: start + 1_000_000,
        ..Span::default()
    }
}

/// The trace id of the `i`-th of many traces.
pub fn trace_hex(i: i64) -> String {
    format!("{:032x}", i + 1)
}
