//! One stable sort for the whole dashboard.
//!
//! Every `slice::sort_by` call on a different element or closure type gets its own copy of the
//! standard library's sort (driftsort / ipnsort). These helpers sort a
//! permutation of `u32` indices instead, through one non-generic merge sort that calls the
//! comparison through `&dyn Fn`, and then move the elements into place: per call site only the
//! comparison closure and a short swap loop are left.
//!
//! All sorts here are stable (equal elements keep their order) and O(n log n); already sorted
//! runs cost one comparison per merge. Sorting through indices is slower than std's sort on big
//! inputs (bench/README.md, Bundle, has the figure), so code that only the collector runs on
//! whole traces (`TraceSkeleton::build`) keeps std's sort.

use std::cmp::Ordering;

/// Sorts `v` with the comparison `cmp`, stably (like `slice::sort_by`).
pub fn sort_by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let order = {
        let v = &*v;
        sorted_order(v.len(), &|a, b| cmp(&v[a as usize], &v[b as usize]))
    };
    permute(v, order);
}

/// Sorts `v` by the key `key` (compared with `Ord`), stably (like `slice::sort_by_key`).
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` in ascending order, stably (like `slice::sort`; for the `sort_unstable` of plain
/// values too, where equal elements are indistinguishable).
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// Sorts plain `u32` values in ascending order (no permutation needed: the values are sorted
/// directly by the same merge sort).
pub fn sort_u32(v: &mut [u32]) {
    sort_u32_by(v, &|a, b| a.cmp(&b));
}

/// The indices `0..n`, ordered stably by `cmp`: `order[k]` is the index of the element that
/// belongs at position `k`.
fn sorted_order(n: usize, cmp: &dyn Fn(u32, u32) -> Ordering) -> Vec<u32> {
    assert!(n < u32::MAX as usize, "sort: too many elements");
    let mut order: Vec<u32> = (0..n as u32).collect();
    sort_u32_by(&mut order, cmp);
    order
}

/// Sorts `u32` values stably by `cmp`: the one sorting algorithm behind every helper here.
fn sort_u32_by(v: &mut [u32], cmp: &dyn Fn(u32, u32) -> Ordering) {
    // Short slices need no scratch (no allocation for the many small sorts of a trace).
    let mut scratch = if v.len() > INSERTION_MAX {
        vec![0u32; v.len() / 2]
    } else {
        Vec::new()
    };
    merge_sort(v, &mut scratch, cmp);
}

/// Runs this short are sorted by insertion.
const INSERTION_MAX: usize = 12;

/// Stable top-down merge sort of `v`; `scratch` holds at least `v.len() / 2` values.
fn merge_sort(v: &mut [u32], scratch: &mut [u32], cmp: &dyn Fn(u32, u32) -> Ordering) {
    let n = v.len();
    if n <= INSERTION_MAX {
        for i in 1..n {
            let x = v[i];
            let mut j = i;
            while j > 0 && cmp(v[j - 1], x) == Ordering::Greater {
                v[j] = v[j - 1];
                j -= 1;
            }
            v[j] = x;
        }
        return;
    }
    let mid = n / 2;
    merge_sort(&mut v[..mid], scratch, cmp);
    merge_sort(&mut v[mid..], scratch, cmp);
    if cmp(v[mid - 1], v[mid]) != Ordering::Greater {
        return; // already in order
    }
    // Merge: the left half moves to the scratch, the right half stays; the output is written
    // from the front of `v`, never past the right half's next unread element.
    let left = &mut scratch[..mid];
    left.copy_from_slice(&v[..mid]);
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        // Ties take the left element first: stable.
        if cmp(v[j], left[i]) == Ordering::Less {
            v[k] = v[j];
            j += 1;
        } else {
            v[k] = left[i];
            i += 1;
        }
        k += 1;
    }
    v[k..k + (mid - i)].copy_from_slice(&left[i..]);
}

/// Moves `v[order[k]]` to position `k` for every `k`, following the permutation's cycles.
fn permute<T>(v: &mut [T], mut order: Vec<u32>) {
    const DONE: u32 = u32::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at] as usize;
            order[at] = DONE;
            if from == start {
                break;
            }
            v.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so the tests need no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn empty_and_single_element_slices() {
        let mut empty: Vec<i32> = Vec::new();
        sort(&mut empty);
        assert!(empty.is_empty());
        let mut one = vec![7];
        sort_by(&mut one, |a, b| b.cmp(a));
        assert_eq!(one, vec![7]);
        let mut two = vec![2, 1];
        sort(&mut two);
        assert_eq!(two, vec![1, 2]);
    }

    #[test]
    fn matches_the_standard_stable_sort_on_random_input() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for len in (0..200).chain([1000, 4097, 20_000]) {
            for range in [2, 10, 1000, u64::MAX] {
                // (key, original position): equal keys must keep their order.
                let input: Vec<(u64, usize)> = (0..len).map(|i| (rng.next() % range, i)).collect();
                let mut ours = input.clone();
                sort_by_key(&mut ours, |&(k, _)| k);
                let mut std = input.clone();
                std.sort_by_key(|&(k, _)| k);
                assert_eq!(ours, std, "len {len}, keys below {range}");

                let mut desc = input.clone();
                sort_by(&mut desc, |a, b| b.0.cmp(&a.0));
                let mut std_desc = input;
                std_desc.sort_by_key(|b| std::cmp::Reverse(b.0));
                assert_eq!(desc, std_desc);
            }
        }
    }

    #[test]
    fn plain_u32_values() {
        let mut rng = Rng(12345);
        for len in [0, 1, 2, 13, 100, 5000] {
            let mut ours: Vec<u32> = (0..len).map(|_| (rng.next() % 300) as u32).collect();
            let mut std = ours.clone();
            sort_u32(&mut ours);
            std.sort_unstable();
            assert_eq!(ours, std);
        }
    }

    #[test]
    fn sorted_reversed_and_owned_values() {
        let mut up: Vec<u32> = (0..1000).collect();
        sort(&mut up);
        assert!(up.windows(2).all(|w| w[0] < w[1]));
        let mut down: Vec<u32> = (0..1000).rev().collect();
        sort(&mut down);
        assert_eq!(down, up);
        // Elements that own memory are moved, not copied or dropped twice.
        let mut words: Vec<String> = ["pear", "fig", "apple", "fig", "date"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        sort(&mut words);
        assert_eq!(words, ["apple", "date", "fig", "fig", "pear"]);
        let mut by_len = vec!["ccc", "a", "bb", "b", "aaa"];
        sort_by_key(&mut by_len, |s| s.len());
        assert_eq!(by_len, ["a", "b", "bb", "ccc", "aaa"]);
    }
}
