//! Typed errors of the library. The CLI renders them and maps them to exit codes.

use std::fmt;
use std::path::PathBuf;

/// Where in an input file a problem sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Physical CSV line (the header is line 1).
    Line(usize),
    /// A TOML key path with its line and column (both 1-based).
    Key { path: String, line: usize, column: usize },
    /// The file as a whole.
    File,
}

/// One precise input problem: file, location, field, offending value and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub location: Location,
    pub field: String,
    pub value: String,
    pub expected: String,
}

impl fmt::Display for Problem {
    /// One line, control characters of the file name, key, field and expectation escaped (they come
    /// from the user's files and must not drive the terminal or forge lines).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = match &self.location {
            Location::Line(line) => format!(":{line}"),
            Location::Key { path, line, column } => format!(":{line}:{column}: key `{path}`"),
            Location::File => String::new(),
        };
        let line = format!(
            "{}{location}: field `{}`, value {}: expected {}",
            self.file.display(),
            self.field,
            quote(&self.value),
            self.expected
        );
        f.write_str(&crate::terminal::printable(&line))
    }
}

fn quote(value: &str) -> String {
    const MAX: usize = 80;
    let shown: String = value.chars().take(MAX).collect();
    if shown.len() < value.len() { format!("{shown:?}…") } else { format!("{shown:?}") }
}

/// All problems found in the inputs, reported together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

/// At most this many problems are kept per run; the rest are counted.
pub const MAX_PROBLEMS: usize = 50;

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }
    /// Adds all of `other`'s problems.
    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Turns the collected problems into an error, or `Ok(())` when there are none.
    pub fn into_result(self) -> Result<(), Error> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::Invalid(self)) }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} input problem{}", if n == 1 { "" } else { "s" })?;
        for p in self.0.iter().take(MAX_PROBLEMS) {
            write!(f, "\n  {p}")?;
        }
        if n > MAX_PROBLEMS {
            write!(f, "\n  ... and {} more", n - MAX_PROBLEMS)?;
        }
        Ok(())
    }
}

/// Errors of the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The inputs are invalid (exit code 2).
    #[error("{0}")]
    Invalid(Problems),
    /// An input file could not be read (exit code 2).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A report could not be written (exit code 1).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another process (another arstress run) holds the lock of a folder this run writes to
    /// (exit code 1: retry when it is done).
    #[error(
        "{} is in use by another arstress run (process {}, which holds {}): wait for it to finish, or write to another folder",
        dir.display(),
        pid.map_or_else(|| "unknown".to_owned(), |p| p.to_string()),
        crate::atomic::LOCK_FILE
    )]
    Locked { dir: PathBuf, pid: Option<u32> },
    /// A folder chosen to write into cannot take what is to be written (exit code 2). The CLI
    /// names the option or argument that chose it.
    #[error("{}: {problem}", path.display())]
    Folder { path: PathBuf, problem: FolderProblem },
    /// A command-line value is invalid (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A broken internal invariant (exit code 1).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a folder cannot be written into ([`Error::Folder`]).
#[derive(Debug, thiserror::Error)]
pub enum FolderProblem {
    #[error("not a folder (a file of that name exists)")]
    NotAFolder,
    #[error("the folder is not writable: {0}")]
    NotWritable(std::io::Error),
    #[error(
        "the disk has {} free, the files need about {}: free some space or choose another folder",
        crate::limits::bytes(*free),
        crate::limits::bytes(*needed)
    )]
    DiskFull { free: u64, needed: u64 },
}

impl Error {
    /// One problem as an error.
    pub fn problem(problem: Problem) -> Self {
        Error::Invalid(Problems(vec![problem]))
    }
    /// True when the user's input or usage is at fault (exit code 2).
    pub fn is_user_error(&self) -> bool {
        matches!(self, Error::Invalid(_) | Error::Read { .. } | Error::Usage(_) | Error::Folder { .. })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
