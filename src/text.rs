//! Small text helpers for the dashboard's tables.

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 trace`, `1,234 traces`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// A list's count, "at least 1,000 traces" where the server stopped counting.
pub fn count(n: u64, approximate: bool, one: &str, many: &str) -> String {
    let words = plural(n, one, many);
    if approximate {
        format!("at least {words}")
    } else {
        words
    }
}

/// Splits a list into the items shown and the number left over (`a b c +4`).
pub fn shown_and_rest<T: Clone>(items: &[T], max: usize) -> (Vec<T>, usize) {
    if items.len() <= max {
        (items.to_vec(), 0)
    } else {
        (items[..max].to_vec(), items.len() - max)
    }
}

/// How many items of these text lengths, in order, a cell shows whole: the first always, the
/// next while they fit in `budget` characters together, at most `max`.
pub fn fitting(lengths: impl IntoIterator<Item = usize>, max: usize, budget: usize) -> usize {
    let mut used = 0;
    let mut shown = 0;
    for len in lengths.into_iter().take(max) {
        used += len;
        if shown > 0 && used > budget {
            break;
        }
        shown += 1;
    }
    shown
}

/// `5m ago`, or `in 5m` for a time ahead of the viewer's clock (a skewed producer clock).
pub fn relative(then_ms: i64, now_ms: i64) -> String {
    if then_ms > now_ms + 5_000 {
        let ahead = skein_model::format::ago(now_ms, then_ms);
        format!("in {}", ahead.trim_end_matches(" ago"))
    } else {
        skein_model::format::ago(then_ms, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_item_shows_only_when_it_fits_whole() {
        assert_eq!(fitting([], 2, 18), 0);
        assert_eq!(fitting([1, 10, 1], 2, 18), 2);
        assert_eq!(fitting([19, 1], 2, 18), 1);
        assert_eq!(fitting([13, 10], 2, 18), 1);
        assert_eq!(fitting([4, 4, 4], 2, 18), 2);
    }

    #[test]
    fn a_capped_count_says_at_least() {
        assert_eq!(
            count(10_000, true, "span", "spans"),
            "at least 10,000 spans"
        );
        assert_eq!(count(1, false, "trace", "traces"), "1 trace");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(plural(1, "trace", "traces"), "1 trace");
        assert_eq!(plural(1234, "trace", "traces"), "1,234 traces");
    }

    #[test]
    fn relative_times_look_both_ways() {
        assert_eq!(relative(0, 300_000), "5m ago");
        assert_eq!(relative(300_000, 0), "in 5m");
        assert_eq!(relative(2_000, 0), "0s ago");
    }

    #[test]
    fn lists_are_cut_with_a_count() {
        let (shown, rest) = shown_and_rest(&[1, 2, 3, 4, 5], 3);
        assert_eq!((shown, rest), (vec![1, 2, 3], 2));
        let (shown, rest) = shown_and_rest(&[1, 2], 3);
        assert_eq!((shown, rest), (vec![1, 2], 0));
    }
}
