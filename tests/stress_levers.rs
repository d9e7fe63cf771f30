//! One test per `[stress]` lever this version implements (SPEC §2.3, §3.1.4, §3.1.8, §3.1.11,
//! §4.2): each shows the lever's effect in the right direction and, where a closed form exists,
//! the right size. Statistical checks use 4 Monte Carlo standard errors computed from the
//! simulation itself and fixed seeds; deterministic ones are exact to the cent.

use crate::common::*;
use arstress::engine::{Scratch, run_trial, run_trials};
use arstress::normal::{cdf, quantile};
use std::fmt::Write;
use std::path::Path;

/// Days of the 1st of each month of 2027 from as_of = 2027-01-01 (the sale days of a 12-month study).
const SALE_DAYS_2027: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/// `num / den` rounded half-to-even (`num >= 0`, `den > 0`).
fn half_even(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    if 2 * r > den || (2 * r == den && q % 2 == 1) { q + 1 } else { q }
}

/// A decimal string as an exact fraction: "1.25" → (125, 100).
fn dec(s: &str) -> (i128, i128) {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    (format!("{int}{frac}").parse().unwrap(), 10i128.pow(frac.len() as u32))
}

/// `cents × rate` rounded half-to-even once, `rate` an exact decimal string.
fn scale(cents: i128, rate: &str) -> i128 {
    let (n, d) = dec(rate);
    half_even(cents * n, d)
}

/// Cents as the reports print them.
fn money(cents: i128) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn mean_and_se(out: &Path, scenario: &str, measure: &str) -> (f64, f64) {
    let mean = summary(out, scenario, "none", measure, "mean").parse().unwrap();
    let se = summary(out, scenario, "none", measure, "mean_std_error").parse().unwrap();
    (mean, se)
}

/// Horizon PD of an annual PD after a multiplier: `1 − (1 − min(p·m, 0.9999))^(H/12)`.
fn horizon_q(p: f64, m: f64, horizon_months: u32) -> f64 {
    1.0 - (1.0 - (p * m).min(0.9999)).powf(horizon_months as f64 / 12.0)
}

/// `pd_multiplier = 3`: invoices all due after the 6-month horizon and no sales, so the expected
/// gross loss is `Σ exposure × q × (1 − mean recovery)` with `q` on the stressed (and capped) PD.
#[test]
fn pd_multiplier_scales_the_expected_loss_to_its_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let (n, m, horizon_months) = (120, 3.0, 6u32);
    let (share, m_ins, m_pro) = (0.6, 0.08, 0.25);
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days\n");
    let mut invoices = String::from("invoice_id,buyer_id,amount,issue_date,due_date\n");
    let (mut expected, mut unstressed) = (0.0, 0.0);
    for i in 0..n {
        // PDs from 0.5% to 12%, and a few at 40% that the multiplier pushes past the 0.9999 cap.
        let pd = if i % 20 == 7 { 0.4 } else { 0.005 + 0.115 * ((i * 37) % n) as f64 / n as f64 };
        let amount = 10_000 + ((i * 7919) % 491) * 1_000;
        let sector = ["retail", "construction", "chemicals"][i % 3];
        writeln!(buyers, "B{i:04},DE,{sector},{pd},60").unwrap();
        writeln!(invoices, "I{i:04},B{i:04},{amount},2026-12-15,2027-09-30").unwrap();
        let loss_given_default = amount as f64 * (1.0 - (share * m_ins + (1.0 - share) * m_pro));
        expected += loss_given_default * horizon_q(pd, m, horizon_months);
        unstressed += loss_given_default * horizon_q(pd, 1.0, horizon_months);
    }
    write_invoice_study(
        dir.path(),
        "pd multiplier",
        8_000,
        6,
        &buyers,
        &invoices,
        &[("scenarios/x3.toml", "name = \"x3\"\n[stress]\npd_multiplier = 3.0\n")],
    );
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let (mean, se) = mean_and_se(&out, "x3", "gross_loss");
    assert!(se > 0.0);
    let z = (mean - expected) / se;
    assert!(z.abs() < 4.0, "mean {mean} vs closed form {expected}: {z:.2} standard errors");
    // The right direction, by far: the stressed loss is well above the unstressed closed form.
    assert!(mean - unstressed > 20.0 * se, "stressed mean {mean} vs unstressed closed form {unstressed}");
}

/// `pd_multiplier_by_sector`, `_by_country` and `_by_rating` multiply only their own buyers' PDs,
/// on top of `pd_multiplier`, with the cap at 0.9999. Six groups of independent buyers (R = 0):
/// each group's horizon PD in the plan is exact, and its simulated default frequency matches it
/// within 4 binomial standard errors.
#[test]
fn pd_multipliers_by_sector_country_and_rating_hit_only_their_buyers() {
    let dir = tempfile::tempdir().unwrap();
    // (sector, country, rating, pd_1y, expected multiplier); base PD 0.02 (BB comes from the
    // scenario's [ratings] table, merged over the default one).
    let groups: [(&str, &str, &str, &str, f64); 6] = [
        ("retail", "DE", "", "0.02", 1.25),
        ("construction", "DE", "", "0.02", 1.25 * 3.0),
        ("retail", "FR", "", "0.02", 1.25 * 2.0),
        ("retail", "DE", "BB", "", 1.25 * 4.0),
        ("construction", "FR", "B", "0.02", 1.25 * 3.0 * 2.0 * 1.5),
        ("construction", "FR", "BB", "0.1", 1.25 * 3.0 * 2.0 * 4.0),
    ];
    let per_group = 100;
    let mut buyers = String::from("buyer_id,country,sector,rating,pd_1y,terms_days\n");
    let mut invoices = String::from("invoice_id,buyer_id,amount,issue_date,due_date\n");
    for (g, (sector, country, rating, pd, _)) in groups.iter().enumerate() {
        for j in 0..per_group {
            writeln!(buyers, "G{g}B{j:03},{country},{sector},{rating},{pd},30").unwrap();
            // Due after the horizon: every default leaves an unpaid amount, hence an event.
            writeln!(invoices, "G{g}I{j:03},G{g}B{j:03},1000,2026-12-15,2027-09-30").unwrap();
        }
    }
    let scenario = "name = \"levers\"\n[ratings]\nBB = 0.02\n[credit]\nasset_correlation = 0.0\n\
                    [stress]\npd_multiplier = 1.25\npd_multiplier_by_sector = { construction = 3.0 }\n\
                    pd_multiplier_by_country = { FR = 2.0 }\npd_multiplier_by_rating = { BB = 4.0, B = 1.5 }\n";
    write_invoice_study(dir.path(), "pd levers", 1, 6, &buyers, &invoices, &[("scenarios/levers.toml", scenario)]);
    let study = arstress::input::load_study(dir.path()).unwrap();
    let plan = arstress::plan::compile(&study, &study.scenarios[0]).unwrap();

    let expected_q: Vec<f64> = groups
        .iter()
        .map(|&(_, _, _, pd, m)| horizon_q(if pd.is_empty() { 0.02 } else { pd.parse().unwrap() }, m, 6))
        .collect();
    for (b, &q) in plan.q.iter().enumerate() {
        let want = expected_q[b / per_group];
        assert!((q - want).abs() <= 1e-12 * want, "buyer {b}: horizon PD {q} vs {want}");
    }

    let trials = 2_000u64;
    let mut scratch = Scratch::new(&plan);
    let mut row = vec![0; arstress::engine::FIXED_COLUMNS];
    let mut counts = [0u64; 6];
    for t in 0..trials {
        run_trial(&plan, &arstress::engine::rng::TrialKey::new(7, t), &mut scratch, &mut row);
        assert_eq!(row[1] as usize, scratch.events().len(), "every default has an event");
        for e in scratch.events() {
            counts[e.buyer as usize / per_group] += 1;
        }
    }
    for (g, &q) in expected_q.iter().enumerate() {
        let cases = (per_group as u64 * trials) as f64;
        let freq = counts[g] as f64 / cases;
        let se = (q * (1.0 - q) / cases).sqrt().max(1.0 / cases);
        assert!((freq - q).abs() < 4.0 * se, "group {g}: default frequency {freq} vs q {q} (se {se})");
    }
}

/// `systematic_quantile = s` fixes `Z_g = Φ⁻¹(1 − s)`: with all weight on the global factor and a
/// fixed `R`, buyers default independently with the Vasicek conditional PD
/// `Φ((Φ⁻¹(q) − √R·Φ⁻¹(1 − s)) / √(1 − R))`.
#[test]
fn systematic_quantile_gives_the_vasicek_conditional_default_rate() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, pd, r) = (400usize, 0.02, 0.2f64);
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,outstanding\n");
    for i in 0..pool {
        writeln!(buyers, "B{i:04},DE,retail,{pd},30,1000").unwrap();
    }
    let scenario = |s: f64| {
        format!(
            "name = \"s{s}\"\n[credit]\nasset_correlation = {r}\n\
             factor_weights = {{ global = 1.0, sector = 0.0, country = 0.0 }}\n[stress]\nsystematic_quantile = {s}\n"
        )
    };
    let (s1, s2) = (scenario(0.99), scenario(0.5));
    write_files(
        dir.path(),
        &[
            ("study.toml", &study_toml("vasicek", 1, false)),
            ("buyers.csv", &buyers),
            ("policies.toml", ""),
            ("scenarios/a.toml", &s1),
            ("scenarios/b.toml", &s2),
        ],
    );
    let study = arstress::input::load_study(dir.path()).unwrap();
    let trials = 500u64;
    let q = horizon_q(pd, 1.0, 12);
    let mut rates = Vec::new();
    for (i, s) in [0.99, 0.5].into_iter().enumerate() {
        let plan = arstress::plan::compile(&study, &study.scenarios[i]).unwrap();
        let outcomes = run_trials(&plan, 11, 0..trials, &|_| {});
        let defaults: i64 = (0..outcomes.trials).map(|t| outcomes.row(t)[1]).sum();
        let cases = (pool as u64 * trials) as f64;
        let rate = defaults as f64 / cases;
        let p = cdf((quantile(q) - r.sqrt() * quantile(1.0 - s)) / (1.0 - r).sqrt());
        let se = (p * (1.0 - p) / cases).sqrt();
        assert!((rate - p).abs() < 4.0 * se, "s = {s}: default rate {rate} vs Vasicek {p} (se {se})");
        rates.push(rate);
    }
    // A worse quantile means more defaults, and both differ from the unconditional q.
    assert!(rates[0] > 5.0 * q && rates[1] < q, "rates {rates:?} vs q {q}");
}

/// `correlation_addon` leaves each buyer's PD, hence the mean loss, unchanged (closed form within
/// 4 SE in both scenarios) and fattens the tail: ES 99 grows by far more than noise.
#[test]
fn correlation_addon_keeps_the_mean_and_raises_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, pd, amount, recovery) = (400usize, 0.02, 10_000.0, 0.25);
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days\n");
    let mut invoices = String::from("invoice_id,buyer_id,amount,issue_date,due_date\n");
    for i in 0..pool {
        writeln!(buyers, "B{i:04},DE,retail,{pd},30").unwrap();
        writeln!(invoices, "I{i:04},B{i:04},{amount},2026-12-15,2028-03-31").unwrap();
    }
    let credit = format!(
        "[credit]\nasset_correlation = 0.1\nrecovery_insolvency = {{ mean = {recovery}, sd = 0, lag_days = 540 }}\n\
         recovery_protracted = {{ mean = {recovery}, sd = 0, lag_days = 270 }}\n"
    );
    let base = format!("name = \"addon-0\"\n{credit}");
    let stressed = format!("name = \"addon-0.2\"\n{credit}[stress]\ncorrelation_addon = 0.2\n");
    write_files(
        dir.path(),
        &[
            ("study.toml", &study_toml("correlation addon", 10_000, true)),
            ("buyers.csv", &buyers),
            ("invoices.csv", &invoices),
            ("policies.toml", ""),
            ("scenarios/a.toml", &base),
            ("scenarios/b.toml", &stressed),
        ],
    );
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let expected = pool as f64 * amount * pd * (1.0 - recovery);
    let (m0, se0) = mean_and_se(&out, "addon-0", "gross_loss");
    let (m1, se1) = mean_and_se(&out, "addon-0.2", "gross_loss");
    for (name, m, se) in [("addon-0", m0, se0), ("addon-0.2", m1, se1)] {
        assert!(se > 0.0);
        assert!((m - expected).abs() < 4.0 * se, "{name}: mean {m} vs closed form {expected} (se {se})");
    }
    let se_diff = (se0 * se0 + se1 * se1).sqrt();
    assert!((m1 - m0).abs() < 4.0 * se_diff, "means {m0} and {m1} differ by more than 4 SE ({se_diff})");
    assert!(se1 > se0, "the loss spreads out: std errors {se0} vs {se1}");
    let es = |s| summary(&out, s, "none", "gross_loss", "es_99").parse::<f64>().unwrap();
    let (es0, es1) = (es("addon-0"), es("addon-0.2"));
    assert!(es1 > 1.2 * es0, "ES 99 {es0} (addon 0) vs {es1} (addon 0.2)");
}

/// `recovery_multiplier` scales the recovery rate of both kinds: with `sd = 0` and forced defaults,
/// gross loss = Σ unpaid − half_even(unpaid × mean × multiplier), to the cent.
#[test]
fn recovery_multiplier_scales_fixed_recoveries_exactly() {
    let dir = tempfile::tempdir().unwrap();
    // A: overdue 1,000.01 (due day 0) + 12,345.69, insolvent at day 0. B: 7,777.77, protracted.
    let (unpaid_a, unpaid_b) = (100_001 + 1_234_569, 777_777i128);
    let (mean_ins, mean_pro) = ("0.3", "0.45");
    let multipliers = ["1", "0.5", "2"];
    let mut files = vec![
        ("study.toml".to_owned(), study_toml("recovery multiplier", 3, true)),
        (
            "buyers.csv".to_owned(),
            "buyer_id,country,sector,pd_1y,terms_days\nA,DE,retail,0,30\nB,FR,food,0,30\n".into(),
        ),
        (
            "invoices.csv".to_owned(),
            "invoice_id,buyer_id,amount,issue_date,due_date\nA1,A,1000.01,2026-11-01,2026-12-01\n\
             A2,A,12345.69,2026-12-20,2027-02-15\nB1,B,7777.77,2026-12-20,2027-01-20\n"
                .into(),
        ),
        ("policies.toml".to_owned(), String::new()),
    ];
    for (i, m) in multipliers.iter().enumerate() {
        files.push((
            format!("scenarios/{i}.toml"),
            format!(
                "name = \"m{m}\"\n[credit]\nrecovery_insolvency = {{ mean = {mean_ins}, sd = 0, lag_days = 540 }}\n\
                 recovery_protracted = {{ mean = {mean_pro}, sd = 0, lag_days = 270 }}\n[stress]\nrecovery_multiplier = {m}\n\
                 forced_defaults = [{{ buyers = [\"A\"], day = 0, kind = \"insolvency\" }}, \
                 {{ buyers = [\"B\"], day = 0, kind = \"protracted\" }}]\n"
            ),
        ));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    write_files(dir.path(), &refs);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let mut losses = Vec::new();
    for m in multipliers {
        let (mn, md) = dec(m);
        let rate = |mean: &str| {
            let (n, d) = dec(mean);
            (n * mn, d * md)
        };
        let ((ni, di), (np, dp)) = (rate(mean_ins), rate(mean_pro));
        let gross = unpaid_a - half_even(unpaid_a * ni, di) + unpaid_b - half_even(unpaid_b * np, dp);
        let scenario = format!("m{m}");
        assert_eq!(summary(&out, &scenario, "none", "gross_loss", "mean"), money(gross), "multiplier {m}");
        assert_eq!(summary(&out, &scenario, "none", "gross_loss", "std_dev"), "0.00");
        losses.push(gross);
    }
    // Lower recoveries, higher losses; the 0.5 case includes a half-cent tie (1,334,570 × 0.15).
    assert!(losses[1] > losses[0] && losses[0] > losses[2], "{losses:?}");
    assert_eq!(unpaid_a * 15 % 100, 50, "the tie the test relies on");
}

/// Shared study for the sales multipliers: four buyers (two insured), two policies (one whose
/// minimum premium binds at low turnover), and in every scenario a forced protracted default of
/// buyer S1 at day 10, whose unpaid amount is 3 monthly sales (issued on days 0, 31 and 59, before
/// deliveries stop at oldest unpaid due day 30 + 60).
///
/// `cases` are (scenario name, `[stress]` lines, multiplier of each buyer as a decimal string).
fn check_sales_lever(cases: &[(&str, &str, [&str; 4])]) {
    let dir = tempfile::tempdir().unwrap();
    // (id, country, sector, monthly sales in cents, insured)
    let buyers = [
        ("S1", "DE", "retail", 10_000_000i128, true),
        ("S2", "FR", "construction", 4_000_001, true),
        ("S3", "FR", "retail", 3_000_000, false),
        ("S4", "IT", "food", 2_500_003, false),
    ];
    let csv = "buyer_id,country,sector,pd_1y,terms_days,monthly_sales,credit_limit,limit_type\n\
               S1,DE,retail,0,30,100000,500000,approved\nS2,FR,construction,0,30,40000.01,200000,approved\n\
               S3,FR,retail,0,30,30000,,\nS4,IT,food,0,30,25000.03,100000,none\n";
    let policies = "[[policy]]\nname = \"p1\"\nindemnity = 0.9\npremium_rate = 0.0025\nminimum_premium = 3000\n\
                    max_liability_multiple = 20\n\n[[policy]]\nname = \"p2\"\nindemnity = 0.9\npremium_rate = 0.001\n\
                    minimum_premium = 1500\nmax_liability_multiple = 20\n";
    // (premium rate, minimum premium in cents) per policy.
    let terms = [("0.0025", 300_000i128), ("0.001", 150_000)];
    let mut files = vec![
        ("study.toml".to_owned(), study_toml("sales multipliers", 2, false)),
        ("buyers.csv".to_owned(), csv.to_owned()),
        ("policies.toml".to_owned(), policies.to_owned()),
    ];
    for (i, (name, stress, _)) in cases.iter().enumerate() {
        files.push((
            format!("scenarios/{i}.toml"),
            format!(
                "name = \"{name}\"\n[credit]\nrecovery_protracted = {{ mean = 0, sd = 0, lag_days = 270 }}\n\
                 [stress]\n{stress}\nforced_defaults = [{{ buyers = [\"S1\"], day = 10, kind = \"protracted\" }}]\n"
            ),
        ));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    write_files(dir.path(), &refs);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    for (name, _, mult) in cases {
        let monthly: Vec<i128> = buyers.iter().zip(mult).map(|(b, m)| scale(b.3, m)).collect();
        let turnover: i128 = buyers.iter().zip(&monthly).filter(|(b, _)| b.4).map(|(_, m)| 12 * m).sum();
        for (p, (rate, minimum)) in ["p1", "p2"].into_iter().zip(terms) {
            assert_eq!(comparison(&out, name, p, "insured_turnover"), money(turnover), "{name}/{p}");
            assert_eq!(
                comparison(&out, name, p, "annual_premium"),
                money(scale(turnover, rate).max(minimum)),
                "{name}/{p}"
            );
        }
        assert_eq!(summary(&out, name, "none", "gross_loss", "mean"), money(3 * monthly[0]), "{name}: unpaid of S1");
    }
}

#[test]
fn sales_multiplier_scales_turnover_premium_and_unpaid_exactly() {
    check_sales_lever(&[
        ("base", "", ["1", "1", "1", "1"]),
        ("up", "sales_multiplier = 1.25", ["1.25", "1.25", "1.25", "1.25"]),
        ("down", "sales_multiplier = 0.37", ["0.37", "0.37", "0.37", "0.37"]),
    ]);
}

#[test]
fn sales_multiplier_by_sector_scales_only_its_sectors() {
    check_sales_lever(&[
        ("base", "", ["1", "1", "1", "1"]),
        (
            "sector",
            "sales_multiplier = 0.8\nsales_multiplier_by_sector = { retail = 0.5, construction = 1.1 }",
            ["0.4", "0.88", "0.4", "0.8"],
        ),
    ]);
}

#[test]
fn sales_multiplier_by_country_scales_only_its_countries() {
    check_sales_lever(&[
        ("base", "", ["1", "1", "1", "1"]),
        ("country", "sales_multiplier_by_country = { FR = 1.5, DE = 0.75 }", ["0.75", "1.5", "1.5", "1"]),
        (
            "combined",
            "sales_multiplier = 0.8\nsales_multiplier_by_sector = { construction = 1.1 }\n\
             sales_multiplier_by_country = { FR = 1.5 }",
            ["0.8", "1.32", "1.2", "0.8"],
        ),
    ]);
}

/// `fx_shock = { USD = 0.9 }` converts every USD amount at `0.92 × 0.9`, rounded half-to-even once
/// per amount: a USD buyer insolvent at day 0 with no recovery loses exactly the sum of its
/// converted invoices; a EUR buyer is untouched; USD sales (insured turnover) follow the shock.
#[test]
fn fx_shock_converts_each_amount_once_at_the_shocked_rate() {
    let dir = tempfile::tempdir().unwrap();
    let usd = [125i128, 375, 7, 1_000_025, 1_000_025, 1_000_025];
    let eur = 50_005i128;
    let monthly_usd = 123_455i128;
    let mut invoices = String::from("invoice_id,buyer_id,amount,currency,issue_date,due_date\n");
    for (i, c) in usd.iter().enumerate() {
        writeln!(invoices, "U{i},U,{},USD,2026-12-10,2027-0{}-10", money(*c), i + 1).unwrap();
    }
    invoices.push_str("E0,E,500.05,EUR,2026-12-10,2027-02-10\n");
    let study = format!("{}[fx]\nUSD = 0.92\n", study_toml("fx shock", 2, true));
    let forced = "forced_defaults = [{ buyers = [\"U\", \"E\"], day = 0, kind = \"insolvency\" }]\n";
    let credit = "[credit]\nrecovery_insolvency = { mean = 0, sd = 0, lag_days = 540 }\n";
    let base = format!("name = \"base\"\n{credit}[stress]\n{forced}");
    let shocked = format!("name = \"usd-down\"\n{credit}[stress]\nfx_shock = {{ USD = 0.9 }}\n{forced}");
    write_files(
        dir.path(),
        &[
            ("study.toml", &study),
            (
                "buyers.csv",
                "buyer_id,country,sector,pd_1y,currency,terms_days,monthly_sales,credit_limit\n\
                 U,US,retail,0,USD,30,1234.55,100000\nE,DE,retail,0,EUR,30,0,\n",
            ),
            ("invoices.csv", &invoices),
            (
                "policies.toml",
                "[[policy]]\nname = \"p\"\nindemnity = 0.9\npremium_rate = 0.0025\nmax_liability = 1000000\n",
            ),
            ("scenarios/a.toml", &base),
            ("scenarios/b.toml", &shocked),
        ],
    );
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    for (scenario, rate) in [("base", "0.92"), ("usd-down", "0.828")] {
        let gross: i128 = usd.iter().map(|&c| scale(c, rate)).sum::<i128>() + eur;
        assert_eq!(summary(&out, scenario, "none", "gross_loss", "mean"), money(gross), "{scenario}");
        let turnover = 12 * scale(monthly_usd, rate);
        assert_eq!(comparison(&out, scenario, "p", "insured_turnover"), money(turnover), "{scenario}");
    }
    // The shocked figures are discriminating: one rounding of the total, or of 0.92 then 0.9,
    // would give other cents.
    let per_amount: i128 = usd.iter().map(|&c| scale(c, "0.828")).sum();
    assert_ne!(per_amount, scale(usd.iter().sum(), "0.828"));
    let twice: i128 = usd.iter().map(|&c| scale(scale(c, "0.92"), "0.9")).sum();
    assert_ne!(per_amount, twice);
    assert_eq!((scale(125, "0.828"), scale(375, "0.828")), (104, 310), "half-even ties");
}

/// `forced_defaults` with `top_n` picks the largest day-0 exposures after `fx_shock` (skipping
/// buyers forced by an earlier entry): the gross loss equals that of the named-buyer version.
#[test]
fn forced_defaults_top_n_hits_the_largest_exposures_after_fx_shock() {
    let dir = tempfile::tempdir().unwrap();
    // Day-0 exposures in cents: A 100,000 EUR; B 110,000 USD (101,200 at 0.92, 91,080 shocked);
    // C 95,000 EUR; D 50,000 EUR. Unshocked ranking B, A, C, D; shocked A, C, B, D.
    let (a, b, b_shocked, c) = (10_000_000i128, 10_120_000, 9_108_000, 9_500_000);
    let credit = "[credit]\nrecovery_insolvency = { mean = 0, sd = 0, lag_days = 540 }\n\
                  recovery_protracted = { mean = 0, sd = 0, lag_days = 270 }\n";
    let scenario = |name: &str, shock: bool, forced: &str| {
        let shock = if shock { "fx_shock = { USD = 0.9 }\n" } else { "" };
        format!("name = \"{name}\"\n{credit}[stress]\n{shock}forced_defaults = [{forced}]\n")
    };
    let cases = [
        ("top-shocked", true, "{ top_n = 2 }", a + c),
        ("named-shocked", true, "{ buyers = [\"A\", \"C\"] }", a + c),
        ("top-base", false, "{ top_n = 2, day = 3 }", b + a),
        ("named-base", false, "{ buyers = [\"A\", \"B\"], day = 3 }", b + a),
        ("skip-earlier", true, "{ buyers = [\"A\"] }, { top_n = 1, kind = \"protracted\" }", a + c),
        ("top-3-shocked", true, "{ top_n = 3 }", a + c + b_shocked),
    ];
    let mut files = vec![
        ("study.toml".to_owned(), format!("{}[fx]\nUSD = 0.92\n", study_toml("top n", 2, false))),
        (
            "buyers.csv".to_owned(),
            "buyer_id,country,sector,pd_1y,currency,terms_days,outstanding\nD,DE,food,0,EUR,30,50000\n\
             C,DE,food,0,EUR,30,95000\nB,US,food,0,USD,30,110000\nA,DE,food,0,EUR,30,100000\n"
                .to_owned(),
        ),
        ("policies.toml".to_owned(), String::new()),
    ];
    for (i, (name, shock, forced, _)) in cases.iter().enumerate() {
        files.push((format!("scenarios/{i}.toml"), scenario(name, *shock, forced)));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    write_files(dir.path(), &refs);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let gross = |s: &str| summary(&out, s, "none", "gross_loss", "mean");
    for (name, _, _, expected) in &cases {
        assert_eq!(gross(name), money(*expected), "{name}");
    }
    assert_eq!(gross("top-shocked"), gross("named-shocked"));
    assert_eq!(gross("top-base"), gross("named-base"));
    assert_ne!(gross("top-shocked"), gross("top-base"), "the shock changes who is hit");
    let defaults = |s: &str| comparison(&out, s, "none", "expected_defaults").parse::<f64>().unwrap();
    assert_eq!((defaults("top-shocked"), defaults("top-3-shocked")), (2.0, 3.0));
}

/// `kind = "insolvency"` stops deliveries at τ (an invoice issued on τ is not delivered);
/// `kind = "protracted"` keeps delivering until the oldest unpaid due date + `stop_deliveries_after_days`.
#[test]
fn forced_default_kinds_differ_in_the_deliveries_they_stop() {
    let dir = tempfile::tempdir().unwrap();
    // Monthly sales of 10,000.01 due 30 days after the 1st of each month; an open invoice of
    // 5,000.00 due on day 40 (2027-02-10).
    let (monthly, open, open_due, terms) = (1_000_001i128, 500_000i128, 40i64, 30i64);
    let unpaid = |day: i64, protracted: bool, stop_after: i64| {
        let mut due_issue: Vec<(i64, i64)> = SALE_DAYS_2027.iter().map(|&s| (s + terms, s)).collect();
        due_issue.push((open_due, i64::MIN));
        let oldest = due_issue.iter().map(|d| d.0).filter(|&d| d >= day).min().unwrap();
        let stop = if protracted { oldest + stop_after } else { day };
        due_issue
            .iter()
            .filter(|&&(due, issue)| due >= day && issue < stop)
            .map(|&(_, issue)| if issue == i64::MIN { open } else { monthly })
            .sum::<i128>()
    };
    // (scenario, day, kind, stop_deliveries_after_days)
    let cases = [
        ("ins-40", 40, "insolvency", 60),
        ("pro-40", 40, "protracted", 60),
        ("pro-40-stop-20", 40, "protracted", 20),
        ("ins-59", 59, "insolvency", 60),
        ("pro-59", 59, "protracted", 60),
    ];
    let mut files = vec![
        ("study.toml".to_owned(), study_toml("kinds", 2, true)),
        (
            "buyers.csv".to_owned(),
            "buyer_id,country,sector,pd_1y,terms_days,monthly_sales\nK,DE,food,0,30,10000.01\n".into(),
        ),
        (
            "invoices.csv".to_owned(),
            "invoice_id,buyer_id,amount,issue_date,due_date\nO,K,5000,2027-01-01,2027-02-10\n".into(),
        ),
        ("policies.toml".to_owned(), String::new()),
    ];
    for (i, (name, day, kind, stop)) in cases.iter().enumerate() {
        files.push((
            format!("scenarios/{i}.toml"),
            format!(
                "name = \"{name}\"\n[credit]\nrecovery_insolvency = {{ mean = 0, sd = 0, lag_days = 540 }}\n\
                 recovery_protracted = {{ mean = 0, sd = 0, lag_days = 270 }}\n[payment]\nstop_deliveries_after_days = {stop}\n\
                 [stress]\nforced_defaults = [{{ buyers = [\"K\"], day = {day}, kind = \"{kind}\" }}]\n"
            ),
        ));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    write_files(dir.path(), &refs);
    let out = run_study(dir.path(), &dir.path().join("out"), &[]);
    let mut got = Vec::new();
    for (name, day, kind, stop) in cases {
        let expected = unpaid(day, kind == "protracted", stop);
        assert_eq!(summary(&out, name, "none", "gross_loss", "mean"), money(expected), "{name}");
        got.push(expected);
    }
    // Insolvency at 40: open + the day-31 sale. Protracted at 40: open + sales of days 31, 59, 90
    // (stop at 40 + 60 = 100), or 31, 59 with stop at 60. At 59 the sale issued that day is not
    // delivered after an insolvency, but is after a protracted default (stop at 61 + 60 = 121).
    assert_eq!(got, vec![open + monthly, open + 3 * monthly, open + 2 * monthly, monthly, 4 * monthly]);
}

/// Per-trial default rates of a homogeneous pool under each scenario of `scenarios`
/// (`(file stem, [credit] and [stress] lines)`), all weight on the global factor.
fn pool_default_rates(pool: usize, pd: f64, scenarios: &[(&str, String)], trials: u64) -> Vec<Vec<f64>> {
    let dir = tempfile::tempdir().unwrap();
    let mut buyers = String::from("buyer_id,country,sector,pd_1y,terms_days,outstanding\n");
    for i in 0..pool {
        writeln!(buyers, "B{i:04},DE,retail,{pd},30,1000").unwrap();
    }
    let mut files = vec![
        ("study.toml".to_string(), study_toml("t copula", 1, false)),
        ("buyers.csv".to_string(), buyers),
        ("policies.toml".to_string(), String::new()),
    ];
    for (name, body) in scenarios {
        files.push((format!("scenarios/{name}.toml"), format!("name = \"{name}\"\n{body}")));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    write_files(dir.path(), &refs);
    let study = arstress::input::load_study(dir.path()).unwrap();
    scenarios
        .iter()
        .map(|(name, _)| {
            let scenario = study.scenarios.iter().find(|s| &s.name == name).unwrap();
            let plan = arstress::plan::compile(&study, scenario).unwrap();
            let outcomes = run_trials(&plan, 17, 0..trials, &|_| {});
            (0..outcomes.trials).map(|t| outcomes.row(t)[1] as f64 / pool as f64).collect()
        })
        .collect()
}

fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// `copula = "t"`: each buyer still defaults with its horizon PD `q` (thresholds are t quantiles),
/// the default rate given a fixed global factor `z` is `E_W[Φ((t_q·√(W/ν) − √R·z)/√(1−R))]`
/// (`W ~ χ²_ν`, by quadrature), and the tail is far heavier than the Gaussian copula's at the same
/// `q` and `R`: more trials lose over 15% of the pool.
#[test]
fn t_copula_keeps_the_pd_and_fattens_the_tail() {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let (pool, pd, r, nu, s) = (400usize, 0.02, 0.2f64, 4.0f64, 0.9f64);
    let credit = |copula: &str| {
        format!(
            "[credit]\nasset_correlation = {r}\ncopula = \"{copula}\"\nt_dof = {nu}\n\
             factor_weights = {{ global = 1.0, sector = 0.0, country = 0.0 }}\n"
        )
    };
    let scenarios = [
        ("gaussian", credit("gaussian")),
        ("t", credit("t")),
        ("t-fixed", credit("t") + &format!("[stress]\nsystematic_quantile = {s}\n")),
    ];
    let rates = pool_default_rates(pool, pd, &scenarios, 4000);
    let q = horizon_q(pd, 1.0, 12);
    for (name, x) in [("gaussian", &rates[0]), ("t", &rates[1])] {
        let (mean, se) = mean_se(x);
        assert!((mean - q).abs() < 4.0 * se, "{name}: mean default rate {mean} vs q {q} (se {se})");
    }
    // Conditional on Z_g = Φ⁻¹(1 − s): χ²_4 density w·e^(−w/2)/4, Simpson's rule on [0, 80].
    let t_q = StudentsT::new(0.0, 1.0, nu).unwrap().inverse_cdf(q);
    let z = quantile(1.0 - s);
    let f = |w: f64| w * (-w / 2.0).exp() / 4.0 * cdf((t_q * (w / nu).sqrt() - r.sqrt() * z) / (1.0 - r).sqrt());
    let (steps, top) = (4000, 80.0);
    let h = top / steps as f64;
    let expected = (0..=steps)
        .map(|i| {
            let weight = if i == 0 || i == steps {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            weight * f(i as f64 * h)
        })
        .sum::<f64>()
        * h
        / 3.0;
    let (mean, se) = mean_se(&rates[2]);
    assert!((mean - expected).abs() < 4.0 * se, "fixed factor: default rate {mean} vs {expected} (se {se})");
    // Tail: share of trials losing more than 15% of the pool, a binomial proportion per copula.
    let share = |x: &[f64]| x.iter().filter(|&&v| v > 0.15).count() as f64 / x.len() as f64;
    let (g, t) = (share(&rates[0]), share(&rates[1]));
    let se = (g * (1.0 - g) / 4000.0 + t * (1.0 - t) / 4000.0).sqrt();
    assert!(t - g > 4.0 * se, "P(rate > 15%): t {t} vs Gaussian {g} (se {se})");
}
