//! The crate's one error type.

use std::path::PathBuf;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in tickprof, each variant naming the thing at fault.
///
/// The layer itself never returns errors into the traced program: trouble on the hot path is
/// counted in the report (`dropped`), not raised.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder setting is out of range; the message says which and why.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// `start_profiling` was called while a run is already active.
    #[error("profiling run `{0}` is already active; call stop_profiling first")]
    AlreadyProfiling(String),
    /// `stop_profiling` was called with no active run.
    #[error("no profiling run is active; call start_profiling first")]
    NotProfiling,
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory at fault.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A report file is not valid report JSON.
    #[error("{}: line {line}, column {column}: {message}", path.display())]
    Parse {
        /// The file at fault.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What serde_json found wrong.
        message: String,
    },
    /// A report file parses but breaks what the format promises: a number that is not finite
    /// or outside its unit's range, or a histogram blob that does not decode.
    #[error("{}: {field}: {message}", path.display())]
    InvalidReport {
        /// The file at fault.
        path: PathBuf,
        /// The field at fault, as the JSON nests it (for example `ticks.latency.histogram` or
        /// `resources.samples[3].cpu_percent`).
        field: String,
        /// What is wrong with it, with the value.
        message: String,
    },
    /// A report was written by a newer tickprof than this one.
    #[error(
        "{}: schema_version {found} is newer than this build of tickprof understands (up to {supported}); upgrade tickprof",
        path.display()
    )]
    UnsupportedSchema {
        /// The file at fault.
        path: PathBuf,
        /// The schema version in the file.
        found: u32,
        /// The newest schema version this build reads.
        supported: u32,
    },
    /// An HdrHistogram blob in a report could not be encoded, decoded or combined.
    #[error("histogram `{field}`: {message}")]
    Histogram {
        /// Which histogram (for example `components.parse.latency`).
        field: String,
        /// What went wrong.
        message: String,
    },
    /// Reports that cannot be merged (different histogram settings, no reports).
    #[error("cannot merge reports: {0}")]
    Merge(String),
    /// The Prometheus exporter could not listen on its address (in use, not local, not an
    /// address): reported by `prometheus::serve` at setup, naming the address.
    #[error("cannot serve metrics on {address}: {source}")]
    Listen {
        /// The address as given.
        address: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Rendering a graph failed.
    #[error("graph {}: {message}", path.display())]
    Graph {
        /// The image being drawn.
        path: PathBuf,
        /// What the plotting backend reported.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A JSON error in `path`, with serde_json's " at line L column C" cut from the message:
    /// the error shows line and column already.
    pub(crate) fn parse(path: impl Into<PathBuf>, e: &serde_json::Error) -> Self {
        let message = e.to_string();
        let message = match message.rfind(" at line ") {
            Some(cut) => message[..cut].to_owned(),
            None => message,
        };
        Error::Parse {
            path: path.into(),
            line: e.line(),
            column: e.column(),
            message,
        }
    }

    pub(crate) fn histogram(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Histogram {
            field: field.into(),
            message: message.to_string(),
        }
    }
}
