//! `policies.toml` (SPEC §2.4): raw TOML -> validated [`Policy`] list.

use super::check::Check;
use super::num::Num;
use super::source::Source;
use crate::error::Error;
use crate::model::{MaxLiability, Policy};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeSet;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicies {
    #[serde(default)]
    policy: Vec<Spanned<RawPolicy>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: Spanned<String>,
    indemnity: Option<Spanned<Num>>,
    indemnity_discretionary: Option<Spanned<Num>>,
    indemnity_political: Option<Spanned<Num>>,
    discretionary_limit_max: Option<Spanned<Num>>,
    political_cover: Option<bool>,
    nql: Option<Spanned<Num>>,
    deductible: Option<Spanned<Num>>,
    aggregate_first_loss: Option<Spanned<Num>>,
    premium_rate: Option<Spanned<Num>>,
    minimum_premium: Option<Spanned<Num>>,
    max_liability_multiple: Option<Spanned<Num>>,
    max_liability: Option<Spanned<Num>>,
    waiting_period_days: Option<Spanned<i64>>,
    political_waiting_days: Option<Spanned<i64>>,
    insolvency_claim_days: Option<Spanned<i64>>,
    claim_payment_days: Option<Spanned<i64>>,
    named_top: Option<Spanned<i64>>,
}

/// Parses and validates a policies file. Names are unique and never "none".
pub fn load_policies(src: &Source) -> Result<Vec<Policy>, Error> {
    let raw: RawPolicies = src.parse_toml()?;
    let mut c = Check::new(src);
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (i, sp) in raw.policy.iter().enumerate() {
        let p = sp.get_ref();
        let key = |k: &str| format!("policy[{i}].{k}");
        let name = p.name.get_ref().trim().to_owned();
        if name.is_empty() || name.eq_ignore_ascii_case("none") || name.contains(',') {
            c.bad(&key("name"), &p.name, name.clone(), "a non-empty name other than \"none\", without commas");
        } else if !names.insert(name.clone()) {
            c.bad(&key("name"), &p.name, name.clone(), "a policy name used only once");
        }
        let share = |c: &mut Check, k: &str, v: &Option<Spanned<Num>>, default: Decimal| -> Decimal {
            match v {
                None => default,
                Some(s) => {
                    let x = s.get_ref().0;
                    if x < Decimal::ZERO || x > Decimal::ONE {
                        c.bad(&key(k), s, x.to_string(), "a share in [0, 1]");
                    }
                    x
                }
            }
        };
        let indemnity = share(&mut c, "indemnity", &p.indemnity, Decimal::new(90, 2));
        let indemnity_discretionary = share(&mut c, "indemnity_discretionary", &p.indemnity_discretionary, indemnity);
        let indemnity_political = share(&mut c, "indemnity_political", &p.indemnity_political, indemnity);
        let premium_rate = share(&mut c, "premium_rate", &p.premium_rate, Decimal::ZERO);
        let money = |c: &mut Check, k: &str, v: &Option<Spanned<Num>>| -> Option<Decimal> {
            v.as_ref().map(|s| {
                let x = s.get_ref().0;
                if x < Decimal::ZERO || x > crate::money::max_amount() {
                    c.bad(&key(k), s, x.to_string(), "an amount between 0 and 1e12");
                }
                x
            })
        };
        let discretionary_limit_max = money(&mut c, "discretionary_limit_max", &p.discretionary_limit_max);
        let nql = money(&mut c, "nql", &p.nql).unwrap_or_default();
        let deductible = money(&mut c, "deductible", &p.deductible).unwrap_or_default();
        let aggregate_first_loss = money(&mut c, "aggregate_first_loss", &p.aggregate_first_loss).unwrap_or_default();
        let minimum_premium = money(&mut c, "minimum_premium", &p.minimum_premium).unwrap_or_default();
        let max_liability = match (&p.max_liability_multiple, &p.max_liability) {
            (Some(m), None) => {
                let x = m.get_ref().0;
                if x <= Decimal::ZERO || x > Decimal::from(1000) {
                    c.bad(&key("max_liability_multiple"), m, x.to_string(), "a multiple of the premium in (0, 1000]");
                }
                MaxLiability::Multiple(x)
            }
            (None, Some(_)) => {
                MaxLiability::Fixed(money(&mut c, "max_liability", &p.max_liability).unwrap_or_default())
            }
            (Some(m), Some(_)) => {
                c.bad(
                    &key("max_liability"),
                    m,
                    "both keys",
                    "exactly one of `max_liability_multiple` and `max_liability`",
                );
                MaxLiability::Multiple(Decimal::ONE)
            }
            (None, None) => {
                c.bad(
                    &key("max_liability"),
                    sp,
                    "neither key",
                    "exactly one of `max_liability_multiple` and `max_liability`",
                );
                MaxLiability::Multiple(Decimal::ONE)
            }
        };
        let days = |c: &mut Check, k: &str, v: &Option<Spanned<i64>>, d: i64| c.int(&key(k), v, d, 0, 3650) as u32;
        out.push(Policy {
            name,
            indemnity,
            indemnity_discretionary,
            indemnity_political,
            discretionary_limit_max,
            political_cover: p.political_cover.unwrap_or(false),
            nql,
            deductible,
            aggregate_first_loss,
            premium_rate,
            minimum_premium,
            max_liability,
            waiting_period_days: days(&mut c, "waiting_period_days", &p.waiting_period_days, 180),
            political_waiting_days: days(&mut c, "political_waiting_days", &p.political_waiting_days, 180),
            insolvency_claim_days: days(&mut c, "insolvency_claim_days", &p.insolvency_claim_days, 60),
            claim_payment_days: days(&mut c, "claim_payment_days", &p.claim_payment_days, 30),
            named_top: p.named_top.as_ref().map(|_| c.int(&key("named_top"), &p.named_top, 1, 1, 1_000_000) as u32),
        });
    }
    c.problems.into_result()?;
    Ok(out)
}
