//! The floor of `scripts/bench.sh`: the wall time to draw one uniform random number per buyer per
//! trial with the engine's generator (seeded per trial as the kernel is), on all cores, trials in
//! the same blocks as `run_trials`. A kernel that touches every buyer cannot beat it.
//!
//! Usage: `cargo run --release --example floor -- BUYERS TRIALS` (prints the seconds).

use arstress::rng::trial_rng;
use rand::RngExt;
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
    let total: f64 = (0..trials.div_ceil(block))
        .into_par_iter()
        .map(|b| {
            let mut acc = 0.0f64;
            for t in b * block..((b + 1) * block).min(trials) {
                let mut rng = trial_rng(1, t);
                for _ in 0..buyers {
                    acc += rng.random::<f64>();
                }
            }
            acc
        })
        .sum();
    let secs = start.elapsed().as_secs_f64();
    // Printing the sum keeps the draws from being optimised away.
    eprintln!("checksum {total:.3}");
    println!("{secs:.3}");
}
