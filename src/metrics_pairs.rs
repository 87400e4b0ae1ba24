//! The metrics page's table of a metric grouped by two keys (`group_by` × `then_by`, variant ×
//! user tier): a column per value of the first key, a row per value of the second, each cell a
//! group's mean with its CI, and in each row the A/B comparison of two columns. Pure
//! (compiled and tested natively); the page draws it in `pages::metrics::pairs`.

use skein_model::metrics::{self, Comparison, MetricGroup, MetricResponse};
use skein_model::sort;
use skein_model::stats::NotEnoughData;

use crate::metrics_format::READ_NUMBER;

/// The table of a response grouped by two keys.
#[derive(Debug, Clone, PartialEq)]
pub struct PairTable {
    /// The first key's values, in reading order (none: without the key).
    pub columns: Vec<Option<String>>,
    /// The two columns compared within each row (`a − b`); none with fewer than two columns.
    pub compared: Option<(usize, usize)>,
    pub rows: Vec<PairRow>,
}

/// One value of the second key.
#[derive(Debug, Clone, PartialEq)]
pub struct PairRow {
    pub then: Option<String>,
    /// Per column, the index of its group in the response (none: no traces for the pair).
    pub cells: Vec<Option<usize>>,
    /// The compared columns' test in this row; none for counts or a missing cell.
    pub comparison: Option<Result<Comparison, NotEnoughData>>,
}

/// Reading order of values: numbers by size, text alphabetically, the missing value last.
pub fn reading_order(a: &Option<String>, b: &Option<String>) -> std::cmp::Ordering {
    match (a, b) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) => match (READ_NUMBER(x.trim()), READ_NUMBER(y.trim())) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            _ => x.cmp(y),
        },
    }
}

fn distinct(values: impl Iterator<Item = Option<String>>) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    sort::sort_by(&mut out, reading_order);
    out
}

/// The compared pair `(a, b)` after picking `i` as its first (`first`) or second member: picking
/// the other member's index swaps them.
pub fn repick((a, b): (usize, usize), i: usize, first: bool) -> (usize, usize) {
    match (first, i) {
        (true, i) if i == b => (i, a),
        (true, i) => (i, b),
        (false, i) if i == a => (b, i),
        (false, i) => (a, i),
    }
}

/// The table of `r`, comparing the columns `a` and `b` (values of the first key, as the page
/// URL names them) where both are columns, else the two with the most traces (in reading
/// order).
pub fn pair_table(
    r: &MetricResponse,
    a: &Option<Option<String>>,
    b: &Option<Option<String>>,
) -> PairTable {
    let columns = distinct(r.groups.iter().map(|g| g.value.clone()));
    let thens = distinct(r.groups.iter().map(|g| g.then.clone()));
    let find = |want: &Option<Option<String>>| {
        want.as_ref()
            .and_then(|value| columns.iter().position(|c| c == value))
    };
    let compared = match (find(a), find(b)) {
        (Some(x), Some(y)) if x != y => Some((x, y)),
        _ if columns.len() >= 2 => {
            let size = |c: &Option<String>| -> u64 {
                r.groups.iter().filter(|g| &g.value == c).map(|g| g.n).sum()
            };
            let mut by_n: Vec<usize> = (0..columns.len()).collect();
            sort::sort_by_key(&mut by_n, |&i| (std::cmp::Reverse(size(&columns[i])), i));
            Some((by_n[0].min(by_n[1]), by_n[0].max(by_n[1])))
        }
        _ => None,
    };
    let rows = thens
        .into_iter()
        .map(|then| {
            let cells: Vec<Option<usize>> = columns
                .iter()
                .map(|c| {
                    r.groups
                        .iter()
                        .position(|g| &g.value == c && g.then == then)
                })
                .collect();
            let comparison = compared.and_then(|(x, y)| {
                let group = |i: usize| -> Option<&MetricGroup> { cells[i].map(|g| &r.groups[g]) };
                metrics::compare(r.kind, group(x)?, group(y)?)
            });
            PairRow {
                then,
                cells,
                comparison,
            }
        })
        .collect();
    PairTable {
        columns,
        compared,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skein_model::metrics::MetricKind;
    use skein_model::stats::{welch_t_test, Moments};

    fn group(value: &str, then: Option<&str>, values: &[f64]) -> MetricGroup {
        MetricGroup::of_values(Some(value.into()), then.map(Into::into), values)
    }

    #[test]
    fn rows_compare_the_chosen_columns_within_each_second_value() {
        let a_pro: Vec<f64> = (0..12).map(|i| f64::from(i) * 2.0).collect();
        let b_pro: Vec<f64> = (0..12).map(|i| f64::from(i) * 2.0 + 5.0).collect();
        let body = serde_json::json!({
            "metric": "latency_mean", "kind": "value", "statistic": "mean", "unit": "ms",
            "from_ms": 0, "to_ms": 1, "bucket_ms": 1, "groups": [],
            "group_by": "variant", "then_by": "tier",
        });
        let mut r: MetricResponse = serde_json::from_value(body).unwrap();
        r.groups = vec![
            group("B", Some("pro"), &b_pro),
            group("A", Some("pro"), &a_pro),
            group("A", Some("free"), &[1.0, 2.0]),
            group("C", None, &[1.0]),
        ];
        let t = pair_table(&r, &None, &None);
        assert_eq!(
            t.columns,
            [Some("A".into()), Some("B".into()), Some("C".into())]
        );
        assert_eq!(t.compared, Some((0, 1)));
        let thens: Vec<Option<&str>> = t.rows.iter().map(|r| r.then.as_deref()).collect();
        assert_eq!(thens, [Some("free"), Some("pro"), None]);
        // Free has no B: nothing to compare; pro's A − B is Welch's test of the values.
        assert_eq!(t.rows[0].cells, [Some(2), None, None]);
        assert!(t.rows[0].comparison.is_none());
        let want = welch_t_test(&Moments::from_values(&a_pro), &Moments::from_values(&b_pro));
        match &t.rows[1].comparison {
            Some(Ok(Comparison::Welch(d))) => assert_eq!(*d, want.unwrap()),
            other => panic!("{other:?}"),
        }
        assert_eq!(repick((0, 1), 2, true), (2, 1));
        assert_eq!(repick((0, 1), 1, true), (1, 0));
        assert_eq!(repick((0, 1), 0, false), (1, 0));
        // The URL's pair wins; counts have nothing to test.
        let t = pair_table(&r, &Some(Some("B".into())), &Some(Some("A".into())));
        assert_eq!(t.compared, Some((1, 0)));
        r.kind = MetricKind::Count;
        assert!(pair_table(&r, &None, &None).rows[1].comparison.is_none());
    }
}
