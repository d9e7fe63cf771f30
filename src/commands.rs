//! The commands on top of the pipeline, beside `run` ([`crate::run`]): comparing runs, the policy
//! frontier, generating and initialising studies, importing ledgers.

pub mod compare;
pub mod frontier;
pub mod generate;
pub mod import;
pub mod init;
