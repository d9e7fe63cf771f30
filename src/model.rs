//! The validated model: typed, checked, free of I/O. Built by [`crate::input`], compiled by [`crate::plan`].

use crate::calendar::Calendar;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A whole study: portfolio, policies and scenarios, with run settings.
#[derive(Debug, Clone)]
pub struct Study {
    pub name: String,
    pub calendar: Calendar,
    pub trials: u64,
    pub seed: u64,
    pub currency: String,
    /// Reporting-currency units per unit of each currency (the reporting currency maps to 1).
    pub fx: BTreeMap<String, Decimal>,
    pub portfolio: Portfolio,
    pub policies: Vec<Policy>,
    pub scenarios: Vec<Scenario>,
    pub company: Option<Company>,
    /// How receivables already overdue at `as_of` are collected (`[collections]`).
    pub collections: Collections,
    /// Every file read, with its SHA-256, in reading order.
    pub inputs: Vec<InputFile>,
    /// Non-fatal remarks (unknown CSV columns, ...).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub path: PathBuf,
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LimitType {
    Approved,
    Discretionary,
    None,
}

impl LimitType {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitType::Approved => "approved",
            LimitType::Discretionary => "discretionary",
            LimitType::None => "none",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Buyer {
    pub id: String,
    pub name: String,
    pub country: String,
    pub sector: String,
    pub rating: Option<String>,
    pub pd_1y: Option<f64>,
    pub currency: String,
    pub outstanding: Decimal,
    pub terms_days: u32,
    pub monthly_sales: Decimal,
    pub credit_limit: Option<Decimal>,
    pub limit_type: LimitType,
    pub group_id: Option<String>,
    /// The credit grade given in buyers.csv's `grade` column (`None`: from the rating or PD,
    /// [`Buyer::grade`]).
    pub grade_given: Option<Grade>,
    /// CSV line, for messages.
    pub line: usize,
}

/// A credit manager's grade of a buyer (docs/model.md, "Credit grades"): A good, B average, C weak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grade {
    A,
    B,
    C,
}

impl Grade {
    pub fn parse(s: &str) -> Option<Grade> {
        match s {
            "A" => Some(Grade::A),
            "B" => Some(Grade::B),
            "C" => Some(Grade::C),
            _ => None,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The grade of a rating label: investment grade (AAA to BBB, with any `+`/`−`) A, BB and B
    /// grade B, CCC and below C; `None` for another label.
    pub fn of_rating(rating: &str) -> Option<Grade> {
        match rating.trim_end_matches(['+', '-']) {
            "AAA" | "AA" | "A" | "BBB" => Some(Grade::A),
            "BB" | "B" => Some(Grade::B),
            "CCC" | "CC" | "C" | "D" => Some(Grade::C),
            _ => None,
        }
    }

    /// The grade of an annual PD: A up to 0.5 % (about the investment-grade boundary), B up to
    /// 5 %, C above.
    pub fn of_pd(pd: f64) -> Grade {
        if pd <= 0.005 {
            Grade::A
        } else if pd <= 0.05 {
            Grade::B
        } else {
            Grade::C
        }
    }
}

impl Buyer {
    /// The buyer's grade: buyers.csv's `grade`, else its rating's, else its `pd_1y`'s, else B.
    pub fn grade(&self) -> Grade {
        self.grade_given
            .or_else(|| self.rating.as_deref().and_then(Grade::of_rating))
            .or_else(|| self.pd_1y.map(Grade::of_pd))
            .unwrap_or(Grade::B)
    }

    /// SPEC §2.1: insured iff the limit is > 0 and its type is not `none`.
    pub fn is_insured(&self) -> bool {
        self.limit_type != LimitType::None && self.credit_limit.is_some_and(|l| l > Decimal::ZERO)
    }
}

#[derive(Debug, Clone)]
pub struct Invoice {
    pub id: String,
    /// Index into [`Portfolio::buyers`].
    pub buyer: usize,
    pub amount: Decimal,
    pub currency: String,
    /// Day offsets from `as_of` (negative = before it).
    pub issue_day: i64,
    pub due_day: i64,
}

/// Buyers sorted by `buyer_id`, with their open invoices.
#[derive(Debug, Clone)]
pub struct Portfolio {
    pub buyers: Vec<Buyer>,
    pub invoices: Vec<Invoice>,
    /// Whether invoices.csv was given (buyers without rows in it still have their `outstanding`, spread over
    /// their terms as without the file: [`Portfolio::open_invoices_cents`]).
    pub has_invoice_file: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    pub indemnity: Decimal,
    pub indemnity_discretionary: Decimal,
    pub indemnity_political: Decimal,
    pub discretionary_limit_max: Option<Decimal>,
    pub political_cover: bool,
    pub nql: Decimal,
    pub deductible: Decimal,
    pub aggregate_first_loss: Decimal,
    pub premium_rate: Decimal,
    pub minimum_premium: Decimal,
    pub max_liability: MaxLiability,
    pub waiting_period_days: u32,
    pub political_waiting_days: u32,
    pub insolvency_claim_days: u32,
    pub claim_payment_days: u32,
    /// `named_top = N`: the policy names (covers) only the N insured buyers with the largest
    /// exposure at the study's fx rates (ties by buyer_id); the others are uninsured under it.
    /// `None`: every insured buyer.
    pub named_top: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxLiability {
    /// A multiple of the annual premium.
    Multiple(Decimal),
    /// A fixed amount per policy year.
    Fixed(Decimal),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Correlation {
    Basel,
    Fixed(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copula {
    Gaussian,
    StudentT,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DefaultKind {
    Insolvency,
    Protracted,
}

impl DefaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DefaultKind::Insolvency => "insolvency",
            DefaultKind::Protracted => "protracted",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    /// Mean rate before `recovery_multiplier`, exact as written.
    pub mean: Decimal,
    pub sd: f64,
    pub lag_days: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Credit {
    pub correlation: Correlation,
    /// Shares of R for the global, sector and country factors; they sum to 1.
    pub factor_weights: [f64; 3],
    pub copula: Copula,
    pub t_dof: f64,
    pub insolvency_share: f64,
    pub recovery_insolvency: Recovery,
    pub recovery_protracted: Recovery,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub late_share: f64,
    pub days_late_median: f64,
    pub days_late_p90: f64,
    pub cycle_sensitivity: f64,
    pub stop_deliveries_after_days: u32,
    /// The scenario's dunning ladder, replacing the study's `[collections] ladder` (`None`: the
    /// study's).
    pub ladder: Option<Vec<LadderStep>>,
    /// An early-payment discount offered on new sales (`None`: none).
    pub discount: Option<Discount>,
}

/// An early-payment discount, e.g. `2/10 net 30` (docs/model.md, "Early-payment discounts"):
/// from month `from_month` on, a buyer of grade `g` pays the share `take_up[g]` of each new sale
/// `days` days after issue, less `rate`; the rest on its usual terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Discount {
    pub rate: Decimal,
    pub days: u32,
    /// Take-up share per grade A, B, C.
    pub take_up: [f64; 3],
    pub from_month: u32,
}

/// A terms policy by credit grade (docs/model.md, "Terms by grade"): from month `from_month` on,
/// new sales to a buyer of grade `g` follow `grades[g]` (`None`: its own terms); sales lost to
/// tighter terms follow the two elasticities.
#[derive(Debug, Clone, PartialEq)]
pub struct TermsPolicy {
    pub from_month: u32,
    pub grades: [Option<GradeTerms>; 3],
    /// Share of sales lost when a buyer moves to full prepayment (pro rata for a partial one).
    pub sales_loss_prepaid: f64,
    /// Share of sales lost per 30 days of shorter payment terms.
    pub sales_loss_per_30_days: f64,
}

/// The terms of one grade: payment terms of the credit part, and the share paid before delivery
/// (1: cash in advance).
#[derive(Debug, Clone, PartialEq)]
pub struct GradeTerms {
    pub terms_days: Option<u32>,
    pub prepaid: f64,
}

/// Default share of sales lost when a buyer moves to full prepayment or cash in advance.
pub const DEFAULT_SALES_LOSS_PREPAID: f64 = 0.25;
/// Default share of sales lost per 30 days of shorter terms.
pub const DEFAULT_SALES_LOSS_PER_30_DAYS: f64 = 0.03;

impl TermsPolicy {
    /// What the policy does to a sale of a buyer of grade `grade` on `terms_days` in month `month`
    /// (1-based): `(terms, prepaid share, share of the sale kept)`; `None` when not in force.
    pub fn apply(&self, grade: Grade, terms_days: u32, month: u32) -> Option<(u32, f64, f64)> {
        let g = self.grades[grade.index()].as_ref().filter(|_| month >= self.from_month)?;
        let terms = g.terms_days.unwrap_or(terms_days);
        let shorter = terms_days.saturating_sub(terms) as f64 / 30.0;
        let kept = 1.0 - self.sales_loss_prepaid * g.prepaid - self.sales_loss_per_30_days * shorter;
        Some((terms, g.prepaid, kept.clamp(0.0, 1.0)))
    }
}

/// Default take-up of an early-payment discount per grade A, B, C.
pub const DEFAULT_TAKE_UP: [f64; 3] = [0.6, 0.35, 0.1];

#[derive(Debug, Clone, PartialEq)]
pub struct CountryRisk {
    pub probability: f64,
    pub duration_days_median: f64,
    pub transfer_rate: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CountryRiskTable {
    pub default: CountryRisk,
    pub countries: BTreeMap<String, CountryRisk>,
}

/// Which buyers a forced default hits.
#[derive(Debug, Clone, PartialEq)]
pub struct ForcedDefault {
    /// Indices into the portfolio's buyers (already resolved, `top_n` included), in application order.
    pub buyers: Vec<usize>,
    pub day: i32,
    pub kind: DefaultKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForcedCountryEvent {
    pub country: String,
    pub start_day: i32,
    pub duration_days: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LimitCuts {
    pub trigger_pd_multiple: f64,
    pub share: f64,
    pub cut_to: f64,
    pub notice_days: u32,
    /// How many days before a default the insurer may decide to cut (SPEC §5.4).
    pub lead_days: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stress {
    pub pd_multiplier: f64,
    pub pd_multiplier_by_sector: BTreeMap<String, f64>,
    pub pd_multiplier_by_country: BTreeMap<String, f64>,
    pub pd_multiplier_by_rating: BTreeMap<String, f64>,
    pub systematic_quantile: Option<f64>,
    pub correlation_addon: f64,
    pub recovery_multiplier: Decimal,
    pub sales_multiplier: Decimal,
    pub sales_multiplier_by_sector: BTreeMap<String, Decimal>,
    pub sales_multiplier_by_country: BTreeMap<String, Decimal>,
    pub late_share_addon: f64,
    pub days_late_shift: i64,
    pub fx_shock: BTreeMap<String, Decimal>,
    pub forced_defaults: Vec<ForcedDefault>,
    pub forced_country_events: Vec<ForcedCountryEvent>,
    pub limit_cuts: LimitCuts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The terms policy by grade for new sales (`[terms]`; `None`: every buyer keeps its terms).
    pub terms: Option<TermsPolicy>,
    pub name: String,
    pub description: String,
    pub file: PathBuf,
    /// The default rating table merged with the scenario's `[ratings]`.
    pub ratings: BTreeMap<String, f64>,
    pub credit: Credit,
    pub payment: Payment,
    pub country_risk: CountryRiskTable,
    pub stress: Stress,
    /// Disputed invoices (dilution): docs/model.md, "Disputes (dilution)".
    pub disputes: Disputes,
}

/// A scenario's `[disputes]`: the share of each new sale that is disputed, when the dispute is
/// resolved and how much of a disputed amount is finally credited to the buyer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Disputes {
    /// Share of each new sale's amount that is disputed, in [0, 1].
    pub share: Decimal,
    /// Per sector: replaces `share` for the buyers of the sector.
    pub share_by_sector: BTreeMap<String, Decimal>,
    /// Days after the due date the dispute is resolved.
    pub resolution_days: u32,
    /// Share of a disputed amount finally credited to the buyer (the dilution), in [0, 1].
    pub credited: Decimal,
}

impl Disputes {
    /// The disputed share of a buyer's new sales.
    pub fn share_of(&self, buyer: &Buyer) -> Decimal {
        self.share_by_sector.get(&buyer.sector).copied().unwrap_or(self.share)
    }

    /// Whether some sale can be disputed.
    pub fn any(&self) -> bool {
        self.share > Decimal::ZERO || self.share_by_sector.values().any(|s| *s > Decimal::ZERO)
    }
}

/// The company's cash side (SPEC §4.7).
#[derive(Debug, Clone, PartialEq)]
pub struct Company {
    pub opening_cash: Decimal,
    pub monthly_fixed_outflows: Decimal,
    pub variable_cost_ratio: Decimal,
    pub credit_line: Decimal,
    pub advance_rate_insured: Decimal,
    pub advance_rate_uninsured: Decimal,
    pub minimum_cash: Decimal,
    pub bad_debt_reserve: Option<Decimal>,
}

/// Ageing buckets of days past due at `as_of`, in the order of [`Collections::curves`].
pub const AGEING_BUCKETS: [&str; 5] = ["days_1_30", "days_31_60", "days_61_90", "days_91_180", "over_180"];

/// How receivables already overdue at `as_of` are collected: one curve per ageing bucket of days
/// past due at `as_of` ([`AGEING_BUCKETS`]: 1–30, 31–60, 61–90, 91–180, more than 180 days).
/// `curves[b][j]` is the share of such an invoice collected in month `j + 1` after `as_of`; the
/// rest, `1 − Σ curves[b]`, is never collected (written off). docs/model.md, "Overdue receivables".
#[derive(Debug, Clone, PartialEq)]
pub struct Collections {
    pub curves: [Vec<Decimal>; 5],
    /// The dunning ladder applied to late payers (empty: none), in increasing `days`.
    pub ladder: Vec<LadderStep>,
}

/// What the seller does at a step of the dunning ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DunningAction {
    Reminder,
    Call,
    Letter,
    /// Hand the debt to a collection agency, which keeps a fee on what it collects.
    Agency,
}

impl DunningAction {
    pub const NAMES: [&'static str; 4] = ["reminder", "call", "letter", "agency"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reminder" => Some(Self::Reminder),
            "call" => Some(Self::Call),
            "letter" => Some(Self::Letter),
            "agency" => Some(Self::Agency),
            _ => None,
        }
    }

    /// The default probability that a late invoice still open at the step is paid on it
    /// (docs/model.md, "The dunning ladder": an assumption, to be replaced by the company's own
    /// dunning statistics).
    pub fn default_pay_probability(self) -> f64 {
        match self {
            Self::Reminder => 0.30,
            Self::Call => 0.40,
            Self::Letter => 0.30,
            Self::Agency => 0.50,
        }
    }
}

/// Default contingency fee of a collection agency: its share of what it collects.
pub const DEFAULT_AGENCY_FEE: Decimal = Decimal::from_parts(15, 0, 0, false, 2);

/// A step of the dunning ladder: `days` after the due date the seller takes `action`, and a late
/// invoice still open is paid then with probability `pay_probability`; from an agency step on,
/// the agency keeps `fee` of every payment.
#[derive(Debug, Clone, PartialEq)]
pub struct LadderStep {
    pub days: u32,
    pub action: DunningAction,
    pub pay_probability: f64,
    pub fee: Decimal,
}

impl Collections {
    /// The ageing bucket (index into `curves`) of an invoice `days` past due at `as_of` (`days ≥ 1`).
    pub fn bucket(days: i64) -> usize {
        match days {
            ..=30 => 0,
            31..=60 => 1,
            61..=90 => 2,
            91..=180 => 3,
            _ => 4,
        }
    }
}

impl Default for Collections {
    /// The defaults of docs/model.md: collectability after the Commercial Collection Agency
    /// Association's survey (about 90 % at 30 days past due, 81 % at 60, 70 % at 90, 52 % at six
    /// months, 39 % at nine), spread over the following months with older debts paid more slowly
    /// (an assumption).
    fn default() -> Self {
        let d = |v: &[i64]| v.iter().map(|&x| Decimal::new(x, 2)).collect::<Vec<_>>();
        Collections {
            curves: [
                d(&[60, 20, 8, 4]),
                d(&[40, 25, 12, 8]),
                d(&[25, 20, 15, 10, 5]),
                d(&[15, 12, 10, 8, 8, 7]),
                d(&[8, 7, 6, 6, 6, 6, 6]),
            ],
            ladder: Vec::new(),
        }
    }
}

impl Stress {
    /// The PD multipliers that apply to `buyer`: the scenario-wide one, then its sector's, country's and rating
    /// grade's (a label without an entry contributes 1). Their product is taken with [`product`].
    pub fn pd_factors(&self, buyer: &Buyer) -> [f64; 4] {
        let by = |map: &BTreeMap<String, f64>, label: Option<&str>| label.and_then(|l| map.get(l)).copied();
        [
            self.pd_multiplier,
            by(&self.pd_multiplier_by_sector, Some(&buyer.sector)).unwrap_or(1.0),
            by(&self.pd_multiplier_by_country, Some(&buyer.country)).unwrap_or(1.0),
            by(&self.pd_multiplier_by_rating, buyer.rating.as_deref()).unwrap_or(1.0),
        ]
    }

    /// The scenario keys (under `stress`) of [`Stress::pd_factors`], `None` for a factor no key sets, for messages.
    pub fn pd_factor_keys(&self, buyer: &Buyer) -> [Option<String>; 4] {
        let by = |key: &str, map: &BTreeMap<String, f64>, label: Option<&str>| {
            label.filter(|l| map.contains_key(*l)).map(|l| format!("{key}.{l}"))
        };
        [
            Some("pd_multiplier".to_owned()),
            by("pd_multiplier_by_sector", &self.pd_multiplier_by_sector, Some(&buyer.sector)),
            by("pd_multiplier_by_country", &self.pd_multiplier_by_country, Some(&buyer.country)),
            by("pd_multiplier_by_rating", &self.pd_multiplier_by_rating, buyer.rating.as_deref()),
        ]
    }

    /// The sales multipliers that apply to `buyer`: scenario-wide, its sector's and its country's.
    pub fn sales_factors(&self, buyer: &Buyer) -> [Decimal; 3] {
        [
            self.sales_multiplier,
            self.sales_multiplier_by_sector.get(&buyer.sector).copied().unwrap_or(Decimal::ONE),
            self.sales_multiplier_by_country.get(&buyer.country).copied().unwrap_or(Decimal::ONE),
        ]
    }
}

/// S&P long-run average annual default rates by grade: the default rating table.
pub fn default_rating_table() -> BTreeMap<String, f64> {
    [("AAA", 0.0001), ("AA", 0.0002), ("A", 0.0005), ("BBB", 0.0014), ("BB", 0.0056), ("B", 0.0293), ("CCC", 0.2612)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

impl Portfolio {
    /// Rate from a currency to reporting units: `fx × fx_shock`.
    pub fn rate(fx: &BTreeMap<String, Decimal>, shock: &BTreeMap<String, Decimal>, currency: &str) -> Decimal {
        fx.get(currency).copied().unwrap_or(Decimal::ONE) * shock.get(currency).copied().unwrap_or(Decimal::ONE)
    }

    /// Each buyer's open invoices at day 0 in reporting cents (SPEC §3.1.11), as (due_day, cents) pairs.
    /// A buyer without rows in invoices.csv (or every buyer, without that file) has its `outstanding`
    /// converted once and split into `k` parts (SPEC §2.2, [`Portfolio::spread_outstanding`]).
    pub fn open_invoices_cents(
        &self,
        fx: &BTreeMap<String, Decimal>,
        shock: &BTreeMap<String, Decimal>,
    ) -> Option<Vec<Vec<(i64, i64)>>> {
        let mut out: Vec<Vec<(i64, i64)>> = vec![Vec::new(); self.buyers.len()];
        for inv in &self.invoices {
            let cents = crate::money::to_cents(inv.amount, Self::rate(fx, shock, &inv.currency))?;
            out[inv.buyer].push((inv.due_day, cents));
        }
        for b in self.spread_buyers() {
            let buyer = &self.buyers[b];
            let total = crate::money::to_cents(buyer.outstanding, Self::rate(fx, shock, &buyer.currency))?;
            out[b] = spread_outstanding(total, buyer.terms_days);
        }
        Some(out)
    }

    /// Buyers whose `outstanding` is spread over their terms: those without a row in invoices.csv
    /// (every buyer when there is no such file), in buyer order.
    pub fn spread_buyers(&self) -> impl Iterator<Item = usize> + '_ {
        let mut has_rows = vec![false; self.buyers.len()];
        for inv in &self.invoices {
            has_rows[inv.buyer] = true;
        }
        (0..self.buyers.len()).filter(move |&b| !has_rows[b])
    }

    /// Buyer indices by day-0 exposure (largest first, ties by buyer_id) after an fx shock.
    pub fn rank_by_exposure(&self, fx: &BTreeMap<String, Decimal>, shock: &BTreeMap<String, Decimal>) -> Vec<usize> {
        let open = self.open_invoices_cents(fx, shock).unwrap_or_default();
        let exposure: Vec<i64> = open.iter().map(|v| v.iter().map(|x| x.1).sum()).collect();
        let mut order: Vec<usize> = (0..self.buyers.len()).collect();
        // Buyers are sorted by id, so a stable sort keeps ties in buyer_id order.
        order.sort_by_key(|&b| std::cmp::Reverse(exposure.get(b).copied().unwrap_or(0)));
        order
    }
}

/// SPEC §2.2: `total` cents split into `k = ceil(terms / 30)` parts (at least 1), the remainder on
/// the last, part `j = 1..=k` due on day `round(terms × (2j − 1) / (2k))` rounded half up, i.e.
/// `(terms × (2j − 1) + k) / (2k)`: the midpoints of the `k` equal slices of `(0, terms]`. Nothing
/// for a zero total.
///
/// Why midpoints: the open book reads as if invoiced evenly over the `terms` days before `as_of`
/// (each part issued `terms` days before its due day, so before `as_of`), so it falls due evenly
/// over the first `terms` days of the horizon. Due on `terms·j/k` instead, the last part would
/// fall on the same day as the first month's sale and the first month would collect two months'
/// worth (the old January spike and February trough of the example). `arstress generate` writes
/// its regular invoices with this split.
pub fn spread_outstanding(total: i64, terms_days: u32) -> Vec<(i64, i64)> {
    if total == 0 {
        return Vec::new();
    }
    let t = terms_days as i64;
    let k = ((t + 29) / 30).max(1);
    let part = total / k;
    (1..=k).map(|j| ((t * (2 * j - 1) + k) / (2 * k), if j == k { total - part * (k - 1) } else { part })).collect()
}

/// A factor of a product of multipliers ([`product`]).
pub trait Factor: Copy {
    const ONE: Self;
    fn is_zero(self) -> bool;
    /// `None` when the product does not fit (an `f64` overflowing to infinity, a `Decimal` beyond 7.9e28).
    fn checked_mul(self, other: Self) -> Option<Self>;
}

impl Factor for f64 {
    const ONE: Self = 1.0;
    fn is_zero(self) -> bool {
        self == 0.0
    }
    fn checked_mul(self, other: Self) -> Option<Self> {
        let p = self * other;
        p.is_finite().then_some(p)
    }
}

impl Factor for Decimal {
    const ONE: Self = Decimal::ONE;
    fn is_zero(self) -> bool {
        Decimal::is_zero(&self)
    }
    fn checked_mul(self, other: Self) -> Option<Self> {
        Decimal::checked_mul(self, other)
    }
}

/// The product of multipliers (every stress lever that multiplies: PD, sales, recovery): a zero factor wins,
/// whatever the others (`1e308 × 1e308 × 0 = 0`, never `inf × 0 = NaN`); `None` when the product overflows.
pub fn product<T: Factor>(factors: &[T]) -> Option<T> {
    if let Some(&zero) = factors.iter().find(|f| f.is_zero()) {
        return Some(zero);
    }
    factors.iter().try_fold(T::ONE, |p, &f| p.checked_mul(f))
}

/// The distinct labels of many, sorted. Inserted one by one: `O(n log k)` for `k` distinct labels,
/// where collecting into a set would first sort all `n` (seconds for a million buyers' sectors).
pub fn distinct<'a>(labels: impl Iterator<Item = &'a str>) -> BTreeSet<&'a str> {
    let mut set = BTreeSet::new();
    let mut last: Option<&str> = None;
    for l in labels {
        if last != Some(l) {
            set.insert(l);
            last = Some(l);
        }
    }
    set
}

/// Position of `id` among buyers sorted by `buyer_id` (binary search: no index map to build).
pub fn buyer_position(buyers: &[Buyer], id: &str) -> Option<usize> {
    buyers.binary_search_by(|b| b.id.as_str().cmp(id)).ok()
}

/// Name of the uninsured alternative, always reported first.
pub const NO_POLICY: &str = "none";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_of_multipliers_zero_wins_and_overflow_is_none() {
        assert_eq!(product(&[1e308, 1e308, 0.0]), Some(0.0));
        assert_eq!(product(&[0.0, 1e308, 1e308]), Some(0.0));
        assert_eq!(product(&[1e308, 1e308]), None);
        assert_eq!(product(&[2.0, 0.5, 3.0]), Some(3.0));
        assert_eq!(product::<f64>(&[]), Some(1.0));
        let big = Decimal::MAX;
        assert_eq!(product(&[big, big, Decimal::ZERO]), Some(Decimal::ZERO));
        assert_eq!(product(&[big, Decimal::TWO]), None);
        assert_eq!(product(&[Decimal::new(15, 1), Decimal::TWO]), Some(Decimal::new(3, 0)));
    }

    #[test]
    fn outstanding_is_spread_over_terms_in_monthly_parts_due_at_their_midpoints() {
        // Midpoints of the k slices of (0, T]: 45/4 = 11.25 and 3·45/4 = 33.75.
        assert_eq!(spread_outstanding(10_000_002, 45), vec![(11, 5_000_001), (34, 5_000_001)]);
        assert_eq!(spread_outstanding(100, 0), vec![(0, 100)]);
        // 90/6 = 15, 3·90/6 = 45, 5·90/6 = 75; the remainder cent on the last.
        assert_eq!(spread_outstanding(100, 90), vec![(15, 33), (45, 33), (75, 34)]);
        assert_eq!(spread_outstanding(100, 120), vec![(15, 25), (45, 25), (75, 25), (105, 25)]);
        // Halves round up: 15/2 = 7.5 is day 8, 1/2 = 0.5 day 1.
        assert_eq!(spread_outstanding(100, 15), vec![(8, 100)]);
        assert_eq!(spread_outstanding(100, 1), vec![(1, 100)]);
        assert!(spread_outstanding(0, 60).is_empty());
    }
}
