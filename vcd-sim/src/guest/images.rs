//! Base disks of the OVAs CSE templates start from: Photon OS 2.0 (tdnf,
//! docker installed but disabled, no Kubernetes) and Ubuntu 16.04 (apt, no
//! docker, no Kubernetes, no package lists fetched yet).

use chrono::{DateTime, Utc};

use super::catalog;
use super::disk::{Disk, OsFamily};
use super::fs::{Actor, Fs};
use super::users::Users;

/// Initial root password of the Photon OVA (it ships with `changeme`).
pub const PHOTON_INITIAL_ROOT_PASSWORD: &str = "changeme";

/// Picks the distribution from OVF hints (osType, description, file name):
/// anything mentioning Photon is Photon, everything else Ubuntu.
pub fn os_from_hint(hint: &str) -> OsFamily {
    if hint.to_ascii_lowercase().contains("photon") {
        OsFamily::Photon
    } else {
        OsFamily::Ubuntu
    }
}

const COMMON_DIRS: &[(&str, u32)] = &[
    ("/bin", 0o755),
    ("/sbin", 0o755),
    ("/usr", 0o755),
    ("/usr/bin", 0o755),
    ("/usr/sbin", 0o755),
    ("/usr/local", 0o755),
    ("/usr/local/bin", 0o755),
    ("/etc", 0o755),
    ("/etc/ssh", 0o755),
    ("/etc/systemd", 0o755),
    ("/etc/systemd/system", 0o755),
    ("/root", 0o700),
    ("/home", 0o755),
    ("/tmp", 0o1777),
    ("/var", 0o755),
    ("/var/log", 0o755),
    ("/var/lib", 0o755),
    ("/var/run", 0o755),
    ("/opt", 0o755),
    ("/dev", 0o755),
];

/// A fresh base disk for a distribution.
pub fn base_disk(os: OsFamily, now: DateTime<Utc>) -> Disk {
    let mut fs = Fs::new(now);
    for (dir, mode) in COMMON_DIRS {
        let _ = fs.mkdir(dir, true, Actor::ROOT, *mode, now);
    }
    let mut files: Vec<(&str, String)> = vec![
        (
            "/etc/machine-id",
            "6f1c2d4e8a9b4c0d9e1f2a3b4c5d6e7f\n".into(),
        ),
        ("/etc/sysctl.conf", "# sysctl settings\n".into()),
        ("/etc/resolv.conf", "nameserver 127.0.0.53\n".into()),
        ("/etc/hosts", "127.0.0.1 localhost\n".into()),
    ];
    let root_password = match os {
        OsFamily::Photon => {
            files.push(("/etc/hostname", "photon-machine\n".into()));
            files.push((
                "/etc/os-release",
                "NAME=\"VMware Photon OS\"\nVERSION=\"2.0\"\nID=photon\nVERSION_ID=2.0\nPRETTY_NAME=\"VMware Photon OS/Linux\"\n".into(),
            ));
            files.push((
                "/etc/yum.repos.d/photon.repo",
                "[photon]\nname=VMware Photon Linux 2.0(x86_64)\nbaseurl=https://packages.photon.sim.test/photon/2.0/release\ngpgcheck=1\nenabled=1\n".into(),
            ));
            Some(PHOTON_INITIAL_ROOT_PASSWORD.to_owned())
        }
        OsFamily::Ubuntu => {
            files.push(("/etc/hostname", "ubuntu\n".into()));
            files.push((
                "/etc/os-release",
                "NAME=\"Ubuntu\"\nVERSION=\"16.04.5 LTS (Xenial Xerus)\"\nID=ubuntu\nVERSION_ID=\"16.04\"\nVERSION_CODENAME=xenial\nUBUNTU_CODENAME=xenial\n".into(),
            ));
            files.push((
                "/etc/apt/sources.list",
                "deb http://mirror.ubuntu.sim.test/ubuntu xenial main restricted universe\ndeb http://mirror.ubuntu.sim.test/ubuntu xenial-updates main restricted universe\n".into(),
            ));
            files.push((
                "/etc/apt/trusted.gpg",
                super::internet::key_text("ubuntu-archive"),
            ));
            files.push((
                "/etc/network/interfaces",
                "auto lo\niface lo inet loopback\nauto ens160\niface ens160 inet dhcp\n".into(),
            ));
            None
        }
    };
    for (path, content) in files {
        let _ = fs.mkdir(&super::fs::parent_of(path), true, Actor::ROOT, 0o755, now);
        let _ = fs.write(path, content, Actor::ROOT, 0o644, now);
    }
    let _ = fs.write("/dev/null", bytes::Bytes::new(), Actor::ROOT, 0o666, now);
    if os == OsFamily::Ubuntu {
        for dir in [
            "/etc/apt/sources.list.d",
            "/var/lib/apt/lists",
            "/etc/apt/trusted.gpg.d",
        ] {
            let _ = fs.mkdir(dir, true, Actor::ROOT, 0o755, now);
        }
    }
    let mut disk = Disk {
        os,
        fs,
        users: Users::with_root(root_password),
        packages: Default::default(),
        services: Default::default(),
        images: Default::default(),
    };
    for name in catalog::base_packages(os) {
        if let Some(def) = catalog::installed_def(os, name) {
            disk.install(def, now);
        }
    }
    disk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_pick_the_distribution() {
        assert_eq!(
            os_from_hint("photon-custom-hw11-2.0-304b817.ova"),
            OsFamily::Photon
        );
        assert_eq!(os_from_hint("VMware Photon OS (64-bit)"), OsFamily::Photon);
        assert_eq!(
            os_from_hint("ubuntu-16.04-server-cloudimg-amd64.ova"),
            OsFamily::Ubuntu
        );
    }

    #[test]
    fn photon_has_docker_but_no_kubernetes() {
        let disk = base_disk(OsFamily::Photon, Utc::now());
        assert!(disk.packages.contains_key("docker"));
        assert!(!disk.packages.contains_key("kubernetes"));
        assert!(disk.fs.is_file("/usr/bin/docker"));
        assert!(!disk.fs.exists("/usr/bin/kubeadm"));
        assert!(disk.fs.is_file("/bin/chmod"));
        assert!(!disk.services["docker"].enabled);
    }

    #[test]
    fn ubuntu_has_apt_and_no_docker() {
        let disk = base_disk(OsFamily::Ubuntu, Utc::now());
        assert!(disk.fs.is_file("/usr/bin/apt-get"));
        assert!(!disk.fs.exists("/usr/bin/docker"));
        assert!(!disk.fs.exists("/usr/bin/curl"));
        assert!(disk.users.get("root").unwrap().password.is_none());
    }
}
