//! The monthly cash path (SPEC §4.7): collections, recoveries kept, claims received, premium
//! instalments and outflows; the borrowing base, the available facility and the shortfall.
//!
//! The baseline (everyone pays on time, no event) is computed once per scenario as month totals.
//! A trial starts from those totals and corrects them only for the buyers whose behaviour differs
//! (defaults): each such buyer's baseline path is subtracted and its actual path added, so a trial
//! costs O(events × months), not O(buyers × months).

use crate::claims::Peril;
use crate::model::{Company, DefaultKind};
use crate::money::{apply_ppb, rate_to_ppb, to_cents};
use crate::plan::{CREDITED, CollectionPlan, NEVER_DUE, Plan, PolicyPlan, ScheduledInvoice};
use rust_decimal::Decimal;

mod late;
pub use late::{Insured, InsuredRule, LateAccumulator, LateFast, prefetch};

/// Days past due after which a receivable is no longer eligible for the borrowing base.
pub const ELIGIBLE_MAX_DAYS_PAST_DUE: i32 = 90;

/// Per-month totals of a trial (or of the baseline), month `k` at index `k − 1`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonthTotals {
    /// Buyers' payments received in the month.
    pub collections: Vec<i64>,
    /// Invoices issued (sales made) in the month.
    pub sales: Vec<i64>,
    /// Receivables outstanding at month end.
    pub receivables: Vec<i64>,
    /// Eligible receivables at month end: not defaulted, not more than 90 days past due.
    pub eligible: Vec<i64>,
    /// Insured eligible receivables per policy, `[policy × H + month]`.
    pub insured: Vec<i64>,
    /// Recoveries received in the month (the insurer's share is paid back in `shares`).
    pub recoveries: Vec<i64>,
    /// Claims received per policy, `[policy × H + month]`.
    pub claims: Vec<i64>,
    /// Insurer's share of recoveries paid back per policy, `[policy × H + month]`.
    pub shares: Vec<i64>,
    /// Early-payment discounts granted on the payments inside the horizon (already off
    /// `collections`).
    pub discounts: i64,
}

impl MonthTotals {
    fn zeros(months: usize, policies: usize) -> Self {
        MonthTotals {
            collections: vec![0; months],
            sales: vec![0; months],
            receivables: vec![0; months],
            eligible: vec![0; months],
            insured: vec![0; months * policies],
            recoveries: vec![0; months],
            claims: vec![0; months * policies],
            shares: vec![0; months * policies],
            discounts: 0,
        }
    }

    /// Overwrites `self` with `other` without allocating.
    pub fn copy_from(&mut self, other: &MonthTotals) {
        self.collections.copy_from_slice(&other.collections);
        self.sales.copy_from_slice(&other.sales);
        self.receivables.copy_from_slice(&other.receivables);
        self.eligible.copy_from_slice(&other.eligible);
        self.insured.copy_from_slice(&other.insured);
        self.recoveries.copy_from_slice(&other.recoveries);
        self.claims.copy_from_slice(&other.claims);
        self.shares.copy_from_slice(&other.shares);
        self.discounts = other.discounts;
    }
}

/// The company's cash terms and the baseline, compiled for one scenario.
#[derive(Debug, Clone)]
pub struct CashPlan {
    pub months: usize,
    /// `E_k`: first day of month k+1 (the end of month k), for k = 1..H.
    pub month_end: Vec<i32>,
    /// Month index (0-based) of each day of the horizon.
    pub day_month: Vec<u16>,
    pub opening_cash: i64,
    pub fixed_outflows: i64,
    pub variable_cost_ppb: i64,
    pub credit_line: i64,
    pub advance_insured_ppb: i64,
    pub advance_uninsured_ppb: i64,
    pub minimum_cash: i64,
    pub bad_debt_reserve: Option<i64>,
    /// Premium instalments per policy and month, `[policy × H + month]`.
    pub premium_instalments: Vec<i64>,
    /// Month totals when every buyer pays on time and nothing happens.
    pub baseline: MonthTotals,
    /// The closed-form correction of late buyers (`None`: every late buyer is corrected
    /// explicitly, which gives the same figures more slowly).
    pub late: Option<LateFast>,
    /// Per buyer: what the closed-form on-time path and the fast late path need.
    pub buyers: Vec<BuyerCash>,
    /// Open invoices of every buyer (ranges in [`BuyerCash`]).
    pub open: Vec<OpenInvoice>,
    /// `[lag × H + k]` for `lag` in `0..=H_days`: number of monthly sales outstanding at the end
    /// of month k when each is paid `lag` days after its issue (`lag ≥ H_days`: all of them).
    pub unpaid: Vec<u16>,
    /// `[lag × H + k]`: number of monthly sales paid in month k when paid `lag` days after issue.
    pub paid_in: Vec<u16>,
    /// On-time eligible receivables at each month end of every buyer with overdue invoices, `[i × H
    /// + k]` in `plan.collections.buyers` order: a drawn collection recomputes the buyer's insured
    /// receivables from them ([`CashPlan::add_drawn_collection`]).
    pub overdue_eligible: Vec<i64>,
    /// What the curves' pieces of each buyer with overdue invoices add, `3H + 2` values per buyer
    /// in `plan.collections.buyers` order: collections per month, then the differences of its
    /// receivables and of its eligible receivables over the month ends (`H + 1` each).
    pub overdue_expected: Vec<i64>,
}

/// A buyer's cash data in the form the per-trial corrections read it: 32 bytes, one load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuyerCash {
    /// Amount of each monthly sale (0 = no sales).
    pub monthly: i64,
    /// Range of the buyer's open invoices in [`CashPlan::open`].
    pub open_start: u32,
    pub open_len: u16,
    pub flags: u8,
    /// Payment terms of the monthly sales in days.
    pub terms: i32,
    /// Largest delay for which the buyer is simply late: no delivery stop and no receivable more
    /// than 90 days past due, so receivables and eligible receivables move together (0 = never).
    pub max_delay: i32,
    /// How the insured receivables move with the delay, when the protected limit is the same
    /// under every policy ([`BuyerCash::SHARED_LIMIT`]; else [`LateFast`] holds one per policy).
    pub rule: InsuredRule,
}

impl BuyerCash {
    /// The on-time path is the closed form of [`CashPlan::on_time_path`] (checked at compile
    /// time against the explicit walk).
    pub const REGULAR: u8 = 1;
    /// Every policy has the same protected limit.
    pub const SHARED_LIMIT: u8 = 4;

    #[inline]
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// An open invoice (issued before day 0) as the closed-form paths read it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenInvoice {
    /// Payment due day.
    pub due: i32,
    /// Number of month ends on or before the due day.
    pub ends: u16,
    /// Month of the due day (`u16::MAX`: outside the horizon).
    pub month: u16,
    /// Day from which it is more than 90 days past due (no longer eligible).
    pub aged: i32,
    pub amount: i64,
}

/// Why a buyer's path differs from its baseline in a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BuyerState {
    /// Default day and kind.
    pub default: Option<(i32, DefaultKind)>,
    /// First day from which nothing more is delivered (insolvency day, or the protracted default's
    /// stop day); `i32::MAX` = never.
    pub delivery_stop: i32,
    /// Day the unpaid invoices of a defaulted buyer leave the receivables (its recovery day).
    pub write_off: i32,
    /// Days every invoice is paid late (a buyer that does not default).
    pub delay: i32,
    /// A country event of the buyer's country (a buyer that does not default).
    pub event: Option<CountryEvent>,
    /// A cut of the buyer's credit limit (a buyer that does not default).
    pub cut: Option<Cut>,
    /// The trial's draw of the collection of the buyer's overdue invoices
    /// ([`crate::plan::CollectionPlan`]; only for a buyer that is otherwise on time). `None`: the
    /// curve's expected collections.
    pub collect: Option<u32>,
    /// The collection agency's fee on every payment (a buyer handed over by the dunning ladder),
    /// in parts per billion (0: none).
    pub fee_ppb: i64,
}

impl BuyerState {
    /// Everyone pays on time and delivery never stops.
    pub const ON_TIME: BuyerState = BuyerState {
        default: None,
        delivery_stop: i32::MAX,
        write_off: i32::MAX,
        delay: 0,
        event: None,
        cut: None,
        collect: None,
        fee_ppb: 0,
    };
}

/// A cut of a buyer's credit limit taking effect on `day` (SPEC §5.4): from that day the seller
/// ships only while the buyer's outstanding stays within `ship_limit`, and invoices issued on or
/// after it are covered only within the new limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub day: i32,
    pub ship_limit: i64,
}

/// The protected limit in force after a cut (SPEC §5 step 3, §5.4): `max(new, min(O, old))`, `O`
/// what is still outstanding of the deliveries made before the cut took effect. Those stay covered
/// within the old limit; the deliveries made since are covered only within the new limit, with `O`
/// counted against it.
#[inline]
pub fn run_off_limit(old: i64, cut_to_ppb: i64, outstanding_before: i64) -> i64 {
    apply_ppb(old, cut_to_ppb).max(outstanding_before.min(old))
}

/// Reusable buffers of [`for_each_delivered`].
#[derive(Debug, Clone, Default)]
pub struct DeliveryScratch {
    /// Due days of the invoices delivered so far (for lateness delivery stops).
    due: Vec<i32>,
    /// (day it leaves the receivables, amount) of the invoices delivered so far (for a cut).
    live: Vec<(i32, i64)>,
}

/// A country event affecting a buyer: payments falling in `[start, end)` are blocked; at `end` the
/// share `transfer_ppb` of them is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountryEvent {
    pub start: i32,
    pub end: i32,
    pub transfer_ppb: i64,
}

/// How a delivered invoice ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Paid on that day.
    Paid(i32),
    /// Never paid (the buyer defaulted before it was due).
    Unpaid,
    /// Its payment, scheduled inside a country event, is blocked until the event ends.
    Blocked { scheduled: i32, until: i32 },
}

impl Settle {
    /// The day the invoice leaves the receivables (`write_off`: the defaulted buyer's recovery day).
    #[inline]
    pub fn leaves(self, write_off: i32) -> i32 {
        match self {
            Settle::Paid(day) => day,
            Settle::Unpaid => write_off,
            Settle::Blocked { until, .. } => until,
        }
    }
}

/// Calls `f` for each invoice of buyer `b` that is delivered under `state`, in due order, with how
/// it ends (SPEC §4.1–§4.4, §5.4): no delivery from the delivery stop, while the buyer's country
/// has an event, or while an invoice is more than `stop_deliveries_after_days` late; after a limit
/// cut only what keeps the buyer's outstanding within the new limit (the invoice is cut to the room
/// left, the rest of the sale is lost); payment on the due day plus the buyer's
/// delay, nothing due on or after a default day, payments inside an event blocked.
///
/// Returns the sales the cut turned away (0 without a cut).
pub fn for_each_delivered(
    plan: &Plan,
    b: usize,
    state: &BuyerState,
    scratch: &mut DeliveryScratch,
    mut f: impl FnMut(&ScheduledInvoice, Settle),
) -> i64 {
    let default_day = state.default.map(|d| d.0);
    let delay = state.delay;
    // Paying `delay` days late, an invoice due on u stops deliveries over [u + S, u + delay).
    let stop_days = plan.stop_deliveries_after_days;
    let stops = delay > stop_days;
    scratch.due.clear();
    scratch.live.clear();
    let mut lost = 0i64;
    let invoices = plan.invoices_of(b);
    // Open invoices not yet visited are all outstanding on any sale day (issued before day 0, due
    // after the sale's due day).
    let mut open_ahead: i64 =
        if state.cut.is_some() { invoices.iter().filter(|i| i.issue == i32::MIN).map(|i| i.amount).sum() } else { 0 };
    let collect = state.collect.zip(plan.collections.as_ref());
    for inv in invoices {
        let mut inv = *inv;
        if let Some((u, c)) = collect
            && inv.curve != 0
        {
            // Drawn: the whole invoice is collected on one day of its curve, or never (the order
            // of due days only matters for delivery stops and cuts, which a drawn buyer has not).
            inv.due = c.day(inv.curve, u);
        }
        let is_sale = inv.issue != i32::MIN;
        if is_sale {
            if inv.issue >= state.delivery_stop {
                continue;
            }
            if let Some(e) = state.event
                && (e.start..e.end).contains(&inv.issue)
            {
                continue;
            }
            // `due` is sorted (invoices come in due order): only the latest due day
            // `u ≤ issue − S` can satisfy `issue < u + delay` if any does.
            if stops && stopped_by(&scratch.due, inv.issue, stop_days, delay) {
                continue; // a late invoice has stopped deliveries; the sale is lost
            }
            if let Some(cut) = state.cut
                && inv.issue >= cut.day
                && !inv.prepaid()
            {
                // The seller ships within the new limit: everything delivered and not yet paid
                // (blocked invoices and a defaulted buyer's unpaid ones included) counts against it.
                let live: i64 = scratch.live.iter().filter(|&&(leaves, _)| leaves > inv.issue).map(|l| l.1).sum();
                let room = (cut.ship_limit - live - open_ahead).max(0);
                if inv.amount > room {
                    lost += inv.amount - room;
                    inv.amount = room;
                }
                if inv.amount <= 0 {
                    continue; // no room left under the new limit; the sale is lost
                }
            }
        } else if state.cut.is_some() {
            open_ahead -= inv.amount;
        }
        if inv.prepaid() {
            // Paid before delivery: never late, never unpaid, never blocked.
            f(&inv, Settle::Paid(inv.issue));
            continue;
        }
        // A credited piece of a disputed sale is a credit note issued on the resolution day (its
        // `due`): no payment, so neither late, nor blocked, nor stopping deliveries.
        let credit_note = inv.dispute == CREDITED;
        if stops && !credit_note {
            scratch.due.push(inv.due);
        }
        let pay = if credit_note { inv.due } else { inv.due.saturating_add(delay) };
        let settle = match (default_day, state.event) {
            (Some(t), _) if inv.due >= t => Settle::Unpaid,
            (None, Some(e)) if !credit_note && (e.start..e.end).contains(&pay) => {
                Settle::Blocked { scheduled: pay, until: e.end }
            }
            _ => Settle::Paid(pay),
        };
        if state.cut.is_some() {
            scratch.live.push((settle.leaves(state.write_off), inv.amount));
        }
        f(&inv, settle);
    }
    lost
}

/// Some `u` of the sorted `delivered` has `u + stop_days <= issue < u + delay`.
#[inline]
fn stopped_by(delivered: &[i32], issue: i32, stop_days: i32, delay: i32) -> bool {
    for &u in delivered.iter().rev() {
        if u + stop_days <= issue {
            return issue < u + delay;
        }
    }
    false
}

/// Reusable per-thread buffers of the buyer path.
#[derive(Debug, Clone, Default)]
pub struct PathScratch {
    recv: Vec<i64>,
    elig: Vec<i64>,
    /// Receivables at month ends from deliveries made before a cut took effect.
    recv_old: Vec<i64>,
    delivered: DeliveryScratch,
    /// Eligible receivables of the closed-form on-time path.
    base: Vec<i64>,
    /// The agency's fees on the payments inside the horizon of the last path filled.
    fees: i64,
}

impl PathScratch {
    /// The collection agency's fees on the payments inside the horizon of the last buyer path
    /// ([`BuyerState::fee_ppb`]).
    pub fn fees(&self) -> i64 {
        self.fees
    }
}

impl CashPlan {
    /// Compiles the cash terms and the baseline of a plan (`plan.cash` must still be `None`).
    pub fn compile(plan: &Plan, company: &Company, month_starts: &[i32]) -> Option<CashPlan> {
        let months = month_starts.len() - 1;
        let month_end = month_starts[1..].to_vec();
        let mut day_month = Vec::with_capacity(plan.horizon_days.max(0) as usize);
        for (k, w) in month_starts.windows(2).enumerate() {
            day_month.extend(std::iter::repeat_n(k as u16, (w[1] - w[0]) as usize));
        }
        let cents = |d: Decimal| to_cents(d, Decimal::ONE);
        let premium_instalments =
            plan.policies.iter().flat_map(|p| premium_instalments(p.annual_premium, months)).collect();
        let mut cash = CashPlan {
            months,
            month_end,
            day_month,
            opening_cash: cents(company.opening_cash)?,
            fixed_outflows: cents(company.monthly_fixed_outflows)?,
            variable_cost_ppb: rate_to_ppb(company.variable_cost_ratio),
            credit_line: cents(company.credit_line)?,
            advance_insured_ppb: rate_to_ppb(company.advance_rate_insured),
            advance_uninsured_ppb: rate_to_ppb(company.advance_rate_uninsured),
            minimum_cash: cents(company.minimum_cash)?,
            bad_debt_reserve: match company.bad_debt_reserve {
                Some(r) => Some(cents(r)?),
                None => None,
            },
            premium_instalments,
            baseline: MonthTotals::zeros(months, plan.n_policies()),
            late: None,
            buyers: Vec::with_capacity(plan.n_buyers),
            open: Vec::new(),
            unpaid: Vec::new(),
            paid_in: Vec::new(),
            overdue_eligible: Vec::new(),
            overdue_expected: Vec::new(),
        };
        let mut totals = MonthTotals::zeros(months, plan.n_policies());
        let mut scratch = PathScratch::default();
        for b in 0..plan.n_buyers {
            cash.buyer_path(plan, b, &BuyerState::ON_TIME, 1, &mut totals, &mut scratch);
        }
        cash.baseline = totals;
        cash.compile_buyers(plan, month_starts);
        if let Some(c) = &plan.collections {
            for &b in &c.buyers {
                cash.fill_buyer(plan, b as usize, &BuyerState::ON_TIME, &mut scratch, None);
                cash.overdue_eligible.extend_from_slice(&scratch.elig[..months]);
                let mut expected = vec![0i64; 3 * months + 2];
                let (collected, rest) = expected.split_at_mut(months);
                let (recv, elig) = rest.split_at_mut(months + 1);
                for inv in plan.invoices_of(b as usize).iter().filter(|inv| inv.curve != 0) {
                    let a = inv.amount;
                    if let Some(m) = cash.month_of(inv.due) {
                        collected[m] += a;
                    }
                    let ends = cash.ends_up_to(inv.due);
                    let aged = cash.ends_up_to(inv.age_due.saturating_add(ELIGIBLE_MAX_DAYS_PAST_DUE + 1));
                    recv[0] += a;
                    recv[ends] -= a;
                    elig[0] += a;
                    elig[ends.min(aged)] -= a;
                }
                cash.overdue_expected.extend(expected);
            }
        }
        if plan.lateness.is_some() {
            cash.late = Some(LateFast::compile(plan, &mut cash, month_starts));
        }
        Some(cash)
    }

    /// Compiles [`CashPlan::buyers`], [`CashPlan::open`] and the sales tables; marks a buyer
    /// regular only if its closed-form on-time path equals the explicit one exactly.
    fn compile_buyers(&mut self, plan: &Plan, month_starts: &[i32]) {
        let (h, h_days, np, n) = (self.months, plan.horizon_days.max(0), plan.n_policies(), plan.n_buyers);
        let sale_days = &month_starts[..h];
        for lag in 0..=h_days {
            for &end in &self.month_end {
                let issued = sale_days.iter().filter(|&&d| d < end).count();
                let paid = sale_days.iter().filter(|&&d| d < end && d + lag < end).count();
                self.unpaid.push((issued - paid) as u16);
            }
            let mut paid_in = vec![0u16; h];
            for &d in sale_days {
                if let Some(m) = self.month_of(d + lag) {
                    paid_in[m] += 1;
                }
            }
            self.paid_in.extend(paid_in);
        }
        let mut check = MonthTotals::zeros(h, np);
        let zero = MonthTotals::zeros(h, np);
        let mut scratch = PathScratch::default();
        for b in 0..n {
            let mut bc = BuyerCash { open_start: self.open.len() as u32, ..BuyerCash::default() };
            let mut overdue = 0;
            for inv in plan.invoices_of(b) {
                if inv.issue == i32::MIN {
                    self.open.push(OpenInvoice {
                        due: inv.due,
                        ends: self.ends_up_to(inv.due) as u16,
                        month: self.month_of(inv.due).map_or(u16::MAX, |m| m as u16),
                        aged: inv.age_due.saturating_add(ELIGIBLE_MAX_DAYS_PAST_DUE + 1),
                        amount: inv.amount,
                    });
                    // A never-collected piece never moves with a delay: it does not bound it.
                    if inv.due != NEVER_DUE {
                        overdue = overdue.max(inv.due - inv.age_due);
                    }
                } else {
                    bc.terms = inv.due - inv.issue;
                    bc.monthly = inv.amount;
                }
            }
            let open_len = self.open.len() - bc.open_start as usize;
            let max_delay = plan.stop_deliveries_after_days.min(ELIGIBLE_MAX_DAYS_PAST_DUE + 1 - overdue).max(0);
            bc.max_delay = max_delay.min(h_days);
            let mut limits = (0..np).map(|p| plan.protected[p * n + b]);
            if let Some(first) = limits.next()
                && limits.all(|l| l == first)
            {
                bc.flags |= BuyerCash::SHARED_LIMIT;
            }
            // A buyer with disputed sales has pieces the closed form does not know: never regular.
            let disputed = plan.invoices_of(b).iter().any(|i| i.dispute != 0);
            if let Ok(len) = u16::try_from(open_len)
                && !disputed
            {
                bc.open_len = len;
                self.buyers.push(bc);
                // Regular iff the closed form cancels the explicit path exactly.
                self.buyer_path(plan, b, &BuyerState::ON_TIME, 1, &mut check, &mut scratch);
                self.closed_on_time(plan, b, -1, &mut check, &mut scratch);
                if check == zero {
                    self.buyers[b].flags |= BuyerCash::REGULAR;
                } else {
                    check.copy_from(&zero);
                }
            } else {
                self.buyers.push(bc);
            }
            if !self.buyers[b].has(BuyerCash::REGULAR) {
                self.buyers[b].max_delay = 0;
            }
        }
    }

    /// Sales outstanding (`unpaid`) and paid (`paid_in`) per month when paid `lag` days after issue.
    #[inline]
    pub(crate) fn sales_tables(&self, lag: i32, horizon_days: i32) -> (&[u16], &[u16]) {
        let h = self.months;
        let at = lag.clamp(0, horizon_days.max(0)) as usize * h;
        (&self.unpaid[at..at + h], &self.paid_in[at..at + h])
    }

    /// Adds `sign ×` buyer `b`'s on-time path to `totals`: the closed form for a regular buyer,
    /// else the explicit walk. Same figures as `buyer_path(.., &BuyerState::ON_TIME, sign, ..)`.
    #[inline]
    pub fn on_time_path(&self, plan: &Plan, b: usize, sign: i64, totals: &mut MonthTotals, scratch: &mut PathScratch) {
        if self.buyers[b].has(BuyerCash::REGULAR) {
            self.closed_on_time(plan, b, sign, totals, scratch);
        } else {
            self.buyer_path(plan, b, &BuyerState::ON_TIME, sign, totals, scratch);
        }
    }

    /// The closed form of the on-time path: one sale a month paid `terms` days after issue, open
    /// invoices paid on their due day, eligible while at most 90 days past due.
    fn closed_on_time(&self, plan: &Plan, b: usize, sign: i64, totals: &mut MonthTotals, scratch: &mut PathScratch) {
        let (h, n) = (self.months, plan.n_buyers);
        let bc = self.buyers[b];
        let m = bc.monthly;
        let (unpaid, paid_in) = self.sales_tables(bc.terms, plan.horizon_days);
        let elig = &mut scratch.base;
        elig.clear();
        elig.extend(unpaid.iter().map(|&c| m * c as i64));
        // Receivables beyond the eligible ones: open invoices more than 90 days past due.
        let aged = &mut scratch.recv;
        aged.clear();
        aged.resize(h, 0);
        for o in self.open_of(&bc) {
            let ends = o.ends as usize;
            let eligible_to = self.ends_up_to(o.aged).min(ends);
            for e in &mut elig[..eligible_to] {
                *e += o.amount;
            }
            for a in &mut aged[eligible_to..ends] {
                *a += o.amount;
            }
            if o.month != u16::MAX {
                totals.collections[o.month as usize] += sign * o.amount;
            }
        }
        for k in 0..h {
            totals.sales[k] += sign * m;
            totals.collections[k] += sign * m * paid_in[k] as i64;
            totals.receivables[k] += sign * (elig[k] + aged[k]);
            totals.eligible[k] += sign * elig[k];
        }
        for p in 0..plan.n_policies() {
            let limit = plan.protected[p * n + b];
            for (ins, &e) in totals.insured[p * h..(p + 1) * h].iter_mut().zip(elig.iter()) {
                *ins += sign * e.min(limit);
            }
        }
    }

    /// Adds `sign ×` the change in buyer `c.buyers[i]`'s month totals when its overdue invoices
    /// are collected as the draw `u` says instead of along their curves (the buyer otherwise on
    /// time). Only overdue pieces move, so collections, receivables and eligible receivables move
    /// by their amounts alone; the insured receivables are recomputed from the buyer's on-time
    /// eligible path. The same figures as `buyer_path` under `collect: Some(u)` less the on-time
    /// path, at the cost of the overdue pieces instead of the whole invoice list.
    #[allow(clippy::too_many_arguments)]
    pub fn add_drawn_collection(
        &self,
        plan: &Plan,
        c: &CollectionPlan,
        i: usize,
        u: u32,
        sign: i64,
        totals: &mut MonthTotals,
        scratch: &mut PathScratch,
    ) {
        let (h, b) = (self.months, c.buyers[i] as usize);
        // Differences of the receivables and eligible changes: month ends in `[0, t)` hold an
        // invoice that leaves at the `t`-th month end. Start from minus the curve's pieces
        // (compiled), add each overdue invoice whole on its drawn day.
        let width = 3 * h + 2;
        let expected = &self.overdue_expected[i * width..(i + 1) * width];
        let (collected, rest) = expected.split_at(h);
        let (recv_pieces, elig_pieces) = rest.split_at(h + 1);
        for (t, &e) in totals.collections.iter_mut().zip(collected) {
            *t -= sign * e;
        }
        scratch.recv.clear();
        scratch.recv.extend(recv_pieces.iter().map(|&x| -x));
        scratch.elig.clear();
        scratch.elig.extend(elig_pieces.iter().map(|&x| -x));
        for g in c.groups_of(i) {
            let day = c.day(g.curve, u);
            let a = g.amount;
            if let Some(m) = self.month_of(day) {
                totals.collections[m] += sign * a;
            }
            let now = self.ends_up_to(day);
            let aged = self.ends_up_to(g.age_due.saturating_add(ELIGIBLE_MAX_DAYS_PAST_DUE + 1));
            scratch.recv[0] += a;
            scratch.recv[now] -= a;
            scratch.elig[0] += a;
            scratch.elig[now.min(aged)] -= a;
        }
        let (mut recv, mut elig) = (0i64, 0i64);
        for k in 0..h {
            recv += scratch.recv[k];
            elig += scratch.elig[k];
            totals.receivables[k] += sign * recv;
            totals.eligible[k] += sign * elig;
            scratch.elig[k] = elig;
        }
        let on_time = &self.overdue_eligible[i * h..(i + 1) * h];
        let n = plan.n_buyers;
        for p in 0..plan.n_policies() {
            let limit = plan.protected[p * n + b];
            let insured = &mut totals.insured[p * h..(p + 1) * h];
            for ((ins, &e), &d) in insured.iter_mut().zip(on_time).zip(&scratch.elig[..h]) {
                if d != 0 {
                    *ins += sign * ((e + d).min(limit) - e.min(limit));
                }
            }
        }
    }

    /// The open invoices of a buyer.
    #[inline]
    pub fn open_of(&self, bc: &BuyerCash) -> &[OpenInvoice] {
        &self.open[bc.open_start as usize..bc.open_start as usize + bc.open_len as usize]
    }

    /// Month index of a day inside the horizon, `None` outside it.
    #[inline]
    pub fn month_of(&self, day: i32) -> Option<usize> {
        usize::try_from(day).ok().and_then(|d| self.day_month.get(d)).map(|&m| m as usize)
    }

    /// Number of month ends `E_k <= day`: the index of the first month end after `day`.
    #[inline]
    pub(crate) fn ends_up_to(&self, day: i32) -> usize {
        match usize::try_from(day) {
            Err(_) => 0,
            Ok(d) => match self.day_month.get(d) {
                Some(&m) => m as usize,
                None => self.months,
            },
        }
    }

    /// Adds `sign ×` buyer `b`'s monthly path under `state` to `totals`.
    pub fn buyer_path(
        &self,
        plan: &Plan,
        b: usize,
        state: &BuyerState,
        sign: i64,
        totals: &mut MonthTotals,
        scratch: &mut PathScratch,
    ) {
        let h = self.months;
        self.fill_buyer(plan, b, state, scratch, Some((sign, &mut *totals)));
        let n = plan.n_buyers;
        for k in 0..h {
            let (recv, elig) = (scratch.recv[k], scratch.elig[k]);
            totals.receivables[k] += sign * recv;
            totals.eligible[k] += sign * elig;
        }
        // After a cut, the limit in force at a month end is the run-off limit of what is still
        // outstanding from the deliveries made before it.
        let cut = state.cut.zip(plan.cuts.as_ref()).map(|(cut, plan)| (self.ends_up_to(cut.day - 1), plan.cut_to_ppb));
        for p in 0..plan.n_policies() {
            let limit = plan.protected[p * n + b];
            for (k, (ins, &e)) in totals.insured[p * h..(p + 1) * h].iter_mut().zip(&scratch.elig[..h]).enumerate() {
                let limit = match cut {
                    Some((from, cut_to_ppb)) if k >= from => run_off_limit(limit, cut_to_ppb, scratch.recv_old[k]),
                    _ => limit,
                };
                *ins += sign * e.min(limit);
            }
        }
    }

    /// Fills `scratch.recv` and `scratch.elig` with the buyer's receivables and eligible
    /// receivables at each month end (and `scratch.recv_old`, after a cut, those from deliveries
    /// made before it took effect), and adds `sign ×` its sales and collections to `flows`.
    /// Returns the sales the cut turned away.
    pub(crate) fn fill_buyer(
        &self,
        plan: &Plan,
        b: usize,
        state: &BuyerState,
        scratch: &mut PathScratch,
        mut flows: Option<(i64, &mut MonthTotals)>,
    ) -> i64 {
        let h = self.months;
        scratch.recv.clear();
        scratch.recv.resize(h + 1, 0);
        scratch.elig.clear();
        scratch.elig.resize(h + 1, 0);
        let cut_day = state.cut.map(|c| c.day);
        scratch.recv_old.clear();
        if cut_day.is_some() {
            scratch.recv_old.resize(h + 1, 0);
        }
        let elig_end_default = state.default.map_or(h, |(t, _)| self.ends_up_to(t));
        let mut blocked = 0i64;
        scratch.fees = 0;
        let fees = &mut scratch.fees;
        let lost = for_each_delivered(plan, b, state, &mut scratch.delivered, |inv, settle| {
            let ScheduledInvoice { issue, amount, age_due, .. } = *inv;
            if let Some((sign, totals)) = flows.as_mut()
                && issue != i32::MIN
                && let Some(m) = self.month_of(issue)
            {
                totals.sales[m] += *sign * amount;
            }
            // `leaves`: the day it leaves the receivables; `eligible_until`: it stops being eligible.
            let (leaves, eligible_until) = match settle {
                // Disputes: a credited piece leaves the receivables on its day without cash.
                Settle::Paid(day) if inv.dispute == CREDITED => (day, day),
                Settle::Paid(day) => {
                    if let Some(m) = self.month_of(day) {
                        // The agency keeps its fee on what it collects; a buyer paying early keeps
                        // the discount.
                        let fee = apply_ppb(amount, state.fee_ppb);
                        *fees += fee;
                        let discount = if inv.discounted() { apply_ppb(amount, plan.discount_ppb) } else { 0 };
                        if let Some((sign, totals)) = flows.as_mut() {
                            totals.collections[m] += *sign * (amount - fee - discount);
                            totals.discounts += *sign * discount;
                        }
                    }
                    (day, day)
                }
                Settle::Unpaid => (state.write_off, state.write_off),
                Settle::Blocked { scheduled, until } => {
                    blocked += amount;
                    (until, scheduled)
                }
            };
            // Outstanding at the end of month k iff issued before E_k and still unpaid at E_k.
            let from = self.ends_up_to(issue);
            let to = self.ends_up_to(leaves).max(from);
            scratch.recv[from] += amount;
            scratch.recv[to] -= amount;
            if cut_day.is_some_and(|d| issue < d) {
                scratch.recv_old[from] += amount;
                scratch.recv_old[to] -= amount;
            }
            // Eligible while at most 90 days past due, not blocked and before any default.
            let aged = self.ends_up_to(age_due.saturating_add(ELIGIBLE_MAX_DAYS_PAST_DUE + 1));
            let elig_to = to.min(self.ends_up_to(eligible_until)).min(aged).min(elig_end_default).max(from);
            scratch.elig[from] += amount;
            scratch.elig[elig_to] -= amount;
        });
        // At the end of a country event the transferred share of the blocked payments arrives.
        if let (Some(event), Some((sign, totals))) = (state.event, flows)
            && let Some(m) = self.month_of(event.end)
        {
            totals.collections[m] += sign * apply_ppb(blocked, event.transfer_ppb);
        }
        let (mut recv, mut elig, mut old) = (0i64, 0i64, 0i64);
        for k in 0..h {
            recv += scratch.recv[k];
            elig += scratch.elig[k];
            scratch.recv[k] = recv;
            scratch.elig[k] = elig;
            if let Some(r) = scratch.recv_old.get_mut(k) {
                old += *r;
                *r = old;
            }
        }
        lost
    }

    /// Cash at each month end and the borrowing base for policy `p` (`None` = no insurance).
    pub fn path(&self, totals: &MonthTotals, p: Option<usize>, cash_out: &mut [i64], base_out: &mut [i64]) {
        let h = self.months;
        let mut cash = self.opening_cash;
        for k in 0..h {
            let (claims, shares, premium, insured) = match p {
                Some(p) => (
                    totals.claims[p * h + k],
                    totals.shares[p * h + k],
                    self.premium_instalments[p * h + k],
                    totals.insured[p * h + k],
                ),
                None => (0, 0, 0, 0),
            };
            cash += totals.collections[k] + totals.recoveries[k] - shares + claims
                - premium
                - self.fixed_outflows
                - apply_ppb(totals.sales[k].max(0), self.variable_cost_ppb);
            cash_out[k] = cash;
            base_out[k] = apply_ppb(totals.eligible[k] - insured, self.advance_uninsured_ppb)
                + apply_ppb(insured, self.advance_insured_ppb);
        }
    }

    /// Cash at each month end before any premium and the borrowing base, for claims, insurer's
    /// shares and insured eligible receivables by month (`claims`, `shares`, `insured`, `H` values
    /// each): [`CashPlan::path`] plus the premium paid to date. A variant that differs from a
    /// policy only by its premium subtracts its own premium to date from the same figures.
    pub fn path_before_premium(
        &self,
        totals: &MonthTotals,
        (claims, shares, insured): (&[i64], &[i64], &[i64]),
        cash_out: &mut [i64],
        base_out: &mut [i64],
    ) {
        let mut cash = self.opening_cash;
        for k in 0..self.months {
            cash += totals.collections[k] + totals.recoveries[k] - shares[k] + claims[k]
                - self.fixed_outflows
                - apply_ppb(totals.sales[k].max(0), self.variable_cost_ppb);
            cash_out[k] = cash;
            base_out[k] = apply_ppb(totals.eligible[k] - insured[k], self.advance_uninsured_ppb)
                + apply_ppb(insured[k], self.advance_insured_ppb);
        }
    }

    /// Shortfall at a month end: `max(0, minimum_cash − cash − min(credit_line, borrowing base))`.
    #[inline]
    pub fn shortfall(&self, cash: i64, borrowing_base: i64) -> i64 {
        (self.minimum_cash - cash - self.credit_line.min(borrowing_base)).max(0)
    }
}

/// `annual / 12` per month, the remainder cent in the last month of each policy year (SPEC §3.1.9).
pub fn premium_instalments(annual: i64, months: usize) -> Vec<i64> {
    let base = annual / 12;
    (0..months).map(|k| if k % 12 == 11 { annual - 11 * base } else { base }).collect()
}

/// The claim's payment day (SPEC §5 step 6).
#[inline]
pub fn claim_payment_day(peril: Peril, day: i32, date_of_loss: i32, policy: &PolicyPlan) -> i32 {
    match peril {
        Peril::Insolvency => day.saturating_add(policy.insolvency_claim_days),
        _ => date_of_loss.saturating_add(policy.claim_payment_days),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instalments_add_up_to_the_annual_premium() {
        let v = premium_instalments(6_000_001, 24);
        assert_eq!(v[..12].iter().sum::<i64>(), 6_000_001);
        assert_eq!(v[12..].iter().sum::<i64>(), 6_000_001);
        assert_eq!(v[11], 6_000_001 - 11 * 500_000);
    }
}
