//! The cash correction of late buyers in closed form, as deltas over the baseline.
//!
//! About half the buyers pay late in a trial, so a late buyer's correction must cost a handful of
//! array updates rather than a walk over its invoices and months. A late buyer pays every invoice
//! `D` days late. For a *regular* buyer (one sale of `m` a month with `T` days of terms, plus a few
//! open invoices; see [`BuyerCash::REGULAR`]) without a default or a country event:
//!
//! - its sales leave the receivables `T + D` days after issue and the eligible receivables
//!   `T + min(D, 91)` days after issue (more than 90 days past due is not eligible). Summed over
//!   buyers, the sales outstanding at the end of month `k` depend only on a histogram of those lags:
//!   `Σ_b m_b · #{j : d_j < E_k ≤ d_j + L_b} = Σ_j (F(E_k − d_j − 1))` with `F` the prefix sums of
//!   the histogram, so one histogram entry per buyer and O(H²) per trial. Only the comparisons of
//!   a lag with the thresholds `E_k − d_j − 1` matter, so the histogram is kept over *lag classes*
//!   (lags between two consecutive thresholds), at most `H(H+1)/2 + 1` of them (79 for a year)
//!   instead of one entry per day: [`LateFast`]'s lateness table maps a lag to its class;
//! - its few open invoices move one by one (a difference array over month ends);
//! - past `stop_deliveries_after_days` some sales are never made: every delivered invoice due on
//!   `u` stops deliveries over `[u + S, u + D)`. The lost sales of a delay come from one pass over
//!   the months with the delivered sales in a bit mask, and each is removed in O(1);
//! - the insured part under a policy with limit `L` is `min(eligible, L)`, which is not additive.
//!   An [`InsuredRule`] per buyer and policy, compiled once, says for which delays it does not move
//!   (no limit, or receivables at or above `L` in every month) and for which it moves exactly like
//!   the eligible receivables (they stay within `L` in every month) and so joins a histogram; for
//!   the other delays it is computed month by month for that buyer alone.
//!
//! Buyers that are not regular, and late buyers in a country with an event, take the explicit path.
//! Receivables and eligible receivables move together while `D ≤ max_delay`; past it they get
//! separate accumulators. Every figure is the same integer as the explicit path would give (a test
//! compares the two over many trials and delays).

use super::{BuyerCash, CashPlan, ELIGIBLE_MAX_DAYS_PAST_DUE, MonthTotals, OpenInvoice};
use crate::plan::Plan;

/// How a late buyer's insured receivables under one policy move with its delay `D`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsuredRule {
    /// For `D ≤ zero_upto` they do not move.
    pub zero_upto: i32,
    /// Else, for `D ≤ linear_upto`, they move exactly like the eligible receivables.
    pub linear_upto: i32,
}

/// What [`InsuredRule::mode`] says for one delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insured {
    Zero,
    Linear,
    /// Neither: the change is computed month by month for this buyer.
    Direct,
}

impl InsuredRule {
    #[inline]
    pub fn mode(self, delay: i32) -> Insured {
        if delay <= self.zero_upto {
            Insured::Zero
        } else if delay <= self.linear_upto {
            Insured::Linear
        } else {
            Insured::Direct
        }
    }
}

/// Data of the closed-form correction, compiled once per scenario (the per-buyer part is in
/// [`CashPlan::buyers`]).
#[derive(Debug, Clone, Default)]
pub struct LateFast {
    /// First day of each month (the issue days of monthly sales).
    pub sale_days: Vec<i32>,
    /// `[policy × n + buyer]`: the rules of buyers whose limit differs between policies.
    pub rules: Vec<InsuredRule>,
    /// `[buyer × H + k]`: a regular buyer's eligible receivables on time at the end of month k.
    base: Vec<i64>,
    /// The lateness table: `[lag]` (days after issue, inside the horizon) → lag class.
    lag_class: Vec<u16>,
    /// Number of lag classes (the length of every lag histogram).
    n_classes: usize,
    /// `[k × H + j]`: the last class of lags still outstanding at month end `k` for the sale of
    /// month `j` (for `d_j < E_k`): the class of `E_k − d_j − 1`.
    gone_upto: Vec<u16>,
    /// Lost sales fit in a bit mask (H ≤ 64): delivery stops have a closed form.
    stops_closed: bool,
}

/// Extra amounts outstanding at month ends, accumulated over the late buyers of a trial.
#[derive(Debug, Clone, Default)]
struct Shift {
    /// Signed histogram of the monthly sales' leaving lags, by lag class.
    lag: Vec<i64>,
    /// Difference array over month-end indices of amounts moved one by one.
    range: Vec<i64>,
    touched: bool,
}

impl Shift {
    /// Sales of `m` leave `to` days after issue instead of `from` (lags past the horizon are
    /// never reached inside it and leave no trace).
    #[inline]
    fn move_sales(&mut self, class: &[u16], m: i64, from: i32, to: i32) {
        if let Some(&c) = class.get(from as usize) {
            self.lag[c as usize] -= m;
        }
        if let Some(&c) = class.get(to as usize) {
            self.lag[c as usize] += m;
        }
    }

    /// `amount` stays outstanding up to month end index `to` instead of `from` (negative
    /// extra amounts when `to < from`).
    #[inline]
    fn move_range(&mut self, amount: i64, from: usize, to: usize) {
        self.range[from] += amount;
        self.range[to] -= amount;
    }

    /// If anything was added: writes the extra amount outstanding at each month end to
    /// `out.later` and the signed amount of sales that left by each month end to `out.left`,
    /// clears the accumulator and returns true.
    fn drain(&mut self, fast: &LateFast, month_end: &[i32], out: &mut Drained) -> bool {
        if !self.touched {
            return false;
        }
        self.touched = false;
        let Drained { prefix, later, left } = out;
        let mut run = 0i64;
        for (p, v) in prefix.iter_mut().zip(self.lag.iter_mut()) {
            run += std::mem::take(v);
            *p = run;
        }
        let (h, mut open) = (fast.sale_days.len(), 0i64);
        for (k, &end) in month_end.iter().enumerate() {
            let sold = fast.sale_days.iter().take_while(|&&d| d < end).count();
            let gone: i64 = fast.gone_upto[k * h..k * h + sold].iter().map(|&c| prefix[c as usize]).sum();
            open += std::mem::take(&mut self.range[k]);
            later[k] = open - gone;
            left[k] = gone;
        }
        self.range[month_end.len()] = 0;
        true
    }
}

/// Buffers of [`Shift::drain`].
#[derive(Debug, Clone, Default)]
struct Drained {
    prefix: Vec<i64>,
    later: Vec<i64>,
    left: Vec<i64>,
}

/// Per-thread accumulators of the closed-form correction; [`LateAccumulator::apply`] empties them.
#[derive(Debug, Clone, Default)]
pub struct LateAccumulator {
    /// Receivables and eligible receivables (`D ≤ max_delay`); `[1]`: insured under every policy too.
    both: [Shift; 2],
    /// Receivables only (`D > max_delay`).
    rec: Shift,
    /// Eligible receivables only (`D > max_delay`); `[1]`: insured under every policy too.
    elig: [Shift; 2],
    /// Insured receivables under one policy (buyers whose limit differs between policies).
    ins: Vec<Shift>,
    out: Drained,
    /// Insured change of buyers whose limit is the same under every policy.
    ins_all: Vec<i64>,
    ins_all_touched: bool,
    /// Buffer of [`Late::eligible_late`].
    late: Vec<i64>,
}

impl LateFast {
    /// Compiles the closed-form data and every regular buyer's [`InsuredRule`]s.
    pub fn compile(plan: &Plan, cash: &mut CashPlan, month_starts: &[i32]) -> LateFast {
        let (n, np) = (plan.n_buyers, plan.n_policies());
        let sale_days = month_starts[..cash.months].to_vec();
        let (lag_class, n_classes, gone_upto) = lag_classes(&sale_days, &cash.month_end, plan.horizon_days);
        let mut fast = LateFast {
            sale_days,
            rules: Vec::new(),
            base: vec![0; n * cash.months],
            lag_class,
            n_classes,
            gone_upto,
            stops_closed: cash.months <= 64,
        };
        let (h, mut path) = (cash.months, Vec::new());
        for b in 0..n {
            let bc = cash.buyers[b];
            if !bc.has(BuyerCash::REGULAR) {
                continue;
            }
            eligible(cash, &bc, bc.terms, |o| o.due.min(o.aged), plan.horizon_days, &mut path);
            let base = &mut fast.base[b * h..(b + 1) * h];
            base.copy_from_slice(&path);
            let base = &*base;
            if bc.has(BuyerCash::SHARED_LIMIT) {
                let limit = if np > 0 { plan.protected[b] } else { 0 };
                cash.buyers[b].rule = insured_rule(cash, plan, &bc, base, limit, &mut path);
            } else {
                if fast.rules.is_empty() {
                    fast.rules = vec![InsuredRule::default(); n * np];
                }
                for p in 0..np {
                    fast.rules[p * n + b] = insured_rule(cash, plan, &bc, base, plan.protected[p * n + b], &mut path);
                }
            }
        }
        fast
    }

    /// Adds the correction of buyer `b` (data `bc`, no default, no country event) paying `delay`
    /// days late (`delay > 0`) when a closed form applies, and returns whether it did; on `false`
    /// nothing has changed and the caller takes the explicit path.
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
    ) -> bool {
        let stop = plan.stop_deliveries_after_days;
        let stops = delay > stop && bc.monthly != 0;
        if !bc.has(BuyerCash::REGULAR) || (stops && !self.stops_closed) {
            return false;
        }
        let (n, np, h) = (plan.n_buyers, plan.n_policies(), cash.months);
        acc.ensure(h, self.n_classes, np);
        let late = Late {
            cash,
            days: &self.sale_days,
            class: &self.lag_class,
            bc,
            open: cash.open_of(bc),
            delay,
            lost: if stops { self.lost_sales(cash.open_of(bc), bc.terms, delay, stop) } else { 0 },
        };
        for o in late.open {
            if o.month != u16::MAX {
                totals.collections[o.month as usize] -= o.amount;
            }
            if let Some(k) = cash.month_of(o.due.saturating_add(delay)) {
                totals.collections[k] += o.amount;
            }
        }
        for j in late.lost_months() {
            totals.sales[j] -= bc.monthly;
            if let Some(k) = cash.month_of(late.paid(j)) {
                totals.collections[k] -= bc.monthly;
            }
        }
        let shared = bc.has(BuyerCash::SHARED_LIMIT);
        let all = usize::from(shared && bc.rule.mode(delay) == Insured::Linear);
        if delay <= bc.max_delay {
            // Receivables and eligible receivables move together (nothing is lost or aged).
            late.move_eligible(&mut acc.both[all]);
        } else {
            late.move_receivables(&mut acc.rec);
            late.move_eligible(&mut acc.elig[all]);
        }
        let base = &self.base[b * h..(b + 1) * h];
        if shared {
            if bc.rule.mode(delay) == Insured::Direct {
                acc.ins_all_touched = true;
                late.eligible_late(plan.horizon_days, base, &mut acc.late);
                add_insured_change(&mut acc.ins_all, &acc.late, base, plan.protected[b]);
            }
            return true;
        }
        for p in 0..np {
            match self.rules[p * n + b].mode(delay) {
                Insured::Zero => {}
                Insured::Linear => late.move_eligible(&mut acc.ins[p]),
                Insured::Direct => {
                    late.eligible_late(plan.horizon_days, base, &mut acc.late);
                    let limit = plan.protected[p * n + b];
                    add_insured_change(&mut totals.insured[p * h..(p + 1) * h], &acc.late, base, limit);
                }
            }
        }
        true
    }

    /// Hints the processor to load what [`LateFast::add`] will read for buyer `b`: its open
    /// invoices and on-time eligible receivables (its [`BuyerCash`] must be cached already, see
    /// [`prefetch`]). Late buyers are spread over the whole portfolio, so without the hint most of
    /// their data arrives from memory only when it is needed. Measured: 4–6% of the full model's
    /// single-thread time (minimum of five alternating runs, three repetitions).
    #[inline]
    pub fn prefetch(&self, cash: &CashPlan, b: usize) {
        let bc = &cash.buyers[b];
        prefetch(cash.open.as_ptr().wrapping_add(bc.open_start as usize));
        let row = self.base.as_ptr().wrapping_add(b * cash.months);
        prefetch(row);
        prefetch(row.wrapping_add(8));
    }

    /// The monthly sales (bit j = month j) never made when every invoice is paid `delay > stop`
    /// days late: a delivered invoice due on `u` stops deliveries over `[u + stop, u + delay)`.
    /// Mirrors `for_each_delivered`: only the latest delivered due day `u ≤ issue − stop` matters.
    fn lost_sales(&self, open: &[OpenInvoice], terms: i32, delay: i32, stop: i32) -> u64 {
        let days = &self.sale_days;
        let (mut delivered, mut lost) = (0u64, 0u64);
        let (mut last_open, mut next_open, mut due_before) = (None, 0usize, 0usize);
        for (j, &issue) in days.iter().enumerate() {
            let x = issue - stop;
            while next_open < open.len() && open[next_open].due <= x {
                last_open = Some(open[next_open].due);
                next_open += 1;
            }
            while due_before < j && days[due_before] + terms <= x {
                due_before += 1;
            }
            // Delivered sales due on or before x (due_before < j ≤ 63).
            let candidates = delivered & ((1u64 << due_before) - 1);
            let last_sale = (candidates != 0).then(|| days[63 - candidates.leading_zeros() as usize] + terms);
            let stopped = match (last_open, last_sale) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            }
            .is_some_and(|u| issue < u.saturating_add(delay));
            if stopped {
                lost |= 1 << j;
            } else {
                delivered |= 1 << j;
            }
        }
        lost
    }
}

/// One late buyer of a trial: what its moves need.
struct Late<'a> {
    cash: &'a CashPlan,
    days: &'a [i32],
    /// The lateness table ([`LateFast::lag_class`]).
    class: &'a [u16],
    bc: &'a BuyerCash,
    open: &'a [OpenInvoice],
    delay: i32,
    /// Sales never made (bit j = month j).
    lost: u64,
}

impl Late<'_> {
    /// The months whose sale is lost, in order.
    #[inline]
    fn lost_months(&self) -> impl Iterator<Item = usize> {
        let mut lost = self.lost;
        std::iter::from_fn(move || {
            (lost != 0).then(|| {
                let j = lost.trailing_zeros() as usize;
                lost &= lost - 1;
                j
            })
        })
    }

    /// Day a sale of month `j` is paid.
    #[inline]
    fn paid(&self, j: usize) -> i32 {
        (self.days[j] + self.bc.terms).saturating_add(self.delay)
    }

    /// Day a sale of month `j` leaves the eligible receivables (paid, or more than 90 days past due).
    #[inline]
    fn ineligible(&self, j: usize) -> i32 {
        self.paid(j).min(self.days[j] + self.bc.terms + ELIGIBLE_MAX_DAYS_PAST_DUE + 1)
    }

    /// Everything leaves the receivables `delay` days later; lost sales never enter.
    fn move_receivables(&self, s: &mut Shift) {
        let (cash, bc, d) = (self.cash, self.bc, self.delay);
        s.touched = true;
        s.move_sales(self.class, bc.monthly, bc.terms, bc.terms.saturating_add(d));
        for o in self.open {
            s.move_range(o.amount, o.ends as usize, cash.ends_up_to(o.due.saturating_add(d)));
        }
        for j in self.lost_months() {
            s.move_range(bc.monthly, cash.ends_up_to(self.paid(j)), j);
        }
    }

    /// Everything leaves the eligible receivables `delay` days later or when more than 90 days
    /// past due; lost sales never enter.
    fn move_eligible(&self, s: &mut Shift) {
        let (cash, bc, d) = (self.cash, self.bc, self.delay);
        s.touched = true;
        s.move_sales(self.class, bc.monthly, bc.terms, bc.terms + d.min(ELIGIBLE_MAX_DAYS_PAST_DUE + 1));
        for o in self.open {
            let from = cash.ends_up_to(o.due.min(o.aged));
            s.move_range(o.amount, from, cash.ends_up_to(o.due.saturating_add(d).min(o.aged)));
        }
        for j in self.lost_months() {
            s.move_range(bc.monthly, cash.ends_up_to(self.ineligible(j)), j);
        }
    }

    /// The buyer's eligible receivables at each month end into `late`, from its on-time ones.
    fn eligible_late(&self, h_days: i32, base: &[i64], late: &mut Vec<i64>) {
        let (cash, bc, d) = (self.cash, self.bc, self.delay);
        let (on_time, _) = cash.sales_tables(bc.terms, h_days);
        let (paid_late, _) = cash.sales_tables(bc.terms + d.min(ELIGIBLE_MAX_DAYS_PAST_DUE + 1), h_days);
        let m = bc.monthly;
        late.clear();
        late.extend(base.iter().zip(on_time.iter().zip(paid_late)).map(|(&e, (&a, &b))| e + m * (b as i64 - a as i64)));
        for o in self.open {
            let from = cash.ends_up_to(o.due.min(o.aged));
            for e in &mut late[from..cash.ends_up_to(o.due.saturating_add(d).min(o.aged))] {
                *e += o.amount;
            }
        }
        for j in self.lost_months() {
            for e in &mut late[j..cash.ends_up_to(self.ineligible(j))] {
                *e -= m;
            }
        }
    }
}

/// The lateness table of a horizon of `h_days` days: each lag (days after issue) mapped to its
/// class, the number of classes, and `[k × H + j]` the class of `E_k − d_j − 1` (for `d_j < E_k`).
///
/// Only whether a sale issued on `d_j` is still outstanding at month end `E_k`, that is whether
/// its lag exceeds `t = E_k − d_j − 1` (lags at or past the horizon leave no trace, so `t` is
/// capped at its last day), enters the month totals. With the distinct thresholds sorted,
/// `t_0 < t_1 < …`, the class of a lag is the number of thresholds below it; then
/// `lag ≤ t_i ⇔ class ≤ i`, so the prefix sums over classes give the same figures as over days.
fn lag_classes(sale_days: &[i32], month_end: &[i32], h_days: i32) -> (Vec<u16>, usize, Vec<u16>) {
    let (h, last) = (sale_days.len(), h_days.max(1) - 1);
    let threshold = |end: i32, d: i32| (end - d - 1).min(last);
    let mut thresholds: Vec<i32> = month_end
        .iter()
        .flat_map(|&end| sale_days.iter().take_while(move |&&d| d < end).map(move |&d| threshold(end, d)))
        .collect();
    thresholds.sort_unstable();
    thresholds.dedup();
    let class_of = |lag: i32| thresholds.partition_point(|&t| t < lag) as u16;
    let lag_class = (0..=last).map(class_of).collect();
    let mut gone_upto = vec![0; month_end.len() * h];
    for (k, &end) in month_end.iter().enumerate() {
        for (j, &d) in sale_days.iter().enumerate().take_while(|&(_, &d)| d < end) {
            gone_upto[k * h + j] = class_of(threshold(end, d));
        }
    }
    (lag_class, thresholds.len() + 1, gone_upto)
}

/// Adds the change of the insured receivables under `limit`, `min(late, limit) − min(base, limit)`.
#[inline]
fn add_insured_change(to: &mut [i64], late: &[i64], base: &[i64], limit: i64) {
    for ((t, &l), &e) in to.iter_mut().zip(late).zip(base) {
        *t += l.min(limit) - e.min(limit);
    }
}

impl LateAccumulator {
    fn ensure(&mut self, h: usize, classes: usize, policies: usize) {
        if self.out.prefix.len() != classes || self.out.later.len() != h || self.ins.len() != policies {
            let shift = Shift { lag: vec![0; classes], range: vec![0; h + 1], touched: false };
            self.both = [shift.clone(), shift.clone()];
            self.rec = shift.clone();
            self.elig = [shift.clone(), shift.clone()];
            self.ins = vec![shift; policies];
            self.out = Drained { prefix: vec![0; classes], later: vec![0; h], left: vec![0; h] };
            self.ins_all = vec![0; h];
        }
    }

    /// Adds the accumulated corrections to `totals` and clears the accumulators.
    pub fn apply(&mut self, cash: &CashPlan, fast: &LateFast, totals: &mut MonthTotals) {
        let h = cash.months;
        let LateAccumulator { both, rec, elig, ins, out, ins_all, ins_all_touched, .. } = self;
        if std::mem::take(ins_all_touched) {
            add_insured_all(totals, ins_all, h);
            ins_all.fill(0);
        }
        let ends = &cash.month_end[..];
        for (i, s) in both.iter_mut().enumerate() {
            if s.drain(fast, ends, out) {
                add_received(totals, &out.left);
                add(&mut totals.receivables, &out.later);
                add(&mut totals.eligible, &out.later);
                if i == 1 {
                    add_insured_all(totals, &out.later, h);
                }
            }
        }
        if rec.drain(fast, ends, out) {
            add_received(totals, &out.left);
            add(&mut totals.receivables, &out.later);
        }
        for (i, s) in elig.iter_mut().enumerate() {
            if s.drain(fast, ends, out) {
                add(&mut totals.eligible, &out.later);
                if i == 1 {
                    add_insured_all(totals, &out.later, h);
                }
            }
        }
        for (p, s) in ins.iter_mut().enumerate() {
            if s.drain(fast, ends, out) {
                add(&mut totals.insured[p * h..(p + 1) * h], &out.later);
            }
        }
    }
}

fn add(to: &mut [i64], from: &[i64]) {
    for (t, f) in to.iter_mut().zip(from) {
        *t += f;
    }
}

/// Collections of each month from the amounts of sales paid by each month end.
fn add_received(totals: &mut MonthTotals, paid_by: &[i64]) {
    let mut before = 0;
    for (c, &paid) in totals.collections.iter_mut().zip(paid_by) {
        *c += paid - before;
        before = paid;
    }
}

fn add_insured_all(totals: &mut MonthTotals, later: &[i64], h: usize) {
    for chunk in totals.insured.chunks_exact_mut(h) {
        add(chunk, later);
    }
}

/// The [`InsuredRule`] of a regular buyer (on-time eligible receivables `base`) under a policy
/// that protects it up to `limit`; `path` is a buffer.
fn insured_rule(
    cash: &CashPlan,
    plan: &Plan,
    bc: &BuyerCash,
    base: &[i64],
    limit: i64,
    path: &mut Vec<i64>,
) -> InsuredRule {
    if limit == 0 {
        return InsuredRule { zero_upto: i32::MAX, linear_upto: i32::MAX };
    }
    let h_days = plan.horizon_days;
    let max_delay = bc.max_delay;
    // Eligible receivables at their largest (every invoice eligible up to 90 days past due, every
    // sale made: no delay gives more in any month), and paying `d` days late with `d ≤ max_delay`
    // (non-decreasing in `d`).
    eligible(cash, bc, bc.terms + ELIGIBLE_MAX_DAYS_PAST_DUE + 1, |o| o.aged, h_days, path);
    let upper = path.iter().copied().max().unwrap_or(0);
    let zero_upto = if base.iter().all(|&e| e >= limit) { max_delay } else { 0 };
    let linear_upto = if upper <= limit {
        i32::MAX
    } else if base.iter().all(|&e| e <= limit) {
        let (mut lo, mut hi) = (0, max_delay);
        while lo < hi {
            let mid = lo + (hi - lo + 1) / 2;
            eligible(cash, bc, bc.terms + mid, |o| o.due + mid, h_days, path);
            if path.iter().all(|&e| e <= limit) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    } else {
        0
    };
    InsuredRule { zero_upto, linear_upto }
}

/// A regular buyer's eligible receivables at each month end when its sales leave `sales_lag` days
/// after issue and each open invoice on `leaves(invoice)`.
fn eligible(
    cash: &CashPlan,
    bc: &BuyerCash,
    sales_lag: i32,
    leaves: impl Fn(&OpenInvoice) -> i32,
    h_days: i32,
    out: &mut Vec<i64>,
) {
    let (unpaid, _) = cash.sales_tables(sales_lag, h_days);
    out.clear();
    out.extend(unpaid.iter().map(|&c| bc.monthly * c as i64));
    for o in cash.open_of(bc) {
        for e in &mut out[..cash.ends_up_to(leaves(o))] {
            *e += o.amount;
        }
    }
}

/// Asks the processor to bring the cache line holding `p` closer (a hint: no effect on results).
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and does not access memory architecturally, whatever the
    // address; the pointer is only used as a hint.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::lag_classes;

    /// The table keeps exactly the comparisons the month totals use: for every lag inside the
    /// horizon and every (month end, sale month), "the sale is still outstanding" reads the same
    /// from the class as from the day count, and no class is wasted (each holds some lag).
    #[test]
    fn lag_classes_keep_every_month_end_comparison() {
        // Month starts and ends of a 12-month calendar from 1 March (31, 30, 31, 30, … days),
        // and of its first six months.
        let lens = [31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28];
        for h in [12, 6] {
            let starts: Vec<i32> = lens[..h].iter().scan(0, |d, &l| Some(std::mem::replace(d, *d + l))).collect();
            let ends: Vec<i32> = starts.iter().zip(&lens).map(|(&s, &l)| s + l - 1).collect();
            let h_days = ends[h - 1] + 1;
            let (class, n, gone) = lag_classes(&starts, &ends, h_days);
            assert_eq!(class.len(), h_days as usize);
            assert!(n <= h * (h + 1) / 2 + 1, "{n} classes for {h} months");
            let mut used = vec![false; n];
            for &c in &class {
                used[c as usize] = true;
            }
            assert!(used.iter().all(|&u| u), "an empty class for {h} months");
            for (k, &end) in ends.iter().enumerate() {
                for (j, &d) in starts.iter().enumerate().take_while(|&(_, &d)| d < end) {
                    let t = end - d - 1;
                    for lag in 0..h_days {
                        let by_day = lag <= t;
                        let by_class = class[lag as usize] <= gone[k * h + j];
                        assert_eq!(by_day, by_class, "lag {lag}, month end {end}, sale day {d}, {h} months");
                    }
                }
            }
        }
    }
}
