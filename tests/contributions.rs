//! Risk contributions (SPEC §6): the tail replay equals a brute-force computation that keeps every
//! trial's per-buyer losses, and contributions.csv adds up exactly to the reported totals.

use crate::common::*;
use arstress::engine::net_loss as row_loss;
use arstress::engine::{FIXED_COLUMNS, Scratch, run_trial, run_trials};
use arstress::run::contributions::{CONTRIBUTION_LEVEL, contributions};

use arstress::stats::tail_size;
use std::collections::BTreeMap;

/// Keeps every trial's per-buyer losses of each alternative ("none", then each policy), checks they
/// add up to the trial's outcome row, then forms expected-loss and tail sums by a full sort.
#[test]
fn tail_replay_equals_brute_force_per_buyer_losses() {
    let study = arstress::input::load_study(&example_study()).unwrap();
    for name in ["insurer-retreat", "country-crisis"] {
        let scenario = study.scenarios.iter().find(|s| s.name == name).unwrap();
        let plan = arstress::plan::compile(&study, scenario).unwrap();
        let (n, buyers, alts) = (2_000usize, plan.n_buyers, 1 + plan.n_policies());
        let seed = 11;
        // losses[q][t * buyers + b]
        let mut losses = vec![vec![0i64; n * buyers]; alts];
        let mut rows = Vec::with_capacity(n);
        let mut scratch = Scratch::new(&plan);
        for t in 0..n {
            let mut row = vec![0i64; plan.row_width()];
            run_trial(&plan, &arstress::engine::rng::TrialKey::new(seed, t as u64), &mut scratch, &mut row);
            for e in scratch.events() {
                for l in losses.iter_mut() {
                    l[t * buyers + e.buyer as usize] += e.unpaid - e.recovery;
                }
            }
            for c in scratch.claim_log() {
                losses[1 + c.policy as usize][t * buyers + c.buyer as usize] -= c.ceded;
            }
            for (q, l) in losses.iter().enumerate() {
                let total: i64 = l[t * buyers..(t + 1) * buyers].iter().sum();
                assert_eq!(total, row_loss(&row, q), "{name}: trial {t}, alternative {q}");
            }
            rows.push(row);
        }
        assert!(rows.iter().any(|r| r[FIXED_COLUMNS] > 0), "{name}: some claims are paid");
        let got = contributions(&plan, seed, &run_trials(&plan, seed, 0..n as u64, &|_| {})).unwrap();
        let k = tail_size(n, CONTRIBUTION_LEVEL);
        for (q, l) in losses.iter().enumerate() {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&t| (std::cmp::Reverse(row_loss(&rows[t], q)), t));
            let tail = &order[..k];
            for b in 0..buyers {
                let expected: i128 = (0..n).map(|t| l[t * buyers + b] as i128).sum();
                let in_tail: i128 = tail.iter().map(|&t| l[t * buyers + b] as i128).sum();
                let alt = &got.alternatives[q];
                assert_eq!(alt.expected_sum[b], expected, "{name}: EL of buyer {b}, alternative {q}");
                assert_eq!(alt.tail_sum[b], in_tail, "{name}: ES 99 of buyer {b}, alternative {q}");
            }
            assert_eq!(got.alternatives[q].tail_divisor as usize, k);
        }
    }
}

/// Every dimension's contributions add up to the expected loss and ES 99 of summary.csv, to the
/// cent; the buyer rows carry the buyers' names; the sector rows equal the sums of their buyers'
/// unrounded contributions within a cent per buyer.
#[test]
fn contributions_csv_adds_up_to_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_study(&example_study(), &dir.path().join("out"), &["--trials", "3000", "--scenario", "baseline"]);
    let rows = read_csv(&out.join("contributions.csv"));
    let mut sums: BTreeMap<(String, String, String), (i128, i128)> = BTreeMap::new();
    for r in &rows {
        let e = sums.entry((r["policy"].clone(), r["measure"].clone(), r["dimension"].clone())).or_default();
        e.0 += cents(&r["expected_loss"]);
        e.1 += cents(&r["es_99"]);
        if r["dimension"] == "buyer" {
            assert!(!r["name"].is_empty(), "buyer rows are named");
        }
    }
    let policies = ["none", "whole-turnover-90", "excess-of-loss", "whole-turnover-95"];
    assert_eq!(sums.len(), policies.len() * 4, "one gross block, one net block per policy, four dimensions each");
    for ((policy, measure, dimension), (el, es)) in &sums {
        assert_eq!(measure, "net_loss", "every block is a net loss (none: credit loss and write-off)");
        let want_el = cents(&summary(&out, "baseline", policy, measure, "mean"));
        let want_es = cents(&summary(&out, "baseline", policy, measure, "es_99"));
        assert_eq!((*el, *es), (want_el, want_es), "{policy} {measure} by {dimension}");
    }
    // The policy takes part of the tail off: net ES 99 contributions are smaller in total.
    let (gross_es, net_es) = (
        sums[&("none".into(), "net_loss".into(), "buyer".into())].1,
        sums[&("whole-turnover-90".into(), "net_loss".into(), "buyer".into())].1,
    );
    assert!(net_es < gross_es, "net {net_es} vs gross {gross_es}");
}

/// Writes a one-scenario study of `buyers.csv` rows (`buyer_id,country,sector,pd_1y,terms_days`),
/// one open invoice per buyer of `amount(i)` due after the horizon, insolvencies only with the
/// given recovery, no lateness, no policies; returns the plan of its scenario.
fn pool(dir: &std::path::Path, pds: &[f64], amount: impl Fn(usize) -> u64, recovery: &str) -> arstress::plan::Plan {
    use std::fmt::Write;
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days\n");
    let mut invoices = String::from("invoice_id,buyer_id,amount,issue_date,due_date\n");
    for (i, pd) in pds.iter().enumerate() {
        let sector = if i % 2 == 0 { "retail" } else { "steel" };
        writeln!(buyers, "B{i:04},DE,{sector},{pd},30").unwrap();
        writeln!(invoices, "I{i:04},B{i:04},{},2026-12-15,2028-03-31", amount(i)).unwrap();
    }
    let scenario = format!(
        "name = \"pool\"\n[credit]\nasset_correlation = 0.2\ninsolvency_share = 1.0\n\
         recovery_insolvency = {recovery}\n[payment]\nlate_share = 0\n"
    );
    write_files(
        dir,
        &[
            ("study.toml", &study_toml("pool", 1000, true)),
            ("buyers.csv", &buyers),
            ("invoices.csv", &invoices),
            ("policies.toml", ""),
            ("scenarios/pool.toml", &scenario),
        ],
    );
    let study = arstress::input::load_study(dir).unwrap();
    arstress::plan::compile(&study, &study.scenarios[0]).unwrap()
}

/// The chi-square quantile of `k` degrees of freedom at the standard normal quantile `z`
/// (Wilson–Hilferty: `k·(1 − 2/(9k) + z·√(2/(9k)))³`, within 1% here).
fn chi_square_quantile(k: f64, z: f64) -> f64 {
    let c = 2.0 / (9.0 * k);
    k * (1.0 - c + z * c.sqrt()).powi(3)
}

/// The standard errors are the right size: over K = 24 seeds, the standard deviation of a buyer's
/// and a sector's expected-loss and ES 99 contributions (from the exact sums, unrounded) against
/// the mean of their reported errors. With K − 1 = 23 degrees of freedom the sample standard
/// deviation over the true one lies in `[√(χ²₀.₀₀₀₅/23), √(χ²₀.₉₉₉₅/23)] ≈ [0.54, 1.51]` with
/// probability 99.9% (the mean reported error varies far less than one sample's deviation). For
/// ES the error is asymptotic: with 40 tail trials, `E[D | L = VaR]` estimated from the 4 nearest
/// the VaR and a discrete loss, it may be biased either way, so the bounds are widened by the
/// factors 0.6 and 1.6.
#[test]
fn contribution_std_errors_match_the_spread_over_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let pds: Vec<f64> = (0..40).map(|i| 0.02 + 0.002 * (i % 7) as f64).collect();
    let plan = pool(dir.path(), &pds, |i| 1_000 + 250 * (i % 9) as u64, "{ mean = 0.4, sd = 0.2, lag_days = 540 }");
    let (k, n) = (24usize, 4_000usize);
    let (sector_first, _) = plan.keys.dims[1];
    // Keys: buyer B0000 (0) and sector "retail" (the first sector).
    let keys = [0usize, sector_first];
    let buyers_of = |key: usize| -> Vec<usize> {
        (0..plan.n_buyers).filter(|&b| plan.keys.of_buyer[b].contains(&(key as u32))).collect()
    };
    // Per key: the estimates and errors of each seed, (EL, EL se, ES, ES se).
    let mut got = vec![Vec::new(); keys.len()];
    for seed in 0..k as u64 {
        let out = run_trials(&plan, 1000 + seed, 0..n as u64, &|_| {});
        let c = contributions(&plan, 1000 + seed, &out).unwrap();
        let alt = &c.alternatives[0];
        for (j, &key) in keys.iter().enumerate() {
            let members = buyers_of(key);
            let el_sum: i128 = members.iter().map(|&b| alt.expected_sum[b]).sum();
            let es_sum: i128 = members.iter().map(|&b| alt.tail_sum[b]).sum();
            assert_eq!(es_sum, alt.tail.sum[key], "the key's tail sum is its buyers'");
            got[j].push((
                el_sum as f64 / alt.expected_divisor as f64,
                alt.expected_std_error(key, el_sum),
                es_sum as f64 / alt.tail_divisor as f64,
                alt.es_std_error(key),
            ));
        }
    }
    let z = 3.290_526_731_491_926; // two-sided 99.9%
    let dof = (k - 1) as f64;
    let (low, high) = ((chi_square_quantile(dof, -z) / dof).sqrt(), (chi_square_quantile(dof, z) / dof).sqrt());
    let sd = |x: &[f64]| {
        let m = x.iter().sum::<f64>() / x.len() as f64;
        (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
    };
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    for (j, g) in got.iter().enumerate() {
        let col = |f: fn(&(f64, f64, f64, f64)) -> f64| g.iter().map(f).collect::<Vec<f64>>();
        let el_ratio = sd(&col(|x| x.0)) / mean(&col(|x| x.1));
        let es_ratio = sd(&col(|x| x.2)) / mean(&col(|x| x.3));
        assert!(mean(&col(|x| x.1)) > 0.0 && mean(&col(|x| x.3)) > 0.0, "key {}: errors are positive", keys[j]);
        assert!(
            (low..=high).contains(&el_ratio),
            "key {}: EL spread / error {el_ratio} not in [{low}, {high}]",
            keys[j]
        );
        assert!(
            (0.6 * low..=1.6 * high).contains(&es_ratio),
            "key {}: ES spread / error {es_ratio} not in [{}, {}]",
            keys[j],
            0.6 * low,
            1.6 * high
        );
    }
}

/// Cases computed by hand. One buyer, one invoice of 1,000.00, no recovery: its loss in a trial is
/// 0 or 100,000 cents. (a) Every tail trial loses the same 100,000, so the ES 99 contribution has
/// an error of exactly 0 (it equals its value at the VaR; no spread in the tail). (b) With `d`
/// defaults in N trials the expected-loss error is exactly `A·√(d(N − d) / (N²(N − 1)))`, the
/// `mean_std_error` of summary.csv, and the same for every dimension (the buyer is its own sector,
/// country and group). (c) Under tail sampling the error equals summary.csv's weighted
/// `mean_std_error` of the gross loss.
#[test]
fn contribution_std_errors_of_a_single_buyer_are_the_summary_errors() {
    use arstress::stats::Weights;
    let dir = tempfile::tempdir().unwrap();
    let plan = pool(dir.path(), &[0.05], |_| 1_000, "{ mean = 0, sd = 0, lag_days = 540 }");
    let n = 4_000usize;
    let out = run_trials(&plan, 5, 0..n as u64, &|_| {});
    let alt = &contributions(&plan, 5, &out).unwrap().alternatives[0];
    let losses: Vec<i64> = (0..n).map(|i| row_loss(out.row(i), 0)).collect();
    let d = losses.iter().filter(|&&l| l > 0).count() as f64;
    assert!(losses.iter().all(|&l| l == 0 || l == 100_000) && d > 100.0, "{d} defaults of 1,000.00");
    let want = 100_000.0 * (d * (n as f64 - d) / (n as f64 * n as f64 * (n as f64 - 1.0))).sqrt();
    assert_eq!(plan.keys.len(), 4);
    for key in 0..4 {
        let se = alt.expected_std_error(key, alt.expected_sum[0]);
        assert!((se / want - 1.0).abs() < 1e-12, "key {key}: {se} vs {want}");
        assert_eq!(alt.es_std_error(key), 0.0, "key {key}: a constant tail has no ES error");
    }
    let summary = Weights::Equal.stats(&losses);
    assert!((summary.mean_std_error / want - 1.0).abs() < 1e-12);

    let plan = plan.with_tail_sampling(Some(1.5));
    let out = run_trials(&plan, 5, 0..n as u64, &|_| {});
    assert!(out.weights.is_some());
    let alt = &contributions(&plan, 5, &out).unwrap().alternatives[0];
    let losses: Vec<i64> = (0..n).map(|i| row_loss(out.row(i), 0)).collect();
    let summary = out.weighting().stats(&losses);
    for key in 0..4 {
        let se = alt.expected_std_error(key, alt.expected_sum[0]);
        assert!((se / summary.mean_std_error - 1.0).abs() < 1e-9, "key {key}: {se} vs {}", summary.mean_std_error);
    }
}

/// contributions.csv carries an error after each contribution; every error is a non-negative
/// amount in cents, positive where a key's expected loss is; shortfall_contributions.csv
/// likewise.
#[test]
fn contribution_csvs_carry_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_study(&example_study(), &dir.path().join("out"), &["--trials", "2000", "--scenario", "baseline"]);
    let bytes = std::fs::read_to_string(out.join("contributions.csv")).unwrap();
    assert!(bytes.starts_with(
        "scenario,policy,measure,dimension,key,name,expected_loss,expected_loss_std_error,es_99,es_99_std_error,\
         es_99_share\n"
    ));
    for r in read_csv(&out.join("contributions.csv")) {
        let (el, el_se, es_se) =
            (cents(&r["expected_loss"]), cents(&r["expected_loss_std_error"]), cents(&r["es_99_std_error"]));
        assert!(el_se >= 0 && es_se >= 0, "{r:?}");
        if el > 100 && r["measure"] == "gross_loss" {
            assert!(el_se > 0, "a key that loses has an error: {r:?}");
        }
    }
    let rows = read_csv(&out.join("shortfall_contributions.csv"));
    assert!(!rows.is_empty());
    for r in rows {
        let (c, se) = (cents(&r["contribution"]), cents(&r["contribution_std_error"]));
        assert!(se >= 0 && (c <= 0 || se > 0), "{r:?}");
    }
}
