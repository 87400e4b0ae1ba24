//! The ingest benchmark's requests, made cheaply enough to send while the collector works on
//! the same cores: a pool of encoded requests of demo traces is made once, then sent again
//! and again, each round with its trace and span ids (and session ids) rewritten in the
//! encoded bytes, so every round's traces are new to the collector.

use skein_model::random::SplitMix;

/// One encoded request and where its ids are in it.
pub(crate) struct Template {
    pub body: Vec<u8>,
    pub spans: usize,
    pub traces: usize,
    /// Offsets of every span's 16-byte trace id.
    trace_ids: Vec<usize>,
    /// Offsets of every 8-byte span id and parent span id.
    span_ids: Vec<usize>,
    /// Offsets of the 8 hex digits that end every `session.id` value.
    sessions: Vec<usize>,
}

/// The bytes a round XORs into trace and span ids, and writes into session ids.
pub(crate) struct Round {
    trace: [u8; 16],
    span: [u8; 8],
    session: [u8; 8],
}

impl Round {
    /// Round 0 leaves the pool as it was made; every other round has keys of its own.
    pub fn new(seed: u64, round: u64) -> Round {
        let mut rng = SplitMix::new(seed ^ round.rotate_left(17));
        let mut trace = [0u8; 16];
        let mut span = [0u8; 8];
        if round > 0 {
            trace[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
            trace[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
            span.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        let mut session = [0u8; 8];
        session.copy_from_slice(format!("{:08x}", round as u32).as_bytes());
        Round {
            trace,
            span,
            session,
        }
    }

    pub fn trace_id(&self, id: [u8; 16]) -> [u8; 16] {
        std::array::from_fn(|i| id[i] ^ self.trace[i])
    }

    pub fn span_id(&self, id: [u8; 8]) -> [u8; 8] {
        std::array::from_fn(|i| id[i] ^ self.span[i])
    }

    /// A template's request as this round sends it.
    pub fn body(&self, t: &Template) -> Vec<u8> {
        let mut body = t.body.clone();
        for &o in &t.trace_ids {
            for (b, k) in body[o..o + 16].iter_mut().zip(self.trace) {
                *b ^= k;
            }
        }
        for &o in &t.span_ids {
            for (b, k) in body[o..o + 8].iter_mut().zip(self.span) {
                *b ^= k;
            }
        }
        for &o in &t.sessions {
            body[o..o + 8].copy_from_slice(&self.session);
        }
        body
    }
}

impl Template {
    /// Finds the ids in an encoded `ExportTraceServiceRequest` whose session ids end with 8
    /// hex digits (the round's number goes there).
    pub fn new(body: Vec<u8>, traces: usize) -> Template {
        let mut t = Template {
            spans: 0,
            traces,
            trace_ids: Vec::new(),
            span_ids: Vec::new(),
            sessions: Vec::new(),
            body: Vec::new(),
        };
        // ExportTraceServiceRequest.resource_spans = 1 > ResourceSpans.scope_spans = 2 >
        // ScopeSpans.spans = 2 > Span: trace_id 1, span_id 2, parent_span_id 4, attributes 9
        // > KeyValue: key 1, value 2 > AnyValue.string_value 1.
        for (_, r) in fields(&body, 0..body.len()).filter(|(f, _)| *f == 1) {
            for (_, s) in fields(&body, r).filter(|(f, _)| *f == 2) {
                for (_, span) in fields(&body, s).filter(|(f, _)| *f == 2) {
                    t.spans += 1;
                    for (f, v) in fields(&body, span) {
                        match (f, v.len()) {
                            (1, 16) => t.trace_ids.push(v.start),
                            (2 | 4, 8) => t.span_ids.push(v.start),
                            (9, _) => t.find_session(&body, v),
                            _ => {}
                        }
                    }
                }
            }
        }
        t.body = body;
        t
    }

    fn find_session(&mut self, body: &[u8], attribute: std::ops::Range<usize>) {
        let mut key = false;
        for (f, v) in fields(body, attribute) {
            match f {
                1 => key = &body[v] == b"session.id",
                2 if key => {
                    for (_, s) in fields(body, v).filter(|(f, _)| *f == 1) {
                        if s.len() >= 8 {
                            self.sessions.push(s.end - 8);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// The length-delimited fields (number, payload range) of the message in `range`; other wire
/// types are skipped. Stops at anything malformed (the input is our own encoding).
fn fields(
    body: &[u8],
    range: std::ops::Range<usize>,
) -> impl Iterator<Item = (u64, std::ops::Range<usize>)> + '_ {
    let mut i = range.start;
    let end = range.end;
    std::iter::from_fn(move || loop {
        if i >= end {
            return None;
        }
        let tag = varint(body, &mut i)?;
        match tag & 7 {
            0 => {
                varint(body, &mut i)?;
            }
            1 => i += 8,
            5 => i += 4,
            2 => {
                let len = varint(body, &mut i)? as usize;
                let start = i;
                i += len;
                if i > end {
                    return None;
                }
                return Some((tag >> 3, start..i));
            }
            _ => return None,
        }
    })
}

fn varint(body: &[u8], i: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *body.get(*i)?;
        *i += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}
