//! Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3",
//! SC'11): a counter-based generator, the one of Random123, cuRAND and JAX. Its output is a pure
//! function of a 128-bit counter and a 64-bit key, so a draw can be addressed by what it is for —
//! (seed, scenario, trial, buyer, purpose, index) — instead of by its place in a sequential
//! stream (issue 21). Checked against Random123's known-answer vectors.

/// Multipliers and Weyl increments of the key schedule (Random123's `PHILOX_M4x32_0/1`,
/// `PHILOX_W32_0/1`).
const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Number of rounds: 10, the variant that passes BigCrush with a margin (7 already do).
pub const ROUNDS: usize = 10;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

#[inline(always)]
fn round(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (hi0, lo0) = mulhilo(M0, ctr[0]);
    let (hi1, lo1) = mulhilo(M1, ctr[2]);
    [hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0]
}

/// The four 32-bit words of Philox4x32-10 at `counter` under `key`.
#[inline]
pub fn philox4x32(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut ctr = round(counter, key);
    let mut key = key;
    for _ in 1..ROUNDS {
        key = [key[0].wrapping_add(W0), key[1].wrapping_add(W1)];
        ctr = round(ctr, key);
    }
    ctr
}

/// Lanes of [`philox4x32_x8`].
pub const LANES: usize = 8;

/// Eight Philox4x32-10 blocks at once, one per lane: `counter[w][l]` is word `w` of lane `l`'s
/// counter; returns the words the same way. Each lane equals [`philox4x32`] of its counter. On
/// x86-64, two groups of four lanes in SSE2 registers (`pmuludq` gives two 32 × 32 → 64-bit
/// products at once: 8 % fewer instructions in the full model than plain lane loops, which remain
/// for other targets; docs/performance.md has the measurements).
#[inline]
pub fn philox4x32_x8(counter: [[u32; LANES]; 4], key: [u32; 2]) -> [[u32; LANES]; 4] {
    #[cfg(target_arch = "x86_64")]
    {
        let half = |h: usize| counter.map(|w| [w[4 * h], w[4 * h + 1], w[4 * h + 2], w[4 * h + 3]]);
        // SAFETY: SSE2 is part of every x86-64 processor (the target's baseline).
        let (a, b) = unsafe { (sse2::x4(half(0), key), sse2::x4(half(1), key)) };
        std::array::from_fn(|w| std::array::from_fn(|l| if l < 4 { a[w][l] } else { b[w][l - 4] }))
    }
    #[cfg(not(target_arch = "x86_64"))]
    x8(counter, key)
}

/// Four Philox4x32-10 blocks in SSE2 registers (part of every x86-64 processor).
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::{M0, M1, ROUNDS, W0, W1};
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm_mul_epu32, _mm_set1_epi32, _mm_shuffle_epi32, _mm_srli_epi64, _mm_storeu_si128,
        _mm_unpackhi_epi32, _mm_unpacklo_epi32, _mm_xor_si128,
    };

    /// The high and low halves of `m × a` in each of four lanes (`m` the same in every lane).
    #[inline]
    #[target_feature(enable = "sse2")]
    fn mulhilo(m: __m128i, a: __m128i) -> (__m128i, __m128i) {
        // Lanes 0 and 2, then 1 and 3, as two 64-bit products each: [lo, hi, lo, hi].
        let even = _mm_mul_epu32(m, a);
        let odd = _mm_mul_epu32(m, _mm_srli_epi64::<32>(a));
        // [p0lo, p2lo, p0hi, p2hi] and [p1lo, p3lo, p1hi, p3hi], interleaved into lanes.
        let even = _mm_shuffle_epi32::<0b11_01_10_00>(even);
        let odd = _mm_shuffle_epi32::<0b11_01_10_00>(odd);
        (_mm_unpackhi_epi32(even, odd), _mm_unpacklo_epi32(even, odd))
    }

    /// `counter[w][l]`: word `w` of lane `l`.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub fn x4(counter: [[u32; 4]; 4], key: [u32; 2]) -> [[u32; 4]; 4] {
        // SAFETY: the loads and stores read and write exactly the 16 bytes of a `[u32; 4]`
        // (unaligned access is allowed); SSE2 is part of every x86-64 target.
        let load = |w: &[u32; 4]| unsafe { _mm_loadu_si128(w.as_ptr().cast::<__m128i>()) };
        let mut c = [load(&counter[0]), load(&counter[1]), load(&counter[2]), load(&counter[3])];
        let (m0, m1) = (_mm_set1_epi32(M0 as i32), _mm_set1_epi32(M1 as i32));
        let mut k = key;
        for r in 0..ROUNDS {
            if r > 0 {
                k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
            }
            let (hi0, lo0) = mulhilo(m0, c[0]);
            let (hi1, lo1) = mulhilo(m1, c[2]);
            c = [
                _mm_xor_si128(_mm_xor_si128(hi1, c[1]), _mm_set1_epi32(k[0] as i32)),
                lo1,
                _mm_xor_si128(_mm_xor_si128(hi0, c[3]), _mm_set1_epi32(k[1] as i32)),
                lo0,
            ];
        }
        let mut out = [[0u32; 4]; 4];
        for (o, v) in out.iter_mut().zip(c) {
            // SAFETY: as for the loads.
            unsafe { _mm_storeu_si128(o.as_mut_ptr().cast::<__m128i>(), v) };
        }
        out
    }
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn x8(counter: [[u32; LANES]; 4], key: [u32; 2]) -> [[u32; LANES]; 4] {
    let mut c = counter;
    let mut k = key;
    for r in 0..ROUNDS {
        if r > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let mut next = [[0u32; LANES]; 4];
        for l in 0..LANES {
            let p0 = u64::from(M0) * u64::from(c[0][l]);
            let p1 = u64::from(M1) * u64::from(c[2][l]);
            next[0][l] = (p1 >> 32) as u32 ^ c[1][l] ^ k[0];
            next[1][l] = p1 as u32;
            next[2][l] = (p0 >> 32) as u32 ^ c[3][l] ^ k[1];
            next[3][l] = p0 as u32;
        }
        c = next;
    }
    c
}

/// The block at a 128-bit counter given as two 64-bit halves (low words first), under a 64-bit
/// key: two 64-bit outputs.
#[inline]
pub fn block(counter_lo: u64, counter_hi: u64, key: u64) -> [u64; 2] {
    let w = philox4x32(
        [counter_lo as u32, (counter_lo >> 32) as u32, counter_hi as u32, (counter_hi >> 32) as u32],
        [key as u32, (key >> 32) as u32],
    );
    [u64::from(w[0]) | (u64::from(w[1]) << 32), u64::from(w[2]) | (u64::from(w[3]) << 32)]
}

/// A uniform in [0, 1) from the top 53 bits of a 64-bit word (every value a multiple of 2⁻⁵³).
#[inline]
pub fn unit_f64(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123's known-answer vectors for philox4x32_10 (kat_vectors).
    #[test]
    fn known_answers() {
        assert_eq!(philox4x32([0; 4], [0; 2]), [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]);
        assert_eq!(philox4x32([u32::MAX; 4], [u32::MAX; 2]), [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]);
        assert_eq!(
            philox4x32([0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344], [0xa409_3822, 0x299f_31d0]),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn eight_lanes_are_eight_blocks() {
        let key = [0xa409_3822, 0x299f_31d0];
        let mut counter = [[0u32; LANES]; 4];
        for l in 0..LANES {
            for (w, word) in counter.iter_mut().enumerate() {
                word[l] = (l as u32).wrapping_mul(0x9E37_79B9)
                    ^ (w as u32).wrapping_mul(0x85EB_CA6B)
                    ^ (u32::MAX * (l as u32 & 1));
            }
        }
        let out = philox4x32_x8(counter, key);
        assert_eq!(out, x8(counter, key), "the SSE2 lanes and the plain loops agree");
        for l in 0..LANES {
            let scalar = philox4x32([counter[0][l], counter[1][l], counter[2][l], counter[3][l]], key);
            assert_eq!([out[0][l], out[1][l], out[2][l], out[3][l]], scalar, "lane {l}");
        }
    }

    #[test]
    fn the_block_is_the_words_in_order() {
        let [a, b] = block(0x85a3_08d3_243f_6a88, 0x0370_7344_1319_8a2e, 0x299f_31d0_a409_3822);
        assert_eq!((a, b), (0x94fd_cceb_d16c_fe09, 0x2412_6ea1_5001_e420));
    }

    #[test]
    fn unit_floats_stay_below_one() {
        assert_eq!(unit_f64(0), 0.0);
        assert!(unit_f64(u64::MAX) < 1.0);
        assert_eq!(unit_f64(1 << 63), 0.5);
    }
}
