//! The dunning ladder (`ladder = [{ days, action, pay_probability, fee }, …]`), read the same way
//! in study.toml's `[collections]` and in a scenario's `[payment]`.

use super::check::Check;
use super::num::Num;
use crate::model::{DEFAULT_AGENCY_FEE, DunningAction, LadderStep};
use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

/// Longest wait for a step, in days after the due date.
pub const LADDER_DAYS_MAX: i64 = 3650;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    days: Spanned<i64>,
    action: Spanned<String>,
    pay_probability: Option<Spanned<f64>>,
    fee: Option<Spanned<Num>>,
}

/// Checks a ladder given at `key`: whole days in 1..=3650, strictly increasing; a known action;
/// a probability in [0, 1]; a fee in [0, 1) on the agency step only; at most one agency step.
pub(super) fn ladder(c: &mut Check, key: &str, raw: &Spanned<Vec<Spanned<RawStep>>>) -> Vec<LadderStep> {
    let mut steps = Vec::with_capacity(raw.get_ref().len());
    let mut last = 0i64;
    let mut agencies = 0;
    for (i, step) in raw.get_ref().iter().enumerate() {
        let at = format!("{key}[{i}]");
        let r = step.get_ref();
        let days = *r.days.get_ref();
        if !(1..=LADDER_DAYS_MAX).contains(&days) || days <= last {
            c.bad(
                &format!("{at}.days"),
                &r.days,
                days.to_string(),
                format!("a whole number of days after the due date in 1..={LADDER_DAYS_MAX}, above the step before"),
            );
        }
        last = last.max(days);
        let Some(action) = DunningAction::parse(r.action.get_ref()) else {
            c.bad(&format!("{at}.action"), &r.action, r.action.get_ref().clone(), DunningAction::NAMES.join(", "));
            continue;
        };
        let pay_probability = c.float(
            &format!("{at}.pay_probability"),
            &r.pay_probability,
            action.default_pay_probability(),
            super::check::unit,
            "a probability in [0, 1]",
        );
        let fee = match (&r.fee, action) {
            (None, DunningAction::Agency) => DEFAULT_AGENCY_FEE,
            (None, _) => Decimal::ZERO,
            (Some(f), DunningAction::Agency) if f.get_ref().0 >= Decimal::ZERO && f.get_ref().0 < Decimal::ONE => {
                f.get_ref().0
            }
            (Some(f), a) => {
                let expected = if a == DunningAction::Agency {
                    "the agency's share of what it collects, in [0, 1)"
                } else {
                    "no fee: only an agency step keeps one"
                };
                c.bad(&format!("{at}.fee"), f, f.get_ref().to_string(), expected);
                Decimal::ZERO
            }
        };
        if action == DunningAction::Agency {
            agencies += 1;
            if agencies > 1 {
                c.bad(&format!("{at}.action"), &r.action, "agency".to_owned(), "at most one agency step");
            }
        }
        steps.push(LadderStep { days: days.clamp(1, LADDER_DAYS_MAX) as u32, action, pay_probability, fee });
    }
    steps
}
