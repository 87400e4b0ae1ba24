//! The session and user lists' cursors.

use std::fmt;

/// A list cursor: the sort key and the id of the last row of the previous page,
/// `<key>~<id>` (the key never contains `~`; the id may).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCursor {
    pub key: CursorKey,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CursorKey {
    Int(i64),
    Real(f64),
}

impl fmt::Display for GroupCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key {
            CursorKey::Int(v) => write!(f, "i{v}~{}", self.id),
            // `{:?}` of an f64 round-trips exactly.
            CursorKey::Real(v) => write!(f, "r{v:?}~{}", self.id),
        }
    }
}

impl GroupCursor {
    pub fn parse(text: &str) -> Option<GroupCursor> {
        let (key, id) = text.split_once('~')?;
        let key = match key.split_at_checked(1)? {
            ("i", v) => CursorKey::Int(v.parse().ok()?),
            ("r", v) => CursorKey::Real(v.parse().ok().filter(|x: &f64| x.is_finite())?),
            _ => return None,
        };
        Some(GroupCursor {
            key,
            id: id.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_with_any_id() {
        for c in [
            GroupCursor {
                key: CursorKey::Int(-5),
                id: "a~b.c".into(),
            },
            GroupCursor {
                key: CursorKey::Real(0.1 + 0.2),
                id: String::new(),
            },
        ] {
            assert_eq!(GroupCursor::parse(&c.to_string()), Some(c));
        }
        assert_eq!(GroupCursor::parse("nonsense"), None);
        assert_eq!(GroupCursor::parse("x1~a"), None);
        assert_eq!(GroupCursor::parse("rNaN~a"), None);
        assert_eq!(GroupCursor::parse("~a"), None);
    }
}
