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
    /// A report (JSON) or thresholds (TOML) file does not parse, or holds a value of the wrong
    /// type.
    #[error(
        "{}: line {line}, column {column}: {}{source}",
        path.display(),
        field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default()
    )]
    Parse {
        /// The file at fault.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The field at fault, as the JSON nests it (`ticks.count`), when the parser knows it.
        field: Option<String>,
        /// What the parser found wrong.
        #[source]
        source: ParseCause,
    },
    /// A JSON file that is not a tickprof report at all: it has no `schema_version` (another
    /// tool's file, or the scalability driver's `scalability_summary.json`).
    #[error("{}: not a tickprof report (no schema_version)", path.display())]
    NotAReport {
        /// The file at fault.
        path: PathBuf,
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
    /// The resource sampler could not start; the report then says why in
    /// `resources_unavailable`.
    #[cfg(feature = "sampler")]
    #[error("cannot sample resources: {0}")]
    Sampler(#[from] SamplerError),
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

    /// A JSON error in `path`.
    pub(crate) fn parse(path: impl Into<PathBuf>, e: serde_json::Error) -> Self {
        Error::Parse {
            path: path.into(),
            line: e.line(),
            column: e.column(),
            field: None,
            source: ParseCause::Json(e),
        }
    }

    pub(crate) fn histogram(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Histogram {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

/// What a parser found wrong in a file ([`Error::Parse`]), as the parser's own error.
#[derive(Debug)]
#[non_exhaustive]
pub enum ParseCause {
    /// A report's JSON.
    Json(serde_json::Error),
    /// A thresholds file's TOML.
    #[cfg(feature = "cli")]
    Toml(Box<toml::de::Error>),
}

impl std::fmt::Display for ParseCause {
    /// The parser's message without its own position ([`Error::Parse`] shows line and column).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseCause::Json(e) => {
                let message = e.to_string();
                let cut = message.rfind(" at line ").unwrap_or(message.len());
                f.write_str(message.get(..cut).unwrap_or(&message))
            }
            #[cfg(feature = "cli")]
            ParseCause::Toml(e) => f.write_str(e.message().trim_end()),
        }
    }
}

impl std::error::Error for ParseCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ParseCause::Json(e) => Some(e),
            #[cfg(feature = "cli")]
            ParseCause::Toml(e) => Some(e.as_ref()),
        }
    }
}

/// Why the resource sampler could not start ([`Error::Sampler`]).
#[cfg(feature = "sampler")]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SamplerError {
    /// sysinfo cannot find this process.
    #[error("sysinfo cannot find this process's pid: {0}")]
    Pid(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// sysinfo cannot read processes on this platform.
    #[error("sysinfo cannot read processes here: {0}")]
    Processes(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The first reading of this process's CPU time and memory failed.
    #[error("sysinfo cannot read this process's CPU time and memory")]
    FirstReading,
    /// The sampler thread could not be spawned.
    #[error("cannot spawn the sampler thread: {0}")]
    Thread(#[source] std::io::Error),
    /// The sampler thread's tokio runtime could not be built.
    #[error("cannot build the sampler runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The sampler thread exited before it started sampling.
    #[error("the sampler thread exited at start")]
    ThreadExited,
}
