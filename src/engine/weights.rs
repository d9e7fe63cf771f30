//! How the trials of a run are weighted: once each, or by their likelihood ratio under tail
//! sampling (in units of [`WEIGHT_UNIT`]).

use crate::plan::WEIGHT_UNIT;

/// How the trials of a run are weighted.
#[derive(Debug, Clone, Copy)]
pub enum Weights<'a> {
    /// Plain Monte Carlo: every trial counts once.
    Equal,
    /// Importance sampling: each trial's likelihood ratio in units of [`WEIGHT_UNIT`].
    Likelihood(&'a [u64]),
}

impl<'a> Weights<'a> {
    /// The weights of a run: `Equal` without likelihood ratios.
    pub fn of(weights: Option<&'a [u64]>) -> Self {
        weights.map_or(Weights::Equal, Weights::Likelihood)
    }

    /// Weight of one trial.
    pub fn unit(&self) -> u64 {
        match self {
            Weights::Equal => 1,
            Weights::Likelihood(_) => WEIGHT_UNIT,
        }
    }

    /// Weight of trial `i`, in units of [`Weights::unit`].
    #[inline]
    pub fn weight(&self, i: usize) -> u64 {
        match self {
            Weights::Equal => 1,
            Weights::Likelihood(w) => w[i],
        }
    }
}
