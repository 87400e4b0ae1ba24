//! Statistics of blind pairwise review: reviewers saw a run of cohort A and one of cohort B
//! side by side and picked the better one, or a tie. The question is whether B is preferred
//! over A more often than chance.
//!
//! - the preference rate of B: B's wins over the decisive comparisons (ties left out), with
//!   its Wilson score 95% interval (`stats::wilson_interval`);
//! - the two-sided exact binomial (sign) test of that rate against ½, ties excluded, as
//!   `scipy.stats.binomtest(b_wins, a_wins + b_wins, 0.5)` computes it: the probability under
//!   ½ of every outcome no more likely than the one seen. With p = ½ the distribution is
//!   symmetric, so that is `2·P(X ≤ min(k, n − k))`, capped at 1 (exactly 1 for a draw);
//!   P(X ≤ m) is the regularized incomplete beta `I_½(n − m, m + 1)`;
//! - the tie rate over all comparisons.
//!
//! The exact test holds at any n, so there is no minimum-n rule here beyond one decisive
//! comparison; a small n simply gives a wide interval and a large p-value.

use serde::{Deserialize, Serialize};

use crate::stats::{incomplete_beta, wilson_interval, Interval, NotEnoughData};

/// How a set of pairwise comparisons came out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairwiseCounts {
    pub a_wins: u64,
    pub b_wins: u64,
    pub ties: u64,
}

impl PairwiseCounts {
    pub fn total(&self) -> u64 {
        self.a_wins + self.b_wins + self.ties
    }

    pub fn decisive(&self) -> u64 {
        self.a_wins + self.b_wins
    }
}

/// The statistics of a set of comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairwiseResult {
    pub counts: PairwiseCounts,
    /// B's wins over the decisive comparisons.
    pub b_preferred: f64,
    /// The Wilson score 95% interval of `b_preferred`.
    pub ci: Interval,
    /// Two-sided exact binomial (sign) test of `b_preferred` against ½, ties excluded.
    pub p_value: f64,
    /// Ties over all comparisons.
    pub tie_rate: f64,
}

/// The statistics of `counts`; not enough data without a decisive comparison.
pub fn compare(counts: PairwiseCounts) -> Result<PairwiseResult, NotEnoughData> {
    let n = counts.decisive();
    if n == 0 {
        return Err(NotEnoughData::TooFew { n: 0, min: 1 });
    }
    Ok(PairwiseResult {
        counts,
        b_preferred: counts.b_wins as f64 / n as f64,
        ci: wilson_interval(counts.b_wins, n),
        p_value: sign_test(counts.b_wins, n),
        tie_rate: counts.ties as f64 / counts.total() as f64,
    })
}

/// The two-sided exact binomial test p-value of `k` successes in `n` trials against ½.
pub fn sign_test(k: u64, n: u64) -> f64 {
    if n == 0 || 2 * k == n {
        return 1.0;
    }
    let m = k.min(n - k);
    (2.0 * binomial_half_cdf(m, n)).min(1.0)
}

/// P(X ≤ m) for X ~ Binomial(n, ½).
fn binomial_half_cdf(m: u64, n: u64) -> f64 {
    if m >= n {
        return 1.0;
    }
    incomplete_beta((n - m) as f64, (m + 1) as f64, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs().max(f64::MIN_POSITIVE)
    }

    // Reference values: scipy 1.17.1, in a venv of its own (`pip install scipy==1.17.1`):
    //   r = scipy.stats.binomtest(b_wins, a_wins + b_wins, 0.5)
    //   r.pvalue; ci = r.proportion_ci(0.95, 'wilson'); ci.low, ci.high
    const SCIPY: [(u64, u64, f64, f64, f64); 10] = [
        // (b_wins, decisive, p-value, Wilson low, Wilson high)
        (
            7,
            10,
            0.34375,
            0.396_778_147_461_145_26,
            0.892_208_732_593_699,
        ),
        (
            3,
            10,
            0.34375,
            0.107_791_267_406_301_02,
            0.603_221_852_538_854_6,
        ),
        (
            60,
            100,
            0.056_887_933_640_980_89,
            0.502_002_586_791_061_8,
            0.690_598_713_567_541_1,
        ),
        (5, 5, 0.0625, 0.565_517_535_216_825_1, 1.0),
        (0, 12, 0.000_488_281_25, 0.0, 0.242_494_006_655_240_85),
        (
            10,
            20,
            1.0,
            0.299_298_008_198_212_4,
            0.700_701_991_801_787_6,
        ),
        (
            527,
            1000,
            0.093_687_291_475_496_47,
            0.496_011_234_509_861_3,
            0.557_782_120_531_918_7,
        ),
        (1, 1, 1.0, 0.206_549_314_377_237_45, 1.0),
        (
            15,
            40,
            0.153_859_944_162_832_1,
            0.242_229_791_672_332_72,
            0.529_675_608_626_988_9,
        ),
        (
            2600,
            5000,
            0.004_883_649_737_517_494,
            0.506_142_007_439_748_6,
            0.533_827_284_482_449_1,
        ),
    ];

    #[test]
    fn sign_test_and_wilson_match_scipy() {
        for (k, n, p, low, high) in SCIPY {
            let r = compare(PairwiseCounts {
                a_wins: n - k,
                b_wins: k,
                ties: 3,
            })
            .unwrap();
            assert!(
                close(r.p_value, p, 1e-10),
                "p({k}/{n}) = {} ≠ {p}",
                r.p_value
            );
            assert!(
                (r.ci.low - low).abs() <= 1e-12 && (r.ci.high - high).abs() <= 1e-12,
                "ci({k}/{n}) = {:?} ≠ ({low}, {high})",
                r.ci
            );
            assert!(close(r.b_preferred, k as f64 / n as f64, 1e-15));
            assert!(close(r.tie_rate, 3.0 / (n + 3) as f64, 1e-15));
        }
    }

    #[test]
    fn ties_are_left_out_of_the_test_and_counted_in_the_tie_rate() {
        let with_ties = compare(PairwiseCounts {
            a_wins: 3,
            b_wins: 7,
            ties: 90,
        })
        .unwrap();
        assert!(
            close(with_ties.p_value, 0.34375, 1e-12),
            "{}",
            with_ties.p_value
        );
        assert_eq!(with_ties.b_preferred, 0.7);
        assert_eq!(with_ties.tie_rate, 0.9);
        assert_eq!(
            compare(PairwiseCounts {
                a_wins: 0,
                b_wins: 0,
                ties: 4,
            }),
            Err(NotEnoughData::TooFew { n: 0, min: 1 })
        );
    }

    #[test]
    fn the_test_is_symmetric_in_a_and_b() {
        for n in 1..60 {
            for k in 0..=n {
                assert_eq!(sign_test(k, n), sign_test(n - k, n));
                assert!(sign_test(k, n) <= 1.0 && sign_test(k, n) > 0.0);
            }
        }
    }
}
