//! Running trials: the per-trial kernel and the parallel driver.

mod driver;
mod kernel;

pub use driver::{BLOCK, Outcomes, run_trials};
pub use kernel::{ClaimRecord, FIXED_COLUMNS, LossEvent, Peril, Scratch, date_of_loss, run_trial};
