//! Late payment (SPEC §4.3): lateness that reaches the waiting period, and the lateness sampler.

use crate::common::*;
use arstress::engine::{Peril, Scratch, run_trial};

/// One buyer, limit 200,000, one invoice of 100,000 due on day 30 paid exactly 300 days late.
/// By hand: date of loss 30 + 180 = day 210; claim 90% × 100,000 = 90,000 paid on day 240
/// (August); the buyer pays 100,000 on day 330 (November), of which 90,000 goes back to the insurer.
#[test]
fn lateness_reaching_the_waiting_period_becomes_a_claim() {
    let dir = tempfile::tempdir().unwrap();
    let study = study_toml("late claim", 5, true)
        + "[company]\nopening_cash = 1_000_000\nmonthly_fixed_outflows = 0\ncredit_line = 0\nminimum_cash = 0\n";
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\nL,DE,retail,0,30,0,200000\n",
            ),
            ("invoices.csv", "invoice_id,buyer_id,amount,issue_date,due_date\nI1,L,100000,2027-01-01,2027-01-31\n"),
            (
                "policies.toml",
                "[[policy]]\nname = \"p90\"\nindemnity = 0.90\nwaiting_period_days = 180\nclaim_payment_days = 30\n\
                 max_liability = 1_000_000\n",
            ),
            (
                "scenarios/late.toml",
                "name = \"late\"\n[payment]\nlate_share = 1\ndays_late_median = 300\ndays_late_p90 = 300\n",
            ),
        ],
    );
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    for (policy, measure, want) in [
        ("none", "gross_loss", "0.00"),
        ("none", "net_loss", "0.00"),
        ("p90", "gross_loss", "0.00"),
        ("p90", "claims", "90000.00"),
        ("p90", "net_loss", "0.00"),
    ] {
        assert_eq!(summary(&out, "late", policy, measure, "mean"), want, "{policy} {measure}");
    }
    let rows = read_csv(&out.join("cashflow.csv"));
    let cash = |policy: &str| -> Vec<i64> {
        rows.iter()
            .filter(|r| r["policy"] == policy)
            .map(|r| r["mean_cash"].trim_end_matches(".00").parse::<i64>().unwrap())
            .collect()
    };
    let changes = |c: Vec<i64>| -> Vec<i64> {
        std::iter::once(c[0] - 1_000_000).chain(c.windows(2).map(|w| w[1] - w[0])).collect()
    };
    // Without insurance the only movement is the payment of 100,000 in November (month 11).
    let mut none = vec![0; 12];
    none[10] = 100_000;
    assert_eq!(changes(cash("none")), none);
    // With the policy: +90,000 in August (day 240), +100,000 − 90,000 in November (day 330).
    let mut with = vec![0; 12];
    with[7] = 90_000;
    with[10] = 10_000;
    assert_eq!(changes(cash("p90")), with);
    // On time, the invoice would have been paid in January.
    let baseline: Vec<&str> =
        rows.iter().filter(|r| r["policy"] == "none").map(|r| r["baseline_cash"].as_str()).collect();
    assert_eq!(baseline[0], "1100000.00");

    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0; plan.row_width()];
    run_trial(&plan, &arstress::engine::rng::TrialKey::new(1, 0), &mut scratch, &mut row);
    assert_eq!(scratch.late(), &[(0, 300)]);
    let e = scratch.events()[0];
    assert_eq!(e.peril, Peril::Late { delay: 300 });
    assert_eq!(arstress::engine::date_of_loss(&e, &plan.policies[0]), 210);
}

/// With `cycle_sensitivity = 0` each buyer is late with probability `late_share`, independently,
/// and its delay is lognormal through the median and the 90% quantile.
#[test]
fn late_share_and_mean_delay_match_their_distribution() {
    let dir = tempfile::tempdir().unwrap();
    let n_buyers = 200;
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,monthly_sales\n");
    for i in 0..n_buyers {
        buyers.push_str(&format!("B{i:03},{},s{},0,30,1000\n", ["DE", "FR", "PL"][i % 3], i % 4));
    }
    let (share, median, p90) = (0.3, 12.0f64, 45.0f64);
    write_files(
        dir.path(),
        &[
            ("study.toml", &study_toml("late share", 1, false)),
            ("buyers.csv", &buyers),
            ("policies.toml", ""),
            (
                "scenarios/s.toml",
                &format!(
                    "[payment]\nlate_share = {share}\ncycle_sensitivity = 0\ndays_late_median = {median}\ndays_late_p90 = {p90}\n"
                ),
            ),
        ],
    );
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0; plan.row_width()];
    let trials = 2_000u64;
    let (mut late, mut delays) = (0u64, Vec::new());
    for t in 0..trials {
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(11, t), &mut scratch, &mut row);
        late += scratch.late().len() as u64;
        delays.extend(scratch.late().iter().map(|&(_, d)| d as f64));
    }
    let n = (trials * n_buyers as u64) as f64;
    let observed = late as f64 / n;
    let se = (share * (1.0 - share) / n).sqrt();
    assert!((observed - share).abs() < 4.0 * se, "late share {observed} vs {share} (se {se})");
    // Lognormal mean: median × exp(σ²/2) with σ = ln(p90/median) / Φ⁻¹(0.9). Delays are whole
    // days (rounded), which moves the mean by far less than the tolerance.
    let sigma = (p90 / median).ln() / arstress::normal::quantile(0.9);
    let expected = median * (sigma * sigma / 2.0).exp();
    let m = delays.iter().sum::<f64>() / delays.len() as f64;
    let sd = (delays.iter().map(|d| (d - m).powi(2)).sum::<f64>() / (delays.len() - 1) as f64).sqrt();
    let se = sd / (delays.len() as f64).sqrt();
    assert!((m - expected).abs() < 4.0 * se, "mean delay {m} vs {expected} (se {se})");
}
