//! Blind pairwise review queues: pairs of runs, one from cohort A and one from cohort B (each a
//! trace-list filter, e.g. `ab_test_variant = "A"` vs `= "B"`), shown side by side with the
//! sides shuffled and the cohorts hidden; a reviewer picks left, right or a tie.
//!
//! The rules are pure functions here: how pairs are drawn (`draw_pairs`: same root input first,
//! then the most shared tag values, then at random), which side each run is on (`a_on_left`,
//! stable per pair), what a pick means (`Pick::winner`), and how judgements add up per group of
//! a tag (`results_by_group`, statistics from `pairwise::compare`). A pair is held under a lease
//! by the same rules as an ordinary queue's item (`queue::choose_next`, `claim`, `finish`).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::pairwise::{self, PairwiseCounts, PairwiseResult};
use crate::queue::{ItemRef, Lease, QueueCounts, QueueItem, MAX_DESCRIPTION_LEN, MAX_NAME_LEN};

/// Most pairs one queue holds.
pub const MAX_PAIRS: usize = 1000;
/// Pairs drawn when the request does not say.
pub const DEFAULT_PAIRS: usize = 100;
/// Most runs read of each cohort to draw pairs from.
pub const MAX_COHORT: usize = 2000;
/// Longest cohort filter (a trace-list query string).
pub const MAX_COHORT_LEN: usize = 4000;

/// `POST /api/v1/pairwise`: two cohorts as trace-list query strings (as in the trace list's
/// link, e.g. `filter=ab_test_variant%20%3D%20%22A%22`), and how many pairs to draw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewPairwiseQueue {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub cohort_a: String,
    pub cohort_b: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs: Option<u32>,
}

/// A stored pairwise queue, with its counts (of pairs) as of the read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairwiseQueue {
    pub id: String,
    pub project: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub cohort_a: String,
    pub cohort_b: String,
    pub created_ms: i64,
    #[serde(default)]
    pub counts: QueueCounts,
}

/// `GET /api/v1/pairwise`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PairwiseQueueList {
    pub queues: Vec<PairwiseQueue>,
}

/// Checks a new pairwise queue; the sentence says what is wrong.
pub fn check_new_queue(new: &NewPairwiseQueue) -> Result<(), String> {
    let name = new.name.trim();
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!(
            "a queue's name must be 1 to {MAX_NAME_LEN} characters"
        ));
    }
    if new.description.len() > MAX_DESCRIPTION_LEN {
        return Err(format!(
            "a queue's description is at most {MAX_DESCRIPTION_LEN} bytes"
        ));
    }
    for (field, cohort) in [("cohort_a", &new.cohort_a), ("cohort_b", &new.cohort_b)] {
        if cohort.trim().is_empty() || cohort.len() > MAX_COHORT_LEN {
            return Err(format!(
                "{field} is a trace-list filter (its link's query string) of 1 to \
                 {MAX_COHORT_LEN} bytes"
            ));
        }
    }
    if new.cohort_a.trim() == new.cohort_b.trim() {
        return Err("cohort_a and cohort_b are the same filter".into());
    }
    if let Some(n) = new.pairs {
        if n == 0 || n as usize > MAX_PAIRS {
            return Err(format!("a queue draws 1 to {MAX_PAIRS} pairs (pairs)"));
        }
    }
    Ok(())
}

/// A run a pair may be drawn from: its trace, a key of its root's input (equal keys, equal
/// inputs) and its tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidate {
    pub trace_id: String,
    pub input_key: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// What a pair's runs have in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matched {
    /// The same root input.
    Input,
    /// Some of the same tag values.
    Tags,
    /// Nothing: drawn at random.
    Random,
}

/// Two runs to compare. `a` is cohort A's trace, `b` cohort B's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    /// Whether A's run is shown on the left (`a_on_left`).
    pub a_on_left: bool,
    pub matched: Matched,
    /// Each run's tags when the pair was drawn: the groups of the results.
    #[serde(default)]
    pub a_tags: BTreeMap<String, String>,
    #[serde(default)]
    pub b_tags: BTreeMap<String, String>,
}

/// A stored pair: its place and lease as an ordinary queue item (whose target is A's trace and
/// whose id is the pair's position, which says nothing about the sides), and the pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairItem {
    pub item: QueueItem,
    pub pair: Pair,
}

impl PairItem {
    /// A new pending pair at `position`.
    pub fn new(queue_id: &str, pair: Pair, position: i64, now_ms: i64) -> PairItem {
        let target = ItemRef {
            trace_id: pair.a.clone(),
            span_id: None,
        };
        // One reviewer's pick decides a pair.
        let mut item = QueueItem::new(queue_id, target, position, 1, now_ms);
        item.id = position.to_string();
        PairItem { item, pair }
    }

    /// The pair `queue::choose_next` picks among `candidates` for `reviewer` at `now_ms`,
    /// claimed for `lease_ms` (`queue::claim`); none when nothing is left for them.
    pub fn claim_next(
        candidates: &[PairItem],
        reviewer: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Option<PairItem> {
        let chosen =
            crate::queue::choose_next(candidates.iter().map(|p| &p.item), reviewer, now_ms)?;
        let pair = candidates.iter().find(|p| p.item.id == chosen.id)?;
        Some(PairItem {
            item: crate::queue::claim(chosen, reviewer, now_ms, lease_ms),
            pair: pair.pair.clone(),
        })
    }

    /// The pair after `reviewer` finishes it at `now_ms`, as `queue::finish` allows.
    pub fn finish(
        &self,
        reviewer: &str,
        how: crate::queue::Finish,
        now_ms: i64,
    ) -> Result<PairItem, crate::queue::FinishError> {
        Ok(PairItem {
            item: crate::queue::finish(&self.item, reviewer, how, now_ms)?,
            pair: self.pair.clone(),
        })
    }

    /// The pair as a reviewer sees it: sides, not cohorts.
    pub fn blind(&self) -> BlindPair {
        let (left, right) = if self.pair.a_on_left {
            (&self.pair.a, &self.pair.b)
        } else {
            (&self.pair.b, &self.pair.a)
        };
        BlindPair {
            queue_id: self.item.queue_id.clone(),
            id: self.item.id.clone(),
            position: self.item.position,
            left: left.clone(),
            right: right.clone(),
            lease: self.item.leases.first().cloned(),
        }
    }
}

/// A pair as the review page gets it: which trace is on which side, and the lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlindPair {
    pub queue_id: String,
    pub id: String,
    pub position: i64,
    pub left: String,
    pub right: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
}

/// The answer to `POST /api/v1/pairwise/{id}/next`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimedPair {
    pub pair: Option<BlindPair>,
    pub counts: QueueCounts,
}

/// What a reviewer picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    Left,
    Right,
    Tie,
}

/// Which cohort won a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Winner {
    A,
    B,
    Tie,
}

impl Winner {
    pub fn as_str(self) -> &'static str {
        match self {
            Winner::A => "a",
            Winner::B => "b",
            Winner::Tie => "tie",
        }
    }
}

impl Pick {
    /// The cohort a pick of this side means for `pair`.
    pub fn winner(self, pair: &Pair) -> Winner {
        match (self, pair.a_on_left) {
            (Pick::Tie, _) => Winner::Tie,
            (Pick::Left, true) | (Pick::Right, false) => Winner::A,
            (Pick::Left, false) | (Pick::Right, true) => Winner::B,
        }
    }
}

/// What a reviewer does with a pair they hold: judge it, skip it or give it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairFinish {
    Judge(Pick),
    Skip,
    Release,
}

impl PairFinish {
    /// What it makes of the pair's place in the queue.
    pub fn how(self) -> crate::queue::Finish {
        match self {
            PairFinish::Judge(_) => crate::queue::Finish::Complete,
            PairFinish::Skip => crate::queue::Finish::Skip,
            PairFinish::Release => crate::queue::Finish::Release,
        }
    }
}

/// `POST /api/v1/pairwise/{id}/pairs/{pair}/judge`; skip and release take the reviewer only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judge {
    #[serde(default)]
    pub reviewer: String,
    pub pick: Pick,
}

/// A stored judgement: who compared which runs and which cohort won.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    pub queue_id: String,
    pub pair_id: String,
    pub reviewer: String,
    pub winner: Winner,
    pub pair: Pair,
    pub created_ms: i64,
}

impl Judgement {
    /// `reviewer`'s pick of a side of `pair` at `now_ms`, as the cohort it was.
    pub fn of(pair: &PairItem, reviewer: &str, pick: Pick, now_ms: i64) -> Judgement {
        Judgement {
            queue_id: pair.item.queue_id.clone(),
            pair_id: pair.item.id.clone(),
            reviewer: reviewer.to_string(),
            winner: pick.winner(&pair.pair),
            pair: pair.pair.clone(),
            created_ms: now_ms,
        }
    }
}

/// Whether A's run of the pair (`a`, `b`) of queue `queue_id` is shown on the left: a hash of
/// the three, so the side is random across pairs and the same on every read.
pub fn a_on_left(queue_id: &str, a: &str, b: &str) -> bool {
    fnv1a(&[queue_id, a, b]) & 1 == 1
}

fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0u8]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    // FNV's low bit is a plain XOR of the input's low bits: mix before it is used.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ (hash >> 33)
}

/// Tag keys that tell the cohorts apart (no value in common, e.g. `ab_test_variant`): matching
/// on them could never succeed, so they are left out of it.
fn cohort_keys(a: &[Candidate], b: &[Candidate]) -> Vec<String> {
    let (va, vb) = (tag_values(a), tag_values(b));
    va.iter()
        .filter(|(k, a_values)| {
            vb.get(*k)
                .is_some_and(|b_values| a_values.is_disjoint(b_values))
        })
        .map(|(k, _)| k.to_string())
        .collect()
}

fn tag_values(runs: &[Candidate]) -> HashMap<&str, std::collections::HashSet<&str>> {
    let mut by_key: HashMap<&str, std::collections::HashSet<&str>> = HashMap::new();
    for run in runs {
        for (k, v) in &run.tags {
            by_key.entry(k).or_default().insert(v);
        }
    }
    by_key
}

/// Draws at most `n` pairs of a run of `a` and a run of `b`, no run twice: first runs with the
/// same root input, then, for the runs left, the B run sharing the most tag values (keys that
/// tell the cohorts apart aside), then the rest at random (`seed`). Sides from `a_on_left`.
pub fn draw_pairs(
    queue_id: &str,
    a: &[Candidate],
    b: &[Candidate],
    n: usize,
    seed: u64,
) -> Vec<Pair> {
    let mut used_b = vec![false; b.len()];
    let mut paired_a = vec![false; a.len()];
    let mut chosen: Vec<(usize, usize, Matched)> = Vec::new();

    let mut b_by_input: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, run) in b.iter().enumerate().rev() {
        if let Some(key) = &run.input_key {
            b_by_input.entry(key).or_default().push(j);
        }
    }
    for (i, run) in a.iter().enumerate() {
        if chosen.len() >= n {
            break;
        }
        let Some(key) = &run.input_key else { continue };
        if let Some(j) = b_by_input.get_mut(key.as_str()).and_then(Vec::pop) {
            used_b[j] = true;
            paired_a[i] = true;
            chosen.push((i, j, Matched::Input));
        }
    }

    let skip = cohort_keys(a, b);
    let shared = |x: &Candidate, y: &Candidate| {
        x.tags
            .iter()
            .filter(|(k, v)| !skip.contains(k) && y.tags.get(*k) == Some(v))
            .count()
    };
    let mut unmatched_a = Vec::new();
    for (i, run) in a.iter().enumerate() {
        if chosen.len() >= n {
            break;
        }
        if paired_a[i] {
            continue;
        }
        let best = (0..b.len())
            .filter(|&j| !used_b[j])
            .map(|j| (shared(run, &b[j]), j))
            .filter(|&(score, _)| score > 0)
            .max_by_key(|&(score, j)| (score, std::cmp::Reverse(j)));
        match best {
            Some((_, j)) => {
                used_b[j] = true;
                chosen.push((i, j, Matched::Tags));
            }
            None => unmatched_a.push(i),
        }
    }

    let mut free_b: Vec<usize> = (0..b.len()).filter(|&j| !used_b[j]).collect();
    let mut rng = SplitMix(seed);
    rng.shuffle(&mut free_b);
    for (i, j) in unmatched_a.into_iter().zip(free_b) {
        if chosen.len() >= n {
            break;
        }
        chosen.push((i, j, Matched::Random));
    }

    chosen
        .into_iter()
        .map(|(i, j, matched)| Pair {
            a: a[i].trace_id.clone(),
            b: b[j].trace_id.clone(),
            a_on_left: a_on_left(queue_id, &a[i].trace_id, &b[j].trace_id),
            matched,
            a_tags: a[i].tags.clone(),
            b_tags: b[j].tags.clone(),
        })
        .collect()
}

/// A seed from a queue id, for `draw_pairs`.
pub fn seed_of(queue_id: &str) -> u64 {
    fnv1a(&[queue_id])
}

/// SplitMix64: a small, good-enough generator for shuffling candidates reproducibly.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// The group of a pair under tag `key`: the value both runs have; `(differs)` when their
/// values differ, `(none)` when neither has the tag.
pub fn group_of(pair: &Pair, key: &str) -> String {
    match (pair.a_tags.get(key), pair.b_tags.get(key)) {
        (Some(a), Some(b)) if a == b => a.clone(),
        (None, None) => NO_VALUE.to_string(),
        _ => DIFFERS.to_string(),
    }
}

/// The group of pairs whose runs have different values of the tag.
pub const DIFFERS: &str = "(differs)";
/// The group of pairs whose runs both lack the tag.
pub const NO_VALUE: &str = "(none)";
/// The one group when the results are not grouped.
pub const ALL: &str = "all";

/// One group's judgements and their statistics (none without a decisive judgement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupResult {
    pub group: String,
    pub counts: PairwiseCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<PairwiseResult>,
}

/// `GET /api/v1/pairwise/results?queue=ID&group_by=KEY`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PairwiseResults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    pub groups: Vec<GroupResult>,
}

/// Judgements added up per group of tag `group_by` (one group, `all`, without), groups by name.
pub fn results_by_group(judgements: &[Judgement], group_by: Option<&str>) -> Vec<GroupResult> {
    let mut counts: BTreeMap<String, PairwiseCounts> = BTreeMap::new();
    for j in judgements {
        let group = group_by.map_or_else(|| ALL.to_string(), |key| group_of(&j.pair, key));
        let c = counts.entry(group).or_default();
        match j.winner {
            Winner::A => c.a_wins += 1,
            Winner::B => c.b_wins += 1,
            Winner::Tie => c.ties += 1,
        }
    }
    counts
        .into_iter()
        .map(|(group, counts)| GroupResult {
            group,
            counts,
            result: pairwise::compare(counts).ok(),
        })
        .collect()
}

#[cfg(test)]
#[path = "pairwise_queue_tests.rs"]
mod tests;

/// `GET /api/v1/pairwise/results?queue=ID&group_by=KEY`: the judgements of one queue (of every
/// queue of the project without), grouped by a tag (one group without).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsQuery {
    pub queue: Option<String>,
    pub group_by: Option<String>,
}

impl ResultsQuery {
    /// Reads `queue` and `group_by` (blank is none); other parameters are left to the page.
    pub fn from_query_string(query: &str) -> ResultsQuery {
        crate::query::decode(query.trim_start_matches('?'), |pairs| {
            let mut q = ResultsQuery::default();
            for (k, v) in pairs {
                let v = v.trim();
                match k {
                    "queue" if !v.is_empty() => q.queue = Some(v.to_string()),
                    "group_by" if !v.is_empty() => q.group_by = Some(v.to_string()),
                    _ => {}
                }
            }
            q
        })
    }

    pub fn to_query_string(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(q) = &self.queue {
            pairs.push(("queue", q.clone()));
        }
        if let Some(g) = &self.group_by {
            pairs.push(("group_by", g.clone()));
        }
        crate::query::encode(&pairs)
    }
}

/// A cohort's trace-list query as a person reads it: `tag=variant%3DA&name=x` →
/// `variant=A & name=x` (tag filters by themselves, other parameters by name).
pub fn cohort_label(query: &str) -> String {
    crate::query::decode(query.trim_start_matches('?'), |pairs| {
        pairs
            .map(|(k, v)| match k {
                "tag" => v.to_string(),
                _ => format!("{k}={v}"),
            })
            .collect::<Vec<_>>()
            .join(" & ")
    })
}

/// The key of a root input for matching pairs: equal texts (trimmed), equal keys.
pub fn input_key(text: &str) -> String {
    format!("{:016x}", fnv1a(&[text.trim()]))
}
