//! Days and calendar months from the valuation date (SPEC §3).

use time::{Date, Duration};

/// The study's time grid: day 0 is `as_of`; month `k` (1-based) covers
/// `[start(k), start(k+1))` with calendar-month steps that clamp to the month's last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub as_of: Date,
    /// Day offset of the start of month k for k = 1..=H+1 (index k-1); the last entry is `H_days`.
    month_starts: Vec<i32>,
}

impl Calendar {
    pub fn new(as_of: Date, horizon_months: u32) -> Self {
        let month_starts = (0..=horizon_months).map(|k| (add_months(as_of, k) - as_of).whole_days() as i32).collect();
        Calendar { as_of, month_starts }
    }

    pub fn horizon_months(&self) -> u32 {
        (self.month_starts.len() - 1) as u32
    }

    /// Number of days in the horizon (`H_days`).
    pub fn horizon_days(&self) -> i32 {
        *self.month_starts.last().unwrap_or(&0)
    }

    /// First day of month `k` (1-based, `k <= H + 1`).
    pub fn month_start(&self, k: u32) -> i32 {
        self.month_starts[(k - 1) as usize]
    }

    /// Day offsets of the first day of months 1..=H+1 (the last is `H_days`).
    pub fn month_starts(&self) -> &[i32] {
        &self.month_starts
    }

    /// Day offsets of the first day of months 1..=H.
    pub fn sale_days(&self) -> &[i32] {
        &self.month_starts[..self.month_starts.len() - 1]
    }

    /// Start day of each policy year: one year for H <= 12, else consecutive 12-month years.
    pub fn policy_year_starts(&self) -> Vec<i32> {
        let h = self.horizon_months();
        (0..h.div_ceil(12).max(1)).map(|y| self.month_start(12 * y + 1)).collect()
    }

    /// Calendar date of a day offset.
    pub fn date(&self, day: i32) -> Date {
        self.as_of + Duration::days(day as i64)
    }
}

/// Adds calendar months, clamping to the last day of the target month.
pub fn add_months(date: Date, months: u32) -> Date {
    let total = date.year() as i64 * 12 + (date.month() as i64 - 1) + months as i64;
    let year = total.div_euclid(12) as i32;
    let month = time::Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(time::Month::January);
    let last = month.length(year);
    let day = date.day().min(last);
    Date::from_calendar_date(year, month, day).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_of_2027_match_the_claims_examples() {
        let cal = Calendar::new(date!(2027 - 01 - 01), 12);
        assert_eq!(cal.month_start(2), 31);
        assert_eq!(cal.month_start(3), 59);
        assert_eq!(cal.month_start(4), 90);
        assert_eq!(cal.horizon_days(), 365);
    }

    #[test]
    fn adding_months_clamps_to_month_end() {
        assert_eq!(add_months(date!(2027 - 01 - 31), 1), date!(2027 - 02 - 28));
        assert_eq!(add_months(date!(2028 - 01 - 31), 1), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2027 - 11 - 30), 3), date!(2028 - 02 - 29));
    }

    #[test]
    fn policy_years_split_long_horizons() {
        let cal = Calendar::new(date!(2027 - 01 - 01), 30);
        assert_eq!(cal.policy_year_starts(), vec![0, 365, 731]);
    }
}
