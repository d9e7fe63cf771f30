//! Sharded runs (SPEC §9): `run --shard i/n` simulates the trial range `[⌊i·N/n⌋, ⌊(i+1)·N/n⌋)`
//! of every selected scenario and writes the outcome rows to a shard folder with a manifest;
//! `merge` checks that a set of shards belongs to one run and covers `[0, N)` exactly once, then
//! joins them into the outcomes a single run would have produced (trial `t` always uses key
//! `(seed, t)`), so the reports are byte-identical.

use crate::engine::Outcomes;
use crate::engine::buyer_sums::BuyerSums;
use crate::error::Error;
use crate::model::Study;
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Name of a shard folder's manifest.
pub const SHARD_MANIFEST: &str = "shard.json";
const MAGIC: &[u8; 24] = b"arstress-shard-v2\n\0\0\0\0\0\0";

/// Which part of the trials a shard runs: `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    pub index: u64,
    pub count: u64,
}

impl ShardSpec {
    /// Parses `i/n` with `0 ≤ i < n`.
    pub fn parse(s: &str) -> Result<ShardSpec, String> {
        let parsed = s.split_once('/').and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if count > 0 && index < count => Ok(ShardSpec { index, count }),
            _ => Err(format!("{s:?}: expected i/n with 0 <= i < n, e.g. 0/8 for the first of eight shards")),
        }
    }

    /// The shard's trial range out of `trials`.
    pub fn range(&self, trials: u64) -> std::ops::Range<u64> {
        let at = |i: u64| (i as u128 * trials as u128 / self.count as u128) as u64;
        at(self.index)..at(self.index + 1)
    }
}

/// One scenario's file in a shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardScenario {
    pub name: String,
    pub file: String,
    pub width: usize,
    pub sha256: String,
}

/// An input file and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInput {
    pub file: String,
    pub sha256: String,
}

/// `shard.json`: everything that must agree between the shards of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    pub tool: String,
    pub version: String,
    pub crates: String,
    pub generator: String,
    /// SHA-256 of the executable that ran the shard ([`crate::provenance::build_id`]).
    pub build: String,
    /// The study file, as given to `run` (made absolute).
    pub study: PathBuf,
    pub inputs: Vec<ShardInput>,
    pub seed: u64,
    /// Trials of the whole run.
    pub trials: u64,
    /// The tail-sampling shift, for reading; [`Self::tail_shift_bits`] is authoritative.
    pub tail_shift: Option<f64>,
    /// The shift's IEEE-754 bits (a JSON number need not read back to the same double).
    pub tail_shift_bits: Option<u64>,
    /// This shard's `i/n` and trial range.
    pub shard: String,
    pub first_trial: u64,
    pub end_trial: u64,
    pub scenarios: Vec<ShardScenario>,
}

impl ShardManifest {
    /// The tail-sampling shift, exactly as the shard ran it.
    pub fn shift(&self) -> Option<f64> {
        self.tail_shift_bits.map(f64::from_bits)
    }

    /// Same scenarios (names and row widths) and the same tail sampling as `other`.
    fn same_layout(&self, other: &ShardManifest) -> bool {
        let layout = |m: &ShardManifest| -> Vec<(String, usize)> {
            m.scenarios.iter().map(|s| (s.name.clone(), s.width)).collect()
        };
        layout(self) == layout(other) && self.tail_shift_bits == other.tail_shift_bits
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file name for a scenario: its name made safe, plus a hash so names that sanitise alike differ.
fn file_name(scenario: &str) -> String {
    let safe: String = scenario.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("{safe}-{}.outcomes", &hex(&Sha256::digest(scenario.as_bytes()))[..8])
}

/// Serialises outcome rows, per-buyer sums, per-key sums of squares and weights.
pub fn encode(out: &Outcomes) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64 + out.data.len() * 8);
    bytes.extend_from_slice(MAGIC);
    for v in [out.first_trial, out.trials as u64, out.width as u64, out.weights.is_some() as u64] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    for v in &out.data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let sums = &out.buyer_sums;
    for v in sums.gross.iter().chain(&sums.ceded).chain(&sums.squares) {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    for v in out.weights.iter().flatten() {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

/// The largest size [`encode`] gives `trials` outcome rows of `plan` (with a weight per trial):
/// the cap of an outcome file read back.
pub fn encoded_len(plan: &Plan, trials: u64) -> u64 {
    let per_trial = (plan.row_width() as u64).saturating_add(1).saturating_mul(8);
    let sums =
        (plan.n_buyers as u64 + plan.keys.len() as u64).saturating_mul(1 + plan.n_policies() as u64).saturating_mul(16);
    (MAGIC.len() as u64 + 32).saturating_add(trials.saturating_mul(per_trial)).saturating_add(sums)
}

/// Reads what [`encode`] wrote for `plan`; `None` if the bytes do not fit it.
pub fn decode(bytes: &[u8], plan: &Plan) -> Option<Outcomes> {
    let body = bytes.strip_prefix(MAGIC.as_slice())?;
    let word = |i: usize| -> Option<u64> { Some(u64::from_le_bytes(body.get(8 * i..8 * i + 8)?.try_into().ok()?)) };
    let (first_trial, trials, width) = (word(0)?, usize::try_from(word(1)?).ok()?, usize::try_from(word(2)?).ok()?);
    let weighted = match word(3)? {
        0 => false,
        1 => true,
        _ => return None,
    };
    let (buyers, policies) = (plan.n_buyers, plan.n_policies());
    if width != plan.row_width() {
        return None;
    }
    let rows = trials.checked_mul(width)?;
    let sums = buyers.checked_add(plan.keys.len())?.checked_mul(1 + policies)?;
    let weight_bytes = if weighted { trials.checked_mul(8)? } else { 0 };
    let expected =
        rows.checked_mul(8)?.checked_add(sums.checked_mul(16)?)?.checked_add(weight_bytes)?.checked_add(32)?;
    if body.len() != expected {
        return None;
    }
    let mut at = 32;
    let mut take = |n: usize| {
        let s = &body[at..at + n];
        at += n;
        s
    };
    let data = take(rows * 8).chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect();
    let mut buyer_sums = BuyerSums::of_plan(plan);
    let mut sum_values = take(sums * 16).chunks_exact(16).map(|c| i128::from_le_bytes(c.try_into().unwrap_or([0; 16])));
    for v in buyer_sums.gross.iter_mut().chain(buyer_sums.ceded.iter_mut()).chain(buyer_sums.squares.iter_mut()) {
        *v = sum_values.next()?;
    }
    let weights = weighted.then(|| {
        take(trials * 8).chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()
    });
    Some(Outcomes { first_trial, trials, n_policies: policies, width, data, buyer_sums, weights })
}

/// The files of a shard folder: each scenario's outcomes and `shard.json`.
pub fn shard_files(
    study: &Study,
    study_path: &Path,
    seed: u64,
    trials: u64,
    spec: ShardSpec,
    tail_shift: Option<f64>,
    outcomes: &[(&Plan, Outcomes)],
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let range = spec.range(trials);
    let mut files = Vec::new();
    let mut scenarios = Vec::new();
    for (plan, out) in outcomes {
        let bytes = encode(out);
        let file = file_name(&plan.scenario);
        scenarios.push(ShardScenario {
            name: plan.scenario.clone(),
            file: file.clone(),
            width: out.width,
            sha256: hex(&Sha256::digest(&bytes)),
        });
        files.push((file, bytes));
    }
    let manifest = ShardManifest {
        tool: "arstress".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        crates: env!("ARSTRESS_CRATE_VERSIONS").into(),
        generator: crate::engine::rng::GENERATOR.into(),
        build: crate::provenance::build_id().into(),
        study: std::path::absolute(study_path).unwrap_or_else(|_| study_path.to_path_buf()),
        inputs: inputs_of(study),
        seed,
        trials,
        tail_shift,
        tail_shift_bits: tail_shift.map(f64::to_bits),
        shard: format!("{}/{}", spec.index, spec.count),
        first_trial: range.start,
        end_trial: range.end,
        scenarios,
    };
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Internal(format!("shard manifest: {e}")))?;
    json.push(b'\n');
    files.push((SHARD_MANIFEST.to_owned(), json));
    Ok(files)
}

/// The study's input files relative to the study folder, with their hashes.
pub fn inputs_of(study: &Study) -> Vec<ShardInput> {
    let base = study.inputs.first().and_then(|f| f.path.parent()).map(Path::to_path_buf).unwrap_or_default();
    study
        .inputs
        .iter()
        .map(|f| ShardInput {
            file: f.path.strip_prefix(&base).unwrap_or(&f.path).to_string_lossy().into_owned(),
            sha256: f.sha256.clone(),
        })
        .collect()
}

/// A shard folder read back: its manifest and where it is.
#[derive(Debug, Clone)]
pub struct Shard {
    pub dir: PathBuf,
    pub manifest: ShardManifest,
}

fn refuse(msg: String) -> Error {
    Error::Usage(format!("merge: {msg}"))
}

/// Reads the manifests of `dirs` and checks they form one run covering `[0, N)` exactly once.
/// Identical duplicates (same range, same file hashes) are dropped; shards are returned in
/// trial order.
pub fn check_shards(dirs: &[PathBuf]) -> Result<Vec<Shard>, Error> {
    if dirs.is_empty() {
        return Err(refuse("no shard folders given".into()));
    }
    let mut shards = Vec::with_capacity(dirs.len());
    for dir in dirs {
        crate::atomic::check_complete(dir).map_err(|e| refuse(e.to_string()))?;
        let path = dir.join(SHARD_MANIFEST);
        let bytes = crate::input::open::read_regular(&path, crate::input::open::TEXT_CAP)?;
        let manifest: ShardManifest = serde_json::from_slice(&bytes)
            .map_err(|e| refuse(format!("{}: not a shard manifest ({e})", path.display())))?;
        shards.push(Shard { dir: dir.clone(), manifest });
    }
    let first = shards[0].clone();
    for s in &shards[1..] {
        let (a, b) = (&first.manifest, &s.manifest);
        let differs = |what: &str, x: String, y: String| {
            refuse(format!(
                "{} and {} come from different runs: {what} {x} vs {y}",
                first.dir.display(),
                s.dir.display()
            ))
        };
        if a.version != b.version || a.crates != b.crates || a.generator != b.generator {
            return Err(differs(
                "version",
                format!("{} ({})", a.version, a.crates),
                format!("{} ({})", b.version, b.crates),
            ));
        }
        if a.build != b.build {
            return Err(differs(
                "executable (rerun every shard with one arstress binary)",
                format!("sha256 {}", a.build),
                format!("sha256 {}", b.build),
            ));
        }
        if a.inputs != b.inputs {
            let changed = a
                .inputs
                .iter()
                .zip(&b.inputs)
                .find(|(x, y)| x != y)
                .map_or("the list of input files differs".to_owned(), |(x, _)| {
                    format!("input file {} has another SHA-256", x.file)
                });
            return Err(refuse(format!(
                "{} and {} come from different runs: {changed}",
                first.dir.display(),
                s.dir.display()
            )));
        }
        if a.seed != b.seed {
            return Err(differs("seed", a.seed.to_string(), b.seed.to_string()));
        }
        if a.trials != b.trials {
            return Err(differs("trials", a.trials.to_string(), b.trials.to_string()));
        }
        if !a.same_layout(b) {
            let names = |m: &ShardManifest| m.scenarios.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ");
            return Err(differs("scenarios or tail sampling", names(a), names(b)));
        }
    }
    shards.sort_by_key(|s| (s.manifest.first_trial, s.manifest.end_trial));
    let mut kept: Vec<Shard> = Vec::with_capacity(shards.len());
    for s in shards {
        if let Some(last) = kept.last() {
            let (l, m) = (&last.manifest, &s.manifest);
            if (l.first_trial, l.end_trial) == (m.first_trial, m.end_trial) {
                if l.scenarios != m.scenarios {
                    return Err(refuse(format!(
                        "{} and {} hold the same trials {}..{} with different contents",
                        last.dir.display(),
                        s.dir.display(),
                        m.first_trial,
                        m.end_trial
                    )));
                }
                continue; // an identical duplicate (a retried job)
            }
            if m.first_trial < l.end_trial {
                return Err(refuse(format!(
                    "{} (trials {}..{}) overlaps {} (trials {}..{})",
                    s.dir.display(),
                    m.first_trial,
                    m.end_trial,
                    last.dir.display(),
                    l.first_trial,
                    l.end_trial
                )));
            }
        }
        let expected = kept.last().map_or(0, |l| l.manifest.end_trial);
        if s.manifest.first_trial != expected {
            return Err(refuse(format!("trials {expected}..{} are in no shard", s.manifest.first_trial)));
        }
        kept.push(s);
    }
    let end = kept.last().map_or(0, |l| l.manifest.end_trial);
    let total = kept[0].manifest.trials;
    if end != total {
        return Err(refuse(format!("trials {end}..{total} are in no shard (the run has {total} trials)")));
    }
    Ok(kept)
}

/// Joins one scenario's outcomes from the checked shards, verifying every file's hash.
pub fn join_scenario(shards: &[Shard], plan: &Plan) -> Result<Outcomes, Error> {
    let mut joined: Option<Outcomes> = None;
    for s in shards {
        let entry = s
            .manifest
            .scenarios
            .iter()
            .find(|e| e.name == plan.scenario)
            .ok_or_else(|| refuse(format!("{} has no scenario {:?}", s.dir.display(), plan.scenario)))?;
        let path = s.dir.join(&entry.file);
        let trials = s.manifest.end_trial.saturating_sub(s.manifest.first_trial);
        let bytes = crate::input::open::read_regular(&path, encoded_len(plan, trials))?;
        if hex(&Sha256::digest(&bytes)) != entry.sha256 {
            return Err(refuse(format!("{}: the file does not match its hash in shard.json", path.display())));
        }
        let out = decode(&bytes, plan)
            .filter(|o| {
                o.first_trial == s.manifest.first_trial && o.first_trial + o.trials as u64 == s.manifest.end_trial
            })
            .ok_or_else(|| refuse(format!("{}: not the outcomes of scenario {:?}", path.display(), plan.scenario)))?;
        match &mut joined {
            None => joined = Some(out),
            Some(j) => j.extend(&out),
        }
    }
    joined.ok_or_else(|| refuse("no shards".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ranges_tile_the_trials() {
        for (n, trials) in [(1u64, 10u64), (3, 3001), (7, 3001), (8, 5)] {
            let mut next = 0;
            for i in 0..n {
                let r = ShardSpec { index: i, count: n }.range(trials);
                assert_eq!(r.start, next);
                next = r.end;
            }
            assert_eq!(next, trials);
        }
        assert!(ShardSpec::parse("3/3").is_err());
        assert!(ShardSpec::parse("x/2").is_err());
        assert_eq!(ShardSpec::parse("2/7"), Ok(ShardSpec { index: 2, count: 7 }));
    }
}
