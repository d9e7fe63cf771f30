//! Insurer retreat (SPEC §5.4): which buyers are cut, how the seller ships after a cut, and the
//! run-off rule for the deliveries made before it (SPEC §5 step 3).

use crate::common::*;
use arstress::engine::{FIXED_COLUMNS, Scratch, run_trial};

/// One buyer in AR: 100,000 of sales on the 1st of each month at 60 days, limit 300,000. An event
/// in AR from day 150 (for 400 days) blocks every payment due from day 150 and stops deliveries
/// (so only the sales of days 0, 31, 59, 90 and 120 can be made); half is transferred on day 550.
/// The political claim's date of loss is max(150, oldest blocked due) + 180. Every buyer that
/// does not default is cut to 25% (75,000) 30 days after a uniform day: its PD is 1e-6 and the
/// trigger multiple makes `trigger × q ≥ 1`.
fn retreat_study() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let study = study_toml("retreat", 1, false)
        + "[fx]\nUSD = 1\n[company]\nopening_cash = 1_000_000\nmonthly_fixed_outflows = 0\ncredit_line = 0\nminimum_cash = 0\n";
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,currency,terms_days,monthly_sales,credit_limit\n\
                 K,AR,food,0.000001,USD,60,100000,300000\n",
            ),
            (
                "policies.toml",
                "[[policy]]\nname = \"pol\"\nindemnity = 0.9\nindemnity_political = 0.9\npolitical_cover = true\n\
                 political_waiting_days = 180\nnql = 0\nmax_liability = 10_000_000\n",
            ),
            (
                "scenarios/retreat.toml",
                "name = \"retreat\"\n[payment]\nlate_share = 0\n[country_risk.countries.AR]\ntransfer_rate = 0.5\n\
                 [stress]\nforced_country_events = [{ country = \"AR\", start_day = 150, duration_days = 400 }]\n\
                 limit_cuts = { trigger_pd_multiple = 2_000_000, share = 1.0, cut_to = 0.25, notice_days = 30 }\n",
            ),
        ],
    );
    dir
}

/// By hand, for each range of the effective day `e` (amounts in EUR; "outstanding" on a sale day
/// counts the invoices delivered and not yet paid, the blocked ones included):
///
/// | e          | sales made                                   | blocked (T) | O (before cut) | P = max(75k, min(O, 300k)) | claim 90% |
/// |------------|----------------------------------------------|-------------|----------------|----------------------------|-----------|
/// | 30–31      | 100k (day 0), 75k (day 90: 0 outstanding)    | 75k         | 0              | 75k                        | 67,500    |
/// | 32–59      | 100k, 100k, then 75k on day 120              | 75k         | 0              | 75k                        | 67,500    |
/// | 60–90      | 100k ×3, then 75k on day 120 (DOL 360)       | 75k         | 0              | 75k                        | 67,500    |
/// | 91–120     | 100k ×4 (day 120: 100k still blocked)        | 100k        | 100k           | 100k                       | 90,000    |
/// | 121–330    | 100k ×5 (the cut falls after the last sale)  | 200k        | 200k           | 200k (the new limit: 75k)  | 180,000   |
/// | 331–394    | 100k ×5 (the cut falls after the DOL, 330)   | 200k        | —              | 300k (old limit)           | 180,000   |
///
/// `O` is what is still unpaid (here: blocked) at the date of loss of the deliveries made before
/// the cut took effect (SPEC §5.4: those stay covered within the old limit; the later ones are
/// covered only within the new limit, with `O` counted against it).
///
/// From e = 121 the whole claim is made of deliveries before the cut: the run-off rule keeps them
/// covered up to the old limit, where the new limit alone would pay 90% of 75,000 = 67,500.
#[test]
fn run_off_keeps_the_old_limit_for_deliveries_made_before_the_cut() {
    let dir = retreat_study();
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let h = plan.horizon_months as usize;
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0; plan.row_width()];
    let expected = |e: i32| -> (i64, i64) {
        match e {
            30..=31 => (175_000, 75_000),
            32..=59 => (275_000, 75_000),
            60..=90 => (375_000, 75_000),
            91..=120 => (400_000, 100_000),
            _ => (500_000, 200_000),
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    for t in 0..3_000 {
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(11, t), &mut scratch, &mut row);
        if row[1] > 0 {
            continue; // a default (PD 1e-6): not this table's case
        }
        let [cut] = scratch.cuts() else { panic!("trial {t}: the buyer is cut in every trial without a default") };
        let e = cut.cut.day;
        assert!((30..365 + 30).contains(&e), "effective day {e} = uniform day in the horizon + 30");
        let (sales, blocked) = expected(e);
        let sales_at = FIXED_COLUMNS + 2 + h;
        let made: i64 = row[sales_at..sales_at + h].iter().sum();
        assert_eq!(made, sales * 100, "sales, cut effective on day {e}");
        assert_eq!(row[0], blocked * 100 / 2, "gross loss (half the blocked amount transferred), e = {e}");
        assert_eq!(row[FIXED_COLUMNS], blocked * 100 * 9 / 10, "claim, cut effective on day {e}");
        seen.insert(match e {
            30..=31 => 0,
            32..=59 => 1,
            60..=90 => 2,
            91..=120 => 3,
            121..=330 => 4,
            _ => 5,
        });
        if (121..=330).contains(&e) {
            let [event] = scratch.events() else { panic!("one political event") };
            assert_eq!(event.before_cut, 200_000 * 100, "blocked from deliveries before a cut on day {e}");
        }
    }
    assert_eq!(seen.len(), 6, "every range of the table is exercised: {seen:?}");
}

/// Without defaults or events the cut shows in the cash path: a cut on day 32–59 (75,000 new
/// limit, 200,000 outstanding) stops the sales of days 59 and 90 and lets the sale of day 120 and
/// later ones only fill the room under 75,000: every later sale is 75,000 less what is unpaid.
#[test]
fn the_seller_ships_only_within_the_new_limit() {
    let dir = retreat_study();
    let scenario = dir.path().join("scenarios/retreat.toml");
    let text = std::fs::read_to_string(&scenario).unwrap();
    let text =
        text.replace("forced_country_events = [{ country = \"AR\", start_day = 150, duration_days = 400 }]\n", "");
    std::fs::write(&scenario, text).unwrap();
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let h = plan.horizon_months as usize;
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0; plan.row_width()];
    let sale_days: [i32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let mut checked = 0;
    for t in 0..400 {
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(5, t), &mut scratch, &mut row);
        let [cut] = scratch.cuts() else { continue };
        let e = cut.cut.day;
        // By hand: each invoice is paid 60 days after issue; from e on a sale is made only if the
        // unpaid invoices leave room under 75,000, and then only that room. A sale 30 or 31 days
        // after the previous one finds that one unpaid, so after the cut sales alternate between
        // 75,000 and nothing, starting once the pre-cut invoices are paid.
        let mut unpaid: Vec<(i32, i64)> = Vec::new(); // (paid on, amount)
        let mut expected = vec![0i64; h];
        for (m, &d) in sale_days.iter().enumerate() {
            let outstanding: i64 = unpaid.iter().filter(|&&(paid, _)| paid > d).map(|u| u.1).sum();
            let amount = if d >= e { (75_000 - outstanding).clamp(0, 100_000) } else { 100_000 };
            if amount > 0 {
                unpaid.push((d + 60, amount));
                expected[m] = amount * 100;
            }
        }
        let sales_at = FIXED_COLUMNS + 2 + h;
        assert_eq!(&row[sales_at..sales_at + h], &expected[..], "monthly sales, cut on day {e}");
        assert_eq!(row[0], 0);
        checked += 1;
    }
    assert!(checked > 300);
}

/// For a homogeneous pool the share of buyers cut is `share × (min(m·q, 1) − q·p₀)` (SPEC §5.4: a
/// buyer is cut when `X < F⁻¹(m·q)` and the coin says so, defaulters included), whatever the
/// correlation, where `p₀` is the probability that a default falls on day 0 and leaves no day
/// before it to decide on: `x·H_days < 1`, i.e. `u < (1 − (1 − q)^(1/H_days)) / q` (SPEC §3.1.2).
/// Checked on the per-trial rates within 4 standard errors, with the Gaussian copula and the t
/// copula. (Before issue 18 only buyers that did not default could be cut: `share × (m·q − q)`.)
#[test]
fn cut_rate_is_the_share_of_the_trigger_band() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, pd, multiple, share) = (400usize, 0.02f64, 3.0, 0.4);
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\n");
    for i in 0..pool {
        buyers += &format!("B{i:04},DE,food,{pd},30,1000,5000\n");
    }
    let cuts = format!("limit_cuts = {{ trigger_pd_multiple = {multiple}, share = {share}, cut_to = 0.5 }}\n");
    write_files(
        dir.path(),
        &[
            ("study.toml", &study_toml("cuts", 1, false)),
            ("buyers.csv", &buyers),
            ("policies.toml", ""),
            ("scenarios/gauss.toml", &format!("name = \"gauss\"\n[payment]\nlate_share = 0\n[stress]\n{cuts}")),
            (
                "scenarios/t.toml",
                &format!(
                    "name = \"t\"\n[credit]\ncopula = \"t\"\nt_dof = 4\n[payment]\nlate_share = 0\n[stress]\n{cuts}"
                ),
            ),
        ],
    );
    let study = arstress::input::load_study(dir.path()).unwrap();
    for scenario in &study.scenarios {
        let plan = arstress::plan::compile(&study, scenario).unwrap();
        let p0 = (1.0 - (1.0 - pd).powf(1.0 / plan.horizon_days as f64)) / pd;
        let expected = share * (multiple * pd - pd * p0);
        let mut scratch = Scratch::new(&plan);
        let mut row = vec![0; plan.row_width()];
        let trials = 3_000u64;
        let rates: Vec<f64> = (0..trials)
            .map(|t| {
                run_trial(&plan, &arstress::engine::rng::TrialKey::new(9, t), &mut scratch, &mut row);
                scratch.cuts().len() as f64 / pool as f64
            })
            .collect();
        let mean = rates.iter().sum::<f64>() / trials as f64;
        let var = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (trials - 1) as f64;
        let se = (var / trials as f64).sqrt();
        assert!(
            (mean - expected).abs() < 4.0 * se,
            "{}: cut rate {mean:.5} vs {expected:.5} (se {se:.5})",
            scenario.name
        );
    }
}
