//! User text in messages and reading input files with a size cap. Every message is one line
//! (the CLI's contract), so what a user typed is shown escaped and shortened, never raw.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// The longest user string a message quotes; longer ones are cut with `…`.
const MAX_SHOWN_CHARS: usize = 80;
/// The longest message line: a pathological field name cannot make it a screenful.
const MAX_LINE_CHARS: usize = 1000;

/// `text` quoted for a message: control characters escaped, at most [`MAX_SHOWN_CHARS`].
pub fn shown(text: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in text.chars().enumerate() {
        if i == MAX_SHOWN_CHARS {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

/// A number for a message: plain when short, in exponent form when `{}` would print hundreds of
/// digits (`-1e308`).
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-6..1e15).contains(&magnitude) { format!("{value:e}") } else { format!("{value}") }
}

/// A message made safe to print as one line: control characters escaped, length capped.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_LINE_CHARS));
    for (i, c) in text.chars().enumerate() {
        if i == MAX_LINE_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() { out.extend(c.escape_debug()) } else { out.push(c) }
    }
    out
}

/// Reads a UTF-8 file of at most `limit` bytes. Reading stops at the limit, so `/dev/zero` or
/// a mistaken multi-gigabyte file fails at once instead of filling memory.
pub fn read_capped(file: &Path, limit: u64, what: &str) -> Result<String> {
    let read_error = |source| Error::Read { file: file.to_path_buf(), source };
    let handle = std::fs::File::open(file).map_err(read_error)?;
    if handle.metadata().map_err(read_error)?.is_dir() {
        return Err(read_error(std::io::Error::other("it is a directory")));
    }
    let mut bytes = Vec::new();
    handle.take(limit + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > limit {
        let message = format!("larger than {} MiB; {what} is at most that", limit >> 20);
        return Err(read_error(std::io::Error::other(message)));
    }
    String::from_utf8(bytes).map_err(|_| read_error(std::io::Error::other("not UTF-8 text")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_on_one_line_and_short() {
        assert_eq!(shown("a\nb"), r#""a\nb""#);
        assert_eq!(one_line("x\u{1b}[2Jy"), r"x\u{1b}[2Jy");
        assert_eq!(number(-1e308), "-1e308");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(0.0), "0");
        assert!(shown(&"x".repeat(500)).chars().count() < 90);
    }
}
