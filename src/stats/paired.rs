//! Paired differences: two alternatives simulated on the same trials (common random numbers).
//!
//! Every alternative of a scenario ("none" and each policy) is evaluated on the same trials, so
//! the error of a difference between two of them comes from the per-trial differences, not from
//! each figure's own error: `sd(a_i − b_i) / √N` is far smaller than `√(se_a² + se_b²)` when `a`
//! and `b` move together. Each function here takes the per-trial terms of both alternatives and
//! returns the standard error of the difference of the two estimators (docs/reports.md,
//! `policy_comparison.csv`). Under tail sampling every term is weighted by the trial's likelihood
//! ratio, as in [`super::weighted`]. Sums run in trial order, so the errors are byte-identical for
//! any thread count and shard split.

use super::{Level, Weights};

/// A difference is called significant when `|difference| > SIGNIFICANCE_Z × std_error`: about a
/// 5% false-alarm rate for one comparison. Over many comparisons some will pass by chance (see
/// `compare`'s Bonferroni rule in docs/reports.md#comparisoncsv for a family-wise threshold).
pub const SIGNIFICANCE_Z: f64 = 2.0;

/// A difference of two amounts (in cents) with the standard error of the paired difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedAmount {
    /// The difference in cents (of the figures as reported, each rounded to the cent).
    pub diff: i128,
    /// Standard error of the difference, in cents, from the per-trial differences.
    pub std_error: f64,
}

/// A difference of two probabilities with the standard error of the paired difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedShare {
    pub diff: f64,
    pub std_error: f64,
}

/// `|diff| > SIGNIFICANCE_Z × se` (an exact nonzero difference with a zero error is significant).
fn significant(diff: f64, se: f64) -> bool {
    diff.abs() > SIGNIFICANCE_Z * se
}

impl PairedAmount {
    /// `|diff| > 2 · std_error` ([`SIGNIFICANCE_Z`]).
    pub fn significant(&self) -> bool {
        significant(self.diff as f64, self.std_error)
    }
}

impl PairedShare {
    /// `|diff| > 2 · std_error` ([`SIGNIFICANCE_Z`]).
    pub fn significant(&self) -> bool {
        significant(self.diff, self.std_error)
    }
}

/// The per-trial terms `y_i = w_i · t_i` (weights in units, 1 without tail sampling).
fn weighted_terms<'a>(w: &'a Weights<'a>, n: usize, t: impl Fn(usize) -> f64 + 'a) -> impl Iterator<Item = f64> + 'a {
    let u = w.unit() as f64;
    (0..n).map(move |i| w.weight(i) as f64 / u * t(i))
}

/// `Σ (y − ȳ)²` and `ȳ` of the terms, in trial order (two passes).
fn centred_squares(w: &Weights<'_>, n: usize, t: &dyn Fn(usize) -> f64) -> (f64, f64) {
    let mean = weighted_terms(w, n, t).sum::<f64>() / n as f64;
    (weighted_terms(w, n, t).map(|y| (y - mean).powi(2)).sum(), mean)
}

/// Standard error of the difference of two means from the per-trial difference `d(i) = a_i − b_i`
/// (cents): `sd(w·d) / √N` with the sample standard deviation (divisor N − 1), the formula of
/// `mean_std_error` in summary.csv (plain and weighted alike).
pub fn mean_diff_std_error(w: Weights<'_>, n: usize, d: impl Fn(usize) -> i64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let (ss, _) = centred_squares(&w, n, &|i| d(i) as f64);
    super::mean_std_error_of(ss, n)
}

/// Standard error of the difference of two shares from the per-trial indicators: the population
/// standard deviation of `w·(1_a − 1_b)` over √N, the binomial error of `p_positive` when `b`
/// never happens.
pub fn share_diff_std_error(w: Weights<'_>, n: usize, a: impl Fn(usize) -> bool, b: impl Fn(usize) -> bool) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let ind = |x: bool| if x { 1.0 } else { 0.0 };
    let (ss, _) = centred_squares(&w, n, &|i| ind(a(i)) - ind(b(i)));
    (ss / n as f64 / n as f64).sqrt()
}

/// Standard error of `ES_α(a) − ES_α(b)` from the influence function of the ES estimator applied
/// to each trial: `IF_i = VaR + (x_i − VaR)⁺ / (1 − α) − ES`, so the difference of the two
/// estimators is, to first order, the mean of `w_i · ((a_i − VaR_a)⁺ − (b_i − VaR_b)⁺) / (1 − α)`
/// and its error the population standard deviation of those terms over √N. With `b` constant this
/// is the ES error of summary.csv (the weighted formula exactly; the plain one up to its `k − 1`
/// divisor of the tail variance). `var_a`, `var_b` are the VaRs as reported.
pub fn es_diff_std_error(w: Weights<'_>, level: Level, a: &[i64], var_a: i64, b: &[i64], var_b: i64) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.0;
    }
    let alpha = level.num as f64 / level.den as f64;
    let excess = |x: i64, var: i64| (x as f64 - var as f64).max(0.0);
    let (ss, _) = centred_squares(&w, n, &|i| (excess(a[i], var_a) - excess(b[i], var_b)) / (1.0 - alpha));
    (ss / n as f64 / n as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{MeasureStats, TAIL_LEVELS};

    /// Deterministic pseudo-random values (a linear congruential sequence), heavy-ish tail.
    fn values(n: usize, seed: u64) -> Vec<i64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                (1e6 * (-(1.0 - u).ln()).powi(2)) as i64
            })
            .collect()
    }

    #[test]
    fn against_a_constant_the_paired_errors_are_the_figures_own_errors() {
        let a = values(20_000, 7);
        let zero = vec![0i64; a.len()];
        let s = MeasureStats::from_values(&a);
        let n = a.len();
        let mean_se = mean_diff_std_error(Weights::Equal, n, |i| a[i]);
        assert!((mean_se / s.mean_std_error - 1.0).abs() < 1e-9, "{mean_se} vs {}", s.mean_std_error);
        let es_se = es_diff_std_error(Weights::Equal, TAIL_LEVELS[1], &a, s.var[1], &zero, 0);
        // The plain ES formula divides the tail variance by k − 1 = 199 instead of k: ~0.25%.
        assert!((es_se / s.es_std_error[1] - 1.0).abs() < 0.01, "{es_se} vs {}", s.es_std_error[1]);
        let p_se = share_diff_std_error(Weights::Equal, n, |i| a[i] > 1_000_000, |_| false);
        let p = a.iter().filter(|&&x| x > 1_000_000).count() as f64 / n as f64;
        assert!((p_se / (p * (1.0 - p) / n as f64).sqrt() - 1.0).abs() < 1e-9);
        // Weighted with unit weights: the weighted ES error exactly.
        let w = vec![crate::stats::WEIGHT_UNIT; n];
        let ws = Weights::Likelihood(&w).stats(&a);
        let es_w = es_diff_std_error(Weights::Likelihood(&w), TAIL_LEVELS[1], &a, ws.var[1], &zero, 0);
        assert!((es_w / ws.es_std_error[1] - 1.0).abs() < 1e-9, "{es_w} vs {}", ws.es_std_error[1]);
    }

    #[test]
    fn a_shifted_copy_has_no_paired_error_and_identical_values_are_not_significant() {
        let a = values(5_000, 11);
        let b: Vec<i64> = a.iter().map(|x| x + 12_345).collect();
        let n = a.len();
        assert_eq!(mean_diff_std_error(Weights::Equal, n, |i| b[i] - a[i]), 0.0);
        let (sa, sb) = (MeasureStats::from_values(&a), MeasureStats::from_values(&b));
        assert!(es_diff_std_error(Weights::Equal, TAIL_LEVELS[1], &b, sb.var[1], &a, sa.var[1]) < 1e-6);
        let d = PairedAmount { diff: sb.es[1] - sa.es[1], std_error: 0.0 };
        assert!(d.significant());
        assert!(!PairedAmount { diff: 0, std_error: 0.0 }.significant());
        assert!(!PairedShare { diff: 0.01, std_error: 0.005 }.significant());
        assert!(PairedShare { diff: -0.0101, std_error: 0.005 }.significant());
    }
}
