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
//!   policy p grows by `min(Δ_k, max(0, limit − base_k)) = min(base_k + Δ_k, limit) − min(base_k,
//!   limit)`, `base_k` being the on-time eligible receivables. Both paths come in closed form from
//!   the buyer's monthly sale, terms and open invoices (tables of sales outstanding per payment lag
//!   and month, [`CashPlan::sales_tables`]), so nothing is stored per buyer and month. Buyers with
//!   no headroom in any month (no limit, or always at it) skip this step; a buyer whose limit is
//!   the same under every policy is accumulated once and added to each policy at the end.
//!
//! Every figure is the same integer as the explicit path would give (a test compares the two).

use super::{BuyerCash, CashPlan, MonthTotals, PathScratch};
use crate::plan::Plan;

/// Data of the fast path, compiled once per scenario (the per-buyer part is in
/// [`CashPlan::buyers`]: terms, monthly sales, open invoices, limits and `max_delay`).
#[derive(Debug, Clone, Default)]
pub struct LateFast {
    /// First day of each month (the issue days of monthly sales).
    pub sale_days: Vec<i32>,
}

/// Per-thread accumulators of the fast path; [`LateAccumulator::apply`] empties them.
#[derive(Debug, Clone, Default)]
pub struct LateAccumulator {
    /// Signed histogram of the sales' payment lags (terms + delay) in days.
    lags: Vec<i64>,
    /// Month-end range differences of the open invoices' extra outstanding.
    open: Vec<i64>,
    prefix: Vec<i64>,
    /// Insured correction of the buyers whose limit is the same under every policy.
    shared: Vec<i64>,
    touched: bool,
}

impl LateFast {
    /// Compiles the fast-path data of every buyer.
    pub fn compile(cash: &CashPlan, month_starts: &[i32]) -> LateFast {
        LateFast { sale_days: month_starts[..cash.months].to_vec() }
    }

    /// Adds the correction of buyer `b` (with data `bc`) paying `delay` days late
    /// (`0 < delay <= bc.max_delay`).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn add(
        &self,
        plan: &Plan,
        cash: &CashPlan,
        b: usize,
        bc: &BuyerCash,
        delay: i32,
        acc: &mut LateAccumulator,
        totals: &mut MonthTotals,
        scratch: &mut PathScratch,
    ) {
        let (h, h_days) = (cash.months, plan.horizon_days as usize);
        acc.ensure(h, h_days);
        acc.touched = true;
        let m = bc.monthly;
        if m != 0 {
            // Lags past the horizon are never paid inside it: they leave no trace.
            let terms = bc.terms as usize;
            if terms < h_days {
                acc.lags[terms] -= m;
            }
            if terms + (delay as usize) < h_days {
                acc.lags[terms + delay as usize] += m;
            }
        }
        let open = &cash.open[bc.open_start as usize..bc.open_start as usize + bc.open_len as usize];
        for o in open {
            let late = o.due.saturating_add(delay);
            acc.open[o.ends as usize] += o.amount;
            acc.open[cash.ends_up_to(late)] -= o.amount;
            if o.month != u16::MAX {
                totals.collections[o.month as usize] -= o.amount;
            }
            if let Some(m) = cash.month_of(late) {
                totals.collections[m] += o.amount;
            }
        }
        if !bc.has(BuyerCash::HEADROOM) {
            return;
        }
        // Eligible receivables on time (`base`) and paying late (`late`, ≥ base): the insured part
        // grows by min(Δ, max(0, limit − base)) = min(late, limit) − min(base, limit).
        let (base, late) = (&mut scratch.base, &mut scratch.late);
        let (unpaid_on_time, _) = cash.sales_tables(bc.terms, plan.horizon_days);
        let (unpaid_late, _) = cash.sales_tables(bc.terms + delay, plan.horizon_days);
        base.clear();
        base.extend(unpaid_on_time.iter().map(|&c| m * c as i64));
        late.clear();
        late.extend(unpaid_late.iter().map(|&c| m * c as i64));
        for o in open {
            for e in &mut base[..o.ends as usize] {
                *e += o.amount;
            }
            for e in &mut late[..cash.ends_up_to(o.due.saturating_add(delay))] {
                *e += o.amount;
            }
        }
        if bc.has(BuyerCash::SHARED_LIMIT) {
            let limit = bc.limit;
            for ((s, &l), &e) in acc.shared.iter_mut().zip(late.iter()).zip(base.iter()) {
                *s += l.min(limit) - e.min(limit);
            }
            return;
        }
        let n = plan.n_buyers;
        for p in 0..plan.n_policies() {
            let limit = plan.protected[p * n + b];
            for ((s, &l), &e) in totals.insured[p * h..(p + 1) * h].iter_mut().zip(late.iter()).zip(base.iter()) {
                *s += l.min(limit) - e.min(limit);
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
            self.shared = vec![0; h];
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
        for p in 0..plan.n_policies() {
            for (ins, &s) in totals.insured[p * h..(p + 1) * h].iter_mut().zip(self.shared.iter()) {
                *ins += s;
            }
        }
        self.shared.fill(0);
    }
}
