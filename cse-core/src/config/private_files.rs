//! Files that hold secrets (passwords, session tokens, kubeconfigs, generated
//! configurations): one place that writes them readable by their owner only, so every
//! binary of the workspace follows the same rule: the file 0600, its directory 0700.
//!
//! * Directories CSE creates are made 0700. An existing directory CSE owns the purpose
//!   of (a state directory, a profile directory) is tightened to 0700; when that fails
//!   (it belongs to another user) the caller gets an error naming the directory and
//!   the fix, and nothing is written.
//! * Files are created 0600 from the start (never written first and restricted after),
//!   and an existing file is tightened to 0600 before anything is written to it.
//! * [`write_private_file`] writes a temporary file next to the target and renames it,
//!   so a reader never sees half a file.
//!
//! On non-Unix platforms there are no mode bits; the functions only create and write.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Mode of a directory holding secrets.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// Mode of a file holding secrets.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// A file or directory that could not be made private.
#[derive(Debug, thiserror::Error)]
#[error("{what} '{path}': {source}{hint}", hint = hint(.source, .path))]
pub struct PrivateFileError {
    /// What was being done (`cannot create the directory`, …).
    pub what: &'static str,
    /// The path.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

fn hint(source: &std::io::Error, path: &Path) -> String {
    if source.kind() == std::io::ErrorKind::PermissionDenied {
        format!(
            " (it holds secrets and must be owned by the user running this command with mode 0700 for directories, 0600 for files; fix with chown/chmod or remove '{}')",
            path.display()
        )
    } else {
        String::new()
    }
}

fn error(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> PrivateFileError {
    let path = path.to_path_buf();
    move |source| PrivateFileError { what, path, source }
}

/// Creates `dir` (and missing parents) with mode 0700, or tightens an existing `dir` to
/// 0700. Parents that already exist are left alone.
pub fn create_private_dir(dir: &Path) -> Result<(), PrivateFileError> {
    imp::create_dir(dir).map_err(error("cannot create the directory", dir))?;
    imp::restrict(dir, PRIVATE_DIR_MODE).map_err(error("cannot make private the directory", dir))
}

/// Writes `bytes` to `path` readable by the owner only: a temporary 0600 file in the same
/// directory, flushed, then renamed over `path`. The directory must exist (it is not
/// changed: a caller writing where the user asked, such as `--info-file`, must not
/// change the user's directory; callers owning the directory use [`create_private_dir`]).
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), PrivateFileError> {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = imp::open_private(&temp, false)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(source) = result {
        let _ = fs::remove_file(&temp);
        return Err(PrivateFileError {
            what: "cannot write",
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

/// Opens `path` for appending, creating it 0600; an existing file is tightened to 0600
/// first (refused when it belongs to another user).
pub fn open_private_append(path: &Path) -> Result<fs::File, PrivateFileError> {
    imp::open_private(path, true).map_err(error("cannot open", path))
}

#[cfg(unix)]
mod imp {
    use std::fs;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    use std::path::Path;

    use super::PRIVATE_FILE_MODE;

    pub(super) fn create_dir(dir: &Path) -> std::io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(super::PRIVATE_DIR_MODE)
            .create(dir)
    }

    /// Sets `mode` unless the permission bits already equal it.
    pub(super) fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
        let current = fs::metadata(path)?.permissions().mode() & 0o777;
        if current != mode {
            fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
        }
        Ok(())
    }

    pub(super) fn open_private(path: &Path, append: bool) -> std::io::Result<fs::File> {
        let mut options = fs::OpenOptions::new();
        options.create(true).mode(PRIVATE_FILE_MODE);
        if append {
            options.append(true);
        } else {
            options.write(true).truncate(true);
        }
        let file = options.open(path)?;
        // An existing file keeps its old mode on open: tighten it (fails for a file of
        // another user, which is then not written).
        let current = file.metadata()?.permissions().mode() & 0o777;
        if current != PRIVATE_FILE_MODE {
            file.set_permissions(fs::Permissions::from_mode(PRIVATE_FILE_MODE))?;
        }
        Ok(file)
    }
}

#[cfg(not(unix))]
mod imp {
    use std::fs;
    use std::path::Path;

    pub(super) fn create_dir(dir: &Path) -> std::io::Result<()> {
        fs::create_dir_all(dir)
    }

    pub(super) fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
        Ok(())
    }

    pub(super) fn open_private(path: &Path, append: bool) -> std::io::Result<fs::File> {
        let mut options = fs::OpenOptions::new();
        options.create(true);
        if append {
            options.append(true);
        } else {
            options.write(true).truncate(true);
        }
        options.open(path)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_directories_and_files_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        let file = dir.join("secret.yaml");
        write_private_file(&file, b"password: x\n").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(fs::read_to_string(&file).unwrap(), "password: x\n");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");
    }

    #[test]
    fn existing_open_directories_and_files_are_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("journal");
        fs::write(&file, "old\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let mut f = open_private_append(&file).unwrap();
        f.write_all(b"new\n").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(fs::read_to_string(&file).unwrap(), "old\nnew\n");
        let replaced = dir.join("replaced");
        fs::write(&replaced, "old").unwrap();
        fs::set_permissions(&replaced, fs::Permissions::from_mode(0o666)).unwrap();
        write_private_file(&replaced, b"new").unwrap();
        assert_eq!(mode(&replaced), 0o600);
    }

    #[test]
    fn a_missing_directory_is_a_clear_error() {
        let root = tempfile::tempdir().unwrap();
        let err = write_private_file(&root.path().join("nope/file"), b"x").unwrap_err();
        assert!(err.to_string().starts_with("cannot write '"), "{err}");
    }
}
