//! Cohort compare: two trace-list filters (A and B) compared span name by span name, to answer
//! "where does B spend its extra 800 ms?" (`GET /api/v1/compare/cohorts`).
//!
//! The query keeps each cohort's filters in the trace list's own form, prefixed with its cohort:
//! `a.tag=ab_test_variant=A&b.tag=ab_test_variant=B&by=duration`, so both cohorts (and the
//! list of each, with the prefix dropped) are links. A whole list query may also be given as
//! one value, `a=<percent-encoded list query>`.
//!
//! A store computes, per cohort, the trace-level moments and per span name (with its type and
//! service) the aggregates of `NameAggregates`; `compare` turns them into the table: per-trace
//! figures, B − A with Welch's t-test for means and the two-proportion z-test for rates (`stats`),
//! sorted by each name's contribution to the difference of the `by` measure per trace.
//!
//! Units: a span's duration is `end − start`; its self time is its duration less the time its
//! direct children cover, where the covered time is the lesser of their summed durations and
//! their envelope (first start to last end) clipped to the span — exact for sequential children
//! and for fully parallel ones, an upper bound on the self time between. The self times of a
//! trace's spans add up to about the trace's duration, which is why the duration contribution
//! of a name is its self time per trace.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::query::{encode_pairs, parse_query_string, QueryError, ReadNumber, TraceQuery};
use crate::span::SpanType;
use crate::stats::{self, Interval, Moments, NotEnoughData};

/// Most rows a comparison carries: the names contributing most (by absolute value).
pub const MAX_ROWS: usize = 200;

/// Most span names (with type and service) a store aggregates per cohort, the ones with the
/// most self time first: keeps an answer's size bounded when names carry ids.
pub const MAX_NAMES: usize = 5_000;

/// Which per-trace measure the rows are sorted by (`by=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CohortMeasure {
    /// Self time per trace (ms): the names that make the traces longer.
    #[default]
    Duration,
    /// Tokens per trace.
    Tokens,
    /// Cost per trace (USD).
    Cost,
    /// Error spans per trace.
    Errors,
}

impl CohortMeasure {
    pub fn as_str(self) -> &'static str {
        match self {
            CohortMeasure::Duration => "duration",
            CohortMeasure::Tokens => "tokens",
            CohortMeasure::Cost => "cost",
            CohortMeasure::Errors => "errors",
        }
    }

    pub fn parse(text: &str) -> Result<CohortMeasure, QueryError> {
        Ok(match text.trim() {
            "duration" => CohortMeasure::Duration,
            "tokens" => CohortMeasure::Tokens,
            "cost" => CohortMeasure::Cost,
            "errors" => CohortMeasure::Errors,
            other => {
                return Err(QueryError::new(format!(
                    "by must be duration, tokens, cost or errors, not {other:?}"
                )))
            }
        })
    }
}

impl fmt::Display for CohortMeasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `GET /api/v1/compare/cohorts`: the two cohorts' filters (the trace list's; its order, cursor
/// and limit mean nothing here and are dropped) and the measure to sort by.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CohortQuery {
    pub a: TraceQuery,
    pub b: TraceQuery,
    pub by: CohortMeasure,
}

impl CohortQuery {
    /// Parses decoded pairs: `a.<list key>` and `b.<list key>` (or `a`/`b` holding a whole
    /// percent-encoded list query) and `by`. Other keys are ignored; errors name the parameter.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<CohortQuery, QueryError> {
        CohortQuery::read(pairs, |pairs| {
            TraceQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        })
    }

    /// Reads a page's link as `from_pairs` does, but leaves the cohorts' filters to the
    /// collector (as `TraceQuery::from_link`): the page does not carry the filter parser.
    pub fn from_link(search: &str, read_number: ReadNumber) -> Result<CohortQuery, QueryError> {
        let pairs = parse_query_string(search.trim_start_matches('?'));
        CohortQuery::read(
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            |pairs| {
                TraceQuery::from_link(
                    &encode_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                    read_number,
                )
            },
        )
    }

    fn read<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        side: impl Fn(&[(String, String)]) -> Result<TraceQuery, QueryError>,
    ) -> Result<CohortQuery, QueryError> {
        let mut side_pairs: [Vec<(String, String)>; 2] = [Vec::new(), Vec::new()];
        let mut by = CohortMeasure::default();
        for (key, value) in pairs {
            if value.is_empty() {
                continue;
            }
            let (side, rest) = match key.split_once('.') {
                Some(("a", rest)) => (0, Some(rest)),
                Some(("b", rest)) => (1, Some(rest)),
                _ => match key {
                    "a" => (0, None),
                    "b" => (1, None),
                    "by" => {
                        by = CohortMeasure::parse(value)?;
                        continue;
                    }
                    _ => continue,
                },
            };
            match rest {
                Some(rest) => side_pairs[side].push((rest.to_string(), value.to_string())),
                None => side_pairs[side].extend(parse_query_string(value)),
            }
        }
        let [a, b] = side_pairs;
        Ok(CohortQuery {
            a: side_query("a", &a, &side)?,
            b: side_query("b", &b, &side)?,
            by,
        })
    }

    pub fn from_query_string(query: &str) -> Result<CohortQuery, QueryError> {
        let pairs = parse_query_string(query);
        CohortQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// `a.<key>=...&b.<key>=...&by=...` (`by` only when not the default).
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (prefix, side) in [("a", &self.a), ("b", &self.b)] {
            for (k, v) in side.to_pairs() {
                pairs.push((format!("{prefix}.{k}"), v));
            }
        }
        if self.by != CohortMeasure::default() {
            pairs.push(("by".into(), self.by.as_str().into()));
        }
        encode_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

/// One cohort's list query, without the list's order and page, its errors prefixed by the cohort.
fn side_query(
    prefix: &str,
    pairs: &[(String, String)],
    read: impl Fn(&[(String, String)]) -> Result<TraceQuery, QueryError>,
) -> Result<TraceQuery, QueryError> {
    let q = read(pairs).map_err(|e| e.prefixed(&format!("{prefix}.")))?;
    Ok(TraceQuery {
        sort: Default::default(),
        cursor: None,
        limit: None,
        ..q
    })
}

// ---------------------------------------------------------------------------------------------
// What a store computes

/// One cohort as a store aggregates it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CohortAggregates {
    /// Per trace of the cohort: its duration (ms), tokens, cost and error spans. `n` of each is
    /// the number of traces in the cohort.
    pub duration_ms: Moments,
    pub tokens: Moments,
    pub cost: Moments,
    pub errors: Moments,
    /// One entry per span name, type and service seen in the cohort's traces (at most
    /// `MAX_NAMES`, the most self time first).
    pub names: Vec<NameAggregates>,
}

/// A span name (with type and service) in one cohort. The per-trace moments are over the
/// traces that have the name (`traces_with` of them); a trace without it counts 0, which adds
/// nothing to a sum, so `compare` extends them to the whole cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameAggregates {
    pub name: String,
    pub span_type: SpanType,
    pub service: String,
    pub spans: u64,
    pub traces_with: u64,
    /// Sum of the spans' durations (ms).
    pub duration_ms_sum: f64,
    /// Exact quantiles of the spans' durations (ms), numpy's "linear" rule.
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// Per trace having the name: the sums of its spans' self time (ms), tokens, cost and error spans.
    pub self_ms: Moments,
    pub tokens: Moments,
    pub cost: Moments,
    pub errors: Moments,
}

// ---------------------------------------------------------------------------------------------
// The answer

/// A difference B − A with its 95% CI and two-sided p-value, or why it could not be tested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Significance {
    Tested {
        /// `b − a`.
        difference: f64,
        ci: Interval,
        p_value: f64,
    },
    NotEnoughData {
        difference: f64,
        not_enough_data: NotEnoughData,
    },
}

impl Significance {
    pub fn difference(&self) -> f64 {
        match self {
            Significance::Tested { difference, .. }
            | Significance::NotEnoughData { difference, .. } => *difference,
        }
    }

    pub fn p_value(&self) -> Option<f64> {
        match self {
            Significance::Tested { p_value, .. } => Some(*p_value),
            Significance::NotEnoughData { .. } => None,
        }
    }

    /// Welch's t-test of the means `b − a`.
    pub fn of_means(a: &Moments, b: &Moments) -> Significance {
        let difference = b.mean().unwrap_or(0.0) - a.mean().unwrap_or(0.0);
        match stats::welch_t_test(b, a) {
            Ok(d) => Significance::Tested {
                difference: d.difference,
                ci: d.ci,
                p_value: d.p_value,
            },
            Err(e) => Significance::NotEnoughData {
                difference,
                not_enough_data: e,
            },
        }
    }

    /// The two-proportion z-test of the rates `b − a`.
    pub fn of_rates(successes_a: u64, n_a: u64, successes_b: u64, n_b: u64) -> Significance {
        let rate = |x: u64, n: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
        let difference = rate(successes_b, n_b) - rate(successes_a, n_a);
        match stats::two_proportion_z_test(successes_b, n_b, successes_a, n_a) {
            Ok(d) => Significance::Tested {
                difference: d.difference,
                ci: d.ci,
                p_value: d.p_value,
            },
            Err(e) => Significance::NotEnoughData {
                difference,
                not_enough_data: e,
            },
        }
    }
}

/// A cohort as a whole: its traces and their means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortTotals {
    pub traces: u64,
    pub duration_ms: f64,
    pub tokens: f64,
    pub cost: f64,
    pub errors: f64,
}

impl CohortTotals {
    fn of(c: &CohortAggregates) -> CohortTotals {
        CohortTotals {
            traces: c.duration_ms.n,
            duration_ms: c.duration_ms.mean().unwrap_or(0.0),
            tokens: c.tokens.mean().unwrap_or(0.0),
            cost: c.cost.mean().unwrap_or(0.0),
            errors: c.errors.mean().unwrap_or(0.0),
        }
    }
}

/// The per-trace means of a whole cohort, B − A, each with its test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotalsDifference {
    pub duration_ms: Significance,
    pub tokens: Significance,
    pub cost: Significance,
    pub errors: Significance,
}

/// One span name in one cohort: what a row shows for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortCell {
    /// Traces in the cohort, and of them, the ones with a span of this name.
    pub traces: u64,
    pub traces_with: u64,
    pub spans: u64,
    pub spans_per_trace: f64,
    /// Quantiles and mean of a span's duration (ms); none without spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_ms: Option<f64>,
    /// Mean self time of a span (ms); none without spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_self_ms: Option<f64>,
    /// Per trace of the cohort (0 for a trace without the name).
    pub self_ms_per_trace: f64,
    pub tokens_per_trace: f64,
    pub cost_per_trace: f64,
    pub errors_per_trace: f64,
    /// Error spans and their share of the spans; the rate is none without spans.
    pub errors: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
}

/// One row of the table: a span name, its two cells, and B − A.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortRow {
    pub name: String,
    pub span_type: SpanType,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<CohortCell>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<CohortCell>,
    /// B − A of the `by` measure per trace: what this name adds to the difference of the
    /// cohorts' traces (the rows are sorted by its absolute value, largest first).
    pub contribution: f64,
    /// B − A per trace, each with its Welch test.
    pub self_ms_per_trace: Significance,
    pub tokens_per_trace: Significance,
    pub cost_per_trace: Significance,
    pub errors_per_trace: Significance,
    /// B − A of the share of error spans, with the two-proportion z-test.
    pub error_rate: Significance,
}

/// The answer of `GET /api/v1/compare/cohorts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortComparison {
    pub by: CohortMeasure,
    pub a: CohortTotals,
    pub b: CohortTotals,
    /// B − A of the whole traces' means.
    pub difference: TotalsDifference,
    pub rows: Vec<CohortRow>,
    /// Rows left out beyond the `MAX_ROWS` contributing most.
    #[serde(default)]
    pub omitted_rows: u64,
}

/// The table from two cohorts' aggregates.
pub fn compare(by: CohortMeasure, a: &CohortAggregates, b: &CohortAggregates) -> CohortComparison {
    let (na, nb) = (a.duration_ms.n, b.duration_ms.n);
    let mut keyed: Vec<(
        NameKey<'_>,
        Option<&NameAggregates>,
        Option<&NameAggregates>,
    )> = Vec::new();
    let mut index: std::collections::HashMap<NameKey<'_>, usize> = Default::default();
    for (side, aggs) in [(0, a), (1, b)] {
        for agg in &aggs.names {
            let key = (agg.name.as_str(), agg.span_type, agg.service.as_str());
            let slot = *index.entry(key).or_insert_with(|| {
                keyed.push((key, None, None));
                keyed.len() - 1
            });
            if side == 0 {
                keyed[slot].1 = Some(agg);
            } else {
                keyed[slot].2 = Some(agg);
            }
        }
    }
    let mut rows: Vec<CohortRow> = keyed
        .into_iter()
        .map(|((name, span_type, service), ca, cb)| {
            let per_trace =
                |agg: Option<&NameAggregates>, n: u64, pick: fn(&NameAggregates) -> Moments| {
                    let m = agg.map(pick).unwrap_or_default();
                    Moments::new(n, m.sum, m.sum_sq)
                };
            let measures = |pick: fn(&NameAggregates) -> Moments| {
                Significance::of_means(&per_trace(ca, na, pick), &per_trace(cb, nb, pick))
            };
            let self_ms = measures(|g| g.self_ms);
            let tokens = measures(|g| g.tokens);
            let cost = measures(|g| g.cost);
            let errors = measures(|g| g.errors);
            let error_spans =
                |g: Option<&NameAggregates>| g.map_or(0, |g| g.errors.sum.round().max(0.0) as u64);
            let spans = |g: Option<&NameAggregates>| g.map_or(0, |g| g.spans);
            let error_rate =
                Significance::of_rates(error_spans(ca), spans(ca), error_spans(cb), spans(cb));
            let contribution = match by {
                CohortMeasure::Duration => self_ms.difference(),
                CohortMeasure::Tokens => tokens.difference(),
                CohortMeasure::Cost => cost.difference(),
                CohortMeasure::Errors => errors.difference(),
            };
            CohortRow {
                name: name.to_string(),
                span_type,
                service: service.to_string(),
                a: cell(ca, na),
                b: cell(cb, nb),
                contribution,
                self_ms_per_trace: self_ms,
                tokens_per_trace: tokens,
                cost_per_trace: cost,
                errors_per_trace: errors,
                error_rate,
            }
        })
        .collect();
    // Largest contribution first; ties by name for a stable order.
    rows.sort_by(|x, y| {
        y.contribution
            .abs()
            .total_cmp(&x.contribution.abs())
            .then_with(|| x.name.cmp(&y.name))
            .then_with(|| x.service.cmp(&y.service))
            .then_with(|| x.span_type.code().cmp(&y.span_type.code()))
    });
    let omitted_rows = rows.len().saturating_sub(MAX_ROWS) as u64;
    rows.truncate(MAX_ROWS);
    CohortComparison {
        by,
        a: CohortTotals::of(a),
        b: CohortTotals::of(b),
        difference: TotalsDifference {
            duration_ms: Significance::of_means(&a.duration_ms, &b.duration_ms),
            tokens: Significance::of_means(&a.tokens, &b.tokens),
            cost: Significance::of_means(&a.cost, &b.cost),
            errors: Significance::of_means(&a.errors, &b.errors),
        },
        rows,
        omitted_rows,
    }
}

type NameKey<'a> = (&'a str, SpanType, &'a str);

/// A name's cell in a cohort of `traces` traces; none when the cohort has no such span.
fn cell(agg: Option<&NameAggregates>, traces: u64) -> Option<CohortCell> {
    let g = agg?;
    let per_trace = |sum: f64| {
        if traces == 0 {
            0.0
        } else {
            sum / traces as f64
        }
    };
    let per_span = |sum: f64| (g.spans > 0).then(|| sum / g.spans as f64);
    let errors = g.errors.sum.round().max(0.0) as u64;
    Some(CohortCell {
        traces,
        traces_with: g.traces_with,
        spans: g.spans,
        spans_per_trace: per_trace(g.spans as f64),
        p50_ms: (g.spans > 0).then_some(g.p50_ms),
        p95_ms: (g.spans > 0).then_some(g.p95_ms),
        mean_ms: per_span(g.duration_ms_sum),
        mean_self_ms: per_span(g.self_ms.sum),
        self_ms_per_trace: per_trace(g.self_ms.sum),
        tokens_per_trace: per_trace(g.tokens.sum),
        cost_per_trace: per_trace(g.cost.sum),
        errors_per_trace: per_trace(g.errors.sum),
        errors,
        error_rate: per_span(errors as f64),
    })
}

/// Self time of a span (ns) from its extent and its direct children's: summed durations and
/// envelope. The rule every engine applies in its SQL (see the module docs); here for tests.
pub fn self_time_ns(
    start: i64,
    end: i64,
    children_sum: i64,
    children_first: i64,
    children_last: i64,
) -> i64 {
    let duration = (end - start).max(0);
    let envelope = (children_last.min(end) - children_first.max(start)).max(0);
    (duration - children_sum.min(envelope)).max(0)
}

#[cfg(test)]
#[path = "cohort_tests.rs"]
mod tests;
