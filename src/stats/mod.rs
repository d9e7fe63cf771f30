//! Statistics of per-trial values (SPEC §6, §3.1.1): exact means, quantiles, VaR and ES.

use crate::money::mean_cents;

pub mod paired;
pub mod weighted;
pub use crate::money::weighted_square;
pub use paired::{PairedAmount, PairedShare, SIGNIFICANCE_Z};
pub use weighted::{Share, WEIGHT_UNIT, Weights};

/// A tail level as an exact fraction `num / den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub num: u64,
    pub den: u64,
    /// As printed in reports.
    pub label: &'static str,
}

pub const QUANTILE_LEVELS: [Level; 6] = [
    Level { num: 50, den: 100, label: "0.5" },
    Level { num: 90, den: 100, label: "0.9" },
    Level { num: 95, den: 100, label: "0.95" },
    Level { num: 99, den: 100, label: "0.99" },
    Level { num: 995, den: 1000, label: "0.995" },
    Level { num: 999, den: 1000, label: "0.999" },
];

pub const TAIL_LEVELS: [Level; 3] = [
    Level { num: 95, den: 100, label: "0.95" },
    Level { num: 99, den: 100, label: "0.99" },
    Level { num: 995, den: 1000, label: "0.995" },
];

/// `z` of a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Summary statistics of one measure over all trials (values in cents), each figure with its
/// Monte Carlo error (docs/accuracy.md).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureStats {
    pub trials: u64,
    /// Exact sum over trials.
    pub sum: i128,
    /// Mean rounded half-to-even to cents.
    pub mean: i128,
    pub std_dev: f64,
    /// Standard error of the mean: `std_dev / √N`.
    pub mean_std_error: f64,
    /// Quantiles at [`QUANTILE_LEVELS`].
    pub quantiles: [i64; 6],
    /// Distribution-free 95% confidence intervals of the quantiles (order statistics).
    pub quantile_ci: [(i64, i64); 6],
    /// VaR and ES at [`TAIL_LEVELS`].
    pub var: [i64; 3],
    pub var_ci: [(i64, i64); 3],
    pub es: [i128; 3],
    /// Asymptotic standard error of each ES (in cents).
    pub es_std_error: [f64; 3],
    /// Share of trials with a value > 0.
    pub p_positive: f64,
    pub p_positive_std_error: f64,
    /// Histogram with [`HISTOGRAM_BINS`] equal bins (see [`histogram_sorted`]).
    pub histogram: Vec<Bin>,
}

/// Number of histogram bins per measure in distribution.csv.
pub const HISTOGRAM_BINS: usize = 50;

/// One histogram bin `[from, to)` (cents) with the trials in it and the share of trials above `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    pub from: i64,
    pub to: i64,
    /// Trials drawn in the bin.
    pub trials: u64,
    /// Probability of the bin (`trials / N`, or their weight under tail sampling).
    pub share: f64,
    /// P(value ≥ to): the exceedance curve at the bin's upper edge.
    pub p_at_or_above_to: f64,
}

/// The smallest "nice" width (1, 2 or 5 × 10^k cents) of at least `w`.
pub(crate) fn nice_width(w: i64) -> i64 {
    let mut unit = 1i64;
    loop {
        for m in [1, 2, 5] {
            if let Some(width) = unit.checked_mul(m)
                && width >= w
            {
                return width;
            }
        }
        match unit.checked_mul(10) {
            Some(u) => unit = u,
            None => return i64::MAX,
        }
    }
}

/// A fixed binning of sorted values: `bins` bins of one nice width (1, 2 or 5 × 10^k cents, the
/// smallest that covers the range in `bins` bins), starting at the minimum rounded down to a
/// multiple of the width; bins are `[from, to)`. Empty leading and trailing bins are dropped, so
/// the table ends at the bin holding the maximum.
pub fn histogram_sorted(sorted: &[i64], bins: usize) -> Vec<Bin> {
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else { return Vec::new() };
    let n = sorted.len() as f64;
    let span = (max as i128 - min as i128 + 1).max(1) as u128;
    let width = nice_width(span.div_ceil(bins.max(1) as u128).min(i64::MAX as u128) as i64);
    let start = min.div_euclid(width) * width;
    let mut out = Vec::with_capacity(bins);
    let mut from = start;
    let mut below = 0usize;
    while below < sorted.len() {
        let to = from.saturating_add(width);
        let upto = sorted.partition_point(|&x| x < to);
        out.push(Bin {
            from,
            to,
            trials: (upto - below) as u64,
            share: (upto - below) as f64 / n,
            p_at_or_above_to: (sorted.len() - upto) as f64 / n,
        });
        below = upto;
        from = to;
    }
    out
}

/// The `α`-quantile of sorted values: the smallest x with at least `α·N` values ≤ x.
pub fn quantile_sorted(sorted: &[i64], level: Level) -> i64 {
    let n = sorted.len() as u128;
    if n == 0 {
        return 0;
    }
    let k = (level.num as u128 * n).div_ceil(level.den as u128).max(1) as usize;
    sorted[k - 1]
}

/// Size of the tail set: `N − ⌊α·N⌋`.
pub fn tail_size(n: usize, level: Level) -> usize {
    n - (level.num as u128 * n as u128 / level.den as u128) as usize
}

/// Distribution-free 95% confidence interval of the `α`-quantile from order statistics: the
/// number of trial values below the true quantile is Binomial(N, α), so `[X_(l), X_(u)]` with
/// `l = ⌊Nα − z√(Nα(1−α))⌋` and `u = ⌈Nα + z√(Nα(1−α))⌉ + 1` (clamped to `1..=N`) covers it with
/// probability ≈ 95% (normal approximation of the binomial), whatever the distribution.
pub fn quantile_ci_sorted(sorted: &[i64], level: Level) -> (i64, i64) {
    let n = sorted.len();
    if n == 0 {
        return (0, 0);
    }
    let a = level.num as f64 / level.den as f64;
    let centre = n as f64 * a;
    let half = Z95 * (centre * (1.0 - a)).sqrt();
    let low = ((centre - half).floor() as i64).clamp(1, n as i64) as usize;
    let high = (((centre + half).ceil() as i64) + 1).clamp(1, n as i64) as usize;
    (sorted[low - 1], sorted[high - 1])
}

/// Standard error of a quantile read off its 95% interval: `(high − low) / (2z)`.
pub fn quantile_std_error(ci: (i64, i64)) -> f64 {
    (ci.1 - ci.0) as f64 / (2.0 * Z95)
}

/// Asymptotic standard error of the ES estimator (the mean of the `k` largest of N values):
/// `√((s²_tail + α·(ES − VaR)²) / (N·(1−α)))`, with `s²_tail` the variance of the tail values
/// (Manistre and Hancock 2005; Yamai and Yoshiba 2002). The second term is the error of the
/// tail's threshold; it vanishes for a continuous tail with `ES = VaR`.
pub fn es_std_error_sorted(sorted: &[i64], level: Level) -> f64 {
    let n = sorted.len();
    let k = tail_size(n, level);
    if k < 2 {
        return 0.0;
    }
    let tail = &sorted[n - k..];
    let mean = tail.iter().map(|&x| x as f64).sum::<f64>() / k as f64;
    let var_tail = tail.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
    let a = level.num as f64 / level.den as f64;
    let gap = mean - quantile_sorted(sorted, level) as f64;
    ((var_tail + a * gap * gap) / (n as f64 * (1.0 - a))).sqrt()
}

/// Standard error of a mean of N per-trial terms from their centred sum of squares
/// `Σ (y − ȳ)²`: `√(Σ (y − ȳ)² / ((N − 1)·N))`, the sample standard deviation (divisor N − 1) over
/// √N. The `mean_std_error` of summary.csv under tail sampling (terms `w·x`) and of the paired
/// differences; the plain one (`std_dev / √N`) is the same figure.
pub fn mean_std_error_of(centred: f64, n: usize) -> f64 {
    if n < 2 {
        return 0.0;
    }
    (centred.max(0.0) / ((n - 1) as f64 * n as f64)).sqrt()
}

/// `Σ y² − (Σ y)² / C` for terms `y` given as exact integer sums: `sum_sq = Σ y²` (as
/// [`weighted_square`] gives them), `sum = unit · Σ y` and `count = unit · C`. Computed as
/// `sum_sq − q²·count/unit − (2qr + r²/count)/unit` with `sum = q·count + r`, so the large part
/// cancels in integers: equal terms give exactly 0 (no f64 cancellation of two huge sums).
pub fn centred_squares_of_sums(sum: i128, sum_sq: i128, count: i128, unit: u64) -> f64 {
    if count <= 0 {
        return 0.0;
    }
    let (q, r) = (sum.div_euclid(count), sum.rem_euclid(count));
    let u = unit as f64;
    let big = q.checked_mul(q).and_then(|q2| q2.checked_mul(count));
    let whole = match big {
        Some(b) if unit == 1 => sum_sq.checked_sub(b).map_or(sum_sq as f64 - b as f64, |d| d as f64),
        Some(b) => sum_sq as f64 - b as f64 / u,
        None => sum_sq as f64 - (q as f64).powi(2) * count as f64 / u,
    };
    whole - (2.0 * q as f64 * r as f64 + (r as f64).powi(2) / count as f64) / u
}

/// Asymptotic standard error of a tail mean from its per-trial terms `z_i = w_i·(x_i − v)` on the
/// tail trials (0 elsewhere), given `Σ z` and `Σ z²` over all N trials:
/// `sd(z) / (√N·(1 − α))` with the population standard deviation — the weighted ES error of
/// summary.csv, and with `x` a part of the loss and `v` its mean at the VaR the error of an ES
/// contribution (docs/model.md, "Standard errors of contributions").
pub fn tail_term_std_error(n: usize, level: Level, sum: f64, sum_sq: f64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let a = level.num as f64 / level.den as f64;
    let m = sum / n as f64;
    let sd = (sum_sq / n as f64 - m * m).max(0.0).sqrt();
    sd / ((n as f64).sqrt() * (1.0 - a))
}

/// Binomial standard error of a share `p` over `n` trials.
pub fn share_std_error(p: f64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { (p * (1.0 - p) / n as f64).sqrt() }
}

/// ES: mean of the `N − ⌊α·N⌋` largest values, rounded half-to-even to cents.
pub fn expected_shortfall_sorted(sorted: &[i64], level: Level) -> i128 {
    let k = tail_size(sorted.len(), level);
    if k == 0 {
        return 0;
    }
    let sum: i128 = sorted[sorted.len() - k..].iter().map(|&x| x as i128).sum();
    mean_cents(sum, k as u64)
}

impl MeasureStats {
    /// Computes every statistic exactly from the trial values (in trial order).
    pub fn from_values(values: &[i64]) -> Self {
        let n = values.len();
        let sum: i128 = values.iter().map(|&x| x as i128).sum();
        let mean_f = if n == 0 { 0.0 } else { sum as f64 / n as f64 };
        let ss: f64 = values.iter().map(|&x| (x as f64 - mean_f).powi(2)).sum();
        let std_dev = if n > 1 { (ss / (n - 1) as f64).sqrt() } else { 0.0 };
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let p_positive = if n == 0 { 0.0 } else { values.iter().filter(|&&x| x > 0).count() as f64 / n as f64 };
        MeasureStats {
            trials: n as u64,
            sum,
            mean: mean_cents(sum, n as u64),
            std_dev,
            mean_std_error: if n > 0 { std_dev / (n as f64).sqrt() } else { 0.0 },
            quantiles: QUANTILE_LEVELS.map(|l| quantile_sorted(&sorted, l)),
            quantile_ci: QUANTILE_LEVELS.map(|l| quantile_ci_sorted(&sorted, l)),
            var: TAIL_LEVELS.map(|l| quantile_sorted(&sorted, l)),
            var_ci: TAIL_LEVELS.map(|l| quantile_ci_sorted(&sorted, l)),
            es: TAIL_LEVELS.map(|l| expected_shortfall_sorted(&sorted, l)),
            es_std_error: TAIL_LEVELS.map(|l| es_std_error_sorted(&sorted, l)),
            p_positive,
            p_positive_std_error: share_std_error(p_positive, n as u64),
            histogram: histogram_sorted(&sorted, HISTOGRAM_BINS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_and_es_follow_the_spec_conventions() {
        // 200 values 1..=200: VaR 99 is the 198th value, ES 99 the mean of the 2 largest.
        let v: Vec<i64> = (1..=200).rev().collect();
        let s = MeasureStats::from_values(&v);
        assert_eq!(s.var[1], 198);
        assert_eq!(s.es[1], 200); // (199 + 200) / 2 = 199.5 -> 200 (half to even)
        assert_eq!(s.quantiles[0], 100);
        assert_eq!(s.mean, 100); // 100.5 -> 100
        assert_eq!(tail_size(1000, TAIL_LEVELS[2]), 5);
    }

    #[test]
    fn centred_squares_from_integer_sums() {
        // Equal large values cancel exactly: no f64 residue of two sums near 10³⁸.
        let x = 3_000_000_000_007i128;
        assert_eq!(centred_squares_of_sums(1000 * x, 1000 * x * x, 1000, 1), 0.0);
        // Against the two-pass formula, plain and weighted (each weight half a unit: terms x/2).
        let v: Vec<i64> = (0..500).map(|i| (i * 7919 % 1013) * 1_000 - 40_000).collect();
        let n = v.len() as f64;
        let two_pass = |y: &[f64]| {
            let m = y.iter().sum::<f64>() / n;
            y.iter().map(|t| (t - m).powi(2)).sum::<f64>()
        };
        let plain: Vec<f64> = v.iter().map(|&x| x as f64).collect();
        let (sum, sq) = (v.iter().map(|&x| x as i128).sum(), v.iter().map(|&x| weighted_square(x as i128, 1)).sum());
        assert!((centred_squares_of_sums(sum, sq, 500, 1) / two_pass(&plain) - 1.0).abs() < 1e-12);
        let u = WEIGHT_UNIT;
        let half: Vec<f64> = v.iter().map(|&x| x as f64 / 2.0).collect();
        let terms: Vec<i128> = v.iter().map(|&x| x as i128 * (u / 2) as i128).collect();
        let (sum, sq) = (terms.iter().sum(), terms.iter().map(|&t| weighted_square(t, u)).sum());
        let got = centred_squares_of_sums(sum, sq, 500 * u as i128, u);
        assert!((got / two_pass(&half) - 1.0).abs() < 1e-9, "{got} vs {}", two_pass(&half));
        assert!((mean_std_error_of(got, 500) - MeasureStats::from_values(&v).mean_std_error / 2.0).abs() < 1e-6);
    }

    #[test]
    fn histogram_bins_are_nice_cover_every_value_and_end_at_the_maximum() {
        // Values 0..=999 cents: span 1000 over 50 bins → width 20, 50 bins from 0.
        let v: Vec<i64> = (0..1000).collect();
        let h = histogram_sorted(&v, 50);
        assert_eq!(h.len(), 50);
        assert_eq!((h[0].from, h[0].to, h[0].trials), (0, 20, 20));
        assert_eq!(h.iter().map(|b| b.trials).sum::<u64>(), 1000);
        assert_eq!(h[49].p_at_or_above_to, 0.0);
        assert!((h[24].p_at_or_above_to - 0.5).abs() < 1e-12);
        // A range of 1,235 cents → at least 24.7 per bin → the nice width 50, from −50.
        let v = [-37, 0, 1197];
        let h = histogram_sorted(&v, 50);
        assert_eq!((h[0].from, h[0].to), (-50, 0));
        assert_eq!(h.last().unwrap().to, 1200);
        // One value: a single bin of width 1.
        assert_eq!(
            histogram_sorted(&[7, 7], 50),
            vec![Bin { from: 7, to: 8, trials: 2, share: 1.0, p_at_or_above_to: 0.0 }]
        );
    }
}
