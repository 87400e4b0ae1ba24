//! A span id as the trace skeleton holds it: OTel's 16 lowercase hex digits as the 8 bytes
//! they spell (no allocation, and 16 bytes a span on wasm32 where a boxed string took 8 and
//! its ~24-byte allocation), any other text as it is. It reads and writes as its text.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpanId {
    /// 16 lowercase hex digits, as the number they spell.
    Hex(u64),
    /// Any other text (a LangSmith run's UUID, upper case, another length).
    Text(Box<str>),
}

impl Default for SpanId {
    fn default() -> SpanId {
        SpanId::Text(Box::default())
    }
}

impl SpanId {
    pub fn new(id: &str) -> SpanId {
        match parse_hex16(id.as_bytes()) {
            Some(v) => SpanId::Hex(v),
            None => SpanId::Text(id.into()),
        }
    }

    /// The id's text (16 hex digits written out on the stack for a hex id).
    pub fn text(&self) -> IdText<'_> {
        match self {
            SpanId::Hex(v) => IdText::Hex(hex16(*v)),
            SpanId::Text(s) => IdText::Text(s),
        }
    }

    /// Orders ids as their texts order.
    pub fn text_cmp(&self, other: &SpanId) -> std::cmp::Ordering {
        match (self, other) {
            (SpanId::Hex(a), SpanId::Hex(b)) => a.cmp(b),
            _ => self.text().as_bytes().cmp(other.text().as_bytes()),
        }
    }

    /// The number a 16-hex-digit id spells.
    pub fn hex(&self) -> Option<u64> {
        match self {
            SpanId::Hex(v) => Some(*v),
            SpanId::Text(_) => None,
        }
    }
}

impl From<&str> for SpanId {
    fn from(id: &str) -> SpanId {
        SpanId::new(id)
    }
}

impl From<String> for SpanId {
    fn from(id: String) -> SpanId {
        SpanId::new(&id)
    }
}

/// 16 lowercase hex digits as the number they spell; anything else is `None`.
pub fn parse_hex16(b: &[u8]) -> Option<u64> {
    if b.len() != 16 {
        return None;
    }
    b.iter().try_fold(0u64, |v, &c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        Some(v << 4 | u64::from(d))
    })
}

fn hex16(v: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for (k, c) in out.iter_mut().enumerate() {
        *c = DIGITS[((v >> (60 - 4 * k)) & 15) as usize];
    }
    out
}

/// A span id's text, read as a `str`.
pub enum IdText<'a> {
    Hex([u8; 16]),
    Text(&'a str),
}

impl Deref for IdText<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            // Hex digits are ASCII: never the empty fallback.
            IdText::Hex(digits) => std::str::from_utf8(digits).unwrap_or_default(),
            IdText::Text(s) => s,
        }
    }
}

impl fmt::Display for IdText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for IdText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq<str> for IdText<'_> {
    fn eq(&self, other: &str) -> bool {
        **self == *other
    }
}

impl PartialEq<&str> for IdText<'_> {
    fn eq(&self, other: &&str) -> bool {
        **self == **other
    }
}

impl Serialize for SpanId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for SpanId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SpanId, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(SpanId::new(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_are_numbers_and_read_back_as_their_text() {
        for id in ["00f067aa0ba902b7", "ffffffffffffffff", "0000000000000000"] {
            let parsed = SpanId::new(id);
            assert!(parsed.hex().is_some(), "{id}");
            assert_eq!(parsed.text(), id);
            assert_eq!(parsed.text().to_string(), id);
            assert_eq!(serde_json::to_string(&parsed).unwrap(), format!("\"{id}\""));
        }
        assert_eq!(
            SpanId::new("00f067aa0ba902b7").hex(),
            Some(0x00f0_67aa_0ba9_02b7)
        );
        // Anything else stays text, as given: upper case, other lengths, UUIDs, non-hex.
        for id in [
            "B7AD6B7169203331",
            "b7ad6b716920333",
            "b7ad6b71692033311",
            "1f2e3d4c-0000-4000-8000-000000000001",
            "g7ad6b7169203331",
            "",
            "søk",
        ] {
            let parsed = SpanId::new(id);
            assert_eq!(parsed, SpanId::Text(id.into()));
            assert_eq!(parsed.text(), id);
            let json = serde_json::to_string(&parsed).unwrap();
            assert_eq!(serde_json::from_str::<SpanId>(&json).unwrap(), parsed);
        }
        let back: SpanId = serde_json::from_str("\"00f067aa0ba902b7\"").unwrap();
        assert_eq!(back, SpanId::Hex(0x00f0_67aa_0ba9_02b7));
    }
}
