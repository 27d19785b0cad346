//! The one error type of the library. Each variant renders as the single line the CLI prints
//! after `error: `, naming the file, the field path and what is allowed.

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

pub type Result<T, E = Error> = std::result::Result<T, E>;
