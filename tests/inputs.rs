//! docs/inputs.md against the keys and columns the loaders accept, `arstress init`'s study, and the
//! relative links of README.md and docs/ (issue 19 §2).

use crate::common::arstress;
use arstress::error::Error;
use arstress::input::{KEY_TABLES, csv_columns, known_keys, load_study};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (file, table, key) of every key documented in docs/inputs.md: the first cell of a table row, in
/// backticks, under the `## `file`` heading and the `### `[table]`` heading(s) in effect (a heading
/// may name several tables). A file's own keys (and a CSV file's columns) have the table "".
fn documented_keys(text: &str) -> BTreeSet<(String, String, String)> {
    let ticked = |line: &str| -> Vec<String> { line.split('`').skip(1).step_by(2).map(str::to_owned).collect() };
    let mut out = BTreeSet::new();
    let mut file: Option<String> = None;
    let mut tables = vec![String::new()];
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        if let Some(h) = line.strip_prefix("## ") {
            file = ticked(h).into_iter().next();
            tables = vec![String::new()];
        } else if let Some(h) = line.strip_prefix("### ") {
            tables = ticked(h);
        } else if let (Some(f), Some(row)) = (&file, line.strip_prefix('|')) {
            let first = row.split('|').next().unwrap_or("").trim();
            if let Some(key) = first.strip_prefix('`').and_then(|k| k.strip_suffix('`')) {
                for t in &tables {
                    out.insert((f.clone(), t.clone(), key.to_owned()));
                }
            }
        }
    }
    out
}

fn code_keys() -> BTreeSet<(String, String, String)> {
    let toml = known_keys().into_iter().map(|(f, t, k)| (f.to_owned(), t.to_owned(), k.to_owned()));
    let csv = csv_columns().into_iter().map(|(f, c)| (f.to_owned(), String::new(), c.to_owned()));
    toml.chain(csv).collect()
}

#[test]
fn docs_list_every_key() {
    let text = std::fs::read_to_string(repo().join("docs/inputs.md")).unwrap();
    let docs = documented_keys(&text);
    let code = code_keys();
    let undocumented: Vec<_> = code.difference(&docs).collect();
    let unknown: Vec<_> = docs.difference(&code).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "docs/inputs.md drifted from the code.\n  in the code, not in the docs: {undocumented:?}\n  \
         in the docs, not in the code: {unknown:?}"
    );
}

/// The study of `arstress init`, written by the library into a fresh folder.
fn init_study() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    arstress::commands::init::init(dir.path()).unwrap();
    dir
}

/// The loader's own list of the keys valid in a table: set an unknown key there and read the
/// choices of its "unknown key" problem (serde's list of the table's fields).
fn loader_keys(file: &str, table: &str) -> BTreeSet<String> {
    let dir = init_study();
    let path = match file {
        "scenarios/*.toml" => "scenarios/baseline.toml",
        f => f,
    };
    let header = match table {
        "" => String::new(),
        t => format!("{}\n", t.replace('*', "US")),
    };
    std::fs::write(dir.path().join(path), format!("{header}zz_not_a_key = 1\n")).unwrap();
    let problems = match load_study(dir.path()) {
        Err(Error::Invalid(p)) => p.0,
        Err(e) => panic!("{file} {table}: {e}"),
        Ok(_) => panic!("{file} {table}: an unknown key was accepted"),
    };
    let p = problems
        .iter()
        .find(|p| p.expected.contains("valid keys here: "))
        .unwrap_or_else(|| panic!("{file} {table}: no unknown-key problem in {problems:?}"));
    assert_eq!(p.value, "zz_not_a_key", "{file} {table}");
    let list = p.expected.split("valid keys here: ").nth(1).unwrap();
    list.split(", ").map(str::to_owned).collect()
}

#[test]
fn known_keys_are_the_keys_the_loaders_accept() {
    for t in KEY_TABLES {
        let expected: BTreeSet<String> = t.keys.iter().map(|k| k.to_string()).collect();
        assert_eq!(loader_keys(t.file, t.table), expected, "keys of {} {}", t.file, t.table);
    }
}

#[test]
fn init_study_loads_without_warnings_and_has_every_column() {
    let dir = init_study();
    let study = load_study(dir.path()).unwrap();
    assert!(study.warnings.is_empty(), "{:?}", study.warnings);
    assert_eq!(study.scenarios.len(), 3);
    assert!(!study.policies.is_empty());
    for (file, column) in csv_columns() {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        assert!(header.contains(&column), "{file} lacks the column {column}");
    }
}

/// Whether `text` sets `key` on some line, active or commented out: `key = …` at the start of a
/// line or inside an inline table (after `{` or `,`), or a table header naming it (`[key]`,
/// `[[key]]`, `[parent.key.US]`).
fn sets_key(text: &str, key: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start().trim_start_matches('#').trim_start();
        let starts = |s: &str| s.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('='));
        let header = line.strip_prefix('[').and_then(|h| h.split(']').find(|p| !p.is_empty()));
        let in_header = header.is_some_and(|h| h.trim_start_matches('[').split('.').any(|part| part.trim() == key));
        in_header || starts(line) || line.split(['{', ',']).skip(1).any(|part| starts(part.trim_start()))
    })
}

#[test]
fn init_study_sets_every_known_key() {
    let files = arstress::commands::init::FILES;
    let text_of = |file: &str| -> String {
        files
            .iter()
            .filter(|(name, _)| if file == "scenarios/*.toml" { name.starts_with("scenarios/") } else { *name == file })
            .map(|(_, text)| *text)
            .collect()
    };
    let mut missing = Vec::new();
    for t in KEY_TABLES {
        let text = text_of(t.file);
        assert!(!text.is_empty(), "init writes no {}", t.file);
        // A table is set by its header (`[company]`, `# [company]`) or as its parent's key.
        if !t.table.is_empty() && !t.table.contains('*') {
            let name = t.table.trim_matches(['[', ']']);
            let last = name.rsplit('.').next().unwrap();
            if !text.contains(t.table) && !sets_key(&text, last) {
                missing.push(format!("{} {}", t.file, t.table));
            }
        }
        for key in t.keys {
            if !sets_key(&text, key) {
                missing.push(format!("{} {} {key}", t.file, t.table));
            }
        }
    }
    assert!(missing.is_empty(), "keys missing from init's study: {missing:?}");
}

#[test]
fn init_writes_a_study_that_validates_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new-study");
    arstress().arg("init").arg(&dir).assert().success();
    let out = arstress().arg("validate").arg(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning") && !stdout.contains("warning"), "{stdout}{stderr}");
    assert!(stdout.contains("is valid") || stderr.contains("is valid"), "{stdout}{stderr}");
    let reports = tmp.path().join("reports");
    arstress().arg("run").arg(&dir).args(["-n", "2000", "-q", "-o"]).arg(&reports).assert().success();
    let summary = std::fs::read_to_string(reports.join("summary.csv")).unwrap();
    for scenario in ["baseline", "recession", "largest-buyer-fails"] {
        assert!(summary.contains(scenario), "{scenario} missing from summary.csv");
    }
}

#[test]
fn init_refuses_a_folder_that_is_not_empty_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let out = arstress().arg("init").arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not empty") && stderr.contains("notes.txt") && stderr.contains("--force"), "{stderr}");
    assert!(!tmp.path().join("study.toml").exists());
    arstress().arg("init").arg(tmp.path()).arg("--force").assert().success();
    assert!(tmp.path().join("study.toml").is_file() && tmp.path().join("scenarios/baseline.toml").is_file());
    assert_eq!(std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(), "mine");
}

/// The targets of the inline links `](target)` of a Markdown text, outside code.
fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        for part in line.split("](").skip(1) {
            if let Some(end) = part.find(')') {
                out.push(part[..end].to_owned());
            }
        }
    }
    out
}

/// GitHub's anchors of a Markdown text's headings: lower case, letters, digits, `-` and `_` kept,
/// spaces turned into `-`, a repeated anchor numbered (`-1`, `-2`, …).
fn heading_anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let Some(title) = line.strip_prefix('#').filter(|_| !fenced).map(|t| t.trim_start_matches('#')) else {
            continue;
        };
        let slug: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut anchor = slug.clone();
        let mut n = 0;
        while !out.insert(anchor.clone()) {
            n += 1;
            anchor = format!("{slug}-{n}");
        }
    }
    out
}

#[test]
fn relative_links_in_readme_and_docs_point_into_the_repository() {
    let root = repo().canonicalize().unwrap();
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(&root).unwrap_or(Path::new("?")).display().to_string();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let resolved = if path.is_empty() { file.clone() } else { file.parent().unwrap().join(path) };
            let Some(found) = resolved.canonicalize().ok().filter(|p| p.starts_with(&root)) else {
                broken.push(format!("{name}: {target}"));
                continue;
            };
            // An anchor into a Markdown file names one of its headings.
            if !anchor.is_empty() && found.extension().is_some_and(|e| e == "md") {
                let anchors = heading_anchors(&std::fs::read_to_string(&found).unwrap());
                if !anchors.contains(anchor) {
                    broken.push(format!("{name}: {target} (no such heading)"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "links to nothing in the repository: {broken:?}");
}

/// A line of init's study commented out as an example (`# key = value`, `# [table]`), uncommented.
fn uncommented(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("# ")?;
    let key: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
    let is_key = !key.is_empty() && rest[key.len()..].trim_start().starts_with('=');
    (rest.starts_with('[') || is_key).then_some(rest)
}

/// Every example init comments out is valid as written: uncommented (all but `max_liability`,
/// the alternative to the `max_liability_multiple` beside it), the study still loads.
#[test]
fn init_examples_commented_out_are_valid_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut uncommented_keys = 0;
    for (name, text) in arstress::commands::init::FILES {
        let lines: Vec<&str> = text
            .lines()
            .map(|line| match uncommented(line) {
                Some(l) if !l.starts_with("max_liability ") => {
                    uncommented_keys += 1;
                    l
                }
                _ => line,
            })
            .collect();
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }
    assert!(uncommented_keys >= 15, "only {uncommented_keys} lines uncommented");
    let study = load_study(dir.path()).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(study.company.is_some(), "[company] uncommented");
    assert!(study.policies.iter().all(|p| p.named_top.is_some() && p.discretionary_limit_max.is_some()));
    let baseline = study.scenarios.iter().find(|s| s.name == "baseline").unwrap();
    assert!(baseline.stress.systematic_quantile.is_some() && baseline.stress.limit_cuts.share > 0.0);
    assert!(baseline.country_risk.countries.contains_key("US"));
}

/// The values init writes as defaults are the loaders' defaults: its baseline equals a scenario of
/// no keys, and its policy one of only the keys without a default (the premium rate, 0 by
/// default, is set to an example so that the policy costs something).
#[test]
fn init_defaults_are_the_loaders_defaults() {
    let dir = init_study();
    std::fs::write(dir.path().join("scenarios/zz-defaults.toml"), "name = \"defaults\"\n").unwrap();
    let policies = dir.path().join("policies.toml");
    let mut text = std::fs::read_to_string(&policies).unwrap();
    text.push_str("\n[[policy]]\nname = \"defaults\"\nmax_liability_multiple = 30\npremium_rate = 0.0025\n");
    std::fs::write(&policies, text).unwrap();
    let study = load_study(dir.path()).unwrap();
    assert_eq!((study.trials, study.seed), (arstress::input::DEFAULT_TRIALS, 0));
    let scenario = |name: &str| study.scenarios.iter().find(|s| s.name == name).unwrap().clone();
    let (mut baseline, defaults) = (scenario("baseline"), scenario("defaults"));
    (baseline.name, baseline.description, baseline.file) =
        (defaults.name.clone(), String::new(), defaults.file.clone());
    assert_eq!(baseline, defaults);
    let [written, plain] = &study.policies[..] else { panic!("two policies") };
    let mut written = written.clone();
    written.name = plain.name.clone();
    assert_eq!(&written, plain);
}
