//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `arstress` binary under test.
pub fn arstress() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("arstress").expect("binary builds")
}

/// Writes `files` (relative path, content) under `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// Runs `arstress run` on a study and returns the report folder.
pub fn run_study(study: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let assert = arstress().arg("run").arg(study).arg("--out").arg(out).arg("--quiet").args(extra).assert();
    let output = assert.get_output();
    assert!(output.status.success(), "arstress run failed: {}", String::from_utf8_lossy(&output.stderr));
    out.to_path_buf()
}

/// Rows of a CSV report as maps from column name to value.
pub fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    parse_csv(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Rows of a CSV report built in memory, as maps from column name to value.
pub fn parse_csv(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers.iter().zip(r.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()
        })
        .collect()
}

/// An amount printed with two decimals (`-12.34`), in cents.
pub fn cents(s: &str) -> i128 {
    let (units, frac) = s.split_once('.').unwrap_or_else(|| panic!("{s:?}: not an amount with two decimals"));
    assert_eq!(frac.len(), 2, "{s:?}: not an amount with two decimals");
    let v = units.trim_start_matches('-').parse::<i128>().unwrap() * 100 + frac.parse::<i128>().unwrap();
    if units.starts_with('-') { -v } else { v }
}

/// One value of summary.csv.
pub fn summary(out: &Path, scenario: &str, policy: &str, measure: &str, column: &str) -> String {
    read_csv(&out.join("summary.csv"))
        .into_iter()
        .find(|r| r["scenario"] == scenario && r["policy"] == policy && r["measure"] == measure)
        .unwrap_or_else(|| panic!("no summary row {scenario}/{policy}/{measure}"))[column]
        .clone()
}

/// One value of policy_comparison.csv.
pub fn comparison(out: &Path, scenario: &str, policy: &str, column: &str) -> String {
    read_csv(&out.join("policy_comparison.csv"))
        .into_iter()
        .find(|r| r["scenario"] == scenario && r["policy"] == policy)
        .unwrap_or_else(|| panic!("no comparison row {scenario}/{policy}"))[column]
        .clone()
}

/// A one-scenario study skeleton: study.toml with the given extra text, 12 months from 2027-01-01.
pub fn study_toml(name: &str, trials: u64, with_invoices: bool) -> String {
    let invoices = if with_invoices { "invoices = \"invoices.csv\"\n" } else { "" };
    format!(
        "name = \"{name}\"\nas_of = 2027-01-01\nhorizon_months = 12\ntrials = {trials}\nseed = 42\ncurrency = \"EUR\"\n\
         policies = \"policies.toml\"\nscenarios = [\"scenarios/*.toml\"]\n[portfolio]\nbuyers = \"buyers.csv\"\n{invoices}"
    )
}

/// The repository's example study.
pub fn example_study() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/example")
}

/// The example study with its opening cash cut to 3,000,000, copied under `dir` (its folder is
/// returned): a company whose cash runs short in several percent of the baseline's trials, for
/// tests of shortfall figures (the example itself runs short in about 1 % of them).
pub fn tight_example(dir: &Path) -> PathBuf {
    let src = example_study();
    let dst = dir.join("tight-example");
    std::fs::create_dir_all(dst.join("scenarios")).unwrap();
    for name in ["buyers.csv", "invoices.csv", "policies.toml"] {
        std::fs::copy(src.join(name), dst.join(name)).unwrap();
    }
    for entry in std::fs::read_dir(src.join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dst.join("scenarios").join(path.file_name().unwrap())).unwrap();
    }
    let study = std::fs::read_to_string(src.join("study.toml")).unwrap();
    let line = study.lines().find(|l| l.starts_with("opening_cash = ")).expect("the example has an opening cash");
    std::fs::write(dst.join("study.toml"), study.replace(line, "opening_cash = 3000000")).unwrap();
    dst
}

/// Writes a study with buyers.csv and invoices.csv, no policies, a horizon of `horizon_months`
/// and the given scenario files.
pub fn write_invoice_study(
    dir: &Path,
    name: &str,
    trials: u64,
    horizon_months: u32,
    buyers: &str,
    invoices: &str,
    scenarios: &[(&str, &str)],
) {
    let study =
        study_toml(name, trials, true).replace("horizon_months = 12", &format!("horizon_months = {horizon_months}"));
    write_files(
        dir,
        &[("study.toml", &study), ("buyers.csv", buyers), ("invoices.csv", invoices), ("policies.toml", "")],
    );
    write_files(dir, scenarios);
}

/// The CSV reports of a folder as (file name, bytes), sorted by name.
pub fn report_bytes(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        // Every report that must be byte-identical: the CSV tables, summary.json and report.html
        // (manifest.json holds the timing).
        .filter(|p| {
            p.extension().is_some_and(|x| x == "csv" || x == "html" || x == "json")
                && p.file_name().is_some_and(|n| n != "manifest.json")
        })
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}
