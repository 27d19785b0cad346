//! The errors of the library: [`Error`], whose variants render as the single line the CLI prints
//! after `error: `, naming the file, the field path and what is allowed; and
//! [`DurationError`], the message a scenario field or grid value that is not a duration gets.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario file could not be read.
    #[error("{}: cannot read the file: {source}", file.display())]
    Read { file: PathBuf, source: std::io::Error },

    /// A field is malformed, out of range, inconsistent, or not supported yet.
    #[error("{}: {path}: {message}", file.display())]
    Field { file: PathBuf, path: String, message: String },

    /// Output could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },

    /// A command-line argument other than a scenario field is wrong.
    #[error("{argument}: {message}")]
    Argument { argument: String, message: String },
}

impl Error {
    pub fn field(file: impl Into<PathBuf>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Field { file: file.into(), path: path.into(), message: message.into() }
    }
}

/// Why a text is not a duration (see [`parse_duration`](crate::engine::parse_duration)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration; expected e.g. \"500ms\", \"1m30s\" or \"1.5s\"")]
    Empty,
    /// Not a sequence of non-negative decimal numbers, each with a unit.
    #[error(
        "invalid duration {text:?}; expected a number with a unit (ns, us, ms, s, m, h, d), e.g. \"500ms\", \"1m30s\", \"1.5s\""
    )]
    Invalid { text: String },
    /// More nanoseconds than a `u64` holds (about 584 years).
    #[error("duration {text:?} is too long")]
    TooLong { text: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
