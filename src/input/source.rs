//! Reading input files and locating problems in them.

use crate::error::{Error, Location, Problem};
use std::path::{Path, PathBuf};

/// An input file's text with its path, for error locations and hashing.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
    /// SHA-256 of the raw bytes, hex.
    pub sha256: String,
}

impl Source {
    /// Reads a UTF-8 file; a leading BOM is removed. Non-UTF-8 bytes are a located problem.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let sha256 = sha256_hex(&bytes);
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        match std::str::from_utf8(body) {
            Ok(text) => Ok(Source {
                path: path.to_path_buf(),
                text: text.to_owned(),
                sha256,
            }),
            Err(e) => {
                let at = e.valid_up_to();
                let line = body[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                let bad = body[at..]
                    .iter()
                    .take(4)
                    .map(|b| format!("\\x{b:02X}"))
                    .collect::<String>();
                Err(Error::problem(Problem {
                    file: path.to_path_buf(),
                    location: Location::Line(line),
                    field: "encoding".into(),
                    value: bad,
                    expected: "UTF-8 text (save or export the file as UTF-8)".into(),
                }))
            }
        }
    }

    /// Line and column (1-based) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// A problem at a TOML key, located by the span of its value.
    pub fn key_problem(
        &self,
        key: &str,
        span: std::ops::Range<usize>,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Problem {
        let (line, column) = self.line_col(span.start);
        Problem {
            file: self.path.clone(),
            location: Location::Key {
                path: key.to_owned(),
                line,
                column,
            },
            field: key.rsplit('.').next().unwrap_or(key).to_owned(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    /// A problem about the file as a whole.
    pub fn file_problem(
        &self,
        field: &str,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Problem {
        Problem {
            file: self.path.clone(),
            location: Location::File,
            field: field.to_owned(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    /// Parses TOML into `T`, turning syntax errors and unknown keys into one located problem.
    pub fn parse_toml<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        toml::from_str::<T>(&self.text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |s| self.line_col(s.start));
            let snippet = e
                .span()
                .map(|s| {
                    self.text[s.start.min(self.text.len())..s.end.min(self.text.len())].to_owned()
                })
                .unwrap_or_default();
            let message = e.message().trim().to_owned();
            let (field, expected) = describe_toml_error(&message, &snippet);
            Error::problem(Problem {
                file: self.path.clone(),
                location: Location::Key {
                    path: field.clone(),
                    line,
                    column,
                },
                field,
                value: snippet,
                expected,
            })
        })
    }
}

/// Turns serde/toml messages into "field" and "expected" parts with a "did you mean" hint.
fn describe_toml_error(message: &str, snippet: &str) -> (String, String) {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("").to_owned();
        let choices: Vec<&str> = rest
            .split('`')
            .skip(1)
            .filter(|s| s.chars().all(|c| c.is_alphanumeric() || c == '_') && !s.is_empty())
            .collect();
        let hint = closest(&name, &choices)
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        return (
            name,
            format!("a known key{hint}; valid keys: {}", choices.join(", ")),
        );
    }
    let field = snippet
        .split(['=', '\n'])
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    (
        if field.is_empty() {
            "toml".into()
        } else {
            field
        },
        message.replace('\n', " "),
    )
}

/// The candidate closest to `name` by edit distance, if reasonably close.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(name, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
