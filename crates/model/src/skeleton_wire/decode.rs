//! Reading the binary skeleton, whole ([`decode`]) or as its bytes arrive ([`Decoder`]).

use std::collections::BTreeMap;

use super::{bad, WireError, IDS_HEX16, IDS_TEXT, MAGIC, MAX_RESERVED, VERSION};
use crate::skeleton_id::SpanId;
use crate::trace::{SkeletonSpan, TraceSkeleton, TraceSummary};

/// Decodes a whole binary skeleton.
pub fn decode(bytes: &[u8]) -> Result<TraceSkeleton, WireError> {
    let mut decoder = Decoder::new();
    decoder.feed(bytes)?;
    decoder.finish()
}

/// Decodes a binary skeleton as its bytes arrive: each [`Decoder::feed`] decodes every frame
/// the bytes complete, so the spans of the first chunk can be drawn while the rest is on its
/// way. Bytes of an unfinished frame are kept until the rest of it comes.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Bytes of a frame not complete yet.
    pending: Vec<u8>,
    /// The magic bytes and version were read, then the header.
    started: bool,
    has_header: bool,
    done: bool,
    /// The span count the header announced.
    expected: usize,
    /// The previous span's start (starts are sent as differences).
    last_start: i64,
    skeleton: TraceSkeleton,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Takes the next bytes, in order, and decodes every frame they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        if self.pending.is_empty() {
            // Straight from the caller's bytes; only an unfinished frame's are kept.
            let used = self.frames(bytes)?;
            self.pending.extend_from_slice(&bytes[used..]);
        } else {
            let mut pending = std::mem::take(&mut self.pending);
            pending.extend_from_slice(bytes);
            let used = self.frames(&pending)?;
            pending.drain(..used);
            self.pending = pending;
        }
        Ok(())
    }

    /// The skeleton as far as it has arrived: the summary once the header has, then the
    /// spans of every whole chunk (parents may name spans still to come).
    pub fn skeleton(&self) -> &TraceSkeleton {
        &self.skeleton
    }

    /// The span count the header announced (once it has arrived).
    pub fn expected_spans(&self) -> Option<usize> {
        self.has_header.then_some(self.expected)
    }

    /// Every frame has arrived.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The whole skeleton, once every byte has been fed; an error if any is missing.
    pub fn finish(self) -> Result<TraceSkeleton, WireError> {
        if !self.done || !self.pending.is_empty() {
            return Err(bad("cut short"));
        }
        Ok(self.skeleton)
    }

    /// Decodes the whole frames at the start of `bytes`; returns how many bytes they took.
    fn frames(&mut self, bytes: &[u8]) -> Result<usize, WireError> {
        let mut at = 0;
        if !self.started {
            if bytes.len() < MAGIC.len() + 1 {
                if !MAGIC.starts_with(&bytes[..bytes.len().min(MAGIC.len())]) {
                    return Err(bad("wrong magic bytes"));
                }
                return Ok(0);
            }
            if &bytes[..MAGIC.len()] != MAGIC {
                return Err(bad("wrong magic bytes"));
            }
            let version = bytes[MAGIC.len()];
            if version != VERSION {
                return Err(WireError(format!("unknown version {version}")));
            }
            self.started = true;
            at = MAGIC.len() + 1;
        }
        while at < bytes.len() {
            if self.done {
                return Err(bad("bytes after the end"));
            }
            let Some((len, len_bytes)) = frame_length(&bytes[at..])? else {
                break;
            };
            let start = at + len_bytes;
            let Some(frame) = start.checked_add(len).and_then(|end| bytes.get(start..end)) else {
                break;
            };
            if frame.is_empty() {
                // The head sent first is not how the whole trace begins: start again.
                if !self.has_header {
                    return Err(bad("an empty frame before the header"));
                }
                self.forget();
                at = start;
                continue;
            }
            let mut r = Reader {
                bytes: frame,
                at: 0,
            };
            if self.has_header {
                self.chunk(&mut r)?;
            } else {
                self.header(&mut r)?;
            }
            if r.at != frame.len() {
                return Err(bad("bytes after a frame's end"));
            }
            at = start + len;
        }
        Ok(at)
    }

    /// Back to before the header: what was decoded is dropped.
    fn forget(&mut self) {
        self.has_header = false;
        self.expected = 0;
        self.last_start = 0;
        self.skeleton = TraceSkeleton::default();
    }

    fn header(&mut self, r: &mut Reader) -> Result<(), WireError> {
        let summary: TraceSummary =
            serde_json::from_slice(r.bytes()?).map_err(|e| WireError(format!("summary: {e}")))?;
        self.skeleton.summary = summary;
        self.skeleton.start_ns = r.i64()?;
        self.expected = usize::try_from(r.u64()?).map_err(|_| bad("span count too large"))?;
        self.skeleton
            .spans
            .reserve_exact(self.expected.min(MAX_RESERVED));
        self.has_header = true;
        Ok(())
    }

    /// One chunk of spans, or the tail.
    fn chunk(&mut self, r: &mut Reader) -> Result<(), WireError> {
        // Every span takes at least 8 bytes (a byte in each of the eight one-a-span columns).
        let k = r.count(8)?;
        if k == 0 {
            return self.tail(r);
        }
        let sk = &mut self.skeleton;
        let base = sk.spans.len();
        let n = base + k;
        if n > self.expected {
            return Err(bad("more spans than the header announced"));
        }
        let names = r.strings()?;
        sk.names.extend(names);
        let services = r.strings()?;
        sk.services.extend(services);
        let blank = |id: SpanId| SkeletonSpan(id, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0.0);
        match r.byte()? {
            IDS_HEX16 => {
                let ids = r.take(k.checked_mul(8).ok_or_else(|| bad("too many spans"))?)?;
                sk.spans.extend(ids.chunks_exact(8).map(|id| {
                    let bytes: [u8; 8] = id.try_into().unwrap_or_default();
                    blank(SpanId::Hex(u64::from_be_bytes(bytes)))
                }));
            }
            IDS_TEXT => {
                for _ in 0..k {
                    let id = r.string()?;
                    sk.spans.push(blank(SpanId::new(&id)));
                }
            }
            other => return Err(WireError(format!("unknown span id form {other}"))),
        }
        let spans = &mut sk.spans[base..];
        let expected = self.expected as i64;
        for (j, s) in spans.iter_mut().enumerate() {
            let i = (base + j) as i64;
            let back = r.i64()?;
            if back != 0 {
                s.1 = i
                    .checked_sub(back)
                    .filter(|p| (0..expected).contains(p))
                    .and_then(|p| i32::try_from(p).ok())
                    .ok_or_else(|| WireError(format!("span {i}: parent out of range")))?;
            }
        }
        for s in spans.iter_mut() {
            s.2 = r.u32()?;
        }
        for s in spans.iter_mut() {
            s.3 = r.u32()?;
        }
        for (s, &code) in spans.iter_mut().zip(r.take(k)?) {
            s.4 = code;
        }
        for (s, &code) in spans.iter_mut().zip(r.take(k)?) {
            s.7 = code;
        }
        for (s, &code) in spans.iter_mut().zip(r.take(k)?) {
            s.9 = code;
        }
        for s in spans.iter_mut() {
            self.last_start = self.last_start.wrapping_add(r.i64()?);
            s.5 = self.last_start;
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
                .filter(|&j| j < k)
                .ok_or_else(|| bad("cost of a span out of range"))?;
            let bits: [u8; 8] = r.take(8)?.try_into().map_err(|_| bad("cost"))?;
            spans[at].10 = f64::from_bits(u64::from_le_bytes(bits));
        }
        Ok(())
    }

    /// After the last chunk: the orphans.
    fn tail(&mut self, r: &mut Reader) -> Result<(), WireError> {
        let n = self.skeleton.spans.len();
        if n != self.expected {
            return Err(bad("fewer spans than the header announced"));
        }
        let mut orphans = BTreeMap::new();
        for _ in 0..r.count(2)? {
            let i = u32::try_from(r.u64()?)
                .ok()
                .filter(|&i| (i as usize) < n)
                .ok_or_else(|| bad("orphan index"))?;
            orphans.insert(i, r.string()?);
        }
        self.skeleton.orphans = orphans;
        self.done = true;
        Ok(())
    }
}

/// A frame's length and the bytes it took, or `None` when they have not all arrived.
fn frame_length(bytes: &[u8]) -> Result<Option<(usize, usize)>, WireError> {
    let mut v = 0u64;
    for (k, &b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * k);
        if b & 0x80 == 0 {
            let len = usize::try_from(v).map_err(|_| bad("frame too long"))?;
            return Ok(Some((len, k + 1)));
        }
    }
    if bytes.len() >= 10 {
        return Err(bad("a number longer than 64 bits"));
    }
    Ok(None)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

// The dashboard's build optimizes for size, which leaves these small readers as calls: the
// decode of a million spans spent a third of its time in them. Inlined, with a one-byte fast
// path (most numbers of a chunk are below 128), they cost a load and a compare each.
impl<'a> Reader<'a> {
    #[inline(always)]
    fn take(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        match self
            .at
            .checked_add(len)
            .and_then(|end| self.bytes.get(self.at..end))
        {
            Some(slice) => {
                self.at += len;
                Ok(slice)
            }
            None => Err(bad("cut short")),
        }
    }

    #[inline(always)]
    fn byte(&mut self) -> Result<u8, WireError> {
        match self.bytes.get(self.at) {
            Some(&b) => {
                self.at += 1;
                Ok(b)
            }
            None => Err(bad("cut short")),
        }
    }

    #[inline(always)]
    fn u64(&mut self) -> Result<u64, WireError> {
        match self.bytes.get(self.at) {
            Some(&b) if b < 0x80 => {
                self.at += 1;
                Ok(u64::from(b))
            }
            _ => self.u64_long(),
        }
    }

    /// A number of more than one byte (or none: the input ends).
    #[inline(never)]
    fn u64_long(&mut self) -> Result<u64, WireError> {
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

    #[inline(always)]
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

    #[inline(always)]
    fn u32(&mut self) -> Result<u32, WireError> {
        u32::try_from(self.u64()?).map_err(|_| bad("an index too large"))
    }
}
