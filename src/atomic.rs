//! Atomic report output: every file is written to a temporary name in the target folder and
//! renamed into place only when all files are complete, so a failed run never leaves a partial
//! report nor overwrites a good one.
//!
//! Temporary names are `.NAME.tmp-PID-RANDOM`, created with `O_CREAT|O_EXCL`: an existing name (a
//! symbolic link planted by anyone who can write to a shared folder included) is never opened,
//! another random name is drawn instead, so no report is written through a link.
//!
//! One writer per folder: a process writing to a folder holds an advisory lock on its
//! [`LOCK_FILE`] (created without following a symbolic link, holding the holder's process id, and
//! removed when released); a second run into the folder fails at once with [`Error::Locked`].
//! While a set of several files is renamed, the folder holds an [`INCOMPLETE_MARKER`] listing the
//! set: a process killed between two renames (SIGKILL, the out-of-memory killer) leaves it, the
//! next run writing a set there repairs the folder, and `compare` and `merge` refuse to read it.
//!
//! Interruption: the temporary files in flight are registered, and the renames of one set of
//! files happen under one lock. [`abandon_writes`] (called by the binary on SIGINT/SIGTERM)
//! takes that lock, so it waits for a set being renamed to be complete, removes the temporary
//! files of sets not yet renamed and the lock files held, and keeps the lock so that no rename
//! starts afterwards: a folder holds either its previous reports or the new ones, never a mix,
//! and no temporary file.

use crate::error::{Error, FolderProblem};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The lock file of a folder being written to.
pub const LOCK_FILE: &str = ".arstress.lock";

/// Present while (or, after a kill, since) a set of files is renamed into a folder; lists the set.
pub const INCOMPLETE_MARKER: &str = ".arstress-incomplete";

/// What this process is writing: temporary files not yet renamed into place, and the folder
/// locks it holds. Its mutex is held while a set of files is renamed.
struct State {
    in_flight: Vec<PathBuf>,
    held: Vec<Held>,
}

/// A folder lock held by this process (reentrant: counted).
struct Held {
    /// The folder, canonical.
    dir: PathBuf,
    count: usize,
    /// Its lock file, and the open file that holds the lock.
    path: PathBuf,
    _file: File,
}

static STATE: Mutex<State> = Mutex::new(State { in_flight: Vec::new(), held: Vec::new() });

fn state() -> MutexGuard<'static, State> {
    // A panic while holding the lock leaves a state that is still meaningful.
    STATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn forget(paths: &[PathBuf]) {
    state().in_flight.retain(|p| !paths.contains(p));
}

/// Creates a new temporary file `PREFIX` + random characters in `dir` and registers it under the
/// lock, so that an interruption either finds it registered (and removes it) or holds the lock
/// first (and it is never created).
fn create_registered(dir: &Path, prefix: &str) -> std::io::Result<(File, PathBuf)> {
    let mut state = state();
    let (file, path) = create_new(dir, prefix)?;
    state.in_flight.push(path.clone());
    Ok((file, path))
}

/// A new file `PREFIX` + random characters in `dir`, opened with `O_CREAT|O_EXCL` (an existing
/// name, a symbolic link included, is never opened: another name is drawn).
fn create_new(dir: &Path, prefix: &str) -> std::io::Result<(File, PathBuf)> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).rand_bytes(8);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // As `File::create` would (the umask applies): reports are read by others.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)?.keep().map_err(|e| e.error)
}

/// The prefix of this process's temporary names for `name`: `.NAME.tmp-PID-`.
fn temporary_prefix(name: &str) -> String {
    format!(".{name}.tmp-{}-", std::process::id())
}

/// Removes temporary files that a killed run (SIGKILL, the OOM killer: no handler runs) left in
/// `dir` for these report names (and the marker): `.NAME.tmp-PID-RANDOM` (or `.NAME.tmp-PID`, as
/// earlier versions named them) whose process no longer runs (Linux; elsewhere nothing is removed).
fn remove_stale_temporaries(dir: &Path, files: &[(String, Vec<u8>)]) {
    // Without /proc no process can be told dead.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).chain([INCOMPLETE_MARKER]).collect();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = names.iter().any(|report| {
            name.strip_prefix(&format!(".{report}.tmp-"))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists())
        });
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// This process's lock on a folder (see the module documentation); released when dropped.
#[derive(Debug)]
#[must_use = "the folder is unlocked when the lock is dropped"]
pub struct FolderLock {
    dir: PathBuf,
    mixed: Option<Vec<String>>,
}

impl FolderLock {
    /// When the folder holds a mixed set of files (an [`INCOMPLETE_MARKER`] left by a run killed
    /// while renaming its files), the files of that set (empty when the marker cannot be read).
    pub fn mixed(&self) -> Option<&[String]> {
        self.mixed.as_deref()
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        let mut state = state();
        if let Some(i) = state.held.iter().position(|h| h.dir == self.dir) {
            state.held[i].count -= 1;
            if state.held[i].count == 0 {
                let held = state.held.swap_remove(i);
                // Removed while still locked: a run that opened it meanwhile finds it replaced.
                let _ = std::fs::remove_file(&held.path);
                drop(held);
            }
        }
    }
}

/// Takes this process's lock on `dir` (created if missing), or fails with [`Error::Locked`] when
/// another process holds it. Reentrant: a process may lock a folder it has locked already.
pub fn lock_folder(dir: &Path) -> Result<FolderLock, Error> {
    let dir = current_if_empty(dir);
    std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    let key = std::fs::canonicalize(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    let mut state = state();
    if let Some(held) = state.held.iter_mut().find(|h| h.dir == key) {
        held.count += 1;
    } else {
        let path = key.join(LOCK_FILE);
        let file = acquire(dir, &path)?;
        state.held.push(Held { dir: key.clone(), count: 1, path, _file: file });
    }
    drop(state);
    let mixed = read_marker(&key);
    Ok(FolderLock { dir: key, mixed })
}

/// `.` for the empty path (the folder of a bare file name).
fn current_if_empty(dir: &Path) -> &Path {
    if dir.as_os_str().is_empty() { Path::new(".") } else { dir }
}

/// Opens `path` without following a symbolic link and without blocking (a FIFO), creating it
/// when `create`.
fn open_nofollow(path: &Path, create: bool) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(create).create(create);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).mode(0o666);
    }
    options.open(path)
}

/// Locks the lock file `path` of `dir` and writes this process's id into it.
fn acquire(dir: &Path, path: &Path) -> Result<File, Error> {
    let fail = |source| Error::Write { path: path.to_path_buf(), source };
    for _ in 0..100 {
        let file = open_nofollow(path, true).map_err(|e| {
            #[cfg(unix)]
            if e.raw_os_error() == Some(libc::ELOOP) {
                return fail(std::io::Error::other("a symbolic link, not arstress's lock file (remove it)"));
            }
            fail(e)
        })?;
        let meta = file.metadata().map_err(fail)?;
        if !meta.is_file() {
            return Err(fail(std::io::Error::other("not a regular file, not arstress's lock file (remove it)")));
        }
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(Error::Locked { dir: dir.to_path_buf(), pid: read_pid(&file) });
            }
            Err(fs4::TryLockError::Error(e)) => return Err(fail(e)),
        }
        // The previous holder removes the file as it finishes: the lock counts only on the file
        // the name still refers to.
        if std::fs::symlink_metadata(path).is_ok_and(|now| same_file(&now, &meta)) {
            file.set_len(0).map_err(fail)?;
            (&file).write_all(format!("{}\n", std::process::id()).as_bytes()).map_err(fail)?;
            return Ok(file);
        }
    }
    Err(fail(std::io::Error::other("the lock file keeps being replaced")))
}

fn read_pid(file: &File) -> Option<u32> {
    let mut text = String::new();
    file.take(64).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    true
}

/// The files listed by the [`INCOMPLETE_MARKER`] of `dir`, if it has one (plain names only).
fn read_marker(dir: &Path) -> Option<Vec<String>> {
    let path = dir.join(INCOMPLETE_MARKER);
    std::fs::symlink_metadata(&path).ok()?;
    let mut text = String::new();
    let read = open_nofollow(&path, false)
        .and_then(|f| if f.metadata()?.is_file() { f.take(1 << 20).read_to_string(&mut text) } else { Ok(0) });
    if read.is_err() {
        text.clear();
    }
    Some(text.lines().map(str::trim).filter(|n| plain_name(n)).map(str::to_owned).collect())
}

/// A file name arstress writes: no folder part, not hidden.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\'])
}

/// Refuses to read from `dir` when it holds a mixed set of files (a run was killed while renaming
/// them into place): its reports or shard files do not belong together.
pub fn check_complete(dir: &Path) -> Result<(), Error> {
    match read_marker(dir) {
        None => Ok(()),
        Some(files) => Err(Error::Usage(format!(
            "{} holds a mixed set of files: a run was killed while renaming them into place ({} lists them: {}); \
             rerun that run into the folder to replace them with a complete set",
            dir.display(),
            INCOMPLETE_MARKER,
            if files.is_empty() { "unreadable".to_owned() } else { files.join(", ") }
        ))),
    }
}

/// Writes `files` (name, bytes) into `dir` atomically, under the folder's lock.
///
/// A set of several files is listed in the folder's [`INCOMPLETE_MARKER`] while it is renamed. A
/// set written into a folder that holds such a marker (a killed run's mixed set) repairs it: the
/// files the marker lists and this set does not hold are removed with the marker. A single file
/// is renamed at once and leaves a marker alone.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), Error> {
    let dir = current_if_empty(dir);
    std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    let lock = lock_folder(dir)?;
    remove_stale_temporaries(dir, files);
    let mut temps: Vec<PathBuf> = Vec::with_capacity(files.len() + 1);
    let cleanup = |temps: &[PathBuf]| {
        for tmp in temps {
            let _ = std::fs::remove_file(tmp);
        }
        forget(temps);
    };
    let mut write = |name: &str, bytes: &[u8]| -> Result<(), Error> {
        let result = create_registered(dir, &temporary_prefix(name)).and_then(|(mut f, tmp)| {
            temps.push(tmp);
            f.write_all(bytes)?;
            f.sync_all()
        });
        result.map_err(|source| {
            let path = temps.last().cloned().unwrap_or_else(|| dir.join(name));
            cleanup(&temps);
            Error::Write { path, source }
        })
    };
    for (name, bytes) in files {
        write(name, bytes)?;
    }
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    let set = files.len() > 1;
    // The marker lists this set and any set a killed run left mixed (both are in play).
    let mut listed: Vec<&str> = lock.mixed().unwrap_or_default().iter().map(String::as_str).collect();
    for name in &names {
        if !listed.contains(name) {
            listed.push(name);
        }
    }
    if set {
        let text: String = listed.iter().map(|n| format!("{n}\n")).collect();
        write(INCOMPLETE_MARKER, text.as_bytes())?;
    }
    let marker = dir.join(INCOMPLETE_MARKER);
    // All complete: rename the set under the lock, so an interruption sees all or none renamed.
    let mut state = state();
    let abandon = |state: &mut State, from: usize, source, path| {
        for t in &temps[from..] {
            let _ = std::fs::remove_file(t);
        }
        state.in_flight.retain(|p| !temps.contains(p));
        Error::Write { path, source }
    };
    if set {
        // Renamed into place (and made durable) before the first report.
        let tmp = &temps[files.len()];
        if let Err(source) = std::fs::rename(tmp, &marker) {
            return Err(abandon(&mut state, 0, source, marker));
        }
        sync_dir(dir);
    }
    for (i, (tmp, name)) in temps.iter().zip(&names).enumerate() {
        let target = dir.join(name);
        if let Err(source) = std::fs::rename(tmp, &target) {
            // The folder now mixes two sets: the marker stays to say so.
            return Err(abandon(&mut state, i, source, target));
        }
        if i == 0 {
            pause_until_interrupted();
        }
    }
    if set {
        // A mixed set left by a killed run is replaced by this one: what it listed beyond this
        // set does not belong with it.
        for stale in listed.iter().filter(|n| !names.contains(n)) {
            let _ = std::fs::remove_file(dir.join(stale));
        }
        let _ = std::fs::remove_file(&marker);
    }
    state.in_flight.retain(|p| !temps.contains(p));
    drop(state);
    sync_dir(dir);
    drop(lock);
    Ok(())
}

/// Test hook: with `ARSTRESS_TEST_PAUSE_AFTER_FIRST_RENAME` set, after the first report of a set
/// is renamed into place (still under the lock) the run says so on stderr and waits until a signal
/// has been delivered (at most a minute), so that tests/interrupt.rs interrupts it in the middle of
/// renaming without guessing a moment.
fn pause_until_interrupted() {
    if std::env::var_os("ARSTRESS_TEST_PAUSE_AFTER_FIRST_RENAME").is_none() {
        return;
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "arstress test hook: paused after the first rename");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while crate::interrupt::requested().is_none() && std::time::Instant::now() < deadline {
        std::thread::park_timeout(std::time::Duration::from_millis(1));
    }
}

/// Makes the renames durable where the platform allows (best effort: the reports are complete
/// either way).
fn sync_dir(dir: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A folder only (never a FIFO swapped in, which would block).
        options.custom_flags(libc::O_DIRECTORY | libc::O_NONBLOCK);
    }
    if let Ok(d) = options.open(dir) {
        let _ = d.sync_all();
    }
}

/// What an interruption holds until the process exits: no temporary file is created, no rename
/// starts and no folder is locked while it is held.
pub struct Abandoned {
    _state: MutexGuard<'static, State>,
}

/// For an interruption: waits for a set of files being renamed to be complete, removes every
/// temporary file in flight and the lock files of the folders this process holds, and returns the
/// lock, which the caller keeps until the process exits so that no further rename starts. Returns
/// how many temporary files were removed.
pub fn abandon_writes() -> (Abandoned, usize) {
    let mut state = state();
    let n = state.in_flight.len();
    for tmp in state.in_flight.drain(..) {
        let _ = std::fs::remove_file(tmp);
    }
    for held in &state.held {
        let _ = std::fs::remove_file(&held.path);
    }
    (Abandoned { _state: state }, n)
}

/// Checks before any trial runs that `dir` can be created and written to, and that its disk has
/// room for about `needed` bytes of reports (a usage error if not). The probe file written holds
/// `min(needed, 1 MiB)` bytes, so a disk already full fails here even where free space is not
/// reported.
pub fn check_writable(dir: &Path, needed: u64) -> Result<(), Error> {
    if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(Error::Folder { path: dir.to_path_buf(), problem: FolderProblem::NotAFolder });
    }
    let fail = |e: std::io::Error| Error::Folder { path: dir.to_path_buf(), problem: FolderProblem::NotWritable(e) };
    std::fs::create_dir_all(dir).map_err(fail)?;
    if let Some(free) = crate::limits::free_disk_bytes(dir)
        && free < needed
    {
        return Err(Error::Folder { path: dir.to_path_buf(), problem: FolderProblem::DiskFull { free, needed } });
    }
    let (mut probe, path) =
        create_registered(dir, &format!(".arstress-probe-{}-", std::process::id())).map_err(fail)?;
    let result = probe.write_all(&vec![0u8; needed.min(1 << 20) as usize]).and_then(|()| probe.sync_all());
    let _ = std::fs::remove_file(&path);
    forget(std::slice::from_ref(&path));
    result.map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_lock_is_reentrant_and_removed_when_released() {
        let dir = tempfile::tempdir().unwrap();
        let a = lock_folder(dir.path()).unwrap();
        let b = lock_folder(dir.path()).unwrap();
        let lock = dir.path().join(LOCK_FILE);
        assert_eq!(std::fs::read_to_string(&lock).unwrap(), format!("{}\n", std::process::id()));
        drop(a);
        assert!(lock.exists());
        drop(b);
        assert!(!lock.exists());
    }

    #[test]
    fn temporaries_of_dead_processes_are_removed_in_both_namings() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // PID 2^31 - 2 runs nowhere; this process's own temporaries stay.
        let own = format!(".summary.csv.tmp-{}-abcdEFGH", std::process::id());
        for name in [".summary.csv.tmp-2147483646", ".summary.csv.tmp-2147483646-abcdEFGH", own.as_str()] {
            std::fs::write(d.join(name), "stale").unwrap();
        }
        write_files(d, &[("summary.csv".into(), b"new".to_vec())]).unwrap();
        let mut names: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, [own, "summary.csv".to_owned()]);
    }

    #[test]
    fn a_set_repairs_a_mixed_folder_and_a_single_file_leaves_its_marker() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join(INCOMPLETE_MARKER), "a.csv\nold.csv\n../x\n").unwrap();
        std::fs::write(d.join("old.csv"), "old").unwrap();
        write_files(d, &[("c.csv".into(), b"c".to_vec())]).unwrap();
        assert!(check_complete(d).unwrap_err().to_string().contains("a.csv, old.csv"));
        write_files(d, &[("a.csv".into(), b"a".to_vec()), ("b.csv".into(), b"b".to_vec())]).unwrap();
        assert!(check_complete(d).is_ok());
        let mut names: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["a.csv", "b.csv", "c.csv"]);
    }
}
