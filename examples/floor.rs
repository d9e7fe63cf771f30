//! The floor of `scripts/bench.sh`: the wall time to draw one 32-bit random word per buyer per
//! trial with the engine's generator, addressed as the kernel's lateness draw (Philox4x32-10, four
//! buyers a block), on all cores, trials in the same blocks as `run_trials`. A kernel that touches
//! every buyer cannot beat it.
//!
//! Usage: `cargo run --release --example floor -- BUYERS TRIALS` (prints the seconds).

use arstress::engine::rng::{Purpose, TrialKey};
use rayon::prelude::*;
use std::time::Instant;

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (buyers, trials) = match args[..] {
        [b, t] => (b, t),
        _ => {
            eprintln!("usage: floor BUYERS TRIALS");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let block = arstress::engine::BLOCK as u64;
    let total: u64 = (0..trials.div_ceil(block))
        .into_par_iter()
        .map(|b| {
            let mut acc = 0u64;
            for t in b * block..((b + 1) * block).min(trials) {
                let key = TrialKey::new(1, t);
                for quad in 0..buyers.div_ceil(4) {
                    let w = key.lanes(Purpose::Late, quad as u32);
                    acc = acc.wrapping_add(u64::from(w[0] ^ w[1] ^ w[2] ^ w[3]));
                }
            }
            acc
        })
        .reduce(|| 0, u64::wrapping_add);
    let secs = start.elapsed().as_secs_f64();
    // Printing the sum keeps the draws from being optimised away.
    eprintln!("checksum {total}");
    println!("{secs:.3}");
}
