//! The worked claims of shared/examples/claims.md, reproduced to the cent through the CLI and the
//! public API.

use crate::common::*;
use arstress::claims::{Terms, settle_year};
use arstress::engine::Peril;
use arstress::engine::{Scratch, run_trial};

pub const EXAMPLE_1: &[(&str, &str)] = &[
    (
        "buyers.csv",
        "buyer_id,name,country,sector,rating,terms_days,monthly_sales,credit_limit,limit_type\n\
         X,Buyer X,DE,machinery,BBB,30,0,500000,approved\n",
    ),
    (
        "invoices.csv",
        "invoice_id,buyer_id,amount,issue_date,due_date\n\
         A,X,100000,2026-12-01,2027-01-21\n\
         B,X,300000,2026-12-15,2027-02-20\n\
         C,X,300000,2026-12-20,2027-03-22\n",
    ),
    (
        "policies.toml",
        "[[policy]]\nname = \"p90\"\nindemnity = 0.90\nnql = 5000\ndeductible = 0\naggregate_first_loss = 0\n\
         premium_rate = 0.0025\nminimum_premium = 60000\nmax_liability_multiple = 20\ninsolvency_claim_days = 60\n",
    ),
    (
        "scenarios/example-1.toml",
        "[credit]\nrecovery_insolvency = { mean = 0.06, sd = 0, lag_days = 540 }\n\
         [stress]\nforced_defaults = [{ buyers = [\"X\"], day = 30, kind = \"insolvency\" }]\n",
    ),
];

const EXAMPLE_2: &[(&str, &str)] = &[
    (
        "buyers.csv",
        "buyer_id,name,country,sector,rating,terms_days,monthly_sales,credit_limit,limit_type\n\
         Y,Buyer Y,FR,retail,BB,60,100000,300000,approved\n",
    ),
    ("invoices.csv", "invoice_id,buyer_id,amount,issue_date,due_date\nI0,Y,80000,2026-11-22,2027-01-21\n"),
    (
        "policies.toml",
        "[[policy]]\nname = \"p90\"\nindemnity = 0.90\nnql = 5000\ndeductible = 10000\naggregate_first_loss = 50000\n\
         premium_rate = 0.0025\nminimum_premium = 40000\nmax_liability_multiple = 20\nwaiting_period_days = 180\n\
         claim_payment_days = 30\n",
    ),
    (
        "scenarios/example-2.toml",
        "[credit]\nrecovery_protracted = { mean = 0.20, sd = 0, lag_days = 270 }\n\
         [payment]\nstop_deliveries_after_days = 60\n\
         [stress]\nforced_defaults = [{ buyers = [\"Y\"], day = 15, kind = \"protracted\" }]\n",
    ),
];

/// Compiles the study's only scenario and runs one trial: plan, the single loss event, outcome row.
fn first_trial(study: &std::path::Path) -> (arstress::plan::Plan, arstress::engine::LossEvent, Vec<i64>) {
    let study = arstress::input::load_study(study).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0; plan.row_width()];
    run_trial(&plan, &arstress::engine::rng::TrialKey::new(1, 0), &mut scratch, &mut row);
    assert_eq!(scratch.events().iter().filter(|e| !matches!(e.peril, Peril::Late { .. })).count(), 1);
    let event = scratch.events()[0];
    (plan, event, row)
}

fn setup(name: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("study.toml", &study_toml(name, 7, true))]);
    write_files(dir.path(), files);
    dir
}

#[test]
fn example_1_insolvency_above_limit_with_shared_recovery() {
    let dir = setup("example 1", EXAMPLE_1);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let s = |policy, measure| summary(&out, "example-1", policy, measure, "mean");
    assert_eq!(s("none", "gross_loss"), "564000.00");
    assert_eq!(s("none", "net_loss"), "564000.00");
    assert_eq!(s("none", "total_cost"), "564000.00");
    assert_eq!(s("none", "claims"), "0.00");
    assert_eq!(s("p90", "gross_loss"), "564000.00");
    assert_eq!(s("p90", "claims"), "450000.00");
    assert_eq!(s("p90", "net_loss"), "141000.00");
    assert_eq!(s("p90", "total_cost"), "201000.00");
    // The same every trial: the 99.5% tail equals the mean.
    assert_eq!(summary(&out, "example-1", "p90", "net_loss", "es_99_5"), "141000.00");
    assert_eq!(comparison(&out, "example-1", "p90", "annual_premium"), "60000.00");
    assert_eq!(comparison(&out, "example-1", "p90", "max_liability"), "1200000.00");

    // The event itself, through the public API: paid before day 30, T, recovery and its day.
    let (plan, e, row) = first_trial(dir.path());
    assert_eq!(
        (e.peril, e.day, e.unpaid, e.recovery, e.recovery_day),
        (Peril::Insolvency, 30, 60_000_000, 3_600_000, 570)
    );
    // Gross loss, defaults, overdue write-off (none: no invoice is overdue), agency fees (no
    // ladder), discounts (none offered), claims, share.
    assert_eq!(row, vec![56_400_000, 1, 0, 0, 0, 45_000_000, 2_700_000]);
    let policy = &plan.policies[0];
    assert_eq!(arstress::engine::date_of_loss(&e, policy) + policy.insolvency_claim_days, 90, "claim paid on day 90");
}

#[test]
fn example_2_protracted_default_with_deductible_and_first_loss() {
    let dir = setup("example 2", EXAMPLE_2);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let s = |policy, measure| summary(&out, "example-2", policy, measure, "mean");
    assert_eq!(s("none", "gross_loss"), "304000.00");
    assert_eq!(s("p90", "claims"), "210000.00");
    assert_eq!(s("p90", "net_loss"), "136000.00");
    assert_eq!(s("p90", "total_cost"), "176000.00");
    assert_eq!(comparison(&out, "example-2", "p90", "annual_premium"), "40000.00");
    assert_eq!(comparison(&out, "example-2", "p90", "max_liability"), "800000.00");

    let (plan, e, row) = first_trial(dir.path());
    // Oldest unpaid due day 20; deliveries stop at day 80: invoices of days 0, 31, 59 delivered.
    assert_eq!(
        (e.peril, e.oldest_due, e.unpaid, e.recovery, e.recovery_day),
        (Peril::Protracted, 20, 38_000_000, 7_600_000, 285)
    );
    let policy = &plan.policies[0];
    let dol = arstress::engine::date_of_loss(&e, policy);
    assert_eq!((dol, dol + policy.claim_payment_days), (200, 230));
    assert_eq!(row, vec![30_400_000, 1, 0, 0, 0, 21_000_000, 4_200_000]);
}

#[test]
fn example_3_claims_in_date_of_loss_order() {
    // Covered amounts in DOL order, cents; the third claim is political (indemnity 0.95).
    let claims =
        |q: i64, qp: i64| vec![(800_000, q), (12_000_000, q), (40_000_000, qp), (140_000_000, q), (5_000_000, q)];
    let (q, qp) = (900_000_000, 950_000_000);
    let base = Terms { nql: 1_000_000, deductible: 0, aggregate_first_loss: 15_000_000, max_liability: 150_000_000 };
    assert_eq!(settle_year(&base, &claims(q, qp)), vec![0, 0, 33_800_000, 116_200_000, 0]);
    let stress = Terms { max_liability: 120_000_000, ..base };
    assert_eq!(settle_year(&stress, &claims(q, qp)), vec![0, 0, 33_800_000, 86_200_000, 0]);
}

#[test]
fn example_3_maximum_liability_follows_the_scenario_premium() {
    // Insured turnover 40,000,000 (12 × 3,333,333.33 rounds to a premium of exactly 100,000) and a
    // 37.5% turnover fall: premium 80,000 (the minimum), maximum liability 1,200,000.
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("study.toml", &study_toml("example 3", 1, false)),
            (
                "buyers.csv",
                "buyer_id,country,sector,rating,terms_days,monthly_sales,credit_limit\nZ,DE,retail,A,30,3333333.33,1000000\n",
            ),
            (
                "policies.toml",
                "[[policy]]\nname = \"p\"\nindemnity = 0.90\nindemnity_political = 0.95\nnql = 10000\n\
                 aggregate_first_loss = 150000\npremium_rate = 0.0025\nminimum_premium = 80000\nmax_liability_multiple = 15\n",
            ),
            ("scenarios/a-base.toml", "name = \"base\"\n"),
            ("scenarios/b-stress.toml", "name = \"stress\"\n[stress]\nsales_multiplier = 0.625\n"),
        ],
    );
    let study = arstress::input::load_study(dir.path()).unwrap();
    let base = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let stress = arstress::plan::compile(&study, &study.scenarios[1]).unwrap();
    assert_eq!((base.policies[0].annual_premium, base.policies[0].max_liability), (10_000_000, 150_000_000));
    assert_eq!((stress.policies[0].annual_premium, stress.policies[0].max_liability), (8_000_000, 120_000_000));
}
