//! Atomic file replacement: the one routine every file tickprof writes goes through (reports,
//! graphs, the CLI's outputs).
//!
//! The content goes to a temporary file in the target's own directory (so the rename stays on
//! one filesystem), is flushed to the disk (`fsync`), then renamed over the target. A reader sees
//! the old file or the new one, never a part of one, and a failed write leaves the old file and
//! no temporary behind. The temporary file is unique per write (the `tempfile` crate creates it
//! with `O_EXCL` under a random name), not per process: with one name per process, two threads
//! saving to one path wrote into and renamed away each other's temporary file, so saves failed
//! with "no such file" and readers saw empty or truncated reports.
//!
//! ```
//! # fn main() -> tickprof::Result<()> {
//! let dir = tempfile::tempdir().map_err(|e| tickprof::Error::Io { path: "tmp".into(), source: e })?;
//! let path = dir.path().join("out/verdict.txt");
//! tickprof::atomic_file::write(&path, b"passed\n")?; // missing directories are created
//! assert_eq!(std::fs::read(&path).ok().as_deref(), Some(&b"passed\n"[..]));
//! # Ok(())
//! # }
//! ```

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically (see the module docs). Missing directories are created.
///
/// # Errors
/// [`Error::Io`] naming `path` (and the directory, if that could not be created) if any step
/// fails; the old file, if any, is then left as it was.
pub fn write(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    write_with(path, |file, _| {
        file.write_all(bytes).map_err(|e| Error::io(path, e))
    })
}

/// The routine behind [`write`]: `fill` writes the new content into the temporary file, through
/// the open handle or through its path (which ends in the target's extension, for writers such as
/// plotters that pick the format from it and open the file themselves). Its error is returned as
/// it is; the temporary file is removed.
pub(crate) fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut File, &Path) -> Result<()>,
) -> Result<()> {
    write_with_probe(path, fill, true)
}

/// [`write_with`]; `persist` false stops before the rename (the temporary file is removed).
fn write_with_probe(
    path: &Path,
    fill: impl FnOnce(&mut File, &Path) -> Result<()>,
    persist: bool,
) -> Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(name) = path.file_name() else {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
        ));
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        let message = format!("cannot create directory {}: {e}", dir.display());
        Error::io(path, std::io::Error::new(e.kind(), message))
    })?;
    // `.run.json.Ab12Cd.tmp.json`: hidden, recognisable, and ending in the target's extension.
    let prefix = format!(".{}.", name.to_string_lossy());
    let suffix = match path.extension() {
        Some(ext) => format!(".tmp.{}", ext.to_string_lossy()),
        None => ".tmp".to_owned(),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(&suffix);
    // tempfile creates 0600 files; outputs get the permissions `File::create` would give them
    // (0666 less the umask), since the temporary file becomes the output.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut temp = builder.tempfile_in(&dir).map_err(|e| Error::io(path, e))?;
    // On any error below, dropping `temp` removes the temporary file.
    let temp_path = temp.path().to_path_buf();
    fill(temp.as_file_mut(), &temp_path)?;
    if !persist {
        return Ok(());
    }
    temp.as_file_mut()
        .flush()
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| Error::io(path, e))?;
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    sync_dir(&dir);
    Ok(())
}

/// Checks, before anything is written, that [`write`] can write `path`: its directory exists
/// (or is created) and takes a new file. For settings that write later, in the background,
/// so that a path that cannot work is an error at setup, not a failure an hour in.
///
/// # Errors
/// [`Error::Io`] naming `path`, as [`write`] would fail.
pub(crate) fn check_writable(path: &Path) -> Result<()> {
    write_with_probe(path, |_, _| Ok(()), false)
}

/// Flushes the rename itself to the disk. Best effort: the new file is in place whatever this
/// returns, so a failure here is not reported as a failed write (and directories cannot be
/// opened as files on every platform).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replaces_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/out.json");
        write(&path, b"one").unwrap();
        write(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn output_gets_ordinary_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write(&path, b"x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        // Readable by the group and others unless the umask says otherwise (it rarely does).
        assert_eq!(mode & 0o600, 0o600, "{mode:o}");
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file_and_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        write(&path, b"old").unwrap();
        let err = write_with(&path, |_, temp| {
            assert!(temp.to_string_lossy().ends_with(".tmp.png"), "{temp:?}");
            std::fs::write(temp, b"half")
                .map_err(|e| Error::io(temp, e))
                .and(Err(Error::Config("drawing failed".into())))
        })
        .unwrap_err();
        assert!(err.to_string().contains("drawing failed"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_directory_that_cannot_be_created_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        let path = dir.path().join("file/sub/out.xml");
        let err = write(&path, b"x").unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: cannot create directory", path.display()))
                && err.contains("file/sub"),
            "{err}"
        );
    }

    #[test]
    fn a_path_without_a_file_name_is_an_error_naming_it() {
        let err = write(Path::new("/"), b"x").unwrap_err();
        assert!(err.to_string().starts_with("/: not a file path"), "{err}");
    }
}
