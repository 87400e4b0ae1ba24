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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// The names the example microservices and the demo data use (README, "Across services").
    const EXAMPLE_SERVICES: [&str; 8] = [
        "api-gateway",
        "auth-service",
        "agent-service",
        "model-service",
        "tool-service",
        "search-service",
        "cache-service",
        "analytics-service",
    ];

    #[test]
    fn a_name_keeps_its_hue_across_calls_sessions_and_builds() {
        // Pinned: a service's colour is part of what a user learns ("purple is the gateway").
        // A change of hash, palette order or modulus recolours everyone's services and shows
        // here first; change these only on purpose.
        let pinned = [
            ("api-gateway", 270),
            ("auth-service", 12),
            ("agent-service", 148),
            ("model-service", 236),
            ("tool-service", 188),
            ("search-service", 148),
            ("cache-service", 98),
            ("analytics-service", 330),
            ("langsmith", 300),
            ("frontend", 212),
            ("payments", 166),
            ("orders", 46),
        ];
        for (name, hue) in pinned {
            assert_eq!(service_hue(name), hue, "{name}");
        }
        // The same answer on every call, for any text (what a span's service may be).
        for name in ["", "ünïcode ✓", "<script>", &"x".repeat(10_000)] {
            let first = service_hue(name);
            assert!(HUES.contains(&first));
            for _ in 0..3 {
                assert_eq!(service_hue(name), first, "{name:?}");
            }
        }
    }

    #[test]
    fn distinct_services_mostly_get_distinct_hues() {
        // Twelve hues cannot keep every set of services apart (two of the example's eight
        // share one: agent-service and search-service); what the hash promises is a spread
        // as even as twelve colours allow.
        let used: HashSet<u16> = EXAMPLE_SERVICES.iter().map(|s| service_hue(s)).collect();
        assert!(
            used.len() >= 7,
            "{} colours for the example's 8 services",
            used.len()
        );
        let mut counts = [0usize; HUES.len()];
        for i in 0..12_000 {
            counts[service_index(&format!("service-{i}"))] += 1;
        }
        for c in counts {
            assert!((850..=1150).contains(&c), "uneven spread: {counts:?}");
        }
    }

    // --- the colours as the stylesheet draws them ---------------------------------------------

    const STYLESHEET: &str = include_str!("../../../style/main.css");

    /// The custom properties of one theme: every `:root { … }` block of the stylesheet, and for
    /// the dark theme the `:root[data-theme="dark"] { … }` blocks over them.
    fn theme(dark: bool) -> HashMap<String, String> {
        let mut vars = HashMap::new();
        let mut selectors = vec![":root {"];
        if dark {
            selectors.push(":root[data-theme=\"dark\"] {");
        }
        for selector in selectors {
            let mut rest = STYLESHEET;
            while let Some(at) = rest.find(selector) {
                let block = &rest[at + selector.len()..];
                let end = block.find('}').expect("a closed block");
                for declaration in block[..end].split(';') {
                    let declaration = strip_comments(declaration);
                    if let Some((name, value)) = declaration.trim().split_once(':') {
                        if let Some(name) = name.trim().strip_prefix("--") {
                            vars.insert(name.to_string(), value.trim().to_string());
                        }
                    }
                }
                rest = &block[end..];
            }
        }
        assert!(vars.contains_key("bg"), "no --bg in the stylesheet's :root");
        vars
    }

    fn strip_comments(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("/*") {
            out.push_str(&rest[..start]);
            rest = rest[start..]
                .find("*/")
                .map_or("", |end| &rest[start + end + 2..]);
        }
        out.push_str(rest);
        out
    }

    type Rgb = [f64; 3];

    fn hex(text: &str) -> Rgb {
        let text = text
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("not #rrggbb: {text}"));
        assert_eq!(text.len(), 6, "not #rrggbb: {text}");
        let channel =
            |i: usize| f64::from(u8::from_str_radix(&text[i..i + 2], 16).unwrap()) / 255.0;
        [channel(0), channel(2), channel(4)]
    }

    fn percent(text: &str) -> f64 {
        text.trim()
            .strip_suffix('%')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not a percentage: {text}"))
    }

    /// CSS `hsl(h s% l%)` in sRGB (CSS Color 4's algorithm).
    fn hsl(hue: f64, saturation: f64, lightness: f64) -> Rgb {
        let (s, l) = (saturation / 100.0, lightness / 100.0);
        let channel = |n: f64| {
            let k = (n + hue / 30.0) % 12.0;
            let a = s * l.min(1.0 - l);
            l - a * (k - 3.0).min(9.0 - k).clamp(-1.0, 1.0)
        };
        [channel(0.0), channel(8.0), channel(4.0)]
    }

    /// WCAG 2 relative luminance.
    fn luminance(c: Rgb) -> f64 {
        let lin = |v: f64| {
            if v <= 0.040_45 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
    }

    /// WCAG 2 contrast ratio (1 to 21).
    fn contrast(a: Rgb, b: Rgb) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    /// CIELAB (D65) of an sRGB colour, for colour differences (ΔE*76).
    fn lab(c: Rgb) -> [f64; 3] {
        let lin = |v: f64| {
            if v <= 0.040_45 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = [lin(c[0]), lin(c[1]), lin(c[2])];
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.950_47;
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.088_83;
        let f = |t: f64| {
            if t > 216.0 / 24_389.0 {
                t.cbrt()
            } else {
                (24_389.0 / 27.0 * t + 16.0) / 116.0
            }
        };
        let (fx, fy, fz) = (f(x), f(y), f(z));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }

    fn delta_e(a: Rgb, b: Rgb) -> f64 {
        let (a, b) = (lab(a), lab(b));
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    }

    /// A service's text colour in a theme: `hsl(var(--svc-h) var(--svc-fg-s) var(--svc-fg-l))`.
    fn text_colour(vars: &HashMap<String, String>, hue: u16) -> Rgb {
        hsl(
            f64::from(hue),
            percent(&vars["svc-fg-s"]),
            percent(&vars["svc-fg-l"]),
        )
    }

    /// A service's dot and bar colour: `hsl(var(--svc-h) 65% var(--svc-dot-l))`.
    fn dot_colour(vars: &HashMap<String, String>, hue: u16) -> Rgb {
        hsl(f64::from(hue), 65.0, percent(&vars["svc-dot-l"]))
    }

    #[test]
    fn the_colour_maths_matches_known_values() {
        assert_eq!(hsl(0.0, 100.0, 50.0), [1.0, 0.0, 0.0]);
        assert_eq!(hsl(120.0, 100.0, 25.0), [0.0, 0.5, 0.0]);
        assert!((contrast(hex("#000000"), hex("#ffffff")) - 21.0).abs() < 1e-9);
        // WebAIM's contrast checker: #767676 on white is 4.54:1.
        assert!((contrast(hex("#767676"), hex("#ffffff")) - 4.54).abs() < 0.01);
        assert!((delta_e(hex("#000000"), hex("#ffffff")) - 100.0).abs() < 0.01);
    }

    #[test]
    fn service_names_are_readable_in_both_themes() {
        // Service names are drawn in the service's colour: on its chip and on the page's
        // surfaces (trace rows, hovered, selected and matching rows, the critical-path list).
        // WCAG AA for normal text: 4.5:1.
        for dark in [false, true] {
            let vars = theme(dark);
            let surfaces = [
                "bg",
                "surface",
                "surface-2",
                "row-hover",
                "accent-soft",
                "match-bg",
            ];
            for hue in HUES {
                let text = text_colour(&vars, hue);
                let chip = hsl(
                    f64::from(hue),
                    percent(&vars["svc-bg-s"]),
                    percent(&vars["svc-bg-l"]),
                );
                let mut backgrounds = vec![("chip".to_string(), chip)];
                for name in surfaces {
                    backgrounds.push((format!("--{name}"), hex(&vars[name])));
                }
                for (name, background) in backgrounds {
                    let ratio = contrast(text, background);
                    assert!(
                        ratio >= 4.5,
                        "{} theme, hue {hue} on {name}: contrast {ratio:.2}:1 < 4.5:1",
                        if dark { "dark" } else { "light" }
                    );
                }
            }
        }
    }

    #[test]
    fn any_two_hues_look_different_in_both_themes() {
        // Two services of different hues must be told apart side by side, in their names and
        // in their dots and bars (ΔE*76 ≥ 10: far beyond the just-noticeable ~2.3).
        for dark in [false, true] {
            let vars = theme(dark);
            for (i, &a) in HUES.iter().enumerate() {
                for &b in &HUES[i + 1..] {
                    for (what, colour) in [
                        (
                            "text",
                            text_colour as fn(&HashMap<String, String>, u16) -> Rgb,
                        ),
                        ("dot", dot_colour),
                    ] {
                        let d = delta_e(colour(&vars, a), colour(&vars, b));
                        assert!(
                            d >= 10.0,
                            "{} theme: the {what} colours of hues {a} and {b} are ΔE {d:.1} apart",
                            if dark { "dark" } else { "light" }
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn hues_are_distinct_and_not_error_red() {
        let set: HashSet<u16> = HUES.iter().copied().collect();
        assert_eq!(set.len(), HUES.len());
        for h in HUES {
            assert!((6..355).contains(&h), "{h} reads as error red");
        }
        // Neighbouring palette entries (which the chart slots fall back to) are far apart.
        for pair in HUES.windows(2) {
            let d = (i32::from(pair[0]) - i32::from(pair[1])).rem_euclid(360);
            assert!(d.min(360 - d) >= 40, "{pair:?} too close");
        }
    }
}
