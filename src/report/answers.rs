//! The answers a treasurer and a credit manager bring to a stress test, per scenario, each with its
//! Monte Carlo error: which alternative costs least and by how much, how much the best policy cuts
//! the bad tail, whether and when cash runs short, and what reserve covers the net loss. The HTML
//! page's first screen and the terminal's closing lines both say these.

use super::figures::{compact, percent_with_error};
use crate::model::Study;
use crate::run::{PolicyResult, ScenarioResult};

/// Index of the measures in [`PolicyResult::measures`].
const NET: usize = 2;
const COST: usize = 3;
/// Index of the 99% level in the VaR / ES arrays.
const AT_99: usize = 1;

/// A figure in currency units (or a probability) with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub se: f64,
}

impl Estimate {
    fn cents(value: i128, se_cents: f64) -> Estimate {
        Estimate { value: value as f64 / 100.0, se: se_cents / 100.0 }
    }
    /// Whether the figure stands out of its noise: more than two standard errors from zero.
    pub fn significant(&self) -> bool {
        self.value.abs() > 2.0 * self.se
    }
}

/// The alternative with the lowest expected total cost, "none" included.
#[derive(Debug, Clone, PartialEq)]
pub struct Cheapest {
    pub name: String,
    pub total_cost: Estimate,
    /// Its expected total cost minus that of no insurance (negative: it saves), with the standard
    /// error of the paired difference (both on the same trials). For "none" itself: the best
    /// policy's difference instead, and `runner_up` names it.
    pub versus_none: Option<Estimate>,
    pub runner_up: Option<String>,
    /// When a policy is cheapest and the study has another: the next cheapest policy and its
    /// expected total cost minus the cheapest's, with the standard error of the paired
    /// difference (policy_differences.csv).
    pub versus_next_policy: Option<(String, Estimate)>,
}

/// The policy that cuts ES 99 of the net loss most.
#[derive(Debug, Clone, PartialEq)]
pub struct Protection {
    pub es_99_without: Estimate,
    pub policy: String,
    pub es_99_with: Estimate,
    /// The policy's premium over the horizon, in currency units.
    pub premium: f64,
}

/// Whether cash runs short, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortfall {
    /// P(the cash position falls below its floor in some month), without insurance.
    pub without: Estimate,
    /// The month in which a shortfall is most likely (its start, `YYYY-MM`) and its probability.
    pub peak_month: Option<(String, Estimate)>,
    /// The same probability under the cheapest alternative, when that is a policy.
    pub cheapest: Option<(String, Estimate)>,
}

/// The bad-debt reserve that covers the net loss of the cheapest alternative.
#[derive(Debug, Clone, PartialEq)]
pub struct Reserve {
    pub alternative: String,
    /// VaR 99 of the net loss, with its distribution-free 95% interval, in currency units.
    pub var_99: f64,
    pub interval: (f64, f64),
    /// The study's own reserve and P(net loss > it), when the study states one.
    pub stated: Option<(f64, Estimate)>,
    /// The receivables at `as_of` (the portfolio's exposure), for the 3–5 % rule of thumb.
    pub receivables: Option<f64>,
}

/// What a policy is worth to the bank line in the month that matters most (the month a shortfall
/// is most likely, else the first).
#[derive(Debug, Clone, PartialEq)]
pub struct BankLine {
    pub policy: String,
    pub month: String,
    /// Borrowing base and facility (`min(credit line, borrowing base)`) the policy adds against no
    /// insurance, paired on the same trials.
    pub extra_base: Estimate,
    pub extra_facility: Estimate,
    /// The credit line, and how often it (not the borrowing base) limits the facility without
    /// insurance.
    pub credit_line: f64,
    pub line_binds_without: f64,
}

/// What an insurer retreat took away, when the scenario cuts limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Retreat {
    pub buyers_cut: Estimate,
    /// The policy whose cover is shown (the cheapest alternative when it is a policy, else the
    /// first policy) and the cover it lost.
    pub policy: String,
    pub cover_removed: Estimate,
    pub sales_lost: Estimate,
}

/// Who and what causes the cash shortfall without insurance (shortfall_contributions.csv).
#[derive(Debug, Clone, PartialEq)]
pub struct ShortfallCauses {
    /// The mean peak shortfall, in currency units.
    pub mean: f64,
    /// The largest peril and its share of the mean.
    pub peril: (String, f64),
    /// The largest buyers (name, share of the mean), at most three.
    pub buyers: Vec<(String, f64)>,
}

/// Every answer of one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioAnswers {
    pub scenario: String,
    pub cheapest: Cheapest,
    pub protection: Option<Protection>,
    pub shortfall: Option<Shortfall>,
    pub reserve: Reserve,
    pub bank_line: Option<BankLine>,
    pub retreat: Option<Retreat>,
    pub causes: Option<ShortfallCauses>,
}

fn total_cost(p: &PolicyResult) -> Estimate {
    Estimate::cents(p.measures[COST].mean, p.measures[COST].mean_std_error)
}

/// The policy next cheapest after `best` (a policy) and its expected total cost minus `best`'s,
/// with the paired standard error of the pair.
fn versus_next_policy(s: &ScenarioResult, best: &PolicyResult) -> Option<(String, Estimate)> {
    let at = s.policies.iter().position(|p| std::ptr::eq(p, best))?;
    let (next, pair) = s
        .policy_pairs
        .iter()
        .filter_map(|d| match (d.a == at, d.b == at) {
            (true, _) => Some((d.b, Estimate::cents(d.total_cost.diff, d.total_cost.std_error))),
            (_, true) => Some((d.a, Estimate::cents(-d.total_cost.diff, d.total_cost.std_error))),
            _ => None,
        })
        .min_by(|x, y| x.1.value.total_cmp(&y.1.value).then(x.0.cmp(&y.0)))?;
    Some((s.policies[next].name.clone(), pair))
}

/// `p`'s expected total cost minus that of `none`, with the standard error of the paired
/// difference (both on the same trials; policy_comparison.csv's `total_cost_vs_none`).
pub fn cost_versus_none(none: &PolicyResult, p: &PolicyResult) -> Estimate {
    match &p.paired {
        Some(d) => Estimate::cents(d.total_cost_vs_none.diff, d.total_cost_vs_none.std_error),
        // "none" against itself.
        None => {
            let (a, b) = (total_cost(p), total_cost(none));
            Estimate { value: a.value - b.value, se: 0.0 }
        }
    }
}

/// The answers of a scenario (its first alternative is "none").
pub fn answers(s: &ScenarioResult, study: &Study, receivables: Option<f64>) -> ScenarioAnswers {
    let units = |d: rust_decimal::Decimal| f64::try_from(d).ok();
    let reserve_stated = study.company.as_ref().and_then(|c| c.bad_debt_reserve).and_then(units);
    let credit_line = study.company.as_ref().and_then(|c| units(c.credit_line));
    let none = &s.policies[0];
    let best = s.policies.iter().min_by_key(|p| p.measures[COST].mean).unwrap_or(none);
    let best_policy = s.policies.iter().skip(1).min_by_key(|p| p.measures[COST].mean);
    let cheapest = if std::ptr::eq(best, none) {
        Cheapest {
            name: none.name.clone(),
            total_cost: total_cost(none),
            versus_none: best_policy.map(|p| cost_versus_none(none, p)),
            runner_up: best_policy.map(|p| p.name.clone()),
            versus_next_policy: None,
        }
    } else {
        Cheapest {
            name: best.name.clone(),
            total_cost: total_cost(best),
            versus_none: Some(cost_versus_none(none, best)),
            runner_up: None,
            versus_next_policy: versus_next_policy(s, best),
        }
    };
    let es = |p: &PolicyResult, m: usize| Estimate::cents(p.measures[m].es[AT_99], p.measures[m].es_std_error[AT_99]);
    let protection = s.policies.iter().skip(1).min_by_key(|p| p.measures[NET].es[AT_99]).map(|p| Protection {
        es_99_without: es(none, NET),
        policy: p.name.clone(),
        es_99_with: es(p, NET),
        premium: p.premium as f64 / 100.0,
    });
    let shortfall = none.cash.as_ref().map(|cash| {
        let peak = peak_shortfall_month(cash).and_then(|k| {
            let (m, info) = (&cash.months[k], s.months.get(k)?);
            Some((month_key(info), Estimate { value: m.p_shortfall, se: m.p_shortfall_std_error }))
        });
        let positive = |p: &PolicyResult| {
            p.cash
                .as_ref()
                .map(|c| Estimate { value: c.peak_shortfall.p_positive, se: c.peak_shortfall.p_positive_std_error })
        };
        Shortfall {
            without: positive(none).unwrap_or(Estimate { value: 0.0, se: 0.0 }),
            peak_month: peak,
            cheapest: (!std::ptr::eq(best, none)).then(|| positive(best).map(|e| (best.name.clone(), e))).flatten(),
        }
    });
    let net = &best.measures[NET];
    let reserve = Reserve {
        alternative: best.name.clone(),
        var_99: net.var[AT_99] as f64 / 100.0,
        interval: (net.var_ci[AT_99].0 as f64 / 100.0, net.var_ci[AT_99].1 as f64 / 100.0),
        stated: reserve_stated
            .zip(best.p_net_above_reserve)
            .map(|(r, share)| (r, Estimate { value: share.p, se: share.std_error })),
        receivables,
    };
    let bank_line = bank_line(s, credit_line);
    let retreat = s.retreat.as_ref().and_then(|r| {
        let index = s.policies.iter().skip(1).position(|p| p.name == best.name).unwrap_or(0);
        let cover = r.cover_removed.get(index)?;
        let cents = |f: &crate::run::retreat::Figure| Estimate { value: f.mean / 100.0, se: f.std_error / 100.0 };
        Some(Retreat {
            buyers_cut: Estimate { value: r.buyers_cut.mean, se: r.buyers_cut.std_error },
            policy: s.policies.get(index + 1)?.name.clone(),
            cover_removed: cents(cover),
            sales_lost: cents(&r.sales_lost),
        })
    });
    let causes = s.shortfall_contributions.as_ref().and_then(|c| {
        let alt = c.alternatives.first()?;
        let mean = alt.mean() as f64 / 100.0;
        if mean <= 0.0 {
            return None;
        }
        let share = |e: &crate::run::shortfall::ShortfallEntry| e.contribution as f64 / 100.0 / mean;
        let peril = crate::run::shortfall::top_entries(study, alt, "peril", 1).into_iter().next()?;
        let buyers = crate::run::shortfall::top_entries(study, alt, "buyer", 3)
            .iter()
            .filter(|e| e.key != crate::run::shortfall::RESIDUAL_KEY)
            .map(|e| (if e.name.is_empty() { e.key.clone() } else { e.name.clone() }, share(e)))
            .collect();
        Some(ShortfallCauses { mean, peril: (peril.key.replace('_', " "), share(&peril)), buyers })
    });
    ScenarioAnswers { scenario: s.name.clone(), cheapest, protection, shortfall, reserve, bank_line, retreat, causes }
}

/// The month in which a shortfall is most likely (the first on ties), if any month has one.
fn peak_shortfall_month(cash: &crate::run::PolicyCash) -> Option<usize> {
    cash.months
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.p_shortfall.total_cmp(&b.p_shortfall).then(j.cmp(i)))
        .filter(|(_, m)| m.p_shortfall > 0.0)
        .map(|(k, _)| k)
}

/// A month as `YYYY-MM`.
fn month_key(info: &crate::run::MonthInfo) -> String {
    format!("{}-{:02}", info.start.year(), info.start.month() as u8)
}

/// The policy adding the most borrowing base in the month a shortfall is most likely (else the
/// first month), with what it adds to the facility.
fn bank_line(s: &ScenarioResult, credit_line: Option<f64>) -> Option<BankLine> {
    let credit_line = credit_line?;
    let none = s.policies[0].cash.as_ref()?;
    let k = peak_shortfall_month(none).unwrap_or(0);
    let info = s.months.get(k)?;
    let (policy, month) = s
        .policies
        .iter()
        .skip(1)
        .filter_map(|p| Some((p, p.cash.as_ref()?.months.get(k)?)))
        .max_by_key(|(_, m)| m.extra_borrowing_base.map_or(i128::MIN, |e| e.0))?;
    let estimate = |e: Option<(i128, f64)>| e.map(|(v, se)| Estimate::cents(v, se));
    Some(BankLine {
        policy: policy.name.clone(),
        month: month_key(info),
        extra_base: estimate(month.extra_borrowing_base)?,
        extra_facility: estimate(month.extra_facility)?,
        credit_line,
        line_binds_without: none.months[k].p_line_binds,
    })
}

/// An amount with its error in compact form: `2.32 M EUR (± 0.03 M)`.
fn amount(e: Estimate, currency: &str) -> String {
    let (v, se) = compact(e.value, e.se);
    format!("{v} {currency} (± {se})")
}

fn probability(e: Estimate) -> String {
    let (v, se) = percent_with_error(e.value, e.se);
    format!("{v} (± {se})")
}

/// A probability with its error inside parentheses already: `0.94 % ± 0.07 %`.
fn probability_inline(e: Estimate) -> String {
    let (v, se) = percent_with_error(e.value, e.se);
    format!("{v} ± {se}")
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `2027-02` as `February 2027`.
fn month_name(month: &str) -> String {
    let (year, m) = month.split_once('-').unwrap_or((month, ""));
    match m.parse::<usize>() {
        Ok(m @ 1..=12) => format!("{} {year}", MONTHS[m - 1]),
        _ => month.to_owned(),
    }
}

impl ScenarioAnswers {
    /// Which alternative costs least, in one sentence.
    pub fn cost_sentence(&self, currency: &str) -> String {
        let c = &self.cheapest;
        let noise = |d: &Estimate| if d.significant() { "" } else { ", within the Monte Carlo noise" };
        match (&c.runner_up, &c.versus_none) {
            (Some(policy), Some(d)) => format!(
                "No insurance is cheapest: expected total cost {}; the best policy, {policy}, costs {} more{}.",
                amount(c.total_cost, currency),
                amount(*d, currency),
                noise(d)
            ),
            (None, Some(d)) => {
                let mut text = format!(
                    "{} is cheapest: expected total cost {}, {} less than no insurance{}",
                    c.name,
                    amount(c.total_cost, currency),
                    amount(Estimate { value: -d.value, se: d.se }, currency),
                    noise(d)
                );
                if let Some((next, e)) = &c.versus_next_policy {
                    text.push_str(&format!(" and {} less than {next}{}", amount(*e, currency), noise(e)));
                }
                text + "."
            }
            _ => format!("Without a policy to compare, expected total cost is {}.", amount(c.total_cost, currency)),
        }
    }

    /// How much the best policy cuts the bad tail, in one sentence.
    pub fn protection_sentence(&self, currency: &str) -> Option<String> {
        let p = self.protection.as_ref()?;
        let (premium, _) = compact(p.premium, 0.0);
        Some(format!(
            "Without insurance the worst 1 % of outcomes lose {} on average (ES 99); {} cuts that to {} for {premium} \
             {currency} of premium.",
            amount(p.es_99_without, currency),
            p.policy,
            amount(p.es_99_with, currency)
        ))
    }

    /// Whether and when cash runs short, in one sentence.
    pub fn shortfall_sentence(&self) -> Option<String> {
        let s = self.shortfall.as_ref()?;
        let mut text = format!("Cash runs short in {} of trials without insurance", probability(s.without));
        if let Some((month, p)) = &s.peak_month {
            text.push_str(&format!(", most often in {} ({})", month_name(month), probability_inline(*p)));
        }
        if let Some((name, p)) = &s.cheapest {
            text.push_str(&format!("; with {name}, in {}", probability(*p)));
        }
        text.push('.');
        Some(text)
    }

    /// What reserve covers the net loss, in one sentence.
    pub fn reserve_sentence(&self, currency: &str) -> String {
        let r = &self.reserve;
        let (v, _) = compact(r.var_99, (r.interval.1 - r.interval.0) / 3.92);
        let (lo, _) = compact(r.interval.0, (r.interval.1 - r.interval.0) / 3.92);
        let (hi, _) = compact(r.interval.1, (r.interval.1 - r.interval.0) / 3.92);
        let whose =
            if r.alternative == "none" { "without insurance".to_owned() } else { format!("with {}", r.alternative) };
        let mut text = format!(
            "A bad-debt reserve of {v} {currency} covers the net loss {whose} in 99 of 100 outcomes (VaR 99, 95 % \
             interval {lo} to {hi})"
        );
        if let Some((stated, above)) = &r.stated {
            let (s, _) = compact(*stated, 0.0);
            let covered = Estimate { value: 1.0 - above.value, se: above.se };
            text.push_str(&format!("; the study's reserve of {s} {currency} covers it in {}", probability(covered)));
        }
        if let Some(receivables) = r.receivables.filter(|&x| x > 0.0) {
            let [lo, hi] = crate::report::RESERVE_RULES_PERCENT.map(|p| compact(receivables * p as f64 / 100.0, 0.0).0);
            let [p_lo, p_hi] = crate::report::RESERVE_RULES_PERCENT;
            text.push_str(&format!(
                "; the rule of thumb of {p_lo}–{p_hi} % of receivables ({} {currency}) would hold {lo} to {hi}",
                compact(receivables, 0.0).0
            ));
        }
        text.push('.');
        text
    }

    /// What the insurance is worth to the bank line, in one sentence.
    pub fn bank_line_sentence(&self, currency: &str) -> Option<String> {
        let b = self.bank_line.as_ref()?;
        let (line, _) = compact(b.credit_line, 0.0);
        let month = month_name(&b.month);
        let base = amount(b.extra_base, currency);
        if b.extra_facility.value.abs() <= 2.0 * b.extra_facility.se.max(0.005) && b.line_binds_without > 0.5 {
            return Some(format!(
                "In {month} {} adds {base} of borrowing base, but the credit line of {line} {currency}, not the \
                 borrowing base, limits the facility in {:.0} % of trials without insurance: the policy adds no \
                 facility ({}).",
                b.policy,
                100.0 * b.line_binds_without,
                amount(b.extra_facility, currency)
            ));
        }
        Some(format!(
            "In {month} {} adds {base} of borrowing base and {} of facility under the credit line of {line} {currency}.",
            b.policy,
            amount(b.extra_facility, currency)
        ))
    }

    /// Who and what causes the shortfall, in one sentence.
    pub fn causes_sentence(&self, currency: &str) -> Option<String> {
        let c = self.causes.as_ref()?;
        let (mean, _) = compact(c.mean, 0.0);
        let mut text = format!(
            "Of the mean peak shortfall of {mean} {currency} without insurance, {:.0} % comes from {}",
            100.0 * c.peril.1,
            c.peril.0
        );
        if !c.buyers.is_empty() {
            let names: Vec<String> = c.buyers.iter().map(|(n, s)| format!("{n} ({:.0} %)", 100.0 * s)).collect();
            text.push_str(&format!("; the buyers behind most of it: {}", names.join(", ")));
        }
        text.push('.');
        Some(text)
    }

    /// What the insurer's retreat took away, in one sentence.
    pub fn retreat_sentence(&self, currency: &str) -> Option<String> {
        let r = self.retreat.as_ref()?;
        let (buyers, buyers_se) = compact(r.buyers_cut.value, r.buyers_cut.se);
        Some(format!(
            "The insurer cuts the limits of {buyers} buyers (± {buyers_se}) on average: {} loses {} of cover, and {} of \
             sales are turned away because the seller ships only within the cut limits.",
            r.policy,
            amount(r.cover_removed, currency),
            amount(r.sales_lost, currency)
        ))
    }

    /// The terminal's closing lines: the same answers, tersely — the scenario's name, then one
    /// answer a line, indented, wrapped to `width` columns.
    pub fn lines(&self, currency: &str, width: usize) -> Vec<String> {
        let mut lines = vec![format!("{}:", self.scenario)];
        let options = textwrap::Options::new(width)
            .initial_indent("  ")
            .subsequent_indent("    ")
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(false);
        for part in self.parts(currency) {
            lines.extend(textwrap::wrap(&part, &options).into_iter().map(|l| l.into_owned()));
        }
        lines
    }

    /// The answers of [`Self::lines`], one string each.
    fn parts(&self, currency: &str) -> Vec<String> {
        let c = &self.cheapest;
        let (cost, cost_se) = compact(c.total_cost.value, c.total_cost.se);
        let mut parts = vec![format!("cheapest {} at {cost} {currency} (± {cost_se})", c.name)];
        match (&c.runner_up, &c.versus_none) {
            (Some(policy), Some(d)) => {
                let (v, se) = compact(d.value, d.se);
                parts[0].push_str(&format!(", {v} (± {se}) less than the best policy, {policy}"));
            }
            (None, Some(d)) => {
                let (v, se) = compact(-d.value, d.se);
                parts[0].push_str(&format!(", {v} (± {se}) less than no insurance"));
                if let Some((next, e)) = &c.versus_next_policy {
                    let (v, se) = compact(e.value, e.se);
                    parts[0].push_str(&format!(" and {v} (± {se}) less than {next}"));
                }
            }
            _ => {}
        }
        if let Some(p) = &self.protection {
            let (without, _) = compact(p.es_99_without.value, p.es_99_without.se);
            let (with, se) = compact(p.es_99_with.value, p.es_99_with.se);
            let (premium, _) = compact(p.premium, 0.0);
            parts.push(format!(
                "ES 99 {without} without insurance, {with} (± {se}) with {} for {premium} of premium",
                p.policy
            ));
        }
        if let Some(s) = &self.shortfall {
            let mut text = format!("P(shortfall) {}", probability(s.without));
            if let Some((month, _)) = &s.peak_month {
                text.push_str(&format!(" peaking in {}", month_name(month)));
            }
            if let Some((name, p)) = &s.cheapest {
                text.push_str(&format!(", {} with {name}", probability(*p)));
            }
            parts.push(text);
        }
        let r = &self.reserve;
        let (var, _) = compact(r.var_99, (r.interval.1 - r.interval.0) / 3.92);
        parts.push(format!("reserve for 99 %: {var} ({})", r.alternative));
        if let Some(b) = &self.bank_line {
            let (base, _) = compact(b.extra_base.value, b.extra_base.se);
            let (facility, se) = compact(b.extra_facility.value, b.extra_facility.se);
            let binds = if b.line_binds_without > 0.5 { ", the credit line binds" } else { "" };
            parts.push(format!(
                "{} adds {base} of borrowing base and {facility} (± {se}) of facility in {}{binds}",
                b.policy,
                month_name(&b.month)
            ));
        }
        parts
    }
}
