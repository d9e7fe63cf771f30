//! study.toml: the input is written as study.toml into a folder (made once per process) beside the fixture's
//! buyers.csv, invoices.csv, policies.toml and scenarios/*.toml, then `load_study` reads it. A loaded study is
//! compiled into a plan per scenario. Errors are fine if they are the user's (exit code 2), never a panic or
//! an internal error.

#![no_main]

mod common;

use arstress::input::load_study;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

static DIR: OnceLock<PathBuf> = OnceLock::new();

fn study_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("arstress-fuzz-study-{}", std::process::id()));
    let scenarios = dir.join("scenarios");
    std::fs::create_dir_all(&scenarios).expect("create the study folder");
    std::fs::write(dir.join("buyers.csv"), common::BUYERS).expect("write buyers.csv");
    std::fs::write(dir.join("invoices.csv"), common::INVOICES).expect("write invoices.csv");
    std::fs::write(dir.join("policies.toml"), common::POLICIES).expect("write policies.toml");
    for (name, text) in common::SCENARIOS {
        std::fs::write(scenarios.join(name), text).expect("write a scenario");
    }
    dir
}

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(study_dir);
    let path = dir.join("study.toml");
    std::fs::write(&path, data).expect("write study.toml");
    match load_study(&path) {
        Err(e) => assert!(e.is_user_error(), "not a user error: {e:#}"),
        Ok(study) => {
            for scenario in &study.scenarios {
                if let Err(e) = arstress::plan::compile(&study, scenario) {
                    assert!(e.is_user_error(), "not a user error: {e:#}");
                }
            }
        }
    }
});
