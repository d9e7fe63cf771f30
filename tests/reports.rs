//! report.html, summary.json and `validate --format json` from the CLI (issue 7), and the
//! report opened in headless Chromium (`report_renders_in_a_browser`).

use crate::common::*;
use std::path::Path;
use std::process::Command;

/// Runs the example study with every format and returns the report folder.
fn example_reports(dir: &Path) -> std::path::PathBuf {
    run_study(&example_study(), &dir.join("out"), &["--trials", "2000", "--format", "csv,json,html"])
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn report_html_is_self_contained_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = example_reports(dir.path());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let summary = read_csv(&out.join("summary.csv"));
    let scenarios: std::collections::BTreeSet<&str> = summary.iter().map(|r| r["scenario"].as_str()).collect();
    let pairs: std::collections::BTreeSet<(&str, &str)> =
        summary.iter().map(|r| (r["scenario"].as_str(), r["policy"].as_str())).collect();
    // Self-contained: no script, no external resource of any kind.
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("@import"));
    assert_eq!(html.matches("http").count(), html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count());
    assert!(!html.contains("src="), "no external images or frames");
    // One headline row per scenario × policy (and the header row).
    let headline = &html[html.find("id=\"headline\"").unwrap()..html.find("id=\"collections\"").unwrap()];
    assert_eq!(count(headline, "</tr>"), pairs.len() + 1);
    // Collection practice: a row per scenario (every one has the overdue write-off), a column per
    // measure some scenario has, each figure with its error or exact.
    let practice = &html[html.find("id=\"collections\"").unwrap()..];
    let practice = &practice[..practice.find("</section>").unwrap()];
    assert_eq!(count(practice, "</tr>"), scenarios.len() + 1);
    for column in ["Overdue write-off", "Agency fees", "Discounts", "Margin lost to terms", "Dilution"] {
        assert!(practice.contains(&format!("<th>{column}</th>")), "{column}");
    }
    // The first screen: a set of answer tiles per scenario, picked by a radio button each, and
    // the dot plots across scenarios with a mark (and its hover title) per scenario × alternative.
    assert_eq!(count(&html, "<div class=\"tiles s"), scenarios.len());
    assert_eq!(count(&html, "type=\"radio\""), scenarios.len());
    for chart in ["across-cost", "across-es", "across-shortfall"] {
        assert_eq!(count(&html, &format!("class=\"chart {chart}\"")), 1, "{chart}");
    }
    assert_eq!(count(&html, "<g class=\"mark\"><title>"), 3 * pairs.len());
    // Per scenario: a distribution and an exceedance chart with one series per alternative, a
    // cash fan per policy (the example has a cash side), the policy comparison and the top
    // contributors.
    let alternatives = pairs.len() / scenarios.len();
    assert_eq!(count(&html, "class=\"chart distribution\""), scenarios.len());
    assert_eq!(count(&html, "class=\"chart exceedance\""), scenarios.len());
    assert_eq!(count(&html, "class=\"chart cash\""), pairs.len());
    assert_eq!(count(&html, "class=\"fan\""), pairs.len());
    assert_eq!(count(&html, "class=\"series\""), 2 * pairs.len() + pairs.len(), "{alternatives} series per chart");
    assert_eq!(count(&html, "<svg"), count(&html, "</svg>"));
    assert_eq!(count(&html, "class=\"policies\""), scenarios.len());
    assert_eq!(count(&html, "class=\"contributors\""), scenarios.len());
    assert!(html.contains("id=\"portfolio\"") && html.contains("HHI buyers / groups"));
    // The figures are the CSV's, rounded to what their error supports, with the error beside
    // them; exact ones (the premium) to the cent with the currency.
    let baseline = summary
        .iter()
        .find(|r| r["scenario"] == "baseline" && r["policy"] == "none" && r["measure"] == "net_loss")
        .unwrap();
    let f = |c: &str| baseline[c].parse::<f64>().unwrap();
    let (es, es_se) = arstress::report::figures::with_error(f("es_99"), f("es_99_std_error"));
    assert!(es_se != "0" && !es.ends_with(".00"), "ES 99 {es} ± {es_se}: rounded to its error, no cents");
    assert!(
        html.contains(&format!("{es} <span class=\"se\">± {es_se}</span>")),
        "ES 99 {es} ± {es_se} not in the page"
    );
    let premium = comparison(&out, "baseline", "whole-turnover-90", "premium");
    assert!(html.contains(&format!("{} EUR", arstress::money::group_thousands(&premium))), "premium {premium}");
    // The top contributors are the first buyer rows of contributions.csv.
    let contributions = read_csv(&out.join("contributions.csv"));
    let top: Vec<_> = contributions
        .iter()
        .filter(|r| r["scenario"] == "top2-default" && r["policy"] == "none" && r["dimension"] == "buyer")
        .take(10)
        .collect();
    assert!(!top.is_empty());
    for row in top {
        let cell = format!("<td>{}</td><td>{}</td>", row["key"], arstress::report::html::esc(&row["name"]));
        assert!(html.contains(&cell), "{cell} missing");
    }
    // The inputs' hashes, the seed and the trials.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    for input in manifest["inputs"].as_array().unwrap() {
        assert!(html.contains(input["sha256"].as_str().unwrap()));
    }
    assert!(html.contains("seed 2027") && html.contains("2,000 trials"));
}

/// Names in any script reach the page intact, and markup in a name is escaped, not interpreted.
#[test]
fn report_html_keeps_names_in_any_script() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    assert!(Command::new("cp").arg("-r").arg(example_study()).arg(&study).status().unwrap().success());
    let buyers = study.join("buyers.csv");
    let text = std::fs::read_to_string(&buyers).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let name_col = header.iter().position(|h| h == "name").unwrap();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).unwrap();
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap();
        let row: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(j, v)| if j == name_col { format!("上海贸易<{i}> & 公司") } else { v.to_owned() })
            .collect();
        writer.write_record(&row).unwrap();
    }
    std::fs::write(&buyers, writer.into_inner().unwrap()).unwrap();
    let out = run_study(&study, &dir.path().join("out"), &["--trials", "500", "--scenario", "top2-default"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let start = html.find("class=\"contributors\"").unwrap();
    let contributors = &html[start..start + html[start..].find("</table>").unwrap()];
    assert_eq!(count(contributors, "上海贸易&lt;"), 10, "ten contributors with their names escaped");
    assert!(!html.contains("上海贸易<"), "a name's markup reached the page unescaped");
}

#[test]
fn summary_json_has_the_figures_of_summary_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = example_reports(dir.path());
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["schema"], "arstress.summary/1");
    assert_eq!(json["trials"], 2000);
    let rows = json["rows"].as_array().unwrap();
    let csv = read_csv(&out.join("summary.csv"));
    assert_eq!(rows.len(), csv.len());
    for (j, c) in rows.iter().zip(&csv) {
        for (key, cell) in c {
            let v = &j[key.as_str()];
            match v {
                serde_json::Value::Null => assert!(cell.is_empty(), "{key}"),
                serde_json::Value::String(s) => assert_eq!(s, cell, "{key}"),
                // Numbers are written verbatim: the cell's exact decimal text is in the file.
                serde_json::Value::Number(n) => {
                    assert_eq!(n.as_f64().unwrap(), cell.parse::<f64>().unwrap(), "{key}");
                    assert!(text.contains(&format!("\"{key}\": {cell}")), "{key}: {cell} not verbatim");
                }
                other => panic!("{key}: unexpected {other}"),
            }
        }
    }
    // Without json in --format there is no summary.json, and an unknown format is a usage error.
    let plain = run_study(&example_study(), &dir.path().join("plain"), &["--trials", "200"]);
    assert!(!plain.join("summary.json").exists() && plain.join("report.html").exists());
    let bad = arstress()
        .args(["run"])
        .arg(example_study())
        .args(["--trials", "10", "--format", "csv,pdf", "--out"])
        .arg(dir.path().join("bad"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&bad.get_output().stderr).into_owned();
    assert!(stderr.contains("invalid value 'pdf' for '--format <FORMAT>'"), "{stderr}");
    assert!(stderr.contains("[possible values: csv, json, html, xlsx]"), "{stderr}");
    let empty = arstress()
        .args(["run"])
        .arg(example_study())
        .args(["--trials", "10", "--format", "", "--out"])
        .arg(dir.path().join("empty"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&empty.get_output().stderr).into_owned();
    assert!(
        stderr.contains("'--format <FORMAT>'") && stderr.contains("[possible values: csv, json, html, xlsx]"),
        "{stderr}"
    );
}

#[test]
fn validate_json_lists_the_portfolio() {
    let output = arstress().args(["validate"]).arg(example_study()).args(["--format", "json"]).output().unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["schema"], "arstress.validate/1");
    assert_eq!(json["valid"], true);
    let portfolio = json["portfolio"].as_array().unwrap();
    let buyers = json["buyers"].as_u64().unwrap();
    let total = portfolio.iter().find(|r| r["section"] == "total").expect("a total row");
    assert_eq!(total["buyers"].as_u64(), Some(buyers));
}

/// Opens report.html in headless Chromium: it renders without console errors, the charts and
/// tables are in the DOM it built, and a screenshot is saved as report-screenshot.png in Cargo's
/// temporary folder for integration tests (`CARGO_TARGET_TMPDIR`, e.g. target/tmp/).
/// Skipped when Chromium is missing unless `ARSTRESS_BROWSER_TEST=1` (set by .ci/run, which
/// installs it) makes that a failure.
/// Chromium's command, or `None` (the test is skipped) when it is missing and
/// `ARSTRESS_BROWSER_TEST=1` does not require it.
fn browser() -> Option<&'static str> {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()));
    let required = std::env::var("ARSTRESS_BROWSER_TEST").is_ok_and(|v| v == "1");
    if browser.is_none() {
        assert!(!required, "ARSTRESS_BROWSER_TEST=1 but no chromium found");
        eprintln!("skipped: no chromium");
    }
    browser
}

/// Issue 18: the headline table cut off "Expected total cost" and "P(shortfall)" even at 1920
/// pixels. In a 1280-pixel window no table of the page is wider than the space it is given: the
/// page, measured by a copy of it with a script that writes each table's scroll and client widths
/// into the title, as Chromium laid it out.
#[test]
fn every_table_fits_a_1280_pixel_window() {
    let Some(browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = example_reports(dir.path());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let probe = "<script>document.title=Array.from(document.querySelectorAll('table')).map(function(t){\
        var box=t.parentElement;return t.className+':'+Math.max(t.scrollWidth,box.scrollWidth)+':'+box.clientWidth+':'+\
        Math.round(t.getBoundingClientRect().right)+':'+document.documentElement.clientWidth}).join(' ')</script></body>";
    let measured = dir.path().join("measured.html");
    std::fs::write(&measured, html.replace("</body>", probe)).unwrap();
    let dom = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .arg("--window-size=1280,900")
        .arg("--dump-dom")
        .arg(format!("file://{}", measured.display()))
        .output()
        .unwrap();
    assert!(dom.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout);
    let title = &dom[dom.find("<title>").unwrap() + 7..dom.find("</title>").unwrap()];
    let tables: Vec<Vec<&str>> = title.split(' ').map(|t| t.split(':').collect()).collect();
    assert!(tables.iter().any(|t| t[0] == "headline"), "no headline table measured: {title}");
    for t in &tables {
        let n = |i: usize| t[i].parse::<i64>().unwrap_or_else(|_| panic!("{title}"));
        assert!(n(1) <= n(2), "table {} scrolls: {} px of content in {} px", t[0], n(1), n(2));
        assert!(n(3) <= n(4), "table {} ends at {} px, past the window's {} px", t[0], n(3), n(4));
    }
}

#[test]
fn report_renders_in_a_browser() {
    let Some(browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = example_reports(dir.path());
    let page = out.join("report.html").canonicalize().unwrap();
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");
    let common = |cmd: &mut Command| {
        cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(["--enable-logging=stderr", "--v=0"]);
    };
    let mut dump = Command::new(browser);
    common(&mut dump);
    let dom = dump.arg("--dump-dom").arg(&url).output().unwrap();
    assert!(dom.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dom.stderr));
    let stderr = String::from_utf8_lossy(&dom.stderr);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    let rendered = String::from_utf8_lossy(&dom.stdout);
    let html = std::fs::read_to_string(&page).unwrap();
    for needle in [
        "class=\"chart distribution\"",
        "class=\"chart exceedance\"",
        "class=\"chart cash\"",
        "<table class=\"headline\"",
        "class=\"contributors\"",
    ] {
        assert_eq!(count(&rendered, needle), count(&html, needle), "{needle} in the rendered DOM");
        assert!(count(&rendered, needle) > 0, "{needle}");
    }
    assert!(count(&rendered, "<polyline") >= count(&html, "<polyline"), "SVG parsed as SVG");
    // Cargo's own folder for integration tests' files: it exists wherever CARGO_TARGET_DIR points
    // (the repository's target/ may not exist at all).
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let mut capture = Command::new(browser);
    common(&mut capture);
    let status = capture
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1400,2200")
        .arg("--hide-scrollbars")
        .arg(&url)
        .output()
        .unwrap();
    assert!(status.status.success(), "screenshot failed: {}", String::from_utf8_lossy(&status.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "screenshot of {} bytes", png.len());
}
