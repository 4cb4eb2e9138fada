//! Reading the files tickprof is given (reports, interval logs, thresholds): regular files
//! only, and no more than a bound. The one routine every such read goes through (the library's
//! `Report::load` and `interval_log::read_window`, the CLI's thresholds).
//!
//! Why regular files only: opening a FIFO that nobody writes to blocks forever (`tickprof
//! summary`, `hlog` and `check --thresholds` hung on one), and a device such as `/dev/zero`
//! never ends. The file is opened without blocking (`O_NONBLOCK`, which reads of a regular file
//! ignore) and its type is checked on the open descriptor, so a path swapped for a FIFO between
//! a check and the open cannot hang the reader either. Pipes are refused with FIFOs: a report
//! behind a process substitution (`tickprof summary <(ssh host cat run.json)`) is saved to a
//! file first. The bound on bytes read keeps a regular file larger than anything tickprof
//! writes from filling memory.
//!
//! ```
//! # fn main() -> tickprof::Result<()> {
//! # let dir = tempfile::tempdir().map_err(|e| tickprof::Error::Io { path: "tmp".into(), source: e })?;
//! # let path = dir.path().join("t.toml");
//! # std::fs::write(&path, "[ticks]\n").map_err(|e| tickprof::Error::Io { path: path.clone(), source: e })?;
//! let text = tickprof::input_file::read_to_string(&path, 1 << 20, "thresholds file")?;
//! # assert_eq!(text, "[ticks]\n");
//! # Ok(())
//! # }
//! ```

use std::fs::{File, FileType, OpenOptions};
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// Opens `path` for reading if it is a regular file (following symbolic links), without ever
/// blocking on a FIFO (see the module docs).
///
/// # Errors
/// [`Error::Io`] naming `path` if it cannot be opened or is not a regular file (saying what it
/// is: a directory, a FIFO or pipe, a device, a socket).
pub fn open(path: impl AsRef<Path>) -> Result<File> {
    let path = path.as_ref();
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| Error::io(path, e))?;
    let kind = file.metadata().map_err(|e| Error::io(path, e))?.file_type();
    if !kind.is_file() {
        return Err(Error::io(
            path,
            std::io::Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "not a regular file ({}): tickprof reads regular files only",
                    describe(kind)
                ),
            ),
        ));
    }
    Ok(file)
}

/// The bytes of the regular file `path`, at most `max_bytes`; `what` names the kind of file in
/// the error for a larger one ("more than any report").
///
/// # Errors
/// As [`open`]; [`Error::Io`] naming `path` if it cannot be read or holds more than `max_bytes`.
pub fn read(path: impl AsRef<Path>, max_bytes: u64, what: &str) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let mut bytes = Vec::new();
    open(path)?
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::io(
            path,
            std::io::Error::new(
                ErrorKind::InvalidData,
                format!("larger than {max_bytes} bytes, more than any {what}"),
            ),
        ));
    }
    Ok(bytes)
}

/// [`read`] as UTF-8 text.
///
/// # Errors
/// As [`read`]; [`Error::Io`] naming `path` if it is not UTF-8.
pub fn read_to_string(path: impl AsRef<Path>, max_bytes: u64, what: &str) -> Result<String> {
    let path = path.as_ref();
    String::from_utf8(read(path, max_bytes, what)?).map_err(|e| {
        Error::io(
            path,
            std::io::Error::new(
                ErrorKind::InvalidData,
                format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
            ),
        )
    })
}

/// What a file that is not a regular file is, for the error.
fn describe(kind: FileType) -> &'static str {
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO or pipe";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A regular file larger than the bound is an error after `max` bytes read.
    #[test]
    fn reading_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "{}").unwrap();
        assert_eq!(read_to_string(&path, 2, "report").unwrap(), "{}");
        let error = read(&path, 1, "report").unwrap_err().to_string();
        assert!(
            error.ends_with("r.json: larger than 1 bytes, more than any report"),
            "{error}"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn what_is_not_a_regular_file_is_named() {
        let error = read(Path::new("/dev/zero"), 1 << 16, "report").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/dev/zero: not a regular file (a character device): tickprof reads regular files only"
        );
        let dir = tempfile::tempdir().unwrap();
        let error = open(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains(": not a regular file (a directory)"),
            "{error}"
        );
        let missing = dir.path().join("missing.json");
        let error = open(&missing).unwrap_err().to_string();
        assert!(error.starts_with(&missing.display().to_string()), "{error}");
    }

    #[test]
    fn text_that_is_not_utf8_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(&path, b"ab\xffcd").unwrap();
        let error = read_to_string(&path, 100, "thresholds file").unwrap_err();
        assert!(
            error.to_string().ends_with("not UTF-8 text (byte 2)"),
            "{error}"
        );
    }
}
