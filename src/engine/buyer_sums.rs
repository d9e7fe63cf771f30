//! Per-buyer and per-key loss sums kept while the trials run (the inputs of the expected-loss
//! contributions and their standard errors, docs/model.md): exact integers that merge across
//! threads and shards in any order.

use super::Scratch;
use crate::money::weighted_square;
use crate::plan::Plan;

/// Scratch for one trial's losses per key of every dimension: gross and what each policy cedes,
/// summed over the key's buyers. Dense over the keys, cleared through the list of keys touched,
/// so a trial costs its events, not the book.
#[derive(Debug, Clone)]
pub struct TrialKeys {
    /// `1 +` policies: slot 0 gross, slot `p + 1` ceded by policy `p`.
    slots: usize,
    acc: Vec<i64>,
    seen: Vec<bool>,
    touched: Vec<u32>,
}

impl TrialKeys {
    pub fn new(plan: &Plan) -> Self {
        let slots = 1 + plan.n_policies();
        let keys = plan.keys.len();
        TrialKeys { slots, acc: vec![0; keys * slots], seen: vec![false; keys], touched: Vec::new() }
    }

    fn add(&mut self, keys: &[u32; 4], slot: usize, v: i64) {
        for &k in keys {
            let k = k as usize;
            if !self.seen[k] {
                self.seen[k] = true;
                self.touched.push(k as u32);
            }
            self.acc[k * self.slots + slot] += v;
        }
    }

    /// Forms the per-key totals of the trial last run with `scratch`.
    pub fn collect(&mut self, plan: &Plan, scratch: &Scratch) {
        for e in scratch.events() {
            self.add(&plan.keys.of_buyer[e.buyer as usize], 0, e.unpaid - e.recovery);
        }
        for c in scratch.claim_log() {
            self.add(&plan.keys.of_buyer[c.buyer as usize], 1 + c.policy as usize, c.ceded);
        }
    }

    /// Calls `f(key, loss)` for every key touched by the trial, `loss(q)` its loss under
    /// alternative `q` (0: gross; `p + 1`: net of policy `p`), then clears the scratch.
    pub fn drain(&mut self, mut f: impl FnMut(usize, &dyn Fn(usize) -> i64)) {
        for &k in &self.touched {
            let k = k as usize;
            let s = &self.acc[k * self.slots..(k + 1) * self.slots];
            f(k, &|q| if q == 0 { s[0] } else { s[0] - s[q] });
        }
        for &k in &self.touched {
            let k = k as usize;
            self.seen[k] = false;
            self.acc[k * self.slots..(k + 1) * self.slots].fill(0);
        }
        self.touched.clear();
    }
}

/// Per-buyer loss sums over a set of trials: gross, and what each policy takes off it; and per key
/// of every dimension, the sum of the squares of its per-trial loss under each alternative (for
/// the standard errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuyerSums {
    pub n_buyers: usize,
    pub n_policies: usize,
    /// Number of keys ([`KeyIndex::len`]).
    pub n_keys: usize,
    /// Gross loss per buyer.
    pub gross: Vec<i128>,
    /// Claims paid less the insurer's recovery share, per policy and buyer (`p · n + b`).
    pub ceded: Vec<i128>,
    /// Per alternative and key (`q · n_keys + k`): `Σ (w·loss)² / unit²` over the trials, in
    /// cents² ([`weighted_square`]).
    pub squares: Vec<i128>,
}

impl BuyerSums {
    pub fn new(n_buyers: usize, n_policies: usize, n_keys: usize) -> Self {
        BuyerSums {
            n_buyers,
            n_policies,
            n_keys,
            gross: vec![0; n_buyers],
            ceded: vec![0; n_buyers * n_policies],
            squares: vec![0; n_keys * (1 + n_policies)],
        }
    }

    /// The empty sums of a plan.
    pub fn of_plan(plan: &Plan) -> Self {
        BuyerSums::new(plan.n_buyers, plan.n_policies(), plan.keys.len())
    }

    /// Adds the per-buyer losses of the trial last run with `scratch`, times `weight` (in units of
    /// `unit`), and the squares of its per-key losses, formed in `keys`.
    #[inline]
    pub fn add_trial(&mut self, plan: &Plan, scratch: &Scratch, weight: u64, unit: u64, keys: &mut TrialKeys) {
        let w = weight as i128;
        for e in scratch.events() {
            self.gross[e.buyer as usize] += (e.unpaid - e.recovery) as i128 * w;
        }
        for c in scratch.claim_log() {
            self.ceded[c.policy as usize * self.n_buyers + c.buyer as usize] += c.ceded as i128 * w;
        }
        keys.collect(plan, scratch);
        let (n_keys, alternatives) = (self.n_keys, 1 + self.n_policies);
        let squares = &mut self.squares;
        keys.drain(|k, loss| {
            for q in 0..alternatives {
                squares[q * n_keys + k] += weighted_square(loss(q) as i128 * w, unit);
            }
        });
    }

    /// Adds another set of sums (over other trials).
    pub fn merge(&mut self, other: &BuyerSums) {
        for (a, b) in self.gross.iter_mut().zip(&other.gross) {
            *a += b;
        }
        for (a, b) in self.ceded.iter_mut().zip(&other.ceded) {
            *a += b;
        }
        for (a, b) in self.squares.iter_mut().zip(&other.squares) {
            *a += b;
        }
    }

    /// Loss of buyer `b` under alternative `q` (0 = no policy: gross; `p + 1`: net of policy `p`).
    pub fn loss(&self, q: usize, b: usize) -> i128 {
        match q {
            0 => self.gross[b],
            q => self.gross[b] - self.ceded[(q - 1) * self.n_buyers + b],
        }
    }

    /// Sums of alternative `q` for every buyer.
    pub fn losses(&self, q: usize) -> Vec<i128> {
        (0..self.n_buyers).map(|b| self.loss(q, b)).collect()
    }
}
