//! Money: `Decimal` at the edges, whole cents (`i64`) inside trials, exact rounding helpers.

use rust_decimal::{Decimal, RoundingStrategy};

/// Largest accepted amount in any currency (SPEC §3.1.12).
pub fn max_amount() -> Decimal {
    Decimal::from(1_000_000_000_000i64)
}

/// Converts an amount to whole cents of the reporting currency at `rate`, half-to-even.
/// Returns `None` if the result does not fit (callers validate sizes first).
pub fn to_cents(amount: Decimal, rate: Decimal) -> Option<i64> {
    let cents = amount.checked_mul(rate)?.checked_mul(Decimal::ONE_HUNDRED)?;
    let rounded = cents.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
    i64::try_from(rounded).ok()
}

/// Prints cents as an exact decimal with two places (`-1234.05`).
pub fn format_cents(cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `a * b / c` rounded half-to-even, for `a, b >= 0`, `c > 0`.
#[inline]
pub fn mul_div_round(a: i64, b: i64, c: i64) -> i64 {
    debug_assert!(a >= 0 && b >= 0 && c > 0);
    // Fast path in u64 (a 128-bit division is several times slower); same result.
    if let Some(num) = (a as u64).checked_mul(b as u64) {
        return round_quotient_u64(num, c as u64) as i64;
    }
    let num = a as i128 * b as i128;
    let c = c as i128;
    let (q, r) = (num / c, num % c);
    let twice = 2 * r;
    let q = if twice > c || (twice == c && q % 2 == 1) { q + 1 } else { q };
    q as i64
}

#[inline]
fn round_quotient_u64(num: u64, c: u64) -> u64 {
    let (q, r) = (num / c, num % c);
    // 2r compared with c without overflow: r >= c - r.
    if r > c - r || (r == c - r && q % 2 == 1) { q + 1 } else { q }
}

/// Fixed-point scale of rates and shares inside trials (parts per billion).
pub const PPB: i64 = 1_000_000_000;

/// A rate in `[0, 1]` as parts per billion, half-to-even; exact for decimals of up to 9 places.
pub fn rate_to_ppb(rate: Decimal) -> i64 {
    let scaled = (rate * Decimal::from(PPB)).round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
    i64::try_from(scaled).unwrap_or(PPB)
}

/// `amount × rate_ppb / 1e9`, half-to-even, for `amount, rate_ppb >= 0`.
#[inline]
pub fn apply_ppb(amount: i64, rate_ppb: i64) -> i64 {
    // A constant divisor lets the compiler replace the division by a multiplication.
    match (amount as u64).checked_mul(rate_ppb as u64) {
        Some(num) => round_quotient_u64(num, PPB as u64) as i64,
        None => mul_div_round(amount, rate_ppb, PPB),
    }
}

/// Exact quotient `sum / n` rounded half-to-even to whole cents.
pub fn mean_cents(sum: i128, n: u64) -> i128 {
    if n == 0 {
        return 0;
    }
    let n = n as i128;
    let (q, r) = (sum.div_euclid(n), sum.rem_euclid(n));
    let twice = 2 * r;
    if twice > n || (twice == n && q.rem_euclid(2) == 1) { q + 1 } else { q }
}

/// `1234567.89` -> `1,234,567.89`: thousands separators for reading, not for files.
pub fn group_thousands(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if frac.is_empty() { format!("{sign}{out}") } else { format!("{sign}{out}.{frac}") }
}

/// `t² / unit²` rounded to an integer: the square of a weighted term `t = w·x` (weight in units
/// of `unit`, `x` in cents) in cents². Exact without weights (`unit = 1`); under likelihood
/// weights the square is rounded once per trial (half up), then summed exactly, so sums of
/// squares are integers that merge in any order (the f64 square only for terms above 2⁶³).
pub fn weighted_square(t: i128, unit: u64) -> i128 {
    if unit == 1 {
        return t.saturating_mul(t);
    }
    let d = unit as i128 * unit as i128;
    match t.checked_mul(t) {
        Some(sq) if sq <= i128::MAX - d / 2 => (sq + d / 2) / d,
        _ => ((t as f64 / unit as f64).powi(2)) as i128,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn half_to_even_rounding() {
        assert_eq!(mul_div_round(5, 1, 2), 2);
        assert_eq!(mul_div_round(7, 1, 2), 4);
        assert_eq!(mul_div_round(36_000, 450_000, 600_000), 27_000);
        // The u64 fast path and the i128 path agree around the boundary.
        let big = i64::MAX / 3;
        assert_eq!(mul_div_round(big, 3, 2), ((big as i128 * 3 + 1) / 2) as i64);
        assert_eq!(apply_ppb(5, 500_000_000), 2);
        assert_eq!(apply_ppb(15, 500_000_000), 8);
        assert_eq!(apply_ppb(i64::MAX / 2, 1_000_000_000), i64::MAX / 2);
        assert_eq!(mean_cents(5, 2), 2);
        assert_eq!(mean_cents(-5, 2), -2);
        assert_eq!(mean_cents(7, 2), 4);
    }

    #[test]
    fn cents_conversion_is_exact() {
        let a = Decimal::from_str("1000.005").unwrap();
        assert_eq!(to_cents(a, Decimal::ONE), Some(100_000));
        let b = Decimal::from_str("1000.015").unwrap();
        assert_eq!(to_cents(b, Decimal::ONE), Some(100_002));
        assert_eq!(to_cents(Decimal::from(100), Decimal::from_str("0.92").unwrap()), Some(9_200));
        assert_eq!(format_cents(-105), "-1.05");
        assert_eq!(rate_to_ppb(Decimal::from_str("0.9").unwrap()), 900_000_000);
    }
}
