//! The stored login of `vcd-cse`: host, organization, user, session token and its kind
//! (legacy or bearer), API version, TLS choice and the VDC in use, kept in one YAML file readable only by its owner (mode 0600,
//! directory 0700). The token is a [`Secret`]: it is never printed.
//!
//! Location: `$VCD_CSE_HOME/profile.yaml`, else `~/.vcd-cse/profile.yaml`.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cse_core::config::Secret;
use cse_vcd::vcd::{SessionToken, TokenKind};
use serde::{Deserialize, Serialize};

use super::errors::TenantError;

/// Environment variable naming the directory of the profile file.
pub const HOME_ENV: &str = "VCD_CSE_HOME";
/// File name inside that directory.
pub const PROFILE_FILE: &str = "profile.yaml";
/// Directory under the user's home when [`HOME_ENV`] is not set.
pub const DEFAULT_DIR: &str = ".vcd-cse";

/// A stored login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Base URL of vCD (`https://host[:port]`, no path).
    pub host: String,
    /// Organization logged in to.
    pub org: String,
    /// User name.
    pub user: String,
    /// Session token (empty after logout).
    pub token: Secret,
    /// How the token is sent: `legacy` (`x-vcloud-authorization`) or `bearer`
    /// (`Authorization: Bearer`, a CloudAPI JWT). Profiles written before it existed
    /// hold legacy tokens.
    #[serde(default)]
    pub token_type: TokenType,
    /// API version used for every request (`31.0`).
    pub api_version: String,
    /// Verify the server's TLS certificate.
    pub verify: bool,
    /// Do not warn about unverified TLS.
    #[serde(default)]
    pub disable_warnings: bool,
    /// Name of the VDC in use (empty when the org has none).
    #[serde(default)]
    pub vdc: String,
    /// Href of the VDC in use.
    #[serde(default)]
    pub vdc_href: String,
    /// Href of the logged-in organization.
    #[serde(default)]
    pub org_href: String,
}

/// The kind of a stored token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// `x-vcloud-authorization`.
    #[default]
    Legacy,
    /// `Authorization: Bearer`.
    Bearer,
}

impl Profile {
    /// Whether the profile holds a usable token.
    pub fn is_logged_in(&self) -> bool {
        !self.token.is_empty()
    }

    /// The stored token with its kind.
    pub fn session_token(&self) -> SessionToken {
        let kind = match self.token_type {
            TokenType::Legacy => TokenKind::Legacy,
            TokenType::Bearer => TokenKind::Bearer,
        };
        SessionToken::new(kind, self.token.clone())
    }

    /// Stores `token` and its kind.
    pub fn set_session_token(&mut self, token: &SessionToken) {
        self.token = token.secret().clone();
        self.token_type = match token.kind() {
            TokenKind::Legacy => TokenType::Legacy,
            TokenKind::Bearer => TokenType::Bearer,
        };
    }
}

/// The profile file path from the environment: `$VCD_CSE_HOME/profile.yaml` or
/// `~/.vcd-cse/profile.yaml` (`None` when neither variable gives a directory).
pub fn default_path(env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(dir) = env(HOME_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join(PROFILE_FILE));
    }
    env("HOME")
        .filter(|d| !d.is_empty())
        .map(|home| PathBuf::from(home).join(DEFAULT_DIR).join(PROFILE_FILE))
}

/// Reads and writes the profile file at one path.
#[derive(Debug, Clone)]
pub struct ProfileStore {
    path: PathBuf,
}

impl ProfileStore {
    /// A store for the file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> ProfileStore {
        ProfileStore { path: path.into() }
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored profile, `None` when there is no file.
    pub fn load(&self) -> Result<Option<Profile>, TenantError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.read_error(e.to_string())),
        };
        serde_yaml::from_str(&text)
            .map(Some)
            .map_err(|e| self.read_error(e.to_string()))
    }

    /// The stored profile if it holds a token, else [`TenantError::NotLoggedIn`].
    pub fn require_login(&self) -> Result<Profile, TenantError> {
        match self.load()? {
            Some(profile) if profile.is_logged_in() => Ok(profile),
            _ => Err(TenantError::NotLoggedIn),
        }
    }

    /// Write the profile: the directory is created with mode 0700, the file is written to a
    /// temporary file with mode 0600 and renamed over the old one.
    pub fn save(&self, profile: &Profile) -> Result<(), TenantError> {
        let text = serde_yaml::to_string(profile).map_err(|e| self.write_error(e.to_string()))?;
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // A directory this command made (or its default `~/.vcd-cse`, also when an older
        // version made it with the umask's mode) is kept at 0700; a directory the user named
        // with $VCD_CSE_HOME that already exists is left as it is (the file is 0600).
        if !dir.exists() || dir.file_name() == Some(std::ffi::OsStr::new(DEFAULT_DIR)) {
            cse_core::config::create_private_dir(dir)
                .map_err(|e| self.write_error(e.to_string()))?;
        }
        let temp = dir.join(format!(".{PROFILE_FILE}.{}.tmp", std::process::id()));
        let result =
            write_private_file(&temp, text.as_bytes()).and_then(|()| fs::rename(&temp, &self.path));
        if let Err(e) = result {
            let _ = fs::remove_file(&temp);
            return Err(self.write_error(e.to_string()));
        }
        Ok(())
    }

    /// Forget the token (logout, failed login); other settings stay. `false` when there was
    /// no profile.
    pub fn clear_token(&self) -> Result<bool, TenantError> {
        match self.load()? {
            Some(mut profile) => {
                profile.token = Secret::default();
                self.save(&profile)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// A warning text when the file can be read or written by group or others.
    pub fn permission_warning(&self) -> Option<String> {
        let mode = file_mode(&self.path)?;
        (mode & 0o077 != 0).then(|| {
            format!(
                "Warning: the profile file '{}' is accessible by other users (mode {:o}); it holds a session token. Run: chmod 600 '{}'",
                self.path.display(),
                mode & 0o777,
                self.path.display()
            )
        })
    }

    fn read_error(&self, cause: String) -> TenantError {
        TenantError::ProfileRead {
            path: self.path.clone(),
            cause,
        }
    }

    fn write_error(&self, cause: String) -> TenantError {
        TenantError::ProfileWrite {
            path: self.path.clone(),
            cause,
        }
    }
}

#[cfg(unix)]
fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // A leftover temp file keeps its old mode; force 0600 either way.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn an_open_default_profile_directory_is_tightened_on_save() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(DEFAULT_DIR);
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let store = ProfileStore::new(dir.join(PROFILE_FILE));
        let profile = Profile {
            host: "https://vcd".into(),
            org: "acme".into(),
            user: "alice".into(),
            token: Secret::new("token"),
            token_type: TokenType::Bearer,
            api_version: "31.0".into(),
            verify: true,
            disable_warnings: false,
            vdc: String::new(),
            vdc_href: String::new(),
            org_href: String::new(),
        };
        store.save(&profile).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(store.path()), 0o600);
        let text = fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("token_type: bearer"), "{text}");
        let loaded = store.load().unwrap().unwrap();
        assert_eq!(
            loaded.session_token(),
            SessionToken::Bearer(Secret::new("token"))
        );
    }

    #[test]
    fn a_profile_without_a_token_type_holds_a_legacy_token() {
        let text = "host: https://vcd\norg: acme\nuser: alice\ntoken: abc\napi_version: '31.0'\nverify: true\n";
        let profile: Profile = serde_yaml::from_str(text).unwrap();
        assert_eq!(profile.token_type, TokenType::Legacy);
        assert_eq!(
            profile.session_token(),
            SessionToken::Legacy(Secret::new("abc"))
        );
        let mut bearer = profile.clone();
        bearer.set_session_token(&SessionToken::Bearer(Secret::new("eyJ.a.b")));
        assert_eq!(bearer.token_type, TokenType::Bearer);
        assert_eq!(bearer.token.expose(), "eyJ.a.b");
    }
}
