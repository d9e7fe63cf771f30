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
    /// Reads a UTF-8 file of at most `cap` bytes (a regular file only: see
    /// [`super::open::read_regular`]); a leading BOM is removed. Non-UTF-8 bytes are a located problem.
    pub fn read(path: &Path, cap: u64) -> Result<Self, Error> {
        let bytes = super::open::read_regular(path, cap)?;
        Self::from_bytes(path, &bytes)
    }

    /// A source from bytes already read (`path` names them in messages): as [`Source::read`].
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self, Error> {
        let sha256 = sha256_hex(bytes);
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match std::str::from_utf8(body) {
            Ok(text) => Ok(Source { path: path.to_path_buf(), text: text.to_owned(), sha256 }),
            Err(e) => {
                let at = e.valid_up_to();
                let line = body[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                let bad = body[at..].iter().take(4).map(|b| format!("\\x{b:02X}")).collect::<String>();
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
            location: Location::Key { path: key.to_owned(), line, column },
            field: key.rsplit('.').next().unwrap_or(key).to_owned(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    /// A problem about the file as a whole.
    pub fn file_problem(&self, field: &str, value: impl Into<String>, expected: impl Into<String>) -> Problem {
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
            let span = e.span().unwrap_or(0..0);
            let (start, end) = (span.start.min(self.text.len()), span.end.min(self.text.len()));
            let (line, column) = self.line_col(start);
            let snippet = self.text.get(start..end).unwrap_or("").to_owned();
            let message = plain_type_error(&e.message().trim().replace('\n', " "));
            let unknown = message.strip_prefix("unknown field `").map(|rest| {
                let choices: Vec<&str> = rest
                    .split('`')
                    .skip(1)
                    .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
                    .collect();
                let name = rest.split('`').next().unwrap_or("");
                let hint = closest(name, &choices).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default();
                format!("a known key{hint}; valid keys here: {}", choices.join(", "))
            });
            // A syntax error (the text is not TOML at all) shows the offending line when its span is empty.
            let syntax = unknown.is_none() && toml::de::DeTable::parse(&self.text).is_err();
            let line_text = self.text[..start].rfind('\n').map_or(&self.text[..], |i| &self.text[i + 1..]);
            let line_text = line_text.lines().next().unwrap_or("").trim();
            let names_key = unknown.is_some() || (syntax && message.starts_with("duplicate key"));
            let path = key_path_at(&self.text, start, names_key.then_some(snippet.as_str()));
            let field = path.rsplit('.').next().unwrap_or("").to_owned();
            Error::problem(Problem {
                file: self.path.clone(),
                location: Location::Key {
                    path: if path.is_empty() { "(document)".into() } else { path.clone() },
                    line,
                    column,
                },
                field: if field.is_empty() { "syntax".into() } else { field },
                value: if syntax && snippet.trim().is_empty() { line_text.to_owned() } else { snippet },
                expected: unknown.unwrap_or(if syntax { format!("valid TOML ({message})") } else { message }),
            })
        })
    }
}

/// The dotted key path of the TOML value (or, with `key`, the key) that starts at byte `offset`:
/// the table header in effect, then the keys of enclosing inline tables and arrays on the line.
pub fn key_path_at(text: &str, offset: usize, key: Option<&str>) -> String {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let mut parts: Vec<String> = Vec::new();
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    let mut table = String::new();
    for l in text[..line_start].lines() {
        let t = l.trim();
        if let Some(h) = t.strip_prefix("[[") {
            let name = h.split("]]").next().unwrap_or("").trim().to_owned();
            let n = counts.entry(name.clone()).or_insert(0);
            table = format!("{name}[{n}]");
            *n += 1;
        } else if let Some(h) = t.strip_prefix('[') {
            table = h.split(']').next().unwrap_or("").trim().to_owned();
        }
    }
    if !table.is_empty() {
        parts.push(table);
    }
    let before = &text[line_start..offset];
    if before.trim_start().starts_with('[') {
        return parts.join(".");
    }
    // Walk the line: `key =` sets a pending key, `{`/`[` opens it, `,` drops it, `}`/`]` closes.
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut pending: Option<String> = None;
    let mut word = String::new();
    let mut in_string: Option<char> = None;
    for ch in before.chars() {
        if let Some(q) = in_string {
            if ch == q {
                in_string = None;
            }
            continue;
        }
        match ch {
            '"' | '\'' => in_string = Some(ch),
            '=' => {
                pending = Some(word.trim().trim_matches('"').to_owned());
                word.clear();
            }
            '{' | '[' => {
                stack.push(pending.take());
                word.clear();
            }
            '}' | ']' => {
                stack.pop();
                word.clear();
            }
            ',' => {
                pending = None;
                word.clear();
            }
            '#' => break,
            _ => word.push(ch),
        }
    }
    parts.extend(stack.into_iter().flatten());
    if let Some(k) = key {
        parts.push(k.trim().to_owned());
    } else if let Some(p) = pending {
        parts.push(p);
    }
    parts.retain(|p| !p.is_empty());
    parts.join(".")
}

/// serde's "invalid type: string \"two\", expected f64" as "a number (found string \"two\")".
fn plain_type_error(message: &str) -> String {
    let Some(rest) = message.strip_prefix("invalid type: ") else { return message.to_owned() };
    let Some((found, wanted)) = rest.rsplit_once(", expected ") else { return message.to_owned() };
    let wanted = match wanted {
        "f64" | "f32" => "a number",
        "i64" | "i32" | "u64" | "u32" | "u16" | "u8" | "i128" | "u128" => "a whole number",
        "a boolean" => "true or false",
        other => other,
    };
    format!("{wanted} (found {found})")
}

/// The candidate closest to `name` by edit distance, if reasonably close.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(name, c), *c))
        .filter(|(d, c)| *d <= 1.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::key_path_at;

    #[test]
    fn key_paths_follow_tables_inline_tables_and_arrays() {
        let text = "[[policy]]\nname = \"a\"\n[[policy]]\nindemnty = 1\n[credit]\nrec = { mean = 0.1, sd = 0.3 }\n\
                    [stress]\nforced = [{ buyers = [\"X,Y\"], day = 900 }]\n";
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(key_path_at(text, at("indemnty"), Some("indemnty")), "policy[1].indemnty");
        assert_eq!(key_path_at(text, at("0.3"), None), "credit.rec.sd");
        assert_eq!(key_path_at(text, at("900"), None), "stress.forced.day");
    }
}
