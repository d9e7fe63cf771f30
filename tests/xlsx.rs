//! report.xlsx (`--format xlsx`), `--csv-bom` and the money columns of manifest.json
//! (issue 19 §3): the workbook holds exactly the CSV reports' cells, formatted by column, and is
//! byte-identical across thread counts and shard merges.

use crate::common::*;
use calamine::{Data, Reader, Xlsx};
use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

/// The sheets in their order in the workbook, each named after its CSV report.
const SHEETS: [&str; 11] = [
    "summary",
    "policy_comparison",
    "policy_differences",
    "reserve",
    "cashflow",
    "contributions",
    "quantiles",
    "distribution",
    "shortfall_contributions",
    "retreat",
    "portfolio",
];

fn golden_study() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/study")
}

fn workbook(out: &Path) -> Xlsx<Cursor<Vec<u8>>> {
    let bytes = std::fs::read(out.join("report.xlsx")).unwrap();
    calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap()
}

/// The rows of a CSV report, header first, as written.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

/// One file of the workbook's zip archive, as text.
fn part(out: &Path, name: &str) -> String {
    let bytes = std::fs::read(out.join("report.xlsx")).unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}

/// Every sheet of report.xlsx against its CSV file, cell by cell: a number where the CSV has a
/// number (equal to the CSV decimal read as f64), the same text where it has text, nothing where
/// it has nothing; the sheets in their order (summary first, each CSV of the run once); money,
/// percent and count columns with their number formats; the header bold, frozen, filtered.
#[test]
fn report_xlsx_holds_every_cell_of_the_csv_reports_with_its_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_study(&example_study(), &dir.path().join("out"), &["--trials", "1000", "--format", "csv,xlsx"]);
    let mut book = workbook(&out);
    let names = book.sheet_names();
    assert_eq!(names, SHEETS, "every CSV report of the example, summary first");
    for (index, sheet) in names.iter().enumerate() {
        let csv = csv_rows(&out.join(format!("{sheet}.csv")));
        let range = book.worksheet_range(sheet).unwrap();
        let styles = book.worksheet_style(sheet).unwrap();
        assert_eq!(range.end().map(|(r, _)| r as usize + 1), Some(csv.len()), "{sheet}: rows");
        assert_eq!(range.width(), csv[0].len(), "{sheet}: columns");
        for (r, row) in csv.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let at = (r as u32, c as u32);
                let got = range.get_value(at).unwrap_or(&Data::Empty);
                let place = format!("{sheet}!{} row {} ({cell:?})", csv[0][c], r + 1);
                match got {
                    Data::Empty => assert!(cell.is_empty(), "{place}: empty in the workbook"),
                    Data::Float(x) => assert_eq!(Some(*x), cell.parse::<f64>().ok(), "{place}"),
                    Data::String(s) => {
                        assert_eq!(s, cell, "{place}");
                        assert!(
                            r == 0 || cell.parse::<f64>().is_err() || ["key", "name"].contains(&csv[0][c].as_str()),
                            "{place}: a number written as text"
                        );
                    }
                    other => panic!("{place}: {other:?}"),
                }
            }
            if r > 0 {
                continue;
            }
            for (c, name) in row.iter().enumerate() {
                let font = styles.get((0, c as u32)).and_then(|s| s.font.as_ref());
                assert!(font.is_some_and(|f| f.is_bold()), "{sheet}: header {name} not bold");
            }
        }
        // Every column holding numbers has a number format, but portfolio.csv's mixed `value`.
        for (c, column) in csv[0].iter().enumerate() {
            let numeric =
                (1..csv.len()).find(|&r| matches!(range.get_value((r as u32, c as u32)), Some(Data::Float(_))));
            let Some(r) = numeric else { continue };
            let format = styles.get((r as u32, c as u32)).and_then(|s| s.number_format.as_ref());
            let code = format.map_or("General", |f| f.format_code.as_str());
            let general = code == "General";
            assert_eq!(
                general,
                (sheet.as_str(), column.as_str()) == ("portfolio", "value"),
                "{sheet}!{column}: {code}"
            );
        }
        let xml = part(&out, &format!("xl/worksheets/sheet{}.xml", index + 1));
        assert!(xml.contains("state=\"frozen\"") && xml.contains("ySplit=\"1\""), "{sheet}: header not frozen");
        assert!(xml.contains("<autoFilter ref=\"A1:"), "{sheet}: no autofilter");
        assert!(xml.contains("customWidth=\"1\""), "{sheet}: column widths not set");
    }
    // The number formats of a money, a percent and a count column of summary.csv.
    let styles = book.worksheet_style("summary").unwrap();
    let header = &csv_rows(&out.join("summary.csv"))[0];
    let format_of = |column: &str| {
        let c = header.iter().position(|h| h == column).unwrap() as u32;
        styles.get((1, c)).and_then(|s| s.number_format.as_ref()).map(|f| f.format_code.clone())
    };
    assert_eq!(format_of("es_99").as_deref(), Some("#,##0.00 \"EUR\""));
    assert_eq!(format_of("p_positive").as_deref(), Some("0.00%"));
    assert_eq!(format_of("trials").as_deref(), Some("#,##0"));
    // A name with a non-ASCII letter survives as text.
    let contributions = book.worksheet_range("contributions").unwrap();
    assert!(contributions.cells().any(|(_, _, v)| matches!(v, Data::String(s) if s.contains('ř'))));
}

/// report.xlsx is byte-identical for --threads 1 and 2 and for two merged shards: its creation
/// time is the study's as_of, not the clock.
#[test]
fn report_xlsx_is_identical_across_threads_and_shard_merges() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let args = |threads: &'static str| ["--trials", "3001", "--threads", threads, "--format", "xlsx"];
    let one = run_study(&golden_study(), &d("one"), &args("1"));
    let two = run_study(&golden_study(), &d("two"), &args("2"));
    let xlsx = |out: &Path| std::fs::read(out.join("report.xlsx")).unwrap();
    assert!(xlsx(&one) == xlsx(&two), "report.xlsx differs between 1 and 2 threads");
    assert!(
        part(&one, "docProps/core.xml").contains("<dcterms:created xsi:type=\"dcterms:W3CDTF\">2027-01-01T00:00:00Z")
    );
    let shards: Vec<PathBuf> = (0..2)
        .map(|i| run_study(&golden_study(), &d(&format!("s{i}")), &["--trials", "3001", "--shard", &format!("{i}/2")]))
        .collect();
    let merged = d("merged");
    let o =
        arstress().arg("merge").args(&shards).arg("--out").arg(&merged).args(["--quiet", "--format", "xlsx"]).output();
    let o = o.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(xlsx(&merged) == xlsx(&one), "report.xlsx of two merged shards differs from the single run");
    // Only the workbook and the manifest: no CSV file without csv in --format.
    let mut written: Vec<String> =
        std::fs::read_dir(&one).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    written.sort();
    assert_eq!(written, ["manifest.json", "report.xlsx"]);
}

/// `--csv-bom` puts EF BB BF before every CSV file and changes no other byte of any report;
/// `compare` reads such a folder.
#[test]
fn csv_bom_prefixes_every_csv_file_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let plain = run_study(&golden_study(), &dir.path().join("plain"), &["--trials", "2000"]);
    let bom = run_study(&golden_study(), &dir.path().join("bom"), &["--trials", "2000", "--csv-bom"]);
    let (a, b) = (report_bytes(&plain), report_bytes(&bom));
    assert_eq!(a.len(), b.len());
    let mut csv_files = 0;
    for ((name, plain), (_, bom)) in a.iter().zip(&b) {
        if name.ends_with(".csv") {
            csv_files += 1;
            assert_eq!(&bom[..3], &[0xEF, 0xBB, 0xBF], "{name}");
            assert!(bom[3..] == plain[..], "{name}: more than the BOM changed");
            assert_ne!(&plain[..3], &[0xEF, 0xBB, 0xBF], "{name}: a BOM without --csv-bom");
        } else {
            assert!(bom == plain, "{name} changed with --csv-bom");
        }
    }
    assert_eq!(csv_files, 8);
    arstress().arg("compare").arg(&plain).arg(&bom).arg("--out").arg(dir.path()).assert().success();
}

/// The money columns of docs/reports.md's table, by file.
fn documented_money_columns() -> BTreeMap<String, Vec<String>> {
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reports.md")).unwrap();
    let section = docs.split("## Money columns").nth(1).expect("a Money columns section").split("\n## ").next();
    let mut out = BTreeMap::new();
    for line in section.unwrap().lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let columns = cells[2].split(", ").map(|c| c.trim_matches('`').to_owned()).collect();
        out.insert(cells[1].trim_matches('`').to_owned(), columns);
    }
    out
}

/// manifest.json states the currency and, per CSV report, its money columns: the same as
/// docs/reports.md lists, and the columns report.xlsx formats in that currency.
#[test]
fn manifest_money_columns_match_the_docs_and_the_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_study(&example_study(), &dir.path().join("out"), &["--trials", "500", "--format", "csv,xlsx"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["currency"], "EUR");
    let money: BTreeMap<String, Vec<String>> = serde_json::from_value(manifest["money_columns"].clone()).unwrap();
    assert_eq!(money.len(), 11, "every CSV report of the example");
    assert_eq!(money, documented_money_columns(), "docs/reports.md's Money columns table is out of date");
    assert!(money["summary.csv"].contains(&"es_99".to_owned()));
    assert!(!money["summary.csv"].contains(&"p_positive".to_owned()));
    assert!(money["cashflow.csv"].contains(&"mean_cash".to_owned()));
    let mut book = workbook(&out);
    for (file, columns) in &money {
        let sheet = file.trim_end_matches(".csv");
        let header = &csv_rows(&out.join(file))[0];
        let styles = book.worksheet_style(sheet).unwrap();
        let range = book.worksheet_range(sheet).unwrap();
        for (c, column) in header.iter().enumerate() {
            let numeric =
                (1..range.height()).find(|&r| matches!(range.get_value((r as u32, c as u32)), Some(Data::Float(_))));
            let Some(r) = numeric else { continue };
            let code =
                styles.get((r as u32, c as u32)).and_then(|s| s.number_format.as_ref()).map(|f| f.format_code.clone());
            let in_euro = code.as_deref() == Some("#,##0.00 \"EUR\"");
            assert_eq!(in_euro, columns.contains(column), "{file}: {column} ({code:?})");
        }
    }
}
