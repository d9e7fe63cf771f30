//! `run --resume`: each finished scenario's outcome rows are kept in the report folder
//! (`.resume/<scenario>.outcomes`, with the per-buyer loss sums of the contributions) under a key of everything that determines them, so a rerun with
//! unchanged inputs reads them back instead of simulating again. The stored bytes carry their
//! SHA-256: a file edited or damaged since is recomputed (with a warning), never trusted.
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

const MAGIC: &[u8; 24] = b"arstress-outcomes-v5\n\0\0\0";

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
            crate::engine::rng::GENERATOR,
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

    /// The stored outcomes of `plan`'s scenario, if they were produced under the same key and
    /// match their checksum. A stored file that is not a regular file (a FIFO, a device) is an
    /// error rather than read without end.
    pub fn load(&self, plan: &Plan, trials: u64) -> Result<Stored, Error> {
        let (scenario, width) = (plan.scenario.as_str(), plan.row_width());
        let path = self.path(scenario);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(Stored::Missing);
        }
        let cap = (MAGIC.len() + 128) as u64 + crate::run::shard::encoded_len(plan, trials);
        // Larger than this scenario's rows can take: another run's (replaced when stored).
        let Some(bytes) = crate::input::open::read_regular_within(&path, cap)? else { return Ok(Stored::Missing) };
        let key = self.key(scenario, width);
        let Some(rest) = bytes.strip_prefix(MAGIC.as_slice()).and_then(|b| b.strip_prefix(key.as_bytes())) else {
            // Another version's format or other inputs, seed or trials: recomputed silently.
            return Ok(Stored::Missing);
        };
        let damaged = || Stored::Damaged(path.clone());
        let Some((sum, body)) = rest.split_at_checked(64) else { return Ok(damaged()) };
        if sum != hex(&Sha256::digest(body)).as_bytes() {
            return Ok(damaged());
        }
        Ok(crate::run::shard::decode(body, plan)
            .filter(|o| o.first_trial == 0 && o.trials as u64 == trials)
            .map_or_else(damaged, Stored::Found))
    }

    /// Stores the outcomes of `scenario` (atomically: a temporary file renamed into place), with
    /// the SHA-256 of their bytes.
    pub fn save(&self, scenario: &str, outcomes: &Outcomes) -> Result<(), Error> {
        let body = crate::run::shard::encode(outcomes);
        let mut bytes = Vec::from(MAGIC.as_slice());
        bytes.extend_from_slice(self.key(scenario, outcomes.width).as_bytes());
        bytes.extend_from_slice(hex(&Sha256::digest(&body)).as_bytes());
        bytes.extend_from_slice(&body);
        let name = self.path(scenario).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        crate::atomic::write_files(&self.dir, &[(name, bytes)])
    }
}

/// What the store holds for a scenario.
#[derive(Debug)]
pub enum Stored {
    /// Outcomes of the same inputs, seed and trials, intact.
    Found(Outcomes),
    /// Nothing, or outcomes of other inputs, seed, trials or version (recomputed silently).
    Missing,
    /// A file of this key whose bytes do not match their SHA-256 (edited or damaged): recomputed,
    /// and worth a warning.
    Damaged(PathBuf),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
