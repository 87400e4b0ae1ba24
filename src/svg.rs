//! Text and colour for the SVG charts on `/metrics`.
//!
//! Charts are SVG strings put into the page with `inner_html`, so any text in them is markup.
//! Tag keys, tag values and feedback keys come from whoever sends spans: untrusted. The rule:
//! **every data-derived string enters a chart's SVG through [`escape`]**, and nothing else
//! writes text into an SVG string. (Plotters escapes what it draws itself, so data-derived
//! text is never handed to plotters: the chart code draws it with `escape` instead.)

use skein_model::num::clamp;

/// Escapes text for use in SVG (XML) character data and in double- or single-quoted attribute
/// values: `&`, `<`, `>`, `"` and `'` become entities, and characters XML 1.0 forbids (control
/// characters other than tab, newline and carriage return; U+FFFE, U+FFFF) are dropped, since
/// one of them makes the browser's parser reject the whole SVG. `]]>` cannot end a CDATA
/// section (there is none) because `>` is escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, the last one an ellipsis when cut (for labels under a bar).
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// An RGB colour from CSS-style HSL (hue in degrees, saturation and lightness in percent).
pub fn hsl_to_rgb(hue: f64, saturation: f64, lightness: f64) -> (u8, u8, u8) {
    let h = hue.rem_euclid(360.0) / 60.0;
    let s = clamp(saturation / 100.0, 0.0, 1.0);
    let l = clamp(lightness / 100.0, 0.0, 1.0);
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f64| clamp(((v + m) * 255.0).round(), 0.0, 255.0) as u8;
    (to(r), to(g), to(b))
}

/// `#rrggbb`.
pub fn hex(rgb: (u8, u8, u8)) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb.0, rgb.1, rgb.2)
}

/// Palette slots for a chart's groups. Each tag value prefers the slot its name hashes to
/// (`skein_model::palette`, the services' hues), so "B" keeps its colour from chart to chart
/// and visit to visit; a value whose hue would be hard to tell from one already used in this
/// chart (closer than `MIN_HUE_GAP` degrees) moves on to the next slot that is not. Values are
/// placed in sorted order, so the same set of groups always gets the same colours. `None`
/// (traces without the tag) gets no slot: it is drawn grey.
pub fn group_slots(values: &[Option<String>]) -> Vec<Option<usize>> {
    use skein_model::palette::{service_index, HUES};
    use skein_model::sort;
    let distance = |a: u16, b: u16| {
        let d = (i32::from(a) - i32::from(b)).rem_euclid(360);
        d.min(360 - d)
    };
    let mut order: Vec<usize> = (0..values.len()).collect();
    sort::sort_by(&mut order, |&a, &b| values[a].cmp(&values[b]));
    let mut taken: Vec<usize> = Vec::new();
    let mut slots = vec![None; values.len()];
    for i in order {
        let Some(value) = &values[i] else { continue };
        let preferred = service_index(value);
        // Beyond twelve groups colours repeat.
        let in_use: &[usize] = if taken.len() >= HUES.len() {
            &[]
        } else {
            &taken
        };
        let candidates = (0..HUES.len()).map(|k| (preferred + k) % HUES.len());
        let far = candidates.clone().find(|&s| {
            in_use
                .iter()
                .all(|&t| distance(HUES[s], HUES[t]) >= MIN_HUE_GAP)
        });
        let free = candidates.clone().find(|s| !in_use.contains(s));
        let slot = far.or(free).unwrap_or(preferred);
        if taken.len() >= HUES.len() {
            taken.clear();
        }
        taken.push(slot);
        slots[i] = Some(slot);
    }
    slots
}

/// Hues of one chart at least this far apart (degrees), while the palette allows.
pub const MIN_HUE_GAP: i32 = 45;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escape("a & b"), "a &amp; b");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(
            escape(r#"" onload="x" '"#),
            "&quot; onload=&quot;x&quot; &#39;"
        );
        assert_eq!(escape("]]><x/>"), "]]&gt;&lt;x/&gt;");
        assert_eq!(escape("<![CDATA[x]]>"), "&lt;![CDATA[x]]&gt;");
        // Plain text, non-ASCII and the whitespace XML allows are kept.
        assert_eq!(escape("variant B — ünï ✓"), "variant B — ünï ✓");
        assert_eq!(escape("a\tb\nc"), "a\tb\nc");
        // Characters XML forbids are dropped rather than breaking the document.
        assert_eq!(escape("a\u{0}b\u{1b}c\u{FFFF}"), "abc");
        // Nothing that could open a tag, an entity or close an attribute survives.
        let nasty = "<svg onload='x'>&\"</svg>]]>";
        let out = escape(nasty);
        assert!(!out.contains('<') && !out.contains('>'));
        assert!(!out.contains('"') && !out.contains('\''));
        assert_eq!(out.matches('&').count(), out.matches(';').count());
    }

    #[test]
    fn shorten_cuts_with_an_ellipsis() {
        assert_eq!(shorten("premium", 10), "premium");
        assert_eq!(shorten("enterprise-tier", 8), "enterpr…");
        assert_eq!(shorten("ünïcödé✓✓", 4), "ünï…");
    }

    #[test]
    fn hsl_converts_like_css() {
        assert_eq!(hsl_to_rgb(0.0, 100.0, 50.0), (255, 0, 0));
        assert_eq!(hsl_to_rgb(120.0, 100.0, 50.0), (0, 255, 0));
        assert_eq!(hsl_to_rgb(240.0, 100.0, 50.0), (0, 0, 255));
        assert_eq!(hsl_to_rgb(0.0, 0.0, 100.0), (255, 255, 255));
        // hsl(212 65% 48%) as a browser computes it: rgb(43, 117, 202).
        assert_eq!(hsl_to_rgb(212.0, 65.0, 48.0), (43, 117, 202));
        assert_eq!(hex((43, 117, 202)), "#2b75ca");
        assert_eq!(
            hsl_to_rgb(-60.0, 100.0, 50.0),
            hsl_to_rgb(300.0, 100.0, 50.0)
        );
    }

    #[test]
    fn group_colours_are_stable_and_distinct() {
        let v = |s: &str| Some(s.to_string());
        let ab = group_slots(&[v("A"), v("B")]);
        let ba = group_slots(&[v("B"), v("A")]);
        assert_eq!(ab[0], ba[1], "a value keeps its colour whatever the order");
        assert_eq!(ab[1], ba[0]);
        assert_ne!(ab[0], ab[1]);
        let many: Vec<Option<String>> = (0..12).map(|i| v(&format!("g{i}"))).collect();
        let slots = group_slots(&many);
        let mut seen: Vec<usize> = slots.iter().map(|s| s.unwrap()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 12, "twelve groups, twelve colours");
        assert_eq!(group_slots(&[None, v("x")])[0], None);
        // Few groups get hues far apart (the demo's user tiers hash to two blues).
        use skein_model::palette::HUES;
        let tiers = group_slots(&[v("enterprise"), v("free"), v("premium")]);
        let hues: Vec<i32> = tiers.iter().map(|s| i32::from(HUES[s.unwrap()])).collect();
        for (i, a) in hues.iter().enumerate() {
            for b in &hues[i + 1..] {
                let d = (a - b).rem_euclid(360);
                assert!(d.min(360 - d) >= MIN_HUE_GAP, "{hues:?}");
            }
        }
        // A value alone keeps its own hue.
        assert_eq!(
            group_slots(&[v("premium")])[0],
            Some(skein_model::palette::service_index("premium"))
        );
        // Past twelve, colours repeat instead of looping forever.
        let lots: Vec<Option<String>> = (0..30).map(|i| v(&format!("g{i}"))).collect();
        assert!(group_slots(&lots).iter().all(Option::is_some));
    }
}
