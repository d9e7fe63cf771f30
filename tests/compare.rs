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
    // Tail figures carry their errors too (summary.csv's var/es standard errors).
    for figure in ["var_99", "es_99"] {
        assert!(rows.iter().filter(|r| r["figure"] == figure).all(|r| !r["significant"].is_empty()), "{figure}");
    }
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
    assert_eq!(row("none", "gross_loss", "es_99")["significant"], "yes");
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

/// `run --resume`: a repeated run reads every finished scenario back (same reports, byte for byte);
/// a changed input recomputes.
#[test]
fn resume_reuses_finished_scenarios_only_while_inputs_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let study_dir = dir.path().join("study");
    arstress().args(["generate", "40", "--seed", "5", "--trials", "3000", "--out"]).arg(&study_dir).assert().success();
    let out = dir.path().join("out");
    let run = || {
        let o = arstress().arg("run").arg(&study_dir).arg("--out").arg(&out).arg("--resume").output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stderr).unwrap()
    };
    let first = run();
    assert!(!first.contains("resumed"), "{first}");
    let summary = std::fs::read(out.join("summary.csv")).unwrap();
    let second = run();
    assert!(second.contains("resumed (inputs unchanged, not recomputed): baseline"), "{second}");
    assert_eq!(std::fs::read(out.join("summary.csv")).unwrap(), summary);
    assert_eq!(
        std::fs::read(out.join("cashflow.csv")).unwrap(),
        std::fs::read(run_study(&study_dir, &dir.path().join("fresh"), &[]).join("cashflow.csv")).unwrap()
    );
    // A changed scenario file changes the key: everything is recomputed.
    let recession = study_dir.join("scenarios/mild-recession.toml");
    let text = std::fs::read_to_string(&recession).unwrap();
    std::fs::write(&recession, text.replace("pd_multiplier = 1.5", "pd_multiplier = 2.5")).unwrap();
    let third = run();
    assert!(!third.contains("resumed"), "{third}");
    assert_ne!(std::fs::read(out.join("summary.csv")).unwrap(), summary);
}
