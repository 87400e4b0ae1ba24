//! The trace skeleton in a compact binary, columnar form (`GET /api/v1/traces/{id}?format=binary`,
//! content type [`CONTENT_TYPE`]), for the dashboard: a million spans is a fraction of the
//! JSON's bytes and decodes without a parser's intermediate values, straight into a
//! [`TraceSkeleton`]. The JSON form stays the API's default.
//!
//! The spans go in display order ([`TraceSkeleton::in_display_order`]: the top of the tree
//! first) and in chunks, each whole in itself, so that a reader draws the first rows from the
//! first chunk while the rest arrives ([`Decoder`] takes the bytes as they come).
//!
//! Layout (integers are LEB128 varints, `zz` zigzag-encoded): `SKSK`, the format version (1
//! byte), then frames, each its length and its bytes:
//!
//! - the header: the summary as JSON (length, bytes: small, and its schema stays
//!   [`TraceSummary`]'s), `start_ns` (zz), the span count `n`;
//! - chunks of spans (the first [`FIRST_CHUNK`] spans, then [`CHUNK`] at a time): the chunk's
//!   span count `k` (at least 1); the names and services used for the first time in it (count,
//!   then length and bytes each: the tables grow chunk by chunk); then per column, `k` values
//!   each: span ids (a byte: 1 when every id of the chunk is 16 lowercase hex digits, sent as 8
//!   raw bytes each; 0: length and bytes each), parents (zz of `index - parent index`, 0 for
//!   none: in display order mostly a small positive number), name and service indexes, type,
//!   status and kind codes (a byte each), starts (zz of the difference from the previous span's
//!   start), durations (zz), tokens (zz); costs: how many spans of the chunk have one, then per
//!   such span the index's difference from the previous one and the cost's IEEE bits (8 bytes);
//! - the tail: 0 (no spans), then the orphans: count, then per orphan its index and the missing
//!   parent's id (length, bytes). Nothing follows it.
//!
//! A big trace's first chunk may be sent before the whole trace is read (its head, read apart:
//! [`encode_head`]). Should the whole trace not begin with it (the trace grew in between), an
//! empty frame follows it: the reader forgets what it has decoded, and a header and every
//! chunk follow again ([`Pieces::after_head`]).
//!
//! The decoder is total: truncated or malformed input is an error, never a panic, and no count
//! read from the input reserves more memory than the bytes that hold it could fill (the span
//! count of the header, checked against the chunks that follow, at most [`MAX_RESERVED`]).

use std::fmt;

use crate::skeleton_head::SkeletonHead;
use crate::trace::TraceSkeleton;

mod decode;
pub use self::decode::{decode, Decoder};

/// The binary skeleton's media type.
pub const CONTENT_TYPE: &str = "application/vnd.skein.skeleton";
/// The `format=` value that asks for it.
pub const FORMAT: &str = "binary";
/// Spans in the first chunk: a screen of rows and then some, sent (and drawn) first.
pub const FIRST_CHUNK: usize = 256;
/// Spans in each later chunk.
pub const CHUNK: usize = 65_536;
/// Most spans the header's count reserves room for at once (beyond, the spans grow as their
/// chunks arrive).
pub const MAX_RESERVED: usize = 1 << 21;

const MAGIC: &[u8; 4] = b"SKSK";
const VERSION: u8 = 3;
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

#[cold]
#[inline(never)]
fn bad(why: &str) -> WireError {
    WireError(why.to_string())
}

/// Encodes a skeleton (see the module doc for the layout) in one piece.
pub fn encode(skeleton: &TraceSkeleton) -> Vec<u8> {
    Pieces::new(skeleton.clone()).collect::<Vec<_>>().concat()
}

/// Encodes a skeleton in pieces to send one after another: the first holds the header and
/// the first chunk (the first rows), each later one a chunk, the last the tail.
pub fn encode_pieces(skeleton: &TraceSkeleton) -> Vec<Vec<u8>> {
    Pieces::new(skeleton.clone()).collect()
}

/// The first piece of a big trace's skeleton from its head alone: the header (with the span
/// count and start of the whole trace) and the head's spans as the first chunk.
pub fn encode_head(head: &SkeletonHead) -> Vec<u8> {
    let mut first = Vec::with_capacity(64 + head.skeleton.spans.len() * 24);
    first.extend_from_slice(MAGIC);
    first.push(VERSION);
    put_header(&mut first, &head.skeleton, head.total);
    if !head.skeleton.spans.is_empty() {
        let chunk = encode_chunk(&head.skeleton, 0, head.skeleton.spans.len(), &mut (0, 0));
        put_frame(&mut first, &chunk);
    }
    first
}

fn put_header(out: &mut Vec<u8>, skeleton: &TraceSkeleton, spans: usize) {
    let mut header = Vec::new();
    let summary = serde_json::to_vec(&skeleton.summary).unwrap_or_default();
    put_bytes(&mut header, &summary);
    put_i64(&mut header, skeleton.start_ns);
    put_u64(&mut header, spans as u64);
    put_frame(out, &header);
}

/// A skeleton's pieces (as [`encode_pieces`]), each encoded only when asked for: a sender
/// sends the first rows while the later chunks are still to be encoded.
pub struct Pieces {
    shown: TraceSkeleton,
    /// The header went out (with the first chunk).
    started: bool,
    /// What went out is to be forgotten: the first piece begins with an empty frame (and no
    /// magic bytes).
    restart: bool,
    /// The next span to encode; past the spans once the tail is next, `None` after it.
    from: Option<usize>,
    /// Names and services sent so far.
    tables: (usize, usize),
}

impl Pieces {
    pub fn new(skeleton: TraceSkeleton) -> Pieces {
        Pieces {
            shown: skeleton.into_display_order(),
            started: false,
            restart: false,
            from: Some(0),
            tables: (0, 0),
        }
    }

    /// The pieces that follow `head`'s ([`encode_head`]): the rest of the chunks when the
    /// whole trace begins with the head, else an empty frame and the whole skeleton again.
    pub fn after_head(skeleton: TraceSkeleton, head: &SkeletonHead) -> Pieces {
        let mut pieces = Pieces::new(skeleton);
        let (shown, h) = (&pieces.shown, &head.skeleton);
        let k = h.spans.len();
        let continues = shown.summary == h.summary
            && shown.start_ns == h.start_ns
            && shown.spans.len() == head.total
            && shown.spans.get(..k) == Some(&h.spans[..])
            && shown.names.get(..h.names.len()) == Some(&h.names[..])
            && shown.services.get(..h.services.len()) == Some(&h.services[..])
            && shown.spans[..k]
                .iter()
                .all(|s| (s.2 as usize) < h.names.len())
            && shown.spans[..k]
                .iter()
                .all(|s| (s.3 as usize) < h.services.len());
        if continues {
            pieces.started = true;
            pieces.from = Some(k);
            pieces.tables = (h.names.len(), h.services.len());
        } else {
            pieces.restart = true;
        }
        pieces
    }

    /// Whether these pieces carry on from a head (else they begin anew).
    pub fn continue_head(&self) -> bool {
        self.started && !self.restart
    }

    /// The magic bytes, the version, the header and the first chunk.
    fn first(&mut self) -> Vec<u8> {
        let shown = &self.shown;
        let mut first = Vec::with_capacity(64 + FIRST_CHUNK * 24);
        if self.restart {
            put_frame(&mut first, &[]);
        } else {
            first.extend_from_slice(MAGIC);
            first.push(VERSION);
        }
        put_header(&mut first, shown, shown.spans.len());
        let to = shown.spans.len().min(FIRST_CHUNK);
        if to > 0 {
            put_frame(&mut first, &encode_chunk(shown, 0, to, &mut self.tables));
        }
        self.started = true;
        self.from = Some(to);
        first
    }

    /// The orphans, after the spans.
    fn tail(&self) -> Vec<u8> {
        let mut tail = Vec::new();
        put_u64(&mut tail, 0);
        put_u64(&mut tail, self.shown.orphans.len() as u64);
        for (&i, id) in &self.shown.orphans {
            put_u64(&mut tail, u64::from(i));
            put_bytes(&mut tail, id.as_bytes());
        }
        let mut last = Vec::with_capacity(tail.len() + 5);
        put_frame(&mut last, &tail);
        last
    }
}

impl Iterator for Pieces {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let from = self.from?;
        let n = self.shown.spans.len();
        if !self.started {
            return Some(self.first());
        }
        if from >= n {
            self.from = None;
            return Some(self.tail());
        }
        let to = n.min(from + CHUNK);
        let chunk = encode_chunk(&self.shown, from, to, &mut self.tables);
        let mut piece = Vec::with_capacity(chunk.len() + 5);
        put_frame(&mut piece, &chunk);
        self.from = Some(to);
        Some(piece)
    }
}

/// Spans `from..to` of a skeleton in display order (names and services in order of first
/// use); `sent` counts the names and services sent before.
fn encode_chunk(sk: &TraceSkeleton, from: usize, to: usize, sent: &mut (usize, usize)) -> Vec<u8> {
    let spans = &sk.spans[from..to];
    let mut out = Vec::with_capacity(16 + spans.len() * 24);
    put_u64(&mut out, spans.len() as u64);
    // In order of first use, a chunk's new names are the ones past all those used before it.
    for (table, sent, column) in [
        (&sk.names, &mut sent.0, spans.iter().map(|s| s.2).max()),
        (&sk.services, &mut sent.1, spans.iter().map(|s| s.3).max()),
    ] {
        let used = column
            .map_or(0, |m| (m as usize).saturating_add(1).min(table.len()))
            .max(*sent);
        put_u64(&mut out, (used - *sent) as u64);
        for s in &table[*sent..used] {
            put_bytes(&mut out, s.as_bytes());
        }
        *sent = used;
    }
    if spans.iter().all(|s| s.0.hex().is_some()) {
        out.push(IDS_HEX16);
        for s in spans {
            out.extend_from_slice(&s.0.hex().unwrap_or_default().to_be_bytes());
        }
    } else {
        out.push(IDS_TEXT);
        for s in spans {
            put_bytes(&mut out, s.span_id().as_bytes());
        }
    }
    for (k, s) in spans.iter().enumerate() {
        let i = (from + k) as i64;
        let parent = s.parent().map(|p| p as i64).filter(|&p| p != i);
        put_i64(&mut out, parent.map_or(0, |p| i - p));
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
    let mut previous = if from == 0 { 0 } else { sk.spans[from - 1].5 };
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
        .map(|(k, s)| (k, s.10))
        .collect();
    put_u64(&mut out, costs.len() as u64);
    let mut previous = 0;
    for (k, cost) in costs {
        put_u64(&mut out, (k - previous) as u64);
        previous = k;
        out.extend_from_slice(&cost.to_bits().to_le_bytes());
    }
    out
}

fn put_frame(out: &mut Vec<u8>, frame: &[u8]) {
    put_bytes(out, frame);
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

#[cfg(test)]
mod tests;
