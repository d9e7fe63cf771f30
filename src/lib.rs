//! # arstress
//!
//! Monte Carlo stress testing of trade receivables protected (or not) by trade credit insurance.
//!
//! Data flows one way, and the folders read in that order (a module imports only from its own
//! stage or an earlier one):
//!
//! input files ([`input`]) -> validated model ([`model`]) -> compiled plan of flat arrays
//! ([`plan`]: the plan, its cash plan, row layout and contribution keys; settlement rules in
//! [`claims`]) -> trials ([`engine`]: the counter-based generator, kernel, driver, per-buyer sums)
//! -> per-trial outcomes -> a run's statistics ([`run`]: contributions, shortfall attribution,
//! retreat, shards, resume, the analytic method; estimators in [`stats`]) -> reports ([`report`]).
//! The other commands sit on top ([`commands`]: compare, frontier, generate, init, import);
//! [`money`], [`normal`], [`calendar`], [`atomic`], [`limits`] and [`error`] serve every stage.
//!
//! **Determinism contract.** Every draw of trial `t` is addressed by `(seed, t, purpose, entity, index)` ([`engine::rng::TrialKey`]).
//! Money inside a trial is whole cents in `i64`, sums over trials are exact `i128`, so every report is
//! byte-identical for any thread count.

pub mod atomic;
pub mod calendar;
pub mod claims;
pub mod commands;
pub mod engine;
pub mod error;
pub mod input;
pub mod interrupt;
pub mod limits;
pub mod model;
pub mod money;
pub mod normal;
pub mod plan;
pub mod portfolio_summary;
pub mod provenance;
pub mod report;
pub mod run;
pub mod stats;
pub mod terminal;

pub use error::{Error, Result};
