//! The special functions under the tests: ln Γ, the regularized incomplete beta (the t
//! distribution), erfc (the normal distribution), and their quantiles. Accuracy: see `stats`.

use std::f64::consts::{PI, SQRT_2};

use crate::num::clamp;

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
pub(super) fn is_positive(x: f64) -> bool {
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
