//! Scenario files (SPEC §2.3): raw TOML -> validated [`Scenario`].

use super::check::{Check, unit};
use super::num::Num;
use super::source::{Source, closest};
use crate::error::{Error, Problems};
use crate::model::*;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<Spanned<String>>,
    description: Option<String>,
    ratings: Option<BTreeMap<String, Spanned<f64>>>,
    #[serde(default)]
    credit: RawCredit,
    #[serde(default)]
    payment: RawPayment,
    #[serde(default)]
    country_risk: RawCountryRisk,
    #[serde(default)]
    stress: RawStress,
    terms: Option<Spanned<RawTerms>>,
    #[serde(default)]
    disputes: RawDisputes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct RawTerms {
    from_month: Option<Spanned<i64>>,
    sales_loss_prepaid: Option<Spanned<f64>>,
    sales_loss_per_30_days: Option<Spanned<f64>>,
    A: Option<Spanned<RawGradeTerms>>,
    B: Option<Spanned<RawGradeTerms>>,
    C: Option<Spanned<RawGradeTerms>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGradeTerms {
    terms_days: Option<Spanned<i64>>,
    prepaid: Option<Spanned<f64>>,
    cash_in_advance: Option<Spanned<bool>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDisputes {
    share: Option<Spanned<Num>>,
    #[serde(default)]
    share_by_sector: BTreeMap<String, Spanned<Num>>,
    resolution_days: Option<Spanned<i64>>,
    credited: Option<Spanned<Num>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCorrelation {
    Name(String),
    Value(f64),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCredit {
    asset_correlation: Option<Spanned<RawCorrelation>>,
    factor_weights: Option<Spanned<RawWeights>>,
    copula: Option<Spanned<String>>,
    t_dof: Option<Spanned<f64>>,
    insolvency_share: Option<Spanned<f64>>,
    recovery_insolvency: Option<Spanned<RawRecovery>>,
    recovery_protracted: Option<Spanned<RawRecovery>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeights {
    #[serde(default)]
    global: f64,
    #[serde(default)]
    sector: f64,
    #[serde(default)]
    country: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecovery {
    mean: Option<Spanned<Num>>,
    sd: Option<Spanned<f64>>,
    lag_days: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPayment {
    late_share: Option<Spanned<f64>>,
    days_late_median: Option<Spanned<f64>>,
    days_late_p90: Option<Spanned<f64>>,
    cycle_sensitivity: Option<Spanned<f64>>,
    stop_deliveries_after_days: Option<Spanned<i64>>,
    ladder: Option<Spanned<Vec<Spanned<super::ladder::RawStep>>>>,
    discount: Option<Spanned<RawDiscount>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscount {
    rate: Option<Spanned<Num>>,
    days: Option<Spanned<i64>>,
    take_up: Option<Spanned<RawTakeUp>>,
    from_month: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct RawTakeUp {
    A: Option<Spanned<f64>>,
    B: Option<Spanned<f64>>,
    C: Option<Spanned<f64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCountryRisk {
    default_probability: Option<Spanned<f64>>,
    default_duration_days_median: Option<Spanned<f64>>,
    default_transfer_rate: Option<Spanned<f64>>,
    #[serde(default)]
    countries: BTreeMap<String, Spanned<RawCountry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCountry {
    probability: Option<Spanned<f64>>,
    duration_days_median: Option<Spanned<f64>>,
    transfer_rate: Option<Spanned<f64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStress {
    pd_multiplier: Option<Spanned<f64>>,
    #[serde(default)]
    pd_multiplier_by_sector: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    pd_multiplier_by_country: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    pd_multiplier_by_rating: BTreeMap<String, Spanned<f64>>,
    systematic_quantile: Option<Spanned<f64>>,
    correlation_addon: Option<Spanned<f64>>,
    recovery_multiplier: Option<Spanned<Num>>,
    sales_multiplier: Option<Spanned<Num>>,
    #[serde(default)]
    sales_multiplier_by_sector: BTreeMap<String, Spanned<Num>>,
    #[serde(default)]
    sales_multiplier_by_country: BTreeMap<String, Spanned<Num>>,
    late_share_addon: Option<Spanned<f64>>,
    days_late_shift: Option<Spanned<i64>>,
    #[serde(default)]
    fx_shock: BTreeMap<String, Spanned<Num>>,
    #[serde(default)]
    forced_defaults: Vec<Spanned<RawForced>>,
    #[serde(default)]
    forced_country_events: Vec<Spanned<RawForcedCountry>>,
    limit_cuts: Option<Spanned<RawLimitCuts>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForced {
    buyers: Option<Vec<Spanned<String>>>,
    top_n: Option<Spanned<i64>>,
    day: Option<Spanned<i64>>,
    kind: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForcedCountry {
    country: Spanned<String>,
    start_day: Option<Spanned<i64>>,
    duration_days: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimitCuts {
    trigger_pd_multiple: Option<Spanned<f64>>,
    share: Option<Spanned<f64>>,
    cut_to: Option<Spanned<f64>>,
    notice_days: Option<Spanned<i64>>,
    lead_days: Option<Spanned<i64>>,
}

/// What a scenario is checked against: the portfolio's labels and a day-0 exposure ranking.
pub struct ScenarioContext<'a> {
    pub portfolio: &'a Portfolio,
    pub currencies: &'a BTreeSet<String>,
    pub horizon_days: i32,
    /// Buyer indices by day-0 exposure after an fx shock, largest first, ties by buyer_id.
    pub rank_by_exposure: &'a dyn Fn(&BTreeMap<String, Decimal>) -> Vec<usize>,
    /// The portfolio's sectors and countries (computed once, not per scenario).
    pub sectors: &'a BTreeSet<&'a str>,
    pub countries: &'a BTreeSet<&'a str>,
}

/// Parses and validates one scenario file.
pub fn load_scenario(src: &Source, ctx: &ScenarioContext) -> Result<Scenario, Error> {
    let (scenario, problems) = read_scenario(src, ctx)?;
    problems.into_result()?;
    Ok(scenario)
}

/// A scenario and its problems (a bad value takes its default, so that the buyers' rating grades can still be
/// checked against its table). `Err` when the file is not a scenario's TOML at all.
pub fn read_scenario(src: &Source, ctx: &ScenarioContext) -> Result<(Scenario, Problems), Error> {
    let raw: RawScenario = src.parse_toml()?;
    let mut c = Check::new(src);
    let stem = src.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match &raw.name {
        Some(n) if n.get_ref().trim().is_empty() => {
            c.bad("name", n, n.get_ref().clone(), "a non-empty scenario name");
            stem
        }
        Some(n) => n.get_ref().trim().to_owned(),
        None => stem,
    };

    // Ratings: the default table merged with the scenario's.
    let mut ratings = default_rating_table();
    for (grade, p) in raw.ratings.iter().flatten() {
        let v = *p.get_ref();
        if !(v.is_finite() && (0.0..1.0).contains(&v)) {
            c.bad(&format!("ratings.{grade}"), p, v.to_string(), "an annual PD 0 <= p < 1");
        }
        ratings.insert(grade.clone(), v);
    }

    let credit = credit(&mut c, &raw.credit);
    let payment = payment(&mut c, &raw.payment);
    let country_risk = country_risk(&mut c, &raw.country_risk);
    let stress = stress(&mut c, &raw.stress, &ratings, ctx);
    let disputes = disputes(&mut c, &raw.disputes, ctx.sectors);
    check_beta(
        &mut c,
        "credit.recovery_insolvency",
        &credit.recovery_insolvency,
        raw.credit.recovery_insolvency.as_ref(),
        &raw.stress,
    );
    check_beta(
        &mut c,
        "credit.recovery_protracted",
        &credit.recovery_protracted,
        raw.credit.recovery_protracted.as_ref(),
        &raw.stress,
    );

    let terms = raw.terms.as_ref().map(|t| terms(&mut c, t.get_ref()));
    let scenario = Scenario {
        terms,
        name,
        description: raw.description.unwrap_or_default(),
        file: src.path.clone(),
        ratings,
        credit,
        payment,
        country_risk,
        stress,
        disputes,
    };
    Ok((scenario, c.problems))
}

/// `[terms]`: a first month 1..=120, elasticities in [0, 1], per grade terms 0..=720 days and a
/// prepaid share in [0, 1] (`cash_in_advance = true`: 1, not with another prepaid share).
fn terms(c: &mut Check, raw: &RawTerms) -> TermsPolicy {
    let from_month = c.int("terms.from_month", &raw.from_month, 1, 1, 120) as u32;
    let sales_loss_prepaid = c.float(
        "terms.sales_loss_prepaid",
        &raw.sales_loss_prepaid,
        DEFAULT_SALES_LOSS_PREPAID,
        unit,
        "a share of sales in [0, 1]",
    );
    let sales_loss_per_30_days = c.float(
        "terms.sales_loss_per_30_days",
        &raw.sales_loss_per_30_days,
        DEFAULT_SALES_LOSS_PER_30_DAYS,
        unit,
        "a share of sales in [0, 1]",
    );
    let mut grades: [Option<GradeTerms>; 3] = [None, None, None];
    for (i, (name, g)) in [("A", &raw.A), ("B", &raw.B), ("C", &raw.C)].into_iter().enumerate() {
        let Some(g) = g else { continue };
        let g = g.get_ref();
        let terms_days =
            g.terms_days.as_ref().map(|_| c.int(&format!("terms.{name}.terms_days"), &g.terms_days, 0, 0, 720) as u32);
        let mut prepaid = c.float(&format!("terms.{name}.prepaid"), &g.prepaid, 0.0, unit, "a share in [0, 1]");
        if let Some(cia) = &g.cash_in_advance {
            if *cia.get_ref() && g.prepaid.is_some() && prepaid < 1.0 {
                c.bad(
                    &format!("terms.{name}.cash_in_advance"),
                    cia,
                    "true".to_owned(),
                    "either cash_in_advance = true or a prepaid share below 1, not both",
                );
            }
            if *cia.get_ref() {
                prepaid = 1.0;
            }
        }
        grades[i] = Some(GradeTerms { terms_days, prepaid });
    }
    TermsPolicy { from_month, grades, sales_loss_prepaid, sales_loss_per_30_days }
}

/// `[payment.discount]`: a rate in (0, 1), days 0..=365, take-up shares in [0, 1] per grade, a
/// first month 1..=120.
fn discount(c: &mut Check, raw: &RawDiscount) -> crate::model::Discount {
    let rate = match &raw.rate {
        None => rust_decimal::Decimal::new(2, 2),
        Some(r) => {
            let v = r.get_ref().0;
            if v > rust_decimal::Decimal::ZERO && v < rust_decimal::Decimal::ONE {
                v
            } else {
                c.bad("payment.discount.rate", r, r.get_ref().to_string(), "a share of the invoice in (0, 1)");
                rust_decimal::Decimal::new(2, 2)
            }
        }
    };
    let days = c.int("payment.discount.days", &raw.days, 10, 0, 365) as u32;
    let mut take_up = crate::model::DEFAULT_TAKE_UP;
    if let Some(t) = &raw.take_up {
        let t = t.get_ref();
        for (i, (name, v)) in [("A", &t.A), ("B", &t.B), ("C", &t.C)].into_iter().enumerate() {
            take_up[i] = c.float(&format!("payment.discount.take_up.{name}"), v, take_up[i], unit, "a share in [0, 1]");
        }
    }
    let from_month = c.int("payment.discount.from_month", &raw.from_month, 1, 1, 120) as u32;
    crate::model::Discount { rate, days, take_up, from_month }
}

fn credit(c: &mut Check, raw: &RawCredit) -> Credit {
    let correlation = match &raw.asset_correlation {
        None => Correlation::Basel,
        Some(s) => match s.get_ref() {
            RawCorrelation::Name(n) if n == "basel" => Correlation::Basel,
            RawCorrelation::Value(r) if r.is_finite() && (0.0..1.0).contains(r) => Correlation::Fixed(*r),
            RawCorrelation::Name(n) => {
                c.bad("credit.asset_correlation", s, n.clone(), "\"basel\" or a number 0 <= R < 1");
                Correlation::Basel
            }
            RawCorrelation::Value(r) => {
                c.bad("credit.asset_correlation", s, r.to_string(), "\"basel\" or a number 0 <= R < 1");
                Correlation::Basel
            }
        },
    };
    let factor_weights = match &raw.factor_weights {
        None => [0.6, 0.3, 0.1],
        Some(s) => {
            let w = s.get_ref();
            let ws = [w.global, w.sector, w.country];
            let sum: f64 = ws.iter().sum();
            if ws.iter().any(|x| !x.is_finite() || *x < 0.0) || (sum - 1.0).abs() > 1e-9 {
                c.bad(
                    "credit.factor_weights",
                    s,
                    format!("global = {}, sector = {}, country = {} (sum {sum})", w.global, w.sector, w.country),
                    "non-negative weights that sum to 1",
                );
                [0.6, 0.3, 0.1]
            } else {
                ws
            }
        }
    };
    let copula = match &raw.copula {
        None => Copula::Gaussian,
        Some(s) => match s.get_ref().as_str() {
            "gaussian" => Copula::Gaussian,
            "t" => Copula::StudentT,
            other => {
                c.bad("credit.copula", s, other, "\"gaussian\" or \"t\"");
                Copula::Gaussian
            }
        },
    };
    let t_dof = c.float("credit.t_dof", &raw.t_dof, 6.0, |x| x > 2.0 && x <= 1000.0, "degrees of freedom in (2, 1000]");
    let insolvency_share = c.float("credit.insolvency_share", &raw.insolvency_share, 0.6, unit, "a share in [0, 1]");
    let recovery_insolvency = recovery(c, "credit.recovery_insolvency", &raw.recovery_insolvency, ("0.08", 0.08, 540));
    let recovery_protracted = recovery(c, "credit.recovery_protracted", &raw.recovery_protracted, ("0.25", 0.15, 270));
    Credit { correlation, factor_weights, copula, t_dof, insolvency_share, recovery_insolvency, recovery_protracted }
}

fn recovery(c: &mut Check, key: &str, raw: &Option<Spanned<RawRecovery>>, default: (&str, f64, i64)) -> Recovery {
    let mean_default: Decimal = default.0.parse().unwrap_or_default();
    let Some(s) = raw else {
        return Recovery { mean: mean_default, sd: default.1, lag_days: default.2 as u32 };
    };
    let r = s.get_ref();
    let mean = match &r.mean {
        None => mean_default,
        Some(m) => {
            let v = m.get_ref().0;
            if v < Decimal::ZERO || v > Decimal::ONE {
                c.bad(&format!("{key}.mean"), m, v.to_string(), "a mean recovery rate in [0, 1]");
            }
            v
        }
    };
    let sd = c.float(&format!("{key}.sd"), &r.sd, default.1, |x| x >= 0.0, "a standard deviation >= 0");
    let lag = c.int(&format!("{key}.lag_days"), &r.lag_days, default.2, 0, 3650);
    Recovery { mean, sd, lag_days: lag as u32 }
}

fn payment(c: &mut Check, raw: &RawPayment) -> Payment {
    let late_share = c.float("payment.late_share", &raw.late_share, 0.45, unit, "a share in [0, 1]");
    let days_late_median =
        c.float("payment.days_late_median", &raw.days_late_median, 15.0, |x| x > 0.0, "a number of days > 0");
    let days_late_p90 = c.float("payment.days_late_p90", &raw.days_late_p90, 60.0, |x| x > 0.0, "a number of days > 0");
    if let Some(s) = &raw.days_late_p90
        && days_late_p90 < days_late_median
    {
        c.bad(
            "payment.days_late_p90",
            s,
            days_late_p90.to_string(),
            format!("a value >= days_late_median ({days_late_median})"),
        );
    }
    let cycle_sensitivity =
        c.float("payment.cycle_sensitivity", &raw.cycle_sensitivity, 0.5, unit, "a number in [0, 1]");
    let stop = c.int("payment.stop_deliveries_after_days", &raw.stop_deliveries_after_days, 60, 0, 3650);
    let ladder = raw.ladder.as_ref().map(|l| super::ladder::ladder(c, "payment.ladder", l));
    let discount = raw.discount.as_ref().map(|d| discount(c, d.get_ref()));
    Payment {
        late_share,
        days_late_median,
        days_late_p90,
        cycle_sensitivity,
        stop_deliveries_after_days: stop as u32,
        ladder,
        discount,
    }
}

fn country_risk(c: &mut Check, raw: &RawCountryRisk) -> CountryRiskTable {
    let default = CountryRisk {
        probability: c.float(
            "country_risk.default_probability",
            &raw.default_probability,
            0.0,
            unit,
            "a probability in [0, 1]",
        ),
        duration_days_median: c.float(
            "country_risk.default_duration_days_median",
            &raw.default_duration_days_median,
            180.0,
            |x| x > 0.0,
            "a number of days > 0",
        ),
        transfer_rate: c.float(
            "country_risk.default_transfer_rate",
            &raw.default_transfer_rate,
            0.8,
            unit,
            "a share in [0, 1]",
        ),
    };
    let mut countries = BTreeMap::new();
    for (code, s) in &raw.countries {
        let key = format!("country_risk.countries.{code}");
        if !super::country::is_country_code(code) {
            c.bad(&key, s, code.clone(), super::country::expected_country(code));
        }
        let r = s.get_ref();
        let cr = CountryRisk {
            probability: c.float(
                &format!("{key}.probability"),
                &r.probability,
                default.probability,
                unit,
                "a probability in [0, 1]",
            ),
            duration_days_median: c.float(
                &format!("{key}.duration_days_median"),
                &r.duration_days_median,
                default.duration_days_median,
                |x| x > 0.0,
                "a number of days > 0",
            ),
            transfer_rate: c.float(
                &format!("{key}.transfer_rate"),
                &r.transfer_rate,
                default.transfer_rate,
                unit,
                "a share in [0, 1]",
            ),
        };
        countries.insert(code.clone(), cr);
    }
    CountryRiskTable { default, countries }
}

/// `[disputes]` (docs/inputs.md): shares in [0, 1], sectors of the portfolio, a resolution delay.
fn disputes(c: &mut Check, raw: &RawDisputes, sectors: &BTreeSet<&str>) -> Disputes {
    let share_in_unit = |c: &mut Check, key: &str, s: &Spanned<Num>| -> Decimal {
        let v = s.get_ref().0;
        if v < Decimal::ZERO || v > Decimal::ONE {
            c.bad(key, s, v.to_string(), "a share in [0, 1]");
            return Decimal::ZERO;
        }
        v
    };
    let share = raw.share.as_ref().map_or(Decimal::ZERO, |s| share_in_unit(c, "disputes.share", s));
    let mut share_by_sector = BTreeMap::new();
    for (label, s) in &raw.share_by_sector {
        let key = format!("disputes.share_by_sector.{label}");
        if !sectors.contains(label.as_str()) {
            let cands: Vec<&str> = sectors.iter().copied().collect();
            let hint = closest(label, &cands).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
            c.bad(&key, s, label.clone(), format!("a sector of the portfolio{hint}"));
        }
        share_by_sector.insert(label.clone(), share_in_unit(c, &key, s));
    }
    let resolution_days = c.int("disputes.resolution_days", &raw.resolution_days, 60, 0, 3650) as u32;
    let credited = raw.credited.as_ref().map_or(Decimal::new(3, 1), |s| share_in_unit(c, "disputes.credited", s));
    Disputes { share, share_by_sector, resolution_days, credited }
}

fn multipliers(
    c: &mut Check,
    key: &str,
    raw: &BTreeMap<String, Spanned<f64>>,
    known: &BTreeSet<&str>,
    what: &str,
) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (label, s) in raw {
        let k = format!("{key}.{label}");
        let v = *s.get_ref();
        if !known.contains(label.as_str()) {
            let cands: Vec<&str> = known.iter().copied().collect();
            let hint = closest(label, &cands).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
            c.bad(&k, s, label.clone(), format!("a {what} of the portfolio{hint}"));
        }
        // A value out of range is left out, so that products of multipliers only see valid factors.
        if !(v.is_finite() && v >= 0.0) {
            c.bad(&k, s, v.to_string(), "a multiplier >= 0");
            continue;
        }
        out.insert(label.clone(), v);
    }
    out
}

fn decimal_multipliers(
    c: &mut Check,
    key: &str,
    raw: &BTreeMap<String, Spanned<Num>>,
    known: &BTreeSet<&str>,
    what: &str,
) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for (label, s) in raw {
        let k = format!("{key}.{label}");
        let v = s.get_ref().0;
        if v < Decimal::ZERO || v > Decimal::from(1000) {
            c.bad(&k, s, v.to_string(), "a multiplier in [0, 1000]");
        }
        if !known.contains(label.as_str()) {
            let cands: Vec<&str> = known.iter().copied().collect();
            let hint = closest(label, &cands).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
            c.bad(&k, s, label.clone(), format!("a {what} of the portfolio{hint}"));
        }
        out.insert(label.clone(), v);
    }
    out
}

fn decimal(c: &mut Check, key: &str, raw: &Option<Spanned<Num>>, lo: Decimal, hi: Decimal) -> Decimal {
    match raw {
        None => Decimal::ONE,
        Some(s) => {
            let v = s.get_ref().0;
            if v < lo || v > hi {
                c.bad(key, s, v.to_string(), format!("a multiplier in [{lo}, {hi}]"));
            }
            v
        }
    }
}

fn stress(c: &mut Check, raw: &RawStress, ratings: &BTreeMap<String, f64>, ctx: &ScenarioContext) -> Stress {
    let (sectors, countries) = (ctx.sectors, ctx.countries);
    let grades: BTreeSet<&str> = ratings.keys().map(String::as_str).collect();
    let currencies: BTreeSet<&str> = ctx.currencies.iter().map(String::as_str).collect();

    let pd_multiplier = c.float("stress.pd_multiplier", &raw.pd_multiplier, 1.0, |x| x >= 0.0, "a multiplier >= 0");
    let by_sector = multipliers(c, "stress.pd_multiplier_by_sector", &raw.pd_multiplier_by_sector, sectors, "sector");
    let by_country =
        multipliers(c, "stress.pd_multiplier_by_country", &raw.pd_multiplier_by_country, countries, "country");
    let by_rating =
        multipliers(c, "stress.pd_multiplier_by_rating", &raw.pd_multiplier_by_rating, &grades, "rating grade");
    let systematic_quantile = raw.systematic_quantile.as_ref().map(|s| {
        let q = *s.get_ref();
        if !(q.is_finite() && q > 0.0 && q < 1.0) {
            c.bad(
                "stress.systematic_quantile",
                s,
                q.to_string(),
                "a level 0 < s < 1 (e.g. 0.95 for the 95% worst state)",
            );
        }
        q
    });
    let correlation_addon = c.float(
        "stress.correlation_addon",
        &raw.correlation_addon,
        0.0,
        |x| (-1.0..1.0).contains(&x),
        "an add-on to R in (-1, 1)",
    );
    let recovery_multiplier =
        decimal(c, "stress.recovery_multiplier", &raw.recovery_multiplier, Decimal::ZERO, Decimal::from(100));
    let sales_multiplier =
        decimal(c, "stress.sales_multiplier", &raw.sales_multiplier, Decimal::ZERO, Decimal::from(1000));
    let sales_by_sector =
        decimal_multipliers(c, "stress.sales_multiplier_by_sector", &raw.sales_multiplier_by_sector, sectors, "sector");
    let sales_by_country = decimal_multipliers(
        c,
        "stress.sales_multiplier_by_country",
        &raw.sales_multiplier_by_country,
        countries,
        "country",
    );
    let late_share_addon = c.float(
        "stress.late_share_addon",
        &raw.late_share_addon,
        0.0,
        |x| (-1.0..=1.0).contains(&x),
        "an add-on in [-1, 1]",
    );
    let days_late_shift = c.int("stress.days_late_shift", &raw.days_late_shift, 0, -3650, 3650);

    let mut fx_shock = BTreeMap::new();
    for (cur, s) in &raw.fx_shock {
        let v = s.get_ref().0;
        let key = format!("stress.fx_shock.{cur}");
        let in_range = v > Decimal::ZERO && v <= Decimal::from(1000);
        if !in_range {
            c.bad(&key, s, v.to_string(), "a multiplier of the fx rate in (0, 1000]");
        }
        if !currencies.contains(cur.as_str()) {
            c.bad(&key, s, cur.clone(), "a currency of the portfolio with an fx rate");
        }
        // An out-of-range shock is left out: `top_n` below ranks buyers by exposure at the shocked rates.
        if in_range {
            fx_shock.insert(cur.clone(), v);
        }
    }

    let forced_defaults = forced_defaults(c, raw, &fx_shock, ctx);

    let mut forced_country_events = Vec::new();
    for (i, s) in raw.forced_country_events.iter().enumerate() {
        let key = format!("stress.forced_country_events[{i}]");
        let e = s.get_ref();
        let country = e.country.get_ref().clone();
        if !countries.contains(country.as_str()) {
            let cands: Vec<&str> = countries.iter().copied().collect();
            let hint = closest(&country, &cands).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
            c.bad(&format!("{key}.country"), &e.country, country.clone(), format!("a country of the portfolio{hint}"));
        }
        let start_day = c.int(&format!("{key}.start_day"), &e.start_day, 0, 0, ctx.horizon_days as i64 - 1) as i32;
        let duration_days = match &e.duration_days {
            None => {
                c.bad(&key, s, country.clone(), "a `duration_days` (whole days >= 1)");
                1
            }
            Some(_) => c.int(&format!("{key}.duration_days"), &e.duration_days, 1, 1, 3650) as u32,
        };
        forced_country_events.push(ForcedCountryEvent { country, start_day, duration_days });
    }

    let limit_cuts = match &raw.limit_cuts {
        None => LimitCuts { trigger_pd_multiple: 0.0, share: 0.0, cut_to: 0.0, notice_days: 30, lead_days: 90 },
        Some(s) => {
            let r = s.get_ref();
            let lc = LimitCuts {
                trigger_pd_multiple: c.float(
                    "stress.limit_cuts.trigger_pd_multiple",
                    &r.trigger_pd_multiple,
                    0.0,
                    |x| x >= 0.0,
                    "a multiple >= 0",
                ),
                share: c.float("stress.limit_cuts.share", &r.share, 0.0, unit, "a share in [0, 1]"),
                cut_to: c.float("stress.limit_cuts.cut_to", &r.cut_to, 0.0, unit, "a fraction of the limit in [0, 1]"),
                notice_days: c.int("stress.limit_cuts.notice_days", &r.notice_days, 30, 0, 3650) as u32,
                lead_days: c.int("stress.limit_cuts.lead_days", &r.lead_days, 90, 0, 3650) as u32,
            };
            // The buyers below F⁻¹(min(1, trigger × q)) are cut (SPEC §5.4), a set that must hold
            // every defaulter: a multiple below 1 would leave some out.
            if lc.share > 0.0
                && lc.trigger_pd_multiple < 1.0
                && let Some(t) = &r.trigger_pd_multiple
            {
                c.bad(
                    "stress.limit_cuts.trigger_pd_multiple",
                    t,
                    t.get_ref().to_string(),
                    "a multiple of at least 1 when `share` is above 0 (the buyers whose latent variable falls \
                     below F⁻¹(multiple × q), every defaulter among them, are cut)",
                );
            } else if lc.share > 0.0 && r.trigger_pd_multiple.is_none() {
                c.bad(
                    "stress.limit_cuts.share",
                    s,
                    lc.share.to_string(),
                    "a `trigger_pd_multiple` of at least 1 beside a `share` above 0",
                );
            }
            lc
        }
    };

    let stress = Stress {
        pd_multiplier,
        pd_multiplier_by_sector: by_sector,
        pd_multiplier_by_country: by_country,
        pd_multiplier_by_rating: by_rating,
        systematic_quantile,
        correlation_addon,
        recovery_multiplier,
        sales_multiplier,
        sales_multiplier_by_sector: sales_by_sector,
        sales_multiplier_by_country: sales_by_country,
        late_share_addon,
        days_late_shift,
        fx_shock,
        forced_defaults,
        forced_country_events,
        limit_cuts,
    };
    check_pd_products(c, raw, &stress, ctx);
    stress
}

/// A multiplier as written in a message: `1e308` rather than 309 digits.
fn show(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e15).contains(&x.abs()) { format!("{x:e}") } else { x.to_string() }
}

/// The PD multipliers that apply to each buyer must have a finite product ([`crate::model::product`]: a zero
/// factor wins over the others). An overflow is refused once per combination of keys, naming them.
fn check_pd_products(c: &mut Check, raw: &RawStress, st: &Stress, ctx: &ScenarioContext) {
    let max = |m: &BTreeMap<String, f64>| m.values().copied().fold(1.0f64, f64::max);
    let [a, b, cc, d] = [
        st.pd_multiplier,
        max(&st.pd_multiplier_by_sector),
        max(&st.pd_multiplier_by_country),
        max(&st.pd_multiplier_by_rating),
    ];
    // Every buyer's product is at most this one: when it is finite, no buyer needs a look.
    if (a * b * cc * d).is_finite() {
        return;
    }
    let span = |key: &str| -> Option<std::ops::Range<usize>> {
        if key == "pd_multiplier" {
            return raw.pd_multiplier.as_ref().map(Spanned::span);
        }
        let (map, label) = key.split_once('.')?;
        let map = match map {
            "pd_multiplier_by_sector" => &raw.pd_multiplier_by_sector,
            "pd_multiplier_by_country" => &raw.pd_multiplier_by_country,
            _ => &raw.pd_multiplier_by_rating,
        };
        map.get(label).map(Spanned::span)
    };
    let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
    for buyer in &ctx.portfolio.buyers {
        let factors = st.pd_factors(buyer);
        if crate::model::product(&factors).is_some() {
            continue;
        }
        let named: Vec<(String, f64)> = st
            .pd_factor_keys(buyer)
            .into_iter()
            .zip(factors)
            .filter_map(|(k, f)| k.filter(|_| f != 1.0).map(|k| (k, f)))
            .collect();
        let keys: Vec<String> = named.iter().map(|(k, _)| k.clone()).collect();
        if !seen.insert(keys.clone()) {
            continue;
        }
        let names: Vec<String> = keys.iter().map(|k| format!("stress.{k}")).collect();
        let value = named.iter().map(|(_, f)| show(*f)).collect::<Vec<_>>().join(" × ");
        let expected = format!(
            "PD multipliers whose product is a finite number: {} overflows for buyer {} (lower one of them; a multiplier of 0 makes the product 0)",
            names.join(" × "),
            buyer.id
        );
        let last = keys.last().map(String::as_str).unwrap_or("pd_multiplier");
        let problem = match span(last) {
            Some(sp) => c.src.key_problem(&format!("stress.{last}"), sp, value, expected),
            None => c.src.file_problem(&format!("stress.{last}"), value, expected),
        };
        c.push(problem);
        if seen.len() >= crate::error::MAX_PROBLEMS {
            break;
        }
    }
}

/// SPEC §3.1.5: a Beta recovery needs `sd² < μ(1−μ)` with `μ = mean × recovery_multiplier` (sd = 0 is fixed).
fn check_beta(c: &mut Check, key: &str, rec: &Recovery, raw: Option<&Spanned<RawRecovery>>, stress: &RawStress) {
    let multiplier = stress.recovery_multiplier.as_ref().map_or(Decimal::ONE, |m| m.get_ref().0);
    // Beyond an exact decimal, the mean or the multiplier is far out of its range, and reported as such already.
    let Some(mu) = crate::model::product(&[rec.mean, multiplier]) else { return };
    let mu_f: f64 = mu.try_into().unwrap_or(f64::NAN);
    let bad = if rec.sd == 0.0 { mu > Decimal::ONE } else { mu_f.is_nan() || rec.sd * rec.sd >= mu_f * (1.0 - mu_f) };
    if !bad {
        return;
    }
    let expected = format!(
        "sd = 0 (a fixed rate) or sd² < μ(1−μ) with μ = mean × recovery_multiplier = {mu} in [0, 1], for a Beta distribution"
    );
    let value = rec.sd.to_string();
    let sd_key = format!("{key}.sd");
    match (
        raw.and_then(|r| r.get_ref().sd.as_ref()),
        raw.and_then(|r| r.get_ref().mean.as_ref()),
        raw,
        &stress.recovery_multiplier,
    ) {
        (Some(sd), _, _, _) => c.bad(&sd_key, sd, value, expected),
        (None, Some(mean), _, _) => c.bad(&format!("{key}.mean"), mean, mean.get_ref().to_string(), expected),
        (None, None, Some(table), _) => c.bad(key, table, value, expected),
        (None, None, None, Some(m)) => c.bad("stress.recovery_multiplier", m, m.get_ref().to_string(), expected),
        (None, None, None, None) => {
            let p = c.src.file_problem(&sd_key, value, expected);
            c.push(p);
        }
    }
}

fn forced_defaults(
    c: &mut Check,
    raw: &RawStress,
    fx_shock: &BTreeMap<String, Decimal>,
    ctx: &ScenarioContext,
) -> Vec<ForcedDefault> {
    let buyers = &ctx.portfolio.buyers;
    let mut taken = vec![false; buyers.len()];
    let mut ranking: Option<Vec<usize>> = None;
    let mut out = Vec::new();
    for (i, s) in raw.forced_defaults.iter().enumerate() {
        let key = format!("stress.forced_defaults[{i}]");
        let f = s.get_ref();
        if f.buyers.is_none() && f.top_n.is_none() {
            c.bad(&key, s, "{}", "`buyers`, `top_n` or both");
        }
        let day = match &f.day {
            None => 0,
            Some(d) => {
                let v = *d.get_ref();
                if !(0..ctx.horizon_days as i64).contains(&v) {
                    c.bad(
                        &format!("{key}.day"),
                        d,
                        v.to_string(),
                        format!("a day in 0..{} (inside the horizon)", ctx.horizon_days),
                    );
                }
                v.clamp(0, i32::MAX as i64) as i32
            }
        };
        let kind = match &f.kind {
            None => DefaultKind::Insolvency,
            Some(k) => match k.get_ref().as_str() {
                "insolvency" => DefaultKind::Insolvency,
                "protracted" => DefaultKind::Protracted,
                other => {
                    c.bad(&format!("{key}.kind"), k, other, "\"insolvency\" or \"protracted\"");
                    DefaultKind::Insolvency
                }
            },
        };
        let mut hit = Vec::new();
        for b in f.buyers.iter().flatten() {
            let id = b.get_ref();
            match crate::model::buyer_position(buyers, id) {
                None => {
                    let ids: Vec<&str> = buyers.iter().map(|b| b.id.as_str()).collect();
                    let hint = closest(id, &ids).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
                    c.bad(&format!("{key}.buyers"), b, id.clone(), format!("a buyer_id of buyers.csv{hint}"));
                }
                Some(bi) if taken[bi] => {
                    c.bad(&format!("{key}.buyers"), b, id.clone(), "a buyer named only once across forced_defaults");
                }
                Some(bi) => {
                    taken[bi] = true;
                    hit.push(bi);
                }
            }
        }
        if let Some(n) = &f.top_n {
            let want = *n.get_ref();
            if want < 1 || want as usize > buyers.len() {
                c.bad(
                    &format!("{key}.top_n"),
                    n,
                    want.to_string(),
                    format!("a number of buyers in 1..={}", buyers.len()),
                );
            } else {
                let order = ranking.get_or_insert_with(|| (ctx.rank_by_exposure)(fx_shock));
                let mut left = want as usize;
                for &bi in order.iter() {
                    if left == 0 {
                        break;
                    }
                    if !taken[bi] {
                        taken[bi] = true;
                        hit.push(bi);
                        left -= 1;
                    }
                }
            }
        }
        out.push(ForcedDefault { buyers: hit, day, kind });
    }
    out
}
