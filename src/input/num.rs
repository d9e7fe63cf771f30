//! A TOML number kept as an exact decimal.
//!
//! TOML floats reach serde as `f64`; the shortest decimal that round-trips to that `f64` is the literal
//! the user wrote (for any literal of up to 15 significant digits), so `0.92` stays exactly `0.92`.
//! Strings such as `"1234.56"` are accepted too.

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num(pub Decimal);

impl<'de> serde::Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a finite number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(Decimal::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                if !v.is_finite() {
                    return Err(E::custom(format!("a finite number, not {v}")));
                }
                Decimal::from_str(&format!("{v}"))
                    .or_else(|_| Decimal::from_scientific(&format!("{v:e}")))
                    .map(Num)
                    .map_err(|_| E::custom(too_large(&format!("{v:e}"))))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Num, E> {
                Decimal::try_from_i128_with_scale(v, 0).map(Num).map_err(|_| E::custom(too_large(&v.to_string())))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Num, E> {
                i128::try_from(v).map_or_else(|_| Err(E::custom(too_large(&v.to_string()))), |v| self.visit_i128(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                Decimal::from_str(v.trim().replace('_', "").as_str())
                    .map(Num)
                    .map_err(|_| E::custom(format!("a decimal number, not {v:?}")))
            }
        }
        deserializer.deserialize_any(NumVisitor)
    }
}

/// The message for a number beyond what an exact decimal holds.
fn too_large(v: &str) -> String {
    format!("a number within ±7.9e28, the range of an exact decimal (amounts at most 1e12), not {v}")
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}
