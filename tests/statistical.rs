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
