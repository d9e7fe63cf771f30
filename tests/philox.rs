//! A statistical battery for Philox4x32-10 (issue 21 §1) as the kernel uses it: draws addressed
//! through [`TrialKey`] by (seed, trial, purpose, entity, index), both the sequential streams
//! (a default's details, a delay) and the dense 32-bit lanes (lateness, four buyers a block). Uniformity (Kolmogorov–Smirnov and chi-square on 2²⁰ draws) and
//! independence across adjacent trials, buyers and purposes (correlation and a serial pair test).
//! Bounds are at about 1 in 10,000 for each statistic, with fixed inputs, so the tests never flake.

use arstress::engine::rng::{Purpose, TrialKey};

const N: usize = 1 << 20;
const SEED: u64 = 0x5EED_2027;

/// Purposes in the order the battery steps through them.
const PURPOSES: [Purpose; 4] = [Purpose::DefaultDetail, Purpose::Delay, Purpose::CutOfDefault, Purpose::Defaults];

/// Draw `index` of the stream of `purpose` for `buyer` in `trial`, as a uniform in [0, 1).
fn draw(trial: u64, buyer: u32, purpose: usize, index: usize) -> f64 {
    let mut s = TrialKey::new(SEED, trial).stream(PURPOSES[purpose], buyer);
    for _ in 0..index {
        s.unit();
    }
    s.unit()
}

/// Buyer `b`'s dense 32-bit lateness word in `trial`, as a uniform in [0, 1).
fn lane(seed: u64, trial: u64, b: u32) -> f64 {
    f64::from(TrialKey::new(seed, trial).lanes(Purpose::Late, b / 4)[b as usize % 4]) / 4_294_967_296.0
}

/// The KS distance of a sample from U[0, 1).
fn ks(mut u: Vec<f64>) -> f64 {
    u.sort_by(f64::total_cmp);
    let n = u.len() as f64;
    u.iter().enumerate().map(|(i, &x)| (x - i as f64 / n).abs().max(((i + 1) as f64 / n - x).abs())).fold(0.0, f64::max)
}

fn chi_square(u: &[f64], bins: usize) -> f64 {
    let mut count = vec![0u64; bins];
    for &x in u {
        count[(x * bins as f64) as usize] += 1;
    }
    let expected = u.len() as f64 / bins as f64;
    count.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum()
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f64>() / n;
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum::<f64>() / n;
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum::<f64>() / n;
    cov / (va * vb).sqrt()
}

/// 2²⁰ draws along trials, buyers and purposes are uniform: KS distance below 1.95/√N (the 0.1 %
/// critical value), chi-square on 1,024 bins within 1023 ± 4 standard deviations (√2046).
#[test]
fn draws_are_uniform() {
    let samples: [Vec<f64>; 5] = [
        (0..N).map(|t| draw(t as u64, 7, 1, 0)).collect(),
        (0..N).map(|b| draw(3, b as u32, 1, 0)).collect(),
        // Along a stream: 2^18 entities x 4 purposes, 0..4 draws in.
        (0..N).map(|i| draw(3, (i >> 4) as u32, (i >> 2) % 4, i % 4)).collect(),
        (0..N).map(|b| lane(SEED, 3, b as u32)).collect(),
        (0..N).map(|t| lane(SEED, t as u64, 5)).collect(),
    ];
    let bound = 1.95 / (N as f64).sqrt();
    for (axis, u) in
        ["trials", "buyers", "purposes and indices", "lanes across buyers", "lanes across trials"].iter().zip(samples)
    {
        let chi = chi_square(&u, 1024);
        assert!((chi - 1023.0).abs() < 4.0 * 2046f64.sqrt(), "{axis}: chi-square {chi}");
        let d = ks(u);
        assert!(d < bound, "{axis}: KS distance {d} above {bound}");
    }
}

/// Neighbours are independent: the correlation of the draws of adjacent trials, buyers, purposes
/// and seeds is within 4/√N of 0, and the pairs of adjacent trials fill a 32 × 32 grid evenly
/// (chi-square within 1023 ± 4 standard deviations).
#[test]
fn neighbouring_draws_are_independent() {
    let base: Vec<f64> = (0..N).map(|i| draw(i as u64, (i % 977) as u32, 2, 0)).collect();
    let next_trial: Vec<f64> = (0..N).map(|i| draw(i as u64 + 1, (i % 977) as u32, 2, 0)).collect();
    let next_buyer: Vec<f64> = (0..N).map(|i| draw(i as u64, (i % 977) as u32 + 1, 2, 0)).collect();
    let next_purpose: Vec<f64> = (0..N).map(|i| draw(i as u64, (i % 977) as u32, 3, 0)).collect();
    let next_index: Vec<f64> = (0..N).map(|i| draw(i as u64, (i % 977) as u32, 2, 1)).collect();
    let other_seed: Vec<f64> =
        (0..N).map(|i| TrialKey::new(SEED + 1, i as u64).stream(PURPOSES[2], (i % 977) as u32).unit()).collect();
    let lanes: Vec<f64> = (0..N).map(|i| lane(SEED, (i / 977) as u64, (i % 977) as u32)).collect();
    let next_lane: Vec<f64> = (0..N).map(|i| lane(SEED, (i / 977) as u64, (i % 977) as u32 + 1)).collect();
    let lanes_next_trial: Vec<f64> = (0..N).map(|i| lane(SEED, (i / 977) as u64 + 1, (i % 977) as u32)).collect();
    let bound = 4.0 / (N as f64).sqrt();
    for (what, a, b) in [
        ("trial", &base, &next_trial),
        ("buyer", &base, &next_buyer),
        ("purpose", &base, &next_purpose),
        ("index", &base, &next_index),
        ("seed", &base, &other_seed),
        ("lane (buyer)", &lanes, &next_lane),
        ("lane trial", &lanes, &lanes_next_trial),
    ] {
        let r = correlation(a, b);
        assert!(r.abs() < bound, "adjacent {what}s: correlation {r}");
    }
    let cells: Vec<f64> = base
        .iter()
        .zip(&next_trial)
        .map(|(&a, &b)| ((a * 32.0).floor() * 32.0 + (b * 32.0).floor() + 0.5) / 1024.0)
        .collect();
    let chi = chi_square(&cells, 1024);
    assert!((chi - 1023.0).abs() < 4.0 * 2046f64.sqrt(), "serial pairs: chi-square {chi}");
}
