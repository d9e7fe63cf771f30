//! The analytic method (`run --method analytic`; docs/analytic.md): the credit-default part of the
//! model without simulation.
//!
//! Given the systematic factors, buyers default independently. For each buyer the loss given
//! default is a discrete distribution over its default day (SPEC §3.1.2, exact day probabilities)
//! and kind, computed from the same invoice schedule the engine uses. The conditional loss
//! distribution of the portfolio is the convolution of the buyers' `1 − p + p·LGD` laws, done as
//! a product of their characteristic functions on a loss lattice (FFT); the factors are integrated
//! out by quadrature: a composite Gauss–Legendre rule in `u = Φ(z)` over the global factor (fine
//! in the loss tail), and Gauss–Hermite nested over one further factor family (sector or country
//! factors, whose groups are independent given the outer factors).
//!
//! Exact up to floating point and quadrature when every loss is a multiple of the lattice unit
//! (the greatest common divisor of all losses, used whenever it keeps the lattice within
//! [`MAX_LATTICE`] points); otherwise each loss is split between its two neighbouring lattice
//! points so that every buyer's mean is kept exactly, and the result is flagged.

use crate::error::Error;
use crate::model::DefaultKind;
use crate::money::apply_ppb;
use crate::normal;
use crate::plan::Plan;
use crate::stats::{Level, QUANTILE_LEVELS, TAIL_LEVELS};
use gauss_quad::hermite::GaussHermite;
use gauss_quad::legendre::GaussLegendre;
use rayon::prelude::*;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;
use std::num::NonZeroUsize;

/// Largest loss lattice (points) that decides the unit: the lattice spans the total of the
/// largest losses at this many points (plus one point per buyer for the rounding up).
pub const MAX_LATTICE: usize = 1 << 13;
/// Panel boundaries in `u = Φ(z)` of the composite Gauss–Legendre rule over the leading factor:
/// narrow where the loss tail lives (low `z`) and with a boundary at every reported tail level,
/// so that no node's mass straddles a level.
const PANELS: [f64; 15] = [0.0, 1e-6, 1e-5, 1e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0];
/// Gauss–Legendre nodes per panel when the leading factor is the only one, and when a second
/// outer factor or a nested group factor multiplies the work.
const PANEL_NODES: usize = 6;
const PANEL_NODES_2D: usize = 3;
/// Gauss–Hermite nodes over a second outer factor and over a nested group factor.
const OUTER_NODES_2D: usize = 16;
const INNER_NODES: usize = 10;
/// Frequencies processed together at most, and the memory budget (bytes) per thread of the
/// per-buyer spectra of one block: the block shrinks for very large books.
const CHUNK: usize = 512;
const SPECTRA_BUDGET: usize = 256 << 20;
/// Relative change of gross VaR 99 / ES 99 under the check rule (see [`quadrature`]) above which
/// the quadrature is reported as unconverged.
const CONVERGENCE_TOLERANCE: f64 = 0.005;

/// A loss distribution: distinct values in cents, ascending, with their probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct LossDistribution {
    pub values: Vec<i64>,
    pub probs: Vec<f64>,
    /// Lattice unit in cents.
    pub unit: i64,
    /// Every loss was a multiple of the unit (no rounding).
    pub exact_lattice: bool,
    /// The median over buyers of the largest loss given default (cents): a lattice unit above it
    /// resolves the typical buyer's loss poorly.
    pub median_buyer_max: i64,
}

/// Figures of one measure.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticMeasure {
    pub policy: String,
    /// `gross_loss` or `claims`.
    pub measure: &'static str,
    pub dist: LossDistribution,
}

/// The analytic results of one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticScenario {
    pub name: String,
    pub measures: Vec<AnalyticMeasure>,
    /// What of the scenario the method leaves out.
    pub notes: Vec<String>,
}

/// One outcome of a buyer given that it defaults: probability, gross loss and the claim before
/// aggregate terms under each policy.
struct Outcome {
    prob: f64,
    gross: i64,
    claims: Vec<i64>,
}

/// The outcomes of buyer `b` defaulting on `day` with `kind`, or on a random day and kind.
fn buyer_outcomes(plan: &Plan, b: usize, forced: Option<(i32, DefaultKind)>) -> Vec<Outcome> {
    let h = plan.horizon_days;
    let q = plan.q[b];
    // P(day ≤ d | default) = (1 − (1 − q)^((d + 1)/H)) / q (SPEC §3.1.2); uniform when q is tiny.
    let cdf = |d: i32| -> f64 {
        if d >= h - 1 {
            return 1.0;
        }
        let x = (d + 1) as f64 / h as f64;
        if q < 1e-12 { x } else { -(plan.log1m_q[b] * x).exp_m1() / q }
    };
    let mut out = Vec::new();
    let cases: Vec<(i32, DefaultKind, f64)> = match forced {
        Some((day, kind)) => vec![(day, kind, 1.0)],
        None => (0..h)
            .flat_map(|d| {
                let p = cdf(d) - if d == 0 { 0.0 } else { cdf(d - 1) };
                let s = plan.insolvency_share;
                [(d, DefaultKind::Insolvency, p * s), (d, DefaultKind::Protracted, p * (1.0 - s))]
            })
            .filter(|c| c.2 > 0.0)
            .collect(),
    };
    for (day, kind, prob) in cases {
        let (oldest_due, stop, unpaid) = plan.unpaid_at_default(b, day, kind);
        let rec = &plan.recovery[(kind == DefaultKind::Protracted) as usize];
        let recovery = apply_ppb(unpaid, rec.mean_ppb);
        let recovery_day = day.saturating_add(rec.lag_days);
        let n = plan.n_buyers;
        let claims = plan
            .policies
            .iter()
            .enumerate()
            .map(|(p, policy)| {
                let limit = plan.protected[p * n + b];
                let dol = match kind {
                    DefaultKind::Insolvency => day,
                    DefaultKind::Protracted => oldest_due.saturating_add(policy.waiting_period_days),
                };
                // Disputes: debts still in dispute at the date of loss and credited pieces are
                // not claimed; the recovery is shared pro rata (as in the kernel's settlement).
                let (owed, recovered) = match &plan.disputes {
                    Some(_) => {
                        let (excluded, _) = Plan::disputed_at_loss(plan.invoices_of(b), day, stop, dol);
                        let owed = unpaid - excluded;
                        let share = if unpaid > 0 { crate::money::mul_div_round(recovery, owed, unpaid) } else { 0 };
                        (owed, share)
                    }
                    None => (unpaid, recovery),
                };
                let t = if recovery_day <= dol { owed - recovered } else { owed };
                let covered = t.min(limit);
                if limit <= 0 || t <= 0 || covered <= policy.nql {
                    return 0;
                }
                (apply_ppb(covered, plan.indemnity_ppb[p * n + b]) - policy.deductible).max(0)
            })
            .collect();
        out.push(Outcome { prob, gross: unpaid - recovery, claims });
    }
    out
}

/// A buyer's law given default on a lattice: (lattice index, probability), merged.
type Law = Vec<(usize, f64)>;

/// The lattice of a measure.
struct Lattice {
    /// Unit in cents.
    unit: i64,
    /// Every loss is a multiple of the unit.
    exact: bool,
    /// FFT size: a power of two above the largest possible total index, so nothing wraps.
    size: usize,
    /// Every buyer's law given default.
    laws: Vec<Law>,
    median_buyer_max: i64,
}

/// Puts each buyer's loss values (cents, non-negative) on one lattice. The unit is the greatest
/// common divisor of all values when that keeps the total of the maxima within [`MAX_LATTICE`]
/// points; otherwise `⌈Σ max / (MAX_LATTICE − 1)⌉`, with each value's mass split between the
/// lattice points below and above it in the proportions that keep its mean exact.
fn lattice(values: &[Vec<(i64, f64)>]) -> Lattice {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a.abs() } else { gcd(b, a % b) }
    }
    let g = values.iter().flatten().fold(0i64, |g, &(v, _)| gcd(g, v));
    let maxima: Vec<i64> = values.iter().map(|l| l.iter().map(|&(v, _)| v.max(0)).max().unwrap_or(0)).collect();
    let max_total: i128 = maxima.iter().map(|&m| m as i128).sum();
    let (unit, exact) = if g == 0 {
        (1, true)
    } else if max_total / (g as i128) < MAX_LATTICE as i128 {
        (g, true)
    } else {
        (((max_total + MAX_LATTICE as i128 - 2) / (MAX_LATTICE as i128 - 1)) as i64, false)
    };
    let top: usize = maxima.iter().map(|&m| ((m + unit - 1) / unit) as usize).sum();
    let laws = values
        .iter()
        .map(|l| {
            let mut law: Law = Vec::with_capacity(2 * l.len());
            for &(v, p) in l {
                let (lo, rest) = (v.max(0) / unit, v.max(0) % unit);
                if rest == 0 {
                    law.push((lo as usize, p));
                } else {
                    let up = rest as f64 / unit as f64;
                    law.push((lo as usize, p * (1.0 - up)));
                    law.push((lo as usize + 1, p * up));
                }
            }
            law.sort_unstable_by_key(|e| e.0);
            law.dedup_by(|a, b| {
                let same = a.0 == b.0;
                if same {
                    b.1 += a.1;
                }
                same
            });
            law
        })
        .collect();
    let mut positive: Vec<i64> = maxima.into_iter().filter(|&m| m > 0).collect();
    positive.sort_unstable();
    let median_buyer_max = positive.get(positive.len() / 2).copied().unwrap_or(0);
    Lattice { unit, exact, size: (top + 1).next_power_of_two(), laws, median_buyer_max }
}

/// How the factors are integrated: outer nodes `(weight, z_g, z_common_sector, z_common_country)`,
/// and the factor family whose groups are independent given them.
struct Quadrature {
    outer: Vec<(f64, f64, f64, f64)>,
    inner: Vec<(f64, f64)>,
    /// 0: no group factor; 1: sector groups; 2: country groups.
    group_factor: usize,
}

/// Probabilists' Gauss–Hermite nodes and weights (for `E[f(Z)]`, Z standard normal).
fn hermite(n: usize) -> Vec<(f64, f64)> {
    let rule = GaussHermite::new(NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN));
    let norm = std::f64::consts::PI.sqrt();
    rule.as_node_weight_pairs().iter().map(|&(x, w)| (w / norm, x * std::f64::consts::SQRT_2)).collect()
}

/// A rule for `E[f(Z)]`, Z standard normal, as `∫₀¹ f(Φ⁻¹(u)) du` by composite Gauss–Legendre
/// over [`PANELS`] with `per_panel` nodes each: the weights of the panels below `u` sum to `u`
/// exactly, and the lower tail (where losses are large) gets as many nodes as the body.
fn tail_rule(per_panel: usize) -> Vec<(f64, f64)> {
    let rule = GaussLegendre::new(NonZeroUsize::new(per_panel).unwrap_or(NonZeroUsize::MIN));
    let mut out = Vec::with_capacity((PANELS.len() - 1) * per_panel);
    for edge in PANELS.windows(2) {
        let half = (edge[1] - edge[0]) / 2.0;
        for &(x, w) in rule.as_node_weight_pairs().iter() {
            out.push((w * half, normal::quantile(edge[0] + half * (x + 1.0))));
        }
    }
    out
}

/// The factor integration for `plan`; `check` takes one node fewer per panel and a quarter fewer
/// Gauss–Hermite nodes: different nodes of similar accuracy, for the convergence check.
fn quadrature(plan: &Plan, check: bool) -> Result<Quadrature, String> {
    if plan.t_copula.is_some() {
        return Err("the t copula is not supported (its mixing variable would need one more quadrature)".into());
    }
    let levels = |f: usize| -> Vec<u32> {
        let mut v: Vec<u32> = plan
            .buckets
            .iter()
            .filter(|b| b.load[f] != 0.0)
            .map(|b| if f == 1 { b.sector } else { b.country })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (sectors, countries) = (levels(1), levels(2));
    if sectors.len() > 1 && countries.len() > 1 {
        return Err(format!(
            "buyers load on {} sector and {} country factors at once; the analytic method integrates \
             the global factor and one further factor family (set factor_weights sector or country to 0)",
            sectors.len(),
            countries.len()
        ));
    }
    let halve = |n: usize| if check { (n - n / 4 - usize::from(n < 4)).max(1) } else { n };
    // The outer factors: the global one unless fixed, and a sector or country factor shared by
    // every buyer that loads on that family.
    let free = [plan.fixed_global.is_none(), sectors.len() == 1, countries.len() == 1];
    let fixed = [plan.fixed_global.unwrap_or(0.0), 0.0, 0.0];
    let dims = free.iter().filter(|&&f| f).count();
    // When every bucket loads on the outer factors in the same proportions, they act as one
    // standard normal along the unit direction `d` of those loadings: one dimension, not several.
    let restricted = |load: &[f64; 3]| -> [f64; 3] { std::array::from_fn(|i| if free[i] { load[i] } else { 0.0 }) };
    let norm = |v: &[f64; 3]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let reference = plan.buckets.iter().map(|b| restricted(&b.load)).max_by(|a, b| norm(a).total_cmp(&norm(b)));
    let collapsed = reference.filter(|r| norm(r) > 0.0).and_then(|r| {
        let d = r.map(|x| x / norm(&r));
        plan.buckets
            .iter()
            .all(|b| {
                let v = restricted(&b.load);
                let c: f64 = v.iter().zip(&d).map(|(x, y)| x * y).sum();
                v.iter().zip(&d).all(|(x, y)| (x - c * y).abs() <= 1e-12 * (1.0 + norm(&v)))
            })
            .then_some(d)
    });
    let mut outer = Vec::new();
    if dims == 0 || reference.is_none_or(|r| norm(&r) == 0.0) {
        // Nothing outer moves the default probabilities: one node.
        outer.push((1.0, fixed[0], fixed[1], fixed[2]));
    } else if let Some(d) = collapsed {
        let per_panel = if sectors.len() > 1 || countries.len() > 1 { PANEL_NODES_2D } else { PANEL_NODES };
        for (w, z) in tail_rule(halve(per_panel)) {
            let at = |i: usize| if free[i] { z * d[i] } else { fixed[i] };
            outer.push((w, at(0), at(1), at(2)));
        }
    } else {
        let global = if free[0] { tail_rule(halve(PANEL_NODES_2D)) } else { vec![(1.0, fixed[0])] };
        let second = hermite(halve(OUTER_NODES_2D));
        let s = if free[1] { second.clone() } else { vec![(1.0, 0.0)] };
        let c = if free[2] { second } else { vec![(1.0, 0.0)] };
        for &(wg, zg) in &global {
            for &(ws, zs) in &s {
                for &(wc, zc) in &c {
                    outer.push((wg * ws * wc, zg, zs, zc));
                }
            }
        }
    }
    let group_factor = if sectors.len() > 1 {
        1
    } else if countries.len() > 1 {
        2
    } else {
        0
    };
    let inner = if group_factor == 0 { vec![(1.0, 0.0)] } else { hermite(halve(INNER_NODES)) };
    Ok(Quadrature { outer, inner, group_factor })
}

/// The distribution of `Σ_b X_b` where buyer `b` (of bucket `bucket_of[b]`, or forced when
/// `None`) has law `laws[b]` given default.
fn convolve(plan: &Plan, quad: &Quadrature, members: &[(usize, Option<usize>)], laws: &[Law], size: usize) -> Vec<f64> {
    // Conditional PD per (outer node, inner node, bucket).
    let (no, ni, nb) = (quad.outer.len(), quad.inner.len(), plan.buckets.len());
    let mut pd = vec![0.0f64; no * ni * nb];
    for (o, &(_, zg, zs, zc)) in quad.outer.iter().enumerate() {
        for (i, &(_, zi)) in quad.inner.iter().enumerate() {
            for (k, b) in plan.buckets.iter().enumerate() {
                let (s, c) = match quad.group_factor {
                    1 => (zi, zc),
                    2 => (zs, zi),
                    _ => (zs, zc),
                };
                let systematic = b.load[0] * zg + b.load[1] * s + b.load[2] * c;
                pd[(o * ni + i) * nb + k] = normal::cdf((b.threshold - systematic) / b.idio);
            }
        }
    }
    // Buyers by group (the group factor's level), forced buyers apart.
    let group_of = |k: usize| -> u32 {
        match quad.group_factor {
            1 => plan.buckets[k].sector,
            2 => plan.buckets[k].country,
            _ => 0,
        }
    };
    let mut groups: std::collections::BTreeMap<u32, Vec<(usize, usize)>> = Default::default();
    let mut forced = Vec::new();
    for (j, &(_, bucket)) in members.iter().enumerate() {
        match bucket {
            Some(k) => groups.entry(group_of(k)).or_default().push((j, k)),
            None => forced.push(j),
        }
    }
    let groups: Vec<Vec<(usize, usize)>> = groups.into_values().collect();
    let twiddle: Vec<Complex64> =
        (0..size).map(|m| Complex64::from_polar(1.0, -2.0 * std::f64::consts::PI * m as f64 / size as f64)).collect();
    let spectrum_of =
        |law: &Law, f: usize| -> Complex64 { law.iter().map(|&(x, p)| twiddle[(x * f) % size] * p).sum() };
    let chunk = (SPECTRA_BUDGET / (laws.len().max(1) * std::mem::size_of::<Complex64>())).clamp(1, CHUNK);
    let mut spectrum: Vec<Complex64> = (0..size)
        .collect::<Vec<_>>()
        .par_chunks(chunk)
        .flat_map_iter(|freqs| {
            let psi: Vec<Vec<Complex64>> =
                laws.iter().map(|law| freqs.iter().map(|&f| spectrum_of(law, f)).collect()).collect();
            let mut total = vec![Complex64::new(0.0, 0.0); freqs.len()];
            let mut node = vec![Complex64::new(0.0, 0.0); freqs.len()];
            let mut group = vec![Complex64::new(0.0, 0.0); freqs.len()];
            let mut prod = vec![Complex64::new(0.0, 0.0); freqs.len()];
            for (o, &(wo, ..)) in quad.outer.iter().enumerate() {
                node.fill(Complex64::new(1.0, 0.0));
                for &j in &forced {
                    for (x, y) in node.iter_mut().zip(&psi[j]) {
                        *x *= y;
                    }
                }
                for members in &groups {
                    group.fill(Complex64::new(0.0, 0.0));
                    for (i, &(wi, _)) in quad.inner.iter().enumerate() {
                        prod.fill(Complex64::new(1.0, 0.0));
                        for &(j, k) in members {
                            let p = pd[(o * ni + i) * nb + k];
                            if p < 1e-16 {
                                continue; // the factor is 1 to double precision
                            }
                            for (x, y) in prod.iter_mut().zip(&psi[j]) {
                                *x *= (1.0 - p) + p * y;
                            }
                        }
                        for (g, x) in group.iter_mut().zip(&prod) {
                            *g += x * wi;
                        }
                    }
                    for (x, g) in node.iter_mut().zip(&group) {
                        *x *= g;
                    }
                }
                for (t, x) in total.iter_mut().zip(&node) {
                    *t += x * wo;
                }
            }
            total
        })
        .collect();
    FftPlanner::new().plan_fft_inverse(size).process(&mut spectrum);
    spectrum.iter().map(|x| (x.re / size as f64).max(0.0)).collect()
}

/// The distribution of one measure given each buyer's values given default.
fn measure_distribution(
    plan: &Plan,
    quad: &Quadrature,
    members: &[(usize, Option<usize>)],
    values: &[Vec<(i64, f64)>],
) -> LossDistribution {
    let lattice = lattice(values);
    let pmf = convolve(plan, quad, members, &lattice.laws, lattice.size);
    let (values, probs) = pmf.iter().enumerate().map(|(x, &p)| (x as i64 * lattice.unit, p)).unzip();
    LossDistribution {
        values,
        probs,
        unit: lattice.unit,
        exact_lattice: lattice.exact,
        median_buyer_max: lattice.median_buyer_max,
    }
}

/// Applies a policy year's aggregate first loss and maximum liability to the sum of claims.
fn aggregate_terms(d: &LossDistribution, afl: i64, max_liability: i64) -> LossDistribution {
    let mut pairs: Vec<(i64, f64)> =
        d.values.iter().zip(&d.probs).map(|(&s, &p)| ((s - afl).max(0).min(max_liability), p)).collect();
    pairs.sort_by_key(|e| e.0);
    let mut values: Vec<i64> = Vec::with_capacity(pairs.len());
    let mut probs: Vec<f64> = Vec::with_capacity(pairs.len());
    for (v, p) in pairs {
        match values.last() {
            Some(&last) if last == v => *probs.last_mut().expect("same length") += p,
            _ => {
                values.push(v);
                probs.push(p);
            }
        }
    }
    LossDistribution {
        values,
        probs,
        unit: d.unit,
        exact_lattice: d.exact_lattice,
        median_buyer_max: d.median_buyer_max,
    }
}

/// The analytic gross-loss distribution of a scenario and, for a one-year horizon, the claims
/// distribution of each policy. `Err` names what of the scenario the method cannot integrate.
pub fn analyze(plan: &Plan) -> Result<AnalyticScenario, Error> {
    let quad = quadrature(plan, false)
        .map_err(|why| Error::Usage(format!("the analytic method: scenario {:?}: {why}", plan.scenario)))?;
    let mut bucket_of = vec![None; plan.n_buyers];
    for (k, b) in plan.buckets.iter().enumerate() {
        for &m in &plan.bucket_members[b.start as usize..(b.start + b.len) as usize] {
            bucket_of[m as usize] = Some(k);
        }
    }
    let mut members = Vec::new();
    let mut outcomes = Vec::new();
    for (b, bucket) in bucket_of.iter().enumerate() {
        if let Some(k) = bucket {
            members.push((b, Some(*k)));
            outcomes.push(buyer_outcomes(plan, b, None));
        }
    }
    for f in &plan.forced {
        members.push((f.buyer as usize, None));
        outcomes.push(buyer_outcomes(plan, f.buyer as usize, Some((f.day, f.kind))));
    }
    let values = |pick: &dyn Fn(&Outcome) -> i64| -> Vec<Vec<(i64, f64)>> {
        outcomes.iter().map(|o| o.iter().map(|x| (pick(x), x.prob)).collect()).collect()
    };
    let gross = values(&|o| o.gross);
    let mut measures = vec![AnalyticMeasure {
        policy: crate::model::NO_POLICY.into(),
        measure: "gross_loss",
        dist: measure_distribution(plan, &quad, &members, &gross),
    }];
    let mut notes = Vec::new();
    // Convergence: the gross distribution again with a rule of other nodes.
    let other = quadrature(plan, true).map_err(Error::Usage)?;
    if other.outer.len() < quad.outer.len() || other.inner.len() < quad.inner.len() {
        let check = measure_distribution(plan, &other, &members, &gross);
        let fine = &measures[0].dist;
        let level = TAIL_LEVELS[1];
        let change = |a: f64, b: f64| if a == b { 0.0 } else { (a - b).abs() / a.abs().max(b.abs()) };
        // A quantile may move by one lattice point between two rules without either being wrong.
        let (v_fine, v_coarse) = (fine.quantile(level), check.quantile(level));
        let var = if (v_fine - v_coarse).abs() <= fine.unit { 0.0 } else { change(v_fine as f64, v_coarse as f64) };
        let worst = var.max(change(fine.expected_shortfall(level), check.expected_shortfall(level)));
        if worst > CONVERGENCE_TOLERANCE {
            notes.push(format!(
                "quadrature not converged: gross VaR/ES 99 move by {:.2}% with a rule of fewer nodes",
                100.0 * worst
            ));
        }
    }
    if plan.year_starts.len() > 1 {
        notes.push("claims not computed: the horizon spans several policy years".to_owned());
    } else {
        for (p, policy) in plan.policies.iter().enumerate() {
            let sum = measure_distribution(plan, &quad, &members, &values(&|o| o.claims[p]));
            measures.push(AnalyticMeasure {
                policy: policy.name.clone(),
                measure: "claims",
                dist: aggregate_terms(&sum, policy.aggregate_first_loss, policy.max_liability),
            });
        }
    }
    // Recovery index 0 is insolvency, 1 protracted default: only kinds that can occur count.
    let occurs = |k: usize| {
        let kind = if k == 0 { DefaultKind::Insolvency } else { DefaultKind::Protracted };
        let share = if k == 0 { plan.insolvency_share } else { 1.0 - plan.insolvency_share };
        share > 0.0 && !members.is_empty() || plan.forced.iter().any(|f| f.kind == kind)
    };
    if plan.recovery.iter().enumerate().any(|(k, r)| r.beta.is_some() && occurs(k)) {
        notes.push("recovery rates taken at their mean (sd > 0 is not integrated)".to_owned());
    }
    if plan.lateness.is_some() {
        notes.push("late payment claims not included".to_owned());
    }
    if plan.country_risk.is_some() {
        notes.push("country events not included".to_owned());
    }
    if plan.disputes.is_some() {
        notes.push("dilution loss not reported (disputed debts are left out of the claims)".to_owned());
    }
    if plan.cuts.is_some() {
        notes.push("limit cuts not included".to_owned());
    }
    for m in measures.iter().filter(|m| !m.dist.exact_lattice) {
        let d = &m.dist;
        let unit = crate::money::format_cents(d.unit as i128);
        notes.push(format!(
            "{} {}: losses split between lattice points {unit} apart (means exact; quantiles within one unit)",
            m.policy, m.measure
        ));
        if d.unit > d.median_buyer_max {
            notes.push(format!(
                "{} {}: the lattice unit {unit} exceeds the median buyer's largest loss {}: the shape of the \
                 distribution is coarse, prefer Monte Carlo for it",
                m.policy,
                m.measure,
                crate::money::format_cents(d.median_buyer_max as i128)
            ));
        }
    }
    Ok(AnalyticScenario { name: plan.scenario.clone(), measures, notes })
}

/// Statistics of a distribution, in the conventions of the Monte Carlo reports (§3.1.1 with
/// probabilities in place of trial counts).
impl LossDistribution {
    pub fn mean(&self) -> f64 {
        self.values.iter().zip(&self.probs).map(|(&v, &p)| v as f64 * p).sum()
    }

    pub fn std_dev(&self) -> f64 {
        let m = self.mean();
        self.values.iter().zip(&self.probs).map(|(&v, &p)| (v as f64 - m).powi(2) * p).sum::<f64>().sqrt()
    }

    /// The smallest value with `P(X ≤ x) ≥ α` (a relative tolerance of 1e-10 absorbs FFT noise).
    pub fn quantile(&self, level: Level) -> i64 {
        let a = level.num as f64 / level.den as f64;
        let total: f64 = self.probs.iter().sum();
        let mut c = 0.0;
        for (&v, &p) in self.values.iter().zip(&self.probs) {
            c += p;
            if c >= (a - 1e-10) * total {
                return v;
            }
        }
        self.values.last().copied().unwrap_or(0)
    }

    /// Mean of the upper `1 − α` of the probability mass.
    pub fn expected_shortfall(&self, level: Level) -> f64 {
        let total: f64 = self.probs.iter().sum();
        let tail = (1.0 - level.num as f64 / level.den as f64) * total;
        let (mut mass, mut sum) = (0.0f64, 0.0f64);
        for (&v, &p) in self.values.iter().zip(&self.probs).rev() {
            if mass >= tail {
                break;
            }
            let take = p.min(tail - mass);
            mass += take;
            sum += take * v as f64;
        }
        if mass > 0.0 { sum / mass } else { 0.0 }
    }

    /// `P(X > 0)`.
    pub fn p_positive(&self) -> f64 {
        self.values.iter().zip(&self.probs).filter(|(v, _)| **v > 0).map(|(_, p)| p).sum()
    }

    /// The quantiles at [`QUANTILE_LEVELS`] and VaR / ES at [`TAIL_LEVELS`].
    pub fn figures(&self) -> ([i64; 6], [i64; 3], [f64; 3]) {
        (
            QUANTILE_LEVELS.map(|l| self.quantile(l)),
            TAIL_LEVELS.map(|l| self.quantile(l)),
            TAIL_LEVELS.map(|l| self.expected_shortfall(l)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hermite_rule_integrates_normal_moments() {
        let rule = hermite(20);
        let moment = |k: i32| rule.iter().map(|&(w, z)| w * z.powi(k)).sum::<f64>();
        assert!((moment(0) - 1.0).abs() < 1e-12);
        assert!(moment(1).abs() < 1e-12);
        assert!((moment(2) - 1.0).abs() < 1e-10);
        assert!((moment(4) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn tail_rule_integrates_normal_moments_and_puts_panel_mass_exactly() {
        let rule = tail_rule(PANEL_NODES);
        assert!((rule.iter().map(|r| r.0).sum::<f64>() - 1.0).abs() < 1e-12);
        // E[Φ(a + bZ)] = Φ(a/√(1 + b²)): the mean conditional PD of a Vasicek buyer.
        for (q, r) in [(0.02f64, 0.15f64), (0.001, 0.3), (0.2, 0.05)] {
            let c = normal::quantile(q);
            let mean: f64 = rule.iter().map(|&(w, z)| w * normal::cdf((c - r.sqrt() * z) / (1.0 - r).sqrt())).sum();
            assert!((mean - q).abs() < 1e-5 * q, "q {q}, R {r}: {mean}");
        }
        // The mass of the nodes below Φ⁻¹(0.01) is 0.01 to rounding: no node straddles the level.
        let below: f64 = rule.iter().filter(|r| r.1 < normal::quantile(0.01)).map(|r| r.0).sum();
        assert!((below - 0.01).abs() < 1e-15, "{below}");
    }

    #[test]
    fn inexact_lattice_keeps_every_mean_and_does_not_wrap() {
        // Largest losses total far more than MAX_LATTICE units of their gcd (1 cent).
        let values: Vec<Vec<(i64, f64)>> =
            (0..50).map(|b| vec![(1_000_003 + 7_919 * b, 0.25), (2_345_677 + 13 * b, 0.5), (0, 0.25)]).collect();
        let l = lattice(&values);
        assert!(!l.exact && l.unit > 1);
        let top: usize = l.laws.iter().map(|law| law.last().unwrap().0).sum();
        assert!(top < l.size, "total index {top} wraps a lattice of {}", l.size);
        for (law, original) in l.laws.iter().zip(&values) {
            let mean: f64 = law.iter().map(|&(x, p)| (x as i64 * l.unit) as f64 * p).sum();
            let exact: f64 = original.iter().map(|&(v, p)| v as f64 * p).sum();
            assert!((mean - exact).abs() < 1e-9 * exact, "{mean} vs {exact}");
            assert!((law.iter().map(|e| e.1).sum::<f64>() - 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn aggregate_terms_take_the_first_loss_and_cap_the_total() {
        let d = LossDistribution {
            values: vec![0, 10, 20, 30],
            probs: vec![0.4, 0.3, 0.2, 0.1],
            unit: 10,
            exact_lattice: true,
            median_buyer_max: 10,
        };
        let t = aggregate_terms(&d, 10, 15);
        assert_eq!(t.values, vec![0, 10, 15]);
        assert!((t.probs[0] - 0.7).abs() < 1e-15 && (t.probs[2] - 0.1).abs() < 1e-15);
    }
}
