//! Sharded runs (SPEC §9): 1, 3 and 7 uneven shards merge into reports byte-identical to a single
//! run; `merge` refuses shards that do not make one run.

use crate::common::*;
use sha2::Digest;
use std::path::{Path, PathBuf};

const TRIALS: &str = "3001";

fn golden_study() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/study")
}

fn run_shard(out: &Path, shard: &str, extra: &[&str]) -> PathBuf {
    run_study(&golden_study(), out, &[&["--trials", TRIALS, "--shard", shard][..], extra].concat())
}

fn merge(shards: &[PathBuf], out: &Path) -> std::process::Output {
    arstress().arg("merge").args(shards).arg("--out").arg(out).arg("--quiet").output().unwrap()
}

#[test]
fn one_three_and_seven_shards_merge_into_the_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let single = run_study(&golden_study(), &dir.path().join("single"), &["--trials", TRIALS]);
    let want = report_bytes(&single);
    assert_eq!(want.len(), 9, "eight CSV reports (reserve.csv, policy_differences.csv included) and report.html");
    for n in [1, 3, 7] {
        // Shards given in reverse order: merge sorts them by trial range.
        let shards: Vec<PathBuf> = (0..n)
            .rev()
            .map(|i| run_shard(&dir.path().join(format!("s{n}-{i}")), &format!("{i}/{n}"), &["--threads", "1"]))
            .collect();
        let out = dir.path().join(format!("merged-{n}"));
        let o = merge(&shards, &out);
        assert!(o.status.success(), "{n} shards: {}", String::from_utf8_lossy(&o.stderr));
        let got = report_bytes(&out);
        assert_eq!(got.len(), want.len());
        for ((name, a), (_, b)) in got.iter().zip(&want) {
            assert!(a == b, "{name} of {n} merged shards differs from the single run");
        }
    }
}

#[test]
fn merge_refuses_shards_that_are_not_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let a0 = run_shard(&d("a0"), "0/3", &[]);
    let a1 = run_shard(&d("a1"), "1/3", &[]);
    let a2 = run_shard(&d("a2"), "2/3", &[]);
    let refused = |shards: &[PathBuf], expect: &[&str]| {
        let o = merge(shards, &d("out"));
        assert_eq!(o.status.code(), Some(2), "{shards:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        for e in expect {
            assert!(err.contains(e), "expected {e:?} in: {err}");
        }
        assert!(!d("out").join("summary.csv").exists(), "nothing written");
    };
    // A gap, at the end and in the middle.
    refused(&[a0.clone(), a1.clone()], &["trials 2000..3001 are in no shard"]);
    refused(&[a0.clone(), a2.clone()], &["trials 1000..2000 are in no shard"]);
    // An overlap: the second of seven shards against the first of three.
    let b1 = run_shard(&d("b1"), "1/7", &[]);
    refused(&[a0.clone(), b1, a1.clone(), a2.clone()], &["overlaps"]);
    // Another seed.
    let c1 = run_shard(&d("c1"), "1/3", &["--seed", "99"]);
    refused(&[a0.clone(), c1, a2.clone()], &["different runs", "seed"]);
    // A non-identical duplicate: the same range with its outcome hash changed.
    let dup = copy_shard(&a1, &d("dup"));
    let manifest = std::fs::read_to_string(dup.join("shard.json")).unwrap();
    let pos = manifest.rfind("\"sha256\": \"").unwrap() + 11; // the last scenario file's hash
    let mut tampered = manifest.clone();
    tampered.replace_range(pos..pos + 1, if &manifest[pos..pos + 1] == "0" { "1" } else { "0" });
    std::fs::write(dup.join("shard.json"), tampered).unwrap();
    refused(&[a0.clone(), a1.clone(), dup, a2.clone()], &["same trials", "different contents"]);
    // Another executable (a rebuilt binary may round differently).
    let other_build = copy_shard(&a1, &d("build"));
    let manifest = std::fs::read_to_string(other_build.join("shard.json")).unwrap();
    let pos = manifest.find("\"build\": \"").unwrap() + 10;
    let mut tampered = manifest.clone();
    tampered.replace_range(pos..pos + 1, if &manifest[pos..pos + 1] == "0" { "1" } else { "0" });
    std::fs::write(other_build.join("shard.json"), tampered).unwrap();
    refused(&[a0.clone(), other_build, a2.clone()], &["different runs", "executable"]);
    // Outcomes that the replay does not reproduce (as another math library would give), with their
    // hash made to match: an error naming the cause, not a panic.
    let odd = copy_shard(&a0, &d("odd"));
    let manifest = std::fs::read_to_string(odd.join("shard.json")).unwrap();
    let file = manifest.split("\"file\": \"").last().unwrap().split('"').next().unwrap().to_owned();
    let mut bytes = std::fs::read(odd.join(&file)).unwrap();
    let first_row = 24 + 32; // magic, then four header words
    bytes[first_row..first_row + 8].copy_from_slice(&(1i64 << 50).to_le_bytes()); // trial 0's gross loss
    std::fs::write(odd.join(&file), &bytes).unwrap();
    let old_hash = manifest.split("\"sha256\": \"").last().unwrap().split('"').next().unwrap().to_owned();
    let new_hash: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(odd.join("shard.json"), manifest.replace(&old_hash, &new_hash)).unwrap();
    let o = merge(&[odd, a1.clone(), a2.clone()], &d("odd-out"));
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not reproduce its stored outcome"));
    assert!(!d("odd-out").join("summary.csv").exists());
    // An identical duplicate (a retried job) is accepted.
    let again = run_shard(&d("again"), "1/3", &[]);
    let o = merge(&[a0, a1, again, a2], &d("ok"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(d("ok").join("summary.csv").exists());
}

/// Tail-sampled shards merge byte-identically too (the weights travel with the rows), and a study
/// whose files changed after the shards ran is refused.
#[test]
fn tail_sampled_shards_merge_and_changed_studies_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    std::fs::create_dir_all(study.join("scenarios")).unwrap();
    for e in walk(&golden_study()) {
        let rel = e.strip_prefix(golden_study()).unwrap();
        std::fs::copy(&e, study.join(rel)).unwrap();
    }
    let ts = ["--trials", TRIALS, "--tail-sampling"];
    let single = run_study(&study, &dir.path().join("single"), &ts);
    let shards: Vec<PathBuf> = (0..3)
        .map(|i| {
            run_study(&study, &dir.path().join(format!("t{i}")), &[&ts[..], &["--shard", &format!("{i}/3")]].concat())
        })
        .collect();
    let o = merge(&shards, &dir.path().join("merged"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(report_bytes(&dir.path().join("merged")), report_bytes(&single));
    let scenario = study.join("scenarios/baseline.toml");
    let text = std::fs::read_to_string(&scenario).unwrap();
    std::fs::write(&scenario, format!("{text}\n# edited after the shards ran\n")).unwrap();
    let o = merge(&shards, &dir.path().join("stale"));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("input files changed"));
}

fn copy_shard(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
    to.to_path_buf()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { files.extend(walk(&p)) } else { files.push(p) }
    }
    files
}

/// Regression (noticed in issue 17's review): `merge --out` into one of the shard folders wrote
/// the merged reports beside the shard, a folder that was then both a shard and a report set. It
/// is refused, naming the folder and the shard file, and the shard folder is left as it was.
#[test]
fn merge_refuses_to_write_into_a_shard_folder() {
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<PathBuf> =
        (0..2).map(|i| run_shard(&dir.path().join(format!("s{i}")), &format!("{i}/2"), &[])).collect();
    let listing = |d: &Path| {
        let mut names: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        names
    };
    let before = listing(&shards[1]);
    let o = merge(&shards, &shards[1]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("--out {}", shards[1].display())) && stderr.contains("shard.json"), "{stderr}");
    assert_eq!(listing(&shards[1]), before, "the shard folder is unchanged");
    // Into a folder of its own, the same shards merge.
    assert!(merge(&shards, &dir.path().join("merged")).status.success());
}

/// The collection levers of issue 20 (the dunning ladder and its agency fees, terms by grade,
/// the early-payment discount, disputes) on the example: reports byte-identical on 1 and 3 threads
/// and for 3 shards merged.
#[test]
fn collection_levers_merge_and_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let levers = [
        "--scenario",
        "collections-tightened",
        "--scenario",
        "terms-grades",
        "--scenario",
        "early-payment-discount",
        "--scenario",
        "dispute-wave",
        "--trials",
        "900",
    ];
    let run =
        |out: &str, extra: &[&str]| run_study(&example_study(), &dir.path().join(out), &[&levers[..], extra].concat());
    let one = run("one", &["--threads", "1"]);
    let three = run("three", &["--threads", "3"]);
    let want = report_bytes(&one);
    assert_eq!(report_bytes(&three), want, "1 and 3 threads");
    let shards: Vec<PathBuf> = (0..3).map(|i| run(&format!("s{i}"), &["--shard", &format!("{i}/3")])).collect();
    let o = merge(&shards, &dir.path().join("merged"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(report_bytes(&dir.path().join("merged")), want, "3 shards merged");
    let summary = std::fs::read_to_string(one.join("summary.csv")).unwrap();
    for measure in ["collection_fees", "terms_lost_margin", "discount_cost", "dilution_loss", "disputed_excluded"] {
        assert!(summary.contains(measure), "{measure} reported");
    }
}
