//! What reaches the terminal (issue 17): no escape sequence from a user's file, the closing lines name
//! the alternative their figures belong to, and `compare` refuses figures no report could hold.

use crate::common::*;
use std::path::Path;

/// Copies the example study into `dir`, with `edit` applied to buyers.csv's text.
fn example_copy(dir: &Path, edit: impl Fn(&str) -> String) {
    let from = example_study();
    for entry in walk(&from) {
        let rel = entry.strip_prefix(&from).unwrap();
        let to = dir.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        if rel == Path::new("buyers.csv") {
            std::fs::write(&to, edit(&std::fs::read_to_string(&entry).unwrap())).unwrap();
        } else {
            std::fs::copy(&entry, &to).unwrap();
        }
    }
}

/// buyers.csv's text with the first buyer's `cells` (column, raw CSV text) replaced.
fn first_buyer_with(text: &str, cells: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let mut row: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    for (column, value) in cells {
        row[header.iter().position(|h| h == column).unwrap()] = (*value).to_owned();
    }
    lines[1] = row.join(",");
    lines.join("\n") + "\n"
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

/// Regression (issue 17, item 15): a sector `ESC]0;pwned BEL` and a group id holding `ESC[2J` and a
/// newline were printed raw by `validate`: they retitled the terminal, cleared it and forged a line.
#[test]
fn terminal_escapes_in_names_are_printed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    example_copy(dir.path(), |text| {
        first_buyer_with(
            text,
            &[("sector", "\u{1b}]0;pwned\u{7}"), ("group_id", "\"G\u{1b}[2J\nFORGED: all is valid\"")],
        )
    });
    let output = arstress().arg("validate").arg(dir.path()).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{what} carries raw control characters: {text:?}");
        assert!(!text.lines().any(|l| l.starts_with("FORGED")), "{what} has a forged line: {text}");
    }
    assert!(stdout.contains("\\u{1b}]0;pwned\\u{7}"), "the sector is shown, escaped: {stdout}");
    assert!(stdout.contains("G\\u{1b}[2J\\u{a}FORGED"), "the group is shown on one line, escaped: {stdout}");
}

/// Regression (issue 17, item 15): a problem's message escapes the control characters of the value
/// and of everything else it quotes from the file.
#[test]
fn terminal_escapes_in_a_bad_value_are_printed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    example_copy(dir.path(), |text| first_buyer_with(text, &[("rating", "\u{1b}[2J")]));
    let output = arstress().arg("validate").arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(stderr.contains("buyers.csv:2: field `rating`"), "{stderr}");
}

/// Regression (issue 17, item 18): the closing line named the cheapest *policy* even when no
/// insurance cost less, and printed the P(shortfall) of "none" beside it. It now ranks every
/// alternative, none included, and prints the figures of the one it names, with their errors
/// (issue 18: the same answers as the report's first screen).
#[test]
fn closing_line_names_the_cheapest_alternative_with_its_own_figures() {
    use arstress::report::figures::{compact, percent_with_error};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = arstress()
        .arg("run")
        .arg(example_study())
        .args(["--trials", "3000", "--scenario", "baseline", "--scenario", "severe-recession", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // The answers are results: on stdout, a block per scenario (its name, then one answer a line,
    // wrapped), every line under 100 characters; messages on stderr.
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines().chain(stderr.lines()) {
        assert!(line.chars().count() < 100, "{} characters: {line}", line.chars().count());
    }
    assert!(stderr.contains("reports written to") && !stdout.contains("reports written to"));
    assert!(!stderr.contains("cheapest"), "no answer on stderr: {stderr}");
    // A scenario's block, joined back into one line: the answers separated by "; ".
    let block = |scenario: &str| -> String {
        let mut lines = stdout.lines().skip_while(|l| *l != format!("{scenario}:"));
        let head = lines.next().expect("a block per scenario").to_owned();
        let mut text = head + " ";
        for l in lines.take_while(|l| l.starts_with("  ")) {
            if l.starts_with("    ") {
                text.push(' ');
                text.push_str(l.trim_start());
            } else {
                if !text.ends_with(": ") {
                    text.push_str("; ");
                }
                text.push_str(l.trim_start());
            }
        }
        text
    };
    let rows = read_csv(&out.join("summary.csv"));
    let mut cheapest = Vec::new();
    for scenario in ["baseline", "severe-recession"] {
        let row = |policy: &str, measure: &str| {
            rows.iter()
                .find(|r| r["scenario"] == scenario && r["policy"] == policy && r["measure"] == measure)
                .cloned()
                .unwrap()
        };
        // The alternative with the lowest expected total cost, first on ties, from the reports.
        let mut best: Option<(i128, String)> = None;
        for r in rows.iter().filter(|r| r["scenario"] == scenario && r["measure"] == "total_cost") {
            let cost = cents(&r["mean"]);
            if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                best = Some((cost, r["policy"].clone()));
            }
        }
        let (_, best) = best.unwrap();
        let line = block(scenario);
        let figure =
            |r: &std::collections::BTreeMap<String, String>, column: &str| -> f64 { r[column].parse().unwrap() };
        let total = row(&best, "total_cost");
        let (cost, cost_se) = compact(figure(&total, "mean"), figure(&total, "mean_std_error"));
        let expected = format!("{scenario}: cheapest {best} at {cost} EUR (± {cost_se})");
        assert!(line.starts_with(&expected), "{scenario}: expected {expected:?} in\n{line}");
        if best != "none" {
            let shortfall = row(&best, "peak_shortfall");
            let (p, p_se) =
                percent_with_error(figure(&shortfall, "p_positive"), figure(&shortfall, "p_positive_std_error"));
            let expected = format!(", {p} (± {p_se}) with {best}");
            assert!(line.contains(&expected), "{scenario}: expected {expected:?} in\n{line}");
        }
        cheapest.push(best);
    }
    assert_eq!(cheapest[0], "none", "the example's baseline is cheapest without insurance: the case this test pins");
    assert_ne!(cheapest[1], "none", "and a policy is cheapest in the severe recession");
}

/// Regression (issue 17, item 14): `compare` took NaN, inf and 1e400 from a report's summary.csv
/// and wrote them on into comparison.csv. Each is refused, all in one run, with file, line, column
/// and value.
#[test]
fn compare_refuses_figures_that_are_not_finite_decimals() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    let study = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/study");
    run_study(&study, &old, &["--trials", "500", "--format", "csv"]);
    run_study(&study, &new, &["--trials", "500", "--format", "csv", "--seed", "9"]);
    let path = new.join("summary.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<String> = lines[0].split(',').map(str::to_owned).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let planted = [(2, "mean", "NaN"), (3, "es_99", "inf"), (5, "var_99_std_error", "1e400"), (6, "mean", "-Infinity")];
    for (line, column, value) in planted {
        let mut cells: Vec<String> = lines[line - 1].split(',').map(str::to_owned).collect();
        cells[col(column)] = value.into();
        lines[line - 1] = cells.join(",");
    }
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let cmp = dir.path().join("cmp");
    let output = arstress().arg("compare").arg(&old).arg(&new).arg("--out").arg(&cmp).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for (line, column, value) in planted {
        let needle = format!("summary.csv:{line}: field `{column}`, value \"{value}\": expected a finite decimal");
        assert!(stderr.contains(&needle), "{needle:?} not in\n{stderr}");
    }
    assert!(!cmp.join("comparison.csv").exists(), "nothing is written from refused figures");
}
