//! Standard normal CDF (libm's `erfc`, accurate to an ulp) and quantile, guarded so no input can panic.

use statrs::function::erf::erfc_inv;

/// Φ(x).
#[inline]
pub fn cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// A cheap upper bound of Φ(z): `e^(−z²/2) · min(1/2, 1/(|z|√(2π)))` for z < 0 (Chernoff and
/// Mills-ratio bounds), 1 otherwise.
#[inline]
pub fn cdf_upper_bound(z: f64) -> f64 {
    if z < 0.0 {
        const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
        (-0.5 * z * z).exp() * (INV_SQRT_2PI / -z).min(0.5)
    } else {
        1.0
    }
}

/// Φ⁻¹(p); −∞ for p <= 0 and +∞ for p >= 1.
pub fn quantile(p: f64) -> f64 {
    if p <= 0.0 {
        f64::NEG_INFINITY
    } else if p >= 1.0 {
        f64::INFINITY
    } else {
        // statrs' inverse is good to ~1e-10; one Newton step on the accurate CDF polishes it.
        let x = -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p);
        let density = (-0.5 * x * x).exp() * 0.398_942_280_401_432_7;
        if density > 0.0 { x - (cdf(x) - p) / density } else { x }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((cdf(0.0) - 0.5).abs() < 1e-15);
        assert!((cdf(1.959963984540054) - 0.975).abs() < 1e-15);
        assert!((quantile(0.975) - 1.959963984540054).abs() < 1e-14);
        assert!((quantile(1e-10) + 6.361340902404056).abs() < 1e-12);
        assert_eq!(quantile(0.0), f64::NEG_INFINITY);
        for z in [-38.0, -12.0, -5.0, -2.0, -0.5, -1e-9, 0.0, 1.0] {
            assert!(cdf_upper_bound(z) >= cdf(z), "bound below Φ at {z}");
        }
        for p in [1e-8, 0.001, 0.3, 0.5, 0.9, 0.999999] {
            assert!((cdf(quantile(p)) - p).abs() <= 1e-14 * p, "round trip at {p}");
        }
    }
}
