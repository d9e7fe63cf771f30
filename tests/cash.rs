//! The cash path (SPEC §4.7) against hand-computed timelines.

use crate::common::*;

/// Example 1 of shared/examples/claims.md with a cash section. By hand, per month (EUR):
/// collections: A 100,000 on day 20 (month 1); B and C are never paid (insolvency on day 30).
/// Fixed outflows 100,000 a month, no sales, premium 60,000 / 12 = 5,000 a month, the claim of
/// 450,000 paid on day 90 (month 4); the recovery (day 570) falls after the horizon.
#[test]
fn example_1_cash_timeline() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), crate::claims_examples::EXAMPLE_1);
    let study = study_toml("cash example 1", 3, true)
        + "[company]\nopening_cash = 1_000_000\nmonthly_fixed_outflows = 100_000\nvariable_cost_ratio = 0.6\n\
           credit_line = 500_000\nadvance_rate_insured = 0.9\nadvance_rate_uninsured = 0.7\nminimum_cash = 200_000\n\
           bad_debt_reserve = 150_000\n";
    write_files(dir.path(), &[("study.toml", &study)]);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let rows = read_csv(&out.join("cashflow.csv"));
    let cash = |policy: &str| -> Vec<String> {
        rows.iter().filter(|r| r["policy"] == policy).map(|r| r["mean_cash"].clone()).collect()
    };
    // Without insurance: +100,000 − 100,000 in month 1, then −100,000 a month.
    let none: Vec<String> = (0..12).map(|k| format!("{}.00", 1_000_000 - 100_000 * k)).collect();
    assert_eq!(cash("none"), none);
    // With the policy: −5,000 premium a month, +450,000 claim in month 4.
    let mut with = Vec::new();
    let mut c: i64 = 1_000_000;
    for month in 1..=12 {
        c += if month == 1 { 100_000 } else { 0 } + if month == 4 { 450_000 } else { 0 } - 100_000 - 5_000;
        with.push(format!("{c}.00"));
    }
    assert_eq!(cash("p90"), with);
    assert_eq!(with[3], "1130000.00");
    // The baseline path: B paid in month 2 (day 50), C in month 3 (day 80).
    let baseline: Vec<String> =
        rows.iter().filter(|r| r["policy"] == "none").map(|r| r["baseline_cash"].clone()).collect();
    assert_eq!(&baseline[..4], ["1000000.00", "1200000.00", "1400000.00", "1300000.00"]);
    // Borrowing base at the end of January, baseline: B + C = 600,000 eligible; the policy insures
    // 500,000 of it at 90%, the rest at 70%.
    let base = |policy: &str| {
        rows.iter().find(|r| r["policy"] == policy && r["month"] == "1").unwrap()["baseline_borrowing_base"].clone()
    };
    assert_eq!(base("none"), "420000.00");
    assert_eq!(base("p90"), "520000.00");
    // Shortfall: minimum cash 200,000 with no facility (the buyer is in default): without
    // insurance cash falls to 100,000 in month 10, so the first shortfall is month 10 and the peak
    // is 200,000 − (−100,000) = 300,000 in month 12. With the policy, no shortfall.
    let first = rows.iter().find(|r| r["policy"] == "none" && r["p_first_shortfall"] == "1.000000").unwrap();
    assert_eq!(first["month"], "10");
    assert_eq!(summary(&out, "example-1", "none", "peak_shortfall", "mean"), "300000.00");
    assert_eq!(summary(&out, "example-1", "p90", "peak_shortfall", "mean"), "0.00");
    // Net loss 564,000 without insurance and 141,000 with it, against a reserve of 150,000.
    assert_eq!(summary(&out, "example-1", "none", "net_loss", "p_above_bad_debt_reserve"), "1.000000");
    assert_eq!(summary(&out, "example-1", "p90", "net_loss", "p_above_bad_debt_reserve"), "0.000000");
    // Policy choice, every trial alike: total cost 141,000 + premium 60,000 = 201,000 against
    // 564,000 without insurance; the policy removes 423,000 of ES 99 at −363,000 of expected cost
    // (−0.8582 per unit), pays back its premium in every trial and removes the 300,000 shortfall.
    let comparison = read_csv(&out.join("policy_comparison.csv"));
    let p90 = comparison.iter().find(|r| r["policy"] == "p90").unwrap();
    let none = comparison.iter().find(|r| r["policy"] == "none").unwrap();
    assert_eq!((p90["rank_by_total_cost"].as_str(), none["rank_by_total_cost"].as_str()), ("1", "2"));
    assert_eq!(p90["expected_total_cost"], "201000.00");
    assert_eq!(p90["total_cost_vs_none"], "-363000.00");
    assert_eq!(p90["es_99_net_loss_reduction"], "423000.00");
    assert_eq!(p90["cost_per_es_99_reduction"], "-0.8582");
    assert_eq!(p90["p_pays_back_premium"], "1.000000");
    assert_eq!(none["p_pays_back_premium"], "");
    assert_eq!(p90["var_99_peak_shortfall_reduction"], "300000.00");
    assert_eq!(p90["es_99_peak_shortfall_reduction"], "300000.00");
}

/// The closed-form correction of late buyers gives exactly the figures of the explicit path, for
/// short delays, delays past the delivery stop and the 90-day eligibility, limits that bind and
/// limits that differ between policies.
#[test]
fn closed_form_late_path_matches_the_explicit_path() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    arstress().args(["generate", "150", "--invoices", "--seed", "4", "--out"]).arg(&study).assert().success();
    std::fs::write(
        study.join("scenarios/late.toml"),
        "name = \"late\"\n[payment]\nlate_share = 0.6\ndays_late_median = 25\ndays_late_p90 = 120\n\
         [country_risk]\ndefault_probability = 0.3\n[stress]\npd_multiplier = 3\n",
    )
    .unwrap();
    // Discretionary limits capped differently: limits that differ between the two policies.
    let policies = std::fs::read_to_string(study.join("policies.toml")).unwrap();
    let policies =
        policies.replace("name = \"excess-of-loss\"", "name = \"excess-of-loss\"\ndiscretionary_limit_max = 5_000");
    std::fs::write(study.join("policies.toml"), policies).unwrap();
    std::fs::write(
        study.join("scenarios/very-late.toml"),
        "name = \"very-late\"\n[payment]\nlate_share = 0.8\ndays_late_median = 70\ndays_late_p90 = 200\n\
         stop_deliveries_after_days = 45\n",
    )
    .unwrap();
    let study = arstress::input::load_study(&study).unwrap();
    use arstress::plan::cash::{BuyerCash, Insured};
    for name in ["late", "very-late"] {
        let scenario = study.scenarios.iter().find(|s| s.name == name).unwrap();
        let fast = arstress::plan::compile(&study, scenario).unwrap();
        let mut explicit = fast.clone();
        explicit.cash.as_mut().unwrap().late = None;
        let a = arstress::engine::run_trials(&fast, 5, 0..300, &|_| {});
        let b = arstress::engine::run_trials(&explicit, 5, 0..300, &|_| {});
        assert!(a == b, "{name}: closed-form and explicit cash corrections differ");
        // The comparison covered every kind of insured rule and limits differing between policies.
        let cash = fast.cash.as_ref().unwrap();
        let late = cash.late.as_ref().unwrap();
        let shared: Vec<_> = cash
            .buyers
            .iter()
            .filter(|b| b.has(BuyerCash::REGULAR) && b.has(BuyerCash::SHARED_LIMIT))
            .map(|b| b.rule)
            .collect();
        for (delay, mode) in [(20, Insured::Zero), (20, Insured::Linear), (20, Insured::Direct), (150, Insured::Direct)]
        {
            assert!(shared.iter().any(|r| r.mode(delay) == mode), "{name}: no buyer with {mode:?} at {delay} days");
        }
        assert!(cash.buyers.iter().any(|b| !b.has(BuyerCash::SHARED_LIMIT)) && !late.rules.is_empty());
    }
}

/// Issue 18: the monthly cash figures carry their errors. P(shortfall) per month with the binomial
/// error √(p(1−p)/N), the mean cash with its standard error, which for this near-normal cash
/// position agrees with the spread of its 5–95% band (a normal's 90% band is 3.29 standard
/// deviations wide), and every percentile with the width of its order-statistic interval.
#[test]
fn monthly_cash_figures_carry_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let trials = 4_000u32;
    let out = run_study(
        &example_study(),
        &dir.path().join("out"),
        &["--trials", &trials.to_string(), "--scenario", "baseline", "--format", "csv"],
    );
    let rows = read_csv(&out.join("cashflow.csv"));
    assert!(!rows.is_empty());
    let n = f64::from(trials);
    let f = |r: &std::collections::BTreeMap<String, String>, c: &str| -> f64 {
        r[c].parse().unwrap_or_else(|_| panic!("{c}: {:?}", r[c]))
    };
    let mut checked = 0;
    for r in &rows {
        for p in ["p_shortfall", "p_first_shortfall"] {
            let (v, se) = (f(r, p), f(r, &format!("{p}_std_error")));
            assert!((se - (v * (1.0 - v) / n).sqrt()).abs() < 2e-6, "{p}: {v} ± {se}");
        }
        let sd_from_band = (f(r, "cash_p95") - f(r, "cash_p5")) / 3.29;
        let se = f(r, "mean_cash_std_error");
        assert!(se > 0.0 && (se * n.sqrt() / sd_from_band - 1.0).abs() < 0.25, "{r:?}");
        for q in ["cash_p5", "cash_p50", "cash_p95"] {
            let e = f(r, &format!("{q}_std_error"));
            assert!(e > 0.0 && e < sd_from_band, "{q}: ± {e}");
        }
        checked += 1;
    }
    assert_eq!(checked, rows.len());
}

/// Issue 18: what insurance is worth to the bank line. cashflow.csv gives per month the facility
/// (`min(credit line, borrowing base)`), how often the line binds, and the borrowing base and
/// facility each policy adds against no insurance, paired on the same trials: the paired means
/// equal the differences of the means (to a cent of rounding). On the example the credit line
/// binds, so insurance adds borrowing base but no facility, and the page says so; with a line too
/// large to bind, the facility added equals the borrowing base added.
#[test]
fn the_bank_line_shows_what_insurance_adds_and_when_the_line_binds() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    assert!(std::process::Command::new("cp").arg("-r").arg(example_study()).arg(&study).status().unwrap().success());
    for (credit_line, binds) in [(None, true), (Some("1_000_000_000"), false)] {
        if let Some(line) = credit_line {
            let text = std::fs::read_to_string(study.join("study.toml")).unwrap();
            let text: String = text
                .lines()
                .map(|l| if l.starts_with("credit_line") { format!("credit_line = {line}") } else { l.to_owned() })
                .collect::<Vec<_>>()
                .join("\n");
            std::fs::write(study.join("study.toml"), text + "\n").unwrap();
        }
        let out = run_study(
            &study,
            &dir.path().join(format!("out-{binds}")),
            &["--trials", "2000", "--scenario", "baseline"],
        );
        let rows = read_csv(&out.join("cashflow.csv"));
        let get =
            |policy: &str, month: &str| rows.iter().find(|r| r["policy"] == policy && r["month"] == month).unwrap();
        for month in ["1", "2", "6"] {
            let none = get("none", month);
            assert_eq!(none["extra_facility_vs_none"], "", "none adds nothing to itself");
            assert_eq!(none["p_line_binds"] == "1.000000", binds, "{none:?}");
            for policy in ["whole-turnover-90", "excess-of-loss"] {
                let p = get(policy, month);
                let diff = |c: &str| cents(&p[c]) - cents(&none[c]);
                assert!((cents(&p["extra_borrowing_base_vs_none"]) - diff("mean_borrowing_base")).abs() <= 1, "{p:?}");
                assert!((cents(&p["extra_facility_vs_none"]) - diff("mean_facility")).abs() <= 1, "{p:?}");
                if binds {
                    assert_eq!(p["extra_facility_vs_none"], "0.00");
                } else {
                    assert_eq!(p["extra_facility_vs_none"], p["extra_borrowing_base_vs_none"]);
                }
            }
        }
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert_eq!(html.contains("the policy adds no facility"), binds);
    }
}
