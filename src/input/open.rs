//! The one way arstress reads a file a user names (inputs, shard folders, the resume store,
//! report folders given to `compare`): [`read_regular`].
//!
//! A device, a FIFO or a socket would be read without end (`/dev/zero` filled 24 GB of memory
//! before the out-of-memory killer ended the process) or block forever (a FIFO nobody writes
//! to). So the file is opened with `O_NONBLOCK` (opening a FIFO returns at once), the open handle
//! is checked with `fstat` (not a separate look-up by name, which another process could swap in
//! between), anything but a regular file is refused, and at most a cap of bytes is read: a file
//! larger than its cap, or growing beyond it while read, is refused. The caps per kind of file:
//!
//! | file | cap |
//! |---|---|
//! | TOML (`study.toml`, `policies.toml`, scenarios), JSON (`shard.json`) | [`TEXT_CAP`] (16 MiB) |
//! | CSV (`buyers.csv`, `invoices.csv`, a report folder's `summary.csv`) | [`csv_cap`]: the memory available |
//! | outcome files (shard folders, the resume store) | the exact size the scenario's rows take |

use crate::error::Error;
use std::io::Read;
use std::path::Path;

/// Cap of a TOML or JSON file: 16 MiB, far above any study, policy, scenario or shard manifest.
pub const TEXT_CAP: u64 = 16 << 20;

/// Cap of a CSV file: the memory available to the process (its bytes must fit, and loading
/// takes several times more, which `limits::check_portfolio_memory` checks), or no cap where it
/// cannot be read.
pub fn csv_cap() -> u64 {
    crate::limits::available_memory().unwrap_or(u64::MAX)
}

/// Reads the whole of the regular file at `path` (symbolic links followed), refusing anything
/// else and anything larger than `cap` bytes. Errors name the file (exit code 2).
pub fn read_regular(path: &Path, cap: u64) -> Result<Vec<u8>, Error> {
    read_regular_within(path, cap)?.ok_or_else(|| Error::Read {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("larger than the {} such a file may hold", crate::limits::bytes(cap))),
    })
}

/// As [`read_regular`], but a regular file larger than `cap` is `None` rather than an error (the
/// resume store replaces a file of another run's size).
pub fn read_regular_within(path: &Path, cap: u64) -> Result<Option<Vec<u8>>, Error> {
    let fail = |source| Error::Read { path: path.to_path_buf(), source };
    let file = open_nonblocking(path).map_err(fail)?;
    let meta = file.metadata().map_err(fail)?;
    if !meta.is_file() {
        return Err(fail(std::io::Error::other(format!("not a regular file ({})", kind(&meta)))));
    }
    if meta.len() > cap {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // At most cap + 1 bytes, however much the file grows while it is read.
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes).map_err(fail)?;
    Ok((bytes.len() as u64 <= cap).then_some(bytes))
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// What a file that is not regular is, for the message.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() { "a folder" } else { "not a file" }
}

/// The portfolio files a study names (`[portfolio] buyers` and `invoices`) with their sizes, read
/// before the study is loaded; a study file that cannot be read yields none (loading reports it).
pub fn portfolio_files(study_file: &Path) -> Vec<(std::path::PathBuf, u64)> {
    // Through the one opener: a FIFO or a device as study.toml is refused, not read without end.
    let Ok(bytes) = read_regular(study_file, TEXT_CAP) else {
        return Vec::new();
    };
    let Ok(text) = std::str::from_utf8(&bytes) else { return Vec::new() };
    let Ok(table) = text.parse::<toml::Table>() else { return Vec::new() };
    let dir = study_file.parent().unwrap_or(Path::new(""));
    let Some(portfolio) = table.get("portfolio").and_then(toml::Value::as_table) else { return Vec::new() };
    ["buyers", "invoices"]
        .iter()
        .filter_map(|k| portfolio.get(*k).and_then(toml::Value::as_str))
        .map(|name| dir.join(name))
        .filter_map(|p| std::fs::metadata(&p).ok().map(|m| (p, m.len())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_cap_are_read_and_others_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.toml");
        std::fs::write(&file, b"0123456789").unwrap();
        assert_eq!(read_regular(&file, 10).unwrap(), b"0123456789");
        let err = read_regular(&file, 9).unwrap_err().to_string();
        assert!(err.contains("a.toml") && err.contains("larger than the 9 B"), "{err}");
        let err = read_regular(Path::new("/dev/zero"), 10).unwrap_err().to_string();
        assert!(err.contains("/dev/zero: not a regular file (a character device)"), "{err}");
        let err = read_regular(dir.path(), 10).unwrap_err().to_string();
        assert!(err.contains("not a regular file") || err.contains("directory"), "{err}");
    }
}
