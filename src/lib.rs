//! # arstress
//!
//! Monte Carlo stress testing of trade receivables protected (or not) by trade credit insurance.
//!
//! Data flows one way: input files ([`input`]) -> validated model ([`model`]) -> compiled plan of flat
//! arrays ([`plan`]) -> trials ([`engine`], settling claims with [`claims`]) -> per-trial outcomes ->
//! statistics ([`stats`]) -> reports ([`report`]).
//!
//! **Determinism contract.** Every draw of trial `t` is addressed by `(seed, t, purpose, entity, index)` ([`rng::TrialKey`]).
//! Money inside a trial is whole cents in `i64`, sums over trials are exact `i128`, so every report is
//! byte-identical for any thread count.

pub mod analytic;
pub mod atomic;
pub mod calendar;
pub mod claims;
pub mod compare;
pub mod contrib;
pub mod engine;
pub mod error;
pub mod frontier;
pub mod generate;
pub mod import;
pub mod init;
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
pub mod resume;
pub mod retreat;
pub mod rng;
pub mod run;
pub mod shard;
pub mod shortfall;
pub mod stats;
pub mod terminal;

pub use error::{Error, Result};
