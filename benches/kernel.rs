//! Micro-benchmarks of the simulation kernel and its building blocks.
//!
//! - `kernel/<buyers>`: one `run_trial` of the baseline plan of a generated study, over
//!   successive trial indices.
//! - `floor/<buyers>`: one 32-bit Philox word per buyer per trial, addressed as the kernel's
//!   lateness draw (four buyers a block): the cost of the naive "one draw per buyer" loop.
//! - `samplers/*`: single draws of `StandardNormal`, `Beta(2, 10)` (recoveries), days late,
//!   country-event durations, the tail-sampled global factor and the t copula's scale, and single
//!   calls of `normal::cdf` and `normal::quantile`.
//! - `stats/from_values/100000`: `MeasureStats::from_values` on 100,000 values.
//! - `philox/block`: one Philox4x32-10 block (two 64-bit words), `philox/block_x8` eight at once
//!   (SIMD lanes, throughput per word), against `philox/xoshiro_two_words`.
//!
//! Run all with `cargo bench --bench kernel`, or filter, e.g. `cargo bench --bench kernel -- floor`.

use arstress::commands::generate::{GenerateOptions, generate};
use arstress::engine::rng::{Purpose, TrialKey, trial_rng};
use arstress::engine::{Scratch, run_trial};
use arstress::input::load_study;
use arstress::normal;
use arstress::plan::{DEFAULT_TAIL_SHIFT, DelayTable, EVENT_DURATION_SIGMA, Plan, TCopula, TailSampling, compile};

use arstress::stats::MeasureStats;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, RngExt};
use rand_distr::{Beta, Distribution, StandardNormal};
use std::hint::black_box;
use std::time::Duration;

const SEED: u64 = 1;
const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// Generates a study of `buyers` buyers into a temporary folder and compiles its baseline plan.
fn baseline_plan(buyers: usize) -> Plan {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), &GenerateOptions { buyers, seed: SEED, trials: 100_000, with_invoices: false })
        .expect("generate study");
    let study = load_study(dir.path()).expect("load study");
    let scenario = study.scenarios.iter().find(|s| s.name == "baseline").unwrap_or(&study.scenarios[0]);
    compile(&study, scenario).expect("compile baseline")
}

/// Sample size and measurement time by study size, so the whole file runs in a few minutes.
fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, buyers: usize) {
    let (samples, secs) = if buyers <= 1_000 {
        (30, 3)
    } else if buyers <= 10_000 {
        (20, 4)
    } else {
        (10, 6)
    };
    group.sample_size(samples).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(secs));
}

fn kernel_and_floor(c: &mut Criterion) {
    for buyers in SIZES {
        let full = baseline_plan(buyers);
        let n_buyers = full.n_buyers;
        // The credit model alone: no late payment, no cash path.
        let mut credit = full.clone();
        credit.lateness = None;
        credit.cash = None;

        for (name, plan) in [("kernel_credit", &credit), ("kernel_full", &full)] {
            let mut group = c.benchmark_group(name);
            configure(&mut group, buyers);
            group.throughput(Throughput::Elements(1));
            group.bench_function(BenchmarkId::from_parameter(buyers), |b| {
                let mut scratch = Scratch::new(plan);
                let mut row = vec![0i64; plan.row_width()];
                let mut trial = 0u64;
                b.iter(|| {
                    run_trial(plan, &TrialKey::new(SEED, trial), &mut scratch, &mut row);
                    trial += 1;
                    black_box(&row);
                });
            });
            group.finish();
        }

        let mut group = c.benchmark_group("floor");
        configure(&mut group, buyers);
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::from_parameter(buyers), |b| {
            let mut trial = 0u64;
            b.iter(|| {
                let key = TrialKey::new(SEED, trial);
                let mut sum = 0u64;
                for quad in 0..n_buyers.div_ceil(4) {
                    let w = key.lanes(Purpose::Late, quad as u32);
                    sum += u64::from(w[0]) + u64::from(w[1]) + u64::from(w[2]) + u64::from(w[3]);
                }
                trial += 1;
                black_box(sum)
            });
        });
        group.finish();
    }
}

/// Philox4x32-10 (issue 21): one block (two 64-bit words) at successive counters, and the same
/// count of words from the sequential generator, per call.
fn philox(c: &mut Criterion) {
    let mut group = c.benchmark_group("philox");
    group.sample_size(50).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(2));
    group.bench_function("block", |b| {
        let mut counter = 0u64;
        b.iter(|| {
            counter += 1;
            black_box(arstress::engine::rng::philox::block(black_box(counter), 7, SEED))
        });
    });
    // Eight blocks at once (the dense lateness draw: 32 buyers), counted per block.
    group.throughput(Throughput::Elements(8 * 2));
    group.bench_function("block_x8", |b| {
        let mut trial = 0u64;
        b.iter(|| {
            trial += 1;
            black_box(TrialKey::new(SEED, black_box(trial)).lanes_x8(Purpose::Late, 7))
        });
    });
    group.throughput(Throughput::Elements(2));
    group.bench_function("xoshiro_two_words", |b| {
        let mut rng = trial_rng(SEED, 0);
        b.iter(|| black_box([rng.next_u64(), rng.next_u64()]));
    });
    group.finish();
}

fn samplers(c: &mut Criterion) {
    let mut group = c.benchmark_group("samplers");
    group.sample_size(50).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(1));

    let mut rng = trial_rng(SEED, 0);
    group.bench_function("StandardNormal", |b| {
        b.iter(|| {
            let z: f64 = StandardNormal.sample(&mut rng);
            black_box(z)
        })
    });

    let beta = Beta::new(2.0, 10.0).expect("Beta(2, 10)");
    let mut rng = trial_rng(SEED, 1);
    group.bench_function("Beta(2,10)", |b| b.iter(|| black_box(beta.sample(&mut rng))));

    // Arguments cycle through a fixed table so the calls are not constant-folded and cover the
    // ranges the kernel uses (z mostly in the lower tail; p across (0, 1)).
    let mut rng = trial_rng(SEED, 2);
    let zs: Vec<f64> = (0..1024).map(|_| -4.0 + 6.0 * rng.random::<f64>()).collect();
    let ps: Vec<f64> = (0..1024).map(|_| rng.random::<f64>().clamp(1e-12, 1.0 - 1e-12)).collect();
    let mut i = 0usize;
    group.bench_function("normal::cdf", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            normal::cdf(black_box(zs[i]))
        })
    });
    let mut i = 0usize;
    group.bench_function("normal::quantile", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            normal::quantile(black_box(ps[i]))
        })
    });
    // Days late: the lognormal delay by its inverse-CDF table (median 20, p90 60 days).
    let delays = DelayTable::new(20.0, (60.0f64 / 20.0).ln() / 1.281_551_565_545, 5_000);
    let mut rng = trial_rng(SEED, 4);
    group.bench_function("days_late", |b| b.iter(|| black_box(delays.sample(rng.random::<f64>()))));
    // Country event duration: lognormal around a median of 180 days, whole days.
    let mut rng = trial_rng(SEED, 5);
    group.bench_function("event_duration", |b| {
        b.iter(|| {
            let eta: f64 = rng.sample(StandardNormal);
            black_box((180.0 * (EVENT_DURATION_SIGMA * eta).exp()).round_ties_even().clamp(1.0, 36_500.0) as i32)
        })
    });
    // The global factor under --tail-sampling, with its likelihood ratio.
    let is = TailSampling { shift: DEFAULT_TAIL_SHIFT };
    let mut rng = trial_rng(SEED, 6);
    group.bench_function("tail_sampling_draw", |b| b.iter(|| black_box(is.draw(&mut rng))));
    // The t copula's per-trial scale √(W/ν), ν = 5.
    let t = TCopula::new(5.0).expect("t copula");
    let mut rng = trial_rng(SEED, 7);
    group.bench_function("t_copula_scale", |b| b.iter(|| black_box(t.draw_scale(&mut rng))));
    group.finish();
}

fn stats(c: &mut Criterion) {
    const N: usize = 100_000;
    // Loss-like values: most trials zero, the rest spread over up to ~10^12 cents.
    let mut rng = trial_rng(SEED, 3);
    let values: Vec<i64> = (0..N)
        .map(|_| {
            let u = rng.next_u64();
            if u & 3 == 0 { 0 } else { (u >> 24) as i64 }
        })
        .collect();
    let mut group = c.benchmark_group("stats");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(N as u64));
    group.bench_with_input(BenchmarkId::new("from_values", N), &values, |b, v| {
        b.iter(|| MeasureStats::from_values(black_box(v)))
    });
    group.finish();
}

criterion_group!(benches, kernel_and_floor, philox, samplers, stats);
criterion_main!(benches);
