//! The analytic method (`run --method analytic`; docs/analytic.md): the credit-default part of the
//! model without simulation.
//!
//! Given the systematic factors, buyers default independently. For each buyer the loss given
//! default is a discrete distribution over its default day (SPEC §3.1.2, exact day probabilities)
//! and kind, computed from the same invoice schedule the engine uses. The conditional loss
//! distribution of the portfolio is the convolution of the buyers' `1 − p + p·LGD` laws, done as
//! a product of their characteristic functions on a loss lattice (FFT); the factors are integrated
//! out by Gauss–Hermite quadrature: over the global factor, and nested over one further factor
//! family (sector or country factors, whose groups are independent given the outer factors).
//!
//! Exact up to floating point when every loss is a multiple of the lattice unit (the greatest
//! common divisor of all losses, used whenever it keeps the lattice within [`MAX_LATTICE`]
//! points); otherwise losses are rounded to the nearest lattice point and the result is flagged.

use crate::error::Error;
use crate::model::DefaultKind;
use crate::money::apply_ppb;
use crate::normal;
use crate::plan::Plan;
use crate::stats::{Level, QUANTILE_LEVELS, TAIL_LEVELS};
use gauss_quad::hermite::GaussHermite;
use rayon::prelude::*;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;
use std::num::NonZeroUsize;

/// Largest loss lattice (points).
pub const MAX_LATTICE: usize = 1 << 13;
/// Gauss–Hermite nodes over each outer factor and over a nested group factor.
const OUTER_NODES: usize = 32;
const OUTER_NODES_2D: usize = 16;
const INNER_NODES: usize = 10;
/// Frequencies processed together (bounds the memory of the per-buyer spectra).
const CHUNK: usize = 512;

/// A loss distribution: distinct values in cents, ascending, with their probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct LossDistribution {
    pub values: Vec<i64>,
    pub probs: Vec<f64>,
    /// Lattice unit in cents.
    pub unit: i64,
    /// Every loss was a multiple of the unit (no rounding).
    pub exact_lattice: bool,
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
        let (oldest_due, _, unpaid) = plan.unpaid_at_default(b, day, kind);
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
                let t = if recovery_day <= dol { unpaid - recovery } else { unpaid };
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

/// The lattice of a measure: unit, exactness, and every buyer's law given default.
fn lattice(values: &[Vec<(i64, f64)>]) -> (i64, bool, usize, Vec<Law>) {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a.abs() } else { gcd(b, a % b) }
    }
    let g = values.iter().flatten().fold(0i64, |g, &(v, _)| gcd(g, v));
    let max_total: i128 = values.iter().map(|l| l.iter().map(|&(v, _)| v).max().unwrap_or(0) as i128).sum();
    let (unit, exact) = if g == 0 {
        (1, true)
    } else if max_total / (g as i128) < MAX_LATTICE as i128 {
        (g, true)
    } else {
        (((max_total + MAX_LATTICE as i128 - 2) / (MAX_LATTICE as i128 - 1)) as i64, false)
    };
    let points = (max_total / unit as i128) as usize + 1;
    let laws = values
        .iter()
        .map(|l| {
            let mut law: Law = l.iter().map(|&(v, p)| (((v + unit / 2) / unit) as usize, p)).collect();
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
    (unit, exact, points.next_power_of_two(), laws)
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

fn quadrature(plan: &Plan) -> Result<Quadrature, String> {
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
    let global = match plan.fixed_global {
        Some(z) => vec![(1.0, z)],
        None => Vec::new(),
    };
    let common_sector = sectors.len() == 1;
    let common_country = countries.len() == 1;
    let dims = usize::from(plan.fixed_global.is_none()) + usize::from(common_sector) + usize::from(common_country);
    let nodes = if dims > 1 { OUTER_NODES_2D } else { OUTER_NODES };
    let free = hermite(nodes);
    let g = if global.is_empty() { free.clone() } else { global };
    let s = if common_sector { free.clone() } else { vec![(1.0, 0.0)] };
    let c = if common_country { free.clone() } else { vec![(1.0, 0.0)] };
    let mut outer = Vec::with_capacity(g.len() * s.len() * c.len());
    for &(wg, zg) in &g {
        for &(ws, zs) in &s {
            for &(wc, zc) in &c {
                outer.push((wg * ws * wc, zg, zs, zc));
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
    let inner = if group_factor == 0 { vec![(1.0, 0.0)] } else { hermite(INNER_NODES) };
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
    let mut spectrum: Vec<Complex64> = (0..size)
        .collect::<Vec<_>>()
        .par_chunks(CHUNK)
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
    let (unit, exact, size, laws) = lattice(values);
    let pmf = convolve(plan, quad, members, &laws, size);
    let (values, probs) = pmf.iter().enumerate().map(|(x, &p)| (x as i64 * unit, p)).unzip();
    LossDistribution { values, probs, unit, exact_lattice: exact }
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
    LossDistribution { values, probs, unit: d.unit, exact_lattice: d.exact_lattice }
}

/// The analytic gross-loss distribution of a scenario and, for a one-year horizon, the claims
/// distribution of each policy. `Err` names what of the scenario the method cannot integrate.
pub fn analyze(plan: &Plan) -> Result<AnalyticScenario, Error> {
    let quad = quadrature(plan)
        .map_err(|why| Error::Usage(format!("--method analytic: scenario {:?}: {why}", plan.scenario)))?;
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
    let mut measures = vec![AnalyticMeasure {
        policy: crate::run::NO_POLICY.into(),
        measure: "gross_loss",
        dist: measure_distribution(plan, &quad, &members, &values(&|o| o.gross)),
    }];
    let mut notes = Vec::new();
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
    if plan.recovery.iter().any(|r| r.beta.is_some()) {
        notes.push("recovery rates taken at their mean (sd > 0 is not integrated)".to_owned());
    }
    if plan.lateness.is_some() {
        notes.push("late payment claims not included".to_owned());
    }
    if plan.country_risk.is_some() {
        notes.push("country events not included".to_owned());
    }
    if plan.cuts.is_some() {
        notes.push("limit cuts not included".to_owned());
    }
    if measures.iter().any(|m| !m.dist.exact_lattice) {
        notes.push(format!("losses rounded to a lattice of {MAX_LATTICE} points"));
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
    fn aggregate_terms_take_the_first_loss_and_cap_the_total() {
        let d = LossDistribution {
            values: vec![0, 10, 20, 30],
            probs: vec![0.4, 0.3, 0.2, 0.1],
            unit: 10,
            exact_lattice: true,
        };
        let t = aggregate_terms(&d, 10, 15);
        assert_eq!(t.values, vec![0, 10, 15]);
        assert!((t.probs[0] - 0.7).abs() < 1e-15 && (t.probs[2] - 0.1).abs() < 1e-15);
    }
}
