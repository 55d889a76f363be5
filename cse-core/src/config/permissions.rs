//! The config-file permission rule of CSE 1.2.x: the file holds passwords, so it
//! must not be executable by its owner nor accessible at all to group or others.
//! [`check_mode`] is the pure rule over a Unix mode; [`check_file`] reads a file's
//! metadata and applies it. All problems are reported together.

use std::fmt;
use std::path::Path;

/// Which permission class is too open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PermissionClass {
    /// Owner has execute permission.
    OwnerExecute,
    /// Others have any of read, write, execute.
    Others,
    /// Group has any of read, write, execute.
    Group,
}

/// One permission problem of one file, printed with the original text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionProblem {
    /// The file (as given by the caller).
    pub file: String,
    /// What is too open.
    pub class: PermissionClass,
}

impl fmt::Display for PermissionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = &self.file;
        match self.class {
            PermissionClass::OwnerExecute => {
                write!(
                    f,
                    "Remove execute permission of the Owner for the file {file}"
                )
            }
            PermissionClass::Others => write!(
                f,
                "Remove read, write and execute permissions of Others for the file {file}"
            ),
            PermissionClass::Group => write!(
                f,
                "Remove read, write and execute permissions of Group for the file {file}"
            ),
        }
    }
}

const OWNER_EXECUTE: u32 = 0o100;
const GROUP_ANY: u32 = 0o070;
const OTHERS_ANY: u32 = 0o007;

/// Applies the 1.2.x rule to a mode (`st_mode` or just its permission bits), in the
/// original order: owner execute, others, group.
pub fn check_mode(file: &str, mode: u32) -> Vec<PermissionProblem> {
    let mut problems = Vec::new();
    let mut push = |class| {
        problems.push(PermissionProblem {
            file: file.to_owned(),
            class,
        });
    };
    if mode & OWNER_EXECUTE != 0 {
        push(PermissionClass::OwnerExecute);
    }
    if mode & OTHERS_ANY != 0 {
        push(PermissionClass::Others);
    }
    if mode & GROUP_ANY != 0 {
        push(PermissionClass::Group);
    }
    problems
}

/// Reads `path`'s mode and applies [`check_mode`]; the file name in the messages is
/// `path` as given. On non-Unix platforms there are no mode bits and nothing is reported.
pub fn check_file(path: &Path) -> std::io::Result<Vec<PermissionProblem>> {
    let metadata = std::fs::metadata(path)?;
    Ok(check_metadata(&path.display().to_string(), &metadata))
}

#[cfg(unix)]
fn check_metadata(file: &str, metadata: &std::fs::Metadata) -> Vec<PermissionProblem> {
    use std::os::unix::fs::PermissionsExt;
    check_mode(file, metadata.permissions().mode())
}

#[cfg(not(unix))]
fn check_metadata(_file: &str, _metadata: &std::fs::Metadata) -> Vec<PermissionProblem> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(mode: u32) -> Vec<String> {
        check_mode("cfg.yaml", mode)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn owner_read_write_is_fine() {
        assert!(texts(0o600).is_empty());
        assert!(texts(0o100_400).is_empty(), "file-type bits are ignored");
    }

    #[test]
    fn owner_execute() {
        assert_eq!(
            texts(0o700),
            ["Remove execute permission of the Owner for the file cfg.yaml"]
        );
    }

    #[test]
    fn each_other_bit() {
        for mode in [0o604, 0o602, 0o601] {
            assert_eq!(
                texts(mode),
                ["Remove read, write and execute permissions of Others for the file cfg.yaml"],
                "mode {mode:o}"
            );
        }
    }

    #[test]
    fn each_group_bit() {
        for mode in [0o640, 0o620, 0o610] {
            assert_eq!(
                texts(mode),
                ["Remove read, write and execute permissions of Group for the file cfg.yaml"],
                "mode {mode:o}"
            );
        }
    }

    #[test]
    fn all_problems_together_in_original_order() {
        assert_eq!(
            check_mode("f", 0o777)
                .iter()
                .map(|p| p.class)
                .collect::<Vec<_>>(),
            [
                PermissionClass::OwnerExecute,
                PermissionClass::Others,
                PermissionClass::Group
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn reads_a_real_file() {
        use std::os::unix::fs::PermissionsExt;
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        let problems = check_file(file.path()).unwrap();
        assert_eq!(problems.len(), 2);
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(check_file(file.path()).unwrap().is_empty());
    }
}
