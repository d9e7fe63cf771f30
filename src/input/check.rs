//! Small helpers that validate spanned TOML values and collect located problems.

use super::source::Source;
use crate::error::{Problem, Problems};
use toml::Spanned;

/// Collects the problems of one TOML file.
pub struct Check<'a> {
    pub src: &'a Source,
    pub problems: Problems,
}

impl<'a> Check<'a> {
    pub fn new(src: &'a Source) -> Self {
        Check { src, problems: Problems::default() }
    }

    pub fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Records a problem at `key` located by `spanned`'s span.
    pub fn bad<T>(&mut self, key: &str, spanned: &Spanned<T>, value: impl Into<String>, expected: impl Into<String>) {
        let p = self.src.key_problem(key, spanned.span(), value, expected);
        self.problems.push(p);
    }

    /// A float that must satisfy `ok`, else a problem with `expected`.
    pub fn float(
        &mut self,
        key: &str,
        v: &Option<Spanned<f64>>,
        default: f64,
        ok: impl Fn(f64) -> bool,
        expected: &str,
    ) -> f64 {
        match v {
            None => default,
            Some(s) => {
                let x = *s.get_ref();
                if x.is_finite() && ok(x) {
                    x
                } else if !x.is_finite() {
                    self.bad(key, s, x.to_string(), format!("a finite number: {expected}"));
                    default
                } else {
                    self.bad(key, s, x.to_string(), expected);
                    default
                }
            }
        }
    }

    /// A whole number of days in `lo..=hi`.
    pub fn int(&mut self, key: &str, v: &Option<Spanned<i64>>, default: i64, lo: i64, hi: i64) -> i64 {
        match v {
            None => default,
            Some(s) => {
                let x = *s.get_ref();
                if (lo..=hi).contains(&x) {
                    x
                } else {
                    self.bad(key, s, x.to_string(), format!("a whole number in {lo}..={hi}"));
                    default
                }
            }
        }
    }
}

/// Probability in [0, 1].
pub fn unit(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}
