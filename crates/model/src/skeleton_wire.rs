//! The trace skeleton in a compact binary, columnar form (`GET /api/v1/traces/{id}?format=binary`,
//! content type [`CONTENT_TYPE`]), for the dashboard: a million spans is a fraction of the
//! JSON's bytes and decodes without a parser's intermediate values, straight into a
//! [`TraceSkeleton`] with its vectors sized once. The JSON form stays the API's default.
//!
//! Layout (integers are LEB128 varints, `zz` zigzag-encoded; one column after another):
//!
//! - `SKSK`, format version (1 byte);
//! - the summary as JSON (length, bytes): small, and its schema stays [`TraceSummary`]'s;
//! - `start_ns` (zz), then the names and the services (count, then length and bytes each);
//! - the span count `n`, then per column, `n` values each:
//!   span ids (a byte: 1 when every id is 16 lowercase hex digits, sent as 8 raw bytes each;
//!   0: length and bytes each), parents (`parent index + 1`, 0 for none, as zz of the difference
//!   from the previous span's: siblings come together, so these are small), name and
//!   service indexes, type, status and kind codes (a byte each), starts (zz of the difference
//!   from the previous span's start: spans are in start order, so these are small), durations
//!   (zz), tokens (zz);
//! - costs: how many spans have one, then per such span the index's difference from the
//!   previous one and the cost's IEEE bits (8 bytes);
//! - orphans: count, then per orphan its index and the missing parent's id (length, bytes).
//!
//! The decoder is total: truncated or malformed input is an error, never a panic, and no count
//! read from the input reserves more memory than the remaining bytes could fill.

use std::collections::BTreeMap;
use std::fmt;

use crate::trace::{SkeletonSpan, TraceSkeleton, TraceSummary};

/// The binary skeleton's media type.
pub const CONTENT_TYPE: &str = "application/vnd.skein.skeleton";
/// The `format=` value that asks for it.
pub const FORMAT: &str = "binary";

const MAGIC: &[u8; 4] = b"SKSK";
const VERSION: u8 = 1;
const IDS_TEXT: u8 = 0;
const IDS_HEX16: u8 = 1;

/// Why bytes are not a binary skeleton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a binary trace skeleton: {}", self.0)
    }
}

impl std::error::Error for WireError {}

fn bad(why: &str) -> WireError {
    WireError(why.to_string())
}

/// Encodes a skeleton (see the module doc for the layout).
pub fn encode(skeleton: &TraceSkeleton) -> Vec<u8> {
    let spans = &skeleton.spans;
    let mut out = Vec::with_capacity(64 + spans.len() * 20);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    let summary = serde_json::to_vec(&skeleton.summary).unwrap_or_default();
    put_bytes(&mut out, &summary);
    put_i64(&mut out, skeleton.start_ns);
    for table in [&skeleton.names, &skeleton.services] {
        put_u64(&mut out, table.len() as u64);
        for s in table {
            put_bytes(&mut out, s.as_bytes());
        }
    }
    put_u64(&mut out, spans.len() as u64);
    if spans.iter().all(|s| hex16(s.span_id()).is_some()) {
        out.push(IDS_HEX16);
        for s in spans {
            out.extend_from_slice(&hex16(s.span_id()).unwrap_or_default());
        }
    } else {
        out.push(IDS_TEXT);
        for s in spans {
            put_bytes(&mut out, s.span_id().as_bytes());
        }
    }
    let mut previous = 0i64;
    for (i, s) in spans.iter().enumerate() {
        let parent = s.parent().filter(|&p| p != i).map_or(0, |p| p as i64 + 1);
        put_i64(&mut out, parent - previous);
        previous = parent;
    }
    for s in spans {
        put_u64(&mut out, u64::from(s.2));
    }
    for s in spans {
        put_u64(&mut out, u64::from(s.3));
    }
    out.extend(spans.iter().map(|s| s.4));
    out.extend(spans.iter().map(|s| s.7));
    out.extend(spans.iter().map(|s| s.9));
    let mut previous = 0;
    for s in spans {
        put_i64(&mut out, s.5.wrapping_sub(previous));
        previous = s.5;
    }
    for s in spans {
        put_i64(&mut out, s.6);
    }
    for s in spans {
        put_i64(&mut out, s.8);
    }
    let costs: Vec<(usize, f64)> = spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.10 != 0.0)
        .map(|(i, s)| (i, s.10))
        .collect();
    put_u64(&mut out, costs.len() as u64);
    let mut previous = 0;
    for (i, cost) in costs {
        put_u64(&mut out, (i - previous) as u64);
        previous = i;
        out.extend_from_slice(&cost.to_bits().to_le_bytes());
    }
    put_u64(&mut out, skeleton.orphans.len() as u64);
    for (&i, id) in &skeleton.orphans {
        put_u64(&mut out, u64::from(i));
        put_bytes(&mut out, id.as_bytes());
    }
    out
}

/// Decodes what [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Result<TraceSkeleton, WireError> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != MAGIC {
        return Err(bad("wrong magic bytes"));
    }
    let version = r.byte()?;
    if version != VERSION {
        return Err(WireError(format!("unknown version {version}")));
    }
    let summary: TraceSummary =
        serde_json::from_slice(r.bytes()?).map_err(|e| WireError(format!("summary: {e}")))?;
    let start_ns = r.i64()?;
    let names = r.strings()?;
    let services = r.strings()?;
    // Every span takes at least 8 bytes (a byte in each of the eight one-a-span columns).
    let n = r.count(8)?;
    // The spans are made with their ids, then each column is written into them in turn: no
    // column is held on its own besides the input.
    let blank = |id: Box<str>| SkeletonSpan(id, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0.0);
    let mut spans: Vec<SkeletonSpan> = match r.byte()? {
        IDS_HEX16 => r
            .take(n.checked_mul(8).ok_or_else(|| bad("too many spans"))?)?
            .chunks_exact(8)
            .map(|id| blank(hex_of(id).into()))
            .collect(),
        IDS_TEXT => (0..n)
            .map(|_| r.string().map(|id| blank(id.into())))
            .collect::<Result<_, _>>()?,
        other => return Err(WireError(format!("unknown span id form {other}"))),
    };
    let mut parent = 0i64;
    for (i, s) in spans.iter_mut().enumerate() {
        parent = parent.wrapping_add(r.i64()?);
        if parent != 0 {
            s.1 = i32::try_from(parent - 1)
                .ok()
                .filter(|&p| p as usize != i && (0..n as i64).contains(&i64::from(p)))
                .ok_or_else(|| WireError(format!("span {i}: parent out of range")))?;
        }
    }
    for s in spans.iter_mut() {
        s.2 = r.u32()?;
    }
    for s in spans.iter_mut() {
        s.3 = r.u32()?;
    }
    for (s, &code) in spans.iter_mut().zip(r.take(n)?) {
        s.4 = code;
    }
    for (s, &code) in spans.iter_mut().zip(r.take(n)?) {
        s.7 = code;
    }
    for (s, &code) in spans.iter_mut().zip(r.take(n)?) {
        s.9 = code;
    }
    let mut start = 0i64;
    for s in spans.iter_mut() {
        start = start.wrapping_add(r.i64()?);
        s.5 = start;
    }
    for s in spans.iter_mut() {
        s.6 = r.i64()?;
    }
    for s in spans.iter_mut() {
        s.8 = r.i64()?;
    }
    let mut at = 0usize;
    for _ in 0..r.count(9)? {
        at = at
            .checked_add(r.u64()? as usize)
            .filter(|&i| i < n)
            .ok_or_else(|| bad("cost of a span out of range"))?;
        let bits: [u8; 8] = r.take(8)?.try_into().map_err(|_| bad("cost"))?;
        spans[at].10 = f64::from_bits(u64::from_le_bytes(bits));
    }
    let mut orphans = BTreeMap::new();
    for _ in 0..r.count(2)? {
        let i = u32::try_from(r.u64()?).map_err(|_| bad("orphan index"))?;
        orphans.insert(i, r.string()?);
    }
    if r.at != bytes.len() {
        return Err(bad("bytes after the end"));
    }
    Ok(TraceSkeleton {
        summary,
        start_ns,
        names,
        services,
        spans,
        orphans,
    })
}

/// A 16-digit lowercase hex id as its 8 bytes.
fn hex16(id: &str) -> Option<[u8; 8]> {
    let b = id.as_bytes();
    if b.len() != 16 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 8];
    for (k, pair) in b.chunks_exact(2).enumerate() {
        out[k] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

fn hex_of(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_i64(out: &mut Vec<u8>, v: i64) {
    put_u64(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u64(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| bad("cut short"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("a number longer than 64 bits"))
    }

    fn i64(&mut self) -> Result<i64, WireError> {
        let v = self.u64()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// A count of items taking at least `min_bytes` each: never more than the rest could hold.
    fn count(&mut self, min_bytes: usize) -> Result<usize, WireError> {
        let n = usize::try_from(self.u64()?).map_err(|_| bad("count too large"))?;
        if n > (self.bytes.len() - self.at) / min_bytes.max(1) {
            return Err(bad("a count larger than the bytes that follow"));
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.count(1)?;
        self.take(len)
    }

    fn string(&mut self) -> Result<String, WireError> {
        let bytes = self.bytes()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| bad("text that is not UTF-8"))
    }

    fn strings(&mut self) -> Result<Vec<String>, WireError> {
        let n = self.count(1)?;
        (0..n).map(|_| self.string()).collect()
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        u32::try_from(self.u64()?).map_err(|_| bad("an index too large"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::{SpanKind, SpanStatus, SpanType};
    use crate::trace::SkeletonSpanInput;

    fn input<'a>(
        id: &'a str,
        parent: Option<&'a str>,
        name: &'a str,
        service: &'a str,
        start_ns: i64,
        end_ns: i64,
    ) -> SkeletonSpanInput<'a> {
        SkeletonSpanInput {
            span_id: id,
            parent_span_id: parent,
            name,
            service,
            span_type: SpanType::Llm,
            start_ns,
            end_ns,
            status: SpanStatus::Error,
            tokens: 1234,
            kind: SpanKind::Client,
            cost: 0.0,
        }
    }

    fn sample(ids: [&str; 5]) -> TraceSkeleton {
        let summary = TraceSummary {
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            root_name: "research_run".into(),
            has_root: true,
            span_count: 4,
            services: vec!["planner".into(), "search".into()],
            ..TraceSummary::default()
        };
        let mut inputs = vec![
            input(
                ids[0],
                None,
                "research_run",
                "planner",
                1_000_000_000,
                9_000_000_000,
            ),
            input(
                ids[1],
                Some(ids[0]),
                "plan_step",
                "planner",
                1_500_000_000,
                2_000_000_000,
            ),
            // Starts before its parent (another service's clock): its parent's index is larger.
            input(
                ids[2],
                Some(ids[3]),
                "fetch_page",
                "search",
                1_200_000_000,
                1_300_000_000,
            ),
            input(
                ids[3],
                Some(ids[0]),
                "search_documents",
                "search",
                1_400_000_000,
                3_000_000_000,
            ),
            input(
                ids[4],
                Some("never-arrived"),
                "fetch_page",
                "søk — ünïcode",
                500,
                2_000,
            ),
        ];
        inputs[1].cost = 0.0042;
        inputs[3].tokens = 0;
        inputs[3].kind = SpanKind::Server;
        inputs[4].tokens = -5;
        TraceSkeleton::build(summary, inputs)
    }

    #[test]
    fn a_skeleton_comes_back_as_it_was_sent() {
        let hex = sample([
            "00f067aa0ba902b7",
            "b7ad6b7169203331",
            "0000000000000001",
            "ffffffffffffffff",
            "0123456789abcdef",
        ]);
        assert_eq!(decode(&encode(&hex)), Ok(hex.clone()));
        // Ids of any other shape (here a LangSmith-style UUID and upper case) as text.
        let text = sample([
            "1f2e3d4c-0000-4000-8000-000000000001",
            "B7AD6B7169203331",
            "x",
            "",
            "0123456789abcdef",
        ]);
        assert_eq!(decode(&encode(&text)), Ok(text.clone()));
        assert!(encode(&text).len() > encode(&hex).len());
        // Parent out of order, cost, orphan and negative tokens survive.
        let back = decode(&encode(&hex)).unwrap();
        assert_eq!(
            back.orphans.get(&0).map(String::as_str),
            Some("never-arrived")
        );
        assert!(back.spans.iter().any(|s| s.cost() == 0.0042));
        assert!(back
            .spans
            .iter()
            .enumerate()
            .any(|(i, s)| s.parent().is_some_and(|p| p > i)));
        let empty = TraceSkeleton::default();
        assert_eq!(decode(&encode(&empty)), Ok(empty));
    }

    #[test]
    fn a_big_skeleton_is_a_fraction_of_its_json() {
        let ids: Vec<String> = (1..=10_000u64)
            .map(|i| format!("{:016x}", i * 7919))
            .collect();
        let inputs: Vec<SkeletonSpanInput> = (0..ids.len())
            .map(|i| {
                let parent = (i > 0).then(|| ids[(i - 1) / 10].as_str());
                let start = 1_700_000_000_000_000_000 + i as i64 * 1_000;
                input(&ids[i], parent, "step", "svc", start, start + 50_000)
            })
            .collect();
        let sk = TraceSkeleton::build(TraceSummary::default(), inputs);
        let binary = encode(&sk);
        let json = serde_json::to_vec(&sk).unwrap();
        assert!(
            binary.len() * 2 < json.len(),
            "{} vs {}",
            binary.len(),
            json.len()
        );
        assert_eq!(decode(&binary), Ok(sk));
    }

    #[test]
    fn damaged_input_is_an_error_not_a_panic() {
        let bytes = encode(&sample([
            "00f067aa0ba902b7",
            "b7ad6b7169203331",
            "0000000000000001",
            "ffffffffffffffff",
            "0123456789abcdef",
        ]));
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_err(), "cut at {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        assert!(decode(b"{\"summary\":{}}").is_err());
        // Every single byte changed: an error or some skeleton, never a panic.
        for at in 0..bytes.len() {
            for v in [0u8, 0x7f, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[at] = v;
                let _ = decode(&b);
            }
        }
        // A huge span count does not reserve memory for it: the empty skeleton's ends with
        // the count, the id form, and the cost and orphan counts.
        let empty = encode(&TraceSkeleton::default());
        let mut huge = empty[..empty.len() - 4].to_vec();
        put_u64(&mut huge, u64::MAX >> 1);
        huge.extend_from_slice(&[IDS_HEX16, 0, 0]);
        assert_eq!(
            decode(&huge),
            Err(bad("a count larger than the bytes that follow"))
        );
    }
}
