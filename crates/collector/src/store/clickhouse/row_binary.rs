//! Reading answers in ClickHouse's RowBinary format (`Client::binary`): each row's columns in
//! the order the query selects them, strings and arrays prefixed by their length as a LEB128
//! varint, numbers little-endian. For reads of many rows (a 100k-span skeleton, a metric's
//! values), where formatting JSON on the server and parsing it here cost more than the read.

use crate::store::{StoreError, StoreResult};

/// A cursor over a RowBinary answer; the caller reads each row's columns by their types.
pub(super) struct RowBinary<'a> {
    bytes: &'a [u8],
    at: usize,
}

fn truncated() -> StoreError {
    StoreError::Internal("ClickHouse answered a truncated RowBinary row".into())
}

impl<'a> RowBinary<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> RowBinary<'a> {
        RowBinary { bytes, at: 0 }
    }

    /// Whether every row has been read.
    pub(super) fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> StoreResult<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or_else(truncated)?;
        let taken = self.bytes.get(self.at..end).ok_or_else(truncated)?;
        self.at = end;
        Ok(taken)
    }

    fn fixed<const N: usize>(&mut self) -> StoreResult<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(super) fn u8(&mut self) -> StoreResult<u8> {
        Ok(self.fixed::<1>()?[0])
    }

    pub(super) fn u64(&mut self) -> StoreResult<u64> {
        Ok(u64::from_le_bytes(self.fixed()?))
    }

    pub(super) fn i64(&mut self) -> StoreResult<i64> {
        Ok(i64::from_le_bytes(self.fixed()?))
    }

    pub(super) fn f64(&mut self) -> StoreResult<f64> {
        Ok(f64::from_le_bytes(self.fixed()?))
    }

    /// A length (of a string or an array).
    fn varint(&mut self) -> StoreResult<usize> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                // No answer holds more than memory does: a larger length is truncated anyway.
                return usize::try_from(value).map_err(|_| truncated());
            }
        }
        Err(truncated())
    }

    /// A `String` column's value (stored from Rust strings, so UTF-8; anything else is read
    /// with replacement characters rather than refused).
    pub(super) fn string(&mut self) -> StoreResult<String> {
        let n = self.varint()?;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    /// An `Array(String)` column's value.
    pub(super) fn strings(&mut self) -> StoreResult<Vec<String>> {
        let n = self.varint()?;
        // Each element takes at least its length's byte: a corrupt count cannot allocate more
        // than the answer's size.
        let mut out = Vec::with_capacity(n.min(self.bytes.len() - self.at.min(self.bytes.len())));
        for _ in 0..n {
            out.push(self.string()?);
        }
        Ok(out)
    }

    /// An `Array(Int64)` column's value.
    pub(super) fn i64s(&mut self) -> StoreResult<Vec<i64>> {
        let n = self.varint()?;
        let bytes = self.take(n.checked_mul(8).ok_or_else(truncated)?)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect())
    }

    /// An `Array(Float64)` column's value.
    pub(super) fn f64s(&mut self) -> StoreResult<Vec<f64>> {
        Ok(self
            .i64s()?
            .into_iter()
            .map(|b| f64::from_bits(b as u64))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::RowBinary;

    /// The reader reads what the span rows' encoder writes, and refuses a cut row.
    #[test]
    fn reads_lengths_strings_arrays_and_numbers() {
        let long = "é".repeat(100);
        let mut bytes = Vec::new();
        bytes.push(200u8); // a length of 200 as a varint: 0xC8 0x01
        bytes.push(1);
        bytes.extend_from_slice(long.as_bytes());
        bytes.extend_from_slice(&(-5i64).to_le_bytes());
        bytes.extend_from_slice(&[2, 1, b'a', 0]);
        bytes.push(1);
        bytes.extend_from_slice(&7i64.to_le_bytes());
        bytes.push(1);
        bytes.extend_from_slice(&1.5f64.to_bits().to_le_bytes());
        let mut r = RowBinary::new(&bytes);
        assert_eq!(r.string().unwrap(), long);
        assert_eq!(r.i64().unwrap(), -5);
        assert_eq!(r.strings().unwrap(), ["a", ""]);
        assert_eq!(r.i64s().unwrap(), [7]);
        assert_eq!(r.f64s().unwrap(), [1.5]);
        assert!(r.done());
        let mut cut = RowBinary::new(&bytes[..10]);
        assert!(cut.string().is_err());
    }
}
