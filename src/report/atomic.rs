//! Atomic report output: every file is written to a temporary name in the target folder and
//! renamed into place only when all files are complete, so a failed run never leaves a partial
//! report nor overwrites a good one.
//!
//! Interruption: the temporary files in flight are registered, and the renames of one set of
//! files happen under one lock. [`abandon_writes`] (called by the binary on SIGINT/SIGTERM)
//! takes that lock, so it waits for a set being renamed to be complete, removes the temporary
//! files of sets not yet renamed, and keeps the lock so that no rename starts afterwards: a
//! folder holds either its previous reports or the new ones, never a mix, and no temporary file.

use crate::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Temporary files being written (not yet renamed into place). Its lock is held while a set of
/// files is renamed.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn in_flight() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock leaves a list that is still meaningful.
    IN_FLIGHT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn forget(paths: &[PathBuf]) {
    in_flight().retain(|p| !paths.contains(p));
}

/// Creates a temporary file and registers it under the lock, so that an interruption either
/// finds it registered (and removes it) or holds the lock first (and it is never created).
fn create_registered(tmp: &Path) -> std::io::Result<std::fs::File> {
    let mut registry = in_flight();
    let file = std::fs::File::create(tmp)?;
    registry.push(tmp.to_path_buf());
    Ok(file)
}

/// Removes temporary files that a killed run (SIGKILL, the OOM killer: no handler runs) left in
/// `dir` for these report names: `.NAME.tmp-PID` whose process no longer runs (Linux; elsewhere
/// nothing is removed).
fn remove_stale_temporaries(dir: &Path, files: &[(String, Vec<u8>)]) {
    // Without /proc no process can be told dead.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = files.iter().any(|(report, _)| {
            name.strip_prefix(&format!(".{report}.tmp-"))
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists())
        });
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `files` (name, bytes) into `dir` atomically.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    remove_stale_temporaries(dir, files);
    let mut temps: Vec<PathBuf> = Vec::with_capacity(files.len());
    let cleanup = |temps: &[PathBuf]| {
        for tmp in temps {
            let _ = std::fs::remove_file(tmp);
        }
        forget(temps);
    };
    for (name, bytes) in files {
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = create_registered(&tmp).and_then(|mut f| {
            temps.push(tmp.clone());
            f.write_all(bytes)?;
            f.sync_all()
        });
        if let Err(source) = result {
            cleanup(&temps);
            return Err(Error::Write { path: tmp, source });
        }
    }
    // All complete: rename the set under the lock, so an interruption sees all or none renamed.
    let pause = rename_pause();
    let mut registry = in_flight();
    for (i, (tmp, (name, _))) in temps.iter().zip(files).enumerate() {
        if i > 0 && !pause.is_zero() {
            std::thread::sleep(pause);
        }
        let target = dir.join(name);
        if let Err(source) = std::fs::rename(tmp, &target) {
            for t in &temps[i..] {
                let _ = std::fs::remove_file(t);
            }
            registry.retain(|p| !temps.contains(p));
            return Err(Error::Write { path: target, source });
        }
    }
    registry.retain(|p| !temps.contains(p));
    drop(registry);
    sync_dir(dir);
    Ok(())
}

/// Test hook: `ARSTRESS_TEST_RENAME_PAUSE_MS` pauses between the renames of a set (still under the
/// lock), so that tests/interrupt.rs can interrupt a run in the middle of renaming its reports.
fn rename_pause() -> std::time::Duration {
    let ms = std::env::var("ARSTRESS_TEST_RENAME_PAUSE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(0u64);
    std::time::Duration::from_millis(ms.min(10_000))
}

/// Makes the renames durable where the platform allows (best effort: the reports are complete
/// either way).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// For an interruption: waits for a set of files being renamed to be complete, removes every
/// temporary file in flight, and returns the lock, which the caller keeps until the process
/// exits so that no further rename starts. Returns how many temporary files were removed.
pub fn abandon_writes() -> (MutexGuard<'static, Vec<PathBuf>>, usize) {
    let mut registry = in_flight();
    let n = registry.len();
    for tmp in registry.drain(..) {
        let _ = std::fs::remove_file(tmp);
    }
    (registry, n)
}

/// Checks before any trial runs that `dir` can be created and written to, and that its disk has
/// room for about `needed` bytes of reports (a usage error if not). The probe file written holds
/// `min(needed, 1 MiB)` bytes, so a disk already full fails here even where free space is not
/// reported.
pub fn check_writable(dir: &Path, needed: u64) -> Result<(), Error> {
    let fail =
        |e: std::io::Error| Error::Usage(format!("--out {}: the report folder is not writable: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(fail)?;
    if let Some(free) = crate::limits::free_disk_bytes(dir)
        && free < needed
    {
        return Err(Error::Usage(format!(
            "--out {}: the disk has {} free, the reports need about {}: free some space or choose another --out",
            dir.display(),
            crate::limits::bytes(free),
            crate::limits::bytes(needed)
        )));
    }
    let probe = dir.join(format!(".arstress-probe-{}", std::process::id()));
    let result = create_registered(&probe).and_then(|mut f| {
        f.write_all(&vec![0u8; needed.min(1 << 20) as usize])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    forget(std::slice::from_ref(&probe));
    result.map_err(fail)?;
    Ok(())
}
