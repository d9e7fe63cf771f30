//! Figures for people: amounts rounded to what their Monte Carlo error supports, compact amounts
//! (`2.32 M`), and round axis ticks (1, 2 or 5 × 10ᵏ).

use crate::money::group_thousands;

/// The rounding unit an error of `se` supports: a power of ten that keeps the error's first two
/// significant digits (`se = 1,133` → 100; `0.034` → 0.001), never below a cent.
pub fn unit_for_error(se: f64) -> f64 {
    if !se.is_finite() || se <= 0.0 {
        return 0.01;
    }
    10f64.powf(se.log10().floor() - 1.0).max(0.01)
}

/// `value` rounded to `unit`, with thousands separators and as many decimals as the unit needs.
pub fn rounded(value: f64, unit: f64) -> String {
    let decimals = if unit >= 1.0 { 0 } else { (-unit.log10()).round().max(0.0) as usize };
    let r = if unit >= 1.0 { (value / unit).round() * unit } else { value };
    let text = format!("{:.*}", decimals, if r == 0.0 { 0.0 } else { r });
    group_thousands(&text)
}

/// `value ± se`, both rounded to what the error supports (`294,400 ± 1,100`).
pub fn with_error(value: f64, se: f64) -> (String, String) {
    let unit = unit_for_error(se);
    (rounded(value, unit), rounded(se, unit))
}

/// A large amount in thousands or millions with enough decimals for its error: `2.32 M` for
/// 2,323,630 ± 28,807; `154 k` for 154,119 ± 1,100; plain units below ten thousand.
pub fn compact(value: f64, se: f64) -> (String, String) {
    let a = value.abs().max(se.abs());
    let (scale, suffix) = if a >= 1e6 {
        (1e6, " M")
    } else if a >= 1e4 {
        (1e3, " k")
    } else {
        (1.0, "")
    };
    // One significant digit of the error; without an error, three significant digits.
    let unit = if se.is_finite() && se > 0.0 {
        // At most three significant digits of the figure: a smaller error is shown as `< unit`.
        10f64.powf(se.log10().floor()).max(if a > 0.0 { 10f64.powf(a.log10().floor() - 2.0) } else { 0.0 })
    } else if a > 0.0 {
        10f64.powf(a.log10().floor() - 2.0)
    } else {
        scale
    };
    let unit = (unit / scale).clamp(1e-3, 1.0);
    let decimals = (-unit.log10()).round().max(0.0) as usize;
    let fmt = |x: f64| format!("{}{suffix}", group_thousands(&format!("{:.*}", decimals, x / scale)));
    let error = if se > 0.0 && se < unit * scale / 2.0 { format!("< {}", fmt(unit * scale)) } else { fmt(se) };
    (fmt(value), error)
}

/// A probability in percent with decimals for its error: `0.90 %` ± `0.03 %`.
pub fn percent_with_error(p: f64, se: f64) -> (String, String) {
    let unit = if se.is_finite() && se > 0.0 { 10f64.powf((100.0 * se).log10().floor()).min(1.0) } else { 0.01 };
    let decimals = (-unit.log10()).round().clamp(0.0, 4.0) as usize;
    (format!("{:.*} %", decimals, 100.0 * p), format!("{:.*} %", decimals, 100.0 * se))
}

/// Round ticks covering `[lo, hi]`: multiples of 1, 2 or 5 × 10ᵏ, at most `max` of them (at least
/// two), the first at or below `lo` and the last at or above `hi`.
pub fn nice_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
    let max = max.max(2);
    let raw = (hi - lo) / (max - 1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let mut mantissa = 10.0;
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        let step = m * magnitude;
        if (((hi / step).ceil() - (lo / step).floor()) as usize) < max {
            mantissa = m;
            break;
        }
    }
    let step = mantissa * magnitude;
    // k × mantissa divided by an exact power of ten: 0.3, not 0.30000000000000004.
    let value = |k: i64| {
        if magnitude < 1.0 { k as f64 * mantissa / (1.0 / magnitude).round() } else { k as f64 * mantissa * magnitude }
    };
    ((lo / step).floor() as i64..=(hi / step).ceil() as i64).map(value).collect()
}

/// A tick label for an amount on an axis whose ticks are `step` apart: `2.5M`, `500k`, `0`.
pub fn tick_amount(v: f64, step: f64) -> String {
    let (scale, suffix) = if step >= 1e6 || v.abs() >= 1e6 && step >= 1e5 {
        (1e6, "M")
    } else if step >= 1e3 || v.abs() >= 1e4 && step >= 100.0 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let decimals = decimals_of(step / scale);
    let x = v / scale;
    if x.abs() < 1e-12 {
        return "0".into();
    }
    format!("{}{suffix}", group_thousands(&format!("{x:.decimals$}")))
}

/// A tick label for a probability on an axis whose ticks are `step` apart: `20%`, `2.5%`, `0.1%`.
pub fn tick_percent(p: f64, step: f64) -> String {
    format!("{:.*}%", decimals_of(100.0 * step), 100.0 * p)
}

/// The decimals that show every multiple of `step` exactly (`2.5` → 1, `0.25` → 2, `5` → 0).
fn decimals_of(step: f64) -> usize {
    (0..8)
        .find(|&d| {
            let x = step * 10f64.powi(d as i32);
            (x - x.round()).abs() < 1e-6 * x.abs().max(1.0)
        })
        .unwrap_or(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_rounded_to_two_digits_of_their_error() {
        assert_eq!(with_error(294_399.30, 1_133.31), ("294,400".into(), "1,100".into()));
        assert_eq!(with_error(1_718_832.17, 16_743.36), ("1,719,000".into(), "17,000".into()));
        // Errors below a cent still show cents: the money type has no finer unit.
        assert_eq!(with_error(12.3456, 0.0034), ("12.35".into(), "0.00".into()));
        assert_eq!(with_error(12.3456, 0.034), ("12.35".into(), "0.03".into()));
        assert_eq!(compact(2_323_630.52, 28_807.52), ("2.32 M".into(), "0.03 M".into()));
        assert_eq!(compact(154_119.0, 1_100.0), ("154 k".into(), "1 k".into()));
        assert_eq!(compact(454_596.86, 0.0).0, "455 k");
        assert_eq!(compact(3_589_966.0, 196.0), ("3.59 M".into(), "< 0.01 M".into()));
        assert_eq!(compact(1_257_952.0, 0.0).0, "1.26 M");
        assert_eq!(percent_with_error(0.009, 0.0003), ("0.90 %".into(), "0.03 %".into()));
        assert_eq!(percent_with_error(0.566, 0.0016), ("56.6 %".into(), "0.2 %".into()));
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 7.6e6, 6), vec![0.0, 2e6, 4e6, 6e6, 8e6]);
        assert_eq!(nice_ticks(0.0, 0.4423, 6), vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5]);
        assert_eq!(nice_ticks(-1.2e6, 2.6e6, 6), vec![-2e6, -1e6, 0.0, 1e6, 2e6, 3e6]);
        assert_eq!(tick_amount(2.5e6, 5e5), "2.5M");
        assert_eq!(tick_amount(2e6, 1e6), "2M");
        assert_eq!(tick_amount(500e3, 100e3), "500k");
        assert_eq!(tick_amount(0.0, 1e6), "0");
        assert_eq!(tick_percent(0.2, 0.1), "20%");
        assert_eq!(tick_percent(0.025, 0.005), "2.5%");
        // Steps of 2.5 × 10ᵏ need one more decimal than their magnitude.
        assert_eq!(tick_percent(0.0025, 0.0025), "0.25%");
        assert_eq!(tick_amount(2.5e6, 2.5e6), "2.5M");
        assert_eq!(tick_amount(7.5e6, 2.5e6), "7.5M");
    }
}
