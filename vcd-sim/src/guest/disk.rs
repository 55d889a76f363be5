//! A guest disk: everything that survives a reboot and is copied when a VM is
//! captured into a template: the filesystem, accounts, installed packages,
//! enabled services and pulled container images.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

pub use super::catalog::OsFamily;
use super::catalog::{self, PackageDef};
use super::fs::{Actor, Fs};
use super::users::Users;

/// Marker at the start of a simulated executable; the rest of the first line
/// names the simulated program it runs.
pub const BINARY_MAGIC: &str = "\u{7f}ELF-sim:";

/// The contents of a simulated executable running `program`.
pub fn binary_contents(program: &str, version: &str) -> String {
    format!("{BINARY_MAGIC}{program} {version}\n")
}

/// The simulated program (and its package version) a file runs, when it is a
/// simulated executable.
pub fn binary_program(data: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(data).ok()?;
    let rest = text.strip_prefix(BINARY_MAGIC)?;
    let line = rest.lines().next().unwrap_or_default().trim();
    let (program, version) = line.split_once(' ').unwrap_or((line, ""));
    Some((program.to_owned(), version.to_owned()))
}

/// Whether a systemd unit is enabled and running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ServiceState {
    /// Started at boot (`systemctl enable`).
    pub enabled: bool,
    /// Running now (`systemctl start`); cleared when the VM powers off.
    pub active: bool,
}

/// A guest disk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Disk {
    /// Which distribution family the disk holds (Photon or Ubuntu).
    pub os: OsFamily,
    /// The filesystem.
    pub fs: Fs,
    /// Accounts and groups (`/etc/passwd`, `/etc/group`).
    pub users: Users,
    /// Installed packages: name → version.
    pub packages: BTreeMap<String, String>,
    /// Known units (without `.service`) and their state.
    pub services: BTreeMap<String, ServiceState>,
    /// Pulled container images, `registry/repo:tag`.
    pub images: BTreeSet<String>,
}

impl Disk {
    /// Directory holding unit files shipped by packages.
    pub fn unit_dir(&self) -> &'static str {
        match self.os {
            OsFamily::Photon => "/usr/lib/systemd/system",
            OsFamily::Ubuntu => "/lib/systemd/system",
        }
    }

    /// The unit file path for a service, when the unit exists.
    pub fn unit_file(&self, service: &str) -> Option<String> {
        [
            format!("/etc/systemd/system/{service}.service"),
            format!("{}/{service}.service", self.unit_dir()),
        ]
        .into_iter()
        .find(|p| self.fs.is_file(p))
    }

    /// Host name from `/etc/hostname`.
    pub fn hostname(&self) -> String {
        self.fs
            .read_text("/etc/hostname")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "localhost".into())
    }

    /// Installs a package: its executables, unit files and data files.
    pub fn install(&mut self, def: &PackageDef, now: DateTime<Utc>) {
        for path in def.binary_paths() {
            let _ = self
                .fs
                .mkdir(&super::fs::parent_of(&path), true, Actor::ROOT, 0o755, now);
            let program = super::fs::base_name(&path);
            let _ = self.fs.write(
                &path,
                binary_contents(program, def.version),
                Actor::ROOT,
                0o755,
                now,
            );
        }
        for unit in def.units {
            let dir = self.unit_dir();
            let _ = self.fs.mkdir(dir, true, Actor::ROOT, 0o755, now);
            let body = format!(
                "[Unit]\nDescription={unit} ({} {})\n[Service]\nExecStart=/usr/bin/true\n[Install]\nWantedBy=multi-user.target\n",
                def.name, def.version
            );
            let _ = self.fs.write(
                &format!("{dir}/{unit}.service"),
                body,
                Actor::ROOT,
                0o644,
                now,
            );
            let state = self.services.entry((*unit).to_owned()).or_default();
            if def.enable_units {
                state.enabled = true;
                state.active = true;
            }
        }
        for (path, content) in def.files {
            let _ = self
                .fs
                .mkdir(&super::fs::parent_of(path), true, Actor::ROOT, 0o755, now);
            let _ = self.fs.write(path, *content, Actor::ROOT, 0o644, now);
        }
        self.packages
            .insert(def.name.to_owned(), def.version.to_owned());
    }

    /// Removes a package and its executables and units.
    pub fn uninstall(&mut self, name: &str) -> bool {
        if self.packages.remove(name).is_none() {
            return false;
        }
        if let Some(def) = catalog::installed_def(self.os, name) {
            for path in def.binary_paths() {
                let _ = self.fs.remove(&path, false, Actor::ROOT);
            }
            for unit in def.units {
                let _ = self.fs.remove(
                    &format!("{}/{unit}.service", self.unit_dir()),
                    false,
                    Actor::ROOT,
                );
                self.services.remove(*unit);
            }
        }
        true
    }

    /// After a boot: every enabled unit runs, every other one is stopped.
    pub fn boot_services(&mut self) {
        let names: Vec<String> = self.services.keys().cloned().collect();
        for name in names {
            let exists = self.unit_file(&name).is_some();
            if let Some(state) = self.services.get_mut(&name) {
                state.active = state.enabled && exists;
            }
        }
    }
}
