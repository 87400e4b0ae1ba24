//! A block's document for the index: what FTS5's trigram tokenizer is given for a block of
//! spans. FTS5 hashes every trigram it is given, one met before in the document about as
//! dearly as a new one, so the document leaves out what the block repeats: a text met before
//! (the tags on every span), and within a text the stretches whose trigrams an earlier text
//! gave (a conversation's messages are again in every later model call's input).

use foldhash::HashSet;
use skein_model::trace_search::SEARCH_SEPARATOR;

/// A block's document: every trigram (three characters) of every text (between
/// `SEARCH_SEPARATOR`s) of its spans' kept texts, within one text of the document. Of a text,
/// only the runs holding a trigram that no earlier text of the block gave are written. A
/// needle within one text of a span is within one text of the document, so the document
/// holds all its trigrams. `trigrams` is scratch space, kept from block to block.
pub(super) fn block_document(texts: &[String], trigrams: &mut TrigramSet) -> String {
    trigrams.clear();
    let mut pieces: HashSet<&str> = HashSet::default();
    let mut document = String::new();
    for piece in texts.iter().flat_map(|t| t.split(SEARCH_SEPARATOR)) {
        // Shorter than a trigram: no needle of a search lies within it.
        if piece.len() < 3 || !pieces.insert(piece) {
            continue;
        }
        push_new_runs(piece, trigrams, &mut document);
    }
    document
}

/// A run of new trigrams goes on over at most this many trigrams met before: bridging them
/// gives FTS5 this many repeated trigrams, a separator two of its own.
const MAX_BRIDGED: usize = 2;

/// Appends to `document` (each run after a `SEARCH_SEPARATOR`) the runs of `piece` that hold
/// its trigrams missing from `seen`, and adds them to `seen`.
fn push_new_runs(piece: &str, seen: &mut TrigramSet, document: &mut String) {
    let mut push = |run: (usize, usize)| {
        if !document.is_empty() {
            document.push(SEARCH_SEPARATOR);
        }
        document.push_str(&piece[run.0..run.1]);
    };
    // The trigram ending at the current character, its characters 21 bits each.
    let mut key: u64 = 0;
    // Byte offsets of the last three characters' starts, by character count modulo 3.
    let mut starts = [0usize; 3];
    let mut chars = 0usize;
    let mut run: Option<(usize, usize)> = None;
    let mut repeated = 0usize;
    for (at, c) in piece.char_indices() {
        key = ((key << 21) | u64::from(c)) & TRIGRAM_BITS;
        starts[chars % 3] = at;
        chars += 1;
        if chars < 3 {
            continue;
        }
        let (start, end) = (starts[chars % 3], at + c.len_utf8());
        if !seen.insert(key) {
            repeated += 1;
            continue;
        }
        run = match run {
            Some((first, _)) if repeated <= MAX_BRIDGED => Some((first, end)),
            Some(done) => {
                push(done);
                Some((start, end))
            }
            None => Some((start, end)),
        };
        repeated = 0;
    }
    if let Some(done) = run {
        push(done);
    }
}

/// Three characters of 21 bits each.
const TRIGRAM_BITS: u64 = (1 << 63) - 1;
/// Marks a slot in use (no trigram has this bit).
const USED: u64 = 1 << 63;

/// A set of trigrams (three characters packed in a `u64`): open addressing with linear
/// probing in a power-of-two table, emptied in place for the next block. A block's documents
/// probe it for every trigram of their texts, where a general hash set cost as much as the
/// repeated trigrams it kept from FTS5 (bench/README.md, "Search index, repeated trigrams").
pub(super) struct TrigramSet {
    slots: Vec<u64>,
    len: usize,
    /// Mixed into every key (per process), so that no text can choose which trigrams collide.
    seed: u64,
}

impl Default for TrigramSet {
    fn default() -> Self {
        use std::hash::BuildHasher;
        TrigramSet {
            slots: vec![0; 4096],
            len: 0,
            seed: std::collections::hash_map::RandomState::new().hash_one(0u64) | 1,
        }
    }
}

impl TrigramSet {
    fn clear(&mut self) {
        if self.len > 0 {
            self.slots.fill(0);
            self.len = 0;
        }
    }

    fn slot(&self, key: u64) -> usize {
        let mixed = (key ^ self.seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> 32) as usize & (self.slots.len() - 1)
    }

    /// Adds `trigram`; true when it was not in the set.
    fn insert(&mut self, trigram: u64) -> bool {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let key = trigram | USED;
        let mut at = self.slot(key);
        loop {
            match self.slots[at] {
                0 => {
                    self.slots[at] = key;
                    self.len += 1;
                    return true;
                }
                held if held == key => return false,
                _ => at = (at + 1) & (self.slots.len() - 1),
            }
        }
    }

    fn grow(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        for key in old.into_iter().filter(|&k| k != 0) {
            let mut at = self.slot(key);
            while self.slots[at] != 0 {
                at = (at + 1) & (self.slots.len() - 1);
            }
            self.slots[at] = key;
        }
    }
}
