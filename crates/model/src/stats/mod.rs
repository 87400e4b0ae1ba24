//! Statistics for comparing groups (A/B variants) from aggregates only: a group is known by
//! its count, sum and sum of squares (`Moments`), which the collector computes in SQL, so the
//! browser never needs the raw values.
//!
//! What is here, all at a 95% confidence level:
//! - `Moments`: mean, sample variance, standard deviation, standard error;
//! - the Student t distribution (`t_cdf`, `t_sf`, `t_quantile`) through the regularized
//!   incomplete beta function (`incomplete_beta`, a continued fraction evaluated with the
//!   modified Lentz method, as in Numerical Recipes' `betacf`), and the normal distribution
//!   (`normal_cdf`, `normal_quantile`) through `erfc` (a regularized incomplete gamma
//!   function, series or continued fraction);
//! - `mean_ci`: the t-based confidence interval of a mean; `wilson_ci`: of a proportion;
//! - `welch_t_test`: difference of two means (unequal variances), its CI and two-sided p;
//! - `two_proportion_z_test`: difference of two rates, pooled SE for the test and unpooled
//!   SE for the CI of the difference;
//! - the minimum-n rule: every test answers `Err(NotEnoughData)` instead of a number that
//!   would look precise and is not.
//!
//! Accuracy, measured against scipy 1.17.1 over grids (erfc on [−6, 26.5] by 0.01; the t CDF
//! for |t| ≤ 40 and the t quantile for p in [1e-8, 1 − 1e-5], at df from 0.5 to 2e7) and held
//! by the tests (`tests.rs`) at the reference points: relative error of `erfc`, the normal CDF and
//! quantile below 2e-13 (erfc's own conditioning, 2x²·ε, sets that at the far tail); of the t
//! CDF, two-sided p and quantile below 2e-12 for df ≤ 1e5, growing to 4e-11 at df = 1e6 and 6e-10
//! at 2e7 (the continued fraction near x = 1); beyond df = 1e8 the normal distribution is used
//! (within ~1e-8).

use std::f64::consts::SQRT_2;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The confidence level of every interval here.
pub const CONFIDENCE: f64 = 0.95;

/// Fewest observations per group for an interval or a test. With fewer, a t interval rests
/// entirely on the data being normal, which latencies, costs and ratings are not.
pub const MIN_N: u64 = 10;

/// Fewest expected successes and failures per group for the normal approximation behind the
/// two-proportion z-test and the interval of a rate (the textbook np ≥ 5 rule).
pub const MIN_EXPECTED: f64 = 5.0;

/// Why a statistic was not computed: shown to the user as a plain "not enough data".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NotEnoughData {
    /// A group has fewer than `min` observations.
    TooFew { n: u64, min: u64 },
    /// A rate test expects fewer than `min` successes or failures in a group.
    TooFewEvents { expected: f64, min: f64 },
    /// All observations are equal: there is no spread to measure the uncertainty with.
    NoSpread,
}

impl fmt::Display for NotEnoughData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotEnoughData::TooFew { n, min } => write!(
                f,
                "not enough data: {n} observation{}, at least {min} needed per group",
                if *n == 1 { "" } else { "s" }
            ),
            NotEnoughData::TooFewEvents { expected, min } => write!(
                f,
                "not enough data: about {} expected events in a group, at least {min} needed",
                crate::format::fixed(*expected, 1)
            ),
            NotEnoughData::NoSpread => {
                f.write_str("not enough data: every observation has the same value")
            }
        }
    }
}

impl std::error::Error for NotEnoughData {}

/// The minimum-n rule.
pub fn check_min_n(n: u64) -> Result<(), NotEnoughData> {
    if n < MIN_N {
        return Err(NotEnoughData::TooFew { n, min: MIN_N });
    }
    Ok(())
}

/// A closed interval `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// Count, sum and sum of squares of a group's values: enough for its mean and variance, and
/// additive, so groups and time buckets can be merged.
///
/// The variance is `(Σx² − (Σx)²/n) / (n − 1)`. That form cancels catastrophically when the
/// spread is tiny next to the mean (relative error about `1e-16 · mean² / variance`); for
/// latencies in ms, token counts, costs and 0..1 scores it stays far below the width of any
/// interval shown, and a negative result from rounding is clamped to 0.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Moments {
    pub n: u64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Moments {
    pub fn new(n: u64, sum: f64, sum_sq: f64) -> Moments {
        Moments { n, sum, sum_sq }
    }

    pub fn from_values(values: &[f64]) -> Moments {
        let mut m = Moments::default();
        for &x in values {
            m.push(x);
        }
        m
    }

    pub fn push(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }

    pub fn merge(&mut self, other: &Moments) {
        self.n += other.n;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// The sample variance (divisor n − 1); none below two observations.
    pub fn variance(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        Some(((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0))
    }

    pub fn sd(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// The standard error of the mean, `sd / √n`.
    pub fn se(&self) -> Option<f64> {
        self.variance().map(|v| (v / self.n as f64).sqrt())
    }
}

mod distributions;

use distributions::is_positive;
pub use distributions::{
    erfc, incomplete_beta, ln_gamma, normal_cdf, normal_quantile, normal_sf, t_cdf, t_quantile,
    t_sf, t_two_sided_p,
};

// Intervals and tests

/// The t-based 95% confidence interval of a group's mean: mean ± t(0.975, n − 1) · se.
pub fn mean_ci(m: &Moments) -> Result<Interval, NotEnoughData> {
    check_min_n(m.n)?;
    let (Some(mean), Some(se)) = (m.mean(), m.se()) else {
        return Err(NotEnoughData::TooFew { n: m.n, min: MIN_N });
    };
    let half = t_quantile(0.5 + CONFIDENCE / 2.0, (m.n - 1) as f64) * se;
    Ok(Interval {
        low: mean - half,
        high: mean + half,
    })
}

/// The Wilson score 95% interval of a proportion `successes / n`: unlike mean ± z·se it stays
/// inside [0, 1] and does not collapse to a point when no (or every) trace failed.
pub fn wilson_ci(successes: u64, n: u64) -> Result<Interval, NotEnoughData> {
    check_min_n(n)?;
    Ok(wilson_interval(successes, n))
}

/// The Wilson score 95% interval without the minimum-n rule, for callers whose own test is
/// exact at any n (`pairwise`). `n` must be positive; `[0, 1]` when it is not.
pub fn wilson_interval(successes: u64, n: u64) -> Interval {
    if n == 0 {
        return Interval {
            low: 0.0,
            high: 1.0,
        };
    }
    let z = normal_quantile(0.5 + CONFIDENCE / 2.0);
    let nf = n as f64;
    let p = (successes.min(n)) as f64 / nf;
    let z2n = z * z / nf;
    let center = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (p * (1.0 - p) / nf + z2n / (4.0 * nf)).sqrt();
    Interval {
        low: (center - half).max(0.0),
        high: (center + half).min(1.0),
    }
}

/// A difference of two means (`a − b`) with Welch's t-test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanDifference {
    pub mean_a: f64,
    pub mean_b: f64,
    /// `mean_a − mean_b`.
    pub difference: f64,
    /// Standard error of the difference, √(s²a/na + s²b/nb).
    pub se: f64,
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value of "the means are equal".
    pub p_value: f64,
    /// 95% confidence interval of the difference.
    pub ci: Interval,
}

/// Welch's t-test for the difference of two means, from aggregates. Needs `MIN_N`
/// observations per group and some spread in at least one of them.
pub fn welch_t_test(a: &Moments, b: &Moments) -> Result<MeanDifference, NotEnoughData> {
    check_min_n(a.n.min(b.n))?;
    let too_few = || NotEnoughData::TooFew {
        n: a.n.min(b.n),
        min: MIN_N,
    };
    let (mean_a, mean_b) = (a.mean().ok_or_else(too_few)?, b.mean().ok_or_else(too_few)?);
    let va = a.variance().ok_or_else(too_few)? / a.n as f64;
    let vb = b.variance().ok_or_else(too_few)? / b.n as f64;
    let se2 = va + vb;
    if !is_positive(se2) {
        return Err(NotEnoughData::NoSpread);
    }
    let se = se2.sqrt();
    let difference = mean_a - mean_b;
    let t = difference / se;
    let df = se2 * se2 / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    let half = t_quantile(0.5 + CONFIDENCE / 2.0, df) * se;
    Ok(MeanDifference {
        mean_a,
        mean_b,
        difference,
        se,
        t,
        df,
        p_value: t_two_sided_p(t, df),
        ci: Interval {
            low: difference - half,
            high: difference + half,
        },
    })
}

/// A difference of two proportions (`a − b`) with the two-proportion z-test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProportionDifference {
    pub rate_a: f64,
    pub rate_b: f64,
    /// `rate_a − rate_b`.
    pub difference: f64,
    /// The z statistic, with the pooled standard error (the SE under "the rates are equal").
    pub z: f64,
    /// Two-sided p-value of "the rates are equal".
    pub p_value: f64,
    /// 95% confidence interval of the difference, with the unpooled standard error.
    pub ci: Interval,
}

/// The two-proportion z-test of `successes_a / n_a` against `successes_b / n_b`. Needs `MIN_N`
/// per group and, for the normal approximation, `MIN_EXPECTED` expected successes and failures
/// per group under the pooled rate.
pub fn two_proportion_z_test(
    successes_a: u64,
    n_a: u64,
    successes_b: u64,
    n_b: u64,
) -> Result<ProportionDifference, NotEnoughData> {
    check_min_n(n_a.min(n_b))?;
    let (xa, xb) = (successes_a.min(n_a) as f64, successes_b.min(n_b) as f64);
    let (na, nb) = (n_a as f64, n_b as f64);
    let (pa, pb) = (xa / na, xb / nb);
    let pooled = (xa + xb) / (na + nb);
    let expected = [
        na * pooled,
        na * (1.0 - pooled),
        nb * pooled,
        nb * (1.0 - pooled),
    ]
    .into_iter()
    .fold(f64::INFINITY, f64::min);
    if expected < MIN_EXPECTED {
        return Err(NotEnoughData::TooFewEvents {
            expected,
            min: MIN_EXPECTED,
        });
    }
    let se_pooled = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    let difference = pa - pb;
    let z = difference / se_pooled;
    let se_unpooled = (pa * (1.0 - pa) / na + pb * (1.0 - pb) / nb).sqrt();
    let half = normal_quantile(0.5 + CONFIDENCE / 2.0) * se_unpooled;
    Ok(ProportionDifference {
        rate_a: pa,
        rate_b: pb,
        difference,
        z,
        p_value: erfc(z.abs() / SQRT_2),
        ci: Interval {
            low: difference - half,
            high: difference + half,
        },
    })
}

/// A quantile of sorted values by linear interpolation between closest ranks (numpy's default
/// "linear" method, Hyndman–Fan type 7): position h = (n − 1)·q, interpolated between
/// `sorted[⌊h⌋]` and `sorted[⌊h⌋ + 1]`. None for no values or q outside [0, 1].
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let (lo, hi, frac) = quantile_ranks(sorted.len() as u64, q)?;
    let (a, b) = (sorted[lo as usize], sorted[hi as usize]);
    Some(a + (b - a) * frac)
}

/// The 0-based ranks (and the weight of the upper one) that the type-7 quantile `q` of `n`
/// sorted values interpolates between, so a store can fetch just those two values.
pub fn quantile_ranks(n: u64, q: f64) -> Option<(u64, u64, f64)> {
    if n == 0 || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let h = (n - 1) as f64 * q;
    let lo = (h.floor() as u64).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    Some((lo, hi, h - lo as f64))
}

#[cfg(test)]
mod tests;
