//! `arstress import`: ERP ledgers (open items, aged balances) turned into runnable studies
//! (issue 19 §1, docs/import.md). Every ledger is written here, as an ERP would export it.

use crate::common::{arstress, parse_csv, write_files};
use arstress::model::Study;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs `arstress import LEDGER --out OUT ARGS…` in `dir`: (exit code, stdout, stderr).
fn import(dir: &Path, ledger: &str, out: &str, args: &[&str]) -> (i32, String, String) {
    let output =
        arstress().current_dir(dir).arg("import").arg(ledger).arg("--out").arg(out).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn rows(path: PathBuf) -> Vec<BTreeMap<String, String>> {
    parse_csv(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Each buyer's exposure at as_of in reporting cents, as `validate` counts it.
fn exposure_by_buyer(study: &Study) -> BTreeMap<String, i64> {
    let open = study.portfolio.open_invoices_cents(&study.fx, &BTreeMap::new()).unwrap();
    study.portfolio.buyers.iter().zip(open).map(|(b, inv)| (b.id.clone(), inv.iter().map(|x| x.1).sum())).collect()
}

/// A Business Central style open-items export: CRLF, a UTF-8 BOM, mixed-case headers, payment
/// terms as text, a credit note, amounts with thousands separators, names with commas.
const OPEN_ITEMS: &str = "\u{feff}Customer No.,Customer Name,Country,Document No.,Document Date,Due Date,Amount,Currency,Payment Terms\r\n\
    10000,\"Müller Maschinenbau GmbH\",DE,INV-104711,2026-11-20,2026-12-20,\"12,480.00\",EUR,Net 30\r\n\
    10000,\"Müller Maschinenbau GmbH\",DE,INV-104790,2026-12-11,2027-01-10,7250.50,EUR,Net 30\r\n\
    10000,\"Müller Maschinenbau GmbH\",DE,CR-2201,2026-12-15,2026-12-15,-480.00,EUR,Net 30\r\n\
    20000,\"Dupont Distribution, SAS\",FR,INV-104702,2026-11-30,2027-01-29,\"23,900.00\",EUR,2/10 Net 60\r\n\
    30000,Rossi Costruzioni S.r.l.,IT,INV-104655,2026-10-15,2026-11-14,3120.40,EUR,2/10 Net 30\r\n\
    30000,Rossi Costruzioni S.r.l.,IT,INV-104801,2026-12-28,2027-01-27,8800.00,EUR,2/10 Net 30\r\n\
    40000,Nordic Timber AB,SE,INV-104760,2026-12-05,2027-02-03,15000.00,EUR,60 days\r\n";

#[test]
fn open_items_with_crlf_bom_and_text_terms_validate_and_run() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("ledger.csv", OPEN_ITEMS)]);
    let (code, stdout, stderr) =
        import(dir.path(), "ledger.csv", "study", &["--as-of", "2027-01-01", "--trials", "300"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("imported ledger.csv (open items, 7 rows): 4 buyers, 6 invoices"), "{stdout}");
    // 12,480.00 + 7,250.50 - 480.00 + 23,900.00 + 3,120.40 + 8,800.00 + 15,000.00
    assert!(stdout.contains("exposure 70,070.90 EUR as of 2027-01-01 (--as-of)"), "{stdout}");
    assert!(stdout.contains("next: arstress run study"), "{stdout}");
    assert!(stdout.lines().chain(stderr.lines()).all(|l| l.chars().count() < 100), "{stdout}{stderr}");

    let buyers = rows(dir.path().join("study/buyers.csv"));
    let ids: Vec<&str> = buyers.iter().map(|b| b["buyer_id"].as_str()).collect();
    assert_eq!(ids, ["10000", "20000", "30000", "40000"]);
    let b = |i: usize, col: &str| buyers[i][col].clone();
    assert_eq!(b(1, "name"), "Dupont Distribution, SAS");
    assert_eq!(
        (b(0, "country"), b(1, "country"), b(2, "country"), b(3, "country")),
        ("DE".into(), "FR".into(), "IT".into(), "SE".into())
    );
    // Net 30, 2/10 Net 60, 2/10 Net 30, 60 days.
    let terms: Vec<&str> = buyers.iter().map(|b| b["terms_days"].as_str()).collect();
    assert_eq!(terms, ["30", "60", "30", "60"]);
    // The credit note nets into the oldest item of its buyer.
    assert_eq!(b(0, "outstanding"), "19250.50");
    assert_eq!(b(0, "credit_limit"), "20000.00");
    assert_eq!(b(0, "limit_type"), "approved");
    assert_eq!(b(0, "rating"), "BB");
    let invoices = rows(dir.path().join("study/invoices.csv"));
    let inv: Vec<(String, String, String, String)> = invoices
        .iter()
        .map(|i| (i["invoice_id"].clone(), i["buyer_id"].clone(), i["amount"].clone(), i["due_date"].clone()))
        .collect();
    let want = [
        ("INV-104711", "10000", "12000.00", "2026-12-20"),
        ("INV-104790", "10000", "7250.50", "2027-01-10"),
        ("INV-104702", "20000", "23900.00", "2027-01-29"),
        ("INV-104655", "30000", "3120.40", "2026-11-14"),
        ("INV-104801", "30000", "8800.00", "2027-01-27"),
        ("INV-104760", "40000", "15000.00", "2027-02-03"),
    ];
    let want: Vec<(String, String, String, String)> =
        want.iter().map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string())).collect();
    assert_eq!(inv, want);

    let validate = arstress().current_dir(dir.path()).args(["validate", "study"]).output().unwrap();
    assert!(validate.status.success(), "{}", String::from_utf8_lossy(&validate.stderr));
    let run = arstress()
        .current_dir(dir.path())
        .args(["run", "study", "--out", "reports", "--quiet", "--trials", "300", "--format", "csv"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary = rows(dir.path().join("reports/summary.csv"));
    for scenario in ["baseline", "severe-recession", "country-crisis", "top2-default", "insurer-retreat"] {
        assert!(summary.iter().any(|r| r["scenario"] == scenario && r["policy"] == "whole-turnover-90"), "{scenario}");
    }
}

/// A Sage/Xero style aged-receivables report: one row per customer, one column per bucket.
const AGED: &str = "Debtor No.,Debtor Name,Ctry,Terms,Current,1-30,31-60,61-90,>90,Balance\n\
    D-001,Alpine Foods AG,CH,30,10000.00,2500.25,0,0,0,12500.25\n\
    D-002,Baltic Freight OU,EE,60,4000.10,0,1200.00,300.05,99.99,5600.14\n\
    D-003,Cardiff Retail Ltd,GB,Net 45,,,,,\"1,000.00\",\"1,000.00\"\n";

#[test]
fn aged_balance_buckets_become_invoices_at_the_documented_due_dates() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("aged.csv", AGED)]);
    // No document dates: the valuation date must be given.
    let (code, _, stderr) = import(dir.path(), "aged.csv", "refused", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no document dates") && stderr.contains("--as-of"), "{stderr}");

    let (code, stdout, stderr) = import(dir.path(), "aged.csv", "study", &["--as-of", "2027-03-31"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("(aged balance, 3 rows): 3 buyers, 7 invoices"), "{stdout}");
    assert!(
        stdout
            .contains("buckets due (days from as_of): current +terms/2, 1-30 -15, 31-60 -45, 61-90 -75, over-90 -120"),
        "{stdout}"
    );
    assert!(stdout.contains("exposure 19,100.39 EUR"), "{stdout}");
    let inv: Vec<(String, String, String, String)> = rows(dir.path().join("study/invoices.csv"))
        .iter()
        .map(|i| (i["invoice_id"].clone(), i["amount"].clone(), i["issue_date"].clone(), i["due_date"].clone()))
        .collect();
    let want = [
        // D-001, 30 days: current due as_of + 15.
        ("D-001-1-30", "2500.25", "", "2027-03-16"),
        ("D-001-current", "10000.00", "", "2027-04-15"),
        // D-002, 60 days: current due as_of + 30.
        ("D-002-over-90", "99.99", "", "2026-12-01"),
        ("D-002-61-90", "300.05", "", "2027-01-15"),
        ("D-002-31-60", "1200.00", "", "2027-02-14"),
        ("D-002-current", "4000.10", "", "2027-04-30"),
        ("D-003-over-90", "1000.00", "", "2026-12-01"),
    ];
    let want: Vec<(String, String, String, String)> =
        want.iter().map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string())).collect();
    assert_eq!(inv, want);
    let buyers = rows(dir.path().join("study/buyers.csv"));
    assert_eq!(buyers[2]["terms_days"], "45");
    assert_eq!(buyers[1]["outstanding"], "5600.14");
    assert!(arstress().current_dir(dir.path()).args(["validate", "study"]).output().unwrap().status.success());
}

#[test]
fn semicolon_exports_are_refused_with_the_advice_or_read_with_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let comma = "Customer No.,Customer Name,Country,Document No.,Document Date,Due Date,Open Amount,Payment Terms\n\
        K-1,Schmidt & Söhne KG,DE,R-1,2026-12-01,2026-12-31,\"1,234.56\",30 Tage\n\
        K-1,Schmidt & Söhne KG,DE,R-2,2026-12-15,2027-01-14,99.90,30 Tage\n\
        K-2,\"Van Dijk; Bakker B.V.\",NL,R-3,2026-11-02,2027-01-01,\"250,000.00\",60\n";
    let semicolon = "Customer No.;Customer Name;Country;Document No.;Document Date;Due Date;Open Amount;Payment Terms\r\n\
        K-1;Schmidt & Söhne KG;DE;R-1;01.12.2026;31.12.2026;1.234,56;30 Tage\r\n\
        K-1;Schmidt & Söhne KG;DE;R-2;15.12.2026;14.01.2027;99,90;30 Tage\r\n\
        K-2;\"Van Dijk; Bakker B.V.\";NL;R-3;02.11.2026;01.01.2027;250.000,00;60\r\n";
    write_files(dir.path(), &[("comma.csv", comma), ("semi.csv", semicolon)]);
    let (code, _, stderr) = import(dir.path(), "semi.csv", "refused", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("semi.csv:1: field `delimiter`, value \";\": expected comma-separated values with a point")
            && stderr.contains("Save As > \"CSV UTF-8 (Comma delimited)\"")
            && stderr.contains("--delimiter ';' --decimal-comma"),
        "{stderr}"
    );
    assert!(!dir.path().join("refused").exists());

    let named = ["--name", "Schmidt ledger", "--currency", "EUR"];
    let (code, _, stderr) = import(dir.path(), "comma.csv", "a", &named);
    assert_eq!(code, 0, "{stderr}");
    let mut args = named.to_vec();
    args.extend(["--delimiter", ";", "--decimal-comma", "--date-format", "%d.%m.%Y"]);
    let (code, _, stderr) = import(dir.path(), "semi.csv", "b", &args);
    assert_eq!(code, 0, "{stderr}");
    for file in ["buyers.csv", "invoices.csv", "policies.toml", "scenarios/country-crisis.toml"] {
        let (a, b) = (dir.path().join("a").join(file), dir.path().join("b").join(file));
        assert_eq!(std::fs::read_to_string(a).unwrap(), std::fs::read_to_string(b).unwrap(), "{file}");
    }
    // study.toml differs only in the ledger named in its first line.
    let study = |d: &str| std::fs::read_to_string(dir.path().join(d).join("study.toml")).unwrap();
    assert_eq!(study("a").replace("comma.csv", "semi.csv"), study("b"));
    assert_eq!(rows(dir.path().join("b/invoices.csv"))[2]["amount"], "250000.00");
}

#[test]
fn the_example_round_trips_through_a_ledger_to_the_cent() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/example");
    let buyers = rows(example.join("buyers.csv"));
    let invoices = rows(example.join("invoices.csv"));
    let by_id: BTreeMap<&str, &BTreeMap<String, String>> = buyers.iter().map(|b| (b["buyer_id"].as_str(), b)).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "Customer No.",
        "Customer Name",
        "Country",
        "Industry",
        "Credit Rating",
        "Credit Limit",
        "Payment Terms",
        "Monthly Sales",
        "Document No.",
        "Document Date",
        "Due Date",
        "Remaining Amount",
        "Currency Code",
    ])
    .unwrap();
    for i in &invoices {
        let b = by_id[i["buyer_id"].as_str()];
        w.write_record([
            &b["buyer_id"],
            &b["name"],
            &b["country"],
            &b["sector"],
            &b["rating"],
            &b["credit_limit"],
            &format!("Net {}", b["terms_days"]),
            &b["monthly_sales"],
            &i["invoice_id"],
            &i["issue_date"],
            &i["due_date"],
            &i["amount"],
            &i["currency"],
        ])
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ledger.csv"), w.into_inner().unwrap()).unwrap();

    let original = arstress::input::load_study(&example).unwrap();
    let mut args: Vec<String> = ["--as-of", "2027-01-01", "--currency", "EUR"].iter().map(|s| s.to_string()).collect();
    for (c, r) in &original.fx {
        if c != "EUR" {
            args.extend(["--fx".to_owned(), format!("{c}={r}")]);
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = import(dir.path(), "ledger.csv", "study", &args);
    assert_eq!(code, 0, "{stderr}");
    let imported = arstress::input::load_study(&dir.path().join("study")).unwrap();
    assert_eq!(exposure_by_buyer(&imported), exposure_by_buyer(&original));
    let (a, b) = (
        arstress::portfolio_summary::summarize(&imported).total,
        arstress::portfolio_summary::summarize(&original).total,
    );
    assert_eq!((a.buyers, a.exposure), (b.buyers, b.exposure));
    assert_eq!(a.monthly_sales, b.monthly_sales);
    let total = arstress::money::group_thousands(&arstress::money::format_cents(i128::from(b.exposure)));
    assert!(stdout.contains(&format!("exposure {total} EUR")), "{stdout}");
    assert_eq!(imported.portfolio.invoices.len(), original.portfolio.invoices.len());
    // Buyers without a limit in the example are the only ones given a default limit.
    let unlimited = buyers.iter().filter(|b| b["credit_limit"].is_empty()).count();
    assert!(stderr.contains(&format!("no credit limit for {unlimited} buyers")), "{stderr}");
}

#[test]
fn bad_ledgers_are_refused_with_every_problem_named() {
    let dir = tempfile::tempdir().unwrap();
    let two_countries = "Customer No.,Country,Document No.,Due Date,Amount\n\
        C100,DE,I-1,2027-01-31,100.00\n\
        C100,FR,I-2,2027-02-28,200.00\n\
        C200,UK,I-3,2027-02-28,50.00\n";
    let no_amount = "Customer No.,Country,Document No.,Due Date,Value\nC100,DE,I-1,2027-01-31,100.00\n";
    let bad_dates = "Customer No.,Country,Document No.,Document Date,Due Date,Amount\n\
        C100,DE,I-1,2026-12-01,2027-02-30,100.00\n\
        C100,DE,I-2,2026-12-01,03/04/2027,100.00\n\
        C200,DE,I-3,2026-12-01,2027-01-31,12.5.0\n";
    write_files(
        dir.path(),
        &[
            ("two.csv", two_countries),
            ("noamount.csv", no_amount),
            ("dates.csv", bad_dates),
            ("map.toml", "buyer_id = \"Kunden-Nr\"\namout = \"Betrag\"\n"),
            ("de.csv", "Kunden-Nr,Land,Beleg,Fällig,Betrag\nK1,DE,B1,2027-01-31,10.00\n"),
        ],
    );
    let (code, _, stderr) = import(dir.path(), "two.csv", "s", &["--as-of", "2027-01-01"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "two.csv:3: field `Country`, value \"FR\": expected DE, as on line 2: customer C100 appears with two countries"
        ),
        "{stderr}"
    );
    // Both problems of the file in one run.
    assert!(
        stderr.contains("two.csv:4: field `Country`, value \"UK\"") && stderr.contains("did you mean GB?"),
        "{stderr}"
    );

    // Two currencies for one customer, and a currency without a rate.
    let currencies = "Customer No.,Country,Document No.,Due Date,Amount,Currency\n\
        C100,US,I-1,2027-01-31,100.00,USD\n\
        C100,US,I-2,2027-02-28,200.00,EUR\n\
        C200,DE,I-3,2027-02-28,50.00,EUR\n";
    write_files(dir.path(), &[("cur.csv", currencies)]);
    let (code, _, stderr) = import(dir.path(), "cur.csv", "s", &["--as-of", "2027-01-01", "--currency", "EUR"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "cur.csv:3: field `Currency`, value \"EUR\": expected USD, as on line 2: customer C100 appears with two currencies"
        ) && stderr.contains("cur.csv:2: field `Currency`, value \"USD\": expected EUR (the study's currency) or a currency with a rate: pass --fx USD=RATE"),
        "{stderr}"
    );

    let (code, _, stderr) = import(dir.path(), "noamount.csv", "s", &["--as-of", "2027-01-01"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "noamount.csv:1: field `amount`, value \"Customer No.,Country,Document No.,Due Date,Value\": expected a \
             column for `amount`: one of Open Amount, Remaining Amount, Amount Due, Outstanding, Balance, Amount"
        ) && stderr.contains("`amount = \"COLUMN\"` in --map"),
        "{stderr}"
    );

    let (code, _, stderr) = import(dir.path(), "dates.csv", "s", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("3 input problems"), "{stderr}");
    assert!(
        stderr.contains("dates.csv:2: field `Due Date`, value \"2027-02-30\": expected a date YYYY-MM-DD"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("dates.csv:3: field `Due Date`, value \"03/04/2027\": expected a date YYYY-MM-DD; for day-first")
            && stderr.contains("--date-format"),
        "{stderr}"
    );
    assert!(stderr.contains("dates.csv:4: field `Amount`, value \"12.5.0\""), "{stderr}");

    let (code, _, stderr) = import(dir.path(), "de.csv", "s", &["--map", "map.toml", "--as-of", "2027-01-01"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "map.toml:2:9: key `amout`: field `amout`, value \"amout\": expected a known key (did you mean `amount`?)"
        ),
        "{stderr}"
    );
    assert!(!dir.path().join("s").exists());
    // With the key spelled right, the German headers map.
    write_files(
        dir.path(),
        &[(
            "map.toml",
            "buyer_id = \"Kunden-Nr\"\ncountry = \"Land\"\ninvoice_id = \"Beleg\"\ndue_date = \"Fällig\"\namount = \"Betrag\"\n",
        )],
    );
    let (code, stdout, stderr) = import(dir.path(), "de.csv", "s", &["--map", "map.toml", "--as-of", "2027-01-01"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("(open items, 1 row): 1 buyer, 1 invoice"), "{stdout}");
    // A folder that is not empty is refused without --force.
    let (code, _, stderr) = import(dir.path(), "de.csv", "s", &["--map", "map.toml", "--as-of", "2027-01-01"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not empty") && stderr.contains("--force"), "{stderr}");
    let (code, _, stderr) =
        import(dir.path(), "de.csv", "s", &["--map", "map.toml", "--as-of", "2027-01-01", "--force"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn each_defaulted_field_gets_one_summary_warning_with_its_count() {
    let dir = tempfile::tempdir().unwrap();
    // Five customers, two rows each; terms known for three (30, 45, 60), none for two; no rating,
    // sector or credit limit columns; C9 holds only a credit note.
    let mut ledger = String::from("Account,Name,Country,Invoice,Invoice Date,Due,Balance,Terms\n");
    for (c, terms) in [("C1", "30"), ("C2", "45"), ("C3", "60"), ("C4", ""), ("C5", "")] {
        for (k, day) in [(1, "2026-12-01"), (2, "2026-12-20")] {
            ledger.push_str(&format!("{c},{c} Ltd,GB,{c}-{k},{day},2027-02-15,1000.00,{terms}\n"));
        }
    }
    ledger.push_str("C9,C9 Ltd,GB,C9-CN,2026-12-10,2026-12-10,-150.00,\n");
    write_files(dir.path(), &[("ledger.csv", &ledger)]);
    let (code, stdout, stderr) = import(dir.path(), "ledger.csv", "study", &[]);
    assert_eq!(code, 0, "{stderr}");
    let warnings: Vec<&str> = stderr.lines().collect();
    let one = |needle: &str| {
        let hits: Vec<&&str> = warnings.iter().filter(|w| w.contains(needle)).collect();
        assert_eq!(hits.len(), 1, "{needle}: {stderr}");
        hits[0].to_string()
    };
    assert_eq!(one("no rating"), "warning: no rating for 5 buyers: BB (--default-rating)");
    assert_eq!(
        one("no payment terms"),
        "warning: no payment terms for 2 buyers: 45 days, the median of the terms found"
    );
    assert_eq!(one("no sector"), "warning: no sector for 5 buyers: `unclassified`");
    assert!(one("no credit limit").starts_with("warning: no credit limit for 5 buyers:"), "{stderr}");
    assert!(one("no monthly sales").starts_with("warning: no monthly sales for 5 buyers:"), "{stderr}");
    assert_eq!(
        one("netted into"),
        "warning: 1 credit note (-150.00 EUR) netted into their buyers' exposure, oldest items first"
    );
    assert_eq!(
        one("left out"),
        "warning: left out 1 buyer with no positive balance after credit notes (net -150.00 EUR): C9"
    );
    assert!(one("no currency").contains("EUR"), "{stderr}");
    assert_eq!(warnings.len(), 8, "one line per defaulted field, not per row: {stderr}");
    assert!(stdout.contains("as of 2026-12-20 (the latest document date)"), "{stdout}");
    assert!(
        stdout.contains(
            "defaults applied (buyers): rating (5), terms (2), sector (5), credit limit (5), monthly sales (5)"
        ),
        "{stdout}"
    );
    let buyers = rows(dir.path().join("study/buyers.csv"));
    assert_eq!(buyers.len(), 5);
    assert_eq!(buyers[3]["terms_days"], "45");
    // Issued in the 3 months to as_of: 2,000 a buyer, 666.67 a month.
    assert_eq!(buyers[0]["monthly_sales"], "666.67");
    assert_eq!(buyers[0]["credit_limit"], "2000.00");
}

/// A column the import reads, named twice in the header (`Amount,Amount`), was read from the first
/// silently; it is refused, naming the header and the columns, whatever the case and spacing.
#[test]
fn a_column_named_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[("twice.csv", "Customer,Country,Due Date,Amount,amount \nC1,DE,2027-02-01,10.00,5.00\n")],
    );
    let (code, _, stderr) = import(dir.path(), "twice.csv", "s", &["--as-of", "2027-01-01"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("twice.csv:1: field `Amount`") && stderr.contains("`Amount` names columns 4 and 5"),
        "{stderr}"
    );
    assert!(!dir.path().join("s").exists(), "nothing written");
}

/// Review findings (issue 19): a totals line of the export became a customer holding the whole
/// book; a "90+" subtotal beside the 91-120 and over-120 buckets counted those receivables twice;
/// a column named in `--map` for one field was also taken by another field's alias (`due_date =
/// "Date"` made the due dates the document dates, and the valuation date the latest due date).
/// Each is refused or kept apart now.
#[test]
fn totals_lines_overlapping_buckets_and_mapped_columns_are_not_read_twice() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("totals.csv", "Customer No.,Current,1-30\nC1,100,0\nC2,50,0\nGrand Total,150,0\n"),
            (
                "overlap.csv",
                "Customer No.,Country,Current,1-30,31-60,61-90,91-120,Over 120,Over 90\nC1,DE,0,0,0,0,100,200,300\n",
            ),
            ("dates.csv", "Customer,Date,Amount,Country\nC1,2027-03-31,100.00,DE\nC2,2027-05-31,50.00,DE\n"),
            ("map.toml", "due_date = \"Date\"\n"),
        ],
    );
    let (code, _, stderr) =
        import(dir.path(), "totals.csv", "t", &["--as-of", "2027-01-31", "--default-country", "DE"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("totals.csv:4: field `Customer No.`, value \"Grand Total\""), "{stderr}");
    assert!(stderr.contains("not a totals line"), "{stderr}");

    let (code, _, stderr) = import(dir.path(), "overlap.csv", "o", &["--as-of", "2027-01-31"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("field `Over 90`") && stderr.contains("holds what `91-120` holds"), "{stderr}");

    // The mapped due date is not also the document date: no document dates, so no valuation date
    // to take from them (it was the latest due date, 2027-05-31).
    let (code, _, stderr) = import(dir.path(), "dates.csv", "d", &["--map", "map.toml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no document dates to take the valuation date from"), "{stderr}");
    let (code, stdout, stderr) = import(dir.path(), "dates.csv", "d", &["--map", "map.toml", "--as-of", "2027-01-31"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("exposure 150.00 EUR"), "{stdout}");
    let invoices = rows(dir.path().join("d/invoices.csv"));
    assert_eq!(invoices.iter().map(|r| r["due_date"].as_str()).collect::<Vec<_>>(), ["2027-03-31", "2027-05-31"]);
}

/// Review finding (issue 19): a semicolon export read with `--delimiter ';'` but without
/// `--decimal-comma` took `12,500` (12.50 the European way) as 12,500 silently. An amount with a
/// comma and no point is refused there, naming the choice to make.
#[test]
fn a_comma_amount_in_a_semicolon_export_is_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("semi.csv", "Customer;Country;Due Date;Amount\nC1;DE;2027-02-01;12,500\n")]);
    let (code, _, stderr) = import(dir.path(), "semi.csv", "s", &["--delimiter", ";", "--as-of", "2027-01-01"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("semi.csv:2: field `Amount`, value \"12,500\"") && stderr.contains("--decimal-comma"),
        "{stderr}"
    );
    let (code, stdout, stderr) =
        import(dir.path(), "semi.csv", "s", &["--delimiter", ";", "--decimal-comma", "--as-of", "2027-01-01"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("exposure 12.50 EUR"), "{stdout}");
}

/// Review finding (issue 19): a customer with an empty currency cell, in a ledger whose other rows
/// say USD, was read in USD without a word. It still is (the ledger's one currency is the
/// reporting currency), and one warning says so with the count.
#[test]
fn blank_currency_cells_are_said_once_with_their_count() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "usd.csv",
            "Customer,Country,Due Date,Amount,Currency\nC1,US,2027-02-01,10.00,USD\nC2,US,2027-02-01,5.00,\n\
             C3,US,2027-02-01,5.00,\n",
        )],
    );
    let (code, stdout, stderr) = import(dir.path(), "usd.csv", "s", &["--as-of", "2027-01-01"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr.matches("no currency for 2 buyers: amounts read as USD").count(), 1, "{stderr}");
    assert!(stdout.contains("exposure 20.00 USD"), "{stdout}");
}
