//! Small text helpers for the dashboard's tables.

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
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

/// Splits a list into the items shown and the number left over (`a b c +4`).
pub fn shown_and_rest<T: Clone>(items: &[T], max: usize) -> (Vec<T>, usize) {
    if items.len() <= max {
        (items.to_vec(), 0)
    } else {
        (items[..max].to_vec(), items.len() - max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn lists_are_cut_with_a_count() {
        let (shown, rest) = shown_and_rest(&[1, 2, 3, 4, 5], 3);
        assert_eq!((shown, rest), (vec![1, 2, 3], 2));
        let (shown, rest) = shown_and_rest(&[1, 2], 3);
        assert_eq!((shown, rest), (vec![1, 2], 0));
    }
}
