//! Stable colours for services: the same service name gets the same colour in every view,
//! every session and every browser, so a reader learns "blue is the model service".
//!
//! A colour is a hue from a fixed palette of well-separated hues; the dashboard's stylesheet
//! picks saturation and lightness per theme (`hsl(var(--svc-h) …)`), so the hue alone is
//! the service's identity.

/// Twelve hues, ordered so that neighbouring entries are far apart on the colour wheel.
/// Pure red is left out: it means "error" everywhere else in the dashboard.
pub const HUES: [u16; 12] = [212, 148, 28, 270, 188, 330, 46, 236, 98, 300, 12, 166];

/// FNV-1a over the name's bytes: tiny, fast and the same on every platform.
fn fnv1a(text: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in text.as_bytes() {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The palette index of a service name (0..HUES.len()).
pub fn service_index(name: &str) -> usize {
    // Mix the high bits in: FNV's low bits alone are weak for short, similar names.
    let h = fnv1a(name);
    ((h ^ (h >> 16)) % HUES.len() as u32) as usize
}

/// The hue (degrees, 0..360) of a service name.
pub fn service_hue(name: &str) -> u16 {
    HUES[service_index(name)]
}

/// A CSS colour for the service, for places that cannot use the stylesheet's per-theme
/// variables (a chart, a canvas): `hsl(212 65% 48%)`, readable on light and dark backgrounds.
pub fn service_color(name: &str) -> String {
    hsl(service_hue(name), 65, 48)
}

/// `hsl(H S% L%)` in CSS Color 4 syntax.
pub fn hsl(hue: u16, saturation: u8, lightness: u8) -> String {
    format!(
        "hsl({} {}% {}%)",
        hue % 360,
        saturation.min(100),
        lightness.min(100)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_name_always_gets_the_same_hue() {
        for name in ["api-gateway", "model-service", "", "ünïcode ✓", "<script>"] {
            assert_eq!(service_hue(name), service_hue(name));
            assert_eq!(service_color(name), service_color(name));
        }
        // Pinned values: changing the hash would recolour every user's services.
        assert_eq!(fnv1a(""), 0x811c_9dc5);
        assert_eq!(fnv1a("a"), 0xe40c_292c);
        assert_eq!(
            service_hue("api-gateway"),
            HUES[service_index("api-gateway")]
        );
    }

    #[test]
    fn hues_are_distinct_and_not_red() {
        let set: HashSet<u16> = HUES.iter().copied().collect();
        assert_eq!(set.len(), HUES.len());
        for h in HUES {
            assert!(h < 360);
            assert!(!(355..360).contains(&h) && h > 5, "{h} reads as error red");
        }
        // Neighbouring palette entries are far apart.
        for pair in HUES.windows(2) {
            let d = (i32::from(pair[0]) - i32::from(pair[1])).rem_euclid(360);
            assert!(d.min(360 - d) >= 40, "{pair:?} too close");
        }
    }

    #[test]
    fn typical_services_spread_over_the_palette() {
        let services = [
            "api-gateway",
            "auth-service",
            "agent-service",
            "model-service",
            "tool-service",
            "search-service",
            "cache-service",
            "analytics-service",
        ];
        let used: HashSet<usize> = services.iter().map(|s| service_index(s)).collect();
        assert!(
            used.len() >= 5,
            "only {} colours for 8 services",
            used.len()
        );

        // Over many names every hue is used, none dominates.
        let mut counts = [0usize; HUES.len()];
        for i in 0..1200 {
            counts[service_index(&format!("service-{i}"))] += 1;
        }
        for c in counts {
            assert!((50..=150).contains(&c), "uneven spread: {counts:?}");
        }
    }

    #[test]
    fn css_colour_is_well_formed() {
        assert_eq!(hsl(212, 65, 48), "hsl(212 65% 48%)");
        assert_eq!(hsl(400, 120, 50), "hsl(40 100% 50%)");
        assert!(service_color("x").starts_with("hsl("));
    }
}
