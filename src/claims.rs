//! Insurance claim settlement (SPEC §5): pure functions of a trial's loss events.
//!
//! Steps 1–3 (unpaid amount `T`, date of loss, covered amount `C`) are computed by the engine per
//! event; this module applies steps 4–7: the non-qualifying loss, the indemnity percentage and the
//! deductible, then the aggregate first loss and the maximum liability consumed in date-of-loss
//! order within a policy year, and the insurer's pro-rata share of later recoveries.
//! It also names the perils a loss event can come from ([`Peril`]), which the settlement and the
//! cash path (the day a claim is paid) both read.

use crate::model::DefaultKind;
use crate::money::{apply_ppb, mul_div_round};

/// What caused a loss event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peril {
    Insolvency,
    Protracted,
    /// A late buyer paying every invoice `delay` days late: a claim where the delay exceeds the
    /// policy's waiting period (SPEC §4.3), recovered in full when the buyer pays.
    Late {
        delay: i32,
    },
    /// Payments blocked by a country event (SPEC §4.4); the transfer at its end is the recovery.
    Political,
    /// The never-collected part of a buyer's receivables overdue at `as_of` (docs/model.md,
    /// "Overdue receivables by age"): claimed as a protracted default once the waiting period has
    /// passed since its oldest due date, a claim of its own beside any other of the buyer's.
    WriteOff,
}

impl From<DefaultKind> for Peril {
    fn from(kind: DefaultKind) -> Self {
        match kind {
            DefaultKind::Insolvency => Peril::Insolvency,
            DefaultKind::Protracted => Peril::Protracted,
        }
    }
}

/// A policy's per-year terms in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// Non-qualifying loss: a covered amount `<= nql` is not paid and consumes nothing.
    pub nql: i64,
    /// Per-buyer deductible, after the indemnity percentage.
    pub deductible: i64,
    /// Aggregate first loss borne by the insured per policy year.
    pub aggregate_first_loss: i64,
    /// Maximum liability per policy year.
    pub max_liability: i64,
}

/// What is left of a policy year's first loss and maximum liability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearLedger {
    pub first_loss_left: i64,
    pub liability_left: i64,
}

impl YearLedger {
    pub fn new(terms: &Terms) -> Self {
        YearLedger { first_loss_left: terms.aggregate_first_loss, liability_left: terms.max_liability }
    }

    /// Settles one claim with covered amount `covered` (step 3) and indemnity `indemnity_ppb`
    /// (parts per billion): returns the amount paid. Claims must arrive in date-of-loss order.
    #[inline]
    pub fn settle(&mut self, terms: &Terms, covered: i64, indemnity_ppb: i64) -> i64 {
        if covered <= terms.nql {
            return 0;
        }
        let mut g = (apply_ppb(covered, indemnity_ppb) - terms.deductible).max(0);
        let absorbed = self.first_loss_left.min(g);
        self.first_loss_left -= absorbed;
        g -= absorbed;
        let pay = g.min(self.liability_left);
        self.liability_left -= pay;
        pay
    }
}

/// Settles one policy year's claims, given in date-of-loss order as `(covered, indemnity_ppb)`:
/// the amount paid on each.
pub fn settle_year(terms: &Terms, claims: &[(i64, i64)]) -> Vec<i64> {
    let mut ledger = YearLedger::new(terms);
    claims.iter().map(|&(c, q)| ledger.settle(terms, c, q)).collect()
}

/// The insurer's share of a recovery received after the date of loss: `recovery × pay / T` (step 7).
#[inline]
pub fn insurer_recovery_share(recovery: i64, paid: i64, unpaid_at_loss: i64) -> i64 {
    if unpaid_at_loss <= 0 || paid <= 0 || recovery <= 0 {
        return 0;
    }
    mul_div_round(recovery, paid, unpaid_at_loss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nql_is_a_threshold_not_a_deductible() {
        let t = Terms { nql: 1_000_000, deductible: 0, aggregate_first_loss: 0, max_liability: i64::MAX };
        assert_eq!(settle_year(&t, &[(1_000_000, 900_000_000), (1_000_001, 900_000_000)]), vec![0, 900_001]);
    }
}
