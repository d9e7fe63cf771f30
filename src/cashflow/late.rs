//! The cash correction for buyers that are *simply late*, as deltas over the baseline.
//!
//! About half the buyers pay late in a trial, so their cash correction must cost O(1) each rather
//! than a walk over months. A buyer is simply late when it pays every invoice `D` days late with
//! `D` small enough that nothing else changes: no delivery stops (`D ≤ stop_deliveries_after_days`),
//! no receivable more than 90 days past due, no default and no country event. Then only the
//! payment days move, and:
//!
//! - its sales (one invoice of `m` per month, `T` days of terms) are paid by the end of month `k`
//!   for `m · N(E_k − T − D)` where `N(x)` counts the month starts before `x`. Summed over buyers,
//!   `Σ m_b N(E_k − L_b) = Σ_j F(E_k − d_j − 1)` with `F` the prefix sum of a histogram of the
//!   buyers' payment lags `L = T + D`: one histogram entry per buyer, then O(H_days + H²) per trial;
//! - its few open invoices are moved one by one;
//! - receivables and eligible receivables grow by what is paid later, `Δ_k`; the insured part of
//!   policy p grows by `min(Δ_k, headroom_k)`, the headroom `max(0, limit − baseline eligible)`
//!   being precomputed per buyer, policy and month. Buyers with no headroom in any month (no limit,
//!   or always at it) skip this step.
//!
//! Every figure is the same integer as the explicit path would give (a test compares the two).

use super::{BuyerState, CashPlan, MonthTotals, PathScratch};
use crate::plan::Plan;

/// Per-buyer data of the fast path, compiled once per scenario.
#[derive(Debug, Clone, Default)]
pub struct LateFast {
    /// Largest delay for which the buyer is simply late (0 = never).
    pub max_delay: Vec<i32>,
    /// Payment terms of the buyer's monthly sales, and their amount (0 = no sales).
    pub terms: Vec<i32>,
    pub monthly: Vec<i64>,
    /// CSR of each buyer's open invoices: (payment day, amount).
    pub open_offsets: Vec<u32>,
    pub open: Vec<(i32, i64)>,
    /// `[(buyer × P + policy) × H + month]`: `max(0, limit − baseline eligible)`.
    pub headroom: Vec<i64>,
    /// `[buyer]`: some policy has headroom in some month.
    pub has_headroom: Vec<bool>,
    /// First day of each month (the issue days of monthly sales).
    pub sale_days: Vec<i32>,
    /// `sales_before[x]`: number of month starts before day x, for x in 0..=H_days.
    pub sales_before: Vec<u16>,
}

/// Per-thread accumulators of the fast path; [`LateAccumulator::apply`] empties them.
#[derive(Debug, Clone, Default)]
pub struct LateAccumulator {
    /// Signed histogram of the sales' payment lags (terms + delay) in days.
    lags: Vec<i64>,
    /// Month-end range differences of the open invoices' extra outstanding.
    open: Vec<i64>,
    prefix: Vec<i64>,
    touched: bool,
}

impl LateFast {
    /// Compiles the fast-path data of every buyer.
    pub fn compile(plan: &Plan, cash: &CashPlan, month_starts: &[i32]) -> LateFast {
        let n = plan.n_buyers;
        let np = plan.n_policies();
        let h_days = plan.horizon_days;
        let mut fast = LateFast {
            max_delay: Vec::with_capacity(n),
            terms: Vec::with_capacity(n),
            monthly: Vec::with_capacity(n),
            open_offsets: vec![0],
            open: Vec::new(),
            headroom: Vec::with_capacity(n * np * cash.months),
            has_headroom: Vec::with_capacity(n),
            sale_days: month_starts[..cash.months].to_vec(),
            sales_before: (0..=h_days)
                .map(|x| month_starts[..cash.months].iter().filter(|&&d| d < x).count() as u16)
                .collect(),
        };
        let mut scratch = PathScratch::default();
        for b in 0..n {
            let invoices = plan.invoices_of(b);
            let mut overdue = 0;
            let (mut terms, mut monthly) = (0, 0);
            for inv in invoices {
                if inv.issue == i32::MIN {
                    fast.open.push((inv.due, inv.amount));
                    overdue = overdue.max(inv.due - inv.age_due);
                } else {
                    terms = inv.due - inv.issue;
                    monthly = inv.amount;
                }
            }
            fast.open_offsets.push(fast.open.len() as u32);
            let max_delay = plan.stop_deliveries_after_days.min(super::ELIGIBLE_MAX_DAYS_PAST_DUE + 1 - overdue).max(0);
            fast.max_delay.push(max_delay.min(h_days));
            fast.terms.push(terms);
            fast.monthly.push(monthly);
            let base = cash.eligible_path(plan, b, &BuyerState::ON_TIME, &mut scratch);
            let mut any = false;
            for p in 0..np {
                let limit = plan.protected[p * n + b];
                for &e in base {
                    let room = (limit - e).max(0);
                    any |= room > 0;
                    fast.headroom.push(room);
                }
            }
            fast.has_headroom.push(any);
        }
        fast
    }

    /// Adds the correction of buyer `b` paying `delay` days late (`0 < delay <= max_delay[b]`).
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &self,
        plan: &Plan,
        cash: &CashPlan,
        b: usize,
        delay: i32,
        acc: &mut LateAccumulator,
        totals: &mut MonthTotals,
        scratch: &mut PathScratch,
    ) {
        let (h, h_days) = (cash.months, plan.horizon_days as usize);
        acc.ensure(h, h_days);
        acc.touched = true;
        if self.monthly[b] != 0 {
            // Lags past the horizon are never paid inside it: they leave no trace.
            let terms = self.terms[b] as usize;
            if terms < h_days {
                acc.lags[terms] -= self.monthly[b];
            }
            if terms + (delay as usize) < h_days {
                acc.lags[terms + delay as usize] += self.monthly[b];
            }
        }
        let open = &self.open[self.open_offsets[b] as usize..self.open_offsets[b + 1] as usize];
        for &(due, amount) in open {
            let late = due.saturating_add(delay);
            acc.open[cash.ends_up_to(due)] += amount;
            acc.open[cash.ends_up_to(late)] -= amount;
            if let Some(m) = cash.month_of(due) {
                totals.collections[m] -= amount;
            }
            if let Some(m) = cash.month_of(late) {
                totals.collections[m] += amount;
            }
        }
        if !self.has_headroom[b] {
            return;
        }
        // Δ_k: what is still unpaid at the end of month k only because of the delay.
        let delta = &mut scratch.saved;
        delta.clear();
        delta.resize(h, 0);
        let before = |x: i32| -> i64 { self.sales_before[x.clamp(0, h_days as i32) as usize] as i64 };
        if self.monthly[b] != 0 {
            let t = self.terms[b];
            for (k, d) in delta.iter_mut().enumerate() {
                let end = cash.month_end[k];
                *d = self.monthly[b] * (before(end - t) - before(end - t - delay));
            }
        }
        for &(due, amount) in open {
            for d in &mut delta[cash.ends_up_to(due)..cash.ends_up_to(due.saturating_add(delay))] {
                *d += amount;
            }
        }
        let np = plan.n_policies();
        for p in 0..np {
            let room = &self.headroom[(b * np + p) * h..(b * np + p + 1) * h];
            for k in 0..h {
                totals.insured[p * h + k] += delta[k].min(room[k]);
            }
        }
    }
}

impl LateAccumulator {
    fn ensure(&mut self, h: usize, h_days: usize) {
        if self.lags.len() != h_days || self.open.len() != h + 1 {
            self.lags = vec![0; h_days];
            self.open = vec![0; h + 1];
            self.prefix = vec![0; h_days];
        }
    }

    /// Adds the accumulated corrections of receivables, eligible receivables and collections to
    /// `totals` and clears the accumulators.
    pub fn apply(&mut self, plan: &Plan, cash: &CashPlan, fast: &LateFast, totals: &mut MonthTotals) {
        if !self.touched {
            return;
        }
        self.touched = false;
        let (h, h_days) = (cash.months, plan.horizon_days as usize);
        // F(y) = Σ_{lag ≤ y} histogram; paid by the end of month k: Σ_{j ≤ k} F(E_k − d_j − 1).
        let mut run = 0i64;
        for (y, v) in self.lags.iter_mut().enumerate() {
            run += std::mem::take(v);
            self.prefix[y] = run;
        }
        let (mut paid_before, mut open_run) = (0i64, 0i64);
        for k in 0..h {
            let end = cash.month_end[k];
            let paid: i64 = fast
                .sale_days
                .iter()
                .take_while(|&&d| d < end)
                .map(|&d| self.prefix[((end - d - 1) as usize).min(h_days - 1)])
                .sum();
            open_run += std::mem::take(&mut self.open[k]);
            let later = open_run - paid;
            totals.collections[k] += paid - paid_before;
            totals.receivables[k] += later;
            totals.eligible[k] += later;
            paid_before = paid;
        }
        self.open[h] = 0;
    }
}
