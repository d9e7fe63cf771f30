//! Issue 18 §4, "The insurer retreat takes cover away" (SPEC §5.4): a retreat can cut buyers
//! that later default, before they fail; what was delivered before the cut keeps the old limit,
//! what is delivered after it ships and is covered only within the new limit; the reports show
//! what the retreat changed.

use crate::common::*;
use arstress::engine::{FIXED_COLUMNS, run_trials};

/// Two buyers, both forced insolvent on day 61 of a 12-month horizon from 2028-01-01 (month
/// starts: days 0, 31, 60 = 1 March, 91, …), recoveries fixed at 0, no lateness, no country event.
/// Each sells on the 1st of the month at 30 days; limit 500,000, cut to 20% = 100,000.
///
/// * X: monthly sales 80,000; open invoice of 600,000 due 20 March (day 79).
/// * Y: monthly sales 50,000; open invoice of 30,000 due 16 March (day 75).
///
/// The `cut` scenario cuts every buyer whose latent variable falls below `F⁻¹(2q)`, a set holding
/// every defaulter, with `share = 1`; `lead_days = 1` puts the insurer's decision on day
/// `U[max(0, 61 − 1), 61) = 60` and `notice_days = 0` makes the cut effective on day 60. The
/// `nocut` scenario is the same without `limit_cuts`.
fn forced_study() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let study = study_toml("retreat-by-hand", 50, true).replace("as_of = 2027-01-01", "as_of = 2028-01-01");
    let levers = "[payment]\nlate_share = 0\n\
                  [credit]\nrecovery_insolvency = { mean = 0.0, sd = 0.0, lag_days = 540 }\n\
                  [stress]\nforced_defaults = [{ buyers = [\"X\", \"Y\"], day = 61, kind = \"insolvency\" }]\n";
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\n\
                 X,DE,food,0.000001,30,80000,500000\n\
                 Y,DE,food,0.000001,30,50000,500000\n",
            ),
            (
                "invoices.csv",
                "invoice_id,buyer_id,amount,issue_date,due_date\n\
                 X1,X,600000,2027-12-15,2028-03-20\n\
                 Y1,Y,30000,2027-12-01,2028-03-16\n",
            ),
            ("policies.toml", "[[policy]]\nname = \"pol\"\nindemnity = 0.9\nnql = 0\nmax_liability = 10_000_000\n"),
            ("scenarios/nocut.toml", &format!("name = \"nocut\"\n{levers}")),
            (
                "scenarios/cut.toml",
                &format!(
                    "name = \"cut\"\n{levers}limit_cuts = {{ trigger_pd_multiple = 2.0, share = 1.0, cut_to = 0.2, \
                     notice_days = 0, lead_days = 1 }}\n"
                ),
            ),
        ],
    );
    dir
}

/// By hand (EUR). Invoices delivered, in due order, and their state at the insolvency on day 61:
///
/// | buyer | invoice                  | due | without the cut           | with the cut (effective day 60)                    |
/// |-------|--------------------------|-----|---------------------------|----------------------------------------------------|
/// | X     | sale day 0, 80,000       | 30  | paid                      | paid                                               |
/// | X     | sale day 31, 80,000      | 61  | unpaid                    | unpaid (delivered before the cut)                  |
/// | X     | open, 600,000            | 79  | unpaid                    | unpaid (delivered before the cut)                  |
/// | X     | sale day 60, 80,000      | 90  | unpaid                    | not shipped: 680,000 outstanding ≥ 100,000; lost   |
/// | Y     | sale day 0, 50,000       | 30  | paid                      | paid                                               |
/// | Y     | sale day 31, 50,000      | 61  | unpaid                    | unpaid (delivered before the cut)                  |
/// | Y     | open, 30,000             | 75  | unpaid                    | unpaid (delivered before the cut)                  |
/// | Y     | sale day 60, 50,000      | 90  | unpaid                    | shipped 100,000 − 80,000 = 20,000; 30,000 lost     |
///
/// Without the cut: X: T = 80,000 + 600,000 + 80,000 = 760,000, C = min(T, 500,000) = 500,000,
/// claim 0.9 × 500,000 = 450,000. Y: T = 50,000 + 30,000 + 50,000 = 130,000 = C, claim 117,000.
/// Claims 567,000.00; gross loss 890,000.00; net loss 323,000.00.
///
/// With the cut (date of loss 61 ≥ effective day 60), `P = max(new, min(O, old))` with `O` what is
/// unpaid of the deliveries made before the cut: X: T = 680,000, O = 680,000, P = max(100,000,
/// min(680,000, 500,000)) = 500,000, C = 500,000, claim 450,000 (the old limit still covers the old
/// deliveries). Y: T = 80,000 + 20,000 = 100,000, O = 80,000, P = max(100,000, 80,000) = 100,000,
/// C = 100,000, claim 90,000. Claims 540,000.00; gross loss 780,000.00; net loss 240,000.00.
///
/// retreat.csv: 2 buyers cut, cover removed 2 × (500,000 − 100,000) = 800,000.00, sales lost
/// 80,000 + 30,000 = 110,000.00; every standard error 0 (nothing is random).
#[test]
fn a_cut_before_the_insolvency_settles_by_hand() {
    let dir = forced_study();
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    for (scenario, claims, gross) in [("nocut", "567000.00", "890000.00"), ("cut", "540000.00", "780000.00")] {
        assert_eq!(summary(&out, scenario, "pol", "claims", "mean"), claims, "{scenario}: claims");
        assert_eq!(summary(&out, scenario, "pol", "claims", "std_dev"), "0.00", "{scenario}: forced, so fixed");
        assert_eq!(summary(&out, scenario, "pol", "gross_loss", "mean"), gross, "{scenario}: gross loss");
        let net = cents(gross) - cents(claims);
        assert_eq!(cents(&summary(&out, scenario, "pol", "net_loss", "mean")), net, "{scenario}: net loss");
    }
    let rows = read_csv(&out.join("retreat.csv"));
    assert_eq!(rows.len(), 2, "one row per alternative of the scenario that cuts: {rows:?}");
    for r in &rows {
        assert_eq!(r["scenario"], "cut");
        assert_eq!(r["trials"], "50");
        assert_eq!(r["buyers_cut_mean"], "2.0000");
        assert_eq!(r["buyers_cut_std_error"], "0.0000");
        let cover = if r["policy"] == "none" { "0.00" } else { "800000.00" };
        assert_eq!(r["cover_removed_mean"], cover, "{}", r["policy"]);
        assert_eq!(r["cover_removed_std_error"], "0.00");
        assert_eq!(r["sales_lost_mean"], "110000.00");
        assert_eq!(r["sales_lost_std_error"], "0.00");
    }
    assert_eq!(rows[0]["policy"], "none");
    assert_eq!(rows[1]["policy"], "pol");
}

/// A cut that takes effect after the insolvency changes nothing: `notice_days = 5` puts it on
/// day 65 > 61, so the claims, gross loss and sales are those without the cut, and the cut
/// (effective inside the horizon) removes cover that no claim needed.
#[test]
fn a_cut_after_the_insolvency_changes_no_claim() {
    let dir = forced_study();
    let path = dir.path().join("scenarios/cut.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace("notice_days = 0", "notice_days = 5");
    std::fs::write(&path, text).unwrap();
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    assert_eq!(summary(&out, "cut", "pol", "claims", "mean"), "567000.00");
    assert_eq!(summary(&out, "cut", "pol", "gross_loss", "mean"), "890000.00");
    let rows = read_csv(&out.join("retreat.csv"));
    assert_eq!(rows[1]["sales_lost_mean"], "0.00");
    assert_eq!(rows[1]["cover_removed_mean"], "800000.00");
}

/// The example's insurer retreat against the mild recession (identical levers, and the cuts are
/// drawn after every other draw, so both run on the same draws), per trial for the whole-turnover
/// policy, 4,000 trials under the study's seed: the retreat lowers the claims, by more than three
/// paired standard errors. It lowers the gross loss as well, and by more than it lowers the
/// claims, so the net loss falls too (by more than three paired standard errors): in the example
/// most defaults are protracted, and without the retreat the seller keeps shipping to a buyer that
/// has stopped paying until an invoice is 60 days late, much of it above the limit or retained;
/// the retreat stops those shipments (SPEC §5.4: "the seller ships only within the new limit") —
/// its cost shows in the sales lost (retreat.csv) and the cash, not in the net loss. This is the
/// opposite of SPEC §5.4's "and raises net loss": see the report of issue 18 §4.
#[test]
fn the_example_retreat_lowers_claims_on_the_same_draws() {
    let study = arstress::input::load_study(&example_study()).unwrap();
    let plan = |name: &str| {
        let s = study.scenarios.iter().find(|s| s.name == name).unwrap();
        arstress::plan::compile(&study, s).unwrap()
    };
    let (mild, retreat) = (plan("mild-recession"), plan("insurer-retreat"));
    let p = mild.policies.iter().position(|p| p.name == "whole-turnover-90").unwrap();
    let n = 4_000u64;
    let (a, b) = (run_trials(&mild, study.seed, 0..n, &|_| {}), run_trials(&retreat, study.seed, 0..n, &|_| {}));
    let col = FIXED_COLUMNS + 2 * p;
    let paired = |f: &dyn Fn(&[i64]) -> i64| -> (f64, f64) {
        let d: Vec<f64> = (0..n as usize).map(|i| (f(b.row(i)) - f(a.row(i))) as f64).collect();
        let mean = d.iter().sum::<f64>() / n as f64;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, (var / n as f64).sqrt())
    };
    let (claims, claims_se) = paired(&|r| r[col]);
    let (gross, gross_se) = paired(&|r| r[0]);
    let (net, net_se) = paired(&|r| r[0] - r[col] + r[col + 1]);
    eprintln!(
        "retreat − mild (cents): claims {claims:.0} ± {claims_se:.0}, gross {gross:.0} ± {gross_se:.0}, net {net:.0} ± {net_se:.0}"
    );
    assert!(claims < -3.0 * claims_se, "claims: {claims} (paired se {claims_se})");
    assert!(gross < -3.0 * gross_se, "gross loss: {gross} (paired se {gross_se})");
    assert!(gross < claims, "the retreat saves more gross loss than it removes claims");
    assert!(net < -3.0 * net_se, "net loss: {net} (paired se {net_se})");
    // Every other draw is shared: the defaults are the same buyers on the same days.
    assert!((0..n as usize).all(|i| a.row(i)[1] == b.row(i)[1]), "same defaults in every trial");
}

/// retreat.csv for the example: one row per alternative of the scenario that cuts limits, with
/// its standard errors; a run without a retreat writes no retreat.csv (its reports are unchanged).
#[test]
fn retreat_csv_shows_what_the_retreat_changed() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_study(
        &example_study(),
        &dir.path().join("both"),
        &["--trials", "2000", "--scenario", "mild-recession", "--scenario", "insurer-retreat", "--format", "csv"],
    );
    let rows = read_csv(&out.join("retreat.csv"));
    let policies: Vec<&str> = rows.iter().map(|r| r["policy"].as_str()).collect();
    assert_eq!(policies, ["none", "whole-turnover-90", "excess-of-loss", "whole-turnover-95"]);
    for r in &rows {
        assert_eq!(r["scenario"], "insurer-retreat");
        let cut: f64 = r["buyers_cut_mean"].parse().unwrap();
        let cut_se: f64 = r["buyers_cut_std_error"].parse().unwrap();
        assert!(cut > 5.0 && cut_se > 0.0 && cut_se < 0.1 * cut, "buyers cut {cut} ± {cut_se}");
        assert!(cents(&r["sales_lost_mean"]) > 0 && cents(&r["sales_lost_std_error"]) > 0);
        if r["policy"] == "none" {
            assert_eq!(r["cover_removed_mean"], "0.00");
        } else {
            assert!(cents(&r["cover_removed_mean"]) > 10 * cents(&r["cover_removed_std_error"]));
        }
    }
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("retreat.csv"), "the manifest lists retreat.csv");
    let alone = run_study(
        &example_study(),
        &dir.path().join("mild"),
        &["--trials", "2000", "--scenario", "mild-recession", "--format", "csv"],
    );
    assert!(!alone.join("retreat.csv").exists(), "no retreat, no retreat.csv");
    for file in ["summary.csv", "quantiles.csv", "distribution.csv", "cashflow.csv"] {
        let rows_of = |dir: &std::path::Path| -> Vec<_> {
            read_csv(&dir.join(file)).into_iter().filter(|r| r["scenario"] == "mild-recession").collect()
        };
        assert_eq!(rows_of(&alone), rows_of(&out), "{file}: mild-recession does not depend on the retreat");
    }
}

/// retreat.csv is byte-identical for any thread count and any shard split (SPEC §3): a run on one
/// thread against two shards on four threads, merged.
#[test]
fn retreat_csv_is_the_same_for_threads_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--trials", "3000", "--scenario", "insurer-retreat", "--format", "csv"];
    let whole = run_study(&example_study(), &dir.path().join("whole"), &[&common[..], &["--threads", "1"]].concat());
    let mut shards = Vec::new();
    for i in 0..2 {
        let shard = format!("{i}/2");
        let out = dir.path().join(format!("shard-{i}"));
        run_study(&example_study(), &out, &[&common[..], &["--threads", "4", "--shard", &shard]].concat());
        shards.push(out);
    }
    let merged = dir.path().join("merged");
    arstress().arg("merge").args(&shards).arg("--out").arg(&merged).arg("--quiet").assert().success();
    for file in ["retreat.csv", "summary.csv", "cashflow.csv"] {
        assert!(
            std::fs::read(whole.join(file)).unwrap() == std::fs::read(merged.join(file)).unwrap(),
            "{file} differs between one run and merged shards"
        );
    }
}

/// A protracted default whose oldest scheduled unpaid invoice is a sale the cut turned away: the
/// oldest invoice actually delivered sets the date of loss and the delivery stop (SPEC §5 step 2).
/// From 2028-01-01, 29-day terms, 50,000 a month; an open invoice of 600,000 due day 100; a
/// protracted default on day 61, cut effective on day 60 (lead 1, notice 0). Scheduled, the oldest
/// unpaid invoice is the sale of day 60 (due 89), but 600,000 outstanding leaves no room under the
/// new limit of 100,000: that sale and every later one are lost, the oldest unpaid invoice is the
/// open one (due 100), deliveries would stop on 100 + 60 = 160, and T = 600,000 (its date of loss
/// is 100 + the waiting period instead of 89 + it).
#[test]
fn a_protracted_default_dates_its_loss_from_what_was_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let study = study_toml("protracted-cut", 1, true).replace("as_of = 2027-01-01", "as_of = 2028-01-01");
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\nZ,DE,food,0.000001,29,50000,500000\n",
            ),
            ("invoices.csv", "invoice_id,buyer_id,amount,issue_date,due_date\nZ1,Z,600000,2027-12-01,2028-04-10\n"),
            ("policies.toml", "[[policy]]\nname = \"pol\"\nindemnity = 0.9\nnql = 0\nmax_liability = 10_000_000\n"),
            (
                "scenarios/cut.toml",
                "name = \"cut\"\n[payment]\nlate_share = 0\n\
                 [credit]\nrecovery_protracted = { mean = 0.0, sd = 0.0, lag_days = 270 }\n\
                 [stress]\nforced_defaults = [{ buyers = [\"Z\"], day = 61, kind = \"protracted\" }]\n\
                 limit_cuts = { trigger_pd_multiple = 2.0, share = 1.0, cut_to = 0.2, notice_days = 0, lead_days = 1 }\n",
            ),
        ],
    );
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let mut scratch = arstress::engine::Scratch::new(&plan);
    let mut row = vec![0; plan.row_width()];
    arstress::engine::run_trial(&plan, &arstress::engine::rng::TrialKey::new(1, 0), &mut scratch, &mut row);
    let [event] = scratch.events() else { panic!("one default: {:?}", scratch.events()) };
    assert_eq!((event.day, event.oldest_due, event.delivery_stop), (61, 100, 160));
    assert_eq!((event.unpaid, event.before_cut), (600_000 * 100, 600_000 * 100));
    let [cut] = scratch.cuts() else { panic!("one cut") };
    assert_eq!((cut.decision_day, cut.cut.day), (60, 60));
    // Sales of days 60, 91, 121 and 152 (before the stop on day 160) are lost: 4 × 50,000.
    assert_eq!(cut.lost_sales, 200_000 * 100);
    // P = max(100,000, min(O = 600,000, 500,000)) = 500,000: the claim is 0.9 × 500,000.
    assert_eq!(row[FIXED_COLUMNS], 450_000 * 100, "0.9 × min(600,000, 500,000)");
}
