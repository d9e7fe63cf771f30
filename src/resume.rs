//! `run --resume`: each finished scenario's outcome rows are kept in the report folder
//! (`.resume/<scenario>.outcomes`, with the per-buyer loss sums of the contributions) under a key of everything that determines them, so a rerun with
//! unchanged inputs reads them back instead of simulating again.
//!
//! The key hashes the arstress version, the versions of the crates that determine simulated values,
//! the generator, the executable's hash ([`crate::provenance`]), the SHA-256 of every input file, the scenario name, seed and number of trials. Any
//! change to any input file therefore recomputes every scenario (the cautious choice).

use crate::engine::Outcomes;
use crate::error::Error;
use crate::model::Study;
use crate::plan::Plan;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 24] = b"arstress-outcomes-v3\n\0\0\0";

/// Where a run keeps its finished scenarios.
#[derive(Debug, Clone)]
pub struct ResumeStore {
    dir: PathBuf,
    /// Hash of what every scenario of this run shares.
    common: String,
}

impl ResumeStore {
    /// The store of a run writing its reports to `out`.
    pub fn new(out: &Path, study: &Study, seed: u64, trials: u64) -> ResumeStore {
        let mut h = Sha256::new();
        let parts = [
            env!("CARGO_PKG_VERSION"),
            env!("ARSTRESS_CRATE_VERSIONS"),
            crate::rng::GENERATOR,
            crate::provenance::build_id(),
        ];
        for part in parts {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for f in &study.inputs {
            h.update(f.sha256.as_bytes());
            h.update([0]);
        }
        h.update(seed.to_le_bytes());
        h.update(trials.to_le_bytes());
        ResumeStore { dir: out.join(".resume"), common: hex(&h.finalize()) }
    }

    fn key(&self, scenario: &str, width: usize) -> String {
        let mut h = Sha256::new();
        h.update(self.common.as_bytes());
        h.update(scenario.as_bytes());
        h.update((width as u64).to_le_bytes());
        hex(&h.finalize())
    }

    fn path(&self, scenario: &str) -> PathBuf {
        let safe: String = scenario.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect();
        // The scenario's own hash keeps names that sanitise alike apart.
        let tag = &hex(&Sha256::digest(scenario.as_bytes()))[..8];
        self.dir.join(format!("{safe}-{tag}.outcomes"))
    }

    /// Whether a file for `scenario` is stored (it may still be of other inputs; [`Self::load`]
    /// decides). Runs count the disk space of the scenarios not stored yet.
    pub fn has(&self, scenario: &str) -> bool {
        self.path(scenario).is_file()
    }

    /// The stored outcomes of `plan`'s scenario, if they were produced under the same key.
    pub fn load(&self, plan: &Plan, trials: u64) -> Option<Outcomes> {
        let (scenario, width) = (plan.scenario.as_str(), plan.row_width());
        let bytes = std::fs::read(self.path(scenario)).ok()?;
        let key = self.key(scenario, width);
        let body = bytes.strip_prefix(MAGIC.as_slice())?.strip_prefix(key.as_bytes())?;
        crate::shard::decode(body, plan).filter(|o| o.first_trial == 0 && o.trials as u64 == trials)
    }

    /// Stores the outcomes of `scenario` (atomically: a temporary file renamed into place).
    pub fn save(&self, scenario: &str, outcomes: &Outcomes) -> Result<(), Error> {
        let mut bytes = Vec::from(MAGIC.as_slice());
        bytes.extend_from_slice(self.key(scenario, outcomes.width).as_bytes());
        bytes.extend_from_slice(&crate::shard::encode(outcomes));
        let name = self.path(scenario).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        crate::report::atomic::write_files(&self.dir, &[(name, bytes)])
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
