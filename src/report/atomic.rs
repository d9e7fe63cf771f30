//! Atomic report output: every file is written to a temporary name in the target folder and
//! renamed into place only when all files are complete, so a failed run never leaves a partial
//! report nor overwrites a good one.

use crate::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `files` (name, bytes) into `dir` atomically.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    let mut temps: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |temps: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in temps {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (name, bytes) in files {
        let target = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()
        })();
        temps.push((tmp.clone(), target));
        if let Err(source) = result {
            cleanup(&temps);
            return Err(Error::Write { path: tmp, source });
        }
    }
    for (i, (tmp, target)) in temps.iter().enumerate() {
        if let Err(source) = std::fs::rename(tmp, target) {
            cleanup(&temps[i..]);
            return Err(Error::Write { path: target.clone(), source });
        }
    }
    Ok(())
}

/// Checks before any trial runs that `dir` can be created and written to (a usage error if not).
pub fn check_writable(dir: &Path) -> Result<(), Error> {
    let fail =
        |e: std::io::Error| Error::Usage(format!("--out {}: the report folder is not writable: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".arstress-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}
