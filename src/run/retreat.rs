//! What an insurer retreat changed in a scenario (SPEC §5.4): buyers cut, cover removed and sales
//! lost, per trial in the retreat block of the outcome rows ([`Plan::retreat_at`]), reduced here
//! to means with their Monte Carlo standard errors.

use crate::engine::Outcomes;
use crate::plan::Plan;

/// A mean over the trials with its standard error (`std_dev / √N`; under tail sampling the
/// weighted mean and its error).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    pub mean: f64,
    pub std_error: f64,
}

/// The retreat figures of one scenario; amounts in cents.
#[derive(Debug, Clone, PartialEq)]
pub struct RetreatResult {
    /// Buyers whose cut takes effect inside the horizon.
    pub buyers_cut: Figure,
    /// Sales the cuts turned away (the seller ships only within the new limit).
    pub sales_lost: Figure,
    /// Per policy (file order): the protected limits taken away, `old − cut_to × old`, summed over
    /// the buyers cut.
    pub cover_removed: Vec<Figure>,
}

/// The retreat figures of a scenario that cuts limits (`None` otherwise).
pub fn summarize(plan: &Plan, out: &Outcomes) -> Option<RetreatResult> {
    plan.cuts.as_ref()?;
    let at = plan.retreat_at();
    let w = out.weighting();
    let n = out.trials;
    let figure = |c: usize| -> Figure {
        if n == 0 {
            return Figure { mean: 0.0, std_error: 0.0 };
        }
        let u = w.unit() as f64;
        let (mut s, mut ss) = (0.0f64, 0.0f64);
        for i in 0..n {
            let x = out.row(i)[c] as f64 * w.weight(i) as f64 / u;
            s += x;
            ss += x * x;
        }
        let mean = s / n as f64;
        let var = if n > 1 { ((ss - n as f64 * mean * mean) / (n - 1) as f64).max(0.0) } else { 0.0 };
        Figure { mean, std_error: (var / n as f64).sqrt() }
    };
    Some(RetreatResult {
        buyers_cut: figure(at),
        sales_lost: figure(at + 1),
        cover_removed: (0..plan.n_policies()).map(|p| figure(at + 2 + p)).collect(),
    })
}
