//! Validation against closed forms (SPEC §3.1.1, §3.1.2, §4.2, §4.3, §4.4, §5): the engine's
//! Monte Carlo results against references computed independently inside each test — a Vasicek
//! large pool by quadrature, independent defaults by exact convolution (gross, and net of a
//! policy), and Kolmogorov–Smirnov tests of the recovery, delay and event-duration samplers.
//!
//! Seeds are fixed, so every test is deterministic. Tolerances come from the Monte Carlo error of
//! the simulation itself: a reference quantile must lie in the order-statistic interval widened to
//! z = 4 (instead of 1.96); means and ES within 4 of their standard errors; KS distances below the
//! 1% critical value `1.63/√n`. Each test also shows its power: a plausible bug moves the
//! reference outside the tolerance. The expected-loss closed form of a heterogeneous portfolio is
//! already in `tests/statistical.rs` (`expected_gross_loss_matches_its_closed_form`).

use crate::common::*;
use arstress::engine::{Peril, Scratch, run_trial, run_trials};
use arstress::normal::{cdf, quantile};
use arstress::plan::Plan;

use arstress::stats::{Level, es_std_error_sorted, expected_shortfall_sorted, quantile_sorted};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

const VAR_99: Level = Level { num: 99, den: 100, label: "0.99" };
const VAR_999: Level = Level { num: 999, den: 1000, label: "0.999" };

/// Width of the widened order-statistic intervals, in binomial standard errors of the count.
const Z_WIDE: f64 = 4.0;

/// Days of the first of each month of 2027 from as_of = 2027-01-01: the sale days of a 12-month study.
const SALE_DAYS: [i32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/// `H_days` of a 12-month horizon from 2027-01-01.
const H_DAYS: i32 = 365;

/// Loads the study in `dir` and compiles its only scenario.
fn load_plan(dir: &Path) -> Plan {
    let study = arstress::input::load_study(dir).unwrap();
    assert_eq!(study.scenarios.len(), 1);
    arstress::plan::compile(&study, &study.scenarios[0]).unwrap()
}

/// `[X_(l), X_(u)]` with `l = ⌊Nα − z√(Nα(1−α))⌋`, `u = ⌈Nα + z√(Nα(1−α))⌉ + 1`: the
/// distribution-free interval of the α-quantile (as in `quantile_ci_sorted`), widened to `z`.
/// For a discrete distribution it is conservative: `X_(l) ≤ x_α` needs at least `l` values
/// `≤ x_α`, whose count is Binomial(N, F(x_α) ≥ α); `X_(u) ≥ x_α` needs fewer than `u` values
/// `< x_α`, whose count is Binomial(N, F(x_α−) ≤ α).
fn widened_interval(sorted: &[i64], level: Level, z: f64) -> (i64, i64) {
    let n = sorted.len();
    let a = level.num as f64 / level.den as f64;
    let centre = n as f64 * a;
    let half = z * (centre * (1.0 - a)).sqrt();
    let low = ((centre - half).floor() as i64).clamp(1, n as i64) as usize;
    let high = (((centre + half).ceil() as i64) + 1).clamp(1, n as i64) as usize;
    (sorted[low - 1], sorted[high - 1])
}

/// Mean and its standard error `s/√N`.
fn mean_and_se(values: &[i64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = values.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// `num / den` rounded half-to-even (`num >= 0`, `den > 0`).
fn half_even(num: i128, den: i128) -> i64 {
    let (q, r) = (num / den, num % den);
    (if 2 * r > den || (2 * r == den && q % 2 == 1) { q + 1 } else { q }) as i64
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

// ---------------------------------------------------------------------------------------------
// 1. Vasicek large pool
// ---------------------------------------------------------------------------------------------

/// `ln k!` for `k = 0..=n`.
fn ln_factorials(n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n + 1];
    for k in 1..=n {
        out[k] = out[k - 1] + (k as f64).ln();
    }
    out
}

/// `P(D = d)`, `d = 0..=n`, of the one-factor mixture: given `Z = z`, `D ~ Binomial(n, p(z))`
/// with `p(z) = Φ((Φ⁻¹(q) − √R z)/√(1−R))`, `Z ~ N(0, 1)`. Composite Simpson rule over `z` in
/// `[−8, 8]` with `steps` (even) intervals; the mass outside is below 1e-15.
fn vasicek_pmf(n: usize, q: f64, r: f64, steps: usize) -> Vec<f64> {
    let ln_fact = ln_factorials(n);
    let c = quantile(q);
    let h = 16.0 / steps as f64;
    let mut pmf = vec![0.0; n + 1];
    for i in 0..=steps {
        let z = -8.0 + i as f64 * h;
        let simpson = if i == 0 || i == steps {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let w = simpson * h / 3.0 * (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let p = cdf((c - r.sqrt() * z) / (1.0 - r).sqrt());
        if p <= 0.0 {
            pmf[0] += w;
            continue;
        }
        let (lp, lq) = (p.ln(), (-p).ln_1p());
        for (d, slot) in pmf.iter_mut().enumerate() {
            let ln = ln_fact[n] - ln_fact[d] - ln_fact[n - d] + d as f64 * lp + (n - d) as f64 * lq;
            if ln > -745.0 {
                *slot += w * ln.exp();
            }
        }
    }
    pmf
}

/// The α-quantile of a distribution on `0..pmf.len()`: the smallest d with `P(D ≤ d) ≥ α`.
fn pmf_quantile(pmf: &[f64], level: Level) -> i64 {
    let a = level.num as f64 / level.den as f64;
    let mut cum = 0.0;
    for (d, p) in pmf.iter().enumerate() {
        cum += p;
        if cum >= a {
            return d as i64;
        }
    }
    pmf.len() as i64 - 1
}

/// Vasicek density of the limit default fraction `L = p(Z)` at `y`.
fn vasicek_density(y: f64, q: f64, r: f64) -> f64 {
    let x = quantile(y);
    let c = quantile(q);
    ((1.0 - r) / r).sqrt() * (0.5 * x * x - ((1.0 - r).sqrt() * x - c).powi(2) / (2.0 * r)).exp()
}

/// Writes the pool of `n` identical buyers (one invoice of 1,000 due after the horizon, so any
/// default in the year loses all of it; insolvency only, recovery 0, no lateness) with asset
/// correlation `r`, compiles it and checks that the plan is one bucket with `q = pd` and
/// loadings that add up to `R`.
fn vasicek_pool(dir: &Path, n: usize, pd: f64, r: f64, trials: u64) -> Plan {
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days\n");
    let mut invoices = String::from("invoice_id,buyer_id,amount,issue_date,due_date\n");
    for i in 0..n {
        writeln!(buyers, "B{i:04},DE,retail,{pd},30").unwrap();
        writeln!(invoices, "I{i:04},B{i:04},1000,2026-12-15,2028-03-31").unwrap();
    }
    let scenario = format!(
        "name = \"vasicek\"\n[credit]\nasset_correlation = {r}\ninsolvency_share = 1.0\n\
         recovery_insolvency = {{ mean = 0, sd = 0, lag_days = 540 }}\n[payment]\nlate_share = 0\n"
    );
    write_files(
        dir,
        &[
            ("study.toml", &study_toml("vasicek", trials, true)),
            ("buyers.csv", &buyers),
            ("invoices.csv", &invoices),
            ("policies.toml", ""),
            ("scenarios/vasicek.toml", &scenario),
        ],
    );
    let plan = load_plan(dir);
    assert_eq!(plan.buckets.len(), 1);
    assert!(plan.q.iter().all(|&q| (q - pd).abs() < 1e-15));
    let b = &plan.buckets[0];
    let systematic: f64 = b.load.iter().map(|l| l * l).sum();
    assert!((systematic - r).abs() < 1e-15 && (b.idio * b.idio - (1.0 - r)).abs() < 1e-15);
    assert!(plan.lateness.is_none() && plan.country_risk.is_none() && plan.cash.is_none());
    plan
}

/// 2,000 identical buyers (PD 2%, R = 0.15 given in the scenario, one sector, one country,
/// insolvency only, no lateness), 12-month horizon so `q = pd_1y`. Checks the number of defaults
/// (outcome column 1) against the conditional-binomial mixture computed by quadrature:
/// (a) the mean is `n·q` within 4 standard errors; the exact VaR 99 and VaR 99.9 of the count lie
/// inside the order-statistic intervals of the Monte Carlo sample widened to z = 4; the KS
/// distance of the counts from the mixture's CDF is below the 1% critical value; with the
/// correlation of the global factor alone (0.6·R, what a kernel that drew the sector and country
/// factors per buyer would give) both the KS test and the VaR 99.9 interval reject;
/// (b) the Vasicek limit quantile `n·Φ((Φ⁻¹(q) + √R Φ⁻¹(α))/√(1−R))` plus the first-order
/// granularity adjustment matches the quadrature quantile within one default.
///
/// The engine splits `R` over the factors as loadings `√R·√w` (plan.rs, `load`); with one sector
/// and one country the three factors act as one standard normal `Z = Σ √w_i Z_i` (weights sum to
/// 1), so the pairwise correlation is `R` whatever the weights, and the default weights are kept
/// on purpose.
#[test]
fn vasicek_large_pool_default_count_matches_the_binomial_mixture() {
    let (n, pd, r) = (2_000usize, 0.02f64, 0.15f64);
    let trials = 40_000u64;
    let dir = tempfile::tempdir().unwrap();
    let plan = vasicek_pool(dir.path(), n, pd, r, trials);

    let out = run_trials(&plan, 2027, 0..trials, &|_| {});
    let mut counts: Vec<i64> = (0..out.trials).map(|t| out.row(t)[1]).collect();
    counts.sort_unstable();

    // Reference, by Simpson over z with 8,000 intervals; 4,000 give the same quantiles.
    let pmf = vasicek_pmf(n, pd, r, 8_000);
    let mass: f64 = pmf.iter().sum();
    assert!((mass - 1.0).abs() < 1e-9, "quadrature mass {mass}");
    let coarse = vasicek_pmf(n, pd, r, 4_000);

    // (a) Mean n·q = 40 within 4 standard errors.
    let (mean, se) = mean_and_se(&counts);
    let expected_mean = n as f64 * pd;
    assert!((mean - expected_mean).abs() < 4.0 * se, "mean defaults {mean} vs {expected_mean} (se {se})");
    for level in [VAR_99, VAR_999] {
        let exact = pmf_quantile(&pmf, level);
        assert_eq!(exact, pmf_quantile(&coarse, level), "quadrature converged at {}", level.label);
        let (lo, hi) = widened_interval(&counts, level, Z_WIDE);
        let mc = quantile_sorted(&counts, level);
        assert!(lo <= exact && exact <= hi, "VaR {}: exact {exact} outside [{lo}, {hi}] (MC {mc})", level.label);
    }
    // The whole distribution: KS distance of the counts from the mixture's CDF, below the 1%
    // critical value (conservative for a discrete law).
    let cum = |pmf: &[f64]| -> Vec<f64> {
        pmf.iter()
            .scan(0.0, |c, p| {
                *c += p;
                Some(*c)
            })
            .collect()
    };
    let (exact_cdf, wrong_pmf) = (cum(&pmf), vasicek_pmf(n, pd, 0.6 * r, 4_000));
    let wrong_cdf = cum(&wrong_pmf);
    let at = |cdf: &[f64], x: i64| if x < 0 { 0.0 } else { cdf[(x as usize).min(n)] };
    let critical = ks_critical(counts.len());
    let d = ks_discrete(&counts, |x| at(&exact_cdf, x));
    assert!(d < critical, "default counts: KS {d:.5} >= {critical:.5}");
    // Power: only the global factor's share of R (0.6·R) correlating buyers, as if the sector
    // and country factors were drawn per buyer.
    let d_wrong = ks_discrete(&counts, |x| at(&wrong_cdf, x));
    assert!(d_wrong > critical, "R = {} not rejected: KS {d_wrong:.5}", 0.6 * r);
    let wrong = pmf_quantile(&wrong_pmf, VAR_999);
    let (lo, hi) = widened_interval(&counts, VAR_999, Z_WIDE);
    assert!(wrong < lo || wrong > hi, "VaR 99.9 with R = {} ({wrong}) not rejected by [{lo}, {hi}]", 0.6 * r);

    // (b) Large-pool limit. L = p(Z) has the quantile ℓ_α = Φ((Φ⁻¹(q) + √R Φ⁻¹(α))/√(1−R)); the
    // default fraction D/n = L + U with E[U|L] = 0 and Var(U|L=ℓ) = σ²(ℓ) = ℓ(1−ℓ)/n. The
    // first-order granularity adjustment (Gordy 2003; Martin and Wilde 2002) moves the quantile by
    // GA = −(d/dℓ[f(ℓ)σ²(ℓ)]) / (2 f(ℓ)), f the Vasicek density; the rest is O(n⁻²) in the
    // fraction. The count is an integer, which adds at most half a default (P(D ≤ d) ≈ P(Y < d + ½)
    // for the continuous Y = n(L + U)): so |VaR_quad − n(ℓ_α + GA)| ≤ 1 default, and the raw
    // difference to the limit, |VaR_quad − nℓ_α|, at most n|GA| + 1.
    for level in [VAR_99, VAR_999] {
        let a = level.num as f64 / level.den as f64;
        let ell = cdf((quantile(pd) + r.sqrt() * quantile(a)) / (1.0 - r).sqrt());
        let g = |y: f64| vasicek_density(y, pd, r) * y * (1.0 - y) / n as f64;
        let h = 1e-6;
        let ga = -(g(ell + h) - g(ell - h)) / (2.0 * h) / (2.0 * vasicek_density(ell, pd, r));
        let exact = pmf_quantile(&pmf, level) as f64;
        let limit = n as f64 * ell;
        assert!(ga > 0.0, "granularity adds to the upper quantile");
        assert!(
            (exact - limit - n as f64 * ga).abs() <= 1.0,
            "VaR {}: quadrature {exact} vs limit {limit} + GA {}",
            level.label,
            n as f64 * ga
        );
        assert!((exact - limit).abs() <= n as f64 * ga + 1.0);
    }
}

/// The analytic method on the same pool (n = 2,000, PD 2%, R = 0.15): every default loses
/// 1,000.00, so the gross-loss distribution divided by it is the default count's, and it must be
/// the conditional-binomial mixture computed here by Simpson's rule — a different rule (the
/// method integrates by composite Gauss–Legendre in `Φ(z)` and convolves by FFT). Tolerances are
/// those of two quadratures, not of sampling: the whole CDF within 1e-4 (Kolmogorov distance),
/// VaR 99 and 99.9 equal, ES 99 and 99.9 within 0.1%, the mean `n·q` within 1e-5. Power: the
/// mixture with the global factor's share of R alone (0.6·R) is 100 times further away.
#[test]
fn analytic_large_pool_matches_the_binomial_mixture() {
    let (n, pd, r) = (2_000usize, 0.02f64, 0.15f64);
    let dir = tempfile::tempdir().unwrap();
    let plan = vasicek_pool(dir.path(), n, pd, r, 1);
    let result = arstress::run::analytic::analyze(&plan).unwrap();
    assert!(result.notes.is_empty(), "{:?}", result.notes);
    let gross = &result.measures[0].dist;
    let lgd = 100_000i64;
    assert!(gross.exact_lattice && gross.unit == lgd, "unit {}", gross.unit);
    let mut pmf = vec![0.0f64; n + 1];
    for (&v, &p) in gross.values.iter().zip(&gross.probs) {
        assert!(v % lgd == 0 && v / lgd <= n as i64 || p < 1e-14, "mass {p} at {v}");
        if v / lgd <= n as i64 {
            pmf[(v / lgd) as usize] += p;
        }
    }
    let reference = vasicek_pmf(n, pd, r, 8_000);
    let kolmogorov = |a: &[f64], b: &[f64]| {
        let (mut ca, mut cb, mut d) = (0.0f64, 0.0f64, 0.0f64);
        for (x, y) in a.iter().zip(b) {
            ca += x;
            cb += y;
            d = d.max((ca - cb).abs());
        }
        d
    };
    let distance = kolmogorov(&pmf, &reference);
    assert!(distance < 1e-4, "Kolmogorov distance {distance:e}");
    let mean = gross.mean() / lgd as f64;
    assert!((mean - n as f64 * pd).abs() < 1e-5 * n as f64 * pd, "mean {mean}");
    let es = |pmf: &[f64], level: Level| {
        let tail = (level.den - level.num) as f64 / level.den as f64;
        let (mut mass, mut sum) = (0.0f64, 0.0f64);
        for (d, &p) in pmf.iter().enumerate().rev() {
            let take = p.min(tail - mass).max(0.0);
            mass += take;
            sum += take * d as f64;
        }
        sum / tail
    };
    for level in [VAR_99, VAR_999] {
        let exact = pmf_quantile(&reference, level);
        assert_eq!(gross.quantile(level) / lgd, exact, "VaR {}", level.label);
        let (a, b) = (gross.expected_shortfall(level) / lgd as f64, es(&reference, level));
        assert!((a - b).abs() < 1e-3 * b, "ES {}: analytic {a} vs mixture {b}", level.label);
    }
    let wrong = kolmogorov(&pmf, &vasicek_pmf(n, pd, 0.6 * r, 4_000));
    assert!(wrong > 100.0 * 1e-4, "R = {} is only {wrong:e} away", 0.6 * r);
}

// ---------------------------------------------------------------------------------------------
// 3 and 4. Independent defaults: exact convolution, gross and net of a policy
// ---------------------------------------------------------------------------------------------

/// One scheduled invoice in days and cents, computed by the test from what it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Inv {
    /// Payment due day (an overdue invoice is collected whole on day 15: the study's
    /// [`ALL_IN_MONTH_1`] curves).
    due: i32,
    /// Issue day; `i32::MIN` for open invoices.
    issue: i32,
    amount: i64,
}

/// Collection curves that collect every overdue invoice whole in month 1 (on day 15), so the
/// book's amounts stay on their lattice.
const ALL_IN_MONTH_1: &str = "[collections]\ndays_1_30 = [1]\ndays_31_60 = [1]\ndays_61_90 = [1]\n\
                              days_91_180 = [1]\nover_180 = [1]\n";

/// A heterogeneous book: CSV files and what the test knows of every buyer.
struct Book {
    buyers: String,
    invoices: String,
    pd: Vec<f64>,
    schedule: Vec<Vec<Inv>>,
    /// Credit limit in cents; 0 = uninsured.
    limit: Vec<i64>,
}

/// `YYYY-MM-DD` of day `day` from 2027-01-01.
fn date(day: i64) -> String {
    let d = time::Date::from_calendar_date(2027, time::Month::January, 1).unwrap() + time::Duration::days(day);
    format!("{}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// `n` buyers with PDs from 0.5% to 12%, one to three open invoices each (some overdue, some due
/// after the horizon), monthly sales for three buyers in four with terms of 30, 60 or 90 days, and
/// limits for four buyers in five (10,000 to 55,000: many below the exposure, some at the nql).
/// Every amount is a multiple of 5,000.00, so every loss is on a coarse lattice.
fn heterogeneous_book(n: usize) -> Book {
    let unit = 500_000i64; // 5,000.00 in cents
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\n");
    let mut invoices = String::from("invoice_id,buyer_id,amount,issue_date,due_date\n");
    let (mut pd, mut schedule, mut limit) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let bp = 50 + (i * 37 % n) * 1_150 / n; // basis points, 0.50% .. 12%
        let terms = [30, 60, 90][i % 3];
        let monthly = if i % 4 == 0 { 0 } else { 1 + (i % 5) as i64 };
        let lim = if i % 5 == 0 { 0 } else { 2 + (i * 11 % 10) as i64 };
        let lim_text = if lim == 0 { String::new() } else { (lim * 5_000).to_string() };
        writeln!(buyers, "B{i:03},DE,retail,{},{terms},{},{lim_text}", bp as f64 / 1e4, monthly * 5_000).unwrap();
        pd.push(bp as f64 / 1e4);
        limit.push(lim * unit);
        let mut invs = Vec::new();
        for j in 0..1 + i % 3 {
            let amount = 1 + ((i * 7 + j * 13) % 12) as i64;
            let due = ((i * 53 + j * 97) % 400) as i64 - 30;
            writeln!(invoices, "I{i:03}_{j},B{i:03},{},2026-10-01,{}", amount * 5_000, date(due)).unwrap();
            let due = if due < 0 { arstress::plan::collection_day(0, 0) } else { due as i32 };
            invs.push(Inv { due, issue: i32::MIN, amount: amount * unit });
        }
        for &s in &SALE_DAYS {
            if monthly > 0 {
                invs.push(Inv { due: s + terms, issue: s, amount: monthly * unit });
            }
        }
        invs.sort();
        schedule.push(invs);
    }
    Book { buyers, invoices, pd, schedule, limit }
}

/// SPEC §4.2: an insolvency on day τ leaves unpaid the invoices due on or after τ that were
/// delivered before τ.
fn unpaid_at(schedule: &[Inv], tau: i32) -> i64 {
    schedule.iter().filter(|inv| inv.due >= tau && inv.issue < tau).map(|inv| inv.amount).sum()
}

/// Recovery at the fixed rate 0.4, rounded half-to-even to cents.
fn recovery_of(unpaid: i64) -> i64 {
    half_even(unpaid as i128 * 4, 10)
}

/// SPEC §3.1.2 with `x = ln(1 − u·q)/ln(1 − q)`, `u ~ U(0,1)`: `P(default on day d) =
/// (1−q)^(d/H) − (1−q)^((d+1)/H)`, d in `[0, H)`. Returns the buyer's loss distribution as
/// (cents, probability) given its loss on each default day.
fn buyer_distribution(q: f64, loss_on_day: impl Fn(i32) -> i64) -> Vec<(i64, f64)> {
    let mut dist: BTreeMap<i64, f64> = BTreeMap::new();
    *dist.entry(0).or_default() += 1.0 - q;
    let survive = |d: i32| ((d as f64 / H_DAYS as f64) * (-q).ln_1p()).exp();
    for d in 0..H_DAYS {
        *dist.entry(loss_on_day(d)).or_default() += survive(d) - survive(d + 1);
    }
    dist.into_iter().collect()
}

/// Every buyer's gross-loss distribution in the independent study (recovery 0.4), with its PD
/// scaled by `pd_scale`.
fn gross_parts(book: &Book, pd_scale: f64) -> Vec<Vec<(i64, f64)>> {
    (0..book.pd.len())
        .map(|b| {
            buyer_distribution(book.pd[b] * pd_scale, |d| {
                let u = unpaid_at(&book.schedule[b], d);
                u - recovery_of(u)
            })
        })
        .collect()
}

/// A distribution on the lattice `{0, unit, 2·unit, ...}` (cents).
struct Lattice {
    unit: i64,
    p: Vec<f64>,
}

impl Lattice {
    /// The distribution of the sum of independent parts, exactly (up to f64 rounding).
    fn convolution(parts: &[Vec<(i64, f64)>]) -> Lattice {
        let unit = parts.iter().flatten().fold(0, |g, &(x, _)| gcd(g, x));
        assert!(unit > 0);
        let mut p = vec![1.0];
        for part in parts {
            let top = part.iter().map(|&(x, _)| x / unit).max().unwrap() as usize;
            let mut next = vec![0.0; p.len() + top];
            for &(x, px) in part {
                let shift = (x / unit) as usize;
                for (k, &pk) in p.iter().enumerate() {
                    next[k + shift] += pk * px;
                }
            }
            p = next;
        }
        Lattice { unit, p }
    }

    fn mean(&self) -> f64 {
        self.p.iter().enumerate().map(|(k, &p)| (k as i64 * self.unit) as f64 * p).sum()
    }

    /// The α-quantile (SPEC §3.1.1): the smallest x with `P(X ≤ x) ≥ α`, and its index.
    fn quantile(&self, level: Level) -> (usize, i64) {
        let a = level.num as f64 / level.den as f64;
        let mut cum = 0.0;
        for (k, &p) in self.p.iter().enumerate() {
            cum += p;
            if cum >= a {
                return (k, k as i64 * self.unit);
            }
        }
        (self.p.len() - 1, (self.p.len() - 1) as i64 * self.unit)
    }

    /// ES with the tail set of SPEC §3.1.1: the mean of the upper `1 − α` of the probability mass
    /// (values above VaR, and the part of the atom at VaR that completes the mass).
    fn expected_shortfall(&self, level: Level) -> f64 {
        let tail_mass = (level.den - level.num) as f64 / level.den as f64;
        let (v, var) = self.quantile(level);
        let (mut above, mut mass) = (0.0, 0.0);
        for k in (v + 1..self.p.len()).rev() {
            above += (k as i64 * self.unit) as f64 * self.p[k];
            mass += self.p[k];
        }
        (above + var as f64 * (tail_mass - mass)) / tail_mass
    }
}

/// Asserts a measure's Monte Carlo figures against its exact distribution: VaR 99 exact inside
/// the order-statistic interval widened to z = 4; ES 99 within 4 of its asymptotic standard errors
/// (`es_std_error_sorted`); the mean within 4 standard errors `s/√N`.
fn compare_to_exact(values: &[i64], exact: &Lattice, what: &str) {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let (_, var_exact) = exact.quantile(VAR_99);
    let (lo, hi) = widened_interval(&sorted, VAR_99, Z_WIDE);
    let var_mc = quantile_sorted(&sorted, VAR_99);
    assert!(lo <= var_exact && var_exact <= hi, "{what} VaR 99: exact {var_exact} outside [{lo}, {hi}] (MC {var_mc})");
    let es_exact = exact.expected_shortfall(VAR_99);
    let es_mc = expected_shortfall_sorted(&sorted, VAR_99) as f64;
    let es_se = es_std_error_sorted(&sorted, VAR_99);
    assert!((es_mc - es_exact).abs() < 4.0 * es_se, "{what} ES 99: MC {es_mc} vs exact {es_exact} (se {es_se})");
    let (mean, se) = mean_and_se(values);
    let mean_exact = exact.mean();
    assert!((mean - mean_exact).abs() < 4.0 * se, "{what} mean: MC {mean} vs exact {mean_exact} (se {se})");
}

/// Writes the book with a scenario of independent insolvencies at a fixed recovery rate 0.4
/// (lag 540 days) and no lateness, and `policies`; returns the compiled plan after checking that
/// the engine's invoice schedule is the one the test computed.
fn independent_study(dir: &Path, book: &Book, policies: &str) -> Plan {
    let scenario = "name = \"independent\"\n[credit]\nasset_correlation = 0.0\ninsolvency_share = 1.0\n\
                    recovery_insolvency = { mean = 0.4, sd = 0, lag_days = 540 }\n[payment]\nlate_share = 0\n";
    write_files(
        dir,
        &[
            ("study.toml", &(study_toml("independent", 1, true) + ALL_IN_MONTH_1)),
            ("buyers.csv", &book.buyers),
            ("invoices.csv", &book.invoices),
            ("policies.toml", policies),
            ("scenarios/independent.toml", scenario),
        ],
    );
    let plan = load_plan(dir);
    assert_eq!(plan.horizon_days, H_DAYS);
    for (b, own) in book.schedule.iter().enumerate() {
        let mut engine: Vec<Inv> =
            plan.invoices_of(b).iter().map(|i| Inv { due: i.due, issue: i.issue, amount: i.amount }).collect();
        engine.sort();
        assert_eq!(&engine, own, "schedule of buyer {b}");
        assert!((plan.q[b] - book.pd[b]).abs() < 1e-15);
    }
    plan
}

/// Zero correlation: the gross loss is a sum of independent buyer losses. Each buyer's loss
/// distribution is exact — its default day's probabilities (SPEC §3.1.2) and the unpaid amount
/// at each day from the test's own invoice schedule, recovery 0.4 rounded to cents — and the
/// buyers are convolved exactly on the lattice of the losses' gcd. Every trial's events are also
/// checked to the cent (unpaid at τ, recovery, gross = Σ losses). Tolerances: VaR 99 exact inside
/// the z = 4 order-statistic interval; ES 99 and the mean within 4 standard errors
/// (`es_std_error_sorted`, `s/√N`).
#[test]
fn independent_defaults_gross_loss_matches_the_exact_convolution() {
    let dir = tempfile::tempdir().unwrap();
    let book = heterogeneous_book(240);
    let plan = independent_study(dir.path(), &book, "");
    let trials = 40_000u64;
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0i64; plan.row_width()];
    let mut gross = Vec::with_capacity(trials as usize);
    for t in 0..trials {
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(2027, t), &mut scratch, &mut row);
        let mut sum = 0;
        for e in scratch.events() {
            let u = unpaid_at(&book.schedule[e.buyer as usize], e.day);
            assert_eq!((e.peril, e.unpaid, e.recovery), (Peril::Insolvency, u, recovery_of(u)), "trial {t}");
            sum += u - recovery_of(u);
        }
        assert_eq!(row[0], sum, "trial {t}");
        gross.push(row[0]);
    }
    let parts = gross_parts(&book, 1.0);
    let exact = Lattice::convolution(&parts);
    assert!((exact.p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    compare_to_exact(&gross, &exact, "gross");

    // Power: the same book with every PD 10% higher moves the exact mean by 10%, far outside.
    let biased = gross_parts(&book, 1.1);
    let (mean, se) = mean_and_se(&gross);
    let wrong = Lattice::convolution(&biased).mean();
    assert!((mean - wrong).abs() > 4.0 * se, "a 10% PD error would go unnoticed");
}

/// The analytic method where its lattice cannot be exact: 1,000 buyers of the heterogeneous book
/// (independent defaults, so the quadrature is one node) have largest losses totalling far more
/// than 8,192 units of their gcd, so each loss is split between two lattice points. Against the
/// exact convolution on the gcd lattice: the mean is exact (relative 1e-9), VaR 99 and ES 99 are
/// within one lattice unit, and a note says how the losses were placed.
#[test]
fn analytic_inexact_lattice_keeps_the_mean_and_the_tail_within_one_unit() {
    let dir = tempfile::tempdir().unwrap();
    let book = heterogeneous_book(1_000);
    let plan = independent_study(dir.path(), &book, "");
    let parts = gross_parts(&book, 1.0);
    let exact = Lattice::convolution(&parts);
    let analytic = arstress::run::analytic::analyze(&plan).unwrap();
    let a = &analytic.measures[0].dist;
    assert!(!a.exact_lattice && a.unit % exact.unit != 0, "unit {} vs gcd {}", a.unit, exact.unit);
    assert!((a.mean() - exact.mean()).abs() < 1e-9 * exact.mean(), "mean {} vs {}", a.mean(), exact.mean());
    let (_, var) = exact.quantile(VAR_99);
    assert!((a.quantile(VAR_99) - var).abs() <= a.unit, "VaR 99 {} vs {var} (unit {})", a.quantile(VAR_99), a.unit);
    let (es_a, es) = (a.expected_shortfall(VAR_99), exact.expected_shortfall(VAR_99));
    assert!((es_a - es).abs() <= a.unit as f64, "ES 99 {es_a} vs {es} (unit {})", a.unit);
    assert!(analytic.notes.iter().any(|n| n.contains("split between lattice points")), "{:?}", analytic.notes);
    // Power: rounding every loss to the nearest point instead would shift the mean by far more.
    let shifted: f64 =
        parts.iter().flatten().map(|&(v, p)| ((v + a.unit / 2) / a.unit * a.unit - v) as f64 * p).sum::<f64>().abs();
    assert!(shifted > 1e-6 * exact.mean(), "nearest-point rounding would go unnoticed ({shifted})");
}

/// Net loss of one buyer with unpaid amount `u` at its insolvency under the test policy (SPEC §5):
/// recovery 0.4 after 540 days arrives after the date of loss (the insolvency day), so `T = u` and
/// the recovery is shared; `C = min(T, limit)`; nothing if `C ≤ nql`, else
/// `pay = max(0, round(0.9·C) − deductible)`; the insurer's share `round(recovery × pay / T)`;
/// `net = gross − pay + share`. Returns (gross, pay, share, net).
fn net_of(u: i64, limit: i64, nql: i64, deductible: i64) -> (i64, i64, i64, i64) {
    let rec = recovery_of(u);
    let gross = u - rec;
    if u == 0 || limit == 0 {
        return (gross, 0, 0, gross);
    }
    let covered = u.min(limit);
    let pay = if covered <= nql { 0 } else { (half_even(covered as i128 * 9, 10) - deductible).max(0) };
    let share = if pay > 0 { half_even(rec as i128 * pay as i128, u as i128) } else { 0 };
    (gross, pay, share, gross - pay + share)
}

/// The book of the gross test under one policy: credit limits (many binding, some at the nql),
/// indemnity 90%, nql 10,000, deductible 5,000 per buyer, no aggregate first loss, and a maximum
/// liability of 1e9 that no trial can reach (the whole book is below 3e7), so each buyer's net
/// loss depends on its own default alone and the buyers are convolved as in the gross test.
/// Recovery lag 540 days (the default): recoveries come after the date of loss and are shared
/// (the other reading, lag 0, would reduce T instead). Per trial, claims and the insurer's share
/// are checked to the cent against the closed form on the trial's events.
#[test]
fn independent_defaults_net_loss_under_a_policy_matches_the_exact_convolution() {
    let dir = tempfile::tempdir().unwrap();
    let book = heterogeneous_book(240);
    let policies = "[[policy]]\nname = \"p90\"\nindemnity = 0.90\nnql = 10_000\ndeductible = 5_000\n\
                    aggregate_first_loss = 0\nmax_liability = 1_000_000_000\n";
    let plan = independent_study(dir.path(), &book, policies);
    let (nql, deductible) = (1_000_000i64, 500_000i64);
    assert_eq!((plan.policies[0].nql, plan.policies[0].deductible), (nql, deductible));
    let total: i64 = book.schedule.iter().flatten().map(|i| i.amount).sum();
    assert!(total < plan.policies[0].max_liability, "the maximum liability cannot bind");

    let trials = 40_000u64;
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0i64; plan.row_width()];
    let (mut net, mut claims) = (Vec::with_capacity(trials as usize), Vec::with_capacity(trials as usize));
    let (mut binding, mut below_nql) = (0u64, 0u64);
    for t in 0..trials {
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(2028, t), &mut scratch, &mut row);
        let (mut pays, mut shares) = (0, 0);
        for e in scratch.events() {
            let b = e.buyer as usize;
            assert_eq!(e.unpaid, unpaid_at(&book.schedule[b], e.day));
            let (_, pay, share, _) = net_of(e.unpaid, book.limit[b], nql, deductible);
            pays += pay;
            shares += share;
            binding += u64::from(book.limit[b] > 0 && e.unpaid > book.limit[b]);
            below_nql += u64::from(book.limit[b] > 0 && e.unpaid > 0 && e.unpaid.min(book.limit[b]) <= nql);
        }
        let col = arstress::engine::FIXED_COLUMNS;
        assert_eq!((row[col], row[col + 1]), (pays, shares), "trial {t}: claims and insurer's share");
        net.push(row[0] - row[col] + row[col + 1]);
        claims.push(row[col]);
    }
    assert!(binding > 1_000 && below_nql > 100, "limits bind ({binding}) and the nql applies ({below_nql})");
    let parts: Vec<Vec<(i64, f64)>> = (0..book.pd.len())
        .map(|b| {
            buyer_distribution(book.pd[b], |d| {
                net_of(unpaid_at(&book.schedule[b], d), book.limit[b], nql, deductible).3
            })
        })
        .collect();
    let exact = Lattice::convolution(&parts);
    assert!((exact.p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    compare_to_exact(&net, &exact, "net");
    let claim_parts: Vec<Vec<(i64, f64)>> = (0..book.pd.len())
        .map(|b| {
            buyer_distribution(book.pd[b], |d| {
                net_of(unpaid_at(&book.schedule[b], d), book.limit[b], nql, deductible).1
            })
        })
        .collect();
    let (mean_claims, se_claims) = mean_and_se(&claims);
    let exact_claims = Lattice::convolution(&claim_parts).mean();
    assert!((mean_claims - exact_claims).abs() < 4.0 * se_claims, "claims {mean_claims} vs {exact_claims}");

    // Power: ignoring the limits (covering the whole unpaid amount) changes the exact net ES 99
    // by far more than 4 standard errors.
    let unlimited: Vec<Vec<(i64, f64)>> = (0..book.pd.len())
        .map(|b| {
            let limit = if book.limit[b] > 0 { i64::MAX } else { 0 };
            buyer_distribution(book.pd[b], |d| net_of(unpaid_at(&book.schedule[b], d), limit, nql, deductible).3)
        })
        .collect();
    let mut sorted = net.clone();
    sorted.sort_unstable();
    let es = expected_shortfall_sorted(&sorted, VAR_99) as f64;
    let wrong = Lattice::convolution(&unlimited).expected_shortfall(VAR_99);
    assert!((es - wrong).abs() > 4.0 * es_std_error_sorted(&sorted, VAR_99), "limits that do not bind go unnoticed");
}

// ---------------------------------------------------------------------------------------------
// 5. Kolmogorov–Smirnov tests of the samplers
// ---------------------------------------------------------------------------------------------

/// 1% critical value of the one-sample KS statistic (asymptotic Kolmogorov, `1.628/√n`).
fn ks_critical(n: usize) -> f64 {
    1.63 / (n as f64).sqrt()
}

/// KS distance of a sample from a continuous CDF.
fn ks_continuous(samples: &[f64], reference: impl Fn(f64) -> f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted.iter().enumerate().fold(0.0f64, |d, (i, &x)| {
        let f = reference(x);
        d.max((i + 1) as f64 / n - f).max(f - i as f64 / n)
    })
}

/// KS distance of an integer sample from the CDF of an integer distribution: both are step
/// functions jumping at integers, so the supremum is over the integers from one below the
/// smallest value to the largest. With a discrete reference the continuous critical value is
/// conservative.
fn ks_discrete(samples: &[i64], reference: impl Fn(i64) -> f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let n = sorted.len() as f64;
    let (first, last) = (sorted[0], sorted[sorted.len() - 1]);
    (first - 1..=last).fold(0.0f64, |d, r| {
        let below = sorted.partition_point(|&x| x <= r) as f64 / n;
        d.max((below - reference(r)).abs())
    })
}

/// Recovery rates: 50 buyers forced insolvent on day 0 in each of 400 trials (n = 20,000), each
/// with one open invoice of 10,000,000.00 (1e9 cents) due on day 30, recovery mean 0.5 ×
/// `recovery_multiplier` 0.7 = 0.35 and sd 0.2. The engine rounds the rate to 1e-9 and applies it
/// to 1e9 cents, so `recovery / unpaid` is the rounded rate itself (an error of at most 5e-10,
/// nothing next to the critical value). KS against `Beta(α, β)` with `α = μk`, `β = (1−μ)k`,
/// `k = μ(1−μ)/sd² − 1` (statrs). Power: a mean 10% higher (0.385) and an sd 10% higher (0.22)
/// are both rejected.
#[test]
fn recovery_rates_follow_their_beta_distribution() {
    use statrs::distribution::{Beta, ContinuousCDF};
    let dir = tempfile::tempdir().unwrap();
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,outstanding\n");
    for i in 0..50 {
        writeln!(buyers, "B{i:02},DE,retail,0,30,10000000").unwrap();
    }
    let scenario = "name = \"recovery\"\n[credit]\nrecovery_insolvency = { mean = 0.5, sd = 0.2, lag_days = 540 }\n\
                    [payment]\nlate_share = 0\n[stress]\nrecovery_multiplier = 0.7\n\
                    forced_defaults = [{ top_n = 50, day = 0, kind = \"insolvency\" }]\n";
    write_files(
        dir.path(),
        &[
            ("study.toml", &study_toml("recovery", 1, false)),
            ("buyers.csv", &buyers),
            ("policies.toml", ""),
            ("scenarios/recovery.toml", scenario),
        ],
    );
    let plan = load_plan(dir.path());
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0i64; plan.row_width()];
    let mut rates = Vec::new();
    for t in 0..400 {
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(5, t), &mut scratch, &mut row);
        assert_eq!(scratch.events().len(), 50);
        for e in scratch.events() {
            assert_eq!((e.peril, e.day, e.unpaid), (Peril::Insolvency, 0, 1_000_000_000));
            rates.push(e.recovery as f64 / e.unpaid as f64);
        }
    }
    let beta_cdf = |mean: f64, sd: f64| {
        let k = mean * (1.0 - mean) / (sd * sd) - 1.0;
        let beta = Beta::new(mean * k, (1.0 - mean) * k).unwrap();
        move |x: f64| beta.cdf(x)
    };
    let critical = ks_critical(rates.len());
    let d = ks_continuous(&rates, beta_cdf(0.35, 0.2));
    assert!(d < critical, "recovery rates: KS {d:.4} >= {critical:.4}");
    for (mean, sd) in [(0.385, 0.2), (0.35, 0.22)] {
        let d_wrong = ks_continuous(&rates, beta_cdf(mean, sd));
        assert!(d_wrong > critical, "Beta(mean {mean}, sd {sd}) not rejected: KS {d_wrong:.4}");
    }
}

/// `P(X ≤ r)` of `X = round(median·e^(σξ)) + shift`, `ξ ~ N(0, 1)`, rounded half-to-even (ties
/// have probability 0), and of `⌊median·e^(σξ)⌋ + shift` when `floor` (a plausible bug).
fn rounded_lognormal_cdf(median: f64, sigma: f64, shift: i64, floor: bool) -> impl Fn(i64) -> f64 {
    let step = if floor { 1.0 } else { 0.5 };
    move |r: i64| if r < shift { 0.0 } else { cdf((((r - shift) as f64 + step).ln() - median.ln()) / sigma) }
}

/// Days late (SPEC §4.3): every one of 500 buyers is late (late share 1) in each of 80 trials
/// (n = 40,000), delay `round_half_even(median·e^(σξ)) + shift` (plan.rs `DelayTable`) with
/// median 15, p90 60 (`σ = ln(60/15)/Φ⁻¹(0.9)`) and `days_late_shift = 3`, so every delay is at
/// least 3 and every late buyer is listed. Power: a median 10% higher (16.5), a p90 10% higher
/// (66), and whole days by `floor` instead of rounding are all rejected.
#[test]
fn days_late_follow_the_rounded_lognormal() {
    let dir = tempfile::tempdir().unwrap();
    let n_buyers = 500;
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,outstanding\n");
    for i in 0..n_buyers {
        writeln!(buyers, "B{i:03},{},s{},0,30,1000", ["DE", "FR"][i % 2], i % 3).unwrap();
    }
    let scenario = "name = \"late\"\n[payment]\nlate_share = 1\ndays_late_median = 15\ndays_late_p90 = 60\n\
                    [stress]\ndays_late_shift = 3\n";
    write_files(
        dir.path(),
        &[
            ("study.toml", &study_toml("late", 1, false)),
            ("buyers.csv", &buyers),
            ("policies.toml", ""),
            ("scenarios/late.toml", scenario),
        ],
    );
    let plan = load_plan(dir.path());
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0i64; plan.row_width()];
    let mut delays = Vec::new();
    for t in 0..80 {
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(6, t), &mut scratch, &mut row);
        assert_eq!(scratch.late().len(), n_buyers, "everyone is late");
        delays.extend(scratch.late().iter().map(|&(_, d)| d as i64));
    }
    let sigma = |median: f64, p90: f64| (p90 / median).ln() / quantile(0.9);
    let critical = ks_critical(delays.len());
    let d = ks_discrete(&delays, rounded_lognormal_cdf(15.0, sigma(15.0, 60.0), 3, false));
    assert!(d < critical, "days late: KS {d:.4} >= {critical:.4}");
    for (median, p90, floor) in [(16.5, 60.0, false), (15.0, 66.0, false), (15.0, 60.0, true)] {
        let d_wrong = ks_discrete(&delays, rounded_lognormal_cdf(median, sigma(median, p90), 3, floor));
        assert!(d_wrong > critical, "median {median}, p90 {p90}, floor {floor} not rejected: KS {d_wrong:.4}");
    }
}

/// Country event durations (SPEC §4.4): 40 countries with an event in every trial (probability 1)
/// and a median of 10 days from their own `[country_risk.countries]` entry, and 40 more from the
/// defaults (probability 1, median 200), over 125 trials (n = 5,000 each). Duration
/// `round_half_even(median·e^(σξ))`, σ = `EVENT_DURATION_SIGMA`, at least 1 day:
/// `P(duration ≤ r) = Φ((ln(r + ½) − ln median)/σ)` for `r ≥ 1`. Power: a median 10% higher is
/// rejected in both groups; with the short median, whole days by `floor` are rejected too.
#[test]
fn country_event_durations_follow_the_rounded_lognormal() {
    let dir = tempfile::tempdir().unwrap();
    // Assigned ISO codes (refused otherwise), sorted: index i is the i-th country of the portfolio.
    let code = |i: usize| arstress::input::country::ISO_3166_ALPHA2[i];
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,outstanding\n");
    let mut scenario = String::from(
        "name = \"events\"\n[payment]\nlate_share = 0\n[country_risk]\ndefault_probability = 1.0\n\
         default_duration_days_median = 200\n",
    );
    for i in 0..80 {
        writeln!(buyers, "B{i:02},{},food,0,30,1000", code(i)).unwrap();
        if i < 40 {
            writeln!(scenario, "[country_risk.countries.{}]\nprobability = 1.0\nduration_days_median = 10", code(i))
                .unwrap();
        }
    }
    write_files(
        dir.path(),
        &[
            ("study.toml", &study_toml("events", 1, false)),
            ("buyers.csv", &buyers),
            ("policies.toml", ""),
            ("scenarios/events.toml", &scenario),
        ],
    );
    let plan = load_plan(dir.path());
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0i64; plan.row_width()];
    let (mut short, mut long) = (Vec::new(), Vec::new());
    for t in 0..125 {
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(8, t), &mut scratch, &mut row);
        assert_eq!(scratch.country_events().len(), 80);
        for &(c, e) in scratch.country_events() {
            // Countries are indexed in code order, which is the order written above.
            let duration = (e.end - e.start) as i64;
            if c < 40 { short.push(duration) } else { long.push(duration) }
        }
    }
    let sigma = arstress::plan::EVENT_DURATION_SIGMA;
    for (samples, median) in [(&short, 10.0), (&long, 200.0)] {
        let critical = ks_critical(samples.len());
        let d = ks_discrete(samples, rounded_lognormal_cdf(median, sigma, 0, false));
        assert!(d < critical, "durations, median {median}: KS {d:.4} >= {critical:.4}");
        let d_wrong = ks_discrete(samples, rounded_lognormal_cdf(1.1 * median, sigma, 0, false));
        assert!(d_wrong > critical, "median {median}: a 10% higher median is not rejected: KS {d_wrong:.4}");
        let d_floor = ks_discrete(samples, rounded_lognormal_cdf(median, sigma, 0, true));
        if median < 20.0 {
            assert!(d_floor > critical, "median {median}: floor instead of rounding not rejected: KS {d_floor:.4}");
        }
    }
}
