//! Reports are byte-identical for any thread count (SPEC §3, §3.1.15).

use crate::common::*;

/// manifest.json without the fields that record wall time and threads.
fn manifest_without_timing(out: &std::path::Path) -> serde_json::Value {
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    m.as_object_mut().unwrap().remove("timing");
    m
}

#[test]
fn reports_are_identical_for_1_2_and_4_threads() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    arstress().args(["generate", "300", "--invoices", "--seed", "5", "--out"]).arg(&study).assert().success();
    // 5,000 trials span several parallel blocks, the last one partial.
    let runs: Vec<_> = ["1", "2", "4"]
        .iter()
        .map(|t| run_study(&study, &dir.path().join(format!("out-{t}")), &["--threads", t, "--trials", "5000"]))
        .collect();
    let first = report_bytes(&runs[0]);
    assert_eq!(
        first.len(),
        12,
        "twelve reports: eleven CSV files (contributions.csv, reserve.csv, policy_differences.csv, cashflow.csv, \
         shortfall_contributions.csv and, for insurer-retreat, retreat.csv included) and report.html"
    );
    for r in &runs[1..] {
        assert!(report_bytes(r) == first, "reports differ between thread counts");
        assert_eq!(manifest_without_timing(r), manifest_without_timing(&runs[0]));
    }
    // And the run simulated something: losses are not all zero.
    assert_ne!(summary(&runs[0], "baseline", "none", "gross_loss", "mean"), "0.00");
}

#[test]
fn a_scenario_filter_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    arstress().args(["generate", "120", "--seed", "9", "--out"]).arg(&study).assert().success();
    let all = run_study(&study, &dir.path().join("all"), &["--trials", "3000"]);
    let one = run_study(&study, &dir.path().join("one"), &["--trials", "3000", "--scenario", "insurer-retreat"]);
    let rows = |out: &std::path::Path| {
        read_csv(&out.join("summary.csv"))
            .into_iter()
            .filter(|r| r["scenario"] == "insurer-retreat")
            .collect::<Vec<_>>()
    };
    assert!(!rows(&one).is_empty());
    assert_eq!(rows(&all), rows(&one));
}

/// The example study of the README's main command runs its seven standard scenarios and three
/// policies (docs/scenarios.md), and they order as their calibrations say: the downturns raise the
/// loss, the concentration scenario most; the insurer retreat draws everything but its cuts like
/// the mild recession, so its defaults are identical, while its cuts (which since issue 18 reach
/// buyers that later default, SPEC §5.4) lower the deliveries to failing buyers, hence the gross
/// loss and the claims, and its year-end borrowing base is lower.
#[test]
fn example_study_runs_the_standard_scenario_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_study(&example_study(), &dir.path().join("out"), &["--trials", "4000"]);
    let rows = read_csv(&out.join("summary.csv"));
    let scenarios: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["scenario"].as_str()).collect();
    let expected = [
        "baseline",
        "collections-tightened",
        "country-crisis",
        "dispute-wave",
        "early-payment-discount",
        "insurer-retreat",
        "mild-recession",
        "sector-shock",
        "severe-recession",
        "terms-grades",
        "top2-default",
    ];
    assert_eq!(scenarios.into_iter().collect::<Vec<_>>(), expected);
    let policies: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["policy"].as_str()).collect();
    assert_eq!(policies.len(), 4, "none and three policies: {policies:?}");
    let gross = |s: &str| -> f64 { summary(&out, s, "none", "gross_loss", "mean").parse().unwrap() };
    assert!(gross("baseline") < gross("mild-recession"));
    assert!(gross("mild-recession") < gross("severe-recession"));
    assert!(gross("severe-recession") < gross("top2-default"));
    assert!(gross("baseline") < gross("country-crisis"));
    let defaults = |s: &str| comparison(&out, s, "none", "expected_defaults");
    assert_eq!(defaults("insurer-retreat"), defaults("mild-recession"), "the same defaults");
    assert!(gross("insurer-retreat") < gross("mild-recession"), "cut defaulters received fewer deliveries");
    // Cut buyers' claims cover less (fewer deliveries, the cover rule); nothing covers more.
    let claims = |s: &str| -> f64 { summary(&out, s, "whole-turnover-90", "claims", "mean").parse().unwrap() };
    assert!(claims("insurer-retreat") < claims("mild-recession"));
    let cash = read_csv(&out.join("cashflow.csv"));
    let base = |s: &str| -> f64 {
        let r = cash.iter().find(|r| r["scenario"] == s && r["policy"] == "whole-turnover-90" && r["month"] == "12");
        r.unwrap()["mean_borrowing_base"].parse().unwrap()
    };
    assert!(base("insurer-retreat") < base("mild-recession"));
}

/// `--target-rel-error`: trials are added in blocks of 10,000 until the relative standard error
/// of ES 99 of the net loss is at most the target under every alternative; the reports equal a
/// plain run with that many trials byte for byte, one block fewer misses the target, and
/// `--max-trials` stops a target that is out of reach and says so.
#[test]
fn target_rel_error_adds_fixed_blocks_until_es_99_is_precise_enough() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    arstress().args(["generate", "60", "--seed", "8", "--out"]).arg(&study).assert().success();
    let args = ["--scenario", "baseline", "--out"];
    let run = |extra: &[&str], out: &str| {
        let o = arstress().arg("run").arg(&study).args(args).arg(dir.path().join(out)).args(extra).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stderr).unwrap()
    };
    let said = run(&["--target-rel-error", "0.015"], "target");
    let trials: u64 = said.split("after ").nth(1).and_then(|s| s.split(' ').next()).unwrap().parse().unwrap();
    assert!(said.contains("baseline: target reached"), "{said}");
    assert_eq!(trials % 10_000, 0);
    let worst_rel_error = |out: &str| -> f64 {
        read_csv(&dir.path().join(out).join("summary.csv"))
            .iter()
            .filter(|r| r["measure"] == "net_loss")
            .map(|r| r["es_99_std_error"].parse::<f64>().unwrap() / r["es_99"].parse::<f64>().unwrap())
            .fold(0.0, f64::max)
    };
    assert!(trials > 10_000, "the target needs more than one block: {said}");
    assert!(worst_rel_error("target") <= 0.015);
    run(&["--trials", &trials.to_string()], "plain");
    for name in ["summary.csv", "quantiles.csv", "distribution.csv", "policy_comparison.csv", "contributions.csv"] {
        let read = |out: &str| std::fs::read(dir.path().join(out).join(name)).unwrap();
        assert!(read("target") == read("plain"), "{name} differs from a plain run of {trials} trials");
    }
    run(&["--trials", &(trials - 10_000).to_string()], "fewer");
    assert!(worst_rel_error("fewer") > 0.015, "one block fewer already met the target");
    let said = run(&["--target-rel-error", "0.001", "--max-trials", "15000"], "capped");
    assert!(
        said.contains("stopped at --max-trials, target not reached") && said.contains("after 15000 trials"),
        "{said}"
    );
}

/// Issue 21: every draw is addressed by (seed, trial, purpose, entity, index), so neither the
/// thread count, nor the block of trials a worker takes, nor the shard split changes a byte. The
/// scenarios cover every purpose: defaults, lateness, country events, limit cuts, collections of
/// overdue invoices and disputes. The trial count leaves partial blocks and uneven shards.
#[test]
fn reports_are_identical_across_threads_block_sizes_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    let picked = [
        "--scenario",
        "baseline",
        "--scenario",
        "country-crisis",
        "--scenario",
        "insurer-retreat",
        "--scenario",
        "dispute-wave",
        "--trials",
        "1500",
    ];
    let run =
        |out: &str, extra: &[&str]| run_study(&example_study(), &dir.path().join(out), &[&picked[..], extra].concat());
    let want = report_bytes(&run("t1-b64", &["--threads", "1", "--block-size", "64"]));
    assert!(want.len() >= 10, "the reports of a cash study with cuts");
    for (threads, block) in [("2", "256"), ("4", "1024"), ("2", "1")] {
        let got = report_bytes(&run(&format!("t{threads}-b{block}"), &["--threads", threads, "--block-size", block]));
        assert!(got == want, "{threads} threads, blocks of {block} trials: reports differ");
    }
    for (n, block) in [(3, "256"), (7, "64")] {
        let shards: Vec<_> = (0..n)
            .map(|i| run(&format!("s{n}-{i}"), &["--shard", &format!("{i}/{n}"), "--block-size", block]))
            .collect();
        let out = dir.path().join(format!("merged-{n}"));
        let o = arstress().arg("merge").args(&shards).arg("--out").arg(&out).arg("--quiet").output().unwrap();
        assert!(o.status.success(), "{n} shards: {}", String::from_utf8_lossy(&o.stderr));
        assert!(report_bytes(&out) == want, "{n} shards merged differ from the single run");
    }
}
