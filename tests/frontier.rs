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
