//! The trigram index's own format, pure: a block's distinct byte trigrams (`GramSet`), a
//! needle's (`needle_grams`), a chunk's postings as pages of delta-varint block lists
//! (`encode_pages`, `postings_in`), and the intersection of a needle's lists (`intersect`).
//!
//! A trigram is three consecutive bytes of one text (never across `SEARCH_SEPARATOR`) as an
//! integer. Bytes rather than characters: a needle is within a text exactly when its UTF-8
//! bytes are, so every byte trigram of a match is in its block.

use skein_model::trace_search::SEARCH_SEPARATOR;

/// Three bytes, big-endian, in the low 24 bits.
pub(super) type Gram = u32;

/// Bits a block index takes in a (trigram, block) pair: `pair = gram << BLOCK_BITS | index`.
pub(super) const BLOCK_BITS: u32 = 40;

/// A page of postings is closed once it holds this many bytes: a search decodes one page a
/// trigram and chunk, a writer inserts one row a page.
pub(super) const PAGE_BYTES: usize = 4_000;

/// A page of postings that does not decode (the file is damaged).
#[derive(Debug, thiserror::Error)]
#[error("a page of the search index is damaged")]
pub(super) struct DamagedPage;

/// The distinct trigrams of a block's texts: a bit per possible trigram (2 MiB, kept across
/// blocks) and the list of those set, cleared as they are taken. No allocation a trigram.
pub(super) struct GramSet {
    bits: Vec<u64>,
    found: Vec<Gram>,
}

impl Default for GramSet {
    fn default() -> Self {
        GramSet {
            bits: vec![0; 1 << 18],
            found: Vec::new(),
        }
    }
}

impl GramSet {
    /// Adds the trigrams of `text` (texts joined by `SEARCH_SEPARATOR`).
    pub(super) fn add(&mut self, text: &str) {
        for piece in text.split(SEARCH_SEPARATOR) {
            for w in piece.as_bytes().windows(3) {
                let g = gram(w);
                let (word, bit) = ((g >> 6) as usize, 1u64 << (g & 63));
                if self.bits[word] & bit == 0 {
                    self.bits[word] |= bit;
                    self.found.push(g);
                }
            }
        }
    }

    /// Each trigram added since the last call, once, given to `take`; the set is empty after.
    pub(super) fn drain(&mut self, mut take: impl FnMut(Gram)) {
        for &g in &self.found {
            self.bits[(g >> 6) as usize] &= !(1u64 << (g & 63));
            take(g);
        }
        self.found.clear();
    }
}

fn gram(w: &[u8]) -> Gram {
    (w[0] as u32) << 16 | (w[1] as u32) << 8 | w[2] as u32
}

/// The distinct trigrams of `needle` that lie within one text, sorted; at most `max` of them
/// (every n-th: the candidates are checked anyway). None when it has none (shorter than three
/// bytes, or every three bytes span a separator).
pub(super) fn needle_grams(needle: &str, max: usize) -> Option<Vec<Gram>> {
    let mut grams: Vec<Gram> = needle
        .split(SEARCH_SEPARATOR)
        .flat_map(|piece| piece.as_bytes().windows(3).map(gram))
        .collect();
    grams.sort_unstable();
    grams.dedup();
    if grams.is_empty() {
        return None;
    }
    let step = grams.len().div_ceil(max.max(1));
    Some(grams.into_iter().step_by(step.max(1)).collect())
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint(bytes: &[u8], at: &mut usize) -> Result<u64, DamagedPage> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at).ok_or(DamagedPage)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(DamagedPage)
}

/// `pairs` (sorted `gram << BLOCK_BITS | index into blocks`, `blocks` ascending) as pages,
/// each with its first trigram: entries of (trigram − the previous one's, byte length of the
/// list, the blocks: the first as it is, then each one's difference to the one before).
pub(super) fn encode_pages(pairs: &[u64], blocks: &[i64]) -> Vec<(Gram, Vec<u8>)> {
    let mut pages = Vec::new();
    let mut page: Vec<u8> = Vec::new();
    let (mut first, mut prev) = (0, 0);
    let mut list = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let g = (pairs[i] >> BLOCK_BITS) as Gram;
        list.clear();
        let mut last = None;
        while i < pairs.len() && (pairs[i] >> BLOCK_BITS) as Gram == g {
            let block = blocks[(pairs[i] & ((1 << BLOCK_BITS) - 1)) as usize];
            put_varint(&mut list, (block - last.unwrap_or(0)) as u64);
            last = Some(block);
            i += 1;
        }
        if page.is_empty() {
            (first, prev) = (g, g);
        }
        put_varint(&mut page, u64::from(g - prev));
        put_varint(&mut page, list.len() as u64);
        page.extend_from_slice(&list);
        prev = g;
        if page.len() >= PAGE_BYTES {
            pages.push((first, std::mem::take(&mut page)));
        }
    }
    if !page.is_empty() {
        pages.push((first, page));
    }
    pages
}

/// The blocks holding `want` in the page whose first trigram is `first`, appended to `out`
/// (nothing when the page does not list it).
pub(super) fn postings_in(
    page: &[u8],
    first: Gram,
    want: Gram,
    out: &mut Vec<i64>,
) -> Result<(), DamagedPage> {
    let (mut at, mut g) = (0, first);
    while at < page.len() {
        g = g
            .checked_add(u32::try_from(varint(page, &mut at)?).map_err(|_| DamagedPage)?)
            .ok_or(DamagedPage)?;
        let len = usize::try_from(varint(page, &mut at)?).map_err(|_| DamagedPage)?;
        let end = at
            .checked_add(len)
            .filter(|&e| e <= page.len())
            .ok_or(DamagedPage)?;
        if g == want {
            let mut block = 0i64;
            while at < end {
                block = block.wrapping_add(varint(page, &mut at)? as i64);
                out.push(block);
            }
            return Ok(());
        }
        if g > want {
            return Ok(());
        }
        at = end;
    }
    Ok(())
}

/// The blocks in every one of `lists` (each ascending), ascending: from the shortest list,
/// each block looked up in the others.
pub(super) fn intersect(mut lists: Vec<Vec<i64>>) -> Vec<i64> {
    lists.sort_by_key(Vec::len);
    let mut lists = lists.into_iter();
    let Some(mut kept) = lists.next() else {
        return Vec::new();
    };
    for other in lists {
        if kept.is_empty() {
            break;
        }
        kept.retain(|b| other.binary_search(b).is_ok());
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs_of(grams_by_block: &[(i64, &[Gram])]) -> (Vec<u64>, Vec<i64>) {
        let blocks: Vec<i64> = grams_by_block.iter().map(|(b, _)| *b).collect();
        let mut pairs: Vec<u64> = grams_by_block
            .iter()
            .enumerate()
            .flat_map(|(i, (_, gs))| {
                gs.iter()
                    .map(move |&g| u64::from(g) << BLOCK_BITS | i as u64)
            })
            .collect();
        pairs.sort_unstable();
        (pairs, blocks)
    }

    /// Every trigram's blocks, read back from the page that holds it.
    fn read(pages: &[(Gram, Vec<u8>)], want: Gram) -> Vec<i64> {
        let i = pages.partition_point(|(first, _)| *first <= want);
        let mut out = Vec::new();
        if i > 0 {
            postings_in(&pages[i - 1].1, pages[i - 1].0, want, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn postings_read_back_as_written_over_many_pages() {
        // 3,000 trigrams over 300 blocks far apart: many pages, long and short lists.
        let grams: Vec<Vec<Gram>> = (0..300u32)
            .map(|b| {
                (0..3_000u32)
                    .filter(|g| g % (b % 7 + 1) == 0)
                    .map(|g| g * 5_000)
                    .collect()
            })
            .collect();
        let by_block: Vec<(i64, &[Gram])> = grams
            .iter()
            .enumerate()
            .map(|(b, gs)| (b as i64 * 100_003 + 7, gs.as_slice()))
            .collect();
        let (pairs, blocks) = pairs_of(&by_block);
        let pages = encode_pages(&pairs, &blocks);
        assert!(pages.len() > 10, "{}", pages.len());
        assert!(pages.windows(2).all(|w| w[0].0 < w[1].0));
        for g in [0u32, 5_000, 7 * 5_000, 2_999 * 5_000] {
            let want: Vec<i64> = by_block
                .iter()
                .filter(|(_, gs)| gs.contains(&g))
                .map(|(b, _)| *b)
                .collect();
            assert_eq!(read(&pages, g), want, "{g}");
        }
        // Trigrams in no block: nothing, between, before and after the listed ones.
        for g in [1, 4_999, 3_000 * 5_000, 0xff_ffff] {
            assert_eq!(read(&pages, g), Vec::<i64>::new(), "{g}");
        }
    }

    #[test]
    fn a_damaged_page_is_an_error_not_a_panic() {
        let (pairs, blocks) = pairs_of(&[(1, &[10, 20]), (2, &[20])]);
        let page = encode_pages(&pairs, &blocks).remove(0).1;
        for cut in 1..page.len() {
            let mut out = Vec::new();
            // A cut page either lists less or says it is damaged.
            let _ = postings_in(&page[..cut], 10, 20, &mut out);
        }
        let mut out = Vec::new();
        assert!(postings_in(&[0x00, 0x05, 0x01], 10, 10, &mut out).is_err());
        assert!(postings_in(&[0xff; 11], 10, 10, &mut out).is_err());
    }

    #[test]
    fn lists_intersect_from_the_shortest() {
        assert_eq!(
            intersect(vec![
                vec![1, 2, 3, 5, 8, 13],
                vec![2, 3, 5, 7],
                vec![3, 5, 9]
            ]),
            vec![3, 5]
        );
        assert_eq!(intersect(vec![vec![1, 2], vec![]]), Vec::<i64>::new());
        assert_eq!(intersect(vec![vec![4, 6]]), vec![4, 6]);
        assert_eq!(intersect(Vec::new()), Vec::<i64>::new());
    }

    #[test]
    fn trigrams_are_bytes_within_one_text_each_once() {
        let mut set = GramSet::default();
        set.add("abcab\u{1f}xyz");
        set.add("abc");
        let mut got = Vec::new();
        set.drain(|g| got.push(g));
        got.sort_unstable();
        let want: Vec<Gram> = [b"abc", b"bca", b"cab", b"xyz"]
            .iter()
            .map(|w| gram(*w))
            .collect();
        assert_eq!(got, want);
        // Drained: the next block starts empty.
        set.add("ab");
        set.drain(|g| got.push(g));
        assert_eq!(got.len(), 4);

        assert_eq!(needle_grams("ab", 24), None);
        assert_eq!(needle_grams("d\u{1f}h", 24), None);
        assert_eq!(needle_grams("kyoto", 24).map(|g| g.len()), Some(3));
        // Non-ASCII: its bytes, so two characters give trigrams.
        assert_eq!(needle_grams("京都", 24).map(|g| g.len()), Some(4));
        let capped = needle_grams(&"abcdefghijklmnopqrstuvwxyz".repeat(2), 8).unwrap();
        assert!((4..=8).contains(&capped.len()), "{capped:?}");
    }
}
