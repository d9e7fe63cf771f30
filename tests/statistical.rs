//! Monte Carlo results against closed forms, within 4 standard errors (fixed seeds, never flaky).

use crate::common::*;
use std::fmt::Write;

/// Expected gross loss of a heterogeneous portfolio whose open invoices all fall due after the
/// horizon and that makes no new sales: `Σ exposure × q × (1 − mean recovery)`.
#[test]
fn expected_gross_loss_matches_its_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let n = 250;
    let (mut buyers, mut invoices) = (String::new(), String::new());
    buyers.push_str("buyer_id,country,sector,pd_1y,terms_days\n");
    invoices.push_str("invoice_id,buyer_id,amount,issue_date,due_date\n");
    let horizon_months = 6u32;
    let (share, m_ins, m_pro) = (0.6, 0.08, 0.25);
    let mut expected = 0.0;
    for i in 0..n {
        // PDs from 0.2% to 15%, exposures from 10,000 to 1,000,000 in whole euros.
        let pd = 0.002 + 0.148 * ((i * 37) % n) as f64 / n as f64;
        let amount = 10_000 + ((i * 7919) % 991) * 1_000;
        let country = ["DE", "FR", "IT", "ES", "PL"][i % 5];
        let sector = ["retail", "construction", "chemicals", "food"][i % 4];
        writeln!(buyers, "B{i:04},{country},{sector},{pd},60").unwrap();
        writeln!(invoices, "I{i:04},B{i:04},{amount},2026-12-15,2027-09-30").unwrap();
        let q = 1.0 - (1.0 - pd).powf(horizon_months as f64 / 12.0);
        expected += amount as f64 * q * (1.0 - (share * m_ins + (1.0 - share) * m_pro));
    }
    write_invoice_study(
        dir.path(),
        "closed form",
        20_000,
        6,
        &buyers,
        &invoices,
        &[("scenarios/base.toml", "name = \"base\"\n")],
    );
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let mean: f64 = summary(&out, "base", "none", "gross_loss", "mean").parse().unwrap();
    let se: f64 = summary(&out, "base", "none", "gross_loss", "mean_std_error").parse().unwrap();
    assert!(se > 0.0);
    let z = (mean - expected) / se;
    assert!(z.abs() < 4.0, "mean {mean} vs closed form {expected}: {z:.2} standard errors");
}

/// The error columns are honest: over R independent replications of N lognormal losses, the
/// distribution-free 95% intervals of VaR 99 (and of the median) cover the true quantile in 95% of
/// replications, and the asymptotic standard error of ES 99 matches the spread of ES 99 across
/// replications. Tolerances: 4 binomial standard errors for the coverage; for the standard error,
/// 4 relative errors of a sample standard deviation over R replications (`1/√(2R)`) plus the
/// 10% bias the asymptotic formula may have at this tail size.
#[test]
fn quantile_intervals_cover_and_es_errors_match_the_replication_spread() {
    use arstress::stats::{Level, es_std_error_sorted, expected_shortfall_sorted, quantile_ci_sorted, quantile_sorted};
    use rand_distr::{Distribution, LogNormal};
    let (reps, n) = (400usize, 5_000usize);
    let (mu, sigma) = (10.0f64, 1.0f64);
    let dist = LogNormal::new(mu, sigma).unwrap();
    let levels = [Level { num: 99, den: 100, label: "0.99" }, Level { num: 50, den: 100, label: "0.5" }];
    // True quantiles of the lognormal (in the same integer units as the samples).
    let truth = levels.map(|l| (mu + sigma * arstress::normal::quantile(l.num as f64 / l.den as f64)).exp());
    let mut covered = [0usize; 2];
    let (mut es_values, mut es_errors) = (Vec::new(), Vec::new());
    for r in 0..reps {
        let mut rng = arstress::engine::rng::trial_rng(77, r as u64);
        let mut v: Vec<i64> = (0..n).map(|_| dist.sample(&mut rng).round() as i64).collect();
        v.sort_unstable();
        for (i, l) in levels.iter().enumerate() {
            let (lo, hi) = quantile_ci_sorted(&v, *l);
            assert!(lo <= quantile_sorted(&v, *l) && quantile_sorted(&v, *l) <= hi);
            covered[i] += usize::from(lo as f64 <= truth[i] && truth[i] <= hi as f64);
        }
        es_values.push(expected_shortfall_sorted(&v, levels[0]) as f64);
        es_errors.push(es_std_error_sorted(&v, levels[0]));
    }
    let binomial_se = (0.95f64 * 0.05 / reps as f64).sqrt();
    for (i, &c) in covered.iter().enumerate() {
        let rate = c as f64 / reps as f64;
        assert!((rate - 0.95).abs() < 4.0 * binomial_se + 0.01, "coverage {rate} at level {}", levels[i].label);
    }
    let mean = es_values.iter().sum::<f64>() / reps as f64;
    let spread = (es_values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (reps - 1) as f64).sqrt();
    let reported = es_errors.iter().sum::<f64>() / reps as f64;
    let tolerance = 4.0 / (2.0 * reps as f64).sqrt() + 0.10;
    assert!(
        (reported / spread - 1.0).abs() < tolerance,
        "ES 99 standard error {reported:.1} vs spread across replications {spread:.1}"
    );
}
