//! A catalogue of bad inputs (SPEC §2, §2.5): every class of problem makes `arstress validate` (or `run`) exit
//! with code 2 and a message naming the file, the line (CSV, header = line 1) or key path (TOML), the field and
//! the offending value. A few accepted variants exit 0.

use assert_cmd::Command;
use std::ffi::OsStr;
use std::path::Path;
use tempfile::TempDir;

const STUDY: &str = r#"name = "validation test"
as_of = 2027-01-01
horizon_months = 6
trials = 100
seed = 1
currency = "EUR"
policies = "policies.toml"
scenarios = ["scenarios/*.toml"]

[portfolio]
buyers = "buyers.csv"
invoices = "invoices.csv"

[fx]
USD = 0.92
"#;

/// Header is line 1; B001 is line 2, B002 line 3, B003 line 4.
const BUYERS: &str = "\
buyer_id,name,country,sector,rating,pd_1y,currency,outstanding,terms_days,monthly_sales,credit_limit,limit_type,group_id
B001,Alpha GmbH,DE,construction,BBB,,EUR,100000,60,50000,200000,approved,G1
B002,Beta Inc,US,retail,,0.02,USD,50000,30,20000,,,
B003,Gamma SA,FR,construction,BB,,,0,90,10000,100000,discretionary,G1
";

const INVOICES: &str = "\
invoice_id,buyer_id,amount,currency,issue_date,due_date
I001,B001,60000,EUR,2026-12-01,2027-01-30
I002,B001,40000,EUR,2026-12-15,2027-02-13
I003,B002,50000,USD,2026-12-20,2027-01-19
";

const POLICIES: &str = r#"[[policy]]
name = "whole-turnover-90"
indemnity = 0.9
premium_rate = 0.0025
max_liability_multiple = 20

[[policy]]
name = "fixed-cap"
indemnity = 0.85
max_liability = 2_000_000
"#;

const SCENARIO: &str = r#"name = "base"
description = "baseline"

[stress]
pd_multiplier = 1.0
"#;

const FILES: [(&str, &str); 5] = [
    ("study.toml", STUDY),
    ("buyers.csv", BUYERS),
    ("invoices.csv", INVOICES),
    ("policies.toml", POLICIES),
    ("scenarios/base.toml", SCENARIO),
];

/// Writes the valid study into a temp dir, with some files' bytes replaced.
fn study_bytes(overrides: &[(&str, &[u8])]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("scenarios")).expect("scenarios dir");
    for (name, text) in FILES {
        let bytes = overrides.iter().find(|(n, _)| *n == name).map_or(text.as_bytes(), |(_, b)| *b);
        std::fs::write(dir.path().join(name), bytes).expect("write input");
    }
    for (name, bytes) in overrides {
        if !FILES.iter().any(|(n, _)| n == name) {
            std::fs::write(dir.path().join(name), bytes).expect("write extra input");
        }
    }
    dir
}

/// Writes the valid study into a temp dir, with some files' text replaced.
fn study(overrides: &[(&str, &str)]) -> TempDir {
    let bytes: Vec<(&str, &[u8])> = overrides.iter().map(|(n, t)| (*n, t.as_bytes())).collect();
    study_bytes(&bytes)
}

/// The valid study with one file's text replaced.
fn study_with(file: &str, text: &str) -> TempDir {
    study(&[(file, text)])
}

/// The base scenario with `extra` appended.
fn scenario(extra: &str) -> TempDir {
    study_with("scenarios/base.toml", &format!("name = \"base\"\n{extra}"))
}

/// The base buyers.csv with line `line` (1-based, header = 1) replaced.
fn buyers_line(line: usize, text: &str) -> String {
    replace_line(BUYERS, line, text)
}

fn replace_line(file: &str, line: usize, text: &str) -> String {
    let mut lines: Vec<&str> = file.lines().collect();
    lines[line - 1] = text;
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn arstress() -> Command {
    Command::cargo_bin("arstress").expect("arstress binary")
}

/// Runs `arstress ARGS` and returns (exit code, stdout, stderr).
fn run_cli(args: &[&OsStr]) -> (Option<i32>, String, String) {
    let out = arstress().args(args).output().expect("run arstress");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `arstress validate DIR` must exit 2; returns stderr.
fn validate_fails(dir: &Path) -> String {
    let (code, stdout, stderr) = run_cli(&["validate".as_ref(), dir.as_os_str()]);
    assert_eq!(code, Some(2), "expected exit code 2\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    stderr
}

/// `arstress validate DIR` must exit 0; returns stderr.
fn validate_ok(dir: &Path) -> String {
    let (code, stdout, stderr) = run_cli(&["validate".as_ref(), dir.as_os_str()]);
    assert_eq!(code, Some(0), "expected exit code 0\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("is valid"), "stdout:\n{stdout}");
    stderr
}

/// `arstress run DIR --trials 10 --out DIR/out EXTRA` must exit 2 and write no report; returns stderr.
fn run_fails(dir: &Path, extra: &[&str]) -> String {
    let out = dir.join("out");
    let mut args: Vec<&OsStr> =
        vec!["run".as_ref(), dir.as_os_str(), "--trials".as_ref(), "10".as_ref(), "--out".as_ref(), out.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let (code, stdout, stderr) = run_cli(&args);
    assert_eq!(code, Some(2), "expected exit code 2\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    assert!(!out.exists(), "reports written despite bad input");
    stderr
}

/// Asserts that one line of `stderr` contains every part (file/location, field, value, expectation).
#[track_caller]
fn assert_line(stderr: &str, parts: &[&str]) {
    assert!(
        stderr.lines().any(|l| parts.iter().all(|p| l.contains(p))),
        "no stderr line contains all of {parts:?}\nstderr:\n{stderr}"
    );
}

/// `buyers.csv:LINE:` — a CSV location (the path printed ends with the file name).
fn at_csv(file: &str, line: usize) -> String {
    format!("{file}:{line}: ")
}

fn field(name: &str) -> String {
    format!("field `{name}`")
}

fn value(v: &str) -> String {
    format!("value {v:?}")
}

fn key(path: &str) -> String {
    format!("key `{path}`")
}

/// `FILE:LINE:` — the start of a TOML location (line, then column).
fn at_toml(file: &str, line: usize) -> String {
    format!("{file}:{line}:")
}

// ---------------------------------------------------------------------------------------------------------
// Sanity: the base study is valid.

#[test]
fn base_study_is_valid() {
    let dir = study(&[]);
    validate_ok(dir.path());
}

// ---------------------------------------------------------------------------------------------------------
// Unknown TOML keys.

#[test]
fn unknown_key_in_scenario() {
    let dir = scenario("[stress]\npd_multiplierr = 2\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), "pd_multiplierr", "did you mean `pd_multiplier`"]);
}

#[test]
fn unknown_key_names_full_key_path() {
    let dir = scenario("[stress]\npd_multiplierr = 2\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &["base.toml:3:1: ", &key("stress.pd_multiplierr"), &field("pd_multiplierr")]);
    let dir = study_with("policies.toml", &POLICIES.replace("indemnity = 0.85", "indemnty = 0.85"));
    let err = validate_fails(dir.path());
    assert_line(&err, &["policies.toml:9:1: ", &key("policy[1].indemnty"), &field("indemnty")]);
}

#[test]
fn unknown_key_in_study() {
    let text = STUDY.replace("seed = 1", "seeed = 1");
    let dir = study_with("study.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("study.toml", 5), "seeed", "did you mean `seed`"]);
}

#[test]
fn unknown_key_in_policies() {
    let text = POLICIES.replace("indemnity = 0.85", "indemnty = 0.85");
    let dir = study_with("policies.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("policies.toml", 9), "indemnty", "did you mean `indemnity`"]);
}

// ---------------------------------------------------------------------------------------------------------
// buyers.csv: values.

#[test]
fn pd_out_of_range() {
    let dir = study_with("buyers.csv", &buyers_line(3, "B002,Beta Inc,US,retail,,1.5,USD,50000,30,20000,,,"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 3), &field("pd_1y"), &value("1.5"), "0 <= p < 1"]);
}

#[test]
fn pd_not_finite() {
    let dir = study_with("buyers.csv", &buyers_line(3, "B002,Beta Inc,US,retail,,NaN,USD,50000,30,20000,,,"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 3), &field("pd_1y"), &value("NaN")]);
    let dir = study_with("buyers.csv", &buyers_line(3, "B002,Beta Inc,US,retail,,inf,USD,50000,30,20000,,,"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 3), &field("pd_1y"), &value("inf")]);
}

#[test]
fn negative_amount() {
    let dir = study_with(
        "buyers.csv",
        &buyers_line(2, "B001,Alpha GmbH,DE,construction,BBB,,EUR,-5,60,50000,200000,approved,G1"),
    );
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 2), &field("outstanding"), &value("-5"), ">= 0"]);
}

#[test]
fn non_numeric_amount() {
    let dir = study_with(
        "buyers.csv",
        &buyers_line(4, "B003,Gamma SA,FR,construction,BB,,,0,90,ten thousand,100000,discretionary,G1"),
    );
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 4), &field("monthly_sales"), &value("ten thousand"), "decimal"]);
}

#[test]
fn amount_above_1e12() {
    let dir = study_with(
        "buyers.csv",
        &buyers_line(2, "B001,Alpha GmbH,DE,construction,BBB,,EUR,100000,60,50000,2000000000000,approved,G1"),
    );
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 2), &field("credit_limit"), &value("2000000000000"), "1e12"]);
}

#[test]
fn amount_not_finite() {
    let dir = study_with(
        "buyers.csv",
        &buyers_line(2, "B001,Alpha GmbH,DE,construction,BBB,,EUR,NaN,60,inf,200000,approved,G1"),
    );
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 2), &field("outstanding"), &value("NaN"), "finite", "not NaN"]);
    assert_line(&err, &[&at_csv("buyers.csv", 2), &field("monthly_sales"), &value("inf"), "finite"]);
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 3, "I002,B001,-inf,EUR,2026-12-15,2027-02-13"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("invoices.csv", 3), &field("amount"), &value("-inf"), "finite"]);
}

#[test]
fn amount_beyond_exact_decimal() {
    // More digits than rust_decimal holds (7.9e28): refused as too large, never rounded or a parse failure.
    let huge = "123456789012345678901234567890123";
    let dir = study_with(
        "buyers.csv",
        &buyers_line(2, &format!("B001,Alpha GmbH,DE,construction,BBB,,EUR,{huge},60,50000,1e40,approved,G1")),
    );
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 2), &field("outstanding"), &value(huge), "an amount <= 1e12"]);
    assert_line(&err, &[&at_csv("buyers.csv", 2), &field("credit_limit"), &value("1e40"), "an amount <= 1e12"]);
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 2, "I001,B001,1e40,EUR,2026-12-01,2027-01-30"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("invoices.csv", 2), &field("amount"), &value("1e40"), "an amount <= 1e12"]);
}

#[test]
fn terms_days_out_of_range() {
    let dir = study_with(
        "buyers.csv",
        &buyers_line(2, "B001,Alpha GmbH,DE,construction,BBB,,EUR,100000,721,50000,200000,approved,G1"),
    );
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 2), &field("terms_days"), &value("721"), "0..=720"]);
    let dir = study_with("buyers.csv", &buyers_line(3, "B002,Beta Inc,US,retail,,0.02,USD,50000,-1,20000,,,"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 3), &field("terms_days"), &value("-1"), "0..=720"]);
}

#[test]
fn unknown_rating_grade() {
    let dir = study_with(
        "buyers.csv",
        &buyers_line(2, "B001,Alpha GmbH,DE,construction,BBB+,,EUR,100000,60,50000,200000,approved,G1"),
    );
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 2), &field("rating"), &value("BBB+"), "BBB"]);
}

#[test]
fn duplicate_buyer_id() {
    let dir = study_with(
        "buyers.csv",
        &buyers_line(4, "B001,Gamma SA,FR,construction,BB,,,0,90,10000,100000,discretionary,G1"),
    );
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 4), &field("buyer_id"), &value("B001"), "line 2"]);
}

#[test]
fn missing_required_column() {
    let text = "\
buyer_id,name,sector,rating,outstanding,terms_days
B001,Alpha GmbH,construction,BBB,100000,60
B002,Beta Inc,retail,BB,50000,30
";
    let dir = study_with("buyers.csv", text);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 1), &field("country"), "buyer_id,name", "required column `country`"]);
}

#[test]
fn empty_portfolio() {
    let header = BUYERS.lines().next().unwrap_or_default();
    let dir = study_with("buyers.csv", &format!("{header}\n"));
    let err = validate_fails(dir.path());
    assert_line(&err, &["buyers.csv", &field("buyers"), &value("0 rows"), "at least one buyer"]);
}

#[test]
fn empty_buyers_file() {
    let dir = study_with("buyers.csv", "");
    let err = validate_fails(dir.path());
    assert_line(&err, &["buyers.csv: ", &field("header"), &value("empty file (0 bytes)"), "a header line"]);
    assert!(err.contains("1 input problem\n"), "one problem, not one per column:\n{err}");
    let dir = study_with("buyers.csv", "\n  \n");
    let err = validate_fails(dir.path());
    assert_line(&err, &["buyers.csv: ", &field("header"), &value("blank lines only"), "a header line"]);
}

#[test]
fn country_not_iso_alpha2() {
    let dir = study_with(
        "buyers.csv",
        &buyers_line(2, "B001,Alpha GmbH,DEU,construction,BBB,,EUR,100000,60,50000,200000,approved,G1"),
    );
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 2), &field("country"), &value("DEU"), "ISO 3166-1 alpha-2"]);
    let dir = study_with("buyers.csv", &buyers_line(3, "B002,Beta Inc,us,retail,,0.02,USD,50000,30,20000,,,"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 3), &field("country"), &value("us"), "ISO 3166-1 alpha-2"]);
}

#[test]
fn currency_without_fx_rate() {
    let dir = study_with(
        "buyers.csv",
        &buyers_line(4, "B003,Gamma SA,FR,construction,BB,,GBP,0,90,10000,100000,discretionary,G1"),
    );
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 4), &field("currency"), &value("GBP"), "[fx]"]);
}

#[test]
fn all_problems_of_a_file_reported_together() {
    let text = replace_line(
        &buyers_line(2, "B001,Alpha GmbH,DE,construction,BBB,,EUR,-5,60,50000,200000,approved,G1"),
        4,
        "B003,Gamma SA,FR,construction,BB,2,,0,90,10000,100000,discretionary,G1",
    );
    let dir = study_with("buyers.csv", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 2), &field("outstanding"), &value("-5")]);
    assert_line(&err, &[&at_csv("buyers.csv", 4), &field("pd_1y"), &value("2")]);
    assert!(err.contains("2 input problems"), "stderr:\n{err}");
}

// ---------------------------------------------------------------------------------------------------------
// invoices.csv.

#[test]
fn invoice_of_unknown_buyer() {
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 3, "I002,B009,40000,EUR,2026-12-15,2027-02-13"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("invoices.csv", 3), &field("buyer_id"), &value("B009"), "buyer_id of buyers.csv"]);
}

#[test]
fn invoice_unparseable_date() {
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 2, "I001,B001,60000,EUR,2026-12-01,30/01/2027"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("invoices.csv", 2), &field("due_date"), &value("30/01/2027"), "YYYY-MM-DD"]);
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 4, "I003,B002,50000,USD,2026-02-30,2027-01-19"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("invoices.csv", 4), &field("issue_date"), &value("2026-02-30"), "YYYY-MM-DD"]);
}

#[test]
fn invoice_due_before_issue() {
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 3, "I002,B001,40000,EUR,2026-12-15,2026-12-01"));
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_csv("invoices.csv", 3), &field("due_date"), &value("2026-12-01"), "on or after the issue date"],
    );
}

#[test]
fn duplicate_invoice_id() {
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 4, "I001,B002,50000,USD,2026-12-20,2027-01-19"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("invoices.csv", 4), &field("invoice_id"), &value("I001"), "unique"]);
}

#[test]
fn negative_invoice_amount() {
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 2, "I001,B001,-60000,EUR,2026-12-01,2027-01-30"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("invoices.csv", 2), &field("amount"), &value("-60000"), ">= 0"]);
}

#[test]
fn invoice_date_outside_bounds() {
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 2, "I001,B001,60000,EUR,1899-12-01,2027-01-30"));
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_csv("invoices.csv", 2), &field("issue_date"), &value("1899-12-01"), "from 2017-01-01 to 2027-01-01"],
    );
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 3, "I002,B001,40000,EUR,2026-12-15,2300-02-13"));
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_csv("invoices.csv", 3), &field("due_date"), &value("2300-02-13"), "from 2017-01-01 to 2037-01-01"],
    );
}

#[test]
fn invoices_missing_required_column() {
    let text = "\
invoice_id,buyer_id,currency,issue_date,due_date
I001,B001,EUR,2026-12-01,2027-01-30
";
    let dir = study_with("invoices.csv", text);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("invoices.csv", 1), &field("amount"), "invoice_id", "required column `amount`"]);
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios.

#[test]
fn scenario_probability_out_of_range() {
    let dir = scenario("[stress]\nsystematic_quantile = 1.5\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("base.toml", 3), &key("stress.systematic_quantile"), &field("systematic_quantile"), &value("1.5")],
    );
    let dir = scenario("[credit]\ninsolvency_share = 2\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("base.toml", 3), &key("credit.insolvency_share"), &field("insolvency_share"), &value("2"), "[0, 1]"],
    );
}

#[test]
fn scenario_rating_pd_out_of_range() {
    let dir = scenario("[ratings]\nBB = 1.2\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), &key("ratings.BB"), &value("1.2")]);
}

#[test]
fn factor_weights_not_summing_to_one() {
    let dir = scenario("[credit]\nfactor_weights = { global = 0.5, sector = 0.3, country = 0.1 }\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[
            &at_toml("base.toml", 3),
            &key("credit.factor_weights"),
            &field("factor_weights"),
            "global = 0.5",
            "sum to 1",
        ],
    );
}

#[test]
fn non_finite_number() {
    let dir = scenario("[stress]\npd_multiplier = nan\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), &key("stress.pd_multiplier"), &field("pd_multiplier"), "NaN"]);
    let dir = scenario("[stress]\npd_multiplier = inf\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("base.toml", 3), &key("stress.pd_multiplier"), &field("pd_multiplier"), &value("inf")],
    );
    // A decimal-valued key (kept as an exact decimal) refuses non-finite numbers too.
    let dir = scenario("[stress]\nsales_multiplier = -inf\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), &value("-inf"), "finite"]);
    let dir = scenario("[stress]\nrecovery_multiplier = nan\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), &value("nan"), "finite"]);
}

#[test]
fn non_finite_decimal_names_key() {
    let dir = scenario("[stress]\nsales_multiplier = -inf\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("base.toml", 3), &key("stress.sales_multiplier"), &field("sales_multiplier"), &value("-inf")],
    );
}

#[test]
fn wrong_type() {
    let dir = scenario("[stress]\npd_multiplier = \"two\"\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), "two", "expected a number (found string \"two\")"]);
    let dir = study_with("study.toml", &STUDY.replace("horizon_months = 6", "horizon_months = \"6\""));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("study.toml", 3), &value("\"6\""), "string"]);
}

#[test]
fn wrong_type_names_key() {
    let dir = scenario("[stress]\npd_multiplier = \"two\"\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), &key("stress.pd_multiplier"), &field("pd_multiplier")]);
    let dir = study_with("study.toml", &STUDY.replace("horizon_months = 6", "horizon_months = \"6\""));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("study.toml", 3), &key("horizon_months"), &field("horizon_months")]);
}

#[test]
fn forced_default_of_unknown_buyer() {
    let dir = scenario("[stress]\nforced_defaults = [{ buyers = [\"B0001\"], day = 30 }]\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("base.toml", 3), &key("stress.forced_defaults[0].buyers"), &value("B0001"), "did you mean `B001`"],
    );
}

#[test]
fn forced_default_day_outside_horizon() {
    // 2027-01-01 + 6 months = 181 days.
    let dir = scenario("[stress]\nforced_defaults = [{ buyers = [\"B001\"], day = 181 }]\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("base.toml", 3), &key("stress.forced_defaults[0].day"), &field("day"), &value("181"), "0..181"],
    );
    let dir = scenario("[stress]\nforced_defaults = [{ buyers = [\"B001\"], day = -1 }]\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), &key("stress.forced_defaults[0].day"), &value("-1")]);
}

#[test]
fn recovery_sd_too_large_for_beta() {
    // sd² = 0.09 >= μ(1−μ) = 0.08 × 0.92 = 0.0736.
    let dir = scenario("[credit]\nrecovery_insolvency = { mean = 0.08, sd = 0.3, lag_days = 540 }\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &["base.toml", "credit.recovery_insolvency.sd", &value("0.3"), "sd² < μ(1−μ)"]);
}

#[test]
fn recovery_sd_too_large_for_beta_names_key_line() {
    let dir = scenario("[credit]\nrecovery_insolvency = { mean = 0.08, sd = 0.3, lag_days = 540 }\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), &key("credit.recovery_insolvency.sd"), &value("0.3")]);
}

#[test]
fn days_late_p90_below_median() {
    let dir = scenario("[payment]\ndays_late_median = 30\ndays_late_p90 = 20\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[
            &at_toml("base.toml", 4),
            &key("payment.days_late_p90"),
            &field("days_late_p90"),
            &value("20"),
            "days_late_median",
        ],
    );
}

#[test]
fn scenario_unknown_sector_in_multiplier() {
    let dir = scenario("[stress]\npd_multiplier_by_sector = { constructoin = 1.5 }\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("base.toml", 3), "stress.pd_multiplier_by_sector.constructoin", "did you mean `construction`"],
    );
}

// ---------------------------------------------------------------------------------------------------------
// Keys of later releases set to non-default values.

#[test]
fn late_share_out_of_range() {
    let dir = scenario("[payment]\nlate_share = 1.3\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), &key("payment.late_share"), &value("1.3"), "a share in [0, 1]"]);
}

#[test]
fn country_probability_out_of_range() {
    let dir = scenario("[country_risk]\ndefault_probability = 1.5\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("base.toml", 3), &key("country_risk.default_probability"), &value("1.5"), "a probability in [0, 1]"],
    );
}

#[test]
fn forced_country_event_of_unknown_country() {
    let dir =
        scenario("[stress]\nforced_country_events = [{ country = \"AX\", start_day = 10, duration_days = 30 }]\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[
            &at_toml("base.toml", 3),
            &key("stress.forced_country_events[0].country"),
            &value("AX"),
            "a country of the portfolio",
        ],
    );
}

#[test]
fn t_copula_degrees_of_freedom_out_of_range() {
    let dir = scenario("[credit]\ncopula = \"t\"\nt_dof = 2\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("base.toml", 4), &key("credit.t_dof"), &value("2"), "degrees of freedom in (2, 1000]"],
    );
}

#[test]
fn unknown_copula() {
    let dir = scenario("[credit]\ncopula = \"clayton\"\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 3), &key("credit.copula"), &value("clayton"), "\"gaussian\" or \"t\""]);
}

#[test]
fn limit_cuts_whose_trigger_leaves_out_defaulters() {
    let dir = scenario("[stress]\nlimit_cuts = { trigger_pd_multiple = 0.5, share = 0.2, cut_to = 0.5 }\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[
            &at_toml("base.toml", 3),
            &key("stress.limit_cuts.trigger_pd_multiple"),
            &value("0.5"),
            "a multiple of at least 1",
        ],
    );
    let dir = scenario("[stress]\nlimit_cuts = { share = 0.2, cut_to = 1.5 }\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&key("stress.limit_cuts.cut_to"), &value("1.5"), "a fraction of the limit in [0, 1]"]);
    assert_line(&err, &[&key("stress.limit_cuts.share"), &value("0.2"), "a `trigger_pd_multiple` of at least 1"]);
}

#[test]
fn company_ratio_out_of_range() {
    let text = format!("{STUDY}\n[company]\nopening_cash = 4_000_000\nadvance_rate_insured = 1.5\n");
    let dir = study_with("study.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &["study.toml:", &key("company.advance_rate_insured"), "\"1.5\"", "a ratio in [0, 1]"]);
}

#[test]
fn company_negative_amount() {
    let text = format!("{STUDY}\n[company]\nopening_cash = 4_000_000\nminimum_cash = -5\n");
    let dir = study_with("study.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &["study.toml:", &key("company.minimum_cash"), "\"-5\"", "between 0 and 1e12"]);
}

#[test]
fn toml_amount_beyond_exact_decimal() {
    let text = POLICIES.replace("max_liability = 2_000_000", "max_liability = 1e40");
    let dir = study_with("policies.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("policies.toml", 10), &key("policy[1].max_liability"), &value("1e40"), "7.9e28"]);
    let huge = "123456789012345678901234567890123";
    let text = POLICIES.replace("max_liability = 2_000_000", &format!("max_liability = {huge}"));
    let dir = study_with("policies.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("policies.toml", 10), &key("policy[1].max_liability"), &value(huge), "7.9e28"]);
    let dir = study_with("study.toml", &format!("{STUDY}\n[company]\nopening_cash = 1e40\n"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("study.toml", 18), &key("company.opening_cash"), &value("1e40"), "7.9e28"]);
}

#[test]
fn defaults_of_later_releases_are_accepted() {
    let dir = scenario(
        "[credit]\ncopula = \"gaussian\"\n[payment]\nlate_share = 0.45\n[country_risk]\ndefault_probability = 0.0\n\
         [stress]\nlimit_cuts = { share = 0.0 }\n",
    );
    validate_ok(dir.path());
}

// ---------------------------------------------------------------------------------------------------------
// Policies.

#[test]
fn policy_both_max_liabilities() {
    let text = POLICIES.replace("max_liability = 2_000_000", "max_liability = 2_000_000\nmax_liability_multiple = 20");
    let dir = study_with("policies.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &["policies.toml:", &key("policy[1].max_liability"), "exactly one of"]);
}

#[test]
fn policy_neither_max_liability() {
    let text = POLICIES.replace("max_liability = 2_000_000\n", "");
    let dir = study_with("policies.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &["policies.toml:", &key("policy[1].max_liability"), "exactly one of"]);
}

#[test]
fn policy_indemnity_above_one() {
    let text = POLICIES.replace("indemnity = 0.9\n", "indemnity = 1.2\n");
    let dir = study_with("policies.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("policies.toml", 3), &key("policy[0].indemnity"), &field("indemnity"), &value("1.2"), "[0, 1]"],
    );
}

#[test]
fn policy_duplicate_name() {
    let text = POLICIES.replace("name = \"fixed-cap\"", "name = \"whole-turnover-90\"");
    let dir = study_with("policies.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("policies.toml", 8), &key("policy[1].name"), &value("whole-turnover-90"), "only once"],
    );
}

#[test]
fn policy_named_none() {
    let text = POLICIES.replace("name = \"fixed-cap\"", "name = \"none\"");
    let dir = study_with("policies.toml", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("policies.toml", 8), &key("policy[1].name"), &value("none")]);
}

// ---------------------------------------------------------------------------------------------------------
// study.toml.

#[test]
fn horizon_out_of_range() {
    for h in ["0", "61"] {
        let dir = study_with("study.toml", &STUDY.replace("horizon_months = 6", &format!("horizon_months = {h}")));
        let err = validate_fails(dir.path());
        assert_line(&err, &[&at_toml("study.toml", 3), &key("horizon_months"), &value(h), "1..=60"]);
    }
}

#[test]
fn as_of_out_of_bounds() {
    for d in ["1500-01-01", "9999-12-31"] {
        let dir = study_with("study.toml", &STUDY.replace("as_of = 2027-01-01", &format!("as_of = {d}")));
        let err = validate_fails(dir.path());
        assert_line(&err, &[&at_toml("study.toml", 2), &key("as_of"), &value(d), "from 1970-01-01 to 2099-12-31"]);
    }
}

#[test]
fn toml_syntax_error() {
    let dir = study_with("study.toml", &STUDY.replace("name = \"validation test\"", "name = \"validation test"));
    let err = validate_fails(dir.path());
    assert_line(&err, &["study.toml:1:24: ", &key("name"), &value("name = \"validation test"), "valid TOML", "`\"`"]);
    let dir = study_with("study.toml", &STUDY.replace("seed = 1", "seed = 1\nseed = 2"));
    let err = validate_fails(dir.path());
    assert_line(&err, &["study.toml:6:1: ", &key("seed"), "valid TOML (duplicate key)"]);
}

#[test]
fn scenarios_glob_matches_nothing() {
    let dir = study_with("study.toml", &STUDY.replace("scenarios/*.toml", "scenario/*.toml"));
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_toml("study.toml", 8), &key("scenarios[0]"), &value("scenario/*.toml"), "matches at least one"],
    );
}

#[test]
fn missing_buyers_file() {
    let dir = study_with("study.toml", &STUDY.replace("buyers = \"buyers.csv\"", "buyers = \"debtors.csv\""));
    let err = validate_fails(dir.path());
    assert!(err.contains("debtors.csv"), "stderr:\n{err}");
}

// ---------------------------------------------------------------------------------------------------------
// CSV format.

#[test]
fn semicolon_csv_with_decimal_commas() {
    let text = "\
buyer_id;name;country;sector;rating;outstanding;terms_days;monthly_sales
B001;Alpha GmbH;DE;construction;BBB;100000,50;60;50000,00
B002;Beta Inc;US;retail;BB;50000,00;30;20000,00
";
    let dir = study_with("buyers.csv", text);
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_csv("buyers.csv", 1), &field("delimiter"), &value(";"), "comma-separated", "decimal separator"],
    );
}

#[test]
fn stray_quote_that_closes_on_a_later_line() {
    // The quote opened in B002's name closes in B003's row: one record over two lines.
    let text = buyers_line(3, "B002,\"Beta Inc,US,retail,,0.02,USD,50000,30,20000,,,")
        .replace("B003,Gamma SA", "B003,Gamma\" SA");
    let dir = study_with("buyers.csv", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 3), &field("name"), "\"Beta Inc", "closes on line 4", "stray `\"`"]);
    // An unbalanced quote that makes a row too long names the quote as the likely cause.
    let text =
        buyers_line(3, "B002,Beta Inc,US,retail,,0.02,USD,50000,30,20000,,,").replace("Gamma SA,", "\"Gamma SA,");
    let text = text.replace("discretionary,G1\n", "discretionary,G1\nB004,\"Delta\",DE,retail,,0.01,,0,30,1,,,\n");
    let dir = study_with("buyers.csv", &text);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 4), &field("name"), "closes on line 5"]);
}

#[test]
fn input_that_is_not_a_regular_file() {
    // /dev/zero would be read without end.
    let dir = study_with("study.toml", &STUDY.replace("buyers = \"buyers.csv\"", "buyers = \"/dev/zero\""));
    let err = validate_fails(dir.path());
    assert_line(&err, &["/dev/zero", "not a regular file"]);
}

#[test]
fn ragged_row() {
    let dir = study_with("buyers.csv", &buyers_line(3, "B002,Beta Inc,US,retail,,0.02,USD,50000,30,20000,,,,extra"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 3), "14 fields", "13 fields"]);
}

#[test]
fn unclosed_quote() {
    let text = buyers_line(3, "B002,\"Beta Inc,US,retail,,0.02,USD,50000,30,20000,,,");
    let dir = study_with("buyers.csv", &text);
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[
            &at_csv("buyers.csv", 3),
            &field("name"),
            "\"\\\"Beta Inc,US",
            "a closing `\"`",
            "runs to the end of the file",
        ],
    );
}

#[test]
fn duplicate_column_name() {
    let header = BUYERS.lines().next().unwrap_or_default().replace("group_id", "outstanding");
    let dir = study_with("buyers.csv", &replace_line(BUYERS, 1, &header));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 1), &field("outstanding"), &value("outstanding"), "once in the header"]);
}

#[test]
fn non_utf8_bytes() {
    let mut bytes = BUYERS.as_bytes().to_vec();
    let at = BUYERS.find("Beta").expect("row of B002");
    bytes.splice(at..at, [0xFF, 0xFE]);
    let dir = study_bytes(&[("buyers.csv", &bytes)]);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 3), &field("encoding"), "xFF", "UTF-8"]);
}

#[test]
fn bom_and_crlf_are_accepted() {
    let text = format!("\u{FEFF}{}", BUYERS.replace('\n', "\r\n"));
    let dir = study_with("buyers.csv", &text);
    validate_ok(dir.path());
}

#[test]
fn unknown_extra_column_is_a_warning() {
    let text = BUYERS
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 0 { format!("{l},erp_ref\n") } else { format!("{l},X{i}\n") })
        .collect::<String>();
    let dir = study_with("buyers.csv", &text);
    let err = validate_ok(dir.path());
    assert_line(&err, &["warning", "buyers.csv", "erp_ref"]);
}

// ---------------------------------------------------------------------------------------------------------
// `run` refuses bad input before any trial, and usage errors.

#[test]
fn run_refuses_bad_input() {
    let dir = study_with("buyers.csv", &buyers_line(3, "B002,Beta Inc,US,retail,,1.5,USD,50000,30,20000,,,"));
    let err = run_fails(dir.path(), &[]);
    assert_line(&err, &[&at_csv("buyers.csv", 3), &field("pd_1y"), &value("1.5")]);
    let dir = scenario("[stress]\npd_multiplierr = 2\n");
    let err = run_fails(dir.path(), &[]);
    assert_line(&err, &[&at_toml("base.toml", 3), "pd_multiplierr", "did you mean `pd_multiplier`"]);
}

#[test]
fn run_threads_zero() {
    let dir = study(&[]);
    let err = run_fails(dir.path(), &["--threads", "0"]);
    assert!(err.contains("--threads"), "stderr:\n{err}");
}

#[test]
fn run_unknown_scenario() {
    let dir = study(&[]);
    let err = run_fails(dir.path(), &["--scenario", "nosuch"]);
    assert_line(&err, &["nosuch", "base"]);
}

#[test]
fn unwritable_output_folder_fails_before_running() {
    let dir = study(&[]);
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"not a folder").unwrap();
    let out = Command::cargo_bin("arstress")
        .unwrap()
        .arg("run")
        .arg(dir.path())
        .arg("--out")
        .arg(blocker.join("reports"))
        .args(["--trials", "10", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--out") && err.contains("a-file/reports") && err.contains("not writable"), "stderr:\n{err}");
}

// ---------------------------------------------------------------------------------------------------------
// Found by fuzzing (docs/fuzzing.md): inputs that panicked instead of exiting 2.

/// `stress.fx_shock` beyond (0, 1000] was reported but still used to rank buyers for `top_n`, where the shocked
/// rate (fx × shock) overflowed an exact decimal and panicked.
#[test]
fn fuzz_huge_fx_shock_with_top_n_is_reported_not_a_panic() {
    let dir = study(&[
        ("study.toml", &STUDY.replace("USD = 0.92", "USD = 2")),
        (
            "scenarios/base.toml",
            "name = \"base\"\n[stress]\nfx_shock = { USD = 5e28 }\nforced_defaults = [{ top_n = 1 }]\n",
        ),
    ]);
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[
            &at_toml("base.toml", 3),
            &key("stress.fx_shock.USD"),
            &field("USD"),
            &value("50000000000000000000000000000"),
            "(0, 1000]",
        ],
    );
}

/// A recovery mean and `recovery_multiplier` both far out of range: their product (the Beta mean) overflowed an
/// exact decimal and panicked; each key is reported instead.
#[test]
fn fuzz_huge_recovery_mean_times_multiplier_is_reported_not_a_panic() {
    let dir = scenario("[credit]\nrecovery_insolvency = { mean = 1e20 }\n[stress]\nrecovery_multiplier = 1e20\n");
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[
            &at_toml("base.toml", 3),
            &key("credit.recovery_insolvency.mean"),
            &value("100000000000000000000"),
            "a mean recovery rate in [0, 1]",
        ],
    );
    assert_line(
        &err,
        &[&at_toml("base.toml", 5), &key("stress.recovery_multiplier"), &value("100000000000000000000"), "[0, 100]"],
    );
}

// ---------------------------------------------------------------------------------------------------------
// Issue 17: input defects.

/// A study with invoices.csv where buyer `N` (`outstanding = 100000.02`, `terms_days = 45`) has no invoice row,
/// and a scenario that forces `N` insolvent on day 23 with no recovery. Buyer `A` has its row and no PD.
fn study_with_buyer_without_invoice_rows() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    crate::common::write_invoice_study(
        dir.path(),
        "spread",
        20,
        6,
        "buyer_id,country,sector,pd_1y,outstanding,terms_days,monthly_sales\n\
         A,DE,food,0,500.00,30,0\n\
         N,FR,food,0,100000.02,45,0\n",
        "invoice_id,buyer_id,amount,due_date\nA1,A,500.00,2027-01-20\n",
        &[(
            "scenarios/forced.toml",
            "name = \"forced\"\n[credit]\nrecovery_insolvency = { mean = 0, sd = 0, lag_days = 540 }\n\
             [stress]\nforced_defaults = [{ buyers = [\"N\"], day = 23, kind = \"insolvency\" }]\n",
        )],
    );
    dir
}

#[test]
fn buyer_without_invoice_rows_keeps_its_outstanding_in_validate() {
    let dir = study_with_buyer_without_invoice_rows();
    let (code, stdout, stderr) = run_cli(&["validate".as_ref(), dir.path().as_os_str()]);
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("exposure 100,500.02 EUR"), "A's invoice plus N's outstanding:\n{stdout}");
    assert!(
        stdout.lines().any(|l| l.contains("1 buyer without rows in invoices.csv")
            && l.contains("outstanding 100,000.02 EUR spread over payment terms")),
        "{stdout}"
    );
    let json = arstress().arg("validate").arg(dir.path()).args(["--format", "json"]).output().expect("run");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v["outstanding_spread"]["buyers"], 1, "{v}");
    assert_eq!(v["outstanding_spread"]["exposure"].to_string(), "100000.02", "{v}");
}

#[test]
fn buyer_without_invoice_rows_loses_its_outstanding_at_a_forced_insolvency() {
    let dir = study_with_buyer_without_invoice_rows();
    let out = crate::common::run_study(dir.path(), &dir.path().join("out"), &[]);
    // Spread as without invoices.csv: 50,000.01 due on day 11 (45/4 = 11.25) and 50,000.01 on day 34
    // (3·45/4 = 33.75). A defaulting buyer is never late: the first is paid on day 11, the second is unpaid
    // on day 23.
    assert_eq!(crate::common::summary(&out, "forced", "none", "gross_loss", "mean"), "50000.01");
    assert_eq!(crate::common::summary(&out, "forced", "none", "gross_loss", "std_dev"), "0.00");
}

/// Line numbers come from the row's byte offset: the same with LF and CRLF, with and without a BOM.
#[test]
fn crlf_line_numbers_match_lf_in_buyers_and_invoices() {
    let buyers = buyers_line(4, "B003,Gamma SA,FR,construction,BB,,,-5.00,90,10000,100000,discretionary,G1");
    let invoices = replace_line(INVOICES, 4, "I003,B002,-7.00,USD,2026-12-20,2027-01-19");
    for (file, text, name) in [("buyers.csv", &buyers, "outstanding"), ("invoices.csv", &invoices, "amount")] {
        for crlf in [false, true] {
            for bom in [false, true] {
                let body = if crlf { text.replace('\n', "\r\n") } else { text.clone() };
                let body = if bom { format!("\u{FEFF}{body}") } else { body };
                let dir = study_with(file, &body);
                let err = validate_fails(dir.path());
                let bad = if file == "buyers.csv" { "-5.00" } else { "-7.00" };
                assert!(
                    err.lines()
                        .any(|l| l.contains(&at_csv(file, 4)) && l.contains(&field(name)) && l.contains(&value(bad))),
                    "{file} crlf={crlf} bom={bom}: expected line 4\n{err}"
                );
            }
        }
    }
    // A ragged row (a csv reader error, not a field check) is located the same way.
    let ragged = replace_line(BUYERS, 4, "B003,Gamma SA,FR").replace('\n', "\r\n");
    let err = validate_fails(study_with("buyers.csv", &ragged).path());
    assert_line(&err, &[&at_csv("buyers.csv", 4), &field("row"), &value("3 fields")]);
}

/// Row-level problems of every file come in one run: buyers (negative amount, pd_1y = 2, a grade the rating
/// table lacks), invoices, policies, scenarios and study.toml.
#[test]
fn every_row_problem_of_every_file_is_reported_in_one_run() {
    let buyers = "\
buyer_id,name,country,sector,rating,pd_1y,currency,outstanding,terms_days,monthly_sales,credit_limit,limit_type,group_id
B001,Alpha GmbH,DE,construction,BBB,,EUR,100000,60,50000,200000,approved,G1
B002,Beta Inc,US,retail,,0.02,USD,-5,30,20000,,,
B003,Gamma SA,FR,construction,BB,,,0,90,10000,100000,discretionary,G1
B004,Delta AG,DE,retail,,2,EUR,0,30,10000,,,
B005,Epsilon SA,FR,retail,BB,,,0,30,10000,,,
B006,Zeta Srl,IT,retail,ZZ,,,0,30,10000,,,
";
    let invoices = replace_line(INVOICES, 3, "I002,B001,40000,EUR,2026-12-15,2027-02-31");
    let policies = POLICIES.replace("indemnity = 0.85", "indemnity = 1.85");
    let scen = "name = \"base\"\n[payment]\nlate_share = 1.3\n";
    let study_toml = STUDY.replace("horizon_months = 6\ntrials = 100", "horizon_months = 6\ntrials = 0");
    let dir = study(&[
        ("buyers.csv", buyers),
        ("invoices.csv", &invoices),
        ("policies.toml", &policies),
        ("scenarios/base.toml", scen),
        ("study.toml", &study_toml),
    ]);
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("buyers.csv", 3), &field("outstanding"), &value("-5")]);
    assert_line(&err, &[&at_csv("buyers.csv", 5), &field("pd_1y"), &value("2")]);
    assert_line(&err, &[&at_csv("buyers.csv", 7), &field("rating"), &value("ZZ")]);
    assert_line(&err, &[&at_csv("invoices.csv", 3), &field("due_date"), &value("2027-02-31")]);
    assert_line(&err, &[&at_toml("policies.toml", 9), &key("policy[1].indemnity"), &value("1.85")]);
    assert_line(&err, &[&at_toml("base.toml", 3), &key("payment.late_share"), &value("1.3")]);
    assert_line(&err, &[&at_toml("study.toml", 4), &key("trials"), &value("0")]);
    assert!(err.contains("7 input problems\n"), "stderr:\n{err}");
    // In reading order: study.toml, buyers.csv (by line), invoices.csv, policies.toml, the scenario.
    let at = |needle: &str| err.find(needle).unwrap_or_else(|| panic!("{needle} missing:\n{err}"));
    let order =
        ["study.toml:4:", "buyers.csv:3:", "buyers.csv:5:", "buyers.csv:7:", "invoices.csv:3:", "policies.toml:9:"];
    assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "not in reading order:\n{err}");
    assert!(at("policies.toml:9:") < at("base.toml:3:"), "not in reading order:\n{err}");
}

/// A grade that several scenarios' (identical) rating tables lack is one problem naming them all, not one
/// line per scenario.
#[test]
fn unknown_rating_is_one_problem_naming_every_scenario_that_lacks_it() {
    let dir = study(&[
        ("buyers.csv", &buyers_line(4, "B003,Gamma SA,FR,construction,ZZ,,,0,90,10000,100000,discretionary,G1")),
        ("scenarios/other.toml", "name = \"other\"\n"),
    ]);
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_csv("buyers.csv", 4), &field("rating"), &value("ZZ"), "the rating table of scenarios base, other ("],
    );
    assert!(err.contains("1 input problem\n"), "stderr:\n{err}");
}

/// 101 buyers of 999,999,999,999.99 each: 100,999,999,999,998.99 in all, above the 1e14 portfolio limit,
/// with or without invoices.csv.
#[test]
fn portfolio_of_buyers_outstanding_above_1e14_is_refused() {
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,outstanding,terms_days\n");
    for i in 0..101 {
        buyers.push_str(&format!("B{i:03},DE,retail,0.01,999999999999.99,30\n"));
    }
    for with_invoices in [false, true] {
        let study_toml =
            if with_invoices { STUDY.to_owned() } else { STUDY.replace("invoices = \"invoices.csv\"\n", "") };
        let dir = study(&[
            ("study.toml", &study_toml),
            ("buyers.csv", &buyers),
            ("invoices.csv", "invoice_id,buyer_id,amount,due_date\n"),
        ]);
        let err = validate_fails(dir.path());
        assert_line(
            &err,
            &["study.toml: ", &field("portfolio"), &value("100999999999998.99 open and planned"), "at most 1e14"],
        );
    }
}

/// `pd_multiplier = 1e308` × `pd_multiplier_by_sector.construction = 1e308` × `pd_multiplier_by_country.FR = 0`:
/// the zero wins (the French construction buyer keeps a PD of 0), and the other construction buyer's product
/// overflows, which is refused with the keys named.
#[test]
fn pd_multiplier_product_zero_wins_and_overflow_names_the_keys() {
    let stress = "[stress]\npd_multiplier = 1e308\npd_multiplier_by_sector = { construction = 1e308 }\n\
                  pd_multiplier_by_country = { FR = 0.0 }\n";
    let dir = scenario(stress);
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[
            &at_toml("base.toml", 4),
            &key("stress.pd_multiplier_by_sector.construction"),
            &value("1e308 × 1e308"),
            "stress.pd_multiplier × stress.pd_multiplier_by_sector.construction",
            "buyer B001",
        ],
    );
    assert!(err.contains("1 input problem\n"), "B003 (FR) has a zero factor, not an overflow:\n{err}");

    // Only the French construction buyer in that sector: valid, and its PD stays 0 (no loss at all).
    let dir = tempfile::tempdir().expect("temp dir");
    crate::common::write_invoice_study(
        dir.path(),
        "zero wins",
        200,
        12,
        "buyer_id,country,sector,pd_1y,outstanding,terms_days,monthly_sales\n\
         F,FR,food,0.05,1000.00,30,100\nG,DE,retail,0,1000.00,30,100\n",
        "invoice_id,buyer_id,amount,due_date\nF1,F,1000.00,2027-01-20\nG1,G,1000.00,2027-01-20\n",
        &[(
            "scenarios/s.toml",
            "name = \"s\"\n[stress]\npd_multiplier = 1e308\npd_multiplier_by_sector = { food = 1e308 }\n\
             pd_multiplier_by_country = { FR = 0.0 }\n",
        )],
    );
    let out = crate::common::run_study(dir.path(), &dir.path().join("out"), &[]);
    assert_eq!(crate::common::summary(&out, "s", "none", "gross_loss", "mean"), "0.00");
}

#[test]
fn signed_due_date_is_refused() {
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 3, "I002,B001,40000,EUR,2026-12-15,+2027-01-31"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("invoices.csv", 3), &field("due_date"), &value("+2027-01-31"), "a date YYYY-MM-DD"]);
    let dir = study_with("invoices.csv", &replace_line(INVOICES, 2, "I001,B001,60000,EUR,2026-12-1,2027-01-30"));
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_csv("invoices.csv", 2), &field("issue_date"), &value("2026-12-1"), "a date YYYY-MM-DD"]);
}

#[test]
fn country_codes_outside_iso_3166_are_refused_with_a_hint() {
    let dir = study_with(
        "buyers.csv",
        &replace_line(
            &buyers_line(2, "B001,Alpha GmbH,UK,construction,BBB,,EUR,100000,60,50000,200000,approved,G1"),
            4,
            "B003,Gamma SA,AB,construction,BB,,,0,90,10000,100000,discretionary,G1",
        ),
    );
    let err = validate_fails(dir.path());
    assert_line(
        &err,
        &[&at_csv("buyers.csv", 2), &field("country"), &value("UK"), "ISO 3166-1 alpha-2", "did you mean GB"],
    );
    assert_line(&err, &[&at_csv("buyers.csv", 4), &field("country"), &value("AB"), "ISO 3166-1 alpha-2"]);
    let dir = scenario("[country_risk.countries.UK]\nprobability = 0.1\n");
    let err = validate_fails(dir.path());
    assert_line(&err, &[&at_toml("base.toml", 2), &key("country_risk.countries.UK"), &value("UK"), "did you mean GB"]);
}
