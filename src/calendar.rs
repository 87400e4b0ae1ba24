//! Dates and times as text, written by hand: the dashboard does not use chrono's `format` and
//! `parse_from_str` (its strftime machinery: bench/README.md, Bundle, says what it weighs). Each function gives exactly
//! the text of the chrono format string named in its doc; `time.rs` reads the fields from
//! chrono's local time.

/// `%b` in chrono's default locale.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A local date and time, field by field (chrono's `Datelike` and `Timelike` values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Parts {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Within the second; from 1,000,000,000 in a leap second (chrono's convention).
    pub nanosecond: u32,
    /// The zone's offset from UTC in seconds (local minus UTC).
    pub offset_secs: i32,
}

impl Parts {
    /// `%Y-%m-%d`: `2024-11-21`.
    pub fn date(&self) -> String {
        format!("{}-{:02}-{:02}", year(self.year), self.month, self.day)
    }

    /// `%H:%M`: `14:03`.
    pub fn hour_minute(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    /// `%H:%M:%S`: `14:03:22` (a leap second is `60`).
    pub fn hour_minute_second(&self) -> String {
        let second = self.second + self.nanosecond / 1_000_000_000;
        format!("{}:{second:02}", self.hour_minute())
    }

    /// `%b %d`: `Nov 21`.
    pub fn month_day(&self) -> String {
        let month = MONTHS[(self.month as usize).clamp(1, 12) - 1];
        format!("{month} {:02}", self.day)
    }

    /// `%Y-%m-%d %H:%M`: `2024-11-21 14:03`.
    pub fn date_hour_minute(&self) -> String {
        format!("{} {}", self.date(), self.hour_minute())
    }

    /// `%Y-%m-%d %H:%M:%S%.3f %:z`: `2024-11-21 14:03:22.123 +01:00`.
    pub fn full(&self) -> String {
        // `%:z`: the offset rounded to the minute.
        let sign = if self.offset_secs < 0 { '-' } else { '+' };
        let minutes = (self.offset_secs.unsigned_abs() + 30) / 60;
        format!(
            "{} {}.{:03} {sign}{:02}:{:02}",
            self.date(),
            self.hour_minute_second(),
            self.nanosecond / 1_000_000 % 1000,
            minutes / 60,
            minutes % 60
        )
    }
}

/// `%Y`: four digits from year 0 to 9999, else signed (`+10000`, `-0001`).
fn year(year: i32) -> String {
    if (0..10_000).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{year:+05}")
    }
}

/// The fields of `2024-11-21T14:03` or `2024-11-21T14:03:22` (an `<input type="datetime-local">`
/// value), as chrono's `NaiveDateTime::parse_from_str` reads them with `%Y-%m-%dT%H:%M` and then
/// `%Y-%m-%dT%H:%M:%S`: whitespace allowed before each number, one or two digits for each
/// field but the year (up to four, or any number after a sign), second 60 a leap second. `None`
/// when the text does not have that shape; the caller checks the values make a date and time.
pub fn parse_datetime_local(value: &str) -> Option<Parts> {
    let (year, rest) = signed_number(value)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = number(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = number(rest, 2)?;
    let rest = rest.strip_prefix('T')?;
    let (hour, rest) = number(rest, 2)?;
    let rest = rest.strip_prefix(':')?;
    let (minute, rest) = number(rest, 2)?;
    let (second, rest) = match rest.strip_prefix(':') {
        Some(rest) => number(rest, 2)?,
        None => (0, rest),
    };
    if !rest.is_empty() {
        return None;
    }
    let (second, nanosecond) = match second {
        60 => (59, 1_000_000_000),
        s => (u32::try_from(s).ok()?, 0),
    };
    Some(Parts {
        year: i32::try_from(year).ok()?,
        month: u32::try_from(month).ok()?,
        day: u32::try_from(day).ok()?,
        hour: u32::try_from(hour).ok()?,
        minute: u32::try_from(minute).ok()?,
        second,
        nanosecond,
        offset_secs: 0,
    })
}

/// A year after optional whitespace: four digits at most, or any number of digits right after
/// `+` or `-`.
fn signed_number(text: &str) -> Option<(i64, &str)> {
    let text = text.trim_start();
    if let Some(rest) = text.strip_prefix('-') {
        let (n, rest) = digits(rest, usize::MAX)?;
        Some((-n, rest))
    } else if let Some(rest) = text.strip_prefix('+') {
        digits(rest, usize::MAX)
    } else {
        digits(text, 4)
    }
}

/// One to `max` ASCII digits after optional whitespace, and the text after them.
fn number(text: &str, max: usize) -> Option<(i64, &str)> {
    digits(text.trim_start(), max)
}

/// One to `max` ASCII digits, and the text after them.
fn digits(text: &str, max: usize) -> Option<(i64, &str)> {
    let len = text
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_digit)
        .count();
    if len == 0 {
        return None;
    }
    let mut n: i64 = 0;
    for b in text[..len].bytes() {
        n = n.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some((n, &text[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Parts {
        Parts {
            year,
            month,
            day,
            hour,
            minute,
            second,
            ..Parts::default()
        }
    }

    #[test]
    fn formats_like_chrono() {
        let p = Parts {
            nanosecond: 123_456_789,
            offset_secs: 3600,
            ..parts(2024, 11, 21, 14, 3, 22)
        };
        assert_eq!(p.date(), "2024-11-21");
        assert_eq!(p.hour_minute(), "14:03");
        assert_eq!(p.hour_minute_second(), "14:03:22");
        assert_eq!(p.month_day(), "Nov 21");
        assert_eq!(p.date_hour_minute(), "2024-11-21 14:03");
        assert_eq!(p.full(), "2024-11-21 14:03:22.123 +01:00");

        let early = Parts {
            offset_secs: -(9 * 3600 + 30 * 60),
            ..parts(987, 1, 2, 3, 4, 5)
        };
        assert_eq!(early.date(), "0987-01-02");
        assert_eq!(early.month_day(), "Jan 02");
        assert_eq!(early.full(), "0987-01-02 03:04:05.000 -09:30");
        assert_eq!(parts(12_345, 12, 31, 0, 0, 0).date(), "+12345-12-31");
        assert_eq!(parts(-1, 6, 1, 0, 0, 0).date(), "-0001-06-01");
        // Zone offsets round to the minute; a leap second shows as 60.
        let odd = Parts {
            offset_secs: 5 * 3600 + 29 * 60 + 30,
            nanosecond: 1_500_000_000,
            ..parts(2016, 12, 31, 23, 59, 59)
        };
        assert_eq!(odd.full(), "2016-12-31 23:59:60.500 +05:30");
        assert_eq!(
            Parts {
                offset_secs: -29,
                ..odd
            }
            .full(),
            "2016-12-31 23:59:60.500 -00:00"
        );
    }

    #[test]
    fn parses_datetime_input_values() {
        assert_eq!(
            parse_datetime_local("2024-11-21T14:03"),
            Some(parts(2024, 11, 21, 14, 3, 0))
        );
        assert_eq!(
            parse_datetime_local("2024-11-21T14:03:22"),
            Some(parts(2024, 11, 21, 14, 3, 22))
        );
        assert_eq!(
            parse_datetime_local("+12024-1-2T 3:4"),
            Some(parts(12024, 1, 2, 3, 4, 0))
        );
        assert_eq!(
            parse_datetime_local("-44-03-15T12:00:60"),
            Some(Parts {
                second: 59,
                nanosecond: 1_000_000_000,
                ..parts(-44, 3, 15, 12, 0, 0)
            })
        );
        for bad in [
            "",
            "2024-11-21",
            "2024-11-21 14:03",
            "2024-11-21T14:03:22.500",
            "2024-11-21T14:03Z",
            "20245-11-21T14:03",
            "2024-011-21T14:03",
            "2024-11-21t14:03",
            "2024-11-21T14:",
            "+ 2024-11-21T14:03",
        ] {
            assert_eq!(parse_datetime_local(bad), None, "{bad:?}");
        }
    }
}
