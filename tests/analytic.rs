//! `run --method analytic` against the Monte Carlo engine on the same study: the gross-loss and
//! claims distributions agree within the Monte Carlo error (means and ES 99 within 4 standard
//! errors, the analytic VaR 99 inside the simulated order-statistic interval widened to z = 4).

use crate::common::*;
use arstress::engine::run_trials;
use arstress::run::analytic::analyze;
use arstress::stats::{TAIL_LEVELS, es_std_error_sorted, expected_shortfall_sorted, quantile_sorted};
use std::fmt::Write;

/// 120 buyers in three sectors (sector factor weight 0.4, no country factor), three invoices of
/// 10,000–30,000 each falling due through the year, limits of 20,000–50,000, fixed recoveries
/// (insolvency 0.3 after a year, protracted 0.5 after 90 days, sometimes before the date of
/// loss), a policy with nql, aggregate first loss and a maximum liability. Every loss is a
/// multiple of 1,000 and every claim of 900, so the lattice is exact.
fn study(dir: &std::path::Path) -> arstress::model::Study {
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,credit_limit,limit_type\n");
    let mut invoices = String::from("invoice_id,buyer_id,amount,issue_date,due_date\n");
    for i in 0..120 {
        let pd = [0.01, 0.03, 0.06, 0.12][i % 4];
        let sector = ["retail", "construction", "chemicals"][i % 3];
        let limit = 20_000 + 10_000 * (i % 4);
        writeln!(buyers, "B{i:03},DE,{sector},{pd},60,{limit},approved").unwrap();
        let amount = 10_000 * (1 + i % 3);
        for (k, (issue, due)) in
            [("2026-12-17", "2027-02-15"), ("2026-12-20", "2027-05-15"), ("2026-12-28", "2027-09-15")]
                .iter()
                .enumerate()
        {
            writeln!(invoices, "I{i:03}{k},B{i:03},{amount},{issue},{due}").unwrap();
        }
    }
    let credit = "[credit]\nasset_correlation = 0.25\n\
         factor_weights = { global = 0.6, sector = 0.4, country = 0.0 }\ninsolvency_share = 0.6\n\
         recovery_insolvency = { mean = 0.3, sd = 0, lag_days = 365 }\n\
         recovery_protracted = { mean = 0.5, sd = 0, lag_days = 90 }\n[payment]\nlate_share = 0\n";
    let base = format!("name = \"base\"\n{credit}");
    let stressed = format!(
        "name = \"stressed\"\n{credit}[stress]\nsystematic_quantile = 0.9\n\
         forced_defaults = [{{ top_n = 2, day = 100, kind = \"protracted\" }}]\n"
    );
    write_invoice_study(
        dir,
        "analytic",
        1,
        12,
        &buyers,
        &invoices,
        &[("scenarios/a.toml", &base), ("scenarios/b.toml", &stressed)],
    );
    let policy = "[[policy]]\nname = \"p90\"\nindemnity = 0.90\nnql = 5000\ndeductible = 0\n\
         aggregate_first_loss = 45000\npremium_rate = 0.003\nmax_liability = 1500000\nwaiting_period_days = 120\n";
    write_files(dir, &[("policies.toml", policy)]);
    arstress::input::load_study(dir).unwrap()
}

#[test]
fn analytic_distributions_match_the_simulation() {
    let dir = tempfile::tempdir().unwrap();
    let study = study(dir.path());
    let n = 40_000u64;
    for scenario in &study.scenarios {
        let plan = arstress::plan::compile(&study, scenario).unwrap();
        let exact = analyze(&plan).unwrap();
        assert!(exact.notes.is_empty(), "{:?}", exact.notes);
        assert_eq!(exact.measures.len(), 2, "gross loss and the policy's claims");
        let out = run_trials(&plan, 5, 0..n, &|_| {});
        for (m, column) in exact.measures.iter().zip([0, arstress::engine::FIXED_COLUMNS]) {
            let what = format!("{} {} {}", scenario.name, m.policy, m.measure);
            assert!(m.dist.exact_lattice, "{what}: lattice unit {}", m.dist.unit);
            let total: f64 = m.dist.probs.iter().sum();
            assert!((total - 1.0).abs() < 1e-9, "{what}: probabilities sum to {total}");
            let mut values: Vec<i64> = (0..out.trials).map(|i| out.row(i)[column]).collect();
            values.sort_unstable();
            let nf = n as f64;
            let mean = values.iter().map(|&x| x as f64).sum::<f64>() / nf;
            let sd = (values.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt();
            let z = (m.dist.mean() - mean) / (sd / nf.sqrt());
            assert!(z.abs() < 4.0, "{what}: mean {} vs simulated {mean}: {z:.2} se", m.dist.mean());
            let level = TAIL_LEVELS[1];
            // VaR 99 inside the order-statistic interval at z = 4.
            let half = 4.0 * (nf * 0.99 * 0.01).sqrt();
            let (lo, hi) =
                (values[(nf * 0.99 - half) as usize - 1], values[((nf * 0.99 + half) as usize).min(values.len() - 1)]);
            let var = m.dist.quantile(level);
            assert!(
                lo <= var && var <= hi,
                "{what}: VaR 99 {var} outside [{lo}, {hi}] (simulated {})",
                quantile_sorted(&values, level)
            );
            let es = expected_shortfall_sorted(&values, level) as f64;
            let se = es_std_error_sorted(&values, level);
            let z = (m.dist.expected_shortfall(level) - es) / se;
            assert!(z.abs() < 4.0, "{what}: ES 99 {} vs simulated {es}: {z:.2} se", m.dist.expected_shortfall(level));
        }
    }
}

/// From the CLI: the reports are written, and a study whose buyers load on several sector and
/// several country factors at once is refused with exit code 2 and the reason.
#[test]
fn analytic_reports_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    study(dir.path());
    let out = run_study(dir.path(), &dir.path().join("out"), &["--method", "analytic"]);
    let rows = read_csv(&out.join("analytic.csv"));
    assert_eq!(rows.len(), 4, "two scenarios × (gross, claims)");
    assert!(rows.iter().all(|r| r["exact_lattice"] == "true"));
    let bins = read_csv(&out.join("analytic_distribution.csv"));
    let shares: f64 = bins
        .iter()
        .filter(|r| r["scenario"] == "base" && r["measure"] == "gross_loss")
        .map(|r| r["share"].parse::<f64>().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-6, "{shares}");
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"method\": \"analytic\""));
    let a = arstress()
        .arg("run")
        .arg(example_study())
        .args(["--method", "analytic", "--out"])
        .arg(dir.path().join("x"))
        .assert();
    let o = a.get_output();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("sector") && err.contains("country") && err.contains("factor_weights"), "{err}");
}
