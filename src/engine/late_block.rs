//! The late buyers' cash corrections of a block of trials, walked buyer by buyer (issue 21).
//!
//! About half the buyers pay late in every trial, and each late buyer's closed-form correction
//! ([`LateFast`]) reads its cash data: on a large book that data comes from memory once per
//! late buyer and trial. Here a block of trials is walked the other way round: for each chunk of
//! 32 buyers (their data fits in L1), for each trial of the block, the chunk's lateness words are
//! drawn (eight Philox blocks at once), the late buyers' delays drawn, and their corrections added
//! into the trial's own accumulator. Each buyer's data is then read once per block.
//!
//! The walk does not know the trial's defaults, country events or cuts (they are drawn by the
//! kernel, trial by trial), so it adds the correction of every buyer the draws make late when the
//! closed form applies to its delay; the kernel then takes back, with the same integers, those of
//! the defaulters and of the buyers with an event or a cut ([`super::kernel`], `correct_cash`).
//! Every draw is addressed, so the words and delays here are the kernel's own, and every amount
//! enters linearly: reports are byte-identical to the trial-by-trial path (the golden and
//! determinism tests, and every replay's check of its stored row, compare them).

use super::kernel::{Scratch, delay_of, draw_factors, late_thresholds};
use crate::engine::rng::{Purpose, TrialKey, philox};
use crate::plan::Plan;
use crate::plan::cash::{LateAccumulator, MonthTotals};

/// Trials whose corrections are prepared together: their accumulators (about 20 KB each with 12
/// months and two policies) stay within L2.
pub const LATE_BLOCK: usize = 32;

/// Buyers per chunk: eight Philox blocks of four lanes.
const CHUNK: usize = 4 * philox::LANES;

/// Per-worker buffers of the block walk.
#[derive(Debug, Clone)]
pub struct LateBlock {
    acc: Vec<LateAccumulator>,
    delta: Vec<MonthTotals>,
    keys: Vec<TrialKey>,
    /// Per trial of the block and lateness group, the 32-bit lateness threshold
    /// (`[trial × groups + group]`).
    thresholds: Vec<u64>,
    z_sector: Vec<f64>,
    z_country: Vec<f64>,
    groups: Vec<u64>,
    /// The late candidates of one chunk and trial.
    candidates: Vec<u32>,
}

impl LateBlock {
    /// The walk's buffers for `plan`, when the plan has late payment and the closed form.
    pub fn of_plan(plan: &Plan) -> Option<LateBlock> {
        let cash = plan.cash.as_ref()?;
        plan.lateness.as_ref()?;
        cash.late.as_ref()?;
        Some(LateBlock {
            acc: vec![LateAccumulator::default(); LATE_BLOCK],
            delta: vec![cash.baseline.clone(); LATE_BLOCK],
            keys: Vec::with_capacity(LATE_BLOCK),
            thresholds: Vec::new(),
            z_sector: vec![0.0; plan.n_sectors],
            z_country: vec![0.0; plan.n_countries],
            groups: Vec::new(),
            candidates: Vec::with_capacity(CHUNK),
        })
        .map(|mut b| {
            b.delta.iter_mut().for_each(MonthTotals::clear);
            b
        })
    }

    /// Adds, buyer chunk by buyer chunk, the closed-form corrections of the late buyers of trials
    /// `first..first + len` (`len ≤ LATE_BLOCK`) under `seed`.
    pub fn prepare(&mut self, plan: &Plan, seed: u64, first: u64, len: usize) {
        let (Some(cash), Some(late)) = (&plan.cash, &plan.lateness) else { return };
        let Some(fast) = &cash.late else { return };
        debug_assert!(len <= LATE_BLOCK);
        let g = late.buckets.len();
        self.keys.clear();
        self.thresholds.clear();
        for t in 0..len {
            let key = TrialKey::new(seed, first + t as u64);
            let f = draw_factors(plan, &key, &mut self.z_sector, &mut self.z_country);
            late_thresholds(late, f.z_g, &self.z_sector, &self.z_country, &mut self.groups);
            self.thresholds.extend_from_slice(&self.groups);
            self.keys.push(key);
        }
        let n = late.bucket_of.len();
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            for (t, key) in self.keys.iter().enumerate() {
                let thresholds = &self.thresholds[t * g..(t + 1) * g];
                self.candidates.clear();
                if end - start == CHUNK {
                    let words = key.lanes_x8(Purpose::Late, (start / 4) as u32);
                    for (i, &u) in words.as_flattened().iter().enumerate() {
                        let b = start + i;
                        if u64::from(u) < thresholds[late.bucket_of[b] as usize] {
                            self.candidates.push(b as u32);
                        }
                    }
                } else {
                    for b in start..end {
                        let u = key.lanes(Purpose::Late, (b / 4) as u32)[b % 4];
                        if u64::from(u) < thresholds[late.bucket_of[b] as usize] {
                            self.candidates.push(b as u32);
                        }
                    }
                }
                for group in self.candidates.chunks(philox::LANES) {
                    let mut entities = [group[0]; philox::LANES];
                    entities[..group.len()].copy_from_slice(group);
                    let words = key.first_words_x8(Purpose::Delay, entities);
                    for (&b, &w) in group.iter().zip(&words) {
                        let delay = delay_of(late, philox::unit_f64(w));
                        let (b, bc) = (b as usize, &cash.buyers[b as usize]);
                        if delay > 0 && late.fee_ppb(delay) == 0 && fast.applies(plan, bc, delay) {
                            fast.add_signed(plan, cash, b, bc, delay, 1, &mut self.acc[t], &mut self.delta[t]);
                        }
                    }
                }
            }
        }
    }

    /// Hands trial `i` of the block its prepared corrections: the kernel then runs it as a
    /// prepared trial.
    pub fn lend(&mut self, i: usize, scratch: &mut Scratch) {
        std::mem::swap(&mut self.acc[i], &mut scratch.late_acc);
        std::mem::swap(&mut self.delta[i], &mut scratch.pre_delta);
        scratch.prepared = true;
    }

    /// Takes trial `i`'s buffers back after its trial (the accumulator is drained by then) and
    /// clears them for the next block.
    pub fn take_back(&mut self, i: usize, scratch: &mut Scratch) {
        std::mem::swap(&mut self.acc[i], &mut scratch.late_acc);
        std::mem::swap(&mut self.delta[i], &mut scratch.pre_delta);
        scratch.prepared = false;
        self.delta[i].clear();
    }
}
