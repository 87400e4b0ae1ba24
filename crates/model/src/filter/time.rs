//! Times and durations as filters write them: RFC 3339 timestamps or dates, and durations
//! with units (`"2s"`, `"500ms"`).

/// `"2s"`, `"500ms"`, `"1.5m"`, `"250us"`, `"1h"`, `"100ns"`, or a bare number of seconds
/// (LangSmith's unit), as nanoseconds.
pub fn parse_duration_ns(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic() || c == 'µ')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.trim().parse().ok()?;
    let scale = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1e9,
        "ms" => 1e6,
        "us" | "µs" => 1e3,
        "ns" => 1.0,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    let ns = value * scale;
    (ns.is_finite() && ns.abs() < 9.2e18).then_some(ns.round() as i64)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `2026-12-01T10:00:00Z`, `2026-12-01 10:00:00.5+02:00`, `2026-12-01T10:00` or `2026-12-01`
/// (UTC when no offset is written), as Unix nanoseconds.
pub fn parse_timestamp_ns(text: &str) -> Option<i64> {
    let text = text.trim();
    let date = text.get(..10)?;
    let mut parts = date.split('-');
    let (y, m, d) = (
        digits(parts.next()?)?,
        digits(parts.next()?)?,
        digits(parts.next()?)?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1900..=2200).contains(&y) {
        return None;
    }
    let mut ns = days_from_civil(y, m, d) * 86_400_000_000_000;
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(ns);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let offset_at = rest
        .find(['Z', 'z', '+'])
        .or_else(|| rest.rfind('-'))
        .unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(offset_at);
    let mut fields = clock.split(':');
    let hours = digits(fields.next()?)?;
    let minutes = digits(fields.next()?)?;
    let (seconds, fraction) = match fields.next() {
        Some(s) => match s.split_once('.') {
            Some((whole, frac)) => (digits(whole)?, frac),
            None => (digits(s)?, ""),
        },
        None => (0, ""),
    };
    if fields.next().is_some() || hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    ns += (hours * 3600 + minutes * 60 + seconds) * 1_000_000_000;
    if !fraction.is_empty() {
        let frac: String = fraction
            .chars()
            .chain(std::iter::repeat('0'))
            .take(9)
            .collect();
        ns += digits(&frac)?;
    }
    match zone {
        "" | "Z" | "z" => {}
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
            let shift = (digits(h)? * 3600 + digits(m)? * 60) * 1_000_000_000;
            ns -= sign * shift;
        }
    }
    Some(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration_ns("2s"), Some(2_000_000_000));
        assert_eq!(parse_duration_ns("500ms"), Some(500_000_000));
        assert_eq!(parse_duration_ns("1.5m"), Some(90_000_000_000));
        assert_eq!(parse_duration_ns("2.5"), Some(2_500_000_000));
        assert_eq!(parse_duration_ns("250 us"), Some(250_000));
        assert_eq!(parse_duration_ns("2 fortnights"), None);
        assert_eq!(parse_duration_ns("s"), None);
    }

    #[test]
    fn timestamps_are_rfc3339_or_dates() {
        assert_eq!(parse_timestamp_ns("1970-01-02"), Some(86_400_000_000_000));
        assert_eq!(
            parse_timestamp_ns("2026-11-24T06:05:18.183114+00:00"),
            Some(1_795_500_318_183_114_000)
        );
        assert_eq!(
            parse_timestamp_ns("2026-11-24T08:05:18.183114+02:00"),
            parse_timestamp_ns("2026-11-24T06:05:18.183114Z")
        );
        assert_eq!(
            parse_timestamp_ns("2026-11-24 06:05"),
            parse_timestamp_ns("2026-11-24T06:05:00Z")
        );
        assert_eq!(parse_timestamp_ns("2026-13-01"), None);
        assert_eq!(parse_timestamp_ns("yesterday"), None);
    }
}
