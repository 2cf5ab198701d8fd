//! Rendering a [`Template`] for request `seq` into a byte buffer: no parsing, no allocation
//! beyond the buffer's own growth. A random placeholder's value is draw number `seq` of a
//! SplitMix64 stream seeded with the placeholder's key (random access: no state carried from
//! one request to the next, so any worker renders any `seq` alike).

use super::{Hole, Piece, Template};
use crate::rng::mix64;

/// SplitMix64's increment.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// Mixed into a UUID's key for its second 64 bits.
const UUID_LOW_SALT: u64 = 0x0bad_c0de_dead_beef;

impl Template {
    /// Appends the text for request `seq` to `out`.
    pub(crate) fn render(&self, seq: u64, out: &mut Vec<u8>) {
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text),
                Piece::Hole(hole) => hole.render(seq, out),
            }
        }
    }
}

impl Hole {
    /// Appends this placeholder's value for request `seq` to `out`.
    pub(crate) fn render(&self, seq: u64, out: &mut Vec<u8>) {
        match self {
            Hole::Seq => push_decimal(out, seq),
            Hole::Int { min, max, key } => push_signed(out, in_range(draw(*key, seq), *min, *max)),
            Hole::Pick { items, key } => {
                let item = &items[below(draw(*key, seq), items.len())];
                out.extend_from_slice(item.as_bytes());
            }
            Hole::Uuid { key } => {
                let high = draw(*key, seq);
                let low = draw(*key ^ UUID_LOW_SALT, seq);
                push_uuid(out, high, low);
            }
            Hole::Data { source, column } => {
                out.extend_from_slice(source.cell(seq, *column).as_bytes());
            }
        }
    }
}

/// Draw number `seq` (0-based) of the SplitMix64 stream seeded with `key`.
pub(crate) fn draw(key: u64, seq: u64) -> u64 {
    mix64(key.wrapping_add(seq.wrapping_add(1).wrapping_mul(GAMMA)))
}

/// A draw mapped onto `0..n` (Lemire's multiply-shift); `n` > 0.
pub(crate) fn below(draw: u64, n: usize) -> usize {
    ((u128::from(draw) * n as u128) >> 64) as usize
}

/// A draw mapped onto `min..=max` (both included; `min <= max`).
fn in_range(draw: u64, min: i64, max: i64) -> i64 {
    let span = (i128::from(max) - i128::from(min) + 1) as u128;
    let offset = (u128::from(draw) * span) >> 64;
    (i128::from(min) + offset as i128) as i64
}

/// `n` in decimal, written at the end of `digits`.
pub(crate) fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &digits[start..]
}

/// `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(decimal(n, &mut [0u8; 20]));
}

/// `n` in decimal, with a `-` when negative.
fn push_signed(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_decimal(out, n.unsigned_abs());
}

/// A version-4 UUID from 128 random bits, lowercase: `xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx`
/// (RFC 9562: version 4 in bits 48–51, variant `10` in bits 64–65, Y one of 8, 9, a, b).
fn push_uuid(out: &mut Vec<u8>, high: u64, low: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let high = (high & !0xf000) | 0x4000;
    let low = (low & !(0b11 << 62)) | (0b10 << 62);
    let bits = (u128::from(high) << 64) | u128::from(low);
    let mut text = [0u8; 36];
    let mut nibble = 32;
    for (i, byte) in text.iter_mut().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            *byte = b'-';
        } else {
            nibble -= 1;
            *byte = HEX[((bits >> (nibble * 4)) & 0xf) as usize];
        }
    }
    out.extend_from_slice(&text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(n: u64) -> String {
        let mut out = Vec::new();
        push_decimal(&mut out, n);
        String::from_utf8(out).unwrap()
    }

    fn signed(n: i64) -> String {
        let mut out = Vec::new();
        push_signed(&mut out, n);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        assert_eq!(decimal(0), "0");
        assert_eq!(decimal(7), "7");
        assert_eq!(decimal(1_000_000), "1000000");
        assert_eq!(decimal(u64::MAX), u64::MAX.to_string());
        assert_eq!(signed(-42), "-42");
        assert_eq!(signed(i64::MIN), i64::MIN.to_string());
        assert_eq!(signed(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn ranges_reach_both_ends_and_the_whole_i64_range_works() {
        assert_eq!(in_range(0, -3, 3), -3);
        assert_eq!(in_range(u64::MAX, -3, 3), 3);
        assert_eq!(in_range(0, 5, 5), 5);
        assert_eq!(in_range(u64::MAX, 5, 5), 5);
        assert_eq!(in_range(0, i64::MIN, i64::MAX), i64::MIN);
        assert_eq!(in_range(u64::MAX, i64::MIN, i64::MAX), i64::MAX);
        assert_eq!(below(u64::MAX, 3), 2);
        assert_eq!(below(0, 3), 0);
    }

    #[test]
    fn draws_are_the_splitmix64_stream_by_position() {
        let mut stream = crate::rng::SplitMix64::new(99);
        for seq in 0..5 {
            assert_eq!(draw(99, seq), stream.next_u64(), "seq {seq}");
        }
    }

    #[test]
    fn a_uuid_has_the_version_4_layout() {
        let mut out = Vec::new();
        push_uuid(&mut out, u64::MAX, u64::MAX);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        out.clear();
        push_uuid(&mut out, 0, 0);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "00000000-0000-4000-8000-000000000000"
        );
    }
}
