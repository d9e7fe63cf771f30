//! Reports are byte-identical for any thread count (SPEC §3, §3.1.15).

use crate::common::*;

fn report_bytes(out: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

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
    assert_eq!(first.len(), 6, "six CSV reports, distribution.csv and cashflow.csv included");
    for r in &runs[1..] {
        assert!(report_bytes(r) == first, "CSV reports differ between thread counts");
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
/// the mild recession, so its gross losses are identical while its year-end borrowing base is lower.
#[test]
fn example_study_runs_the_standard_scenario_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_study(&example_study(), &dir.path().join("out"), &["--trials", "4000"]);
    let rows = read_csv(&out.join("summary.csv"));
    let scenarios: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["scenario"].as_str()).collect();
    let expected = [
        "baseline",
        "country-crisis",
        "insurer-retreat",
        "mild-recession",
        "sector-shock",
        "severe-recession",
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
    for measure in ["gross_loss", "net_loss"] {
        assert_eq!(
            summary(&out, "insurer-retreat", "none", measure, "mean"),
            summary(&out, "mild-recession", "none", measure, "mean"),
            "{measure}"
        );
    }
    // Cut late payers' claims cover less (fewer deliveries, the run-off limit); nothing covers more.
    let claims = |s: &str| -> f64 { summary(&out, s, "whole-turnover-90", "claims", "mean").parse().unwrap() };
    assert!(claims("insurer-retreat") <= claims("mild-recession"));
    let cash = read_csv(&out.join("cashflow.csv"));
    let base = |s: &str| -> f64 {
        let r = cash.iter().find(|r| r["scenario"] == s && r["policy"] == "whole-turnover-90" && r["month"] == "12");
        r.unwrap()["mean_borrowing_base"].parse().unwrap()
    };
    assert!(base("insurer-retreat") < base("mild-recession"));
}
