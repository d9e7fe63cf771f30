//! Files overwritten, mixed or written through (issue 17): report temporaries never follow a
//! planted symbolic link; one writer per report folder and a marker for a set cut short by a
//! kill; inputs never overwritten; devices and FIFOs refused by the one opener; `**` globs that do
//! not follow link loops; a resume store checked against its SHA-256; usage errors exit 2.

use crate::common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// What a child gets before it is killed: every test here expects a prompt exit.
const TIMEOUT: Duration = Duration::from_secs(60);

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("arstress")
}

/// `arstress ARGS` with a deadline and an address-space limit of 2 GiB (a file read without end
/// fails the test instead of exhausting the machine's memory); returns exit code and stderr.
fn guarded(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let (code, stderr, max_rss) = guarded_rss(args);
    // A refusal reads nothing much: a device read until the limit shows here.
    assert!(max_rss < 256 << 20, "{args:?} took {} MiB of memory: {stderr}", max_rss >> 20);
    (code, stderr)
}

/// As [`guarded`], with the child's peak resident memory in bytes.
// The child is reaped by `wait4` (which also gives its peak memory), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn guarded_rss(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, u64) {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(binary());
    // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 2 << 30, rlim_max: 2 << 30 };
            libc::setrlimit(libc::RLIMIT_AS, &limit);
            Ok(())
        });
    }
    let mut child =
        command.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    });
    let deadline = std::time::Instant::now() + TIMEOUT;
    let pid = child.id() as libc::pid_t;
    let (mut status, mut usage): (libc::c_int, libc::rusage) = (0, unsafe { std::mem::zeroed() });
    // SAFETY: wait4 on our own child with valid out-pointers.
    while unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) } == 0 {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, reader.join().unwrap(), usage.ru_maxrss as u64 * 1024)
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

fn golden_study() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/study")
}

/// A copy of `from` (a study folder) at `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

fn replace_with_symlink(path: &Path, target: &Path) {
    let _ = std::fs::remove_file(path);
    std::os::unix::fs::symlink(target, path).unwrap();
}

/// Asserts a prompt exit 2 naming `file` and "not a regular file".
fn refused_as_not_regular((code, stderr): (Option<i32>, String), file: &Path) {
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "{} not named in: {stderr}", file.display());
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

// ---- 10. One opener: devices and FIFOs are refused, not read without end --------------------

#[test]
fn a_fifo_as_study_toml_is_refused_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    copy_dir(&golden_study(), &study);
    let file = study.join("study.toml");
    std::fs::remove_file(&file).unwrap();
    mkfifo(&file);
    refused_as_not_regular(guarded(&[os("validate"), study.as_os_str()]), &file);
    refused_as_not_regular(
        guarded(&[os("run"), study.as_os_str(), os("--out"), dir.path().join("out").as_os_str()]),
        &file,
    );
}

#[test]
fn a_symlink_to_dev_zero_as_study_toml_is_refused_instead_of_exhausting_memory() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    copy_dir(&golden_study(), &study);
    let file = study.join("study.toml");
    replace_with_symlink(&file, Path::new("/dev/zero"));
    refused_as_not_regular(guarded(&[os("validate"), study.as_os_str()]), &file);
}

/// Shards 0/2 and 1/2 of the golden study; returns their folders.
fn two_shards(dir: &Path) -> Vec<PathBuf> {
    (0..2)
        .map(|i| {
            run_study(&golden_study(), &dir.join(format!("s{i}")), &["--trials", "200", "--shard", &format!("{i}/2")])
        })
        .collect()
}

fn outcome_file(shard: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(shard)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "outcomes"))
        .collect();
    files.sort();
    files.remove(0)
}

fn merge_args(shards: &[PathBuf], out: &Path) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["merge".into()];
    args.extend(shards.iter().map(|s| s.clone().into_os_string()));
    args.extend(["--out".into(), out.as_os_str().to_owned(), "--quiet".into()]);
    args
}

#[test]
fn a_shard_outcome_file_that_is_a_fifo_or_dev_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let shards = two_shards(dir.path());
    let file = outcome_file(&shards[1]);
    let out = dir.path().join("merged");
    let args = merge_args(&shards, &out);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    std::fs::remove_file(&file).unwrap();
    mkfifo(&file);
    refused_as_not_regular(guarded(&args), &file);
    replace_with_symlink(&file, Path::new("/dev/zero"));
    refused_as_not_regular(guarded(&args), &file);
    assert!(!out.join("summary.csv").exists());
}

fn resume_files(out: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(out.join(".resume"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "outcomes"))
        .collect();
    files.sort();
    files
}

#[test]
fn a_fifo_in_the_resume_store_is_refused_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_study(&golden_study(), &out, &["--trials", "200", "--resume"]);
    let file = resume_files(&out).remove(0);
    std::fs::remove_file(&file).unwrap();
    mkfifo(&file);
    let result = guarded(&[
        os("run"),
        golden_study().as_os_str(),
        os("--out"),
        out.as_os_str(),
        os("--trials"),
        os("200"),
        os("--resume"),
        os("--quiet"),
    ]);
    refused_as_not_regular(result, &file);
}

// ---- 7. Temporary report files never follow a planted symbolic link -----------------------

/// Every report name a run may write, and the probe.
const REPORTS: [&str; 15] = [
    "summary.csv",
    "quantiles.csv",
    "distribution.csv",
    "policy_comparison.csv",
    "policy_differences.csv",
    "reserve.csv",
    "contributions.csv",
    "portfolio.csv",
    "cashflow.csv",
    "shortfall_contributions.csv",
    "retreat.csv",
    "report.html",
    "report.xlsx",
    "summary.json",
    "manifest.json",
];

#[test]
fn temporary_report_files_are_not_written_through_planted_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shared");
    std::fs::create_dir_all(&out).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    // The shell's pid becomes arstress's (exec): the temporary names are planted before it starts.
    let mut child = Command::new("sh")
        .args(["-c", r#"read _ && exec "$0" run "$1" --out "$2" --trials 200 --format csv,html,json,xlsx --quiet"#])
        .arg(binary())
        .arg(golden_study())
        .arg(&out)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let names = REPORTS
        .iter()
        .map(|n| format!(".{n}.tmp-{pid}"))
        .chain([format!(".arstress-probe-{pid}"), format!(".arstress-incomplete.tmp-{pid}")]);
    for name in names {
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let deadline = std::time::Instant::now() + TIMEOUT;
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "arstress did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious", "a report was written through a planted link");
    for name in ["summary.csv", "report.html", "report.xlsx", "summary.json", "manifest.json"] {
        let meta = std::fs::symlink_metadata(out.join(name)).unwrap();
        assert!(meta.file_type().is_file(), "{name} is not a regular file: {meta:?}");
    }
}

#[test]
fn a_symlink_planted_as_the_lock_file_is_refused_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shared");
    std::fs::create_dir_all(&out).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    std::os::unix::fs::symlink(&victim, out.join(".arstress.lock")).unwrap();
    let (code, stderr) =
        guarded(&[os("run"), golden_study().as_os_str(), os("--out"), out.as_os_str(), os("--trials"), os("100")]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(".arstress.lock") && stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
}

// ---- 8. One writer per folder; a set cut short by a kill is detected -------------------------

#[test]
fn a_run_into_a_folder_locked_by_another_process_fails_naming_the_folder_and_its_pid() {
    use fs4::FileExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(out.join(".arstress.lock"))
        .unwrap();
    FileExt::try_lock(&lock).unwrap();
    (&lock).write_all(format!("{}\n", std::process::id()).as_bytes()).unwrap();
    let (code, stderr) = guarded(&[
        os("run"),
        golden_study().as_os_str(),
        os("--out"),
        out.as_os_str(),
        os("--trials"),
        os("100"),
        os("--quiet"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&out.display().to_string()), "{stderr}");
    assert!(stderr.contains(&format!("process {}", std::process::id())), "{stderr}");
    assert!(!out.join("summary.csv").exists(), "a report was written into a locked folder");
    drop(lock);
    // Released: the next run goes ahead, and leaves no lock file behind.
    run_study(&golden_study(), &out, &["--trials", "100"]);
    assert!(!out.join(".arstress.lock").exists());
}

fn compare_args(old: &Path, new: &Path, out: &Path) -> (Option<i32>, String) {
    guarded(&[os("compare"), old.as_os_str(), new.as_os_str(), os("--out"), out.as_os_str()])
}

/// `run` of the golden study with seed 2 into `out`, guarded: exit code and stderr.
fn rerun_seed_2(out: &Path) -> (Option<i32>, String) {
    let study = golden_study();
    guarded(&[
        os("run"),
        study.as_os_str(),
        os("--out"),
        out.as_os_str(),
        os("--trials"),
        os("200"),
        os("--seed"),
        os("2"),
        os("--quiet"),
    ])
}

#[test]
fn a_mixed_report_set_is_refused_by_compare_and_repaired_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_study(&golden_study(), &a, &["--trials", "200", "--seed", "1"]);
    run_study(&golden_study(), &b, &["--trials", "200", "--seed", "2"]);
    // What a run killed between two renames leaves: the marker listing its set.
    std::fs::write(b.join(".arstress-incomplete"), "summary.csv\nquantiles.csv\nmanifest.json\n").unwrap();
    let (code, stderr) = compare_args(&a, &b, &dir.path().join("cmp"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&b.display().to_string()) && stderr.contains("mixed set"), "{stderr}");
    // The next run into the folder says so and writes a complete set.
    let (code, stderr) = rerun_seed_2(&b);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("warning:") && stderr.contains("mixed set"), "{stderr}");
    assert!(!b.join(".arstress-incomplete").exists());
    let (code, stderr) = compare_args(&a, &b, &dir.path().join("cmp"));
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn merge_refuses_a_shard_folder_holding_a_mixed_set() {
    let dir = tempfile::tempdir().unwrap();
    let shards = two_shards(dir.path());
    std::fs::write(shards[0].join(".arstress-incomplete"), "shard.json\n").unwrap();
    let args = merge_args(&shards, &dir.path().join("merged"));
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (code, stderr) = guarded(&args);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&shards[0].display().to_string()) && stderr.contains("mixed set"), "{stderr}");
}

#[test]
fn a_run_killed_between_two_renames_leaves_a_marker_the_next_run_repairs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_study(&golden_study(), &out, &["--trials", "200", "--seed", "1"]);
    let mut child = Command::new(binary())
        .env("ARSTRESS_TEST_PAUSE_AFTER_FIRST_RENAME", "1")
        .arg("run")
        .arg(golden_study())
        .arg("--out")
        .arg(&out)
        .args(["--trials", "200", "--seed", "2", "--quiet"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The marker is in place before the first rename; after it the run pauses (and says so) until
    // a signal comes: kill it there.
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("paused after the first rename") {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() > 0, "the run ended without pausing");
    }
    assert!(out.join(".arstress-incomplete").exists(), "no marker during the renames");
    child.kill().unwrap();
    child.wait().unwrap();
    let (code, stderr) = compare_args(&out, &out, &dir.path().join("cmp"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("mixed set"), "{stderr}");
    let fresh = run_study(&golden_study(), &dir.path().join("fresh"), &["--trials", "200", "--seed", "2"]);
    let (code, stderr) = rerun_seed_2(&out);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("mixed set"), "{stderr}");
    assert_eq!(report_bytes(&out), report_bytes(&fresh));
    let hidden: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left behind: {hidden:?}");
}

// ---- 9. Inputs are never overwritten ---------------------------------------------------------

/// The golden study with its buyers file named like a report (portfolio.csv).
fn study_with_report_named_input(dir: &Path) -> PathBuf {
    let study = dir.join("study");
    copy_dir(&golden_study(), &study);
    std::fs::rename(study.join("buyers.csv"), study.join("portfolio.csv")).unwrap();
    let text = std::fs::read_to_string(study.join("study.toml")).unwrap();
    std::fs::write(study.join("study.toml"), text.replace("\"buyers.csv\"", "\"portfolio.csv\"")).unwrap();
    study
}

#[test]
fn run_shard_and_merge_refuse_an_out_folder_holding_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let study = study_with_report_named_input(dir.path());
    let before = std::fs::read(study.join("portfolio.csv")).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![os("run"), study.as_os_str(), os("--out"), study.as_os_str(), os("--trials"), os("100")];
        args.extend(extra.iter().map(|a| os(a)));
        guarded(&args)
    };
    for extra in [&[][..], &["--shard", "0/2"][..]] {
        let (code, stderr) = run(extra);
        assert_eq!(code, Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(&format!("--out {}", study.display())) && stderr.contains("an input"), "{stderr}");
        assert_eq!(std::fs::read(study.join("portfolio.csv")).unwrap(), before, "{extra:?} replaced an input");
    }
    // Through a symbolic link to the study folder too.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&study, &link).unwrap();
    let (code, stderr) =
        guarded(&[os("run"), study.as_os_str(), os("--out"), link.as_os_str(), os("--trials"), os("100")]);
    assert_eq!(code, Some(2), "{stderr}");
    let shards: Vec<PathBuf> = (0..2)
        .map(|i| {
            run_study(&study, &dir.path().join(format!("s{i}")), &["--trials", "100", "--shard", &format!("{i}/2")])
        })
        .collect();
    let args = merge_args(&shards, &study);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (code, stderr) = guarded(&args);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&format!("--out {}", study.display())) && stderr.contains("an input"), "{stderr}");
    assert_eq!(std::fs::read(study.join("portfolio.csv")).unwrap(), before, "merge replaced an input");
}

#[test]
fn compare_refuses_to_write_over_a_file_it_compares() {
    let dir = tempfile::tempdir().unwrap();
    let a = run_study(&golden_study(), &dir.path().join("a"), &["--trials", "100"]);
    let b = dir.path().join("b");
    copy_dir(&a, &b);
    // b's summary.csv is the file that --out's comparison.csv would replace.
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::rename(b.join("summary.csv"), out.join("comparison.csv")).unwrap();
    std::os::unix::fs::symlink(out.join("comparison.csv"), b.join("summary.csv")).unwrap();
    let before = std::fs::read(out.join("comparison.csv")).unwrap();
    let (code, stderr) = compare_args(&a, &b, &out);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&out.display().to_string()), "{stderr}");
    assert_eq!(std::fs::read(out.join("comparison.csv")).unwrap(), before);
}

#[test]
fn generate_refuses_a_folder_that_is_not_empty_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    copy_dir(&golden_study(), &study);
    let before = std::fs::read(study.join("buyers.csv")).unwrap();
    let (code, stderr) = guarded(&[os("generate"), os("5"), os("--out"), study.as_os_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&study.display().to_string()) && stderr.contains("not empty"), "{stderr}");
    assert!(stderr.contains("buyers.csv") && stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read(study.join("buyers.csv")).unwrap(), before);
    let (code, stderr) = guarded(&[os("generate"), os("5"), os("--out"), study.as_os_str(), os("--force")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_ne!(std::fs::read(study.join("buyers.csv")).unwrap(), before);
}

// ---- 17. An --out that is a file is a usage error (exit 2) -----------------------------------

#[test]
fn an_out_that_is_a_file_is_a_usage_error_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a folder").unwrap();
    let a = run_study(&golden_study(), &dir.path().join("a"), &["--trials", "100"]);
    let shards = two_shards(dir.path());
    let merge = merge_args(&shards, &file);
    let golden = golden_study();
    let commands: Vec<Vec<&std::ffi::OsStr>> = vec![
        vec![os("compare"), a.as_os_str(), a.as_os_str(), os("--out"), file.as_os_str()],
        vec![os("generate"), os("5"), os("--out"), file.as_os_str()],
        vec![os("run"), golden.as_os_str(), os("--out"), file.as_os_str(), os("--trials"), os("100")],
        merge.iter().map(|a| a.as_os_str()).collect(),
    ];
    for args in commands {
        let (code, stderr) = guarded(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&format!("--out {}", file.display())), "{args:?}: {stderr}");
        assert_eq!(std::fs::read(&file).unwrap(), b"not a folder");
    }
}

// ---- 11. `**` globs do not follow link loops; a malformed glob says so ----------------------

/// A copy of the golden study in `dir/study` whose `scenarios` key is the one pattern given.
fn golden_with_scenarios(dir: &Path, pattern: &str) -> PathBuf {
    let study = dir.join("study");
    copy_dir(&golden_study(), &study);
    let text = std::fs::read_to_string(study.join("study.toml")).unwrap();
    let start = text.find("scenarios = [").unwrap();
    let end = start + text[start..].find(']').unwrap() + 1;
    let text = format!("{}scenarios = [\"{pattern}\"]{}", &text[..start], &text[end..]);
    std::fs::write(study.join("study.toml"), text).unwrap();
    study
}

#[test]
fn a_recursive_glob_over_a_symlink_loop_finishes_with_the_scenarios_found() {
    let dir = tempfile::tempdir().unwrap();
    let study = golden_with_scenarios(dir.path(), "scenarios/**/*.toml");
    let names: Vec<String> = std::fs::read_dir(study.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // One scenario file moved one folder down; two loops back up.
    std::fs::create_dir_all(study.join("scenarios/deeper")).unwrap();
    std::fs::rename(study.join("scenarios").join(&names[0]), study.join("scenarios/deeper").join(&names[0])).unwrap();
    std::os::unix::fs::symlink("..", study.join("scenarios/a")).unwrap();
    std::os::unix::fs::symlink("..", study.join("scenarios/deeper/b")).unwrap();
    let output = assert_cmd::Command::cargo_bin("arstress")
        .unwrap()
        .arg("validate")
        .arg(&study)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().find(|l| l.starts_with("scenarios: ")).unwrap_or_default();
    assert_eq!(line.split(", ").count(), names.len(), "{stdout}");
}

#[test]
fn a_malformed_scenario_glob_says_it_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let study = golden_with_scenarios(dir.path(), "[*.toml");
    let (code, stderr) = guarded(&[os("validate"), study.as_os_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    for part in ["scenarios[0]", "[*.toml", "a valid glob pattern ("] {
        assert!(stderr.contains(part), "missing {part:?} in {stderr}");
    }
}

// ---- 13. The resume store is checked against its SHA-256 -------------------------------------

#[test]
fn an_edited_resume_file_is_recomputed_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let args = ["--trials", "300", "--seed", "5"];
    run_study(&golden_study(), &out, &[&args[..], &["--resume"]].concat());
    let fresh = run_study(&golden_study(), &dir.path().join("fresh"), &args);
    let file = resume_files(&out).remove(0);
    let mut bytes = std::fs::read(&file).unwrap();
    // Byte 2 of an 8-byte word in the middle of the outcomes: one value changes by 2^20 cents.
    let at = (bytes.len() / 2) / 8 * 8 + 2;
    bytes[at] ^= 0x10;
    std::fs::write(&file, &bytes).unwrap();
    let (code, stderr) = guarded(&[
        os("run"),
        golden_study().as_os_str(),
        os("--out"),
        out.as_os_str(),
        os("--trials"),
        os("300"),
        os("--seed"),
        os("5"),
        os("--resume"),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(stderr.contains("warning:") && stderr.contains(&name) && stderr.contains("recomputed"), "{stderr}");
    assert_eq!(report_bytes(&out), report_bytes(&fresh), "the edited outcomes reached the reports");
}
