//! Find in a trace's skeleton: which spans match a query, which rows stay shown, and the
//! next or previous match.

use super::TraceTree;
use crate::span::SpanType;
use crate::trace::TraceSkeleton;

/// What find-in-trace matches, in the skeleton alone: names, services, span types and span
/// ids (attribute values live in the full spans, which the page does not hold).
pub fn find(skeleton: &TraceSkeleton, tree: &TraceTree, query: &str) -> Vec<u32> {
    find_with(skeleton, tree, query, &str::to_lowercase)
}

/// [`find`], lowercasing with `lower` (`str::to_lowercase` or its equal: the dashboard's
/// asks the browser for non-ASCII text, so that core's case tables stay out of its wasm).
pub fn find_with(
    skeleton: &TraceSkeleton,
    tree: &TraceTree,
    query: &str,
    lower: &dyn Fn(&str) -> String,
) -> Vec<u32> {
    let q = lower(query.trim());
    if q.is_empty() {
        return Vec::new();
    }
    let hits =
        |values: &[String]| -> Vec<bool> { values.iter().map(|v| lower(v).contains(&q)).collect() };
    let name_hit = hits(&skeleton.names);
    let service_hit = hits(&skeleton.services);
    let type_hit: Vec<bool> = SpanType::ALL.iter().map(|t| t.as_str() == q).collect();
    let id_like = q.len() >= 4 && q.bytes().all(|b| b.is_ascii_hexdigit());
    (0..tree.len())
        .filter(|&pos| {
            let Some(i) = tree.span_at(pos) else {
                return false;
            };
            let span = &skeleton.spans[i];
            name_hit.get(span.name_index()).copied().unwrap_or(false)
                || service_hit
                    .get(span.service_index())
                    .copied()
                    .unwrap_or(false)
                || type_hit[span.span_type().code() as usize]
                || (id_like && span.span_id().starts_with(&q))
        })
        .map(|pos| pos as u32)
        .collect()
}

/// The positions to keep when only matches show: the matches and their ancestors.
pub fn keep_matches(tree: &TraceTree, matches: &[u32]) -> Vec<bool> {
    let mut keep = vec![false; tree.len()];
    for &m in matches {
        let m = m as usize;
        if m >= tree.len() || keep[m] {
            continue;
        }
        keep[m] = true;
        for a in tree.ancestors(m) {
            if std::mem::replace(&mut keep[a], true) {
                break; // the rest of the chain is marked already
            }
        }
    }
    keep
}

/// The next match after `pos` (or before it, `forward = false`), wrapping around; the first
/// (or last) when nothing is selected. `matches` ascends.
pub fn step_match(matches: &[u32], pos: Option<usize>, forward: bool) -> Option<usize> {
    let first = *matches.first()? as usize;
    let last = *matches.last()? as usize;
    let Some(pos) = pos else {
        return Some(if forward { first } else { last });
    };
    let pos = pos as u32;
    Some(if forward {
        let i = matches.partition_point(|&m| m <= pos);
        matches.get(i).map_or(first, |&m| m as usize)
    } else {
        let i = matches.partition_point(|&m| m < pos);
        if i == 0 {
            last
        } else {
            matches[i - 1] as usize
        }
    })
}

/// The index of a span by id (a linear scan: done once per page load or link).
pub fn span_index(skeleton: &TraceSkeleton, span_id: &str) -> Option<usize> {
    let id = crate::skeleton_id::SpanId::new(&span_id.trim().to_ascii_lowercase());
    skeleton.spans.iter().position(|s| s.0 == id)
}
