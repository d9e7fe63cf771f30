//! Country events (SPEC §4.4): event probability, blocked payments, transfers and political claims.

use crate::common::*;
use arstress::engine::{Peril, Scratch, run_trial};

/// One buyer in AR owing 100,000 due on day 60; an event from day 30 to day 150 blocks the
/// payment; 80% is transferred at its end (day 150), the political loss is 20,000.
fn political_study(political_waiting_days: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let study = study_toml("political", 3, true)
        + "[fx]\nUSD = 1\n[company]\nopening_cash = 1_000_000\nmonthly_fixed_outflows = 0\ncredit_line = 0\nminimum_cash = 0\n";
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,currency,terms_days,monthly_sales,credit_limit\nP,AR,food,0,USD,30,0,200000\n",
            ),
            ("invoices.csv", "invoice_id,buyer_id,amount,issue_date,due_date\nI1,P,100000,2027-01-01,2027-03-02\n"),
            (
                "policies.toml",
                &format!(
                    "[[policy]]\nname = \"pol\"\nindemnity = 0.9\nindemnity_political = 0.9\npolitical_cover = true\n\
                     political_waiting_days = {political_waiting_days}\nclaim_payment_days = 30\nmax_liability = 1_000_000\n\
                     [[policy]]\nname = \"commercial-only\"\nindemnity = 0.9\npolitical_cover = false\nmax_liability = 1_000_000\n"
                ),
            ),
            (
                "scenarios/crisis.toml",
                "name = \"crisis\"\n[payment]\nlate_share = 0\n[country_risk.countries.AR]\ntransfer_rate = 0.8\n\
                 [stress]\nforced_country_events = [{ country = \"AR\", start_day = 30, duration_days = 120 }]\n",
            ),
        ],
    );
    dir
}

#[test]
fn transfer_before_the_date_of_loss_is_a_payment() {
    // DOL = max(30, 60) + 180 = 240, after the transfer on day 150: T = 100,000 − 80,000 = 20,000,
    // claim 90% = 18,000, net 2,000.
    let dir = political_study(180);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let s = |policy, measure| summary(&out, "crisis", policy, measure, "mean");
    assert_eq!(s("none", "gross_loss"), "20000.00");
    assert_eq!(s("pol", "claims"), "18000.00");
    assert_eq!(s("pol", "net_loss"), "2000.00");
    assert_eq!(s("commercial-only", "claims"), "0.00");
    assert_eq!(s("commercial-only", "net_loss"), "20000.00");
    // Cash: the payment due in March is blocked; 80,000 arrive in May (day 150 = 31 May);
    // the claim is paid on day 270 (September).
    let rows = read_csv(&out.join("cashflow.csv"));
    let month_cash = |policy: &str, month: &str| {
        rows.iter().find(|r| r["policy"] == policy && r["month"] == month).unwrap()["mean_cash"].clone()
    };
    assert_eq!(month_cash("none", "4"), "1000000.00");
    assert_eq!(month_cash("none", "5"), "1080000.00");
    assert_eq!(month_cash("pol", "8"), "1080000.00");
    assert_eq!(month_cash("pol", "9"), "1098000.00");
}

#[test]
fn transfer_after_the_date_of_loss_is_a_shared_recovery() {
    // DOL = 60 + 60 = 120, before the transfer: T = 100,000, claim 90,000 on day 150; the insurer
    // gets 80,000 × 90,000 / 100,000 = 72,000 of the transfer back; net 20,000 − 90,000 + 72,000.
    let dir = political_study(60);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let s = |policy, measure| summary(&out, "crisis", policy, measure, "mean");
    assert_eq!(s("none", "gross_loss"), "20000.00");
    assert_eq!(s("pol", "claims"), "90000.00");
    assert_eq!(s("pol", "net_loss"), "2000.00");
    let rows = read_csv(&out.join("cashflow.csv"));
    let may = rows.iter().find(|r| r["policy"] == "pol" && r["month"] == "5").unwrap();
    // Claim 90,000 and transfer 80,000 both on day 150, of which 72,000 goes back: +98,000.
    assert_eq!(may["mean_cash"], "1098000.00");

    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0; plan.row_width()];
    run_trial(&plan, &arstress::engine::rng::TrialKey::new(1, 0), &mut scratch, &mut row);
    let e = scratch.events()[0];
    assert_eq!((e.peril, e.unpaid, e.recovery, e.recovery_day), (Peril::Political, 10_000_000, 8_000_000, 150));
}

/// Over a 6-month horizon a country with annual probability p has an event with probability
/// `1 − (1 − p)^(1/2)`.
#[test]
fn event_probability_over_six_months() {
    let dir = tempfile::tempdir().unwrap();
    let p = 0.2;
    let study = study_toml("events", 1, false).replace("horizon_months = 12", "horizon_months = 6");
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,terms_days,monthly_sales\nA,AR,food,0,30,1000\nB,BR,food,0,30,1000\n",
            ),
            ("policies.toml", ""),
            ("scenarios/s.toml", &format!("[country_risk]\ndefault_probability = {p}\n")),
        ],
    );
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0; plan.row_width()];
    let trials = 20_000u64;
    let mut events = 0u64;
    for t in 0..trials {
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(3, t), &mut scratch, &mut row);
        events += scratch.country_events().len() as u64;
        for (_, e) in scratch.country_events() {
            assert!((0..plan.horizon_days).contains(&e.start) && e.end > e.start);
        }
    }
    let n = (2 * trials) as f64;
    let expected = 1.0 - (1.0f64 - p).powf(0.5);
    let se = (expected * (1.0 - expected) / n).sqrt();
    let observed = events as f64 / n;
    assert!((observed - expected).abs() < 4.0 * se, "event rate {observed} vs {expected} (se {se})");
}
