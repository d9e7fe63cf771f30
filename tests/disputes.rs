//! Disputed sales and dilution (issue 20 §5, docs/model.md "Disputes (dilution)"): the split of a
//! sale, the cash of a credit note, the dilution loss, and claims that leave out the debts still
//! in dispute at the date of loss.

use crate::common::*;
use arstress::engine::{FIXED_COLUMNS, Scratch, run_trial};
use arstress::plan::{CREDITED, DISPUTED};
use std::fmt::Write as _;

/// δ = 0.1 disputed, resolved 60 days after the due date, half of it credited.
const DISPUTES: &str = "[disputes]\nshare = 0.1\nresolution_days = 60\ncredited = 0.5\n";

/// One buyer X (PD 0, terms 30 days) buying 100,000.00 on the first day of every month of 2027,
/// nothing open at `as_of`, nobody late.
fn one_buyer(dir: &std::path::Path, policies: &str, scenarios: &[(&str, &str)], company: bool) {
    let mut study = study_toml("disputes", 3, false);
    if company {
        study += "[company]\nopening_cash = 1_000_000\n";
    }
    write_files(
        dir,
        &[
            ("study.toml", &study),
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit,limit_type\n\
                 X,DE,retail,0,30,100000,1000000,approved\n",
            ),
            ("policies.toml", policies),
        ],
    );
    for (name, text) in scenarios {
        let body = format!("name = \"{name}\"\n[payment]\nlate_share = 0\n{text}");
        write_files(dir, &[(&format!("scenarios/{name}.toml"), &body)]);
    }
}

/// By hand: each sale of 100,000.00 issued on day `d` becomes 90,000.00 due on `d + 30`, then
/// 5,000.00 paid and 5,000.00 credited on the resolution day `d + 90`, all aged from `d + 30`.
/// Cash (opening 1,000,000.00, no costs) collects the 90,000.00 and the 5,000.00 pieces, never the
/// credited ones: month by month 90,000, 0, 180,000, 5,000, 190,000, 5,000, 185,000, 95,000, 5,000,
/// 185,000, 5,000, 185,000. Receivables at the end of January: the undisputed piece is paid on day
/// 30; 10,000.00 of disputed pieces remain; at the end of April (day 119) the credited piece of
/// January (day 90) has left: the 90,000.00 of April, 5,000 + 5,000 of February and of March, and
/// 10,000 of April = 120,000.00. The dilution loss is the 12 credited pieces, 60,000.00 (those
/// resolving after the horizon included), in every trial; it is not in the net loss.
#[test]
fn a_disputed_sale_is_split_paid_and_credited_to_the_cent() {
    let dir = tempfile::tempdir().unwrap();
    one_buyer(dir.path(), "", &[("disputed", DISPUTES)], true);
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let pieces: Vec<(i32, i32, i64, i32, u8)> =
        plan.invoices_of(0).iter().map(|i| (i.due, i.issue, i.amount, i.age_due, i.dispute)).collect();
    assert_eq!(
        &pieces[..6],
        [
            (30, 0, 9_000_000, 30, 0),
            (61, 31, 9_000_000, 61, 0),
            (89, 59, 9_000_000, 89, 0),
            (90, 0, 500_000, 30, DISPUTED),
            (90, 0, 500_000, 30, CREDITED),
            (120, 90, 9_000_000, 120, 0),
        ]
    );
    assert_eq!(pieces.len(), 36);
    assert_eq!(pieces.iter().map(|p| p.2).sum::<i64>(), 12 * 10_000_000, "the pieces add up to the sales");
    assert_eq!(
        arstress::plan::dispute_pieces(100_001, "0.1".parse().unwrap(), "0.5".parse().unwrap()),
        (90_001, 5_000, 5_000)
    );
    assert_eq!(plan.disputes.as_ref().unwrap().credited_total, 6_000_000);

    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let rows = read_csv(&out.join("cashflow.csv"));
    let col =
        |c: &str| -> Vec<String> { rows.iter().filter(|r| r["policy"] == "none").map(|r| r[c].clone()).collect() };
    let cash = col("baseline_cash");
    let expected = [
        "1090000.00",
        "1090000.00",
        "1270000.00",
        "1275000.00",
        "1465000.00",
        "1470000.00",
        "1655000.00",
        "1750000.00",
        "1755000.00",
        "1940000.00",
        "1945000.00",
        "2130000.00",
    ];
    assert_eq!(cash, expected);
    assert_eq!(col("mean_cash"), expected, "nothing happens in the trials");
    let s = |measure, column| summary(&out, "disputed", "none", measure, column);
    assert_eq!(s("dilution_loss", "mean"), "60000.00");
    assert_eq!(s("dilution_loss", "std_dev"), "0.00");
    assert_eq!(s("net_loss", "mean"), "0.00", "the dilution is not a credit loss");
    assert_eq!(s("gross_loss", "mean"), "0.00");
    assert!(
        read_csv(&out.join("summary.csv")).iter().all(|r| r["measure"] != "disputed_excluded"),
        "none claims nothing"
    );

    // Receivables at month ends through the plan's baseline.
    let recv = &plan.cash.as_ref().unwrap().baseline.receivables;
    assert_eq!(&recv[..4], [1_000_000, 11_000_000, 3_000_000, 12_000_000]);

    // Without disputes: no measure, every sale due on its terms.
    one_buyer(dir.path(), "", &[("disputed", "")], true);
    let out = run_study(dir.path(), &dir.path().join("plain"), &[]);
    assert!(read_csv(&out.join("summary.csv")).iter().all(|r| r["measure"] != "dilution_loss"));
}

const POLICY: &str = "[[policy]]\nname = \"p90\"\nindemnity = 0.90\nnql = 0\ndeductible = 0\naggregate_first_loss = 0\n\
                      premium_rate = 0.0025\nminimum_premium = 60000\nmax_liability_multiple = 20\n\
                      waiting_period_days = 90\ninsolvency_claim_days = 60\n";

const NO_RECOVERY: &str =
    "[credit]\nrecovery_insolvency = { mean = 0, sd = 0 }\nrecovery_protracted = { mean = 0, sd = 0 }\n";

/// By hand, sales on days 0, 31, 59, 90, 120, 151, … (pieces as in the first test).
///
/// **Insolvency on day 100** (date of loss 100). Unpaid: the undisputed piece of April's sale
/// (due 120) 90,000.00, and the disputed pieces of February, March and April (resolution days 121,
/// 149, 180): 3 × (5,000 + 5,000) = 30,000.00; January's pieces were resolved on day 90, before
/// the default: its 5,000.00 credited is the dilution. Gross loss 120,000.00 (no recovery). Every
/// unpaid disputed piece is still in dispute on day 100: the claim is on 90,000.00 only, 90 % =
/// 81,000.00; refused for disputes 30,000.00; net loss 39,000.00.
///
/// **Protracted default on day 100**: the oldest unpaid due date is 120, deliveries stop on day
/// 180, so the sales of days 0 to 151 are delivered. Unpaid: undisputed pieces due 120, 150, 181
/// (270,000.00) and the disputed pieces of the sales of days 31, 59, 90, 120, 151 (resolution days
/// 121, 149, 180, 210, 241): 50,000.00. Date of loss 120 + 90 = 210: the disputes resolved by then
/// (121 to 210) are settled, their paid halves (4 × 5,000.00) are claimed, their credited halves
/// are not owed; the sale of day 151 is still in dispute (241 > 210): 10,000.00 refused. Claim 90 %
/// × 290,000.00 = 261,000.00; gross loss 320,000.00; net loss 59,000.00; dilution 5,000.00.
#[test]
fn a_claim_leaves_out_the_debts_in_dispute_at_the_date_of_loss() {
    let dir = tempfile::tempdir().unwrap();
    let forced = |kind: &str| {
        format!(
            "{NO_RECOVERY}{DISPUTES}[stress]\nforced_defaults = [{{ buyers = [\"X\"], day = 100, kind = \"{kind}\" }}]\n"
        )
    };
    let (insolvent, protracted) = (forced("insolvency"), forced("protracted"));
    one_buyer(dir.path(), POLICY, &[("insolvent", &insolvent), ("protracted", &protracted)], false);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let s = |scenario, policy, measure| summary(&out, scenario, policy, measure, "mean");
    assert_eq!(s("insolvent", "none", "gross_loss"), "120000.00");
    assert_eq!(s("insolvent", "p90", "claims"), "81000.00");
    assert_eq!(s("insolvent", "p90", "disputed_excluded"), "30000.00");
    assert_eq!(s("insolvent", "p90", "net_loss"), "39000.00");
    assert_eq!(s("insolvent", "p90", "dilution_loss"), "5000.00");
    assert_eq!(s("insolvent", "none", "dilution_loss"), "5000.00");
    assert_eq!(s("protracted", "none", "gross_loss"), "320000.00");
    assert_eq!(s("protracted", "p90", "claims"), "261000.00");
    assert_eq!(s("protracted", "p90", "disputed_excluded"), "10000.00");
    assert_eq!(s("protracted", "p90", "net_loss"), "59000.00");
    assert_eq!(s("protracted", "none", "dilution_loss"), "5000.00");

    // The same through one trial: the disputes block after the credit columns.
    let study = arstress::input::load_study(dir.path()).unwrap();
    for (i, (claim, refused)) in [(8_100_000, 3_000_000), (26_100_000, 1_000_000)].into_iter().enumerate() {
        let plan = arstress::plan::compile(&study, &study.scenarios[i]).unwrap();
        let mut scratch = Scratch::new(&plan);
        let mut row = vec![0; plan.row_width()];
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(1, 0), &mut scratch, &mut row);
        let at = plan.disputes_at();
        assert_eq!((row[FIXED_COLUMNS], row[at], row[at + 1]), (claim, 500_000, refused), "{}", plan.scenario);
        assert_eq!(row.len(), at + 2);
        // The analytic method leaves the same debts out of the claim.
        let exact = arstress::run::analytic::analyze(&plan).unwrap();
        let mean = exact.measures[1].dist.mean();
        assert!((mean - claim as f64).abs() < 1.0, "{}: analytic claims {mean}", plan.scenario);
    }
}

/// Reports are byte-identical with 1 and 4 threads on a generated study with a disputes scenario
/// (disputed sales in one sector, late payers, defaults, claims).
#[test]
fn disputes_reports_are_identical_for_1_and_4_threads() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    arstress().args(["generate", "120", "--invoices", "--seed", "9", "--out"]).arg(&study).assert().success();
    let buyers = read_csv(&study.join("buyers.csv"));
    let sector = buyers[0]["sector"].clone();
    let scenario = format!(
        "name = \"disputes\"\n[stress]\npd_multiplier = 3\n[disputes]\nshare = 0.05\n\
         share_by_sector = {{ {sector} = 0.2 }}\nresolution_days = 120\ncredited = 0.4\n"
    );
    let listed = std::fs::read_to_string(study.join("study.toml")).unwrap();
    let listed = listed.replacen("scenarios = [\n", "scenarios = [\n    \"scenarios/disputes.toml\",\n", 1);
    write_files(&study, &[("scenarios/disputes.toml", &scenario), ("study.toml", &listed)]);
    let runs: Vec<_> = ["1", "4"]
        .iter()
        .map(|t| {
            run_study(
                &study,
                &dir.path().join(format!("out-{t}")),
                &["--threads", t, "--trials", "3000", "--scenario", "disputes"],
            )
        })
        .collect();
    assert!(report_bytes(&runs[0]) == report_bytes(&runs[1]), "reports differ between thread counts");
    let mean = |policy: &str, measure: &str| -> f64 {
        summary(&runs[0], "disputes", policy, measure, "mean").parse().unwrap()
    };
    assert!(mean("none", "dilution_loss") > 0.0);
    let policies: Vec<String> = read_csv(&runs[0].join("summary.csv"))
        .into_iter()
        .filter(|r| r["measure"] == "disputed_excluded")
        .map(|r| r["policy"].clone())
        .collect();
    assert!(!policies.is_empty() && policies.iter().any(|p| mean(p, "disputed_excluded") > 0.0), "{policies:?}");
}

/// The mean dilution against its closed form: 200 buyers with PD 0.2, each sale's credited piece
/// `a` resolved on day `r` is credited iff the buyer does not default on or before `r`. With the
/// default day `⌊x·H⌋` of the constant hazard (docs/model.md), `P(default day ≤ r) =
/// 1 − (1 − q)^((r + 1)/H)` (`q` at `r ≥ H − 1`), so `E[dilution] = Σ a·(1 − q)^(min(r + 1, H)/H)`
/// over every credited piece. Correlated defaults change the spread, not the mean.
#[test]
fn the_mean_dilution_matches_its_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit\n");
    for i in 0..200 {
        let sector = if i % 4 == 0 { "construction" } else { "retail" };
        writeln!(buyers, "B{i:03},DE,{sector},0.2,{},{},", 30 + 15 * (i % 3), 10_000 + 37 * i).unwrap();
    }
    let scenario = "name = \"wave\"\n[payment]\nlate_share = 0\n[disputes]\nshare = 0.05\n\
                    share_by_sector = { construction = 0.2 }\nresolution_days = 75\ncredited = 0.4\n";
    write_files(
        dir.path(),
        &[
            ("study.toml", &study_toml("dilution", 4000, false)),
            ("buyers.csv", &buyers),
            ("policies.toml", ""),
            ("scenarios/wave.toml", scenario),
        ],
    );
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
    let h = plan.horizon_days as f64;
    let mut expected = 0.0;
    for b in 0..plan.n_buyers {
        let q = plan.q[b];
        for inv in plan.invoices_of(b).iter().filter(|i| i.dispute == CREDITED) {
            expected += inv.amount as f64 * (1.0 - q).powf(((inv.due + 1) as f64).min(h) / h);
        }
    }
    expected /= 100.0;
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let mean: f64 = summary(&out, "wave", "none", "dilution_loss", "mean").parse().unwrap();
    let se: f64 = summary(&out, "wave", "none", "dilution_loss", "mean_std_error").parse().unwrap();
    assert!(se > 0.0);
    assert!((mean - expected).abs() < 3.0 * se, "mean {mean}, closed form {expected}, standard error {se}");
}

/// Shares outside [0, 1] and unknown sectors are refused with their keys.
#[test]
fn bad_disputes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    one_buyer(
        dir.path(),
        "",
        &[(
            "bad",
            "[disputes]\nshare = 1.5\nshare_by_sector = { retial = 0.1 }\ncredited = -0.1\nresolution_days = 4000\n",
        )],
        false,
    );
    let out = arstress().arg("validate").arg(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    for key in ["disputes.share", "disputes.share_by_sector.retial", "disputes.credited", "disputes.resolution_days"] {
        assert!(text.contains(key), "{key} not named in: {text}");
    }
    assert!(text.contains("did you mean `retail`"), "{text}");
}

/// A late buyer's claim (SPEC §4.3) leaves out the same debts: X pays everything 300 days late
/// (deliveries never stop), its limit is 2,000,000.00, the waiting period 90 days. The claim's date
/// of loss is day 30 + 90 = 120: unpaid then are the 12 undisputed pieces (1,080,000.00) and every
/// disputed piece; only January's dispute (resolved on day 90) is settled by then, so its paid
/// half (5,000.00) is claimed and its credited half is not owed; the 11 later sales' disputed
/// pieces (110,000.00) are refused. Claim 90 % × 1,085,000.00 = 976,500.00.
#[test]
fn a_late_buyers_claim_leaves_out_the_debts_in_dispute() {
    let dir = tempfile::tempdir().unwrap();
    one_buyer(dir.path(), POLICY, &[("late", "")], false);
    write_files(
        dir.path(),
        &[
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit,limit_type\n\
                 X,DE,retail,0,30,100000,2000000,approved\n",
            ),
            (
                "scenarios/late.toml",
                &format!(
                    "name = \"late\"\n[payment]\nlate_share = 1\ndays_late_median = 300\ndays_late_p90 = 300\n\
                     stop_deliveries_after_days = 3650\n{DISPUTES}"
                ),
            ),
        ],
    );
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let s = |policy, measure| summary(&out, "late", policy, measure, "mean");
    assert_eq!(s("p90", "claims"), "976500.00");
    assert_eq!(s("p90", "disputed_excluded"), "110000.00");
    assert_eq!(s("p90", "net_loss"), "0.00", "the late buyer pays everything: the insurer gets its claim back");
    assert_eq!(s("none", "dilution_loss"), "60000.00", "a late buyer is credited as any other");
}
