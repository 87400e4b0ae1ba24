//! A line diff of two texts, for reading two spans' inputs or outputs side by side. The
//! common start and end are trimmed first; what is left is diffed by longest common
//! subsequence when it is small enough, else shown as one block removed and one added, so a
//! diff never costs more than [`MAX_CELLS`] steps.

/// The most cells (lines of A × lines of B, after trimming) the exact diff considers.
pub const MAX_CELLS: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Same,
    /// Only in A.
    Removed,
    /// Only in B.
    Added,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine<'a> {
    pub change: Change,
    pub text: &'a str,
}

/// The lines of `a` and `b` as a sequence of kept, removed and added lines.
pub fn diff_lines<'a>(a: &'a str, b: &'a str) -> Vec<DiffLine<'a>> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (mid_a, mid_b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let line = |change, text| DiffLine { change, text };
    let mut out: Vec<DiffLine<'a>> = a[..prefix].iter().map(|t| line(Change::Same, *t)).collect();
    if mid_a.len().saturating_mul(mid_b.len()) <= MAX_CELLS {
        out.extend(lcs_diff(mid_a, mid_b));
    } else {
        out.extend(mid_a.iter().map(|t| line(Change::Removed, *t)));
        out.extend(mid_b.iter().map(|t| line(Change::Added, *t)));
    }
    out.extend(a[a.len() - suffix..].iter().map(|t| line(Change::Same, *t)));
    out
}

/// The exact diff by longest common subsequence (a table of suffix lengths, then one walk).
fn lcs_diff<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<DiffLine<'a>> {
    let (n, m) = (a.len(), b.len());
    let width = m + 1;
    // lcs[i * width + j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let mut out = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(DiffLine {
                change: Change::Same,
                text: a[i],
            });
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
            // Removed before added: a changed line reads "-old, +new".
            out.push(DiffLine {
                change: Change::Removed,
                text: a[i],
            });
            i += 1;
        } else {
            out.push(DiffLine {
                change: Change::Added,
                text: b[j],
            });
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(a: &str, b: &str) -> Vec<String> {
        diff_lines(a, b)
            .into_iter()
            .map(|l| {
                let mark = match l.change {
                    Change::Same => ' ',
                    Change::Removed => '-',
                    Change::Added => '+',
                };
                format!("{mark}{}", l.text)
            })
            .collect()
    }

    #[test]
    fn keeps_what_is_common_and_marks_the_rest() {
        assert_eq!(
            render(
                "plan\nsearch web\nanswer\ndone",
                "plan\nsearch docs\nanswer\ncite\ndone"
            ),
            [
                " plan",
                "-search web",
                "+search docs",
                " answer",
                "+cite",
                " done"
            ]
        );
        assert_eq!(render("same", "same"), [" same"]);
        assert_eq!(render("", "new"), ["+new"]);
        assert_eq!(render("old", ""), ["-old"]);
    }

    #[test]
    fn a_huge_change_is_one_block_not_a_quadratic_table() {
        let a: String = (0..3000).map(|i| format!("a{i}\n")).collect();
        let b: String = (0..3000).map(|i| format!("b{i}\n")).collect();
        let lines = diff_lines(&a, &b);
        assert_eq!(lines.len(), 6000);
        assert!(lines[..3000].iter().all(|l| l.change == Change::Removed));
        assert!(lines[3000..].iter().all(|l| l.change == Change::Added));
    }
}
