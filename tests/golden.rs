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
    for name in ["summary.csv", "quantiles.csv", "policy_comparison.csv", "portfolio.csv"] {
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
