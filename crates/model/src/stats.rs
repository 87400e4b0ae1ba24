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
//! by the tests below at the reference points: relative error of `erfc`, the normal CDF and
//! quantile below 2e-13 (erfc's own conditioning, 2x²·ε, sets that at the far tail); of the t
//! CDF, two-sided p and quantile below 2e-12 for df ≤ 1e5, growing to 4e-11 at df = 1e6 and 6e-10
//! at 2e7 (the continued fraction near x = 1); beyond df = 1e8 the normal distribution is used
//! (within ~1e-8).

use std::f64::consts::{PI, SQRT_2};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::num::clamp;

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

// ---------------------------------------------------------------------------------------------
// Special functions

/// ln Γ(x) for x > 0: Lanczos approximation (g = 7, 9 terms), relative error about 1e-15.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the series in its accurate range.
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = COEF[0];
    for (i, c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// x > 0, false for NaN (the domain checks must refuse NaN, which `!(x <= 0.0)` would not).
fn is_positive(x: f64) -> bool {
    x > 0.0
}

/// 0 < p < 1, false for NaN.
fn is_probability(p: f64) -> bool {
    p > 0.0 && p < 1.0
}

const EPS: f64 = 1e-16;
const TINY: f64 = 1e-300;
/// The continued fractions need O(√max(a, b)) terms; this covers a, b up to ~1e8 (df ~2e8).
const MAX_ITER: usize = 20_000;

/// The Stirling-series remainder ln Γ(x) − [(x − ½) ln x − x + ½ ln 2π] for x ≥ 10, five
/// terms (truncation error below 2e-14 at x = 10, far less above).
fn stirling_remainder(x: f64) -> f64 {
    let x2 = x * x;
    (1.0 / 12.0
        - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / (1188.0 * x2)) / x2) / x2) / x2)
        / x
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). When one argument is large, ln Γ(big + small)
/// − ln Γ(big) is computed as one small quantity (with `ln_1p`) instead of the difference of two
/// huge ones, which would lose ~1e-16 · ln Γ(big) absolutely, e.g. 2e-9 at big = 1e6 (the t
/// distribution with two million degrees of freedom).
fn ln_beta(a: f64, b: f64) -> f64 {
    let (small, big) = if a < b { (a, b) } else { (b, a) };
    if big < 10.0 {
        return ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    }
    let sum = big + small;
    let ln_gamma_diff = (big - 0.5) * (small / big).ln_1p() + small * sum.ln() - small
        + stirling_remainder(sum)
        - stirling_remainder(big);
    ln_gamma(small) - ln_gamma_diff
}

/// The regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 ≤ x ≤ 1.
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    let y = 1.0 - x;
    incomplete_beta_xy(a, b, x, y, x.ln(), y.ln())
}

/// I_x(a, b) given x, y = 1 − x and their logarithms, so that a caller who knows them more
/// precisely than `1.0 - x` and `x.ln()` (x close to 1, a large) does not lose it: an error δ in
/// ln x becomes a relative error a·δ in the result.
fn incomplete_beta_xy(a: f64, b: f64, x: f64, y: f64, ln_x: f64, ln_y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if y <= 0.0 {
        return 1.0;
    }
    let front = (a * ln_x + b * ln_y - ln_beta(a, b)).exp();
    // The continued fraction converges fast only below the mean of the distribution; above
    // it, use the symmetry I_x(a, b) = 1 − I_{1−x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, y) / b
    }
}

/// I_{df/(df+t²)}(df/2, 1/2) = P(|T| > |t|), with 1 − x = t²/(df + t²) and ln x = −ln(1 + t²/df)
/// computed directly rather than from a rounded x.
fn t_two_tail(t: f64, df: f64) -> f64 {
    let t2 = t * t;
    let s = df + t2;
    incomplete_beta_xy(
        df / 2.0,
        0.5,
        df / s,
        t2 / s,
        -(t2 / df).ln_1p(),
        t2.ln() - s.ln(),
    )
}

/// The continued fraction of I_x(a, b), evaluated with the modified Lentz method.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    let qab = a + b;
    let qap = a + 1.0;
    let qam = a - 1.0;
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        // Even step.
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        // Odd step.
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// ln Γ(1/2) = ln √π.
const LN_GAMMA_HALF: f64 = 0.572_364_942_924_700_1;

/// The complementary error function, erfc(x) = Q(1/2, x²) (the regularized upper incomplete
/// gamma function) for x ≥ 0: a power series below x² = 1.5, Lentz's continued fraction above.
/// Relative error below 2e-13 wherever the result is a normal float (x < 26.5; it underflows
/// to 0 beyond); below 1e-14 for |x| < 5.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    let z = x * x;
    if z < 1.5 {
        1.0 - gamma_p_series(0.5, z, LN_GAMMA_HALF)
    } else {
        gamma_q_continued_fraction(0.5, z, LN_GAMMA_HALF)
    }
}

/// P(a, x) by its series, for x < a + 1.
fn gamma_p_series(a: f64, x: f64, ln_gamma_a: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let mut ap = a;
    let mut del = 1.0 / a;
    let mut sum = del;
    for _ in 0..MAX_ITER {
        ap += 1.0;
        del *= x / ap;
        sum += del;
        if del.abs() < sum.abs() * EPS {
            break;
        }
    }
    sum * (-x + a * x.ln() - ln_gamma_a).exp()
}

/// Q(a, x) by its continued fraction (modified Lentz), for x ≥ a + 1.
fn gamma_q_continued_fraction(a: f64, x: f64, ln_gamma_a: f64) -> f64 {
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..=MAX_ITER {
        let i = i as f64;
        let an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    (-x + a * x.ln() - ln_gamma_a).exp() * h
}

/// The standard normal CDF Φ(z) = erfc(−z/√2)/2 (accurate in the lower tail too).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / SQRT_2)
}

/// The standard normal survival function 1 − Φ(z), without cancellation in the upper tail.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / SQRT_2)
}

/// Φ⁻¹(p) for 0 < p < 1: Acklam's rational approximation (relative error 1.2e-9) refined by one
/// Halley step on `normal_cdf`, which brings it to about 1e-15. NaN outside (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    if !is_probability(p) {
        return f64::NAN;
    }
    if p > 0.5 {
        // 1 − p is exact here (Sterbenz), and the lower tail keeps the Halley step precise.
        return -normal_quantile(1.0 - p);
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.024_25;
    let x = if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // One Halley step: the error of the cubic-convergent step is far below double precision.
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Beyond this many degrees of freedom the t distribution is the normal one to within ~1e-8.
const T_NORMAL_DF: f64 = 1e8;

/// P(T > t) for Student's t with `df` > 0 degrees of freedom (`df` need not be an integer).
pub fn t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() || !is_positive(df) {
        return f64::NAN;
    }
    if df > T_NORMAL_DF {
        return normal_sf(t);
    }
    // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2).
    let tail = 0.5 * t_two_tail(t, df);
    if t > 0.0 {
        tail
    } else {
        1.0 - tail
    }
}

/// P(T ≤ t) for Student's t with `df` > 0 degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || !is_positive(df) {
        return f64::NAN;
    }
    t_sf(-t, df)
}

/// The two-sided p-value of a t statistic, P(|T| ≥ |t|), without cancellation.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || !is_positive(df) {
        return f64::NAN;
    }
    if df > T_NORMAL_DF {
        return erfc(t.abs() / SQRT_2);
    }
    t_two_tail(t, df)
}

/// The density of Student's t.
fn t_pdf(t: f64, df: f64) -> f64 {
    let ln_norm = ln_gamma((df + 1.0) / 2.0) - ln_gamma(df / 2.0) - 0.5 * (df * PI).ln();
    (ln_norm - (df + 1.0) / 2.0 * (1.0 + t * t / df).ln()).exp()
}

/// The quantile of Student's t: the t with P(T ≤ t) = p, for 0 < p < 1 and `df` > 0. Newton's
/// method on `t_cdf`, kept inside a bisection bracket so it cannot diverge in the heavy tails
/// of small df. NaN outside the domain.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !is_probability(p) || !is_positive(df) {
        return f64::NAN;
    }
    if p == 0.5 {
        return 0.0;
    }
    if df > T_NORMAL_DF {
        return normal_quantile(p);
    }
    // Solve sf(t) = q for t > 0 with q the smaller tail, taken as given (p) or as 1 − p, which
    // is exact for p ≥ 0.5: no precision is lost for p near 0 or 1.
    let (q, sign) = if p < 0.5 { (p, -1.0) } else { (1.0 - p, 1.0) };
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while t_sf(hi, df) > q {
        lo = hi;
        hi *= 2.0;
        if hi > 1e300 {
            return sign * f64::INFINITY;
        }
    }
    let mut t = clamp(normal_quantile(1.0 - q), lo, hi);
    for _ in 0..200 {
        let f = t_sf(t, df) - q;
        if f > 0.0 {
            lo = t;
        } else {
            hi = t;
        }
        // d sf / dt = −pdf.
        let step = f / t_pdf(t, df);
        let mut next = t + step;
        if next <= lo || next >= hi || !next.is_finite() {
            next = 0.5 * (lo + hi);
        }
        if (next - t).abs() <= 1e-14 * t.abs().max(1.0) {
            return sign * next;
        }
        t = next;
    }
    sign * t
}

// ---------------------------------------------------------------------------------------------
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
mod tests {
    use super::*;

    /// |got − want| ≤ tol · max(|want|, tiny): a relative tolerance that degrades to an absolute
    /// one near zero.
    fn close(got: f64, want: f64, tol: f64) {
        let scale = want.abs().max(1e-300);
        assert!(
            (got - want).abs() <= tol * scale,
            "got {got:e}, want {want:e} (relative error {:e}, tolerance {tol:e})",
            (got - want).abs() / scale
        );
    }

    // Reference values for the special functions: scipy 1.17.1 (`scipy.special.erfc`,
    // `scipy.special.betainc`, `scipy.special.gammaln`, `scipy.stats.norm`, `scipy.stats.t`),
    // printed with repr() in a scratch venv. Tolerances as stated per test.

    #[test]
    fn erfc_matches_scipy_to_1e_13() {
        // scipy.special.erfc(x)
        let cases = [
            (-3.0, 1.999_977_909_503_001_5),
            (-0.5, 1.520_499_877_813_046_5),
            (0.0, 1.0),
            (1e-10, 0.999_999_999_887_162),
            (0.3, 0.671_373_240_540_872_6),
            (1.0, 0.157_299_207_050_285_16),
            (1.2, 0.089_686_021_770_364_62),
            (1.3, 0.065_992_055_059_347_58),
            (2.5, 0.000_406_952_017_444_958_86),
            (5.0, 1.537_459_794_428_034_7e-12),
            (10.0, 2.088_487_583_762_544_6e-45),
            (26.0, 5.663_192_408_856_145e-296),
        ];
        for (x, want) in cases {
            close(erfc(x), want, 1e-13);
        }
    }

    #[test]
    fn normal_cdf_and_quantile_match_scipy() {
        // scipy.stats.norm.cdf(z), tolerance 1e-13 relative.
        for (z, want) in [
            (-8.0, 6.220_960_574_271_74e-16),
            (-1.959_963_984_540_054, 0.025),
            (0.0, 0.5),
            (1.0, 0.841_344_746_068_542_9),
            (3.0, 0.998_650_101_968_369_9),
        ] {
            close(normal_cdf(z), want, 1e-13);
        }
        // scipy.stats.norm.ppf(p), tolerance 1e-12 relative.
        for (p, want) in [
            (1e-10, -6.361_340_902_404_056),
            (0.025, -1.959_963_984_540_054_5),
            (0.3, -0.524_400_512_708_040_9),
            (0.975, 1.959_963_984_540_054),
            (0.999, 3.090_232_306_167_813),
        ] {
            close(normal_quantile(p), want, 1e-12);
        }
        assert!(normal_quantile(0.0).is_nan() && normal_quantile(1.0).is_nan());
    }

    #[test]
    fn ln_gamma_and_incomplete_beta_match_scipy() {
        // scipy.special.gammaln(x), tolerance 1e-13 relative.
        for (x, want) in [
            (0.5, 0.572_364_942_924_7),
            (3.0, std::f64::consts::LN_2), // scipy: 0.6931471805599453
            (10.5, 13.940_625_219_403_763),
            (1000.0, 5_905.220_423_209_181),
        ] {
            close(ln_gamma(x), want, 1e-13);
        }
        // scipy.special.betainc(a, b, x), tolerance 1e-11 relative.
        for (a, b, x, want) in [
            (0.5, 0.5, 0.3, 0.369_010_119_565_545_36),
            (2.0, 3.0, 0.4, 0.524_799_999_999_999_9),
            (5.0, 0.5, 0.9, 0.316_642_915_020_012_2),
            (10.0, 10.0, 0.5, 0.5),
            (50.0, 0.5, 0.99, 0.317_304_397_874_197_3),
            (1.5, 20.0, 0.01, 0.061_203_714_783_458_99),
            (5_000.0, 0.5, 0.9999, 0.317_310_507_257_953_4),
        ] {
            close(incomplete_beta(a, b, x), want, 1e-11);
        }
    }

    #[test]
    fn t_distribution_matches_scipy_and_tables() {
        // scipy.stats.t.cdf(t, df), tolerance 1e-10 relative.
        for (t, df, want) in [
            (2.0, 1.0, 0.852_416_382_349_566_7),
            (-2.0, 3.0, 0.069_662_984_279_421_52),
            (1.5, 7.3, 0.912_218_453_598_457),
            (0.0, 4.0, 0.5),
            (-10.0, 30.0, 2.287_625_704_114_809e-11),
            (2.5, 1_000.0, 0.993_710_716_099_454_6),
            (1.0, 2.5e6, 0.841_344_697_674_402_9),
        ] {
            close(t_cdf(t, df), want, 1e-10);
        }
        // scipy.stats.t.ppf(p, df), tolerance 1e-10 relative.
        for (p, df, want) in [
            (0.975, 1.0, 12.706_204_736_174_694),
            (0.975, 2.0, 4.302_652_729_749_462),
            (0.975, 9.0, 2.262_157_162_798_205),
            (0.975, 23.7, 2.065_281_963_314_983),
            (0.975, 1e5, 1.959_987_707_534_609_5),
            (0.995, 3.0, 5.840_909_309_733_355),
            (0.0005, 5.0, -6.868_826_625_881_11),
        ] {
            close(t_quantile(p, df), want, 1e-10);
        }
        // Textbook two-sided 5% critical values (any t table, 3 decimals): df 10 → 2.228,
        // df 30 → 2.042, df 120 → 1.980.
        for (df, want) in [(10.0, 2.228), (30.0, 2.042), (120.0, 1.980)] {
            assert!((t_quantile(0.975, df) - want).abs() < 5e-4, "df {df}");
        }
        assert!(t_quantile(1.0, 3.0).is_nan() && t_cdf(1.0, 0.0).is_nan());
    }

    #[test]
    fn moments_give_mean_variance_and_ci() {
        // numpy/scipy on x = [2, 4, 4, 4, 5, 5, 7, 9, 10, 12]: mean 6.2, var(ddof=1)
        // 10.177_777_777_777_777, scipy.stats.t.interval(0.95, 9, loc=6.2,
        // scale=scipy.stats.sem(x)) → (3.917_823_357_029_890_4, 8.482_176_642_970_11).
        // Tolerance 1e-10 relative.
        let m = Moments::from_values(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0, 10.0, 12.0]);
        close(m.mean().unwrap(), 6.2, 1e-12);
        close(m.variance().unwrap(), 10.177_777_777_777_777, 1e-12);
        close(
            m.se().unwrap(),
            (10.177_777_777_777_777f64 / 10.0).sqrt(),
            1e-12,
        );
        let ci = mean_ci(&m).unwrap();
        close(ci.low, 3.917_823_357_029_890_4, 1e-10);
        close(ci.high, 8.482_176_642_970_11, 1e-10);

        // Merging buckets is the same as aggregating at once.
        let mut merged = Moments::from_values(&[2.0, 4.0, 4.0]);
        merged.merge(&Moments::from_values(&[
            4.0, 5.0, 5.0, 7.0, 9.0, 10.0, 12.0,
        ]));
        assert_eq!(merged, m);

        assert_eq!(Moments::default().mean(), None);
        assert_eq!(Moments::from_values(&[1.0]).variance(), None);
        assert_eq!(
            mean_ci(&Moments::from_values(&[1.0, 2.0, 3.0])),
            Err(NotEnoughData::TooFew { n: 3, min: MIN_N })
        );
    }

    #[test]
    fn welch_matches_scipy() {
        // scipy.stats.ttest_ind(a, b, equal_var=False) and .confidence_interval(0.95) on
        //   a = [0.71, 0.83, 0.64, 0.90, 0.77, 0.69, 0.88, 0.81, 0.75, 0.92, 0.79, 0.85]
        //   b = [0.62, 0.70, 0.55, 0.81, 0.66, 0.59, 0.73, 0.68, 0.61, 0.74]
        // → t 3.557_728_532_747_049, df 19.824_003_009_426_264, p 0.001_994_038_852_257_525,
        //   CI (0.052_081_751_103_744_925, 0.199_918_248_896_255_1). Tolerance 1e-9 relative.
        let a = Moments::from_values(&[
            0.71, 0.83, 0.64, 0.90, 0.77, 0.69, 0.88, 0.81, 0.75, 0.92, 0.79, 0.85,
        ]);
        let b = Moments::from_values(&[0.62, 0.70, 0.55, 0.81, 0.66, 0.59, 0.73, 0.68, 0.61, 0.74]);
        let d = welch_t_test(&a, &b).unwrap();
        close(d.t, 3.557_728_532_747_049, 1e-9);
        close(d.df, 19.824_003_009_426_264, 1e-9);
        close(d.p_value, 0.001_994_038_852_257_525, 1e-9);
        close(d.ci.low, 0.052_081_751_103_744_925, 1e-9);
        close(d.ci.high, 0.199_918_248_896_255_1, 1e-9);
        close(d.difference, d.mean_a - d.mean_b, 1e-15);

        // From summary statistics only, large and unequal groups:
        // scipy.stats.ttest_ind_from_stats(120.0, 40.0, 5000, 118.5, 55.0, 3000, equal_var=False)
        // → t 1.301_480_673_999_031_7, p 0.193_155_062_427_256_5; df by the Welch–Satterthwaite
        // formula in numpy: 4_907.996_034_879_633. Tolerance 1e-9 relative.
        let moments = |n: u64, mean: f64, sd: f64| {
            let nf = n as f64;
            Moments::new(n, mean * nf, sd * sd * (nf - 1.0) + mean * mean * nf)
        };
        let d = welch_t_test(&moments(5000, 120.0, 40.0), &moments(3000, 118.5, 55.0)).unwrap();
        close(d.t, 1.301_480_673_999_031_7, 1e-9);
        close(d.df, 4_907.996_034_879_633, 1e-9);
        close(d.p_value, 0.193_155_062_427_256_5, 1e-9);
    }

    #[test]
    fn welch_says_not_enough_data() {
        let small = Moments::from_values(&[1.0, 2.0, 3.0]);
        let big = Moments::from_values(&[1.0; 20]);
        assert_eq!(
            welch_t_test(&small, &big),
            Err(NotEnoughData::TooFew { n: 3, min: MIN_N })
        );
        assert_eq!(welch_t_test(&big, &big), Err(NotEnoughData::NoSpread));
        let message = welch_t_test(&small, &big).unwrap_err().to_string();
        assert!(message.starts_with("not enough data"), "{message}");
    }

    #[test]
    fn two_proportions_match_scipy() {
        // 45/500 against 30/480. Reference for the test: scipy.stats.chi2_contingency(
        // [[45, 455], [30, 450]], correction=False) → chi² 2.620_552_486_187_847_8 (= z²),
        // p 0.105_487_706_458_752_95, which is the pooled two-proportion z-test's p. The CI of
        // the difference: (pa − pb) ± scipy.stats.norm.ppf(0.975) · √(pa(1−pa)/na + pb(1−pb)/nb)
        // → (−0.005_638_482_667_854_772, 0.060_638_482_667_854_765). Tolerance 1e-10 relative.
        let d = two_proportion_z_test(45, 500, 30, 480).unwrap();
        close(d.z * d.z, 2.620_552_486_187_847_8, 1e-10);
        assert!(d.z > 0.0);
        close(d.p_value, 0.105_487_706_458_752_95, 1e-10);
        close(d.difference, 45.0 / 500.0 - 30.0 / 480.0, 1e-15);
        close(d.ci.low, -0.005_638_482_667_854_772, 1e-10);
        close(d.ci.high, 0.060_638_482_667_854_765, 1e-10);

        // Too few expected failures (2 errors in all) is not a test.
        assert!(matches!(
            two_proportion_z_test(1, 200, 1, 200),
            Err(NotEnoughData::TooFewEvents { .. })
        ));
        assert!(matches!(
            two_proportion_z_test(1, 5, 1, 200),
            Err(NotEnoughData::TooFew { n: 5, .. })
        ));
    }

    #[test]
    fn wilson_interval_matches_scipy() {
        // scipy.stats.binomtest(k, n).proportion_ci(0.95, method='wilson'). Tolerance 1e-10.
        let ci = wilson_ci(12, 80).unwrap();
        close(ci.low, 0.087_940_405_061_635_47, 1e-10);
        close(ci.high, 0.244_132_285_613_233_47, 1e-10);
        let ci = wilson_ci(0, 50).unwrap();
        assert_eq!(ci.low, 0.0);
        close(ci.high, 0.071_347_599_133_358_72, 1e-10);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // numpy.quantile(x, q) (method 'linear') on x = [1, 2, 4, 8, 16]:
        // q 0.5 → 4.0, 0.95 → 14.399_999_999_999_999, 0.25 → 2.0, 0.1 → 1.4.
        let x = [1.0, 2.0, 4.0, 8.0, 16.0];
        close(quantile_sorted(&x, 0.5).unwrap(), 4.0, 1e-15);
        close(quantile_sorted(&x, 0.95).unwrap(), 14.4, 1e-14);
        close(quantile_sorted(&x, 0.25).unwrap(), 2.0, 1e-15);
        close(quantile_sorted(&x, 0.1).unwrap(), 1.4, 1e-14);
        assert_eq!(quantile_sorted(&[7.0], 0.95), Some(7.0));
        assert_eq!(quantile_sorted(&[], 0.5), None);
        let (lo, hi, frac) = quantile_ranks(5, 0.95).unwrap();
        assert_eq!((lo, hi), (3, 4));
        close(frac, 0.8, 1e-12);
    }
}
