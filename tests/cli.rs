//! Issue 19 §2, "a CLI that fits": completions for four shells, manual pages, examples in every
//! command's help, short flags, "did you mean" for a mistyped command, defaults shown once and
//! help lines under 100 characters.

use crate::common::*;

/// The commands of the binary (without `help`).
const COMMANDS: [&str; 10] =
    ["run", "validate", "init", "generate", "import", "merge", "frontier", "compare", "completions", "man"];

fn stdout_of(args: &[&str]) -> String {
    let out = arstress().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Whether a shell's syntax check must run: CI installs the shells and says so, so that the
/// check is never skipped there; elsewhere a missing shell is reported and skipped.
fn shell_available(shell: &str) -> bool {
    let found = std::process::Command::new(shell).arg("-c").arg("exit 0").status().is_ok_and(|s| s.success());
    if !found {
        assert!(std::env::var_os("ARSTRESS_REQUIRE_SHELLS").is_none(), "{shell} is required (ARSTRESS_REQUIRE_SHELLS)");
        eprintln!("{shell} not installed: its completion script is checked for content only");
    }
    found
}

/// Each shell's script parses in that shell (`bash -n`, `zsh -n`, `fish --no-execute`; PowerShell
/// has no interpreter here, so its script is checked for its registration) and knows every
/// command and the short flags.
#[test]
fn completions_for_four_shells_parse_and_know_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, check) in [
        ("bash", Some(vec!["-n"])),
        ("zsh", Some(vec!["-n"])),
        ("fish", Some(vec!["--no-execute"])),
        ("powershell", None),
    ] {
        let script = stdout_of(&["completions", shell]);
        for command in COMMANDS {
            assert!(script.contains(command), "{shell}: no {command}");
        }
        for flag in ["trials", "scenario", "threads", "out"] {
            let written = if shell == "fish" { format!("-l {flag}") } else { format!("--{flag}") };
            assert!(script.contains(&written), "{shell}: no {written}");
        }
        match check {
            Some(args) if shell_available(shell) => {
                let path = dir.path().join(format!("arstress.{shell}"));
                std::fs::write(&path, &script).unwrap();
                let out = std::process::Command::new(shell).args(&args).arg(&path).output().unwrap();
                assert!(out.status.success(), "{shell} rejects its script: {}", String::from_utf8_lossy(&out.stderr));
            }
            Some(_) => {}
            None => assert!(script.contains("Register-ArgumentCompleter -Native -CommandName 'arstress'")),
        }
    }
    // A shell that does not exist is a usage error.
    arstress().args(["completions", "tcsh"]).assert().code(2);
}

/// `man` prints the main page; `man --out` writes one page per command, each a roff page with its
/// own title and the command's options.
#[test]
fn manual_pages_for_the_program_and_every_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH arstress 1"));
    for command in COMMANDS {
        assert!(page.contains(command), "the main page lists {command}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    arstress().args(["man", "--out"]).arg(&out).assert().success();
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut want: Vec<String> = COMMANDS.iter().map(|c| format!("arstress-{c}.1")).collect();
    want.push("arstress.1".into());
    want.sort();
    assert_eq!(names, want, "one page per command and the main page, nothing else");
    let run = std::fs::read_to_string(out.join("arstress-run.1")).unwrap();
    assert!(run.contains(".TH arstress-run 1"));
    assert!(run.contains("\\-\\-target\\-rel\\-error") && run.contains("\\-n"), "run's options in its page");
}

/// Every command's help shows examples, each default once, and no line of 100 characters or more.
#[test]
fn every_help_has_examples_and_fits_100_columns() {
    let top = stdout_of(&["--help"]);
    for command in COMMANDS {
        assert!(top.contains(command), "--help lists {command}");
        let help = stdout_of(&[command, "--help"]);
        assert!(help.contains("Examples:\n  arstress "), "{command} --help has examples");
        for line in help.lines().chain(top.lines()) {
            assert!(line.chars().count() < 100, "{command} --help: {} characters: {line}", line.chars().count());
        }
        assert!(!help.contains("(default: ./study.toml)"), "{command}: the default said twice");
        assert!(help.matches("[default: study.toml]").count() <= 1, "{command}: the default said twice");
    }
}

/// `-o`, `-n`, `-j` and `-s` are `--out`, `--trials`, `--threads` and `--scenario`: the same
/// reports, byte for byte.
#[test]
fn short_flags_are_the_long_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (short, long) = (dir.path().join("short"), dir.path().join("long"));
    let study = example_study();
    arstress()
        .arg("run")
        .arg(&study)
        .args(["-n", "300", "-j", "1", "-s", "baseline", "-q", "-o"])
        .arg(&short)
        .assert()
        .success();
    arstress()
        .arg("run")
        .arg(&study)
        .args(["--trials", "300", "--threads", "1", "--scenario", "baseline", "--quiet", "--out"])
        .arg(&long)
        .assert()
        .success();
    let rows = read_csv(&short.join("summary.csv"));
    assert!(rows.iter().all(|r| r["scenario"] == "baseline" && r["trials"] == "300"), "-s and -n applied");
    for name in ["summary.csv", "policy_comparison.csv", "cashflow.csv"] {
        assert!(std::fs::read(short.join(name)).unwrap() == std::fs::read(long.join(name)).unwrap(), "{name}");
    }
}

/// A mistyped command gets the nearest one, transpositions included (clap's own similarity finds
/// `valdate` but not `rnu`); nonsense gets no guess. Exit code 2 either way.
#[test]
fn a_mistyped_command_gets_did_you_mean() {
    for (typed, meant) in [("rnu", "run"), ("valdate", "validate"), ("mrege", "merge"), ("fronteir", "frontier")] {
        let out = arstress().arg(typed).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{typed}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("'{meant}'")), "{typed}: {err}");
        assert!(out.stdout.is_empty(), "messages go to stderr");
    }
    let out = arstress().arg("xyzzy").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("did you mean"));
}

/// What the commands print — validate's summary, init's and generate's messages, run's answers,
/// compare's table — stays under 100 characters a line, results on stdout and messages on stderr
/// (the example's validate summary has a line of 117 characters unwrapped).
#[test]
fn printed_lines_fit_100_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let runs: Vec<(Vec<std::ffi::OsString>, bool)> = vec![
        (vec!["validate".into(), example_study().into()], true),
        (vec!["init".into(), d("a-study-folder").into()], false),
        (vec!["generate".into(), "40".into(), "-o".into(), d("gen").into()], false),
        (vec!["run".into(), d("gen").into(), "-n".into(), "300".into(), "-o".into(), d("r").into()], true),
        (vec!["compare".into(), d("r").into(), d("r").into(), "-o".into(), d("c").into()], true),
    ];
    for (args, results) in runs {
        let out = arstress().args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let (stdout, stderr) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
        assert_eq!(!stdout.is_empty(), results, "{args:?}: results on stdout, only for commands that have some");
        let writes = args[0] != "validate";
        assert_eq!(!stderr.is_empty(), writes, "{args:?}: says what it wrote, on stderr");
        for line in stdout.lines().chain(stderr.lines()) {
            assert!(line.chars().count() < 100, "{args:?}: {} characters: {line}", line.chars().count());
        }
    }
}
