//! The per-trial kernel: draw factors, find defaults, build loss events, settle every policy.
//!
//! Allocation-free once a [`Scratch`] is warm; reads only the flat arrays of a [`Plan`].

use crate::claims::{Peril, Terms, YearLedger, insurer_recovery_share};
use crate::engine::rng::{Purpose, TrialKey};
use crate::model::DefaultKind;
use crate::money::apply_ppb;
use crate::normal;
use crate::plan::cash::{
    BuyerState, CountryEvent, Cut, DeliveryScratch, LateAccumulator, MonthTotals, PathScratch, Settle,
    claim_payment_day, for_each_delivered, prefetch, run_off_limit,
};
use crate::plan::{Plan, RowLayout, ScheduledInvoice};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// One buyer's loss event in a trial (policy-independent part).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LossEvent {
    pub buyer: u32,
    pub peril: Peril,
    /// Default day τ (for lateness: the oldest unpaid due date).
    pub day: i32,
    /// Oldest unpaid due date (protracted defaults, lateness).
    pub oldest_due: i32,
    /// Unpaid amount on delivered invoices (before recovery).
    pub unpaid: i64,
    pub recovery: i64,
    pub recovery_day: i32,
    /// First day without deliveries (insolvency day, or oldest unpaid due + stop days).
    pub delivery_stop: i32,
    /// Policy year of the event start.
    pub year: u32,
    /// The part of `unpaid` on invoices delivered before a cut of the buyer's limit took effect
    /// (all of it without a cut).
    pub before_cut: i64,
}

/// A buyer whose credit limit is cut in a trial (SPEC §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutRecord {
    pub buyer: u32,
    /// The insurer's decision day; the cut takes effect on `cut.day` = decision + notice.
    pub decision_day: i32,
    pub cut: Cut,
    /// The sales the cut turned away (the seller ships only within the new limit).
    pub lost_sales: i64,
    /// Index of the buyer's credit default in the trial's loss events (`u32::MAX`: no default).
    pub default_event: u32,
    /// Range of the buyer's delivered invoices (amounts after the cut) in the scratch.
    invoices: (u32, u32),
}

/// Per-thread buffers reused across trials; they never affect results.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    z_sector: Vec<f64>,
    z_country: Vec<f64>,
    events: Vec<LossEvent>,
    order: Vec<(u32, i32, u32, u32)>,
    ledgers: Vec<YearLedger>,
    pub(crate) totals: MonthTotals,
    path: PathScratch,
    /// `marks[b] == stamp` iff buyer b defaulted in the current trial.
    marks: Vec<u32>,
    stamp: u32,
    /// Late buyers of the current trial with their delay.
    late: Vec<(u32, i32)>,
    /// `delays[b] = (stamp, delay)`: buyer b is late in the current trial when the stamp matches.
    delays: Vec<(u32, i32)>,
    /// The country events of the current trial: (country index, event).
    country_events: Vec<(u32, CountryEvent)>,
    /// Event of each country index in the current trial.
    event_of_country: Vec<Option<CountryEvent>>,
    /// `claimed[b] == claim_stamp` iff buyer b already has a claim under the policy being settled.
    claimed: Vec<u32>,
    claim_stamp: u32,
    delivered: DeliveryScratch,
    late_acc: LateAccumulator,
    /// Conditional lateness probability per lateness group in the current trial, in units of 2⁻³².
    late_p: Vec<u64>,
    /// Buyers drawn late before their delay is drawn.
    candidates: Vec<u32>,
    /// The uniform of each candidate's delay.
    delay_u: Vec<f64>,
    /// The limit cuts of the current trial.
    cuts: Vec<CutRecord>,
    /// `cut_of[b] = (stamp, i)`: buyer b's limit is cut in the current trial, `cuts[i]`.
    cut_of: Vec<(u32, u32)>,
    /// The delivered invoices of the cut buyers, amounts after the cut.
    cut_invoices: Vec<ScheduledInvoice>,
    /// Every claim of the current trial, for risk contributions.
    claim_log: Vec<ClaimRecord>,
    /// The defaults of the current trial with their random parts drawn (buyer, day, kind,
    /// recovery rate in ppb), resolved against the invoice schedules in a second pass.
    pending: Vec<(u32, i32, DefaultKind, i64)>,
    /// When set (replays for the shortfall attribution only), the settlement logs each buyer's
    /// claims received and insurer's shares paid back by month in `cash_log`.
    trace: bool,
    cash_log: Vec<CashRecord>,
    /// The collection agency's fees of the trial (payments inside the horizon).
    fees: i64,
    /// Buyers otherwise on time whose overdue invoices follow the trial's draw (their index in
    /// `plan.collections.buyers`), with it.
    collect: Vec<(u32, u32)>,
    /// The dilution loss of the trial: credited pieces of disputed sales delivered and credited
    /// (docs/model.md, "Disputes (dilution)").
    dilution: i64,
    /// The claims refused for disputes under the policy settled last.
    refused: i64,
    /// Buyers with disputed sales whose deliveries differ from the plan in the current trial.
    affected: Vec<u32>,
}

/// A claim payment (positive) or an insurer's share paid back (negative) of one buyer under one
/// policy in one month, logged by a traced trial ([`Scratch::traced`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashRecord {
    pub policy: u32,
    pub buyer: u32,
    /// Month index (0-based).
    pub month: u32,
    pub amount: i64,
}

/// Why a buyer's cash path differs from its on-time path in a trial, for the shortfall
/// attribution. A buyer hit by several causes gets the first that applies in this order:
/// default, country event, late payment, limit cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// Insolvency or protracted default.
    Default = 0,
    /// Late payment (the buyer does not default and its country has no event).
    Late = 1,
    /// A country event blocks its payments (a buyer that does not default).
    CountryEvent = 2,
    /// Its credit limit was cut: sales turned away (a buyer that neither defaults, is late nor
    /// is hit by a country event).
    LimitCut = 3,
}

/// A claim settled in a trial: what the insurer bears of one buyer's loss under one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimRecord {
    pub policy: u32,
    pub buyer: u32,
    /// Claim paid less the insurer's share of later recoveries: the buyer's gross loss minus its
    /// net loss under the policy.
    pub ceded: i64,
}

impl Scratch {
    pub fn new(plan: &Plan) -> Self {
        Scratch {
            z_sector: vec![0.0; plan.n_sectors],
            z_country: vec![0.0; plan.n_countries],
            events: Vec::with_capacity(64),
            order: Vec::with_capacity(64),
            ledgers: Vec::with_capacity(plan.year_starts.len()),
            totals: plan.cash.as_ref().map(|c| c.baseline.clone()).unwrap_or_default(),
            path: PathScratch::default(),
            marks: vec![0; plan.n_buyers],
            stamp: 0,
            late: Vec::with_capacity(if plan.lateness.is_some() { plan.n_buyers } else { 0 }),
            delays: vec![(0, 0); plan.n_buyers],
            country_events: Vec::new(),
            event_of_country: vec![None; plan.n_countries],
            claimed: vec![0; plan.n_buyers],
            claim_stamp: 0,
            delivered: DeliveryScratch::default(),
            late_acc: LateAccumulator::default(),
            late_p: Vec::new(),
            candidates: Vec::new(),
            delay_u: Vec::new(),
            cuts: Vec::new(),
            cut_of: vec![(0, 0); if plan.cuts.is_some() { plan.n_buyers } else { 0 }],
            cut_invoices: Vec::new(),
            claim_log: Vec::with_capacity(64),
            pending: Vec::with_capacity(64),
            trace: false,
            cash_log: Vec::new(),
            fees: 0,
            collect: Vec::with_capacity(plan.collections.as_ref().map_or(0, |c| c.buyers.len())),
            dilution: 0,
            refused: 0,
            affected: Vec::new(),
        }
    }

    /// A scratch whose trials also log each buyer's claims and shares by month
    /// ([`Scratch::cash_log`]); the trials' rows are the same.
    pub fn traced(plan: &Plan) -> Self {
        Scratch { trace: true, ..Scratch::new(plan) }
    }

    /// The claims and insurer's shares of the last trial by buyer and month (traced scratch only).
    pub fn cash_log(&self) -> &[CashRecord] {
        &self.cash_log
    }

    /// The limit cuts of the last trial.
    pub fn cuts(&self) -> &[CutRecord] {
        &self.cuts
    }

    /// The cut of buyer `b` in the current trial.
    #[inline]
    fn cut_of(&self, b: usize) -> Option<&CutRecord> {
        match self.cut_of.get(b) {
            Some(&(stamp, i)) if stamp == self.stamp => Some(&self.cuts[i as usize]),
            _ => None,
        }
    }

    /// Delay, country event and cut of a buyer that does not default in the current trial.
    #[inline]
    /// The state of the buyer of loss event `e` when it is a default (`None` for the other
    /// perils): its default day and kind, delivery stop, write-off day and any cut.
    fn default_state(&self, e: &LossEvent) -> Option<BuyerState> {
        let kind = match e.peril {
            Peril::Insolvency => DefaultKind::Insolvency,
            Peril::Protracted => DefaultKind::Protracted,
            Peril::Late { .. } | Peril::Political | Peril::WriteOff => return None,
        };
        Some(BuyerState {
            default: Some((e.day, kind)),
            delivery_stop: e.delivery_stop,
            write_off: e.recovery_day,
            cut: self.cut_of(e.buyer as usize).map(|c| c.cut),
            ..BuyerState::ON_TIME
        })
    }

    fn state_of(&self, plan: &Plan, b: usize) -> BuyerState {
        let (stamp, delay) = self.delays[b];
        let delay = if stamp == self.stamp { delay } else { 0 };
        BuyerState {
            delay,
            fee_ppb: plan.lateness.as_ref().map_or(0, |l| l.fee_ppb(delay)),
            event: self.event_of_country.get(plan.buyer_country[b] as usize).copied().flatten(),
            cut: self.cut_of(b).map(|c| c.cut),
            ..BuyerState::ON_TIME
        }
    }

    /// The country events of the last trial: (country index in code order, event).
    pub fn country_events(&self) -> &[(u32, CountryEvent)] {
        &self.country_events
    }

    /// The late buyers of the last trial run with this scratch, with their delay in days.
    pub fn late(&self) -> &[(u32, i32)] {
        &self.late
    }

    /// The loss events of the last trial run with this scratch.
    pub fn events(&self) -> &[LossEvent] {
        &self.events
    }

    /// The claims of the last trial run with this scratch, every policy.
    pub fn claim_log(&self) -> &[ClaimRecord] {
        &self.claim_log
    }
}

pub use crate::plan::layout::FIXED_COLUMNS;

/// The net loss of alternative `q` in an outcome row (0: no insurance; `p + 1`: policy `p`): the
/// credit loss and the write-off, less the claims paid, plus the insurer's share of recoveries
/// paid back. The one place a row's net loss is formed.
#[inline]
pub fn net_loss(row: &[i64], q: usize) -> i64 {
    let borne = row[RowLayout::GROSS] + row[RowLayout::WRITE_OFF];
    match q {
        0 => borne,
        q => borne - row[RowLayout::claims(q - 1)] + row[RowLayout::share(q - 1)],
    }
}

/// Runs one trial and writes its outcome row ([`Plan::row_width`] values). Returns the trial's
/// likelihood-ratio weight in units of [`crate::plan::WEIGHT_UNIT`] (one unit without tail
/// sampling).
pub fn run_trial(plan: &Plan, key: &TrialKey, scratch: &mut Scratch, row: &mut [i64]) -> u64 {
    let Drawn { weight, gross, defaults, write_off } = draw_trial(plan, key, scratch);
    let layout = plan.layout();
    row[RowLayout::GROSS] = gross;
    row[RowLayout::DEFAULTS] = defaults;
    row[RowLayout::WRITE_OFF] = write_off;
    row[RowLayout::FEES] = scratch.fees;
    row[RowLayout::DISCOUNTS] = if plan.cash.is_some() { scratch.totals.discounts } else { 0 };
    let disputes_at = plan.disputes.as_ref().map(|_| layout.disputes());
    if let Some(at) = disputes_at {
        row[at] = scratch.dilution;
    }
    for (p, policy) in plan.policies.iter().enumerate() {
        let (claims, share, _) = settle_policy(plan, p, policy, scratch);
        row[RowLayout::claims(p)] = claims;
        row[RowLayout::share(p)] = share;
        if disputes_at.is_some() {
            row[layout.refused(p)] = scratch.refused;
        }
    }
    if let Some(cash) = &plan.cash {
        let h = cash.months;
        let t = &scratch.totals;
        row[layout.receivables()..layout.receivables() + h].copy_from_slice(&t.receivables);
        row[layout.sales()..layout.sales() + h].copy_from_slice(&t.sales);
        for (q, p) in std::iter::once(None).chain((0..plan.n_policies()).map(Some)).enumerate() {
            let at = layout.cash(q);
            let (cash_out, rest) = row[at..at + 2 * h].split_at_mut(h);
            cash.path(t, p, cash_out, rest);
        }
    }
    if let Some(cuts) = &plan.cuts {
        retreat_row(plan, cuts, scratch, &mut row[plan.retreat_at()..]);
    }
    weight
}

/// What a trial's draws give before any policy settles.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Drawn {
    /// The trial's weight ([`crate::plan::WEIGHT_UNIT`] without tail sampling).
    pub weight: u64,
    /// Credit loss: unpaid less recovered, over the defaults and events.
    pub gross: i64,
    pub defaults: i64,
    /// Receivables overdue at `as_of` never collected by the buyers that do not default.
    pub write_off: i64,
}

impl Drawn {
    /// The loss borne without insurance: the credit loss and the write-off.
    pub fn uninsured_loss(&self) -> i64 {
        self.gross + self.write_off
    }
}

/// The draws of a trial and what follows from them under no policy: the loss events, the late
/// buyers, country events and cuts in `scratch`, the month totals corrected for them (with a cash
/// plan), then one [`Peril::WriteOff`] event per buyer with a write-off. Every policy is then
/// settled on the same scratch ([`settle_policy`]).
pub(crate) fn draw_trial(plan: &Plan, key: &TrialKey, scratch: &mut Scratch) -> Drawn {
    scratch.events.clear();
    scratch.pending.clear();
    scratch.late.clear();
    scratch.cuts.clear();
    scratch.collect.clear();
    scratch.fees = 0;
    scratch.claim_log.clear();
    if scratch.trace {
        scratch.cash_log.clear();
    }
    scratch.stamp = scratch.stamp.wrapping_add(1);
    if scratch.stamp == 0 {
        scratch.marks.fill(0);
        scratch.stamp = 1;
    }
    let Factors { z_g, weight, t_scale } = draw_factors(plan, key, &mut scratch.z_sector, &mut scratch.z_country);

    let mut defaults = 0i64;
    // Each bucket's first uniform (the first word of its stream), eight buckets at a time (SIMD):
    // in most trials it settles that nobody in the bucket defaults.
    const X8: usize = crate::engine::rng::philox::LANES;
    let mut first = [0u64; X8];
    for (k, bucket) in plan.buckets.iter().enumerate() {
        if k % X8 == 0 {
            let entities: [u32; X8] = std::array::from_fn(|e| (k + e) as u32);
            first = key.first_words_x8(Purpose::Defaults, entities);
        }
        let systematic = bucket.load[0] * z_g
            + bucket.load[1] * scratch.z_sector[bucket.sector as usize]
            + bucket.load[2] * scratch.z_country[bucket.country as usize];
        let members = &plan.bucket_members[bucket.start as usize..(bucket.start + bucket.len) as usize];
        // Conditional on the factors, members default independently with probability
        // p = Φ(z): jump from one default to the next with geometric gaps. The first gap is
        // decided by v ~ U[0,1): no member defaults iff v >= 1 − (1−p)^n, which a cheap upper
        // bound of p settles in most trials without evaluating Φ.
        let z = (bucket.threshold * t_scale - systematic) / bucket.idio;
        let n = members.len();
        let mut v = crate::engine::rng::philox::unit_f64(first[k % X8]);
        if v >= n as f64 * normal::cdf_upper_bound(z) {
            continue;
        }
        // The stream again from its start: its first word is `v`.
        let mut rng = key.stream(Purpose::Defaults, k as u32);
        rng.unit();
        let p = normal::cdf(z);
        if p <= 0.0 {
            continue;
        }
        let log_q = (-p).ln_1p();
        let mut i = 0usize;
        loop {
            // Gap to the next default: floor(ln(1 − v) / ln(1 − p)), geometric on {0, 1, ...}.
            let gap = if p >= 1.0 { 0.0 } else { ((-v).ln_1p() / log_q).floor() };
            if gap >= (n - i) as f64 {
                break;
            }
            i += gap as usize;
            defaults += 1;
            random_default(plan, key, members[i], scratch);
            i += 1;
            if i >= n {
                break;
            }
            v = rng.unit();
        }
    }
    for f in &plan.forced {
        defaults += 1;
        draw_default(plan, &mut key.stream(Purpose::ForcedDefault, f.buyer), f.buyer, f.day, f.kind, scratch);
    }
    resolve_defaults(plan, scratch);
    if let Some(late) = &plan.lateness {
        draw_lateness(plan, late, key, z_g, scratch);
    }
    if let Some(risk) = &plan.country_risk {
        draw_country_events(risk, plan.horizon_days, key, scratch);
    }
    // Cuts are drawn last, so a scenario that adds them to another keeps every other draw.
    if let Some(cuts) = &plan.cuts {
        draw_cuts(plan, cuts, key, z_g, t_scale, scratch);
    }
    // The collection of overdue receivables after everything else, so a study without overdue
    // invoices keeps every other draw.
    if let Some(collections) = &plan.collections {
        draw_collections(plan, collections, key, scratch);
    }
    if let Some(risk) = &plan.country_risk {
        political_events(plan, risk, scratch);
    }
    if !scratch.cuts.is_empty() {
        deliver_after_cuts(plan, scratch);
    }
    scratch.dilution = if plan.disputes.is_some() { dilution(plan, scratch) } else { 0 };

    let gross: i64 = scratch.events.iter().map(|e| e.unpaid - e.recovery).sum();
    if let Some(cash) = &plan.cash {
        correct_cash(plan, cash, scratch);
    }
    let write_off = push_write_offs(plan, scratch);
    Drawn { weight, gross, defaults, write_off }
}

/// The systematic factors of a trial beside the sector and country ones.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Factors {
    pub z_g: f64,
    /// The trial's weight ([`crate::plan::WEIGHT_UNIT`] without tail sampling).
    pub weight: u64,
    /// The t copula's divisor `√(W/ν)` (1 for the Gaussian copula).
    pub t_scale: f64,
}

/// Draws the trial's systematic factors, each from its own stream: the global one (fixed by
/// `systematic_quantile`, or importance-sampled), the sector and country factors into
/// `z_sector` and `z_country`, and the t copula's scale.
#[inline]
pub(crate) fn draw_factors(plan: &Plan, key: &TrialKey, z_sector: &mut [f64], z_country: &mut [f64]) -> Factors {
    let (z_drawn, weight) = match &plan.tail_sampling {
        None => (key.stream(Purpose::GlobalFactor, 0).sample(StandardNormal), crate::plan::WEIGHT_UNIT),
        Some(is) => is.draw(&mut key.stream(Purpose::GlobalFactor, 0)),
    };
    let z_g = plan.fixed_global.unwrap_or(z_drawn);
    for (s, z) in z_sector.iter_mut().enumerate() {
        *z = key.stream(Purpose::SectorFactor, s as u32).sample(StandardNormal);
    }
    for (c, z) in z_country.iter_mut().enumerate() {
        *z = key.stream(Purpose::CountryFactor, c as u32).sample(StandardNormal);
    }
    // Student-t copula: X / √(W/ν) < t_q  ⇔  X < t_q·√(W/ν): the thresholds scale per trial.
    let t_scale = plan.t_copula.as_ref().map_or(1.0, |t| t.draw_scale(&mut key.stream(Purpose::TScale, 0)));
    Factors { z_g, weight, t_scale }
}

/// The conditional lateness probability of each lateness group given the factors, as a 32-bit
/// threshold (a buyer's word below it: late), into `out`.
pub(crate) fn late_thresholds(
    late: &crate::plan::LatenessPlan,
    z_g: f64,
    z_sector: &[f64],
    z_country: &[f64],
    out: &mut Vec<u64>,
) {
    out.clear();
    for bucket in &late.buckets {
        let systematic = bucket.load[0] * z_g
            + bucket.load[1] * z_sector[bucket.sector as usize]
            + bucket.load[2] * z_country[bucket.country as usize];
        let p = if bucket.idio > 0.0 {
            normal::cdf((late.threshold - systematic) / bucket.idio)
        } else if systematic < late.threshold {
            1.0
        } else {
            0.0
        };
        out.push((p * 4_294_967_296.0).round() as u64);
    }
}

/// A late buyer's delay in days from its uniform (0: not late after all).
#[inline]
pub(crate) fn delay_of(late: &crate::plan::LatenessPlan, u: f64) -> i32 {
    let days = late.delays.sample(u) as i64 + late.shift as i64;
    days.max(0) as i32
}

/// The trial's dilution loss (docs/model.md, "Disputes (dilution)"): the credited pieces of
/// disputed sales that are delivered and credited, i.e. not left unpaid by a default. Every
/// buyer's credited pieces as planned, corrected for the buyers with disputed sales whose
/// deliveries or defaults differ: defaulters (a credited piece due on or after the default day is
/// unpaid, part of the credit loss), late buyers whose delay stops deliveries, buyers of a country
/// with an event and cut buyers (sales not made are not credited), each walked under its state.
fn dilution(plan: &Plan, scratch: &mut Scratch) -> i64 {
    let Some(d) = &plan.disputes else { return 0 };
    let mut total = d.credited_total;
    let has = |b: usize| d.credited[b] > 0;
    let walk = |plan: &Plan, b: usize, state: &BuyerState, delivered: &mut DeliveryScratch| -> i64 {
        let mut credited = 0i64;
        for_each_delivered(plan, b, state, delivered, |inv, settle| {
            if inv.dispute == crate::plan::CREDITED && settle != Settle::Unpaid {
                credited += inv.amount;
            }
        });
        credited
    };
    for i in 0..scratch.events.len() {
        let e = scratch.events[i];
        let Some(state) = scratch.default_state(&e) else { continue };
        let b = e.buyer as usize;
        if !has(b) {
            continue;
        }
        total += walk(plan, b, &state, &mut scratch.delivered) - d.credited[b];
    }
    scratch.affected.clear();
    let stop_days = plan.stop_deliveries_after_days;
    scratch
        .affected
        .extend(scratch.late.iter().filter(|&&(b, delay)| delay > stop_days && has(b as usize)).map(|l| l.0));
    if let Some(risk) = &plan.country_risk {
        for &(c, _) in &scratch.country_events {
            let members =
                &risk.buyers[risk.buyer_offsets[c as usize] as usize..risk.buyer_offsets[c as usize + 1] as usize];
            scratch.affected.extend(members.iter().filter(|&&b| has(b as usize)));
        }
    }
    scratch.affected.extend(scratch.cuts.iter().map(|c| c.buyer).filter(|&b| has(b as usize)));
    scratch.affected.sort_unstable();
    scratch.affected.dedup();
    for i in 0..scratch.affected.len() {
        let b = scratch.affected[i] as usize;
        if scratch.marks[b] == scratch.stamp {
            continue; // defaulted: above
        }
        let state = scratch.state_of(plan, b);
        total += walk(plan, b, &state, &mut scratch.delivered) - d.credited[b];
    }
    total
}

/// Pushes one [`Peril::WriteOff`] event per buyer that does not default and never collects part
/// of its receivables overdue at `as_of` (a defaulter's is part of its credit loss): as drawn for
/// a buyer otherwise on time, the curves' never-collected pieces for the others. Returns the
/// trial's write-off.
fn push_write_offs(plan: &Plan, scratch: &mut Scratch) -> i64 {
    let Some(c) = &plan.collections else { return 0 };
    let mut drawn = 0;
    let mut total = 0;
    for (k, &b) in c.buyers.iter().enumerate() {
        let i = b as usize;
        let u = match scratch.collect.get(drawn) {
            Some(&(d, u)) if d as usize == k => {
                drawn += 1;
                Some(u)
            }
            _ if scratch.marks[i] == scratch.stamp => continue,
            _ => None,
        };
        let (mut amount, mut oldest_due) = (0i64, i32::MAX);
        match u {
            None => (amount, oldest_due) = (c.never[k], c.never_oldest_due[k]),
            Some(u) => {
                for g in c.groups_of(k).iter().filter(|g| c.day(g.curve, u) == crate::plan::NEVER_DUE) {
                    amount += g.amount;
                    oldest_due = oldest_due.min(g.age_due);
                }
            }
        }
        if amount == 0 {
            continue;
        }
        total += amount;
        scratch.events.push(LossEvent {
            buyer: b,
            peril: Peril::WriteOff,
            day: 0,
            oldest_due,
            unpaid: amount,
            recovery: 0,
            recovery_day: i32::MAX,
            delivery_stop: i32::MAX,
            year: 0,
            before_cut: amount,
        });
    }
    total
}

/// Draws the collection of every buyer with overdue invoices (one 32-bit uniform each, always, in
/// plan order: the draws of a buyer depend only on (seed, scenario, trial, buyer)). A buyer that
/// defaults, is late, is hit by a country event or cut keeps the curve's expected collections
/// (its overdue pieces follow its own path there).
fn draw_collections(plan: &Plan, collections: &crate::plan::CollectionPlan, key: &TrialKey, scratch: &mut Scratch) {
    for (k, &b) in collections.buyers.iter().enumerate() {
        let i = b as usize;
        if scratch.marks[i] == scratch.stamp
            || scratch.delays[i].0 == scratch.stamp
            || scratch.event_of_country.get(plan.buyer_country[i] as usize).copied().flatten().is_some()
            || scratch.cut_of(i).is_some()
        {
            continue;
        }
        let u = key.lanes(Purpose::Collection, b / 4)[i % 4];
        scratch.collect.push((k as u32, u));
    }
}

/// What the trial's limit cuts changed (SPEC §5.4), for the cuts taking effect inside the
/// horizon: the number of buyers cut, the sales turned away, and the cover removed under each
/// policy (the protected limit less the new limit, summed over the cut buyers).
fn retreat_row(plan: &Plan, cuts: &crate::plan::CutPlan, scratch: &Scratch, out: &mut [i64]) {
    out.fill(0);
    let n = plan.n_buyers;
    for c in scratch.cuts.iter().filter(|c| c.cut.day < plan.horizon_days) {
        out[0] += 1;
        out[1] += c.lost_sales;
        for p in 0..plan.n_policies() {
            let old = plan.protected[p * n + c.buyer as usize];
            out[2 + p] += old - apply_ppb(old, cuts.cut_to_ppb);
        }
    }
}

/// Starts the trial's month totals from the baseline and corrects them for every buyer whose path
/// differs: defaulters, late buyers (simply late ones through the fast path) and the other buyers
/// of countries with an event. Claims and the insurer's shares are added by the settlement.
fn correct_cash(plan: &Plan, cash: &crate::plan::cash::CashPlan, scratch: &mut Scratch) {
    scratch.totals.copy_from(&cash.baseline);
    for e in &scratch.events {
        // Late buyers and the buyers of event countries are corrected below; a write-off is
        // already in the path (its pieces are never collected).
        let Some(state) = scratch.default_state(e) else { continue };
        let b = e.buyer as usize;
        cash.on_time_path(plan, b, -1, &mut scratch.totals, &mut scratch.path);
        cash.buyer_path(plan, b, &state, 1, &mut scratch.totals, &mut scratch.path);
        if let Some(m) = cash.month_of(e.recovery_day) {
            scratch.totals.recoveries[m] += e.recovery;
        }
    }
    // Late buyers in closed form where one applies; the others walk their invoices.
    let events = !scratch.country_events.is_empty();
    let cuts = !scratch.cuts.is_empty();
    const AHEAD: usize = 8;
    for (i, &(b, delay)) in scratch.late.iter().enumerate() {
        if let Some(fast) = &cash.late {
            if let Some(&(next, _)) = scratch.late.get(i + 2 * AHEAD) {
                prefetch(&cash.buyers[next as usize]);
            }
            if let Some(&(next, _)) = scratch.late.get(i + AHEAD) {
                fast.prefetch(cash, next as usize);
            }
        }
        let b = b as usize;
        let event = if events { scratch.event_of_country[plan.buyer_country[b] as usize] } else { None };
        let cut = if cuts { scratch.cut_of(b).map(|c| c.cut) } else { None };
        let fee_ppb = plan.lateness.as_ref().map_or(0, |l| l.fee_ppb(delay));
        if event.is_none()
            && cut.is_none()
            && fee_ppb == 0
            && let Some(fast) = &cash.late
            && fast.add(plan, cash, b, &cash.buyers[b], delay, &mut scratch.late_acc, &mut scratch.totals)
        {
            continue;
        }
        cash.on_time_path(plan, b, -1, &mut scratch.totals, &mut scratch.path);
        let state = BuyerState { delay, event, cut, fee_ppb, ..BuyerState::ON_TIME };
        cash.buyer_path(plan, b, &state, 1, &mut scratch.totals, &mut scratch.path);
        scratch.fees += scratch.path.fees();
    }
    if let Some(fast) = &cash.late {
        scratch.late_acc.apply(cash, fast, &mut scratch.totals);
    }
    if let Some(risk) = &plan.country_risk {
        for &(c, _) in &scratch.country_events {
            let members =
                &risk.buyers[risk.buyer_offsets[c as usize] as usize..risk.buyer_offsets[c as usize + 1] as usize];
            for &b in members {
                let b = b as usize;
                if scratch.marks[b] == scratch.stamp || scratch.delays[b].0 == scratch.stamp {
                    continue; // defaulted, or late (corrected above)
                }
                cash.on_time_path(plan, b, -1, &mut scratch.totals, &mut scratch.path);
                let state = scratch.state_of(plan, b); // not late: the event, and a cut if any
                cash.buyer_path(plan, b, &state, 1, &mut scratch.totals, &mut scratch.path);
            }
        }
    }
    // Cut buyers neither in default, late nor in a country with an event.
    for i in 0..scratch.cuts.len() {
        let b = scratch.cuts[i].buyer as usize;
        if scratch.cuts[i].default_event != u32::MAX {
            continue; // corrected with the defaults
        }
        let state = scratch.state_of(plan, b);
        if state.delay != 0 || state.event.is_some() {
            continue; // corrected above
        }
        cash.on_time_path(plan, b, -1, &mut scratch.totals, &mut scratch.path);
        cash.buyer_path(plan, b, &state, 1, &mut scratch.totals, &mut scratch.path);
    }
    // Buyers otherwise on time: their overdue invoices as drawn instead of the expected curve.
    if let Some(c) = &plan.collections {
        for &(i, u) in &scratch.collect {
            cash.add_drawn_collection(plan, c, i as usize, u, 1, &mut scratch.totals, &mut scratch.path);
        }
    }
}

/// For the last trial run with `scratch`, calls `f(buyer, cause, delta)` for every buyer whose
/// cash path differs from its on-time path, `delta` being its month totals minus its on-time
/// ones (collections, sales, receivables, eligible, insured) plus the recoveries it pays in, each
/// buyer walked explicitly (the same buyers and states as the trial's cash correction). Claims
/// and shares are in [`Scratch::cash_log`] of a traced scratch.
pub fn buyer_cash_effects(plan: &Plan, scratch: &mut Scratch, mut f: impl FnMut(u32, Cause, &MonthTotals)) {
    let Some(cash) = &plan.cash else { return };
    let mut zero = cash.baseline.clone();
    for v in [
        &mut zero.collections,
        &mut zero.sales,
        &mut zero.receivables,
        &mut zero.eligible,
        &mut zero.insured,
        &mut zero.recoveries,
        &mut zero.claims,
        &mut zero.shares,
    ] {
        v.fill(0);
    }
    let mut delta = zero.clone();
    let mut path = PathScratch::default();
    let mut one = |b: usize, cause: Cause, state: &BuyerState, recovery: Option<(i32, i64)>, path: &mut PathScratch| {
        delta.copy_from(&zero);
        cash.on_time_path(plan, b, -1, &mut delta, path);
        cash.buyer_path(plan, b, state, 1, &mut delta, path);
        if let Some((day, amount)) = recovery
            && let Some(m) = cash.month_of(day)
        {
            delta.recoveries[m] += amount;
        }
        f(b as u32, cause, &delta);
    };
    for e in &scratch.events {
        let Some(state) = scratch.default_state(e) else { continue };
        let b = e.buyer as usize;
        one(b, Cause::Default, &state, Some((e.recovery_day, e.recovery)), &mut path);
    }
    for &(b, _) in &scratch.late {
        let b = b as usize;
        let state = scratch.state_of(plan, b);
        let cause = if state.event.is_some() { Cause::CountryEvent } else { Cause::Late };
        one(b, cause, &state, None, &mut path);
    }
    if let Some(risk) = &plan.country_risk {
        for &(c, _) in &scratch.country_events {
            let members =
                &risk.buyers[risk.buyer_offsets[c as usize] as usize..risk.buyer_offsets[c as usize + 1] as usize];
            for &b in members {
                let b = b as usize;
                if scratch.marks[b] == scratch.stamp || scratch.delays[b].0 == scratch.stamp {
                    continue;
                }
                one(b, Cause::CountryEvent, &scratch.state_of(plan, b), None, &mut path);
            }
        }
    }
    for c in &scratch.cuts {
        let b = c.buyer as usize;
        if c.default_event != u32::MAX {
            continue;
        }
        let state = scratch.state_of(plan, b);
        if state.delay != 0 || state.event.is_some() {
            continue;
        }
        one(b, Cause::LimitCut, &state, None, &mut path);
    }
    // Overdue invoices collected later than expected count as late payment (issue 20: a cause
    // of their own is a next step).
    if let Some(c) = &plan.collections {
        for &(i, u) in &scratch.collect {
            let b = c.buyers[i as usize];
            let state = BuyerState { collect: Some(u), ..BuyerState::ON_TIME };
            one(b as usize, Cause::Late, &state, None, &mut path);
        }
    }
}

/// Draws the trial's limit cuts (SPEC §5.4): every buyer whose `X` falls below
/// `F⁻¹(min(1, trigger × q))` is cut with probability `share`. That set holds every buyer that
/// defaults in the trial (forced defaults included) and, given the factors, each other buyer with
/// probability `(Φ(z_t) − Φ(z_q)) / (1 − Φ(z_q))`, independently.
///
/// First the buyers that do not default: members are picked with geometric gaps over the whole
/// bucket at that probability times `share`, and a pick that defaulted (or has no limit) is
/// dropped, which leaves every other member picked independently; each pick's decision day is
/// uniform in the horizon. Then the defaulters, in draw order: one uniform against `share`, and
/// for a cut one uniform for the decision day in `[max(0, τ − lead_days), τ)` (a default on day 0,
/// or `lead_days = 0`, leaves no day to decide on). The cut takes effect `notice_days` after the
/// decision day.
fn draw_cuts(plan: &Plan, cuts: &crate::plan::CutPlan, key: &TrialKey, z_g: f64, t_scale: f64, scratch: &mut Scratch) {
    for (k, (bucket, &trigger)) in plan.buckets.iter().zip(&cuts.thresholds).enumerate() {
        let systematic = bucket.load[0] * z_g
            + bucket.load[1] * scratch.z_sector[bucket.sector as usize]
            + bucket.load[2] * scratch.z_country[bucket.country as usize];
        let p_default = normal::cdf((bucket.threshold * t_scale - systematic) / bucket.idio);
        let p_trigger = normal::cdf((trigger * t_scale - systematic) / bucket.idio);
        if p_default >= 1.0 || p_trigger <= p_default {
            continue;
        }
        let p = (cuts.share * (p_trigger - p_default) / (1.0 - p_default)).min(1.0);
        let members = &plan.bucket_members[bucket.start as usize..(bucket.start + bucket.len) as usize];
        let log_q = (-p).ln_1p();
        let mut rng = key.stream(Purpose::Cuts, k as u32);
        let mut i = 0usize;
        while i < members.len() {
            let v = rng.unit();
            let gap = if p >= 1.0 { 0.0 } else { ((-v).ln_1p() / log_q).floor() };
            if gap >= (members.len() - i) as f64 {
                break;
            }
            i += gap as usize;
            let b = members[i];
            i += 1;
            let day = ((rng.unit() * plan.horizon_days as f64) as i32).min(plan.horizon_days - 1);
            if scratch.marks[b as usize] == scratch.stamp || cuts.limit[b as usize] == 0 {
                continue;
            }
            push_cut(cuts, scratch, b, day, u32::MAX);
        }
    }
    // The credit defaults are the first loss events, in the order of `pending`.
    for i in 0..scratch.pending.len() {
        let (b, tau, ..) = scratch.pending[i];
        if cuts.limit[b as usize] == 0 {
            continue;
        }
        let mut rng = key.stream(Purpose::CutOfDefault, b);
        if rng.unit() >= cuts.share {
            continue;
        }
        let from = tau.saturating_sub(cuts.lead_days).max(0);
        let u = rng.unit();
        if from >= tau {
            continue;
        }
        let day = (from + (u * (tau - from) as f64) as i32).min(tau - 1);
        push_cut(cuts, scratch, b, day, i as u32);
    }
}

/// Records the cut of buyer `b` decided on `day`.
fn push_cut(cuts: &crate::plan::CutPlan, scratch: &mut Scratch, b: u32, day: i32, default_event: u32) {
    scratch.cut_of[b as usize] = (scratch.stamp, scratch.cuts.len() as u32);
    scratch.cuts.push(CutRecord {
        buyer: b,
        decision_day: day,
        cut: Cut { day: day + cuts.notice_days, ship_limit: apply_ppb(cuts.limit[b as usize], cuts.cut_to_ppb) },
        lost_sales: 0,
        default_event,
        invoices: (0, 0),
    });
}

/// Once delays and country events are known, walks each cut buyer's deliveries: the invoices it
/// receives under its new limit (what its claim is made of) and the sales the cut turned away. A
/// cut buyer in default has its loss event rebuilt from what was delivered (SPEC §5 step 1): the
/// unpaid amount, its recovery, and the part delivered before the cut took effect. A late buyer's
/// claim starts from its oldest delivered invoice.
fn deliver_after_cuts(plan: &Plan, scratch: &mut Scratch) {
    scratch.cut_invoices.clear();
    for i in 0..scratch.cuts.len() {
        let record = scratch.cuts[i];
        let b = record.buyer as usize;
        let mut state = match scratch.events.get(record.default_event as usize) {
            Some(e) => BuyerState {
                default: Some((
                    e.day,
                    if e.peril == Peril::Insolvency { DefaultKind::Insolvency } else { DefaultKind::Protracted },
                )),
                delivery_stop: e.delivery_stop,
                write_off: e.recovery_day,
                cut: Some(record.cut),
                ..BuyerState::ON_TIME
            },
            None => scratch.state_of(plan, b),
        };
        let start = scratch.cut_invoices.len();
        // A protracted default's oldest unpaid invoice may be a sale the cut turned away: the
        // oldest one delivered then sets the date of loss and the delivery stop, and the walk is
        // made again with that stop (later sales are due later, so it does not move again).
        let mut passes = 0;
        let (lost, unpaid, before, oldest) = loop {
            passes += 1;
            scratch.cut_invoices.truncate(start);
            let invoices = &mut scratch.cut_invoices;
            let (mut unpaid, mut before, mut oldest) = (0i64, 0i64, i32::MAX);
            let lost = for_each_delivered(plan, b, &state, &mut scratch.delivered, |inv, settle| {
                invoices.push(*inv);
                if settle == Settle::Unpaid {
                    unpaid += inv.amount;
                    oldest = oldest.min(inv.due);
                    if inv.issue < record.cut.day {
                        before += inv.amount;
                    }
                }
            });
            let moved = match (scratch.events.get(record.default_event as usize), state.default) {
                (Some(e), Some((_, DefaultKind::Protracted))) if oldest != i32::MAX && oldest > e.oldest_due => {
                    Some(oldest.saturating_add(plan.stop_deliveries_after_days))
                }
                _ => None,
            };
            match moved {
                Some(stop) if stop != state.delivery_stop && passes < 3 => state.delivery_stop = stop,
                _ => break (lost, unpaid, before, oldest),
            }
        };
        let record = &mut scratch.cuts[i];
        record.lost_sales = lost;
        record.invoices = (start as u32, (scratch.cut_invoices.len() - start) as u32);
        if let Some(e) = scratch.events.get_mut(record.default_event as usize) {
            let rate_ppb = scratch.pending[record.default_event as usize].3;
            e.unpaid = unpaid;
            e.recovery = apply_ppb(unpaid, rate_ppb);
            e.before_cut = before;
            if e.peril == Peril::Protracted && oldest != i32::MAX && oldest > e.oldest_due {
                (e.oldest_due, e.delivery_stop) = (oldest, state.delivery_stop);
            }
        }
    }
    for e in scratch.events.iter_mut() {
        if let Peril::Late { .. } = e.peril
            && let Some(&(stamp, i)) = scratch.cut_of.get(e.buyer as usize)
            && stamp == scratch.stamp
        {
            let (start, len) = scratch.cuts[i as usize].invoices;
            match scratch.cut_invoices[start as usize..(start + len) as usize].first() {
                Some(inv) => {
                    (e.day, e.oldest_due) = (inv.due, inv.due);
                    e.year = plan.year_of(inv.due.min(plan.horizon_days - 1)) as u32;
                }
                None => e.oldest_due = i32::MAX / 2, // nothing delivered: no claim
            }
        }
    }
}

/// The invoices a claim on buyer `b` is made of: as scheduled, or as delivered after its cut
/// (`cut`: the range of [`CutRecord::invoices`]).
#[inline]
fn claim_invoices<'a>(
    plan: &'a Plan,
    cut_invoices: &'a [ScheduledInvoice],
    cut: Option<(u32, u32)>,
    b: usize,
) -> &'a [ScheduledInvoice] {
    match cut {
        Some((start, len)) => &cut_invoices[start as usize..(start + len) as usize],
        None => plan.invoices_of(b),
    }
}

/// Draws day and kind of a sampled default (SPEC §3.1.2), then builds its event.
#[inline]
fn random_default(plan: &Plan, key: &TrialKey, buyer: u32, scratch: &mut Scratch) {
    let mut rng = key.stream(Purpose::DefaultDetail, buyer);
    let q = plan.q[buyer as usize];
    let u = rng.unit();
    let x = if q < 1e-12 { u } else { (-u * q).ln_1p() / plan.log1m_q[buyer as usize] };
    let day = ((x * plan.horizon_days as f64).floor() as i32).clamp(0, plan.horizon_days - 1);
    let kind = if rng.unit() < plan.insolvency_share { DefaultKind::Insolvency } else { DefaultKind::Protracted };
    draw_default(plan, &mut rng, buyer, day, kind, scratch);
}

/// Draws the random part of a default on `day` (its recovery rate) and queues it; the buyer is
/// marked as defaulted at once.
fn draw_default(
    plan: &Plan,
    rng: &mut crate::engine::rng::Stream,
    buyer: u32,
    day: i32,
    kind: DefaultKind,
    scratch: &mut Scratch,
) {
    scratch.marks[buyer as usize] = scratch.stamp;
    let rec = &plan.recovery[(kind == DefaultKind::Protracted) as usize];
    let rate_ppb = match (&rec.fixed_ppb, &rec.beta) {
        (Some(ppb), _) => *ppb,
        (None, Some(beta)) => (beta.sample(rng) * 1e9).round_ties_even() as i64,
        (None, None) => 0,
    };
    scratch.pending.push((buyer, day, kind, rate_ppb));
}

/// Builds the loss events of the queued defaults (SPEC §4.2, §5 step 1), in draw order. Nothing
/// here is random, so the invoice schedules of the next defaulters are prefetched while one is
/// resolved: each is a cache miss on a large book.
fn resolve_defaults(plan: &Plan, scratch: &mut Scratch) {
    const AHEAD: usize = 4;
    for &(buyer, ..) in scratch.pending.iter().take(AHEAD) {
        prefetch(plan.invoices_of(buyer as usize).as_ptr());
    }
    for i in 0..scratch.pending.len() {
        if let Some(&(next, ..)) = scratch.pending.get(i + AHEAD) {
            prefetch(plan.invoices_of(next as usize).as_ptr());
        }
        let (buyer, day, kind, rate_ppb) = scratch.pending[i];
        let (oldest_due, stop, unpaid) = plan.unpaid_at_default(buyer as usize, day, kind);
        let rec = &plan.recovery[(kind == DefaultKind::Protracted) as usize];
        scratch.events.push(LossEvent {
            buyer,
            peril: kind.into(),
            day,
            oldest_due,
            unpaid,
            recovery: apply_ppb(unpaid, rate_ppb),
            recovery_day: day.saturating_add(rec.lag_days),
            delivery_stop: stop,
            year: plan.year_of(day) as u32,
            before_cut: unpaid,
        });
    }
}

/// Settles the trial's events under policy `p`: total claims paid and insurer's recovery share.
/// The third value is the largest amount paid in one policy year: the settlement is the same under
/// any maximum liability at least as high (the liability left never bound).
pub(crate) fn settle_policy(
    plan: &Plan,
    p: usize,
    policy: &crate::plan::PolicyPlan,
    scratch: &mut Scratch,
) -> (i64, i64, i64) {
    let n = plan.n_buyers;
    scratch.order.clear();
    scratch.refused = 0;
    for (i, e) in scratch.events.iter().enumerate() {
        let covered = match e.peril {
            Peril::Late { delay } => delay > policy.waiting_period_days,
            Peril::Political => policy.political_cover,
            _ => true,
        };
        if covered && plan.protected[p * n + e.buyer as usize] > 0 {
            scratch.order.push((e.year, date_of_loss(e, policy), e.buyer, i as u32));
        }
    }
    if scratch.order.is_empty() {
        return (0, 0, 0);
    }
    scratch.order.sort_unstable();
    let terms = Terms {
        nql: policy.nql,
        deductible: policy.deductible,
        aggregate_first_loss: policy.aggregate_first_loss,
        max_liability: policy.max_liability,
    };
    scratch.ledgers.clear();
    scratch.ledgers.resize(plan.year_starts.len(), YearLedger::new(&terms));
    scratch.claim_stamp = scratch.claim_stamp.wrapping_add(1);
    if scratch.claim_stamp == 0 {
        scratch.claimed.fill(0);
        scratch.claim_stamp = 1;
    }
    let (mut claims, mut share) = (0i64, 0i64);
    for &(year, dol, buyer, i) in &scratch.order {
        let e = &scratch.events[i as usize];
        // One claim per buyer and trial: the earliest date of loss decides the peril. A write-off
        // is another debt (invoices overdue at as_of that no other peril claims): its own claim.
        if e.peril != Peril::WriteOff {
            if scratch.claimed[buyer as usize] == scratch.claim_stamp {
                continue;
            }
            scratch.claimed[buyer as usize] = scratch.claim_stamp;
        }
        // A recovery received on or before the date of loss is a payment that reduces T. A late
        // buyer's invoices unpaid at the date of loss are all paid later: recovered in full.
        let cut = scratch.cut_of(buyer as usize).copied();
        // `old`: the part of T delivered before a cut took effect (a payment received on or before
        // the date of loss goes to the oldest invoices, delivered before the cut, first).
        let (t, later_recovery, old) = match e.peril {
            Peril::Late { delay } => {
                let invoices = claim_invoices(plan, &scratch.cut_invoices, cut.map(|c| c.invoices), buyer as usize);
                let cut_day = cut.map_or(i32::MAX, |c| c.cut.day);
                let (mut t, mut old) = (0i64, 0i64);
                for inv in late_claim_invoices(plan, invoices, e, delay, dol) {
                    t += inv.amount;
                    if inv.issue < cut_day {
                        old += inv.amount;
                    }
                }
                if plan.disputes.is_some() {
                    scratch.refused += late_refused(plan, invoices, e, dol);
                }
                (t, t, old)
            }
            Peril::Insolvency | Peril::Protracted if plan.disputes.is_some() => {
                // Disputes: the pieces still in dispute at the date of loss are refused, credited
                // pieces are never owed; the recovery is shared pro rata with the debt claimed.
                let invoices = claim_invoices(plan, &scratch.cut_invoices, cut.map(|c| c.invoices), buyer as usize);
                let (excluded, refused) = Plan::disputed_at_loss(invoices, e.day, e.delivery_stop, dol);
                scratch.refused += refused;
                let owed = e.unpaid - excluded;
                let recovery = if e.unpaid > 0 { crate::money::mul_div_round(e.recovery, owed, e.unpaid) } else { 0 };
                if e.recovery_day <= dol {
                    (owed - recovery, 0, (e.before_cut.min(owed) - recovery).max(0))
                } else {
                    (owed, recovery, e.before_cut.min(owed))
                }
            }
            _ if e.recovery_day <= dol => (e.unpaid - e.recovery, 0, (e.before_cut - e.recovery).max(0)),
            _ => (e.unpaid, e.recovery, e.before_cut),
        };
        if t <= 0 {
            continue;
        }
        let idx = p * n + buyer as usize;
        let limit = match (cut, &plan.cuts) {
            (Some(c), Some(cuts)) if dol >= c.cut.day => run_off_limit(plan.protected[idx], cuts.cut_to_ppb, old),
            _ => plan.protected[idx],
        };
        let covered = t.min(limit);
        let indemnity =
            if e.peril == Peril::Political { policy.indemnity_political_ppb } else { plan.indemnity_ppb[idx] };
        let pay = scratch.ledgers[year as usize].settle(&terms, covered, indemnity);
        let recovery_share = insurer_recovery_share(later_recovery, pay, t);
        claims += pay;
        share += recovery_share;
        scratch.claim_log.push(ClaimRecord { policy: p as u32, buyer, ceded: pay - recovery_share });
        if let Some(cash) = &plan.cash {
            let h = cash.months;
            let paid_on = claim_payment_day(e.peril, e.day, dol, policy);
            let trace = scratch.trace;
            let log = |log: &mut Vec<CashRecord>, m: usize, amount: i64| {
                if trace && amount != 0 {
                    log.push(CashRecord { policy: p as u32, buyer, month: m as u32, amount });
                }
            };
            if let Some(m) = cash.month_of(paid_on) {
                scratch.totals.claims[p * h + m] += pay;
                log(&mut scratch.cash_log, m, pay);
            }
            // The insurer's share goes back as recoveries arrive, but never before the claim is
            // paid (a recovery received earlier is netted against the claim payment).
            match e.peril {
                Peril::Late { delay } if trace => {
                    let mut by_month = vec![0i64; h];
                    late_shares_by_month(
                        plan,
                        claim_invoices(plan, &scratch.cut_invoices, cut.map(|c| c.invoices), buyer as usize),
                        e,
                        (delay, dol, paid_on),
                        (pay, t),
                        &mut by_month,
                    );
                    for (m, v) in by_month.into_iter().enumerate() {
                        scratch.totals.shares[p * h + m] += v;
                        log(&mut scratch.cash_log, m, -v);
                    }
                }
                Peril::Late { delay } => late_shares_by_month(
                    plan,
                    claim_invoices(plan, &scratch.cut_invoices, cut.map(|c| c.invoices), buyer as usize),
                    e,
                    (delay, dol, paid_on),
                    (pay, t),
                    &mut scratch.totals.shares[p * h..(p + 1) * h],
                ),
                _ => {
                    if let Some(m) = cash.month_of(e.recovery_day.max(paid_on)) {
                        scratch.totals.shares[p * h + m] += recovery_share;
                        log(&mut scratch.cash_log, m, -recovery_share);
                    }
                }
            }
        }
    }
    let paid_in_year = scratch.ledgers.iter().map(|l| policy.max_liability - l.liability_left).max().unwrap_or(0);
    (claims, share, paid_in_year)
}

/// SPEC §5 step 2: insolvency day, or oldest unpaid due date + waiting period.
#[inline]
pub fn date_of_loss(e: &LossEvent, policy: &crate::plan::PolicyPlan) -> i32 {
    match e.peril {
        Peril::Insolvency => e.day,
        Peril::Protracted | Peril::Late { .. } => e.oldest_due.saturating_add(policy.waiting_period_days),
        // An invoice overdue beyond the waiting period at as_of is claimed at once.
        Peril::WriteOff => e.oldest_due.saturating_add(policy.waiting_period_days).max(0),
        // max(event start, oldest blocked due date) + political waiting period.
        Peril::Political => e.day.max(e.oldest_due).saturating_add(policy.political_waiting_days),
    }
}

/// Draws the trial's country events (SPEC §4.4).
fn draw_country_events(risk: &crate::plan::CountryRiskPlan, h_days: i32, key: &TrialKey, scratch: &mut Scratch) {
    scratch.country_events.clear();
    scratch.event_of_country.fill(None);
    for c in 0..risk.probability.len() {
        if risk.probability[c] <= 0.0 {
            continue;
        }
        let mut rng = key.stream(Purpose::CountryEvent, c as u32);
        if rng.unit() >= risk.probability[c] {
            continue;
        }
        let start = ((rng.unit() * h_days as f64) as i32).min(h_days - 1);
        let eta: f64 = rng.sample(StandardNormal);
        let days = (risk.duration_median[c] * (crate::plan::EVENT_DURATION_SIGMA * eta).exp()).round_ties_even();
        let duration = days.clamp(1.0, 36_500.0) as i32;
        scratch.event_of_country[c] =
            Some(CountryEvent { start, end: start + duration, transfer_ppb: risk.transfer_ppb[c] });
    }
    for &(c, start, duration) in &risk.forced {
        scratch.event_of_country[c as usize] =
            Some(CountryEvent { start, end: start + duration, transfer_ppb: risk.transfer_ppb[c as usize] });
    }
    for (c, event) in scratch.event_of_country.iter().enumerate() {
        if let Some(event) = *event {
            scratch.country_events.push((c as u32, event));
        }
    }
}

/// Builds the political loss events of the buyers the trial's country events block. A buyer in
/// default is treated by its default alone.
fn political_events(plan: &Plan, risk: &crate::plan::CountryRiskPlan, scratch: &mut Scratch) {
    for i in 0..scratch.country_events.len() {
        let (c, event) = scratch.country_events[i];
        let c = c as usize;
        for &b in &risk.buyers[risk.buyer_offsets[c] as usize..risk.buyer_offsets[c + 1] as usize] {
            if scratch.marks[b as usize] == scratch.stamp {
                continue;
            }
            let state = scratch.state_of(plan, b as usize);
            let cut_day = state.cut.map_or(i32::MAX, |c| c.day);
            let (mut blocked, mut oldest, mut before_cut) = (0i64, i32::MAX, 0i64);
            for_each_delivered(plan, b as usize, &state, &mut scratch.delivered, |inv, settle| {
                if let Settle::Blocked { .. } = settle {
                    blocked += inv.amount;
                    oldest = oldest.min(inv.due);
                    if inv.issue < cut_day {
                        before_cut += inv.amount;
                    }
                }
            });
            if blocked > 0 {
                scratch.events.push(LossEvent {
                    buyer: b,
                    peril: Peril::Political,
                    day: event.start,
                    oldest_due: oldest,
                    unpaid: blocked,
                    recovery: apply_ppb(blocked, event.transfer_ppb),
                    recovery_day: event.end,
                    delivery_stop: i32::MAX,
                    year: plan.year_of(event.start) as u32,
                    before_cut,
                });
            }
        }
    }
}

/// The invoices of a late buyer's claim (SPEC §5 step 1) among its `invoices`: delivered before
/// cover stopped (the oldest unpaid due date + stop days) and still unpaid at the date of loss;
/// of a disputed sale, only the part paid on resolution and only if the dispute was resolved by
/// the date of loss (docs/model.md, "Disputes (dilution)").
fn late_claim_invoices<'a>(
    plan: &Plan,
    invoices: &'a [ScheduledInvoice],
    e: &LossEvent,
    delay: i32,
    dol: i32,
) -> impl Iterator<Item = &'a ScheduledInvoice> {
    let cover_stop = e.oldest_due.saturating_add(plan.stop_deliveries_after_days);
    invoices.iter().filter(move |inv| {
        !inv.prepaid()
            && inv.issue < cover_stop
            && inv.due.saturating_add(delay) > dol
            && match inv.dispute {
                0 => true,
                crate::plan::DISPUTED => inv.due <= dol,
                _ => false,
            }
    })
}

/// The claims refused for disputes of a late buyer's claim: the pieces of disputed sales delivered
/// before cover stopped and still in dispute at the date of loss.
fn late_refused(plan: &Plan, invoices: &[ScheduledInvoice], e: &LossEvent, dol: i32) -> i64 {
    let cover_stop = e.oldest_due.saturating_add(plan.stop_deliveries_after_days);
    invoices
        .iter()
        .filter(|inv| inv.dispute != 0 && inv.issue < cover_stop && inv.due > dol)
        .map(|inv| inv.amount)
        .sum()
}

/// Spreads the insurer's share of a late buyer's payments over the months they arrive in,
/// pro rata to the amounts paid, the cumulative share rounded so the parts add up exactly.
fn late_shares_by_month(
    plan: &Plan,
    invoices: &[ScheduledInvoice],
    e: &LossEvent,
    (delay, dol, claim_paid_on): (i32, i32, i32),
    (pay, t): (i64, i64),
    shares: &mut [i64],
) {
    let Some(cash) = &plan.cash else { return };
    let (mut paid, mut given) = (0i64, 0i64);
    for inv in late_claim_invoices(plan, invoices, e, delay, dol) {
        paid += inv.amount;
        let due_back = crate::money::mul_div_round(paid, pay, t);
        if let Some(m) = cash.month_of(inv.due.saturating_add(delay).max(claim_paid_on)) {
            shares[m] += due_back - given;
        }
        given = due_back;
    }
}

/// Draws which buyers pay late and by how much (SPEC §4.3): latent `√c·(w·Z) + √(1−c)·η` below
/// `Φ⁻¹(late_share)`, i.e. a uniform below the group's conditional probability, then a lognormal
/// delay. Buyers in default this trial are skipped.
///
/// About half the buyers are late, so the first pass is branch-free: each 64-bit draw gives two
/// buyers a 32-bit uniform (probabilities resolved to 2⁻³²), and every buyer index is written to
/// the candidate list, whose length grows only for a late buyer.
fn draw_lateness(plan: &Plan, late: &crate::plan::LatenessPlan, key: &TrialKey, z_g: f64, scratch: &mut Scratch) {
    scratch.late.clear();
    let min_waiting = plan.policies.iter().map(|p| p.waiting_period_days).min().unwrap_or(i32::MAX);
    // Conditional lateness probability of each sector × country group as a 32-bit threshold.
    late_thresholds(late, z_g, &scratch.z_sector, &scratch.z_country, &mut scratch.late_p);
    let n = late.bucket_of.len();
    let (marks, stamp, thresholds) = (&scratch.marks, scratch.stamp, &scratch.late_p);
    let candidates = &mut scratch.candidates;
    candidates.resize(n, 0);
    let mut count = 0usize;
    // Eight blocks of four buyers at a time (SIMD); the last chunk's blocks past the book are
    // drawn and left unused.
    const CHUNK: usize = 4 * crate::engine::rng::philox::LANES;
    for (chunk, (groups, marked)) in late.bucket_of.chunks(CHUNK).zip(marks[..n].chunks(CHUNK)).enumerate() {
        let words = key.lanes_x8(Purpose::Late, (chunk * crate::engine::rng::philox::LANES) as u32);
        for (i, ((&group, &mark), &u)) in groups.iter().zip(marked).zip(words.as_flattened()).enumerate() {
            candidates[count] = (chunk * CHUNK + i) as u32;
            count += usize::from((u64::from(u) < thresholds[group as usize]) & (mark != stamp));
        }
    }
    // The delays' uniforms, eight at a time (SIMD): the first word of each candidate's stream.
    const X8: usize = crate::engine::rng::philox::LANES;
    scratch.delay_u.clear();
    for group in scratch.candidates[..count].chunks(X8) {
        let mut entities = [group[0]; X8];
        entities[..group.len()].copy_from_slice(group);
        let words = key.first_words_x8(Purpose::Delay, entities);
        scratch.delay_u.extend(words[..group.len()].iter().map(|&w| crate::engine::rng::philox::unit_f64(w)));
    }
    for i in 0..count {
        let b = scratch.candidates[i];
        let delay = delay_of(late, scratch.delay_u[i]);
        if delay == 0 {
            continue;
        }
        push_late(plan, b, delay, min_waiting, scratch);
    }
}

/// Records buyer `b` as late by `delay > 0` days in the trial, with a late-payment loss event
/// when the delay exceeds the shortest waiting period.
#[inline]
fn push_late(plan: &Plan, b: u32, delay: i32, min_waiting: i32, scratch: &mut Scratch) {
    scratch.late.push((b, delay));
    scratch.delays[b as usize] = (scratch.stamp, delay);
    if delay > min_waiting {
        let invoices = plan.invoices_of(b as usize);
        if let Some(first) = invoices.iter().find(|inv| !inv.prepaid())
            && first.due < plan.horizon_days
        {
            scratch.events.push(LossEvent {
                buyer: b,
                peril: Peril::Late { delay },
                day: first.due,
                oldest_due: first.due,
                unpaid: 0,
                recovery: 0,
                recovery_day: i32::MAX,
                delivery_stop: i32::MAX,
                year: plan.year_of(first.due) as u32,
                before_cut: 0,
            });
        }
    }
}
