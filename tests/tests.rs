//! All integration tests, linked into one test binary.

mod analytic;
mod cash;
mod claims_examples;
mod closed_forms;
mod common;
mod compare;
mod contributions;
mod country;
mod determinism;
mod files;
mod frontier;
mod golden;
mod interrupt;
mod lateness;
mod limit_cuts;
mod paired;
mod properties;
mod reports;
mod resources;
mod retreat;
mod shards;
mod statistical;
mod stress_levers;
mod tail_sampling;
mod terminal;
mod validation;
