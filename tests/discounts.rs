//! Early-payment discounts and credit grades (issue 20 §3–§4, docs/model.md "Early-payment
//! discounts", "Credit grades").

use crate::common::*;
use std::fmt::Write as _;

fn discount_study(dir: &std::path::Path, buyers: &str, scenario: &str, trials: u64) {
    let study = study_toml("discount", trials, false) + "[company]\nopening_cash = 0\n";
    write_files(
        dir,
        &[("study.toml", &study), ("buyers.csv", buyers), ("policies.toml", ""), ("scenarios/offer.toml", scenario)],
    );
}

/// By hand, `2/10 net 60` with a take-up of 1/2 by a grade-A buyer selling 100,000.00 a month from
/// 2027-01-01 (sales on days 0, 31, 59, 90, …): half of each sale, 50,000.00, is paid 10 days after
/// issue less 2 % (49,000.00), the other half on day 60 after issue. Cash at the ends of January to
/// April (no costs): 49,000.00; 98,000.00; 197,000.00 (March: 49,000.00 early plus January's rest
/// on day 60, 2 March); 346,000.00 (April: early 49,000.00, February's rest on day 91 and March's
/// on day 119). Receivables at the end of January: January's rest, 50,000.00 (100,000.00
/// without the discount). The discounts: 12 × 1,000.00.
#[test]
fn a_discount_taker_pays_early_less_the_discount_to_the_cent() {
    let dir = tempfile::tempdir().unwrap();
    let buyers = "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,grade\nX,DE,retail,0,60,100000,A\n";
    let offer = "name = \"offer\"\n[payment]\nlate_share = 0\n[payment.discount]\nrate = 0.02\ndays = 10\n\
                 take_up = { A = 0.5 }\n";
    discount_study(dir.path(), buyers, offer, 5);
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let first: Vec<(i32, i32, i64, bool)> =
        plan.invoices_of(0).iter().take(3).map(|i| (i.issue, i.due, i.amount, i.discounted())).collect();
    assert_eq!(first, [(0, 10, 5_000_000, true), (31, 41, 5_000_000, true), (0, 60, 5_000_000, false)]);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let rows = read_csv(&out.join("cashflow.csv"));
    let cash: Vec<&str> = rows.iter().map(|r| r["baseline_cash"].as_str()).collect();
    assert_eq!(&cash[..4], ["49000.00", "98000.00", "197000.00", "346000.00"]);
    assert_eq!(summary(&out, "offer", "none", "discount_cost", "mean"), "12000.00");
    assert_eq!(summary(&out, "offer", "none", "discount_cost", "std_dev"), "0.00");
    // Without the offer the buyer owes the whole January sale at the end of January.
    let plain = "name = \"offer\"\n[payment]\nlate_share = 0\n";
    discount_study(dir.path(), buyers, plain, 5);
    let without = run_study(dir.path(), &dir.path().join("plain"), &[]);
    assert!(read_csv(&without.join("summary.csv")).iter().all(|r| r["measure"] != "discount_cost"));
    let dso =
        |out: &std::path::Path| -> f64 { read_csv(&out.join("cashflow.csv"))[0]["baseline_dso"].parse().unwrap() };
    // DSO of January: receivables / sales × 31 days.
    assert_eq!((dso(&out), dso(&without)), (15.5, 31.0));
}

/// The discount cost against its closed form: 300 independent grade-B buyers (take-up 0.35, the
/// default) on 45-day terms, late with probability 1/2 by `round(D)` days (`D` lognormal, median
/// 20, p90 60). The early part of the sale issued on day `s` is paid on `s + 10 + delay` and its
/// discount counts when that falls inside the horizon (day < 365): `E = Σ_b Σ_s 0.02 · part_b ·
/// (1/2 + 1/2 · P(s + 10 + round(D) ≤ 364))`, within 3 standard errors. (Deliveries never stop
/// in this scenario: a stop would cost sales, and their discounts, that the formula does not
/// count.)
#[test]
fn the_discount_cost_matches_the_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,monthly_sales\n");
    let monthly = |i: usize| 10_000 + 37 * i;
    for i in 0..300 {
        writeln!(buyers, "B{i:03},DE,retail,0.02,45,{}", monthly(i)).unwrap();
    }
    let offer = "name = \"offer\"\n[payment]\nlate_share = 0.5\ndays_late_median = 20\ndays_late_p90 = 60\n\
                 cycle_sensitivity = 0\nstop_deliveries_after_days = 3650\n[payment.discount]\nrate = 0.02\ndays = 10\n\
                 [stress]\npd_multiplier = 0\n";
    // PD 0.02 makes them grade B; the multiplier 0 keeps them from defaulting, which the closed
    // form does not count.
    discount_study(dir.path(), &buyers, offer, 4000);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let mean: f64 = summary(&out, "offer", "none", "discount_cost", "mean").parse().unwrap();
    let se: f64 = summary(&out, "offer", "none", "discount_cost", "mean_std_error").parse().unwrap();
    let study = arstress::input::load_study(dir.path()).unwrap();
    let sale_days = study.calendar.sale_days().to_vec();
    let sigma = 3f64.ln() / 1.2815515655446004;
    // P(round(D) <= r) = Φ((ln(r + 0.5) − ln 20) / σ).
    let p_at_most =
        |r: i32| if r < 0 { 0.0 } else { arstress::normal::cdf(((r as f64 + 0.5).ln() - 20f64.ln()) / sigma) };
    let mut want = 0.0;
    for i in 0..300 {
        let part = (monthly(i) as f64 * 0.35 * 100.0).round() / 100.0;
        for &s in &sale_days {
            let on_time = if s + 10 < 365 { 1.0 } else { 0.0 };
            want += 0.02 * part * (0.5 * on_time + 0.5 * p_at_most(364 - s - 10));
        }
    }
    assert!((mean - want).abs() <= 3.0 * se && se > 0.0, "mean {mean} vs {want} (se {se})");
}

/// Grades: buyers.csv's `grade` wins; else the rating's (AAA–BBB A, BB–B B, CCC and below C);
/// else the PD's (up to 0.5 % A, up to 5 % B, above C); else B. A grade other than A, B or C is
/// refused.
#[test]
fn grades_come_from_the_column_the_rating_or_the_pd() {
    use arstress::model::Grade;
    let dir = tempfile::tempdir().unwrap();
    let buyers = "buyer_id,country,sector,rating,pd_1y,terms_days,monthly_sales,grade\n\
                  G1,DE,retail,BBB,,30,1,C\nG2,DE,retail,BB,,30,1,\nG3,DE,retail,CCC,,30,1,\n\
                  G4,DE,retail,,0.004,30,1,\nG5,DE,retail,,0.2,30,1,\nG6,DE,retail,AA,,30,1,\n";
    discount_study(dir.path(), buyers, "name = \"offer\"\n", 5);
    let study = arstress::input::load_study(dir.path()).unwrap();
    let grades: Vec<Grade> = study.portfolio.buyers.iter().map(|b| b.grade()).collect();
    assert_eq!(grades, [Grade::C, Grade::B, Grade::C, Grade::A, Grade::C, Grade::A]);
    discount_study(dir.path(), &buyers.replace(",C\n", ",D\n"), "name = \"offer\"\n", 5);
    let err = arstress().arg("validate").arg(dir.path()).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("grade") && err.contains("\"D\"") && err.contains("A, B or C"), "{err}");
}

/// A terms policy by grade, by hand: a grade-C buyer selling 100,000.00 a month on 60-day terms
/// goes to cash in advance from month 2, losing 25 % of those sales (the default elasticity):
/// January's sale stays on credit (due day 60), each later one is 75,000.00 paid on its issue day.
/// Lost sales 11 × 25,000.00 = 275,000.00, lost margin at a variable cost ratio of 0.6:
/// 110,000.00. The insured turnover is the credit sales of the year, 100,000.00, so a premium rate
/// of 1 % costs 1,000.00 instead of 12,000.00. An insolvency on day 100 leaves nothing unpaid
/// (January's sale was paid on day 60, the rest before delivery), against 200,000.00 (the sales
/// of days 59 and 90) on the buyer's own terms (no recovery: a fixed rate of 0).
#[test]
fn cash_in_advance_for_grade_c_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let buyers = "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit,grade\n\
                  X,DE,retail,0,60,100000,500000,C\n";
    let policy = "[[policy]]\nname = \"p\"\nindemnity = 0.9\npremium_rate = 0.01\nmax_liability = 1_000_000\n";
    let study = study_toml("terms", 5, false) + "[company]\nopening_cash = 0\nvariable_cost_ratio = 0.6\n";
    let stress = "[credit]\nrecovery_insolvency = { mean = 0, sd = 0 }\n[stress]\nforced_defaults = [{ buyers = [\"X\"], day = 100, kind = \"insolvency\" }]\n";
    let tight = format!(
        "name = \"tight\"\n[payment]\nlate_share = 0\n[terms]\nfrom_month = 2\nC = {{ cash_in_advance = true }}\n{stress}"
    );
    let own = format!("name = \"own\"\n[payment]\nlate_share = 0\n{stress}");
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            ("buyers.csv", buyers),
            ("policies.toml", policy),
            ("scenarios/a-own.toml", &own),
            ("scenarios/b-tight.toml", &tight),
        ],
    );
    let loaded = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&loaded, &loaded.scenarios[1]).unwrap();
    let first: Vec<(i32, i32, i64, bool)> =
        plan.invoices_of(0).iter().take(3).map(|i| (i.issue, i.due, i.amount, i.prepaid())).collect();
    assert_eq!(first, [(31, 31, 7_500_000, true), (59, 59, 7_500_000, true), (0, 60, 10_000_000, false)]);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let s = |scenario: &str, policy: &str, measure: &str| summary(&out, scenario, policy, measure, "mean");
    assert_eq!(s("tight", "none", "terms_lost_sales"), "275000.00");
    assert_eq!(s("tight", "none", "terms_lost_margin"), "110000.00");
    assert_eq!(s("tight", "none", "gross_loss"), "0.00");
    assert_eq!(s("own", "none", "gross_loss"), "200000.00");
    assert!(
        read_csv(&out.join("summary.csv"))
            .iter()
            .all(|r| r["scenario"] != "own" || !r["measure"].starts_with("terms_"))
    );
    assert_eq!(comparison(&out, "tight", "p", "annual_premium"), "1000.00");
    assert_eq!(comparison(&out, "own", "p", "annual_premium"), "12000.00");
    // February's cash: the prepaid 75,000.00 less 60 % variable costs on it; nothing else.
    let rows = read_csv(&out.join("cashflow.csv"));
    let tight_cash: Vec<f64> = rows
        .iter()
        .filter(|r| r["scenario"] == "tight" && r["policy"] == "none")
        .map(|r| r["baseline_cash"].parse().unwrap())
        .collect();
    assert_eq!(tight_cash[1] - tight_cash[0], 75_000.0 - 0.6 * 75_000.0);
}
