//! What a guest operation is given: the guest managers' ids, the guest
//! credentials and the program to start. Shared by the request builders and
//! the session that sends them.

use cse_core::config::Secret;

/// Guest process manager (`GuestOperationsManager.processManager`; the id vCenter uses).
pub const PROCESS_MANAGER: &str = "guestOperationsProcessManager";
/// Guest file manager.
pub const FILE_MANAGER: &str = "guestOperationsFileManager";
/// Guest auth manager.
pub const AUTH_MANAGER: &str = "guestOperationsAuthManager";

/// Guest credentials (`NamePasswordAuthentication`); the password never shows in `Debug`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestCredentials {
    /// Guest user, normally `root`.
    pub username: String,
    /// Password (redacted in `Debug`).
    pub password: Secret,
}

impl GuestCredentials {
    /// `root` with this password.
    pub fn root(password: Secret) -> Self {
        Self {
            username: "root".to_owned(),
            password,
        }
    }

    /// The user's home directory (the guest's default working directory).
    pub fn home(&self) -> String {
        if self.username == "root" {
            "/root".to_owned()
        } else {
            format!("/home/{}", self.username)
        }
    }
}

/// A program to start in the guest (`GuestProgramSpec`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramSpec {
    /// Absolute program path.
    pub program_path: String,
    /// Arguments, shell-interpreted on Linux (redirections allowed).
    pub arguments: String,
    /// Working directory (guest default = the user's home).
    pub working_directory: Option<String>,
    /// Complete environment (`NAME=value`); empty = the guest's default.
    pub env: Vec<String>,
}
