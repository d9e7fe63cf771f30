//! Text safe to print on a terminal. Names, ids and paths come from users' files: an ESC sequence
//! in a sector name (`ESC]0;title BEL`, `ESC[2J`) would drive the terminal, a newline in a group id
//! would forge a line of output, and a bidirectional override would reorder what is shown. Every
//! such character is printed as a visible escape (`\u{1b}`) instead.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: C0 and C1 control characters, DEL, and the Unicode
/// bidirectional embedding, override and isolate marks.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character escaped, newlines included: for a value printed on one line.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` with every control character escaped except the newline: for a message of several lines
/// whose own line breaks are meant (each user-given part in it should already be [`printable`]).
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// The widest line the program prints (results and messages alike), in characters.
pub const MAX_COLUMNS: usize = 99;

/// `text` ([`printable_lines`]) with every line longer than [`MAX_COLUMNS`] wrapped at spaces, its
/// continuation lines indented by two spaces. Words are never split (a path stays whole, to be
/// copied: a path longer than the width makes its line longer). Shorter lines are left exactly as
/// they are.
pub fn fitted_lines(text: &str) -> Cow<'_, str> {
    let text = printable_lines(text);
    if text.lines().all(|l| l.chars().count() <= MAX_COLUMNS) {
        return text;
    }
    let options = textwrap::Options::new(MAX_COLUMNS)
        .subsequent_indent("  ")
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .break_words(false);
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.chars().count() <= MAX_COLUMNS {
            out.push_str(line);
        } else {
            out.push_str(&textwrap::wrap(line, &options).join("\n"));
        }
    }
    Cow::Owned(out)
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| is_unsafe(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(printable("Müller & Söhne, 東京"), Cow::Borrowed(_)));
        assert_eq!(printable("a\u{1b}]0;pwned\u{7}b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(printable("G1\u{1b}[2J\nforged"), "G1\\u{1b}[2J\\u{a}forged");
        assert_eq!(printable("\u{9b}31m\u{7f}"), "\\u{9b}31m\\u{7f}");
        assert_eq!(printable("abc\u{202e}fdp.exe"), "abc\\u{202e}fdp.exe");
        assert_eq!(printable_lines("one\ntwo\u{1b}[2J\r"), "one\ntwo\\u{1b}[2J\\u{d}");
    }
}

#[cfg(test)]
mod fitted {
    use super::*;

    #[test]
    fn long_lines_wrap_at_spaces_and_short_ones_stay() {
        let short = "a line\n  kept as it is";
        assert!(matches!(fitted_lines(short), Cow::Borrowed(s) if s == short));
        let long = format!("{} /a/very-long-path/that-stays-whole end", "word ".repeat(25));
        let fitted = fitted_lines(&long);
        let lines: Vec<&str> = fitted.lines().collect();
        assert!(lines.len() == 2 && lines.iter().all(|l| l.chars().count() <= MAX_COLUMNS), "{fitted}");
        assert!(lines[1].starts_with("  ") && fitted.contains("/a/very-long-path/that-stays-whole"));
        assert_eq!(fitted.split_whitespace().collect::<Vec<_>>(), long.split_whitespace().collect::<Vec<_>>());
    }
}
