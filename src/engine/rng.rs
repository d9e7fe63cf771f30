//! The only place that knows the generators.
//!
//! **Trials** draw from Philox4x32-10 ([`philox`]), addressed: every draw is a pure function of
//! `(seed, trial, purpose, entity, index)`, where the entity is what the draw is about (a buyer,
//! a bucket of alike buyers, a country, a sector) and the index counts the draws of one stream.
//! The order in which a kernel visits trials, buyers or purposes therefore never changes a number:
//! results are byte-identical across threads, shards and trial-block sizes by construction, and
//! the kernel is free to walk a block of trials buyer by buyer.
//!
//! The scenario is deliberately *not* part of the address: every scenario of a study draws the
//! same numbers for the same trial, buyer and purpose (common random numbers), so differences
//! between scenarios, policies and reverse-stress probes are paired (docs/decisions.md).
//!
//! The 128-bit counter is `(trial, purpose << 56 | entity << 24 | index)`; the 64-bit key is the
//! seed through two SplitMix64 finalisers. A stream holds up to 2²⁴ blocks (2²⁵ 64-bit words),
//! far above any stream's use (a bucket's geometric skips draw at most one word per member).
//!
//! **Generated studies** (`arstress generate`) still use one sequential Xoshiro stream per index
//! ([`trial_rng`]); they are inputs, not simulation results.

pub mod philox;

use rand::SeedableRng;
pub use rand::rngs::Xoshiro256PlusPlus as TrialRng;
use std::convert::Infallible;

/// Name recorded in manifests, shard and resume files: outcomes of another generator never mix.
pub const GENERATOR: &str =
    "Philox4x32-10, counter = (trial, purpose<<56 | entity<<24 | index), key = SplitMix64(SplitMix64(seed))";

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The sequential generator of index `trial` under `seed` (study generation only).
pub fn trial_rng(seed: u64, trial: u64) -> TrialRng {
    let key = splitmix64(splitmix64(seed) ^ trial.rotate_left(32) ^ 0xA076_1D64_78BD_642F);
    TrialRng::seed_from_u64(splitmix64(key ^ trial))
}

/// What a stream of draws is for: the top byte of the counter's high word. Each purpose has its
/// own numbers, so adding a purpose to a scenario (cuts, say) leaves every other draw unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    /// The global factor (entity 0), with its likelihood ratio under tail sampling.
    GlobalFactor = 1,
    /// A sector factor (entity: sector index).
    SectorFactor = 2,
    /// A country factor (entity: country index).
    CountryFactor = 3,
    /// The Student-t copula's mixing variable (entity 0).
    TScale = 4,
    /// Geometric skips between the defaults of a bucket of alike buyers (entity: bucket).
    Defaults = 5,
    /// A sampled default's day, kind and recovery (entity: buyer).
    DefaultDetail = 6,
    /// A forced default's recovery (entity: buyer).
    ForcedDefault = 7,
    /// Whether a buyer pays late: 32 bits a buyer, four buyers a block (entity: buyer / 4).
    Late = 8,
    /// A late buyer's delay (entity: buyer).
    Delay = 9,
    /// A country's event: occurrence, start and duration (entity: country).
    CountryEvent = 10,
    /// Geometric skips between the limit cuts of a bucket (entity: bucket).
    Cuts = 11,
    /// The cut of a defaulting buyer: whether, and the decision day (entity: buyer).
    CutOfDefault = 12,
    /// The collection of overdue receivables: 32 bits a buyer, four a block (entity: buyer / 4).
    Collection = 13,
}

/// The address of one trial's draws: the key from the seed and the trial index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrialKey {
    key: u64,
    trial: u64,
}

impl TrialKey {
    /// The draws of trial `trial` under `seed`.
    #[inline]
    pub fn new(seed: u64, trial: u64) -> TrialKey {
        TrialKey { key: splitmix64(splitmix64(seed) ^ 0xA076_1D64_78BD_642F), trial }
    }

    pub fn trial(&self) -> u64 {
        self.trial
    }

    #[inline]
    fn high(purpose: Purpose, entity: u32, index: u32) -> u64 {
        debug_assert!(index < 1 << 24);
        ((purpose as u64) << 56) | (u64::from(entity) << 24) | u64::from(index & 0x00FF_FFFF)
    }

    /// The sequential stream of `purpose` for `entity` in this trial.
    #[inline]
    pub fn stream(&self, purpose: Purpose, entity: u32) -> Stream {
        Stream { key: self.key, trial: self.trial, high: Self::high(purpose, entity, 0), next: 0, buf: [0; 2], left: 0 }
    }

    /// The four 32-bit words of block 0 of `(purpose, entity)`: the dense one-word-a-buyer draws
    /// take buyer `b`'s word from lane `b % 4` of entity `b / 4`.
    #[inline]
    pub fn lanes(&self, purpose: Purpose, entity: u32) -> [u32; 4] {
        let hi = Self::high(purpose, entity, 0);
        philox::philox4x32(
            [self.trial as u32, (self.trial >> 32) as u32, hi as u32, (hi >> 32) as u32],
            [self.key as u32, (self.key >> 32) as u32],
        )
    }

    /// [`TrialKey::lanes`] of the eight entities `first..first + 8`, computed together (SIMD):
    /// `out[e][lane]` is word `lane` of entity `first + e`.
    #[inline]
    pub fn lanes_x8(&self, purpose: Purpose, first: u32) -> [[u32; 4]; philox::LANES] {
        self.blocks_x8(purpose, std::array::from_fn(|e| first.wrapping_add(e as u32)))
    }

    /// The first word of the streams of `purpose` for eight entities, computed together (SIMD):
    /// `out[e]` is `self.stream(purpose, entities[e]).next_u64()`.
    #[inline]
    pub fn first_words_x8(&self, purpose: Purpose, entities: [u32; philox::LANES]) -> [u64; philox::LANES] {
        self.blocks_x8(purpose, entities).map(|w| u64::from(w[0]) | (u64::from(w[1]) << 32))
    }

    /// Block 0 of `(purpose, entity)` for eight entities.
    #[inline]
    fn blocks_x8(&self, purpose: Purpose, entities: [u32; philox::LANES]) -> [[u32; 4]; philox::LANES] {
        let hi: [u64; philox::LANES] = entities.map(|e| Self::high(purpose, e, 0));
        let counter = [
            [self.trial as u32; philox::LANES],
            [(self.trial >> 32) as u32; philox::LANES],
            hi.map(|h| h as u32),
            hi.map(|h| (h >> 32) as u32),
        ];
        let w = philox::philox4x32_x8(counter, [self.key as u32, (self.key >> 32) as u32]);
        std::array::from_fn(|e| [w[0][e], w[1][e], w[2][e], w[3][e]])
    }
}

/// A sequential stream of one `(trial, purpose, entity)`: block after block of Philox output.
/// It implements [`rand::Rng`], so every sampler of `rand_distr` draws from it.
#[derive(Debug, Clone)]
pub struct Stream {
    key: u64,
    trial: u64,
    high: u64,
    /// Index of the next block.
    next: u32,
    buf: [u64; 2],
    /// Words of `buf` not yet used (taken from the front).
    left: u8,
}

impl Stream {
    #[inline]
    fn word(&mut self) -> u64 {
        if self.left == 0 {
            debug_assert!(self.next < 1 << 24, "a random stream ran past 2^24 blocks");
            self.buf = philox::block(self.trial, self.high | u64::from(self.next & 0x00FF_FFFF), self.key);
            self.next = self.next.wrapping_add(1);
            self.left = 2;
        }
        self.left -= 1;
        self.buf[1 - self.left as usize]
    }

    /// A uniform in [0, 1) (53 bits).
    #[inline]
    pub fn unit(&mut self) -> f64 {
        philox::unit_f64(self.word())
    }
}

impl rand::TryRng for Stream {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.word() >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.word())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let w = self.word().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn sequential_streams_are_fixed_and_distinct() {
        let a = trial_rng(7, 0).next_u64();
        assert_eq!(a, trial_rng(7, 0).next_u64());
        assert_ne!(a, trial_rng(7, 1).next_u64());
        assert_ne!(a, trial_rng(8, 0).next_u64());
        // seed + trial must not alias.
        assert_ne!(trial_rng(7, 1).next_u64(), trial_rng(8, 0).next_u64());
    }

    #[test]
    fn a_stream_is_its_addressed_blocks_in_order() {
        let k = TrialKey::new(11, 5);
        let mut s = k.stream(Purpose::Delay, 42);
        let words: Vec<u64> = (0..6).map(|_| s.next_u64()).collect();
        for (i, pair) in words.chunks(2).enumerate() {
            let b = philox::block(5, TrialKey::high(Purpose::Delay, 42, i as u32), k.key);
            assert_eq!(pair, b);
        }
        // The same address gives the same numbers; another trial, entity, purpose or seed not.
        assert_eq!(k.stream(Purpose::Delay, 42).next_u64(), words[0]);
        for other in [
            TrialKey::new(11, 6).stream(Purpose::Delay, 42),
            k.stream(Purpose::Delay, 43),
            k.stream(Purpose::DefaultDetail, 42),
            TrialKey::new(12, 5).stream(Purpose::Delay, 42),
        ] {
            assert_ne!(other.clone().next_u64(), words[0]);
        }
    }

    #[test]
    fn eight_first_words_at_once_are_the_streams_first_words() {
        let k = TrialKey::new(3, 9);
        let entities = [5, 900, 3, 3, 77, 1 << 20, 0, 12];
        let words = k.first_words_x8(Purpose::Delay, entities);
        for (e, w) in entities.iter().zip(words) {
            assert_eq!(w, k.stream(Purpose::Delay, *e).next_u64());
        }
    }

    #[test]
    fn eight_entities_at_once_are_their_lanes() {
        let k = TrialKey::new(3, 9);
        let x8 = k.lanes_x8(Purpose::Late, 1000);
        for (e, words) in x8.iter().enumerate() {
            assert_eq!(*words, k.lanes(Purpose::Late, 1000 + e as u32));
        }
    }

    #[test]
    fn lanes_are_the_first_block_of_the_stream() {
        let k = TrialKey::new(3, 9);
        let l = k.lanes(Purpose::Late, 7);
        let w = k.stream(Purpose::Late, 7).next_u64();
        assert_eq!((l[0], l[1]), (w as u32, (w >> 32) as u32));
    }
}
