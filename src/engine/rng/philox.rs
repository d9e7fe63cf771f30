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
/// counter; returns the words the same way. Each lane equals [`philox4x32`] of its counter. The
/// lanes are plain loops that the compiler turns into vector instructions (the 32 × 32 → 64-bit
/// products are `pmuludq`): 6.1 ns a block against 12.0 scalar (docs/performance.md; a copy
/// compiled for AVX2 measured slower, 9.4 ns, and was not kept).
#[inline]
pub fn philox4x32_x8(counter: [[u32; LANES]; 4], key: [u32; 2]) -> [[u32; LANES]; 4] {
    x8(counter, key)
}

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
