//! The trials of a frontier (`arstress frontier`): the draws once per trial, each settlement class
//! settled once, and per variant only the two figures its row needs, the net loss and the peak
//! cash shortfall.
//!
//! Variants that differ only in their premium (`premium_rate`, `minimum_premium`) or their
//! maximum liability form one class: the class is settled under the largest maximum liability of
//! its members, and a member whose maximum liability is at least the most paid in one policy year
//! of that settlement has exactly its claims (the liability left never bound). Other members are
//! settled on their own in that trial. The premium changes no claim: a member's cash at a month
//! end is the class's cash before premium less its own premium paid to date.

use super::kernel::{Scratch, draw_trial, settle_policy};
use crate::engine::rng::TrialKey;
use crate::plan::cash::CashPlan;
use crate::plan::{Plan, PolicyPlan};
use rayon::prelude::*;

/// One variant of a frontier: its class (a policy of [`FrontierPlan::plan`]) and its own terms.
#[derive(Debug, Clone)]
pub struct VariantPlan {
    pub class: usize,
    /// The variant's terms, compiled as a policy of the study (premium, maximum liability).
    pub terms: PolicyPlan,
    /// Premium paid by the end of each month of the cash plan.
    pub premium_to_date: Vec<i64>,
}

/// A scenario's plan with one policy per settlement class, and the variants.
#[derive(Debug, Clone)]
pub struct FrontierPlan {
    pub plan: Plan,
    pub variants: Vec<VariantPlan>,
}

/// Per-trial figures of a frontier, one row per trial: the loss without insurance (credit loss and
/// write-off) and the peak shortfall under no insurance, then per variant its net loss and peak
/// shortfall (0 without a cash plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontierOutcomes {
    pub trials: usize,
    pub width: usize,
    pub data: Vec<i64>,
}

impl FrontierOutcomes {
    /// Column `c` in trial order.
    pub fn column(&self, c: usize) -> Vec<i64> {
        self.data.iter().skip(c).step_by(self.width).copied().collect()
    }
}

impl FrontierPlan {
    /// Builds the variants of `classes` (a plan with one policy per class): `terms[v]` is variant
    /// `v`'s compiled policy, `class_of[v]` its class. The class's policy takes the largest
    /// maximum liability of its members.
    pub fn new(mut plan: Plan, terms: Vec<PolicyPlan>, class_of: &[usize]) -> FrontierPlan {
        for (c, policy) in plan.policies.iter_mut().enumerate() {
            if let Some(ml) = terms.iter().zip(class_of).filter(|(_, k)| **k == c).map(|(t, _)| t.max_liability).max() {
                policy.max_liability = ml;
            }
        }
        let months = plan.cash.as_ref().map_or(0, |c| c.months);
        let variants = terms
            .into_iter()
            .zip(class_of)
            .map(|(terms, &class)| {
                let premium_to_date = crate::plan::cash::premium_instalments(terms.annual_premium, months)
                    .into_iter()
                    .scan(0i64, |paid, x| {
                        *paid += x;
                        Some(*paid)
                    })
                    .collect();
                VariantPlan { class, terms, premium_to_date }
            })
            .collect();
        FrontierPlan { plan, variants }
    }

    pub fn width(&self) -> usize {
        2 + 2 * self.variants.len()
    }
}

/// Buffers of one worker.
struct Work {
    scratch: Scratch,
    /// Per class: claims, insurer's share, most paid in one policy year.
    settled: Vec<(i64, i64, i64)>,
    /// Per class and month: cash before premium, borrowing base.
    before: Vec<i64>,
    base: Vec<i64>,
    /// One variant settled on its own: its months' claims and shares, cash before premium.
    claims: Vec<i64>,
    shares: Vec<i64>,
    own: Vec<i64>,
    own_base: Vec<i64>,
    /// A month of zeros: the claims, shares and insured receivables of no insurance.
    zeros: Vec<i64>,
}

/// Peak shortfall over the months of a cash path: cash before premium less the premium to date.
fn peak(cash: &CashPlan, before: &[i64], base: &[i64], premium_to_date: &[i64]) -> i64 {
    let mut peak = 0i64;
    for k in 0..cash.months {
        peak = peak.max(cash.shortfall(before[k] - premium_to_date.get(k).copied().unwrap_or(0), base[k]));
    }
    peak
}

fn frontier_trial(fp: &FrontierPlan, seed: u64, trial: u64, w: &mut Work, row: &mut [i64]) {
    let plan = &fp.plan;
    let drawn = draw_trial(plan, &TrialKey::new(seed, trial), &mut w.scratch);
    let borne = drawn.uninsured_loss();
    row[0] = borne;
    row[1] = 0;
    let h = plan.cash.as_ref().map_or(0, |c| c.months);
    if let Some(cash) = &plan.cash {
        let z = &w.zeros;
        cash.path_before_premium(&w.scratch.totals, (z, z, z), &mut w.own, &mut w.own_base);
        row[1] = peak(cash, &w.own, &w.own_base, &[]);
    }
    for (c, policy) in plan.policies.iter().enumerate() {
        w.settled[c] = settle_policy(plan, c, policy, &mut w.scratch);
        if let Some(cash) = &plan.cash {
            let t = &w.scratch.totals;
            let s = c * h..(c + 1) * h;
            cash.path_before_premium(
                t,
                (&t.claims[s.clone()], &t.shares[s.clone()], &t.insured[s.clone()]),
                &mut w.before[s.clone()],
                &mut w.base[s],
            );
        }
    }
    for (v, variant) in fp.variants.iter().enumerate() {
        let c = variant.class;
        let (claims, share, paid) = w.settled[c];
        let s = c * h..(c + 1) * h;
        let at = 2 + 2 * v;
        if variant.terms.max_liability >= paid {
            row[at] = borne - claims + share;
            if let Some(cash) = &plan.cash {
                row[at + 1] = peak(cash, &w.before[s.clone()], &w.base[s], &variant.premium_to_date);
            }
            continue;
        }
        // The variant's maximum liability binds: settled on its own in the class's slot, whose
        // month totals are put back afterwards.
        let t = &mut w.scratch.totals;
        if h > 0 {
            w.claims.copy_from_slice(&t.claims[s.clone()]);
            w.shares.copy_from_slice(&t.shares[s.clone()]);
            t.claims[s.clone()].fill(0);
            t.shares[s.clone()].fill(0);
        }
        let (claims, share, _) = settle_policy(plan, c, &variant.terms, &mut w.scratch);
        row[at] = borne - claims + share;
        if let Some(cash) = &plan.cash {
            let t = &w.scratch.totals;
            cash.path_before_premium(
                t,
                (&t.claims[s.clone()], &t.shares[s.clone()], &t.insured[s.clone()]),
                &mut w.own,
                &mut w.own_base,
            );
            row[at + 1] = peak(cash, &w.own, &w.own_base, &variant.premium_to_date);
            let t = &mut w.scratch.totals;
            t.claims[s.clone()].copy_from_slice(&w.claims);
            t.shares[s].copy_from_slice(&w.shares);
        }
    }
}

/// Runs trials `0..trials` of a frontier under `seed` on the current rayon pool, each keyed as in
/// a run (so its draws are those of the same trial of `arstress run`). `progress` is called with
/// the number of trials finished by each block.
pub fn run_frontier(fp: &FrontierPlan, seed: u64, trials: u64, progress: &(dyn Fn(u64) + Sync)) -> FrontierOutcomes {
    let n = trials as usize;
    let width = fp.width();
    let mut data = vec![0i64; n * width];
    let block = fp.plan.trial_block.max(1);
    let blocks = n.div_ceil(block).max(1);
    let groups = (2 * rayon::current_num_threads()).clamp(1, blocks);
    let per_group = blocks.div_ceil(groups) * block;
    let (classes, h) = (fp.plan.n_policies(), fp.plan.cash.as_ref().map_or(0, |c| c.months));
    data.par_chunks_mut(per_group * width).enumerate().for_each(|(group, rows)| {
        let mut w = Work {
            scratch: Scratch::new(&fp.plan),
            settled: vec![(0, 0, 0); classes],
            before: vec![0; classes * h],
            base: vec![0; classes * h],
            claims: vec![0; h],
            shares: vec![0; h],
            own: vec![0; h],
            own_base: vec![0; h],
            zeros: vec![0; h],
        };
        let first = (group * per_group) as u64;
        for (k, rows) in rows.chunks_mut(block * width).enumerate() {
            let first = first + (k * block) as u64;
            for (i, row) in rows.chunks_mut(width).enumerate() {
                frontier_trial(fp, seed, first + i as u64, &mut w, row);
            }
            progress((rows.len() / width) as u64);
        }
    });
    FrontierOutcomes { trials: n, width, data }
}
