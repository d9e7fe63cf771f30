//! `run --tail-sampling`: importance sampling of the global factor is unbiased, sharper in the
//! tail, and its reported errors match the spread of replications.

use crate::common::*;
use arstress::engine::run_trials;
use arstress::stats::MeasureStats;
use std::fmt::Write;

/// A pool of `n` buyers whose correlation runs entirely through the global factor, each with one
/// invoice due after the horizon (loss given default fixed: 10,000 × (1 − 0.4)), no late payment.
fn global_pool(dir: &std::path::Path, n: usize) -> arstress::model::Study {
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days\n");
    let mut invoices = String::from("invoice_id,buyer_id,amount,issue_date,due_date\n");
    for i in 0..n {
        let pd = [0.005, 0.01, 0.02, 0.04][i % 4];
        writeln!(buyers, "B{i:04},DE,retail,{pd},60").unwrap();
        writeln!(invoices, "I{i:04},B{i:04},10000,2026-12-15,2028-03-31").unwrap();
    }
    let scenario = "name = \"pool\"\n[credit]\nasset_correlation = 0.2\n\
         factor_weights = { global = 1.0, sector = 0.0, country = 0.0 }\n\
         recovery_insolvency = { mean = 0.4, sd = 0, lag_days = 30 }\n\
         recovery_protracted = { mean = 0.4, sd = 0, lag_days = 30 }\n[payment]\nlate_share = 0\n";
    write_invoice_study(dir, "pool", 1, 12, &buyers, &invoices, &[("scenarios/pool.toml", scenario)]);
    arstress::input::load_study(dir).unwrap()
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    (m, (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt())
}

/// Over R replications of N trials each (different seeds), with and without tail sampling:
/// - both estimate the same ES 99.5 and mean (difference within 4 combined standard errors of
///   the replication means: unbiased);
/// - tail sampling's ES 99.5 and VaR 99.5 vary much less across replications (at most 0.6× the
///   plain spread; the pool's tail is driven by the global factor alone);
/// - its reported ES 99.5 standard error matches its replication spread within `4/√(2R)` + 15%.
#[test]
fn tail_sampling_is_unbiased_and_sharper_in_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let study = global_pool(dir.path(), 300);
    let base = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let is = base.clone().with_tail_sampling(Some(arstress::plan::DEFAULT_TAIL_SHIFT));
    assert!(is.tail_sampling.is_some());
    let (reps, n) = (40u64, 4_000u64);
    let level = 2; // 99.5%
    let run = |plan: &arstress::plan::Plan, seed: u64| -> MeasureStats {
        let out = run_trials(plan, seed, 0..n, &|_| {});
        let gross: Vec<i64> = (0..out.trials).map(|i| out.row(i)[0]).collect();
        out.weighting().stats(&gross)
    };
    let (mut es, mut var, mut mean, mut se) = ([vec![], vec![]], [vec![], vec![]], [vec![], vec![]], vec![]);
    for seed in 0..reps {
        for (k, plan) in [&base, &is].into_iter().enumerate() {
            let s = run(plan, 1000 + seed);
            es[k].push(s.es[level] as f64);
            var[k].push(s.var[level] as f64);
            mean[k].push(s.mean as f64);
            if k == 1 {
                se.push(s.es_std_error[level]);
            }
        }
    }
    let r = reps as f64;
    for (name, x) in [("ES 99.5", &es), ("mean", &mean)] {
        let ((m0, s0), (m1, s1)) = (mean_sd(&x[0]), mean_sd(&x[1]));
        let z = (m1 - m0) / ((s0 * s0 + s1 * s1) / r).sqrt();
        assert!(z.abs() < 4.0, "{name}: tail sampling {m1} vs plain {m0}: {z:.2} standard errors");
    }
    let (es_plain, es_is) = (mean_sd(&es[0]).1, mean_sd(&es[1]).1);
    let (var_plain, var_is) = (mean_sd(&var[0]).1, mean_sd(&var[1]).1);
    assert!(es_is < 0.6 * es_plain, "ES 99.5 spread: tail sampling {es_is:.0} vs plain {es_plain:.0}");
    assert!(var_is < 0.6 * var_plain, "VaR 99.5 spread: tail sampling {var_is:.0} vs plain {var_plain:.0}");
    let reported = se.iter().sum::<f64>() / r;
    let ratio = reported / es_is;
    let tolerance = 4.0 / (2.0 * r).sqrt() + 0.15;
    assert!((ratio - 1.0).abs() < tolerance, "reported ES 99.5 error {reported:.0} vs spread {es_is:.0}");
}

/// From the CLI: a tail-sampled run is byte-identical on 1 and 2 threads, names its shift in the
/// manifest, and its contributions still add up exactly to the (weighted) totals.
#[test]
fn tail_sampled_reports_are_reproducible_and_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--trials", "3000", "--scenario", "baseline", "--tail-sampling"];
    let one = run_study(&example_study(), &dir.path().join("one"), &[&args[..], &["--threads", "1"]].concat());
    let two = run_study(&example_study(), &dir.path().join("two"), &[&args[..], &["--threads", "2"]].concat());
    for name in ["summary.csv", "quantiles.csv", "distribution.csv", "contributions.csv", "cashflow.csv"] {
        assert!(std::fs::read(one.join(name)).unwrap() == std::fs::read(two.join(name)).unwrap(), "{name}");
    }
    let manifest = std::fs::read_to_string(one.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"global_factor_shift\": 2.575829303548901"), "{manifest}");
    let cents = |s: &str| -> i128 { s.replace('.', "").parse().unwrap() };
    for policy in ["none", "whole-turnover-90"] {
        let measure = "net_loss";
        let rows = read_csv(&one.join("contributions.csv"));
        let (el, es) = rows
            .iter()
            .filter(|r| r["policy"] == policy && r["dimension"] == "country")
            .fold((0, 0), |(a, b), r| (a + cents(&r["expected_loss"]), b + cents(&r["es_99"])));
        assert_eq!(el, cents(&summary(&one, "baseline", policy, measure, "mean")), "{policy}");
        assert_eq!(es, cents(&summary(&one, "baseline", policy, measure, "es_99")), "{policy}");
    }
    // The weighted histogram's shares sum to the weighted mass (close to 1, not exactly).
    let shares: f64 = read_csv(&one.join("distribution.csv"))
        .iter()
        .filter(|r| r["policy"] == "none" && r["measure"] == "gross_loss")
        .map(|r| r["share"].parse::<f64>().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 0.1, "shares sum to {shares}");
}

/// Tail sampling cannot be combined with --resume, and --tail-shift needs --tail-sampling.
#[test]
fn tail_sampling_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cases: [&[&str]; 3] =
        [&["--tail-sampling", "--resume"], &["--tail-shift", "2"], &["--tail-sampling", "--tail-shift", "0"]];
    for extra in cases {
        let a = arstress().arg("run").arg(example_study()).arg("--out").arg(&out).args(extra).assert();
        let o = a.get_output();
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("tail"), "{extra:?}: {err}");
    }
}
