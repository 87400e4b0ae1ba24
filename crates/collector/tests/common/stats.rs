//! The pairwise results' statistics computed independently of `skein_model::pairwise`, to
//! check the collector's and the dashboard's figures against (crates/collector/tests/pairwise.rs
//! and the dashboard's tests/browser_pairwise.rs).

#![allow(dead_code)]

/// P(X ≤ m) for X ~ Binomial(n, ½), summed exactly.
pub fn binomial_half_cdf(m: u64, n: u64) -> f64 {
    let mut c = 1.0f64;
    let mut sum = 0.0;
    for i in 0..=m {
        if i > 0 {
            c = c * (n - i + 1) as f64 / i as f64;
        }
        sum += c;
    }
    sum / 2f64.powi(n as i32)
}

/// The two-sided exact binomial test against ½ of `k` successes in `n`.
pub fn sign_test(k: u64, n: u64) -> f64 {
    if 2 * k == n {
        return 1.0;
    }
    (2.0 * binomial_half_cdf(k.min(n - k), n)).min(1.0)
}

/// The Wilson score 95% interval of `k` successes in `n`.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let center = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((center - half).max(0.0), (center + half).min(1.0))
}
