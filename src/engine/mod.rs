//! Running trials: the per-trial kernel and the parallel driver.

pub mod buyer_sums;
mod driver;
pub mod frontier;
mod kernel;
pub mod rng;
mod weights;

pub use crate::claims::Peril;
pub use driver::{BLOCK, Outcomes, replay_trial, run_trials};
pub use kernel::{
    CashRecord, Cause, ClaimRecord, FIXED_COLUMNS, LossEvent, Scratch, buyer_cash_effects, date_of_loss, net_loss,
    run_trial,
};
pub use weights::Weights;
