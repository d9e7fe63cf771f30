//! Golden values: a small fixed-seed study whose reports must not drift silently.
//! Set `UPDATE_GOLDEN=1` to rewrite them after an intended change, and say why in the commit.

use crate::common::*;
use std::path::Path;

fn golden_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn small_study_reports_do_not_drift() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_study(&golden_dir().join("study"), &dir.path().join("out"), &[]);
    for name in [
        "summary.csv",
        "quantiles.csv",
        "distribution.csv",
        "policy_comparison.csv",
        "policy_differences.csv",
        "reserve.csv",
        "contributions.csv",
        "portfolio.csv",
    ] {
        let got = std::fs::read_to_string(out.join(name)).unwrap();
        let path = golden_dir().join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(got == want, "{name} drifted from tests/golden/{name}; rerun with UPDATE_GOLDEN=1 if intended");
    }
}

#[test]
fn first_trials_do_not_drift() {
    let study = arstress::input::load_study(&golden_dir().join("study")).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let out = arstress::engine::run_trials(&plan, study.seed, 0..5, &|_| {});
    let got: String = (0..5).map(|i| format!("{:?}\n", out.row(i))).collect();
    let path = golden_dir().join("first_trials.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    assert_eq!(got, std::fs::read_to_string(&path).unwrap_or_default(), "first trials drifted");
}

/// distribution.csv agrees with quantiles.csv exactly: every trial is in one bin, and the bin
/// holding the α-quantile q has P(value ≥ from) > 1 − α ≥ P(value ≥ to) (q is the smallest value
/// with at least α·N trials at or below it).
#[test]
fn distribution_agrees_with_the_quantiles() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_study(&golden_dir().join("study"), &dir.path().join("out"), &["--trials", "3000"]);
    let bins = read_csv(&out.join("distribution.csv"));
    let quantiles = read_csv(&out.join("quantiles.csv"));
    let mut checked = 0;
    for q in &quantiles {
        let key = |r: &std::collections::BTreeMap<String, String>| {
            r["scenario"] == q["scenario"] && r["policy"] == q["policy"] && r["measure"] == q["measure"]
        };
        let mine: Vec<_> = bins.iter().filter(|b| key(b)).collect();
        let total: u64 = mine.iter().map(|b| b["trials"].parse::<u64>().unwrap()).sum();
        assert_eq!(total, 3000);
        let value: f64 = q["value"].parse().unwrap();
        let level: f64 = q["level"].parse().unwrap();
        let i = mine
            .iter()
            .position(|b| b["from"].parse::<f64>().unwrap() <= value && value < b["to"].parse::<f64>().unwrap())
            .expect("the quantile falls in a bin");
        let at_or_above_from = if i == 0 { 1.0 } else { mine[i - 1]["p_at_or_above_to"].parse::<f64>().unwrap() };
        let at_or_above_to: f64 = mine[i]["p_at_or_above_to"].parse().unwrap();
        assert!(at_or_above_from > 1.0 - level - 1e-9 && at_or_above_to <= 1.0 - level + 1e-9, "{q:?}");
        checked += 1;
    }
    assert!(checked > 100);
}
