//! A time range relative to now, as the dashboard's pages offer it.

/// A time range relative to now, as the dashboard's pages offer it (`?range=24h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecentRange {
    Hour,
    SixHours,
    Day,
    Week,
    Month,
    #[default]
    All,
}

impl RecentRange {
    pub const ALL: [RecentRange; 6] = [
        RecentRange::Hour,
        RecentRange::SixHours,
        RecentRange::Day,
        RecentRange::Week,
        RecentRange::Month,
        RecentRange::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecentRange::Hour => "1h",
            RecentRange::SixHours => "6h",
            RecentRange::Day => "24h",
            RecentRange::Week => "7d",
            RecentRange::Month => "30d",
            RecentRange::All => "all",
        }
    }

    pub fn parse(text: &str) -> Option<RecentRange> {
        RecentRange::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            RecentRange::Hour => "Last hour",
            RecentRange::SixHours => "Last 6 hours",
            RecentRange::Day => "Last 24 hours",
            RecentRange::Week => "Last 7 days",
            RecentRange::Month => "Last 30 days",
            RecentRange::All => "Any time",
        }
    }

    /// Its length; `None` for any time.
    pub fn duration_ms(self) -> Option<i64> {
        const HOUR: i64 = 3_600_000;
        Some(match self {
            RecentRange::Hour => HOUR,
            RecentRange::SixHours => 6 * HOUR,
            RecentRange::Day => 24 * HOUR,
            RecentRange::Week => 7 * 24 * HOUR,
            RecentRange::Month => 30 * 24 * HOUR,
            RecentRange::All => return None,
        })
    }

    /// `(from, to)` in Unix ms for a range ending now; `None` for any time.
    pub fn bounds(self, now_ms: i64) -> Option<(i64, i64)> {
        self.duration_ms()
            .map(|d| (now_ms.saturating_sub(d), now_ms.saturating_add(1)))
    }
}
