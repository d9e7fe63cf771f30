//! The columns of a trial's outcome row, named in one place (issue 21 §4): the engine writes a
//! row through these accessors and every reader (statistics, contributions, shortfall
//! attribution, memory estimate) reads it through them, so no `FIXED_COLUMNS + 2·p` arithmetic
//! is repeated elsewhere.
//!
//! A row is: gross loss, number of defaults, overdue write-off, agency fees, discounts; then the
//! claims and the insurer's recovery share of each policy; with a cash plan, the receivables and
//! the sales of each month, then the cash and the borrowing base of each month for "none" and
//! each policy; with limit cuts, the retreat block (buyers cut, sales turned away, cover removed
//! per policy); with disputed sales, the disputes block (dilution, claims refused per policy).

/// The columns before the policies' claims.
pub const FIXED_COLUMNS: usize = 5;

/// Where each figure of a plan's outcome rows is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLayout {
    policies: usize,
    months: usize,
    retreat: bool,
    disputes: bool,
}

impl RowLayout {
    pub const GROSS: usize = 0;
    pub const DEFAULTS: usize = 1;
    pub const WRITE_OFF: usize = 2;
    pub const FEES: usize = 3;
    pub const DISCOUNTS: usize = 4;

    /// The layout of a plan with `policies` policies, `months` months of cash (0: no cash plan),
    /// and the retreat and disputes blocks when the scenario has them.
    pub fn new(policies: usize, months: usize, retreat: bool, disputes: bool) -> Self {
        RowLayout { policies, months, retreat, disputes }
    }

    /// Claims paid under policy `p` (the same in every layout).
    #[inline]
    pub const fn claims(p: usize) -> usize {
        FIXED_COLUMNS + 2 * p
    }

    /// The insurer's share of recoveries paid back under policy `p` (the same in every layout).
    #[inline]
    pub const fn share(p: usize) -> usize {
        FIXED_COLUMNS + 2 * p + 1
    }

    fn credit_end(&self) -> usize {
        FIXED_COLUMNS + 2 * self.policies
    }

    /// First of the months' receivables (then the months' sales); cash plans only.
    #[inline]
    pub fn receivables(&self) -> usize {
        self.credit_end()
    }

    /// First of the months' sales; cash plans only.
    #[inline]
    pub fn sales(&self) -> usize {
        self.credit_end() + self.months
    }

    /// First of the months' cash of alternative `q` (0: "none", `p + 1`: policy `p`), followed by
    /// its months' borrowing base; cash plans only.
    #[inline]
    pub fn cash(&self, q: usize) -> usize {
        self.credit_end() + 2 * self.months + 2 * self.months * q
    }

    /// First of the months' borrowing base of alternative `q`; cash plans only.
    #[inline]
    pub fn borrowing_base(&self, q: usize) -> usize {
        self.cash(q) + self.months
    }

    /// First column of the retreat block (present only with limit cuts).
    pub fn retreat(&self) -> usize {
        self.credit_end() + if self.months > 0 { 2 * self.months + 2 * self.months * (self.policies + 1) } else { 0 }
    }

    /// First column of the disputes block (present only with disputed sales).
    pub fn disputes(&self) -> usize {
        self.retreat() + if self.retreat { 2 + self.policies } else { 0 }
    }

    /// The claims refused for disputes under policy `p` (in the disputes block, after the
    /// dilution at [`RowLayout::disputes`]).
    pub fn refused(&self, p: usize) -> usize {
        self.disputes() + 1 + p
    }

    /// Values in a row.
    pub fn width(&self) -> usize {
        self.disputes() + if self.disputes { 1 + self.policies } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks follow each other without gaps or overlaps.
    #[test]
    fn blocks_are_contiguous() {
        let l = RowLayout::new(2, 12, true, true);
        assert_eq!((RowLayout::claims(0), RowLayout::share(1)), (5, 8));
        assert_eq!((l.receivables(), l.sales(), l.cash(0), l.borrowing_base(0)), (9, 21, 33, 45));
        assert_eq!(l.cash(2) + 24, l.retreat());
        assert_eq!((l.retreat(), l.disputes(), l.width()), (105, 109, 112));
        let plain = RowLayout::new(1, 0, false, false);
        assert_eq!((plain.retreat(), plain.disputes(), plain.width()), (7, 7, 7));
    }
}
