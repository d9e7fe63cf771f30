//! Statistics of likelihood-weighted trials (`run --tail-sampling`, docs/accuracy.md).
//!
//! Trial `i` carries a weight `w_i` in units of 2⁻³² (the likelihood ratio of the target to the
//! sampling distribution, rounded once in the kernel), so every weighted sum of cents is an exact
//! integer and order-free, like the unweighted ones. The estimators are the unnormalised
//! importance-sampling ones: the mass of the target distribution is `N · unit`, P(X ∈ A) is
//! `Σ_{x_i ∈ A} w_i / (N · unit)`. With every weight equal to one unit they reduce to the
//! unweighted statistics of §3.1.1.

use super::{Bin, HISTOGRAM_BINS, Level, MeasureStats, QUANTILE_LEVELS, TAIL_LEVELS, Z95, nice_width};
pub use crate::engine::Weights;
use crate::money::mean_cents;
pub use crate::plan::WEIGHT_UNIT;

/// A probability estimate with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    pub p: f64,
    pub std_error: f64,
}

/// `α · N · unit` rounded up: the cumulative mass the `α`-quantile must reach.
fn mass_at(n: usize, level: Level) -> u128 {
    (level.num as u128 * n as u128 * WEIGHT_UNIT as u128).div_ceil(level.den as u128)
}

/// Values sorted ascending (ties by trial index) with their weights and the tail-side
/// cumulative distribution.
struct Sorted {
    values: Vec<i64>,
    weights: Vec<u64>,
    /// `cumulative[j]` = `N·unit` minus the weight of the trials after sorted position `j`: the
    /// CDF estimated from the tail side, `1 − P̂(X > x)`, whose error in the tail is that of the
    /// well-sampled tail rather than of the whole body of weights.
    cumulative: Vec<i128>,
}

impl Sorted {
    fn new(values: &[i64], w: &[u64]) -> Self {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_unstable_by_key(|&i| (values[i], i));
        let mut above = 0i128;
        let nominal = values.len() as i128 * WEIGHT_UNIT as i128;
        let mut cumulative: Vec<i128> = order
            .iter()
            .rev()
            .map(|&i| {
                let c = nominal - above;
                above += w[i] as i128;
                c
            })
            .collect();
        cumulative.reverse();
        Sorted {
            values: order.iter().map(|&i| values[i]).collect(),
            weights: order.iter().map(|&i| w[i]).collect(),
            cumulative,
        }
    }

    /// The smallest value whose cumulative weight reaches `mass` (the largest value if none does).
    fn quantile_at_mass(&self, mass: u128) -> i64 {
        let mass = mass.max(1) as i128;
        let j = self.cumulative.partition_point(|&c| c < mass);
        self.values.get(j).or(self.values.last()).copied().unwrap_or(0)
    }

    /// The smallest value whose weight at or below it (the lower-side CDF) reaches `mass`.
    fn lower_quantile_at_mass(&self, mass: u128) -> i64 {
        let mass = mass.max(1) as i128;
        let mut below = 0i128;
        for (v, &w) in self.values.iter().zip(&self.weights) {
            below += w as i128;
            if below >= mass {
                return *v;
            }
        }
        self.values.last().copied().unwrap_or(0)
    }

    /// Variance (per trial, in units²) of `w_i · 1{x_i > x}` over the trials: the error of the
    /// tail-side CDF at `x`.
    fn exceedance_variance(&self, x: i64, n: usize) -> f64 {
        let upto = self.values.partition_point(|&v| v <= x);
        let u = WEIGHT_UNIT as f64;
        let (s, ss) = self.weights[upto..].iter().fold((0.0, 0.0), |(s, ss), &w| {
            let w = w as f64 / u;
            (s + w, ss + w * w)
        });
        let m = s / n as f64;
        (ss / n as f64 - m * m).max(0.0)
    }

    /// 95% interval of the `α`-quantile: the quantiles at the masses `α ± z·σ/√N`, `σ²` the
    /// variance of the weighted exceedance indicator at the quantile (the weighted analogue of
    /// the order-statistic interval, no density needed).
    fn quantile_ci(&self, level: Level) -> (i64, i64) {
        let n = self.values.len();
        if n == 0 {
            return (0, 0);
        }
        let q = self.quantile_at_mass(mass_at(n, level));
        let half = Z95 * (self.exceedance_variance(q, n) * n as f64).sqrt() * WEIGHT_UNIT as f64;
        let centre = mass_at(n, level) as f64;
        let low = (centre - half).max(1.0) as u128;
        let high = (centre + half) as u128 + WEIGHT_UNIT as u128;
        (self.quantile_at_mass(low), self.quantile_at_mass(high))
    }

    /// ES at `α` (the tail mass `N·unit − ⌊α·N·unit⌋` taken from the largest values down, the
    /// last trial entering with part of its weight) and its asymptotic standard error
    /// `sd(w·(x − VaR)⁺) / (√N (1 − α))`.
    fn expected_shortfall(&self, level: Level) -> (i128, f64) {
        let n = self.values.len();
        let (tail, total) =
            weighted_tail(self.values.iter().rev().copied().zip(self.weights.iter().rev().copied()), n, level);
        if total == 0 {
            return (0, 0.0);
        }
        let es = mean_cents(tail, total as u64);
        let var = self.quantile_at_mass(mass_at(n, level)) as f64;
        let u = WEIGHT_UNIT as f64;
        let (mut s, mut ss) = (0.0f64, 0.0f64);
        for (&x, &w) in self.values.iter().zip(&self.weights).rev() {
            if (x as f64) <= var {
                break;
            }
            let y = w as f64 / u * (x as f64 - var);
            s += y;
            ss += y * y;
        }
        (es, super::tail_term_std_error(n, level, s, ss))
    }
}

/// The tail mass of level `α` over `n` trials of weight `unit` each: `N·unit − ⌊α·N·unit⌋`
/// (with `unit = 1`, the tail size of §3.1.1).
pub fn tail_mass(n: usize, level: Level, unit: u64) -> u128 {
    let all = n as u128 * unit as u128;
    all - level.num as u128 * all / level.den as u128
}

/// Takes trials (value, weight) in tail order (largest first, ties by trial index) until the tail
/// mass `need` ([`tail_mass`]) is reached, the last one with the part of its weight still needed; returns
/// `(Σ w'·x, Σ w')`. Calls `take(position, w')` for each trial taken.
pub fn weighted_tail_with(
    trials: impl Iterator<Item = (i64, u64)>,
    need: u128,
    mut take: impl FnMut(usize, u64),
) -> (i128, u128) {
    let (mut sum, mut mass) = (0i128, 0u128);
    for (j, (x, w)) in trials.enumerate() {
        if mass >= need {
            break;
        }
        let part = (w as u128).min(need - mass) as u64;
        sum += x as i128 * part as i128;
        mass += part as u128;
        take(j, part);
    }
    (sum, mass)
}

fn weighted_tail(trials: impl Iterator<Item = (i64, u64)>, n: usize, level: Level) -> (i128, u128) {
    weighted_tail_with(trials, tail_mass(n, level, WEIGHT_UNIT), |_, _| {})
}

/// Weighted histogram: the binning of [`super::histogram_sorted`], trial counts as drawn, shares
/// and exceedance weighted.
fn weighted_histogram(s: &Sorted, bins: usize) -> Vec<Bin> {
    let (Some(&min), Some(&max)) = (s.values.first(), s.values.last()) else { return Vec::new() };
    let mass = s.values.len() as f64 * WEIGHT_UNIT as f64;
    let total = s.values.len() as i128 * WEIGHT_UNIT as i128;
    let span = (max as i128 - min as i128 + 1).max(1) as u128;
    let width = nice_width(span.div_ceil(bins.max(1) as u128).min(i64::MAX as u128) as i64);
    let mut out = Vec::with_capacity(bins);
    let mut from = min.div_euclid(width) * width;
    let mut below = 0usize;
    // Tail-side mass of the trials before sorted position j.
    let mass_below = |j: usize| if j == 0 { s.cumulative[0] - s.weights[0] as i128 } else { s.cumulative[j - 1] };
    while below < s.values.len() {
        let to = from.saturating_add(width);
        let upto = s.values.partition_point(|&x| x < to);
        out.push(Bin {
            from,
            to,
            trials: (upto - below) as u64,
            share: (mass_below(upto) - mass_below(below)) as f64 / mass,
            p_at_or_above_to: (total - mass_below(upto)) as f64 / mass,
        });
        below = upto;
        from = to;
    }
    out
}

fn weighted_stats(values: &[i64], w: &[u64]) -> MeasureStats {
    let n = values.len();
    let u = WEIGHT_UNIT as f64;
    let total: i128 = values.iter().zip(w).map(|(&x, &w)| x as i128 * w as i128).sum();
    let mean = mean_cents(total, (n as u64).saturating_mul(WEIGHT_UNIT));
    let mean_f = if n == 0 { 0.0 } else { total as f64 / (n as f64 * u) };
    let (mut var_target, mut var_terms) = (0.0f64, 0.0f64);
    for (&x, &w) in values.iter().zip(w) {
        let (x, w) = (x as f64, w as f64 / u);
        var_target += w * (x - mean_f).powi(2);
        var_terms += (w * x - mean_f).powi(2);
    }
    let std_dev = if n > 1 { (var_target / n as f64).sqrt() } else { 0.0 };
    let mean_std_error = super::mean_std_error_of(var_terms, n);
    let s = Sorted::new(values, w);
    let positive = Weights::Likelihood(w).share(n, |i| values[i] > 0);
    let es = TAIL_LEVELS.map(|l| s.expected_shortfall(l));
    MeasureStats {
        trials: n as u64,
        sum: mean_cents(total, WEIGHT_UNIT),
        mean,
        std_dev,
        mean_std_error,
        quantiles: QUANTILE_LEVELS.map(|l| s.quantile_at_mass(mass_at(n, l))),
        quantile_ci: QUANTILE_LEVELS.map(|l| s.quantile_ci(l)),
        var: TAIL_LEVELS.map(|l| s.quantile_at_mass(mass_at(n, l))),
        var_ci: TAIL_LEVELS.map(|l| s.quantile_ci(l)),
        es: es.map(|e| e.0),
        es_std_error: es.map(|e| e.1),
        p_positive: positive.p,
        p_positive_std_error: positive.std_error,
        histogram: weighted_histogram(&s, HISTOGRAM_BINS),
    }
}

/// Estimators over a run's weighted trials.
impl Weights<'_> {
    /// Statistics of one measure over the trials.
    pub fn stats(&self, values: &[i64]) -> MeasureStats {
        match self {
            Weights::Equal => MeasureStats::from_values(values),
            Weights::Likelihood(w) => weighted_stats(values, w),
        }
    }

    /// The probability of the trials where `hit(i)`, with its standard error.
    pub fn share(&self, n: usize, hit: impl Fn(usize) -> bool) -> Share {
        if n == 0 {
            return Share { p: 0.0, std_error: 0.0 };
        }
        let u = self.unit() as f64;
        let (mut s, mut ss) = (0.0f64, 0.0f64);
        for i in (0..n).filter(|&i| hit(i)) {
            let w = self.weight(i) as f64 / u;
            s += w;
            ss += w * w;
        }
        let p = s / n as f64;
        let var = (ss / n as f64 - p * p).max(0.0);
        Share { p, std_error: (var / n as f64).sqrt() }
    }

    /// The weighted sum of a column in cents, expressed as a plain sum over the trials (`mean ×
    /// N`), rounded half-to-even: for means of report columns.
    pub fn sum(&self, n: usize, value: impl Fn(usize) -> i64) -> i128 {
        let total: i128 = (0..n).map(|i| value(i) as i128 * self.weight(i) as i128).sum();
        mean_cents(total, self.unit())
    }

    /// The weighted mean of a column in cents, rounded half-to-even once.
    pub fn mean(&self, n: usize, value: impl Fn(usize) -> i64) -> i128 {
        let total: i128 = (0..n).map(|i| value(i) as i128 * self.weight(i) as i128).sum();
        mean_cents(total, self.unit() * n as u64)
    }

    /// The quantiles of `values` at `levels` (one sort). Under likelihood weights a level below
    /// one half is read from the lower-side CDF (`P̂(X ≤ x)`), one above from the upper side, so
    /// each is estimated from the weights of its own tail.
    pub fn quantiles<const K: usize>(&self, values: &[i64], levels: [Level; K]) -> [i64; K] {
        match self {
            Weights::Equal => {
                let mut sorted = values.to_vec();
                sorted.sort_unstable();
                levels.map(|l| super::quantile_sorted(&sorted, l))
            }
            Weights::Likelihood(w) => {
                let s = Sorted::new(values, w);
                levels.map(|l| {
                    if 2 * l.num < l.den {
                        s.lower_quantile_at_mass(mass_at(values.len(), l))
                    } else {
                        s.quantile_at_mass(mass_at(values.len(), l))
                    }
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_likelihood_weights_give_the_unweighted_figures() {
        let values: Vec<i64> = (0..1000).map(|i| (i * 7919 % 1013) as i64 - 40).collect();
        let plain = MeasureStats::from_values(&values);
        let w = vec![WEIGHT_UNIT; values.len()];
        let weighted = Weights::Likelihood(&w).stats(&values);
        assert_eq!(weighted.mean, plain.mean);
        assert_eq!(weighted.quantiles, plain.quantiles);
        assert_eq!(weighted.var, plain.var);
        assert_eq!(weighted.es, plain.es);
        assert_eq!(weighted.p_positive, plain.p_positive);
        assert_eq!(weighted.histogram, plain.histogram);
        assert!((weighted.std_dev / plain.std_dev - 1.0).abs() < 1e-3);
        for l in 0..3 {
            assert!((weighted.es_std_error[l] / plain.es_std_error[l] - 1.0).abs() < 0.05, "level {l}");
        }
    }

    #[test]
    fn low_quantiles_read_the_lower_side_and_high_ones_the_upper_side() {
        // Weights total 3 units over 4 trials (nominal mass 4): the two sides of the CDF disagree.
        let values = [1, 2, 3, 4];
        let w = [WEIGHT_UNIT, WEIGHT_UNIT, WEIGHT_UNIT / 2, WEIGHT_UNIT / 2];
        let low = Level { num: 3, den: 10, label: "0.3" };
        let high = Level { num: 6, den: 10, label: "0.6" };
        // 0.3 from the lower side: P̂(X ≤ 1) = 1/4 < 0.3 ≤ P̂(X ≤ 2) = 2/4 → 2 (the upper side
        // would give 1: 1 − P̂(X > 1) = 2/4). 0.6 from the upper side: 1 − P̂(X > 1) = 2/4 < 0.6 ≤
        // 1 − P̂(X > 2) = 3/4 → 2 (the lower side would give 3: P̂(X ≤ 2) = 2/4).
        assert_eq!(Weights::Likelihood(&w).quantiles(&values, [low, high]), [2, 2]);
        let equal = vec![WEIGHT_UNIT; 4];
        let levels = [low, Level { num: 5, den: 10, label: "0.5" }, high];
        assert_eq!(Weights::Likelihood(&equal).quantiles(&values, levels), Weights::Equal.quantiles(&values, levels));
    }

    #[test]
    fn weighted_means_round_once() {
        // (1 + 2) · ½ + 0 · ... : weights ½ and ½ unit on values 1 and 2 over 2 trials → 0.75 → 1.
        let w = [WEIGHT_UNIT / 2, WEIGHT_UNIT / 2];
        assert_eq!(Weights::Likelihood(&w).mean(2, |i| [1, 2][i]), 1);
        // 3 · 1 + 0 · 1 over 2 trials = 1.5 → 2 (half to even), not 1.5 → 2 → 1.
        let w = [WEIGHT_UNIT, WEIGHT_UNIT];
        assert_eq!(Weights::Likelihood(&w).mean(2, |i| [3, 0][i]), 2);
    }

    #[test]
    fn a_double_weight_counts_twice() {
        // Values 1..=4 with weights 1, 1, 1, 1 → as if 4 were drawn twice among 5 trials... the
        // mass is N·unit = 4 units, so a weight of 2 on the largest and 0 on the smallest shifts
        // one unit of mass from 1 to 4.
        let values = [1, 2, 3, 4];
        let w = [0, WEIGHT_UNIT, WEIGHT_UNIT, 2 * WEIGHT_UNIT];
        let s = Weights::Likelihood(&w).stats(&values);
        assert_eq!(s.mean, 3); // (2 + 3 + 8) / 4 = 3.25 → 3
        assert_eq!(s.quantiles[0], 3); // the 50% mass (2 units) is reached at 3
        // ES 95 of 4 units: mass 4 − ⌊3.8⌋ units = 0.2... from the top value 4.
        assert_eq!(s.es[0], 4);
        assert!((s.p_positive - 1.0).abs() < 1e-12);
    }
}
