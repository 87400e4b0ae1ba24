//! The statistics against reference values computed with scipy (see `stats`).

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
