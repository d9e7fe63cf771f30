//! Property tests of the settlement, statistics and report invariants.

use arstress::claims::{Terms, insurer_recovery_share, settle_year};
use arstress::stats::{MeasureStats, QUANTILE_LEVELS, expected_shortfall_sorted, quantile_sorted};
use proptest::prelude::*;

fn terms() -> impl Strategy<Value = Terms> {
    (0i64..2_000_000, 0i64..1_000_000, 0i64..50_000_000, 0i64..200_000_000).prop_map(
        |(nql, deductible, aggregate_first_loss, max_liability)| Terms {
            nql,
            deductible,
            aggregate_first_loss,
            max_liability,
        },
    )
}

fn claims() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((0i64..100_000_000, 0i64..=1_000_000_000), 0..20)
}

proptest! {
    #[test]
    fn settlement_respects_its_caps(t in terms(), c in claims()) {
        let paid = settle_year(&t, &c);
        let mut gross_total = 0i64;
        for (&(covered, q), &pay) in c.iter().zip(&paid) {
            let g = if covered <= t.nql { 0 } else { (arstress::money::apply_ppb(covered, q) - t.deductible).max(0) };
            prop_assert!(0 <= pay && pay <= g, "pay {pay} outside [0, {g}]");
            prop_assert!(pay <= covered);
            gross_total += g;
        }
        let total: i64 = paid.iter().sum();
        // The first loss absorbs first, the maximum liability caps the rest: order does not matter
        // for the total.
        prop_assert_eq!(total, (gross_total - t.aggregate_first_loss).max(0).min(t.max_liability));
    }

    #[test]
    fn net_loss_stays_between_zero_and_gross(unpaid in 1i64..1_000_000_000, rec_ppb in 0i64..=1_000_000_000, pay_ppb in 0i64..=1_000_000_000) {
        let recovery = arstress::money::apply_ppb(unpaid, rec_ppb);
        let pay = arstress::money::apply_ppb(unpaid, pay_ppb);
        let gross = unpaid - recovery;
        let net = gross - pay + insurer_recovery_share(recovery, pay, unpaid);
        prop_assert!(0 <= net && net <= gross, "net {net}, gross {gross}");
    }

    #[test]
    fn quantiles_are_monotone_and_es_dominates_var(values in prop::collection::vec(-1_000_000i64..1_000_000_000, 1..400)) {
        let s = MeasureStats::from_values(&values);
        prop_assert!(s.quantiles.windows(2).all(|w| w[0] <= w[1]));
        let mut sorted = values.clone();
        sorted.sort_unstable();
        for l in QUANTILE_LEVELS {
            let q = quantile_sorted(&sorted, l);
            // At least α·N values are ≤ q, and fewer than α·N are < q.
            let n = values.len() as u128;
            let le = values.iter().filter(|&&v| v <= q).count() as u128;
            let lt = values.iter().filter(|&&v| v < q).count() as u128;
            prop_assert!(le * l.den as u128 >= l.num as u128 * n);
            prop_assert!(lt * (l.den as u128) < l.num as u128 * n);
            prop_assert!(expected_shortfall_sorted(&sorted, l) >= q as i128);
        }
        prop_assert!(s.mean >= *sorted.first().unwrap() as i128 && s.mean <= *sorted.last().unwrap() as i128);
    }
}

proptest! {
    #[test]
    fn rounding_fast_path_matches_exact_arithmetic(a in 0i64..i64::MAX / 4, b in 0i64..4_000_000_000, c in 1i64..i64::MAX) {
        let exact = {
            let (num, c) = (a as i128 * b as i128, c as i128);
            let (q, r) = (num / c, num % c);
            if 2 * r > c || (2 * r == c && q % 2 == 1) { q + 1 } else { q }
        };
        prop_assume!(exact <= i64::MAX as i128);
        prop_assert_eq!(arstress::money::mul_div_round(a, b, c) as i128, exact);
        if b <= 1_000_000_000 {
            prop_assert_eq!(arstress::money::apply_ppb(a, b), arstress::money::mul_div_round(a, b, 1_000_000_000));
        }
    }
}

/// A small random study run through the engine: losses, claims and the cash path keep their
/// invariants in every trial.
mod engine_invariants {
    use super::*;
    use std::fmt::Write as _;

    #[derive(Debug, Clone)]
    pub(super) struct Case {
        buyers: Vec<(u32, u32, u32, u32)>, // (pd ‰, monthly sales, limit, terms)
        late_share: f64,
        median: u32,
        spread: u32,
        waiting: u32,
        claim_days: u32,
        lag: u32,
        event: Option<(u32, u32)>,
        afl: u32,
        ml: u32,
        deductible: u32,
    }

    pub(super) fn case() -> impl Strategy<Value = Case> {
        (
            prop::collection::vec(
                (1u32..600, 0u32..50_000, 0u32..120_000, prop::sample::select(vec![0u32, 30, 45, 60, 90])),
                2..6,
            ),
            0.0f64..1.0,
            1u32..200,
            0u32..200,
            30u32..240,
            0u32..90,
            0u32..400,
            prop::option::of((0u32..300, 1u32..300)),
            (0u32..50_000, 1u32..400_000, 0u32..5_000),
        )
            .prop_map(
                |(buyers, late_share, median, spread, waiting, claim_days, lag, event, (afl, ml, deductible))| Case {
                    buyers,
                    late_share,
                    median,
                    spread,
                    waiting,
                    claim_days,
                    lag,
                    event,
                    afl,
                    ml,
                    deductible,
                },
            )
    }

    /// What the report properties add to a [`Case`]: buyers spread over sectors, groups and limit
    /// types, and a second policy (an aggregate first loss and a maximum liability as a multiple of
    /// the premium, political cover or not).
    #[derive(Debug, Clone)]
    pub(super) struct Extra {
        sectors: u32,
        indemnity_pct: u32,
        political: bool,
        nql: u32,
        afl: u32,
        multiple: u32,
        waiting: u32,
    }

    pub(super) fn extra() -> impl Strategy<Value = Extra> {
        (1u32..4, 50u32..=100, any::<bool>(), 0u32..5_000, 0u32..60_000, 1u32..60, 0u32..240).prop_map(
            |(sectors, indemnity_pct, political, nql, afl, multiple, waiting)| Extra {
                sectors,
                indemnity_pct,
                political,
                nql,
                afl,
                multiple,
                waiting,
            },
        )
    }

    fn study(c: &Case) -> tempfile::TempDir {
        study_with(c, None)
    }

    /// The study of `c` in a temporary folder (one scenario, `s`), with `extra`'s additions.
    pub(super) fn study_with(c: &Case, extra: Option<&Extra>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut buyers =
            String::from("buyer_id,country,sector,pd_1y,terms_days,monthly_sales,outstanding,credit_limit");
        buyers += if extra.is_some() { ",limit_type,group_id\n" } else { "\n" };
        for (i, &(pd, sales, limit, terms)) in c.buyers.iter().enumerate() {
            let country = ["DE", "AR"][i % 2];
            let sector = extra.map_or("retail".to_owned(), |e| format!("s{}", i as u32 % e.sectors));
            write!(buyers, "B{i},{country},{sector},{},{terms},{sales},{},{limit}", pd as f64 / 1000.0, sales * 2)
                .unwrap();
            if extra.is_some() {
                let kind = if limit > 0 && i % 2 == 1 { "discretionary" } else { "" };
                let group = if i % 3 == 0 { "G0" } else { "" };
                write!(buyers, ",{kind},{group}").unwrap();
            }
            buyers.push('\n');
        }
        let event = c
            .event
            .map(|(start, days)| {
                format!(
                    "forced_country_events = [{{ country = \"AR\", start_day = {start}, duration_days = {days} }}]\n"
                )
            })
            .unwrap_or_default();
        let mut policies = format!(
            "[[policy]]\nname = \"p\"\nindemnity = 0.9\nindemnity_political = 0.85\npolitical_cover = true\n\
             premium_rate = 0.003\nminimum_premium = 1000\nnql = 500\ndeductible = {}\naggregate_first_loss = {}\n\
             max_liability = {}\nwaiting_period_days = {}\ninsolvency_claim_days = {}\nclaim_payment_days = {}\n",
            c.deductible, c.afl, c.ml, c.waiting, c.claim_days, c.claim_days
        );
        if let Some(e) = extra {
            write!(
                policies,
                "[[policy]]\nname = \"q\"\nindemnity = {}\nindemnity_discretionary = 0.7\npolitical_cover = {}\n\
                 premium_rate = 0.002\nminimum_premium = 500\nnql = {}\naggregate_first_loss = {}\n\
                 max_liability_multiple = {}\nwaiting_period_days = {}\npolitical_waiting_days = {}\n",
                e.indemnity_pct as f64 / 100.0,
                e.political,
                e.nql,
                e.afl,
                e.multiple,
                e.waiting,
                e.waiting
            )
            .unwrap();
        }
        let files = [
            (
                "study.toml",
                crate::common::study_toml("prop", 1, false)
                    + "[company]\nopening_cash = 100_000\nmonthly_fixed_outflows = 20_000\nvariable_cost_ratio = 0.5\n\
                       credit_line = 50_000\nadvance_rate_insured = 0.9\nadvance_rate_uninsured = 0.7\nminimum_cash = 10_000\n",
            ),
            ("buyers.csv", buyers),
            ("policies.toml", policies),
            (
                "scenarios/s.toml",
                format!(
                    "[credit]\nrecovery_insolvency = {{ mean = 0.3, sd = 0.1, lag_days = {lag} }}\n\
                     recovery_protracted = {{ mean = 0.4, sd = 0.1, lag_days = {lag} }}\n\
                     [payment]\nlate_share = {}\ndays_late_median = {}\ndays_late_p90 = {}\n[stress]\n{event}",
                    c.late_share,
                    c.median,
                    c.median + c.spread,
                    lag = c.lag
                ),
            ),
        ];
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn losses_claims_and_cash_keep_their_invariants(c in case()) {
            let dir = study(&c);
            let study = arstress::input::load_study(dir.path()).unwrap();
            let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();
            let cash = plan.cash.as_ref().unwrap();
            let h = cash.months;
            let out = arstress::engine::run_trials(&plan, 9, 0..40, &|_| {});
            let pol = &plan.policies[0];
            for i in 0..out.trials {
                let row = out.row(i);
                let col = arstress::engine::FIXED_COLUMNS;
                let (gross, claims, share) = (row[0], row[col], row[col + 1]);
                let net = gross - claims + share;
                prop_assert!(gross >= 0 && claims >= 0 && share >= 0);
                // Claims can exceed the gross loss (a late buyer pays in full after its claim),
                // but what the insurer keeps never does: 0 <= net <= gross.
                prop_assert!(0 <= net && net <= gross, "gross {gross}, claims {claims}, share {share}");
                prop_assert!(claims <= pol.max_liability);
                // With the policy, cash is never below the uninsured path by more than the premium
                // paid so far.
                let at = arstress::engine::FIXED_COLUMNS + 2 + 2 * h;
                let (none, with) = (&row[at..at + h], &row[at + 2 * h..at + 3 * h]);
                let mut premium = 0;
                for k in 0..h {
                    premium += cash.premium_instalments[k];
                    prop_assert!(with[k] >= none[k] - premium, "month {k}: {} < {} - {premium}", with[k], none[k]);
                }
            }
        }
    }
}

/// The reports of a small random study (two policies, sectors, groups, sometimes tail sampling):
/// the contributions add up to the totals they apportion.
mod report_invariants {
    use super::engine_invariants::{case, extra, study_with};
    use super::*;
    use crate::common::{cents, parse_csv};
    use arstress::engine::net_loss as row_loss;
    use arstress::run::contributions::{CONTRIBUTION_LEVEL, weighted_tail_set};
    use arstress::run::{RunOptions, RunResult, compile_all, summarize};
    use std::collections::BTreeMap;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Per alternative ("none": gross loss, each policy: net loss), the per-buyer sums add up
        /// exactly to the (weighted) sums of the trials' losses over all trials and over the ES 99
        /// tail set; and in contributions.csv, per alternative and dimension, `expected_loss` adds
        /// up to summary.csv's `mean` and `es_99` to its `es_99`, to the cent (docs/reports.md).
        #[test]
        fn contributions_add_up_to_the_reported_totals(
            c in case(),
            e in extra(),
            trials in 40u64..400,
            seed in any::<u64>(),
            shift in prop::option::of(0.5f64..3.5),
        ) {
            let dir = study_with(&c, Some(&e));
            let study = arstress::input::load_study(dir.path()).unwrap();
            let opts = RunOptions { trials: Some(trials), seed: Some(seed), scenarios: Vec::new(), tail_shift: shift, trial_block: None };
            let plans = compile_all(&study, &opts).unwrap();
            let (plan, description) = &plans[0];
            let out = arstress::engine::run_trials(plan, seed, 0..trials, &|_| {});
            let scenario = summarize(plan, &study.calendar, description, seed, &out).unwrap();
            let w = out.weighting();
            prop_assert_eq!(scenario.contributions.alternatives.len(), 3);
            for (q, alt) in scenario.contributions.alternatives.iter().enumerate() {
                let values: Vec<i64> = (0..out.trials).map(|i| row_loss(out.row(i), q)).collect();
                let all: i128 = values.iter().enumerate().map(|(i, &v)| v as i128 * w.weight(i) as i128).sum();
                prop_assert_eq!(alt.expected_sum.iter().sum::<i128>(), all, "alternative {}: all trials", q);
                prop_assert_eq!(alt.expected_divisor, trials * w.unit());
                let (tail, mass) = weighted_tail_set(&values, w, CONTRIBUTION_LEVEL);
                let in_tail: i128 = tail.iter().map(|&(i, part)| values[i] as i128 * part as i128).sum();
                prop_assert_eq!(alt.tail_sum.iter().sum::<i128>(), in_tail, "alternative {}: tail set", q);
                prop_assert_eq!(alt.tail_divisor as u128, mass);
            }

            let result = RunResult { trials, seed, scenarios: vec![scenario], tail_shift: shift };
            let summary = parse_csv(&arstress::report::summary_csv(&result).unwrap());
            let rows = parse_csv(&arstress::report::contributions_csv(&study, &result).unwrap());
            let mut sums: BTreeMap<(String, String, String), (i128, i128)> = BTreeMap::new();
            for r in &rows {
                let s = sums.entry((r["policy"].clone(), r["measure"].clone(), r["dimension"].clone())).or_default();
                s.0 += cents(&r["expected_loss"]);
                s.1 += cents(&r["es_99"]);
            }
            let mut checked = 0;
            for s in &summary {
                let measure = "net_loss";
                if s["measure"] != measure {
                    continue;
                }
                for dimension in ["buyer", "sector", "country", "group"] {
                    // A block whose keys all contribute zero has no rows.
                    let key = (s["policy"].clone(), measure.to_owned(), dimension.to_owned());
                    let got = sums.get(&key).copied().unwrap_or_default();
                    checked += sums.contains_key(&key) as usize;
                    prop_assert_eq!(
                        got,
                        (cents(&s["mean"]), cents(&s["es_99"])),
                        "{} {} by {}: (expected loss, ES 99) contributions vs summary.csv",
                        &s["policy"],
                        measure,
                        dimension
                    );
                }
            }
            prop_assert_eq!(checked, sums.len(), "contribution blocks without a summary row: {:?}", sums.keys());
        }
    }
}

/// Sharded runs: the shard folders merge into the same reports whatever order `merge` is given
/// them in.
mod merge_order {
    use super::engine_invariants::{case, extra, study_with};
    use super::*;
    use crate::common::{arstress, report_bytes, run_study};
    use std::path::PathBuf;

    /// A shard count in 2..=5 and a permutation of the shards.
    fn shuffled_shards() -> impl Strategy<Value = Vec<usize>> {
        (2usize..=5).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5))]
        /// `merge` of the shard folders in trial order, in reverse and in a random order writes
        /// reports (every CSV, summary.json, report.html) byte-identical to the unsharded run's.
        #[test]
        fn shards_merge_in_any_order_into_the_single_run(
            c in case(),
            e in extra(),
            trials in 50u64..500,
            order in shuffled_shards(),
            tail_sampling in any::<bool>(),
        ) {
            let study = study_with(&c, Some(&e));
            let dir = tempfile::tempdir().unwrap();
            let trials = trials.to_string();
            let mut args = vec!["--trials", &trials, "--format", "csv,json,html"];
            if tail_sampling {
                args.push("--tail-sampling");
            }
            let want = report_bytes(&run_study(study.path(), &dir.path().join("single"), &args));
            let n = order.len();
            let shards: Vec<PathBuf> = (0..n)
                .map(|i| {
                    let shard = format!("{i}/{n}");
                    let more = [&args[..], &["--shard", &shard, "--threads", "1"]].concat();
                    run_study(study.path(), &dir.path().join(format!("shard{i}")), &more)
                })
                .collect();
            let orders = [("in order", (0..n).collect()), ("reversed", (0..n).rev().collect()), ("shuffled", order.clone())];
            for (how, order) in orders {
                let out = dir.path().join(format!("merged-{how}"));
                let folders: Vec<&PathBuf> = order.iter().map(|&i: &usize| &shards[i]).collect();
                let o = arstress()
                    .arg("merge")
                    .args(&folders)
                    .arg("--out")
                    .arg(&out)
                    .args(["--format", "csv,json,html", "--quiet"])
                    .output()
                    .unwrap();
                prop_assert!(o.status.success(), "merge {:?}: {}", order, String::from_utf8_lossy(&o.stderr));
                let got = report_bytes(&out);
                let names = |r: &[(String, Vec<u8>)]| r.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
                prop_assert_eq!(names(&got), names(&want), "merge {:?}", &order);
                for ((name, a), (_, b)) in got.iter().zip(&want) {
                    prop_assert!(a == b, "{} of the shards merged {} ({:?}) differs from the single run", name, how, order);
                }
            }
        }
    }
}
