//! Receivables overdue at `as_of` collected along the curves of their age (issue 20 §1,
//! docs/model.md "Overdue receivables by age").

use crate::common::*;
use std::fmt::Write as _;

const NO_LATENESS: &str = "name = \"calm\"\n[payment]\nlate_share = 0\n";

/// One buyer (no sales, PD 0) owing one invoice of 100,000.00 due 2026-12-17: 15 days past due
/// on 2027-01-01, bucket 1–30, default curve [0.60, 0.20, 0.08, 0.04] (8 % never collected).
fn one_overdue_invoice(dir: &std::path::Path, policies: &str, trials: u64) {
    let study = study_toml("overdue", trials, true)
        + "[company]\nopening_cash = 1_000_000\nadvance_rate_uninsured = 1\nadvance_rate_insured = 1\n";
    write_files(
        dir,
        &[
            ("study.toml", &study),
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\nX,DE,retail,0,30,0,\n",
            ),
            ("invoices.csv", "invoice_id,buyer_id,amount,issue_date,due_date\nI1,X,100000,2026-11-17,2026-12-17\n"),
            ("policies.toml", policies),
            ("scenarios/calm.toml", NO_LATENESS),
        ],
    );
}

const NO_POLICY: &str = "";

/// By hand: pieces 60,000.00 on day 15 (January), 20,000.00 on day 45 (February), 8,000.00 on
/// day 75 (March), 4,000.00 on day 105 (April); 8,000.00 never. The invoice is eligible until 90
/// days past due (day 76): borrowing base at the end of January 40,000.00 (100 % advance), of
/// February 20,000.00, of March 0 (12,000.00 still owed, 91 days past due).
#[test]
fn an_overdue_invoice_follows_its_curve_to_the_cent() {
    let dir = tempfile::tempdir().unwrap();
    one_overdue_invoice(dir.path(), NO_POLICY, 1);
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let pieces: Vec<(i32, i64, i32)> = plan.invoices_of(0).iter().map(|i| (i.due, i.amount, i.age_due)).collect();
    let never = arstress::plan::NEVER_DUE;
    assert_eq!(
        pieces,
        [(15, 6_000_000, -15), (45, 2_000_000, -15), (75, 800_000, -15), (105, 400_000, -15), (never, 800_000, -15)]
    );
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let rows = read_csv(&out.join("cashflow.csv"));
    let col =
        |c: &str| -> Vec<String> { rows.iter().filter(|r| r["policy"] == "none").map(|r| r[c].clone()).collect() };
    let cash = col("baseline_cash");
    assert_eq!(&cash[..5], ["1060000.00", "1080000.00", "1088000.00", "1092000.00", "1092000.00"]);
    assert_eq!(cash[11], "1092000.00", "the 8,000.00 never collected");
    let base = col("baseline_borrowing_base");
    assert_eq!(&base[..4], ["40000.00", "20000.00", "0.00", "0.00"]);
}

/// A [`collections`] curve replaces the default of its bucket, and `days_late_shift` moves every
/// collection day: 30 days later, January's share arrives in February.
#[test]
fn a_curve_can_be_set_and_stretched() {
    let dir = tempfile::tempdir().unwrap();
    one_overdue_invoice(dir.path(), NO_POLICY, 1);
    let mut study = std::fs::read_to_string(dir.path().join("study.toml")).unwrap();
    study += "[collections]\ndays_1_30 = [0.5, 0.25]\n";
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            ("scenarios/calm.toml", &(NO_LATENESS.to_owned() + "[stress]\ndays_late_shift = 30\n")),
        ],
    );
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let pieces: Vec<(i32, i64)> = plan.invoices_of(0).iter().map(|i| (i.due, i.amount)).collect();
    assert_eq!(pieces, [(45, 5_000_000), (75, 2_500_000), (arstress::plan::NEVER_DUE, 2_500_000)]);
}

/// A curve adding up to more than 1 is refused with its key.
#[test]
fn a_curve_above_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    one_overdue_invoice(dir.path(), NO_POLICY, 1);
    let study =
        std::fs::read_to_string(dir.path().join("study.toml")).unwrap() + "[collections]\nover_180 = [0.7, 0.5]\n";
    write_files(dir.path(), &[("study.toml", &study)]);
    let err = arstress::input::load_study(dir.path()).unwrap_err().to_string();
    assert!(err.contains("collections.over_180"), "{err}");
}

/// Each trial draws the collection of every buyer's overdue invoices; the mean cash path agrees
/// with the baseline path (the curves' expected collections, exact to the cent per piece) within
/// 3 standard errors in every month, and the draws do vary.
#[test]
fn drawn_collections_agree_with_the_curves_expected_collections() {
    let dir = tempfile::tempdir().unwrap();
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\n");
    let mut invoices = String::from("invoice_id,buyer_id,amount,issue_date,due_date\n");
    let as_of = time::macros::date!(2027 - 01 - 01);
    for i in 0..200 {
        writeln!(buyers, "B{i:03},DE,retail,0,30,0,").unwrap();
        let days_past_due = [10, 45, 75, 120, 250][i % 5];
        let due = as_of - time::Duration::days(days_past_due + (i as i64 % 7));
        writeln!(invoices, "I{i:03},B{i:03},{},2026-01-01,{due}", 1_000 + 37 * i).unwrap();
    }
    let study = study_toml("overdue", 4000, true) + "[company]\nopening_cash = 0\n";
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            ("buyers.csv", &buyers),
            ("invoices.csv", &invoices),
            ("policies.toml", NO_POLICY),
            ("scenarios/calm.toml", NO_LATENESS),
        ],
    );
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let rows = read_csv(&out.join("cashflow.csv"));
    let mut varied = false;
    for r in rows.iter().filter(|r| r["policy"] == "none") {
        let (mean, se, baseline): (f64, f64, f64) = (
            r["mean_cash"].parse().unwrap(),
            r["mean_cash_std_error"].parse().unwrap(),
            r["baseline_cash"].parse().unwrap(),
        );
        assert!(
            (mean - baseline).abs() <= 3.0 * se + 0.01,
            "month {}: mean {mean} vs {baseline} (se {se})",
            r["month"]
        );
        varied |= se > 0.0;
    }
    assert!(varied, "the collections are drawn");
}

/// The draws depend only on (seed, scenario, trial, buyer): a study with overdue invoices gives
/// the same reports on one and four threads.
#[test]
fn drawn_collections_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    arstress().args(["generate", "120", "--invoices", "--seed", "5", "--out"]).arg(&study).assert().success();
    let loaded = arstress::input::load_study(&study).unwrap();
    let plan = arstress::plan::compile(&loaded, &loaded.scenarios[0]).unwrap();
    assert!(plan.collections.is_some(), "the generated study has overdue invoices");
    let one = run_study(&study, &dir.path().join("one"), &["--threads", "1", "--trials", "3000"]);
    let four = run_study(&study, &dir.path().join("four"), &["--threads", "4", "--trials", "3000"]);
    for name in ["summary.csv", "cashflow.csv"] {
        assert!(std::fs::read(one.join(name)).unwrap() == std::fs::read(four.join(name)).unwrap(), "{name}");
    }
}

/// The write-off of overdue receivables is its own measure in summary.csv, beside the credit
/// losses: a curve that collects nothing writes the whole 100,000.00 off in every trial, and no
/// credit loss; under the default curve its mean is the 8 % never collected within 3 standard
/// errors.
#[test]
fn the_never_collected_part_is_written_off() {
    let dir = tempfile::tempdir().unwrap();
    one_overdue_invoice(dir.path(), NO_POLICY, 200);
    let study = std::fs::read_to_string(dir.path().join("study.toml")).unwrap();
    write_files(dir.path(), &[("study.toml", &(study.clone() + "[collections]\ndays_1_30 = [0]\n"))]);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    assert_eq!(summary(&out, "calm", "none", "overdue_write_off", "mean"), "100000.00");
    assert_eq!(summary(&out, "calm", "none", "overdue_write_off", "es_99"), "100000.00");
    assert_eq!(summary(&out, "calm", "none", "gross_loss", "mean"), "0.00");
    write_files(dir.path(), &[("study.toml", &study.replace("trials = 200", "trials = 4000"))]);
    let out = run_study(dir.path(), &dir.path().join("out2"), &[]);
    let mean: f64 = summary(&out, "calm", "none", "overdue_write_off", "mean").parse().unwrap();
    let se: f64 = summary(&out, "calm", "none", "overdue_write_off", "mean_std_error").parse().unwrap();
    assert!((mean - 8_000.0).abs() <= 3.0 * se && se > 0.0, "mean {mean} se {se}");
}

/// The kernel corrects a drawn buyer by its overdue pieces alone
/// ([`arstress::plan::cash::CashPlan::add_drawn_collection`]); that must equal walking all its
/// invoices under the draw less its on-time path, for every buyer and every outcome of the draw
/// (buckets of every age, monthly sales, credit limits that bind under two policies).
#[test]
fn the_drawn_correction_equals_the_explicit_walk() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    arstress().args(["generate", "60", "--invoices", "--seed", "11", "--out"]).arg(&study).assert().success();
    // Older overdue invoices for every third buyer, so every ageing bucket is present.
    let buyers = read_csv(&study.join("buyers.csv"));
    let mut invoices = std::fs::read_to_string(study.join("invoices.csv")).unwrap();
    let as_of = time::macros::date!(2027 - 01 - 01);
    for (i, b) in buyers.iter().enumerate().step_by(3) {
        let days_past_due = [45, 75, 120, 250, 400][i % 5];
        let due = as_of - time::Duration::days(days_past_due);
        writeln!(invoices, "X{i},{},{}.17,{},2025-06-01,{due}", b["buyer_id"], 20_000 + 731 * i, b["currency"])
            .unwrap();
    }
    std::fs::write(study.join("invoices.csv"), invoices).unwrap();
    let loaded = arstress::input::load_study(&study).unwrap();
    let plan = arstress::plan::compile(&loaded, &loaded.scenarios[0]).unwrap();
    let (cash, c) = (plan.cash.as_ref().unwrap(), plan.collections.as_ref().unwrap());
    assert!(plan.n_policies() >= 2 && c.buyers.len() >= 20, "{} buyers with overdue invoices", c.buyers.len());
    let mut path = arstress::plan::cash::PathScratch::default();
    let mut moved = 0;
    for (i, &b) in c.buyers.iter().enumerate() {
        for k in 0..=64u64 {
            let u = ((k << 32) / 64).min(u32::MAX as u64) as u32;
            let mut fast = cash.baseline.clone();
            cash.add_drawn_collection(&plan, c, i, u, 1, &mut fast, &mut path);
            let mut walked = cash.baseline.clone();
            cash.on_time_path(&plan, b as usize, -1, &mut walked, &mut path);
            let state =
                arstress::plan::cash::BuyerState { collect: Some(u), ..arstress::plan::cash::BuyerState::ON_TIME };
            cash.buyer_path(&plan, b as usize, &state, 1, &mut walked, &mut path);
            assert!(fast == walked, "buyer {b}, u = {u}");
            moved += usize::from(fast != cash.baseline);
        }
    }
    assert!(moved > 100, "the draws move the path ({moved} cases)");
}

/// The write-off is claimed as a protracted default (docs/model.md, "Overdue receivables by
/// age"). By hand: 100,000.00 never collected (`days_1_30 = [0]`), the buyer's limit 80,000.00,
/// indemnity 90 %: a claim of 72,000.00 in every trial; net loss 100,000.00 − 72,000.00 =
/// 28,000.00. The date of loss is the oldest due date (15 days before `as_of`) plus the waiting
/// period of 150 days: day 135, paid 30 days later on day 165 (2027-06-15), so the claim is in
/// June's cash. An invoice already past its waiting period at `as_of` (200 days past due) is
/// claimed on day 0 and paid on day 30, in January.
#[test]
fn the_write_off_is_claimed_after_the_waiting_period() {
    let policy = "[[policy]]\nname = \"p90\"\nindemnity = 0.90\nwaiting_period_days = 150\nclaim_payment_days = 30\n\
                  max_liability = 1_000_000\npremium_rate = 0\n";
    for (due, claim_month) in [("2026-12-17", 6usize), ("2026-06-15", 1)] {
        let dir = tempfile::tempdir().unwrap();
        one_overdue_invoice(dir.path(), policy, 50);
        let study = std::fs::read_to_string(dir.path().join("study.toml")).unwrap();
        let collections = "[collections]\ndays_1_30 = [0]\nover_180 = [0]\n";
        let invoices = format!("invoice_id,buyer_id,amount,issue_date,due_date\nI1,X,100000,2026-05-01,{due}\n");
        let buyers = "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\nX,DE,retail,0,30,0,80000\n";
        write_files(
            dir.path(),
            &[("study.toml", &(study + collections)), ("invoices.csv", &invoices), ("buyers.csv", buyers)],
        );
        let out = run_study(dir.path(), &dir.path().join("out"), &[]);
        let s = |policy: &str, measure: &str| summary(&out, "calm", policy, measure, "mean");
        assert_eq!(s("p90", "overdue_write_off"), "100000.00", "{due}");
        assert_eq!(s("p90", "gross_loss"), "0.00", "{due}: no credit loss");
        assert_eq!(s("p90", "claims"), "72000.00", "{due}");
        assert_eq!(s("p90", "net_loss"), "28000.00", "{due}");
        assert_eq!(s("none", "net_loss"), "100000.00", "{due}: without insurance the write-off is borne");
        let rows = read_csv(&out.join("cashflow.csv"));
        let cash = |policy: &str| -> Vec<f64> {
            rows.iter().filter(|r| r["policy"] == policy).map(|r| r["mean_cash"].parse().unwrap()).collect()
        };
        let gain: Vec<f64> = cash("p90").iter().zip(cash("none")).map(|(a, b)| a - b).collect();
        for (m, g) in gain.iter().enumerate() {
            let want = if m + 1 >= claim_month { 72_000.0 } else { 0.0 };
            assert_eq!(*g, want, "{due}: month {}", m + 1);
        }
    }
}

/// The example's baseline (on-time) collections of months 1–4 are even: no month below 70 % or above
/// 130 % of their mean. Collections are read back from cashflow.csv's baseline path of `none`:
/// `collections_k = cash_k − cash_{k−1} + monthly_fixed_outflows + variable_cost_ratio × sales_k`,
/// with the same planned sales every month (the baseline scenario has no sales multiplier).
///
/// With the open book split due on days `T·j/k` (the last part on day `T`, with January's sale) the
/// months read 106 %, 18 %, 144 %, 132 %: February collected almost nothing and March two months'
/// worth (the month-end cash fell from 13.07 M in January to 2.81 M in February). Split at the midpoints of the `k` slices of `(0, T]` they read 102 %, 81 %, 104 %, 113 %.
/// What is left is the model's month lengths, not the split: a sale of February 1 on 30-day terms
/// falls due on March 3 (February collects nothing from the 30-day buyers, about a sixth of sales),
/// and February 1 and March 1 on 60-day terms both fall due in April. 70 % and 130 % leave room for
/// that and still catch a month of the old shape.
#[test]
fn the_example_baseline_collects_evenly_over_its_first_months() {
    let study = arstress::input::load_study(&example_study()).expect("example loads");
    let company = study.company.as_ref().expect("the example has a [company]");
    let num = |d: &dyn std::fmt::Display| d.to_string().parse::<f64>().unwrap();
    let sales: f64 = study
        .portfolio
        .buyers
        .iter()
        .map(|b| num(&b.monthly_sales) * study.fx.get(&b.currency).map_or(1.0, |r| num(r)))
        .sum();
    let monthly_out = num(&company.monthly_fixed_outflows) + num(&company.variable_cost_ratio) * sales;

    let dir = tempfile::tempdir().expect("temp dir");
    // The baseline path does not depend on the trials: a few suffice.
    let out = run_study(
        &example_study(),
        &dir.path().join("out"),
        &["--scenario", "baseline", "--trials", "200", "--format", "csv"],
    );
    let rows: Vec<_> = read_csv(&out.join("cashflow.csv"))
        .into_iter()
        .filter(|r| r["scenario"] == "baseline" && r["policy"] == "none")
        .collect();
    let mut previous = num(&company.opening_cash);
    let collections: Vec<f64> = rows[..4]
        .iter()
        .map(|r| {
            let cash: f64 = r["baseline_cash"].parse().unwrap();
            let collected = cash - previous + monthly_out;
            previous = cash;
            collected
        })
        .collect();
    let mean = collections.iter().sum::<f64>() / 4.0;
    for (k, c) in collections.iter().enumerate() {
        assert!(
            (0.70..=1.30).contains(&(c / mean)),
            "month {}: collections {c:.2} are {:.0} % of the mean of months 1-4 ({mean:.2}): {collections:?}",
            k + 1,
            100.0 * c / mean
        );
    }
}
