//! The dunning ladder (issue 20 §2, docs/model.md "The dunning ladder"): steps that shape the
//! delay of late payers, and the agency's fee.

use crate::common::*;
use std::fmt::Write as _;

/// One buyer owing one invoice of 100,000.00 due 2027-01-31 (day 30), late in every trial by a
/// fixed 300 days unless the ladder says otherwise.
fn one_late_invoice(dir: &std::path::Path, ladder: &str, trials: u64) {
    let study = study_toml("dunning", trials, true) + "[company]\nopening_cash = 1_000_000\n";
    write_files(
        dir,
        &[
            ("study.toml", &study),
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\nL,DE,retail,0,30,0,\n",
            ),
            ("invoices.csv", "invoice_id,buyer_id,amount,issue_date,due_date\nI1,L,100000,2027-01-01,2027-01-31\n"),
            ("policies.toml", ""),
            (
                "scenarios/late.toml",
                &format!(
                    "name = \"late\"\n[payment]\nlate_share = 1\ndays_late_median = 300\ndays_late_p90 = 300\n\
                     ladder = {ladder}\n"
                ),
            ),
        ],
    );
}

/// By hand: the reminder at 15 days never works (probability 0), the agency at 45 days always
/// does: the invoice due on day 30 is paid on day 75 (2027-03-17), 8 % kept by the agency. March
/// collects 92,000.00; the fee is 8,000.00 in every trial. Without the ladder the invoice is paid
/// 300 days late, on day 330 (2027-11-27, November), in full.
#[test]
fn a_late_invoice_goes_through_the_ladder_and_the_agency_keeps_its_fee() {
    let dir = tempfile::tempdir().unwrap();
    let ladder = "[{ days = 15, action = \"reminder\", pay_probability = 0 }, \
                  { days = 45, action = \"agency\", pay_probability = 1, fee = 0.08 }]";
    one_late_invoice(dir.path(), ladder, 20);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    assert_eq!(summary(&out, "late", "none", "collection_fees", "mean"), "8000.00");
    assert_eq!(summary(&out, "late", "none", "collection_fees", "std_dev"), "0.00");
    let rows = read_csv(&out.join("cashflow.csv"));
    let cash: Vec<&str> = rows.iter().filter(|r| r["policy"] == "none").map(|r| r["mean_cash"].as_str()).collect();
    assert_eq!(&cash[..4], ["1000000.00", "1000000.00", "1092000.00", "1092000.00"]);
    // Without a ladder: paid 300 days late, on day 330 (November), in full, no fee measure.
    one_late_invoice(dir.path(), "[]", 20);
    let out = run_study(dir.path(), &dir.path().join("plain"), &[]);
    assert!(read_csv(&out.join("summary.csv")).iter().all(|r| r["measure"] != "collection_fees"));
    let rows = read_csv(&out.join("cashflow.csv"));
    let cash: Vec<&str> = rows.iter().filter(|r| r["policy"] == "none").map(|r| r["mean_cash"].as_str()).collect();
    assert_eq!((cash[9], cash[10]), ("1000000.00", "1100000.00"), "paid in November");
}

/// The agency's fees against the closed form: 400 independent buyers (no cycle sensitivity), each
/// with one invoice of `A` due on day 30, late with probability 1/2 by `round(D)` days, `D`
/// lognormal (median 20, p90 60); a reminder at 15 days pays with probability 0.3, the agency at
/// 45 with 0.5, fee 10 %. A buyer is handed over iff still unpaid on day 45 of lateness:
/// `round(D) ≥ 45` and the reminder failed, and is charged on a payment inside the horizon
/// (`30 + delay < 365`, i.e. `round(D) ≤ 334` or the agency succeeded). The mean fee is within 3
/// standard errors of `Σ A · 0.5 · 0.7 · (P(45 ≤ round D ≤ 334) · 0.5 + P(round D ≥ 45) · 0.5) · 0.1`.
#[test]
fn agency_fees_match_the_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\n");
    let mut invoices = String::from("invoice_id,buyer_id,amount,issue_date,due_date\n");
    let amount = |i: usize| 1_000 + 13 * i;
    for i in 0..400 {
        writeln!(buyers, "B{i:03},DE,retail,0,30,0,").unwrap();
        writeln!(invoices, "I{i:03},B{i:03},{},2027-01-01,2027-01-31", amount(i)).unwrap();
    }
    let study = study_toml("dunning", 4000, true) + "[company]\nopening_cash = 0\n";
    let scenario = "name = \"late\"\n[payment]\nlate_share = 0.5\ndays_late_median = 20\ndays_late_p90 = 60\n\
                    cycle_sensitivity = 0\nladder = [{ days = 15, action = \"reminder\", pay_probability = 0.3 }, \
                    { days = 45, action = \"agency\", pay_probability = 0.5, fee = 0.1 }]\n";
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            ("buyers.csv", &buyers),
            ("invoices.csv", &invoices),
            ("policies.toml", ""),
            ("scenarios/late.toml", scenario),
        ],
    );
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let mean: f64 = summary(&out, "late", "none", "collection_fees", "mean").parse().unwrap();
    let se: f64 = summary(&out, "late", "none", "collection_fees", "mean_std_error").parse().unwrap();
    let sigma = 3f64.ln() / 1.2815515655446004;
    let p_at_least = |r: f64| 1.0 - arstress::normal::cdf(((r - 0.5).ln() - 20f64.ln()) / sigma);
    let handed = 0.7 * p_at_least(45.0);
    // Charged: the agency succeeds on day 45 (inside the horizon), or it fails and the buyer pays
    // on its own inside the horizon (round(D) ≤ 334).
    let charged = 0.5 * handed + 0.5 * 0.7 * (p_at_least(45.0) - p_at_least(335.0));
    let total: f64 = (0..400).map(|i| amount(i) as f64).sum();
    let want = total * 0.5 * charged * 0.1;
    assert!((mean - want).abs() <= 3.0 * se && se > 0.0, "mean {mean} vs {want} (se {se})");
}

/// A ladder is checked step by step, every problem in one run: days that do not increase, an
/// unknown action, a fee on a step that is not the agency's, a probability above 1.
#[test]
fn a_bad_ladder_is_refused_with_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let ladder = "[{ days = 30, action = \"reminder\" }, { days = 30, action = \"email\" }, \
                  { days = 40, action = \"call\", fee = 0.1 }, { days = 50, action = \"agency\", pay_probability = 1.5 }]";
    one_late_invoice(dir.path(), ladder, 20);
    let err = arstress().arg("validate").arg(dir.path()).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    for want in [
        "payment.ladder[1].days",
        "payment.ladder[1].action",
        "reminder, call, letter, agency",
        "payment.ladder[2].fee",
        "only an agency step keeps one",
        "payment.ladder[3].pay_probability",
    ] {
        assert!(err.contains(want), "{want} not in:\n{err}");
    }
}

/// Expected DSO against its closed form, through the ladder: 300 buyers on 30-day terms, no open
/// book, late with probability 1/2 by `min(round(D), d_I)` (`D` lognormal, median 20, p90 60; a
/// reminder at 15 days pays with probability 0.3, the agency at 45 with 0.5), independent (no
/// cycle sensitivity), never stopped, never defaulting. The sale of day `s` is outstanding at the
/// month end `E_k` iff `s < E_k ≤ s + 30 + delay`, so `E[R_k] = Σ_b F_b Σ_{s < E_k} P(delay ≥ E_k
/// − s − 30)`, `P(delay ≥ r) = 1/2 · P(round D ≥ r) · Π_{d_i < r} (1 − q_i)` for `r ≥ 1`, and DSO_k
/// `= E[R_k] / sales_k × days_k`. cashflow.csv's `mean_dso` of every month is within 3 standard
/// errors (of the mean receivables, from the trials' rows) of it, plus the rounding to 0.1 day.
#[test]
fn expected_dso_through_the_ladder_matches_the_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,outstanding,terms_days,monthly_sales\n");
    let monthly = |i: usize| 1_000 + 7 * i;
    for i in 0..300 {
        writeln!(buyers, "B{i:03},DE,retail,0,0,30,{}", monthly(i)).unwrap();
    }
    let study = study_toml("dso", 3000, false) + "[company]\nopening_cash = 0\n";
    let scenario = "name = \"late\"\n[payment]\nlate_share = 0.5\ndays_late_median = 20\ndays_late_p90 = 60\n\
                    cycle_sensitivity = 0\nstop_deliveries_after_days = 3650\n\
                    ladder = [{ days = 15, action = \"reminder\", pay_probability = 0.3 }, \
                    { days = 45, action = \"agency\", pay_probability = 0.5, fee = 0.1 }]\n";
    write_files(
        dir.path(),
        &[("study.toml", &study), ("buyers.csv", &buyers), ("policies.toml", ""), ("scenarios/late.toml", scenario)],
    );
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let dso: Vec<f64> = read_csv(&out.join("cashflow.csv")).iter().map(|r| r["mean_dso"].parse().unwrap()).collect();
    // The standard error of the mean receivables per month, from the same trials.
    let loaded = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&loaded, &loaded.scenarios[0]).unwrap();
    let rows = arstress::engine::run_trials(&plan, 42, 0..3000, &|_| {});
    let starts = loaded.calendar.month_starts().to_vec();
    let h = starts.len() - 1;
    let at = arstress::engine::FIXED_COLUMNS;
    let sigma = 3f64.ln() / 1.2815515655446004;
    let p_round_at_least = |r: i32| 1.0 - arstress::normal::cdf(((r as f64 - 0.5).ln() - 20f64.ln()) / sigma);
    let p_delay_at_least = |r: i32| -> f64 {
        if r <= 0 {
            return 1.0;
        }
        let open = [(15, 0.3), (45, 0.5)].iter().filter(|&&(d, _)| d < r).map(|&(_, q)| 1.0 - q).product::<f64>();
        0.5 * p_round_at_least(r) * open
    };
    let total: f64 = (0..300).map(|i| monthly(i) as f64).sum();
    for k in 0..h {
        let end = starts[k + 1];
        let want_r: f64 =
            starts[..h].iter().filter(|&&s| s < end).map(|&s| total * p_delay_at_least(end - s - 30)).sum();
        let days = (starts[k + 1] - starts[k]) as f64;
        let want = want_r / total * days;
        let values: Vec<f64> = (0..rows.trials).map(|t| rows.row(t)[at + k] as f64 / 100.0).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt();
        let se = sd / (values.len() as f64).sqrt() / total * days;
        assert!(se > 0.0, "month {}: the receivables vary", k + 1);
        assert!((dso[k] - want).abs() <= 3.0 * se + 0.05, "month {}: DSO {} vs {want} (se {se})", k + 1, dso[k]);
    }
}
