//! Compiles a validated study and one scenario into flat arrays for the per-trial kernel.
//!
//! Everything that does not change between trials is computed here once: invoice schedules in
//! cents, default thresholds `Φ⁻¹(q)`, factor loadings, buckets of buyers that share them, protected
//! limits and indemnities per policy, premiums and maximum liabilities.

pub mod cash;
pub mod keys;
pub mod layout;

pub use layout::{FIXED_COLUMNS, RowLayout};

use crate::error::{Error, Problem};
use crate::model::*;
use crate::money::{PPB, apply_ppb, mul_div_round, rate_to_ppb, to_cents};
use crate::normal;
use crate::plan::cash::CashPlan;
use rand_distr::Beta;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

/// Buyers of a bucket share threshold, correlation and factors, so one conditional PD serves them all.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// Range in [`Plan::bucket_members`].
    pub start: u32,
    pub len: u32,
    /// `Φ⁻¹(q)`.
    pub threshold: f64,
    /// Loadings `√R·w` on the global, sector and country factors.
    pub load: [f64; 3],
    pub sector: u32,
    pub country: u32,
    /// `√(1−R)`.
    pub idio: f64,
}

/// Insurer retreat (SPEC §5.4): which buyers can be cut and what the cut leaves.
#[derive(Debug, Clone)]
pub struct CutPlan {
    /// `limit_cuts.share`.
    pub share: f64,
    /// Per credit bucket: `F⁻¹(min(trigger_pd_multiple × q, 1))` (`+∞` when that is 1).
    pub thresholds: Vec<f64>,
    /// `cut_to` in parts per billion.
    pub cut_to_ppb: i64,
    pub notice_days: i32,
    /// `lead_days`: a buyer defaulting on day τ is cut on a decision day uniform in
    /// `[max(0, τ − lead_days), τ)`.
    pub lead_days: i32,
    /// The buyer's credit limit in cents when it is insured (0: nothing to cut); the seller ships
    /// within `cut_to ×` this limit after the cut.
    pub limit: Vec<i64>,
}

/// A recovery rate: fixed (exact, in parts per billion) or Beta-distributed.
#[derive(Debug, Clone)]
pub struct RecoveryPlan {
    pub fixed_ppb: Option<i64>,
    pub beta: Option<Beta<f64>>,
    /// The mean rate in parts per billion (the fixed rate, or the Beta's mean).
    pub mean_ppb: i64,
    pub lag_days: i32,
}

/// Late payment (SPEC §4.3): buyers grouped by sector and country, which share the loadings of
/// their latent variable `√c·(w·Z) + √(1−c)·η`.
#[derive(Debug, Clone)]
pub struct LatenessPlan {
    pub buckets: Vec<Bucket>,
    /// Lateness group (index into `buckets`) of each buyer.
    pub bucket_of: Vec<u32>,
    /// `Φ⁻¹(late_share + late_share_addon)`.
    pub threshold: f64,
    /// Whole days late before the shift: `round(median · exp(σξ))`, sampled by inverse CDF.
    pub delays: DelayTable,
    /// `days_late_shift`.
    pub shift: i32,
    /// The dunning ladder's agency step: from `days` late on, the agency keeps `fee_ppb` of every
    /// payment (`None`: no agency step).
    pub agency: Option<Agency>,
}

/// The agency step of a dunning ladder, compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agency {
    /// Days after the due date the debt is handed over.
    pub days: i32,
    /// The agency's share of what it collects, in parts per billion.
    pub fee_ppb: i64,
}

impl LatenessPlan {
    /// The agency's fee on the payments of a buyer `delay` days late: handed over iff still
    /// unpaid on the agency step's day (0: not handed over, or no agency step).
    #[inline]
    pub fn fee_ppb(&self, delay: i32) -> i64 {
        match self.agency {
            Some(a) if delay >= a.days => a.fee_ppb,
            _ => 0,
        }
    }
}

/// The distribution of a whole-day delay `round(median · exp(σξ))`, `ξ ~ N(0, 1)`, rounded
/// half-to-even, sampled from one uniform by inverse CDF with a guide table (Chen and Asau).
/// Delays of `cap` days or more all behave alike in the model (every payment falls after the
/// horizon, after every waiting period and after the longest country event), so they are kept as
/// `cap`: the samples have exactly the model's distribution where it matters.
#[derive(Debug, Clone)]
pub struct DelayTable {
    /// `cdf[r] = P(delay <= r)`, non-decreasing, `cdf[cap] = 1`.
    cdf: Vec<f64>,
    /// `guide[g]`: the smallest r with `cdf[r] > g / G`; `guide[G] = cap`.
    guide: Vec<u32>,
}

impl DelayTable {
    const GUIDE: usize = 1024;

    pub fn new(median: f64, sigma: f64, cap: u32) -> DelayTable {
        let fixed = median.round_ties_even();
        let mut running = 0.0f64;
        let mut cdf: Vec<f64> = (0..cap)
            .map(|r| {
                let p = if sigma > 0.0 {
                    normal::cdf(((r as f64 + 0.5).ln() - median.ln()) / sigma)
                } else if r as f64 >= fixed {
                    1.0
                } else {
                    0.0
                };
                running = running.max(p);
                running
            })
            .collect();
        cdf.push(1.0);
        let guide = Self::guide_of(&cdf, cap);
        DelayTable { cdf, guide }
    }

    /// Applies a dunning ladder (docs/model.md, "The dunning ladder"): at step `i`, `d_i` days
    /// late, a buyer still unpaid pays with probability `q_i`, independently of its lognormal
    /// delay `D`; the delay becomes `min(D, d_I)`, `I` the first step that succeeds, so
    /// `P(delay > r) = P(D > r) · Π_{d_i ≤ r} (1 − q_i)`. The table is of the delay before the
    /// scenario's `shift`, so a step acts at `d_i − shift` (at 0 when the shift is longer).
    pub fn apply_ladder(&mut self, ladder: &[crate::model::LadderStep], shift: i32) {
        if ladder.is_empty() {
            return;
        }
        let cap = self.cdf.len() - 1;
        let mut still_open = 1.0f64;
        let mut steps = ladder.iter().map(|s| ((s.days as i64 - shift as i64).max(0), s.pay_probability)).peekable();
        for r in 0..cap {
            while let Some(&(at, q)) = steps.peek() {
                if at > r as i64 {
                    break;
                }
                still_open *= 1.0 - q;
                steps.next();
            }
            self.cdf[r] = 1.0 - (1.0 - self.cdf[r]) * still_open;
        }
        self.guide = Self::guide_of(&self.cdf, cap as u32);
    }

    fn guide_of(cdf: &[f64], cap: u32) -> Vec<u32> {
        (0..=Self::GUIDE)
            .map(|g| {
                let level = g as f64 / Self::GUIDE as f64;
                (cdf.partition_point(|&c| c <= level) as u32).min(cap)
            })
            .collect()
    }

    /// The delay of a uniform `u` in [0, 1): the smallest r with `u < cdf[r]`.
    #[inline]
    pub fn sample(&self, u: f64) -> u32 {
        let g = ((u * Self::GUIDE as f64) as usize).min(Self::GUIDE - 1);
        let (lo, hi) = (self.guide[g] as usize, self.guide[g + 1] as usize);
        (lo + self.cdf[lo..=hi].partition_point(|&c| c <= u)) as u32
    }
}

/// Country events (SPEC §4.4), per country index (countries sorted by code).
#[derive(Debug, Clone)]
pub struct CountryRiskPlan {
    /// Probability of an event in the horizon: `1 − (1 − p)^(H/12)`.
    pub probability: Vec<f64>,
    pub duration_median: Vec<f64>,
    pub transfer_ppb: Vec<i64>,
    /// Events that happen in every trial: (country index, start day, duration in days).
    pub forced: Vec<(u32, i32, i32)>,
    /// CSR of the buyers of each country (offsets of length countries + 1).
    pub buyer_offsets: Vec<u32>,
    pub buyers: Vec<u32>,
}

/// σ of the lognormal event duration around its median: the spec gives only the median, so the
/// 90% quantile is taken at about 1.9 × the median (documented in docs/decisions.md).
pub const EVENT_DURATION_SIGMA: f64 = 0.5;

/// One policy's terms in cents, for this scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyPlan {
    pub name: String,
    pub nql: i64,
    pub deductible: i64,
    pub aggregate_first_loss: i64,
    /// Maximum liability per policy year.
    pub max_liability: i64,
    /// Annual premium (SPEC §3.1.9).
    pub annual_premium: i64,
    /// The policy's minimum annual premium (the floor of `annual_premium`).
    pub minimum_premium: i64,
    /// Premium counted in a trial's total cost: annual × H/12.
    pub premium: i64,
    pub insured_turnover: i64,
    pub waiting_period_days: i32,
    pub insolvency_claim_days: i32,
    pub claim_payment_days: i32,
    /// Political claims are covered (SPEC §2.4).
    pub political_cover: bool,
    pub political_waiting_days: i32,
    pub indemnity_political_ppb: i64,
}

/// One invoice of a buyer's schedule, 24 bytes so a buyer's schedule is a few cache lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledInvoice {
    /// Payment due day, never before day 0: for a piece of an invoice overdue at `as_of`, the day
    /// its share of the collection curve is collected ([`NEVER_DUE`]: never).
    pub due: i32,
    /// Issue day; open invoices carry `i32::MIN` (delivered before day 0).
    pub issue: i32,
    /// Amount in cents.
    pub amount: i64,
    /// Due day for ageing (the invoice's own due date, which may lie before day 0).
    pub age_due: i32,
    /// A piece of an invoice overdue at `as_of`: its ageing bucket + 1 (0: not such a piece).
    pub curve: u8,
    /// The piece's month of the collection curve (0 = month 1; [`NEVER_PIECE`]: never collected).
    pub piece: u8,
    /// [`ScheduledInvoice::DISCOUNTED`], [`ScheduledInvoice::PREPAID`] (the struct stays 24 bytes).
    pub flags: u8,
    /// A piece of a disputed sale ([`DISPUTED`]: paid on the resolution day, its `due`;
    /// [`CREDITED`]: credited to the buyer on its `due`, leaving the receivables without cash);
    /// 0: not disputed.
    pub dispute: u8,
}

impl ScheduledInvoice {
    /// The early-payment part of a sale, paid less [`Plan::discount_ppb`] (its `age_due` is the
    /// sale's own due day).
    pub const DISCOUNTED: u8 = 1;
    /// The part of a sale paid before delivery (a terms policy's prepayment or cash in advance):
    /// paid on its issue day whatever happens to the buyer, never owed.
    pub const PREPAID: u8 = 2;

    #[inline]
    pub fn discounted(&self) -> bool {
        self.flags & Self::DISCOUNTED != 0
    }

    #[inline]
    pub fn prepaid(&self) -> bool {
        self.flags & Self::PREPAID != 0
    }
}

/// [`ScheduledInvoice::dispute`] of the part of a disputed sale paid when the dispute is resolved.
pub const DISPUTED: u8 = 1;
/// [`ScheduledInvoice::dispute`] of the part of a disputed sale credited to the buyer (a credit
/// note on the resolution day: the dilution).
pub const CREDITED: u8 = 2;

/// The pieces of a new sale of `amount` cents with disputed share `share` and credited share
/// `credited` (docs/model.md, "Disputes (dilution)"): `(undisputed, disputed paid, credited)`,
/// `amount − round(amount·share)`, `round(amount·share) − round(amount·share·credited)` and
/// `round(amount·share·credited)`, half-to-even, adding up to `amount` exactly.
pub fn dispute_pieces(amount: i64, share: Decimal, credited: Decimal) -> (i64, i64, i64) {
    let a = Decimal::from(amount);
    let disputed = round_cents(a * share).clamp(0, amount);
    let credit = round_cents(a * share * credited).clamp(0, disputed);
    (amount - disputed, disputed - credit, credit)
}

/// Disputed sales in a plan (docs/model.md, "Disputes (dilution)").
#[derive(Debug, Clone)]
pub struct DisputePlan {
    /// Per buyer: its credited pieces in cents (the dilution when it neither defaults nor loses
    /// sales).
    pub credited: Vec<i64>,
    /// The sum of `credited`.
    pub credited_total: i64,
}

/// Due day of the never-collected piece of an overdue invoice: after every horizon, waiting
/// period and delay, so it is never paid, while `due + delay` stays far from overflow.
pub const NEVER_DUE: i32 = 1_000_000_000;

/// [`ScheduledInvoice::piece`] of the never-collected piece.
pub const NEVER_PIECE: u8 = u8::MAX;

/// Day of month `j + 1` on which the curve's share of month `j + 1` is collected: the middle of
/// the month (day 15, 45, 75, …) moved by the scenario's `days_late_shift`, never before day 0.
pub fn collection_day(j: usize, shift: i64) -> i32 {
    (30 * j as i64 + 15 + shift).max(0) as i32
}

/// The pieces of an overdue invoice of `amount` cents along `curve_ppb` (shares per month in parts
/// per billion): piece `j` is `round(amount × S_j) − round(amount × S_{j−1})`, `S_j` the cumulative
/// share (half-to-even), so the pieces add up to `round(amount × S_M)` exactly; the never-collected
/// piece is the rest. Returns `(month index or NEVER_PIECE, cents)`, zero pieces left out.
pub fn collection_pieces(amount: i64, curve_ppb: &[i64]) -> Vec<(u8, i64)> {
    let mut out = Vec::with_capacity(curve_ppb.len() + 1);
    let (mut cum, mut before) = (0i64, 0i64);
    for (j, &s) in curve_ppb.iter().enumerate() {
        cum += s;
        let upto = apply_ppb(amount, cum.min(PPB));
        if upto > before {
            out.push((j as u8, upto - before));
        }
        before = upto;
    }
    if amount > before {
        out.push((NEVER_PIECE, amount - before));
    }
    out
}

/// A forced default: buyer, day and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forced {
    pub buyer: u32,
    pub day: i32,
    pub kind: DefaultKind,
}

/// The compiled simulation plan of one scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scenario: String,
    pub horizon_days: i32,
    pub horizon_months: u32,
    /// Start day of each policy year.
    pub year_starts: Vec<i32>,
    pub n_buyers: usize,
    /// CSR offsets of each buyer's invoices (len `n_buyers + 1`), sorted by due day.
    pub inv_offsets: Vec<u32>,
    /// Every buyer's invoices, sorted by due day within a buyer.
    pub invoices: Vec<ScheduledInvoice>,
    pub n_sectors: usize,
    pub n_countries: usize,
    pub buckets: Vec<Bucket>,
    pub bucket_members: Vec<u32>,
    /// Horizon PD per buyer after stress.
    pub q: Vec<f64>,
    /// `ln(1 − q)` per buyer, for the default day (SPEC §3.1.2).
    pub log1m_q: Vec<f64>,
    pub forced: Vec<Forced>,
    /// `Z_g` fixed by `systematic_quantile`.
    pub fixed_global: Option<f64>,
    /// Importance sampling of `Z_g` (`run --tail-sampling`); set by [`Plan::with_tail_sampling`].
    pub tail_sampling: Option<TailSampling>,
    /// Trials per block, the kernel's unit of work (`run --block-size`); results do not depend
    /// on it, as every draw is addressed ([`crate::engine::rng`]). Set by [`Plan::with_trial_block`].
    pub trial_block: usize,
    /// Student-t copula (SPEC §4.2): `W ~ χ²_ν` per trial divides every latent variable by
    /// `√(W/ν)`; thresholds are then t quantiles. `None`: Gaussian copula.
    pub t_copula: Option<TCopula>,
    pub insolvency_share: f64,
    /// Recovery of insolvencies and protracted defaults.
    pub recovery: [RecoveryPlan; 2],
    pub stop_deliveries_after_days: i32,
    /// The early-payment discount rate, in parts per billion (0: no discount).
    pub discount_ppb: i64,
    /// The planned sales the scenario's terms policy turns away over the horizon (`None`: no
    /// terms policy).
    pub terms_lost_sales: Option<i64>,
    pub policies: Vec<PolicyPlan>,
    /// Protected limit per policy and buyer, `[policy * n_buyers + buyer]`; 0 = not covered.
    pub protected: Vec<i64>,
    /// Commercial indemnity per policy and buyer in parts per billion.
    pub indemnity_ppb: Vec<i64>,
    /// Late payment, when the scenario's late share is above 0.
    pub lateness: Option<LatenessPlan>,
    /// Country events, when any country has a probability above 0 or an event is forced.
    pub country_risk: Option<CountryRiskPlan>,
    /// Country index of each buyer.
    pub buyer_country: Vec<u32>,
    /// Each buyer's key in the dimensions of the contributions (their standard errors).
    pub keys: crate::plan::keys::KeyIndex,
    /// Insurer retreat, when `limit_cuts.share` is above 0.
    pub cuts: Option<CutPlan>,
    /// The collection of receivables overdue at `as_of`, when some buyer has them.
    pub collections: Option<CollectionPlan>,
    /// The cash side, when the study has a `[company]` section.
    pub cash: Option<CashPlan>,
    /// Disputed sales, when the scenario's `[disputes]` disputes some.
    pub disputes: Option<DisputePlan>,
}

/// How the trials draw the collection of receivables overdue at `as_of` (docs/model.md, "Overdue
/// receivables by age"): each buyer with overdue invoices draws one uniform `u` (32 bits) per
/// trial; each of its overdue invoices is then collected whole in the first month `j` of its
/// curve with `u < S_j` (`S_j` the cumulative share), or never. The expected collections are the
/// curve's, the baseline path's.
#[derive(Debug, Clone)]
pub struct CollectionPlan {
    /// Per ageing bucket: `round(S_j × 2³²)` for each month `j` of its curve.
    pub thresholds: [Vec<u64>; 5],
    /// Collection day of each month of the curves ([`collection_day`], with the scenario's shift).
    pub days: Vec<i32>,
    /// The buyers with overdue invoices, in plan order.
    pub buyers: Vec<u32>,
    /// The never-collected pieces of each of `buyers` (the expected write-off).
    pub never: Vec<i64>,
    /// The oldest own due date of each of `buyers`' never-collected pieces.
    pub never_oldest_due: Vec<i32>,
    /// Each of `buyers`' overdue invoices, whole (pieces of one ageing bucket and due date
    /// summed: a draw moves them together), in `groups[group_offsets[k]..group_offsets[k + 1]]`:
    /// what a drawn trial reads instead of the buyer's whole invoice list.
    pub groups: Vec<OverdueGroup>,
    pub group_offsets: Vec<u32>,
}

/// The overdue invoices of one buyer, ageing bucket and own due date, summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverdueGroup {
    /// Ageing bucket + 1 (as [`ScheduledInvoice::curve`]).
    pub curve: u8,
    pub age_due: i32,
    pub amount: i64,
}

impl CollectionPlan {
    /// The overdue invoices of the `k`-th of [`CollectionPlan::buyers`], whole.
    #[inline]
    pub fn groups_of(&self, k: usize) -> &[OverdueGroup] {
        &self.groups[self.group_offsets[k] as usize..self.group_offsets[k + 1] as usize]
    }

    /// The day an overdue piece of ageing bucket `curve − 1` is collected under the draw `u`
    /// ([`NEVER_DUE`]: never): every piece of an invoice moves to the same day, so the invoice is
    /// collected whole.
    #[inline]
    pub fn day(&self, curve: u8, u: u32) -> i32 {
        debug_assert!(curve != 0);
        let t = &self.thresholds[curve as usize - 1];
        let j = t.partition_point(|&s| s <= u as u64);
        if j < t.len() { self.days[j] } else { NEVER_DUE }
    }
}

fn internal(scenario: &Scenario, what: &str) -> Error {
    Error::problem(Problem {
        file: scenario.file.clone(),
        location: crate::error::Location::File,
        field: "amounts".into(),
        value: what.into(),
        expected: "amounts that fit the money type after fx and multipliers (SPEC §3.1.12)".into(),
    })
}

/// A planned sale under the scenario's terms policy: its amount after the sales lost to tighter
/// terms, the part paid before delivery, and the terms of the rest.
struct SaleParts {
    amount: i64,
    prepaid: i64,
    terms: i32,
}

/// The sale of month `month` (1-based) of `monthly` cents to a buyer of `grade` on `terms_days`.
fn sale_parts(
    monthly: i64,
    terms_days: u32,
    grade: crate::model::Grade,
    month: u32,
    policy: Option<&crate::model::TermsPolicy>,
) -> SaleParts {
    match policy.and_then(|p| p.apply(grade, terms_days, month)) {
        None => SaleParts { amount: monthly, prepaid: 0, terms: terms_days as i32 },
        Some((terms, prepaid, kept)) => {
            let ppb = |x: f64| (x * PPB as f64).round() as i64;
            let amount = apply_ppb(monthly, ppb(kept));
            SaleParts { amount, prepaid: apply_ppb(amount, ppb(prepaid)), terms: terms as i32 }
        }
    }
}

/// Basel corporate correlation `R(p)`.
pub fn basel_r(p: f64) -> f64 {
    let a = (1.0 - (-50.0 * p).exp()) / (1.0 - (-50.0f64).exp());
    0.12 * a + 0.24 * (1.0 - a)
}

/// Horizon PD from an annual PD: `1 − (1 − p)^(H/12)`.
pub fn horizon_pd(p_annual: f64, horizon_months: u32) -> f64 {
    -((horizon_months as f64 / 12.0) * (-p_annual).ln_1p()).exp_m1()
}

/// Compiles `scenario` of `study` into a plan.
pub fn compile(study: &Study, scenario: &Scenario) -> Result<Plan, Error> {
    let cal = &study.calendar;
    let pf = &study.portfolio;
    let st = &scenario.stress;
    let n = pf.buyers.len();
    let h_days = cal.horizon_days();

    // Invoices: open ones plus one new sale per month.
    let open = pf.open_invoices_cents(&study.fx, &st.fx_shock).ok_or_else(|| internal(scenario, "open invoices"))?;
    let mut inv_offsets = Vec::with_capacity(n + 1);
    let mut invoices = Vec::new();
    let h_months = cal.horizon_months() as usize;
    let curves_ppb: Vec<Vec<i64>> =
        study.collections.curves.iter().map(|c| c.iter().map(|&s| rate_to_ppb(s)).collect()).collect();
    let mut monthly_cents = vec![0i64; n];
    // Credit sales (not prepaid) of the first 12 months per buyer: the insured turnover.
    let mut credit_sales_12 = vec![0i64; n];
    let mut lost_sales = 0i64;
    let discount = scenario.payment.discount.as_ref();
    inv_offsets.push(0u32);
    for (b, buyer) in pf.buyers.iter().enumerate() {
        let rate = Portfolio::rate(&study.fx, &st.fx_shock, &buyer.currency);
        let [a, b_, c] = st.sales_factors(buyer);
        let monthly = crate::model::product(&[buyer.monthly_sales, a, b_, c])
            .and_then(|m| to_cents(m, rate))
            .ok_or_else(|| internal(scenario, "monthly sales"))?;
        monthly_cents[b] = monthly;
        // An invoice overdue at as_of is split into the pieces its ageing bucket's curve collects.
        let mut rows: Vec<ScheduledInvoice> = Vec::with_capacity(open[b].len() + 2 * h_months);
        let open_invoice = |due: i32, amount: i64, age_due: i32| ScheduledInvoice {
            due,
            issue: i32::MIN,
            amount,
            age_due,
            curve: 0,
            piece: 0,
            dispute: 0,
            flags: 0,
        };
        for &(due, amt) in &open[b] {
            if due >= 0 {
                rows.push(open_invoice(due as i32, amt, due as i32));
                continue;
            }
            let c = crate::model::Collections::bucket(-due);
            for (j, piece) in collection_pieces(amt, &curves_ppb[c]) {
                let day = if j == NEVER_PIECE { NEVER_DUE } else { collection_day(j as usize, st.days_late_shift) };
                rows.push(ScheduledInvoice { curve: c as u8 + 1, piece: j, ..open_invoice(day, piece, due as i32) });
            }
        }
        if monthly > 0 {
            let grade = buyer.grade();
            let take_ppb = discount.map_or(0, |d| (d.take_up[grade.index()] * PPB as f64).round() as i64);
            let dispute_share = scenario.disputes.share_of(buyer);
            for (k, &day) in cal.sale_days().iter().enumerate() {
                let sale = sale_parts(monthly, buyer.terms_days, grade, k as u32 + 1, scenario.terms.as_ref());
                lost_sales += monthly - sale.amount;
                let credit_part = sale.amount - sale.prepaid;
                credit_sales_12[b] += if k < 12 { credit_part } else { 0 };
                let sold = |due: i32, amount: i64| ScheduledInvoice {
                    issue: day,
                    ..open_invoice(due, amount, day + sale.terms)
                };
                if sale.prepaid > 0 {
                    rows.push(ScheduledInvoice { flags: ScheduledInvoice::PREPAID, ..sold(day, sale.prepaid) });
                }
                // The early-payment discount: the take-up share of each sale from its first month
                // on is due `days` after issue (none when that is not earlier than the terms).
                let early = discount.filter(|d| (d.days as i32) < sale.terms && k as u32 + 1 >= d.from_month);
                let part = if early.is_some() { apply_ppb(credit_part, take_ppb) } else { 0 };
                if let Some(d) = early
                    && part > 0
                {
                    rows.push(ScheduledInvoice {
                        flags: ScheduledInvoice::DISCOUNTED,
                        ..sold(day + d.days as i32, part)
                    });
                }
                // A disputed sale: of the part due on its terms, the undisputed share stays due
                // then, the disputed share is paid, and the credited share credited, when the
                // dispute is resolved.
                let (plain, paid, credit) = if dispute_share > Decimal::ZERO {
                    dispute_pieces(credit_part - part, dispute_share, scenario.disputes.credited)
                } else {
                    (credit_part - part, 0, 0)
                };
                let resolved = day + sale.terms + scenario.disputes.resolution_days as i32;
                if plain > 0 {
                    rows.push(sold(day + sale.terms, plain));
                }
                for (amount, kind) in [(paid, DISPUTED), (credit, CREDITED)] {
                    if amount > 0 {
                        rows.push(ScheduledInvoice { dispute: kind, ..sold(resolved, amount) });
                    }
                }
            }
            if cal.sale_days().len() < 12 {
                // Insured turnover is annual: the last month's credit sales for the months after
                // the horizon.
                let last = cal.sale_days().len() as u32;
                let sale = sale_parts(monthly, buyer.terms_days, grade, last, scenario.terms.as_ref());
                credit_sales_12[b] += (12 - last as i64) * (sale.amount - sale.prepaid);
            }
        }
        rows.sort_by_key(|r| (r.due, r.issue, r.age_due, r.dispute));
        invoices.extend(rows);
        inv_offsets.push(invoices.len() as u32);
    }

    // Factors: sectors and countries in sorted order.
    let sectors: BTreeMap<&str, u32> = index_labels(pf.buyers.iter().map(|b| b.sector.as_str()));
    let countries: BTreeMap<&str, u32> = index_labels(pf.buyers.iter().map(|b| b.country.as_str()));
    let w = scenario.credit.factor_weights.map(f64::sqrt);

    // Per buyer PD, threshold (Φ⁻¹(q), or the t quantile) and correlation; bucket by identical parameters.
    let t_copula = match scenario.credit.copula {
        Copula::Gaussian => None,
        Copula::StudentT => Some(TCopula::new(scenario.credit.t_dof).ok_or_else(|| internal(scenario, "t copula"))?),
    };
    let threshold = |q: f64| match &t_copula {
        None => normal::quantile(q),
        Some(t) => t.quantile(q),
    };
    let forced_set: BTreeMap<usize, (i32, DefaultKind)> =
        st.forced_defaults.iter().flat_map(|f| f.buyers.iter().map(move |&b| (b, (f.day, f.kind)))).collect();
    let mut q = vec![0.0; n];
    type Key = (u64, u64, u32, u32);
    let mut groups: BTreeMap<Key, Vec<u32>> = BTreeMap::new();
    for (b, buyer) in pf.buyers.iter().enumerate() {
        let base =
            buyer.pd_1y.or_else(|| buyer.rating.as_ref().and_then(|r| scenario.ratings.get(r).copied())).unwrap_or(0.0);
        // Validated finite (a zero factor wins over an overflow: SPEC §2.3, issue 17).
        let m = crate::model::product(&st.pd_factors(buyer)).ok_or_else(|| internal(scenario, "PD multipliers"))?;
        let p = (base * m).min(0.9999);
        q[b] = horizon_pd(p, cal.horizon_months());
        let r0 = match scenario.credit.correlation {
            Correlation::Basel => basel_r(base),
            Correlation::Fixed(r) => r,
        };
        let r = (r0 + st.correlation_addon).clamp(0.0, 0.9999);
        if forced_set.contains_key(&b) || q[b] <= 0.0 {
            continue;
        }
        let key =
            (threshold(q[b]).to_bits(), r.to_bits(), sectors[buyer.sector.as_str()], countries[buyer.country.as_str()]);
        groups.entry(key).or_default().push(b as u32);
    }
    let mut buckets = Vec::with_capacity(groups.len());
    let mut bucket_members = Vec::with_capacity(n);
    for ((thr, r, s, c), members) in groups {
        let r = f64::from_bits(r);
        let sr = r.sqrt();
        buckets.push(Bucket {
            start: bucket_members.len() as u32,
            len: members.len() as u32,
            threshold: f64::from_bits(thr),
            load: [sr * w[0], sr * w[1], sr * w[2]],
            sector: s,
            country: c,
            idio: (1.0 - r).sqrt(),
        });
        bucket_members.extend(members);
    }
    let cuts = cut_plan(study, scenario, &buckets, &bucket_members, &q, &threshold)?;
    let forced = st
        .forced_defaults
        .iter()
        .flat_map(|f| f.buyers.iter().map(move |&b| Forced { buyer: b as u32, day: f.day, kind: f.kind }))
        .collect();

    let recovery = [
        recovery_plan(&scenario.credit.recovery_insolvency, st.recovery_multiplier, scenario)?,
        recovery_plan(&scenario.credit.recovery_protracted, st.recovery_multiplier, scenario)?,
    ];

    // Policies: premium on 12 months of planned insured sales; protected limits per buyer.
    let mut policies = Vec::new();
    let mut protected = Vec::with_capacity(study.policies.len() * n);
    let mut indemnity_ppb = Vec::with_capacity(study.policies.len() * n);
    // Named-buyer policies (`named_top`) rank the insured buyers by exposure at the study's rates.
    let ranking = study
        .policies
        .iter()
        .any(|p| p.named_top.is_some())
        .then(|| pf.rank_by_exposure(&study.fx, &std::collections::BTreeMap::new()));
    for pol in &study.policies {
        let mut named = vec![true; n];
        if let (Some(top), Some(order)) = (pol.named_top, &ranking) {
            named.fill(false);
            for &b in order.iter().filter(|&&b| pf.buyers[b].is_insured()).take(top as usize) {
                named[b] = true;
            }
        }
        let insured_turnover: i64 = pf
            .buyers
            .iter()
            .zip(&credit_sales_12)
            .zip(&named)
            .filter(|((b, _), named)| b.is_insured() && **named)
            .map(|((_, m), _)| *m)
            .sum();
        let cents = |d: Decimal| to_cents(d, Decimal::ONE).ok_or_else(|| internal(scenario, "policy amounts"));
        let by_rate = round_cents(pol.premium_rate * Decimal::from(insured_turnover));
        let minimum_premium = cents(pol.minimum_premium)?;
        let annual = by_rate.max(minimum_premium);
        let max_liability = match pol.max_liability {
            MaxLiability::Fixed(d) => cents(d)?,
            MaxLiability::Multiple(m) => round_cents(m * Decimal::from(annual)),
        };
        policies.push(PolicyPlan {
            name: pol.name.clone(),
            nql: cents(pol.nql)?,
            deductible: cents(pol.deductible)?,
            aggregate_first_loss: cents(pol.aggregate_first_loss)?,
            max_liability,
            annual_premium: annual,
            minimum_premium,
            premium: mul_div_round(annual, cal.horizon_months() as i64, 12),
            insured_turnover,
            waiting_period_days: pol.waiting_period_days as i32,
            insolvency_claim_days: pol.insolvency_claim_days as i32,
            claim_payment_days: pol.claim_payment_days as i32,
            political_cover: pol.political_cover,
            political_waiting_days: pol.political_waiting_days as i32,
            indemnity_political_ppb: rate_to_ppb(pol.indemnity_political),
        });
        let disc_max = pol.discretionary_limit_max.map(cents).transpose()?;
        for (buyer, &named) in pf.buyers.iter().zip(&named) {
            let (limit, ppb) = match (buyer.is_insured() && named, buyer.credit_limit) {
                (true, Some(l)) => {
                    let rate = Portfolio::rate(&study.fx, &st.fx_shock, &buyer.currency);
                    let l = to_cents(l, rate).ok_or_else(|| internal(scenario, "credit limit"))?;
                    match buyer.limit_type {
                        LimitType::Discretionary => {
                            (disc_max.map_or(l, |m| l.min(m)), rate_to_ppb(pol.indemnity_discretionary))
                        }
                        _ => (l, rate_to_ppb(pol.indemnity)),
                    }
                }
                _ => (0, 0),
            };
            protected.push(limit);
            indemnity_ppb.push(ppb);
        }
    }

    let mut plan = Plan {
        scenario: scenario.name.clone(),
        horizon_days: h_days,
        horizon_months: cal.horizon_months(),
        year_starts: cal.policy_year_starts(),
        n_buyers: n,
        inv_offsets,
        invoices,
        n_sectors: sectors.len(),
        n_countries: countries.len(),
        buckets,
        bucket_members,
        log1m_q: q.iter().map(|&x| (-x).ln_1p()).collect(),
        q,
        forced,
        fixed_global: st.systematic_quantile.map(|s| normal::quantile(1.0 - s)),
        tail_sampling: None,
        trial_block: DEFAULT_TRIAL_BLOCK,
        t_copula,
        insolvency_share: scenario.credit.insolvency_share,
        recovery,
        stop_deliveries_after_days: scenario.payment.stop_deliveries_after_days as i32,
        discount_ppb: discount.map_or(0, |d| rate_to_ppb(d.rate)),
        terms_lost_sales: scenario.terms.as_ref().map(|_| lost_sales),
        policies,
        protected,
        indemnity_ppb,
        lateness: lateness_plan(&study.collections.ladder, scenario, pf, h_days, &sectors, &countries),
        country_risk: country_risk_plan(scenario, pf, &countries, cal.horizon_months()),
        buyer_country: pf.buyers.iter().map(|b| countries[b.country.as_str()]).collect(),
        keys: crate::plan::keys::KeyIndex::new(pf).0,
        cuts,
        collections: None,
        cash: None,
        disputes: None,
    };
    let overdue: Vec<u32> =
        (0..n).filter(|&b| plan.invoices_of(b).iter().any(|i| i.curve != 0)).map(|b| b as u32).collect();
    if !overdue.is_empty() {
        let longest = curves_ppb.iter().map(Vec::len).max().unwrap_or(0);
        let thresholds = std::array::from_fn(|c| {
            let mut cum = 0i64;
            curves_ppb[c]
                .iter()
                .map(|&s| {
                    cum = (cum + s).min(PPB);
                    mul_div_round(cum, 1 << 32, PPB) as u64
                })
                .collect()
        });
        let never_of = |b: u32| plan.invoices_of(b as usize).iter().filter(|i| i.piece == NEVER_PIECE);
        let mut groups = Vec::new();
        let mut group_offsets = vec![0u32];
        for &b in &overdue {
            let mut by_key: BTreeMap<(u8, i32), i64> = BTreeMap::new();
            for inv in plan.invoices_of(b as usize).iter().filter(|i| i.curve != 0) {
                *by_key.entry((inv.curve, inv.age_due)).or_default() += inv.amount;
            }
            groups.extend(by_key.into_iter().map(|((curve, age_due), amount)| OverdueGroup { curve, age_due, amount }));
            group_offsets.push(groups.len() as u32);
        }
        plan.collections = Some(CollectionPlan {
            thresholds,
            days: (0..longest).map(|j| collection_day(j, st.days_late_shift)).collect(),
            never: overdue.iter().map(|&b| never_of(b).map(|i| i.amount).sum()).collect(),
            never_oldest_due: overdue
                .iter()
                .map(|&b| never_of(b).map(|i| i.age_due).min().unwrap_or(i32::MAX))
                .collect(),
            groups,
            group_offsets,
            buyers: overdue,
        });
    }
    if invoices_disputed(&plan) {
        let credited: Vec<i64> = (0..n)
            .map(|b| plan.invoices_of(b).iter().filter(|i| i.dispute == CREDITED).map(|i| i.amount).sum())
            .collect();
        plan.disputes = Some(DisputePlan { credited_total: credited.iter().sum(), credited });
    }
    if let Some(company) = &study.company {
        plan.cash = Some(
            CashPlan::compile(&plan, company, cal.month_starts())
                .ok_or_else(|| internal(scenario, "company amounts"))?,
        );
    }
    Ok(plan)
}

fn invoices_disputed(plan: &Plan) -> bool {
    plan.invoices.iter().any(|i| i.dispute != 0)
}

fn country_risk_plan(
    scenario: &Scenario,
    pf: &Portfolio,
    countries: &BTreeMap<&str, u32>,
    horizon_months: u32,
) -> Option<CountryRiskPlan> {
    let table = &scenario.country_risk;
    let params: Vec<&CountryRisk> =
        countries.keys().map(|c| table.countries.get(*c).unwrap_or(&table.default)).collect();
    let forced: Vec<(u32, i32, i32)> = scenario
        .stress
        .forced_country_events
        .iter()
        .filter_map(|f| countries.get(f.country.as_str()).map(|&c| (c, f.start_day, f.duration_days as i32)))
        .collect();
    if forced.is_empty() && params.iter().all(|p| p.probability <= 0.0) {
        return None;
    }
    let mut by_country: Vec<Vec<u32>> = vec![Vec::new(); countries.len()];
    for (b, buyer) in pf.buyers.iter().enumerate() {
        by_country[countries[buyer.country.as_str()] as usize].push(b as u32);
    }
    let mut buyer_offsets = vec![0u32];
    let mut buyers = Vec::with_capacity(pf.buyers.len());
    for list in by_country {
        buyers.extend(list);
        buyer_offsets.push(buyers.len() as u32);
    }
    Some(CountryRiskPlan {
        probability: params.iter().map(|p| horizon_pd(p.probability.min(1.0), horizon_months)).collect(),
        duration_median: params.iter().map(|p| p.duration_days_median).collect(),
        transfer_ppb: params.iter().map(|p| (p.transfer_rate * PPB as f64).round_ties_even() as i64).collect(),
        forced,
        buyer_offsets,
        buyers,
    })
}

/// `Φ⁻¹(0.9)`: the lognormal's σ is `ln(p90 / median) / Z90`.
const Z90: f64 = 1.281_551_565_544_600_4;

/// A delay (before the shift) beyond which nothing in the model changes: every payment falls after
/// the horizon, after any waiting period (≤ 3,650 days) plus the horizon, and after the end of the
/// longest country event (≤ 36,500 days) — with room for a negative `days_late_shift` (≥ −3,650).
fn delay_cap(horizon_days: i32) -> u32 {
    (horizon_days.max(0) as u32) + 36_500 + 3_650 + 720 + 3_650 + 1
}

/// The insurer-retreat part of the plan (SPEC §5.4), `None` when nothing can be cut.
fn cut_plan(
    study: &Study,
    scenario: &Scenario,
    buckets: &[Bucket],
    members: &[u32],
    q: &[f64],
    threshold: &dyn Fn(f64) -> f64,
) -> Result<Option<CutPlan>, Error> {
    let lc = &scenario.stress.limit_cuts;
    if lc.share <= 0.0 {
        return Ok(None);
    }
    // Members of a bucket share q, so the trigger threshold is one per bucket.
    let thresholds = buckets
        .iter()
        .map(|b| {
            let q_b = q[members[b.start as usize] as usize];
            let trigger = crate::model::product(&[lc.trigger_pd_multiple, q_b]).unwrap_or(f64::INFINITY);
            if trigger >= 1.0 { f64::INFINITY } else { threshold(trigger) }
        })
        .collect();
    let mut limit = Vec::with_capacity(study.portfolio.buyers.len());
    for buyer in &study.portfolio.buyers {
        let cents = match (buyer.is_insured(), buyer.credit_limit) {
            (true, Some(l)) => {
                let rate = Portfolio::rate(&study.fx, &scenario.stress.fx_shock, &buyer.currency);
                to_cents(l, rate).ok_or_else(|| internal(scenario, "credit limit"))?
            }
            _ => 0,
        };
        limit.push(cents);
    }
    Ok(Some(CutPlan {
        share: lc.share,
        thresholds,
        cut_to_ppb: (lc.cut_to * 1e9).round() as i64,
        notice_days: lc.notice_days as i32,
        lead_days: lc.lead_days as i32,
        limit,
    }))
}

fn lateness_plan(
    study_ladder: &[crate::model::LadderStep],
    scenario: &Scenario,
    pf: &Portfolio,
    horizon_days: i32,
    sectors: &BTreeMap<&str, u32>,
    countries: &BTreeMap<&str, u32>,
) -> Option<LatenessPlan> {
    let pay = &scenario.payment;
    let share = (pay.late_share + scenario.stress.late_share_addon).clamp(0.0, 1.0);
    if share <= 0.0 {
        return None;
    }
    let c = pay.cycle_sensitivity;
    let w = scenario.credit.factor_weights.map(f64::sqrt);
    let mut groups: BTreeMap<(u32, u32), Vec<u32>> = BTreeMap::new();
    for (b, buyer) in pf.buyers.iter().enumerate() {
        groups.entry((sectors[buyer.sector.as_str()], countries[buyer.country.as_str()])).or_default().push(b as u32);
    }
    let mut buckets = Vec::new();
    let mut bucket_of = vec![0u32; pf.buyers.len()];
    for (i, ((sector, country), list)) in groups.into_iter().enumerate() {
        for &b in &list {
            bucket_of[b as usize] = i as u32;
        }
        buckets.push(Bucket {
            start: 0,
            len: list.len() as u32,
            threshold: 0.0,
            load: [c.sqrt() * w[0], c.sqrt() * w[1], c.sqrt() * w[2]],
            sector,
            country,
            idio: (1.0 - c).sqrt(),
        });
    }
    let shift = scenario.stress.days_late_shift as i32;
    let mut delays = DelayTable::new(
        pay.days_late_median,
        (pay.days_late_p90 / pay.days_late_median).ln() / Z90,
        delay_cap(horizon_days),
    );
    let ladder = pay.ladder.as_deref().unwrap_or(study_ladder);
    delays.apply_ladder(ladder, shift);
    let agency = ladder
        .iter()
        .find(|s| s.action == crate::model::DunningAction::Agency)
        .map(|s| Agency { days: s.days as i32, fee_ppb: rate_to_ppb(s.fee) })
        .filter(|a| a.fee_ppb > 0);
    Some(LatenessPlan { buckets, bucket_of, threshold: normal::quantile(share), delays, shift, agency })
}

fn round_cents(d: Decimal) -> i64 {
    i64::try_from(d.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven)).unwrap_or(i64::MAX)
}

fn index_labels<'a>(labels: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, u32> {
    crate::model::distinct(labels).into_iter().enumerate().map(|(i, l)| (l, i as u32)).collect()
}

fn recovery_plan(rec: &Recovery, multiplier: Decimal, scenario: &Scenario) -> Result<RecoveryPlan, Error> {
    let mu = crate::model::product(&[rec.mean, multiplier]).ok_or_else(|| internal(scenario, "recovery mean"))?;
    let lag_days = rec.lag_days as i32;
    if rec.sd == 0.0 {
        let ppb = rate_to_ppb(mu).min(PPB);
        return Ok(RecoveryPlan { fixed_ppb: Some(ppb), beta: None, mean_ppb: ppb, lag_days });
    }
    let m: f64 = mu.try_into().unwrap_or(f64::NAN);
    let k = m * (1.0 - m) / (rec.sd * rec.sd) - 1.0;
    let beta = Beta::new(m * k, (1.0 - m) * k).map_err(|_| internal(scenario, "recovery Beta parameters"))?;
    Ok(RecoveryPlan { fixed_ppb: None, beta: Some(beta), mean_ppb: rate_to_ppb(mu).min(PPB), lag_days })
}

impl Plan {
    /// A default of buyer `b` on `day` (SPEC §4.2, §5 step 1): the oldest unpaid due date, the
    /// first day without deliveries, and the unpaid amount on delivered invoices.
    #[inline]
    pub fn unpaid_at_default(&self, b: usize, day: i32, kind: crate::model::DefaultKind) -> (i32, i32, i64) {
        let invoices = self.invoices_of(b);
        // Invoices are sorted by due day: the first one due on or after τ is the oldest unpaid
        // (a prepaid part is never owed).
        let first = invoices.partition_point(|inv| inv.due < day);
        let owed = || invoices[first..].iter().filter(|inv| !inv.prepaid());
        let oldest_due = owed().next().map_or(i32::MAX, |inv| inv.due);
        let stop = match kind {
            crate::model::DefaultKind::Insolvency => day,
            crate::model::DefaultKind::Protracted => oldest_due.saturating_add(self.stop_deliveries_after_days),
        };
        let unpaid = owed().filter(|inv| inv.issue < stop).map(|inv| inv.amount).sum();
        (oldest_due, stop, unpaid)
    }

    /// What a claim with date of loss `dol` leaves out of a default on `day` (docs/model.md,
    /// "Disputes (dilution)"), among `invoices` (the buyer's, or those delivered after a cut): of
    /// the pieces of disputed sales unpaid at the default (due on or after `day`, issued before
    /// the delivery stop `stop`), those still in dispute at the date of loss (resolution day, their
    /// `due`, after `dol`) and every credited piece (never owed). Returns `(excluded, refused)`,
    /// `refused` the pieces still in dispute (the claims refused for disputes).
    pub fn disputed_at_loss(invoices: &[ScheduledInvoice], day: i32, stop: i32, dol: i32) -> (i64, i64) {
        let (mut excluded, mut refused) = (0i64, 0i64);
        for inv in invoices.iter().filter(|i| i.dispute != 0 && i.due >= day && i.issue < stop) {
            if inv.due > dol {
                refused += inv.amount;
                excluded += inv.amount;
            } else if inv.dispute == CREDITED {
                excluded += inv.amount;
            }
        }
        (excluded, refused)
    }

    /// A buyer's invoices, sorted by due day.
    #[inline]
    pub fn invoices_of(&self, buyer: usize) -> &[ScheduledInvoice] {
        &self.invoices[self.inv_offsets[buyer] as usize..self.inv_offsets[buyer + 1] as usize]
    }

    /// Policy year of a day (events after the last year start belong to the last year).
    #[inline]
    pub fn year_of(&self, day: i32) -> usize {
        self.year_starts.iter().rposition(|&s| s <= day).unwrap_or(0)
    }

    /// Number of policies (without "none").
    pub fn n_policies(&self) -> usize {
        self.policies.len()
    }

    /// Where each figure of this plan's outcome rows is ([`RowLayout`]).
    pub fn layout(&self) -> RowLayout {
        RowLayout::new(
            self.n_policies(),
            self.cash.as_ref().map_or(0, |c| c.months),
            self.cuts.is_some(),
            self.disputes.is_some(),
        )
    }

    /// Values in a trial's outcome row ([`RowLayout::width`]).
    pub fn row_width(&self) -> usize {
        self.layout().width()
    }

    /// First column of the disputes block of a trial's row, present only when the scenario
    /// disputes some sales (docs/model.md, "Disputes (dilution)"): the dilution loss, then the
    /// claims refused for disputes under each policy.
    pub fn disputes_at(&self) -> usize {
        self.layout().disputes()
    }

    /// First column of the retreat block of a trial's row, present only when the scenario cuts
    /// limits: the number of buyers cut (effective inside the horizon), the sales the cuts turned
    /// away, then the cover removed under each policy (SPEC §5.4).
    pub fn retreat_at(&self) -> usize {
        self.layout().retreat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's inverse CDF is the rounded lognormal quantile: `round(median · e^(σ Φ⁻¹(u)))`.
    #[test]
    fn delay_table_inverts_the_rounded_lognormal() {
        let (median, sigma) = (15.0, (60.0f64 / 15.0).ln() / Z90);
        let table = DelayTable::new(median, sigma, 5_000);
        for i in 1..20_000 {
            let u = i as f64 / 20_000.0;
            let x = median * (sigma * normal::quantile(u)).exp();
            // Skip the measure-zero neighbourhoods of rounding boundaries.
            if (x - x.floor() - 0.5).abs() < 1e-6 {
                continue;
            }
            assert_eq!(table.sample(u) as f64, x.round_ties_even().min(5_000.0), "u = {u}");
        }
        let fixed = DelayTable::new(300.0, 0.0, 5_000);
        assert!((0..100).all(|i| fixed.sample(i as f64 / 100.0) == 300));
        assert_eq!(DelayTable::new(1.0, 30.0, 1_000).sample(0.999_999_999), 1_000, "the far tail is capped");
    }
}

/// Importance sampling of the global factor (Glasserman and Li 2005, with a defensive mixture,
/// Hesterberg 1995): `Z_g` is drawn from `½·N(0, 1) + ½·N(−shift, 1)` and the trial weighted by the
/// likelihood ratio `φ(z) / (½φ(z) + ½φ(z + shift)) = 2 / (1 + e^{−shift·z − shift²/2})`, which
/// never exceeds 2, so figures of the body of the distribution lose at most half their precision
/// while the tail (low `Z_g`: more defaults) is sampled far more often.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TailSampling {
    pub shift: f64,
}

/// Trials per block by default: a block's outcome rows and per-trial state stay within a few
/// hundred kilobytes for the studies the benches run.
pub const DEFAULT_TRIAL_BLOCK: usize = 1024;
/// The largest block `run --block-size` accepts.
pub const MAX_TRIAL_BLOCK: usize = 65_536;

/// One unit of likelihood-ratio weight: 2³² (weights are rounded to it, so weighted sums stay
/// exact integers).
pub const WEIGHT_UNIT: u64 = 1 << 32;

/// The default shift: `Φ⁻¹(0.995)`, centring half the trials on the global factor's 0.5% quantile.
pub const DEFAULT_TAIL_SHIFT: f64 = 2.575_829_303_548_901;

impl TailSampling {
    /// Draws `Z_g` and its likelihood ratio in units of [`WEIGHT_UNIT`].
    #[inline]
    pub fn draw<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> (f64, u64) {
        use rand::RngExt;
        let shifted = rng.random::<bool>();
        let e: f64 = rng.sample(rand_distr::StandardNormal);
        let z = if shifted { e - self.shift } else { e };
        let ratio = 2.0 / (1.0 + (-self.shift * z - 0.5 * self.shift * self.shift).exp());
        (z, (ratio * WEIGHT_UNIT as f64).round() as u64)
    }
}

impl Plan {
    /// The plan with importance sampling of the global factor; a scenario that fixes `Z_g`
    /// (`systematic_quantile`) keeps plain sampling (there is nothing to sample).
    pub fn with_trial_block(mut self, block: Option<usize>) -> Plan {
        self.trial_block = block.unwrap_or(DEFAULT_TRIAL_BLOCK).clamp(1, MAX_TRIAL_BLOCK);
        self
    }

    pub fn with_tail_sampling(mut self, shift: Option<f64>) -> Plan {
        self.tail_sampling = shift.filter(|_| self.fixed_global.is_none()).map(|shift| TailSampling { shift });
        self
    }
}

/// The Student-t copula's per-trial mixing variable and its quantile function.
#[derive(Debug, Clone)]
pub struct TCopula {
    pub dof: f64,
    chi2: rand_distr::ChiSquared<f64>,
    t: statrs::distribution::StudentsT,
}

impl TCopula {
    pub fn new(dof: f64) -> Option<TCopula> {
        Some(TCopula {
            dof,
            chi2: rand_distr::ChiSquared::new(dof).ok()?,
            t: statrs::distribution::StudentsT::new(0.0, 1.0, dof).ok()?,
        })
    }

    /// `F⁻¹(q)` of the standard t distribution with `dof` degrees of freedom.
    pub fn quantile(&self, q: f64) -> f64 {
        use statrs::distribution::ContinuousCDF;
        self.t.inverse_cdf(q)
    }

    /// `√(W/ν)`, `W ~ χ²_ν`: the trial's divisor of every latent variable.
    #[inline]
    pub fn draw_scale<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        use rand_distr::Distribution;
        (self.chi2.sample(rng) / self.dof).sqrt()
    }
}
