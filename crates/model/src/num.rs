//! Float helpers for code that also runs in the dashboard's wasm.

/// `v` limited to `lo..=hi` (`lo` for NaN). Not `f64::clamp`: its check that `lo <= hi` panics
/// with the floats formatted, and that alone links core's float formatting into every page
/// that clamps.
pub fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    v.max(lo).min(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_limits_to_the_range() {
        assert_eq!(clamp(1.5, 0.0, 1.0), 1.0);
        assert_eq!(clamp(-2.0, 0.0, 1.0), 0.0);
        assert_eq!(clamp(0.25, 0.0, 1.0), 0.25);
        assert_eq!(clamp(f64::NAN, 0.0, 1.0), 0.0);
    }
}
