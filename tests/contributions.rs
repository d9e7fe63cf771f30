//! Risk contributions (SPEC §6): the tail replay equals a brute-force computation that keeps every
//! trial's per-buyer losses, and contributions.csv adds up exactly to the reported totals.

use crate::common::*;
use arstress::contrib::{CONTRIBUTION_LEVEL, contributions, row_loss};
use arstress::engine::{FIXED_COLUMNS, Scratch, run_trial, run_trials};
use arstress::rng::trial_rng;
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
            run_trial(&plan, &mut trial_rng(seed, t as u64), &mut scratch, &mut row);
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
        assert_eq!(measure, if policy == "none" { "gross_loss" } else { "net_loss" });
        let want_el = cents(&summary(&out, "baseline", policy, measure, "mean"));
        let want_es = cents(&summary(&out, "baseline", policy, measure, "es_99"));
        assert_eq!((*el, *es), (want_el, want_es), "{policy} {measure} by {dimension}");
    }
    // The policy takes part of the tail off: net ES 99 contributions are smaller in total.
    let (gross_es, net_es) = (
        sums[&("none".into(), "gross_loss".into(), "buyer".into())].1,
        sums[&("whole-turnover-90".into(), "net_loss".into(), "buyer".into())].1,
    );
    assert!(net_es < gross_es, "net {net_es} vs gross {gross_es}");
}
