//! `arstress compare`: two runs of the same model flag nothing; a stressed run flags its losses.

use crate::common::*;
use std::path::Path;

/// A generated study of 80 buyers with one scenario `h1`, stressed by `stress` (TOML lines).
fn study(dir: &Path, stress: &str) {
    arstress().args(["generate", "80", "--seed", "3", "--trials", "4000", "--out"]).arg(dir).assert().success();
    for entry in std::fs::read_dir(dir.join("scenarios")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    std::fs::write(dir.join("scenarios/h1.toml"), format!("name = \"h1\"\n{stress}")).unwrap();
}

fn compare(old: &Path, new: &Path, out: &Path) -> (Vec<std::collections::BTreeMap<String, String>>, String) {
    let output = arstress().arg("compare").arg(old).arg(new).arg("--out").arg(out).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (read_csv(&out.join("comparison.csv")), String::from_utf8(output.stdout).unwrap())
}

#[test]
fn same_model_with_another_seed_flags_nothing_and_a_stress_flags_the_losses() {
    let dir = tempfile::tempdir().unwrap();
    let (base, stressed) = (dir.path().join("base"), dir.path().join("stressed"));
    study(&base, "");
    study(&stressed, "[stress]\npd_multiplier = 2.5\n");
    let r1 = run_study(&base, &dir.path().join("r1"), &["--seed", "1"]);
    let r2 = run_study(&base, &dir.path().join("r2"), &["--seed", "2"]);
    let r3 = run_study(&stressed, &dir.path().join("r3"), &["--seed", "2"]);

    let (rows, table) = compare(&r1, &r2, &dir.path().join("c12"));
    let judged = rows.iter().filter(|r| !r["significant"].is_empty()).count();
    assert!(judged > 20, "only {judged} figures judged");
    let flagged: Vec<_> = rows.iter().filter(|r| r["significant"] == "yes").collect();
    assert!(flagged.is_empty(), "another seed flagged {flagged:?}");
    assert!(table.contains(&format!("0 of {judged} changes")), "{table}");

    let (rows, _) = compare(&r1, &r3, &dir.path().join("c13"));
    let row = |policy: &str, measure: &str, figure: &str| {
        rows.iter()
            .find(|r| {
                r["scenario"] == "h1" && r["policy"] == policy && r["measure"] == measure && r["figure"] == figure
            })
            .unwrap_or_else(|| panic!("no row {policy} {measure} {figure}"))
            .clone()
    };
    for (policy, measure) in [("none", "gross_loss"), ("none", "net_loss"), ("whole-turnover-90", "claims")] {
        let r = row(policy, measure, "mean");
        assert_eq!(r["significant"], "yes", "{policy} {measure}: {r:?}");
        assert!(r["change"].parse::<f64>().unwrap() > 0.0, "{r:?}");
        // change = new − old, as printed.
        let (old, new): (f64, f64) = (r["old"].parse().unwrap(), r["new"].parse().unwrap());
        assert!((r["change"].parse::<f64>().unwrap() - (new - old)).abs() < 0.011);
    }
}

#[test]
fn a_folder_without_summary_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let output = arstress().arg("compare").arg(dir.path()).arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("summary.csv") && stderr.contains("cannot read"), "{stderr}");
}
