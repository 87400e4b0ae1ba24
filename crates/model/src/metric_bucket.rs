//! The time buckets of a metric's series: their size as a query gives it (`bucket=1h`, or
//! automatic) and where each starts.

use std::fmt;

use crate::query::QueryError;

/// The time-bucket size of the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bucket {
    /// Chosen from `Bucket::LADDER` to give at most `Bucket::AUTO_TARGET` buckets.
    #[default]
    Auto,
    /// Milliseconds; written as `30s`, `5m`, `1h`, `1d`, `1w`.
    Fixed(i64),
}

pub(crate) const SECOND_MS: i64 = 1_000;
pub(crate) const MINUTE_MS: i64 = 60 * SECOND_MS;
pub(crate) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;
pub(crate) const WEEK_MS: i64 = 7 * DAY_MS;

impl Bucket {
    /// Automatic sizes, smallest first.
    pub const LADDER: [i64; 11] = [
        MINUTE_MS,
        5 * MINUTE_MS,
        15 * MINUTE_MS,
        HOUR_MS,
        3 * HOUR_MS,
        6 * HOUR_MS,
        12 * HOUR_MS,
        DAY_MS,
        WEEK_MS,
        30 * DAY_MS,
        365 * DAY_MS,
    ];
    /// Most buckets an automatic size gives.
    pub const AUTO_TARGET: i64 = 100;
    /// Most buckets a query may ask for.
    pub const MAX_BUCKETS: i64 = 2_000;
    pub const MIN_MS: i64 = SECOND_MS;

    pub fn parse(text: &str) -> Result<Bucket, QueryError> {
        let text = text.trim();
        if text == "auto" {
            return Ok(Bucket::Auto);
        }
        let bad = || {
            QueryError::new(format!(
                "bucket must be auto or a whole number of s, m, h, d or w (1h, 15m, 1d), not {text:?}"
            ))
        };
        let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (number, unit) = text.split_at(split);
        let number: i64 = number.parse().map_err(|_| bad())?;
        let unit_ms = match unit {
            "s" => SECOND_MS,
            "m" => MINUTE_MS,
            "h" => HOUR_MS,
            "d" => DAY_MS,
            "w" => WEEK_MS,
            _ => return Err(bad()),
        };
        match number.checked_mul(unit_ms) {
            Some(ms) if ms >= Bucket::MIN_MS => Ok(Bucket::Fixed(ms)),
            _ => Err(bad()),
        }
    }

    /// The bucket size in ms for a time range `[from_ms, to_ms)`. An explicit size that gives
    /// more than `MAX_BUCKETS` buckets is refused, naming the parameter.
    pub fn resolve(&self, from_ms: i64, to_ms: i64) -> Result<i64, QueryError> {
        let span = to_ms.saturating_sub(from_ms).max(1);
        match *self {
            Bucket::Auto => Ok(Bucket::LADDER
                .iter()
                .copied()
                .find(|&size| bucket_count(from_ms, to_ms, size) <= Bucket::AUTO_TARGET)
                // Beyond a century of data, a bucket per 1/100 of the range.
                .unwrap_or_else(|| span / Bucket::AUTO_TARGET + 1)),
            Bucket::Fixed(size) => {
                let count = bucket_count(from_ms, to_ms, size);
                if count > Bucket::MAX_BUCKETS {
                    return Err(QueryError::new(format!(
                        "bucket {self} splits the time range into {count} buckets, at most {} allowed; choose a larger bucket",
                        Bucket::MAX_BUCKETS
                    )));
                }
                Ok(size)
            }
        }
    }
}

/// Buckets aligned on multiples of `size` since the Unix epoch (UTC) that `[from, to)` touches.
fn bucket_count(from_ms: i64, to_ms: i64, size: i64) -> i64 {
    let first = from_ms.div_euclid(size);
    let last = (to_ms.max(from_ms + 1) - 1).div_euclid(size);
    last - first + 1
}

/// The start (Unix ms) of the bucket holding `time_ms`.
pub fn bucket_start(time_ms: i64, bucket_ms: i64) -> i64 {
    time_ms.div_euclid(bucket_ms.max(1)) * bucket_ms.max(1)
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Bucket::Auto => f.write_str("auto"),
            Bucket::Fixed(ms) => {
                let (unit, size) = [
                    ("w", WEEK_MS),
                    ("d", DAY_MS),
                    ("h", HOUR_MS),
                    ("m", MINUTE_MS),
                    ("s", SECOND_MS),
                ]
                .into_iter()
                .find(|(_, size)| ms % size == 0)
                .unwrap_or(("s", SECOND_MS));
                write!(f, "{}{unit}", ms / size)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_parse_print_and_resolve() {
        assert_eq!(Bucket::parse("15m").unwrap(), Bucket::Fixed(15 * MINUTE_MS));
        assert_eq!(Bucket::parse("1d").unwrap().to_string(), "1d");
        assert_eq!(Bucket::Fixed(90 * MINUTE_MS).to_string(), "90m");
        assert_eq!(Bucket::Fixed(WEEK_MS).to_string(), "1w");
        assert_eq!(Bucket::parse("auto").unwrap(), Bucket::Auto);
        assert!(Bucket::parse("99999999999999999w").is_err());

        // Seven days: 3 h buckets are the first to give at most 100.
        let week = 7 * DAY_MS;
        assert_eq!(Bucket::Auto.resolve(0, week).unwrap(), 3 * HOUR_MS);
        assert_eq!(Bucket::Auto.resolve(0, 30 * MINUTE_MS).unwrap(), MINUTE_MS);
        assert_eq!(Bucket::Fixed(HOUR_MS).resolve(0, week).unwrap(), HOUR_MS);
        let err = Bucket::Fixed(MINUTE_MS).resolve(0, week).unwrap_err();
        assert!(err.0.contains("bucket"), "{err}");
        // Buckets are aligned to the epoch, so a range straddling an edge touches two.
        assert_eq!(bucket_count(HOUR_MS - 1, HOUR_MS + 1, HOUR_MS), 2);
        assert_eq!(bucket_start(-1, HOUR_MS), -HOUR_MS);
        assert_eq!(bucket_start(2 * HOUR_MS + 5, HOUR_MS), 2 * HOUR_MS);
    }
}
