//! `arstress frontier` (issue 18): a policy's terms swept on the same trials. Each variant's row
//! equals a separate run of that variant as the study's only policy, the efficient variants are
//! exactly the undominated ones, and a bad sweep is refused at its key.

use crate::common::*;
use std::path::Path;

const SWEEP: &str = "base = \"whole-turnover-90\"\n[sweep]\nindemnity = [0.8, 0.95]\npremium_rate = [0.002, 0.004]\n";

/// The example with its policies file reduced to the base policy with `terms` set and `name`.
fn study_with_variant(dir: &Path, name: &str, terms: &[(&str, f64)]) -> std::path::PathBuf {
    let study = dir.join(name.replace([' ', '='], "_"));
    assert!(std::process::Command::new("cp").arg("-r").arg(example_study()).arg(&study).status().unwrap().success());
    let text = std::fs::read_to_string(study.join("policies.toml")).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let mut base = doc["policy"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some("whole-turnover-90"))
        .unwrap()
        .as_table()
        .unwrap()
        .clone();
    for (term, value) in terms {
        base.insert((*term).into(), toml::Value::Float(*value));
    }
    base.insert("name".into(), toml::Value::String(name.into()));
    let mut out = toml::Table::new();
    out.insert("policy".into(), toml::Value::Array(vec![toml::Value::Table(base)]));
    std::fs::write(study.join("policies.toml"), toml::to_string(&out).unwrap()).unwrap();
    study
}

#[test]
fn frontier_rows_equal_separate_runs_of_each_variant() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sweep.toml"), SWEEP).unwrap();
    let out = dir.path().join("frontier");
    arstress()
        .arg("frontier")
        .arg(example_study())
        .arg("--sweep")
        .arg(dir.path().join("sweep.toml"))
        .args(["--trials", "3000", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let rows = read_csv(&out.join("frontier.csv"));
    assert_eq!(rows.len(), 1 + 4, "none and 2 × 2 variants of the first scenario");
    // Two charts (ES 99 and P(shortfall)), a dot per variant in each.
    assert_eq!(std::fs::read_to_string(out.join("frontier.html")).unwrap().matches("<g class=\"variant\">").count(), 8);
    for (indemnity, rate) in [(0.8, 0.004), (0.95, 0.002)] {
        let name = format!("whole-turnover-90 indemnity={indemnity} premium_rate={rate}");
        let row = rows.iter().find(|r| r["variant"] == name).unwrap_or_else(|| panic!("no row {name}"));
        let study = study_with_variant(dir.path(), &name, &[("indemnity", indemnity), ("premium_rate", rate)]);
        let single = run_study(
            &study,
            &dir.path().join(format!("run-{indemnity}")),
            &["--trials", "3000", "--scenario", "baseline"],
        );
        assert_eq!(summary(&single, "baseline", &name, "total_cost", "mean"), row["expected_total_cost"]);
        assert_eq!(
            summary(&single, "baseline", &name, "total_cost", "mean_std_error"),
            row["expected_total_cost_std_error"]
        );
        assert_eq!(summary(&single, "baseline", &name, "net_loss", "es_99"), row["es_99_net_loss"]);
        assert_eq!(summary(&single, "baseline", &name, "peak_shortfall", "p_positive"), row["p_shortfall"]);
    }
    // Efficient: no other variant has a premium and an ES 99 at most as high, one of them lower.
    let variants: Vec<_> = rows.iter().filter(|r| r["variant"] != "none").collect();
    for a in &variants {
        let (pa, ea) = (cents(&a["premium"]), cents(&a["es_99_net_loss"]));
        let dominated = variants.iter().any(|b| {
            let (pb, eb) = (cents(&b["premium"]), cents(&b["es_99_net_loss"]));
            pb <= pa && eb <= ea && (pb < pa || eb < ea)
        });
        assert_eq!(a["efficient"], if dominated { "no" } else { "yes" }, "{a:?}");
    }
    assert!(variants.iter().any(|r| r["efficient"] == "yes") && variants.iter().any(|r| r["efficient"] == "no"));
}

#[test]
fn a_bad_sweep_is_refused_at_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep.toml");
    std::fs::write(&sweep, "base = \"whole-turnover-90\"\n[sweep]\nindemnty = [0.8]\nindemnity = [0.8, 1.5]\n")
        .unwrap();
    let output = arstress().arg("frontier").arg(example_study()).arg("--sweep").arg(&sweep).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("key `sweep.indemnty`") && stderr.contains("did you mean indemnity"), "{stderr}");
    assert!(stderr.contains("key `sweep.indemnity[1]`") && stderr.contains("value \"1.5\""), "{stderr}");
    std::fs::write(&sweep, "base = \"whole-turnover\"\n[sweep]\nindemnity = [0.8]\n").unwrap();
    let output = arstress().arg("frontier").arg(example_study()).arg("--sweep").arg(&sweep).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("key `base`") && stderr.contains("did you mean whole-turnover-90"), "{stderr}");
}

/// The example with its policies file reduced to the base policy with `terms` set (a maximum
/// liability of one form removes the other) and `name`.
fn study_with_terms(dir: &Path, name: &str, terms: &[(&str, toml::Value)]) -> std::path::PathBuf {
    let study = dir.join(name.replace([' ', '=', '[', ']', ',', '"'], "_"));
    assert!(std::process::Command::new("cp").arg("-r").arg(example_study()).arg(&study).status().unwrap().success());
    let text = std::fs::read_to_string(study.join("policies.toml")).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let mut base = doc["policy"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some("whole-turnover-90"))
        .unwrap()
        .as_table()
        .unwrap()
        .clone();
    for (term, value) in terms {
        match *term {
            "max_liability" => base.remove("max_liability_multiple"),
            "max_liability_multiple" => base.remove("max_liability"),
            _ => None,
        };
        base.insert((*term).into(), value.clone());
    }
    base.insert("name".into(), toml::Value::String(name.into()));
    let mut out = toml::Table::new();
    out.insert("policy".into(), toml::Value::Array(vec![toml::Value::Table(base)]));
    std::fs::write(study.join("policies.toml"), toml::to_string(&out).unwrap()).unwrap();
    study
}

/// Runs `sweep` on the example (baseline, 3,000 trials) and checks every variant's row against a
/// separate run of that variant as the study's only policy, figure for figure (errors included).
fn check_rows_against_runs(sweep: &str, variants: &[(&str, Vec<(&str, toml::Value)>)]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sweep.toml"), sweep).unwrap();
    let out = dir.path().join("frontier");
    arstress()
        .arg("frontier")
        .arg(example_study())
        .arg("--sweep")
        .arg(dir.path().join("sweep.toml"))
        .args(["--trials", "3000", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let rows = read_csv(&out.join("frontier.csv"));
    for (i, (name, terms)) in variants.iter().enumerate() {
        let row = rows.iter().find(|r| r["variant"] == *name).unwrap_or_else(|| panic!("no row {name}: {rows:?}"));
        let study = study_with_terms(dir.path(), name, terms);
        let single =
            run_study(&study, &dir.path().join(format!("run-{i}")), &["--trials", "3000", "--scenario", "baseline"]);
        let figure = |measure: &str, column: &str| summary(&single, "baseline", name, measure, column);
        assert_eq!(figure("total_cost", "mean"), row["expected_total_cost"], "{name}");
        assert_eq!(figure("total_cost", "mean_std_error"), row["expected_total_cost_std_error"], "{name}");
        assert_eq!(figure("net_loss", "es_99"), row["es_99_net_loss"], "{name}");
        assert_eq!(figure("net_loss", "es_99_std_error"), row["es_99_net_loss_std_error"], "{name}");
        assert_eq!(figure("peak_shortfall", "p_positive"), row["p_shortfall"], "{name}");
        assert_eq!(figure("peak_shortfall", "p_positive_std_error"), row["p_shortfall_std_error"], "{name}");
    }
}

/// Variants that differ only in premium terms share one settlement (issue 23): their rows still
/// equal separate runs, the premium shifting the total cost and the cash path month by month.
#[test]
fn premium_only_variants_equal_separate_runs() {
    let f = toml::Value::Float;
    check_rows_against_runs(
        "base = \"whole-turnover-90\"\n[sweep]\npremium_rate = [0.001, 0.004, 0.02]\nminimum_premium = [0, 400000]\n",
        &[
            (
                "whole-turnover-90 minimum_premium=0 premium_rate=0.001",
                vec![("premium_rate", f(0.001)), ("minimum_premium", toml::Value::Integer(0))],
            ),
            (
                "whole-turnover-90 minimum_premium=400000 premium_rate=0.02",
                vec![("premium_rate", f(0.02)), ("minimum_premium", toml::Value::Integer(400000))],
            ),
            (
                "whole-turnover-90 minimum_premium=400000 premium_rate=0.004",
                vec![("premium_rate", f(0.004)), ("minimum_premium", toml::Value::Integer(400000))],
            ),
        ],
    );
}

/// Variants that differ only in the maximum liability share a settlement under the largest one;
/// where a smaller one binds, the variant is settled on its own in that trial.
#[test]
fn variants_whose_maximum_liability_binds_equal_separate_runs() {
    let i = toml::Value::Integer;
    check_rows_against_runs(
        "base = \"whole-turnover-90\"\n[sweep]\nmax_liability = [20000, 150000, 50000000]\npremium_rate = [0.002, 0.003]\n",
        &[
            (
                "whole-turnover-90 max_liability=20000 premium_rate=0.003",
                vec![("max_liability", i(20000)), ("premium_rate", toml::Value::Float(0.003))],
            ),
            (
                "whole-turnover-90 max_liability=150000 premium_rate=0.002",
                vec![("max_liability", i(150000)), ("premium_rate", toml::Value::Float(0.002))],
            ),
            (
                "whole-turnover-90 max_liability=50000000 premium_rate=0.002",
                vec![("max_liability", i(50000000)), ("premium_rate", toml::Value::Float(0.002))],
            ),
        ],
    );
}

/// `named_top`: a variant names (covers) only the N insured buyers with the largest exposures
/// (issue 23). Its rows equal separate runs of the policy with `named_top = N`, its column reads
/// `top N`, and a bad count is refused at its place in the sweep.
#[test]
fn named_top_variants_equal_separate_runs() {
    let i = toml::Value::Integer;
    check_rows_against_runs(
        "base = \"whole-turnover-90\"\n[sweep]\nnamed_top = [3, 40]\npremium_rate = [0.002, 0.003]\n",
        &[
            (
                "whole-turnover-90 named_top=3 premium_rate=0.002",
                vec![("named_top", i(3)), ("premium_rate", toml::Value::Float(0.002))],
            ),
            (
                "whole-turnover-90 named_top=40 premium_rate=0.003",
                vec![("named_top", i(40)), ("premium_rate", toml::Value::Float(0.003))],
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep.toml");
    std::fs::write(&sweep, "base = \"whole-turnover-90\"\n[sweep]\nnamed_top = [3, 20]\n").unwrap();
    let out = dir.path().join("frontier");
    arstress()
        .arg("frontier")
        .arg(example_study())
        .args(["--sweep"])
        .arg(&sweep)
        .args(["--trials", "500", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let rows = read_csv(&out.join("frontier.csv"));
    assert_eq!(rows.iter().map(|r| r["named_top"].as_str()).collect::<Vec<_>>(), ["", "top 3", "top 20"]);
    // Fewer buyers named, less cover: a lower premium and a higher ES 99 of the net loss.
    assert!(cents(&rows[1]["premium"]) <= cents(&rows[2]["premium"]));
    assert!(cents(&rows[1]["es_99_net_loss"]) >= cents(&rows[2]["es_99_net_loss"]));
    std::fs::write(&sweep, "base = \"whole-turnover-90\"\n[sweep]\nnamed_tp = [3]\nnamed_top = [3, 0, 2.5]\n").unwrap();
    let output = arstress().arg("frontier").arg(example_study()).arg("--sweep").arg(&sweep).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("key `sweep.named_tp`") && stderr.contains("did you mean named_top"), "{stderr}");
    assert!(stderr.contains("key `sweep.named_top[1]`") && stderr.contains("1..=1000000"), "{stderr}");
    assert!(stderr.contains("key `sweep.named_top[2]`") && stderr.contains("2.5"), "{stderr}");
}

/// The frontier's reports are byte-identical whatever the number of threads, with classes shared
/// by premium variants, a binding maximum liability and named buyers, in scenarios with country
/// events and limit cuts.
#[test]
fn frontier_reports_are_identical_across_threads() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep.toml");
    std::fs::write(
        &sweep,
        "base = \"whole-turnover-90\"\n[sweep]\nnamed_top = [10, 1000]\nmax_liability = [30000, 90000000]\npremium_rate = [0.002, 0.004]\n",
    )
    .unwrap();
    let bytes: Vec<_> = ["1", "2", "4"]
        .iter()
        .map(|t| {
            let out = dir.path().join(format!("t{t}"));
            arstress()
                .arg("frontier")
                .arg(example_study())
                .arg("--sweep")
                .arg(&sweep)
                .args(["--trials", "2500", "--quiet", "--threads", t])
                .args(["--scenario", "country-crisis", "--scenario", "insurer-retreat", "--out"])
                .arg(&out)
                .assert()
                .success();
            report_bytes(&out)
        })
        .collect();
    assert_eq!(bytes[0], bytes[1]);
    assert_eq!(bytes[0], bytes[2]);
    assert_eq!(read_csv(&dir.path().join("t1/frontier.csv")).len(), 2 * (1 + 8));
}
