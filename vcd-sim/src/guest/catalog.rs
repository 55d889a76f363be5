//! The package universe of the simulated distributions: which packages each
//! repository offers (name, version, executables, systemd units, files,
//! dependencies), and which are installed on the base disks.

/// The distribution a disk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OsFamily {
    /// VMware Photon OS 2.0 (tdnf).
    Photon,
    /// Ubuntu 16.04 "xenial" (apt).
    Ubuntu,
}

/// One installable package version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageDef {
    pub name: &'static str,
    pub version: &'static str,
    /// Repository id (see `internet`).
    pub repo: &'static str,
    /// Directories every program is installed into.
    pub dirs: &'static [&'static str],
    pub programs: &'static [&'static str],
    /// systemd units (without `.service`).
    pub units: &'static [&'static str],
    /// Whether installing enables and starts the units (Debian policy).
    pub enable_units: bool,
    pub files: &'static [(&'static str, &'static str)],
    pub depends: &'static [&'static str],
}

impl PackageDef {
    const fn new(
        name: &'static str,
        version: &'static str,
        repo: &'static str,
        dirs: &'static [&'static str],
        programs: &'static [&'static str],
    ) -> Self {
        PackageDef {
            name,
            version,
            repo,
            dirs,
            programs,
            units: &[],
            enable_units: false,
            files: &[],
            depends: &[],
        }
    }

    const fn units(mut self, units: &'static [&'static str], enable: bool) -> Self {
        self.units = units;
        self.enable_units = enable;
        self
    }

    const fn files(mut self, files: &'static [(&'static str, &'static str)]) -> Self {
        self.files = files;
        self
    }

    const fn depends(mut self, depends: &'static [&'static str]) -> Self {
        self.depends = depends;
        self
    }

    /// Every executable path the package installs.
    pub fn binary_paths(&self) -> Vec<String> {
        self.dirs
            .iter()
            .flat_map(|dir| self.programs.iter().map(move |p| format!("{dir}/{p}")))
            .collect()
    }
}

const BIN: &[&str] = &["/bin", "/usr/bin"];
const SBIN: &[&str] = &["/sbin", "/usr/sbin"];
const USR_BIN: &[&str] = &["/usr/bin"];
const USR_SBIN: &[&str] = &["/usr/sbin"];

const COREUTILS: &[&str] = &[
    "cat", "cp", "mkdir", "chmod", "chown", "rm", "mv", "echo", "sleep", "uname", "sync", "touch",
    "ls", "id", "tr", "base64", "true", "false", "head", "tail", "wc", "env", "pwd", "date", "ln",
    "basename", "dirname", "printf", "test", "[", "tee", "sort", "cut", "whoami", "stat",
];

/// Photon OS 2.0 packages (one repository, `photon`).
pub static PHOTON: &[PackageDef] = &[
    PackageDef::new("bash", "4.4.12-3.ph2", "photon", BIN, &["bash", "sh"]),
    PackageDef::new("coreutils", "8.27-3.ph2", "photon", BIN, COREUTILS),
    PackageDef::new("sed", "4.4-2.ph2", "photon", BIN, &["sed"]),
    PackageDef::new("grep", "3.1-1.ph2", "photon", BIN, &["grep"]),
    PackageDef::new("gawk", "4.1.4-1.ph2", "photon", BIN, &["awk", "gawk"]),
    PackageDef::new("shadow", "4.2.1-16.ph2", "photon", BIN, &["passwd", "chage", "chpasswd", "useradd"]),
    PackageDef::new("systemd", "233-11.ph2", "photon", BIN, &["systemctl"]),
    PackageDef::new("hostname", "3.18-1.ph2", "photon", BIN, &["hostname"]),
    PackageDef::new("tdnf", "1.2.2-5.ph2", "photon", USR_BIN, &["tdnf", "yum"]),
    PackageDef::new("iproute2", "4.10.0-3.ph2", "photon", SBIN, &["ip"]),
    PackageDef::new("iptables", "1.6.1-4.ph2", "photon", SBIN, &["iptables"]).units(&["iptables"], true),
    PackageDef::new("openssh", "7.5p1-11.ph2", "photon", USR_SBIN, &["sshd"])
        .units(&["sshd"], true)
        .files(&[(
            "/etc/ssh/sshd_config",
            "# sshd_config (Photon OS)\nPermitRootLogin yes\nPasswordAuthentication yes\nUsePAM yes\nSubsystem sftp /usr/libexec/sftp-server\n",
        )]),
    PackageDef::new("curl", "7.59.0-1.ph2", "photon", USR_BIN, &["curl"]),
    PackageDef::new("e2fsprogs", "1.43.4-2.ph2", "photon", SBIN, &["resize2fs"]),
    PackageDef::new("procps-ng", "3.3.15-1.ph2", "photon", SBIN, &["sysctl"]),
    PackageDef::new("open-vm-tools", "10.2.0-2.ph2", "photon", USR_BIN, &["vmtoolsd"]).units(&["vmtoolsd"], true),
    PackageDef::new("docker", "17.06.0-9.ph2", "photon", USR_BIN, &["docker", "dockerd"]).units(&["docker"], false),
    PackageDef::new("wget", "1.19.1-4.ph2", "photon", USR_BIN, &["wget"]),
    PackageDef::new("kubernetes", "1.10.11-1.ph2", "photon", USR_BIN, &["kubectl", "kubelet", "kube-proxy", "kube-apiserver", "kube-controller-manager", "kube-scheduler"])
        .units(&["kubelet"], false),
    PackageDef::new("kubernetes", "1.9.1-1.ph2", "photon", USR_BIN, &["kubectl", "kubelet", "kube-proxy", "kube-apiserver", "kube-controller-manager", "kube-scheduler"])
        .units(&["kubelet"], false),
    PackageDef::new("kubernetes-kubeadm", "1.10.11-1.ph2", "photon", USR_BIN, &["kubeadm"]).depends(&["kubernetes"]),
    PackageDef::new("kubernetes-kubeadm", "1.9.1-1.ph2", "photon", USR_BIN, &["kubeadm"]).depends(&["kubernetes"]),
    PackageDef::new("nfs-utils", "1.3.3-6.ph2", "photon", USR_SBIN, &["showmount", "exportfs", "rpc.nfsd"])
        .units(&["nfs-server", "rpcbind"], false),
];

/// Packages installed on the Photon base disk.
pub const PHOTON_BASE: &[&str] = &[
    "bash",
    "coreutils",
    "sed",
    "grep",
    "gawk",
    "shadow",
    "systemd",
    "hostname",
    "tdnf",
    "iproute2",
    "iptables",
    "openssh",
    "curl",
    "e2fsprogs",
    "procps-ng",
    "open-vm-tools",
    "docker",
];

/// Ubuntu 16.04 packages, from the base archive and the Docker and Kubernetes repositories.
pub static UBUNTU: &[PackageDef] = &[
    PackageDef::new("bash", "4.3-14ubuntu1.2", "ubuntu-xenial", BIN, &["bash", "sh"]),
    PackageDef::new("coreutils", "8.25-2ubuntu3~16.04", "ubuntu-xenial", BIN, COREUTILS),
    PackageDef::new("sed", "4.2.2-7", "ubuntu-xenial", BIN, &["sed"]),
    PackageDef::new("grep", "2.25-1~16.04.1", "ubuntu-xenial", BIN, &["grep"]),
    PackageDef::new("mawk", "1.3.3-17ubuntu2", "ubuntu-xenial", USR_BIN, &["awk", "mawk"]),
    PackageDef::new("passwd", "1:4.2-3.1ubuntu5.3", "ubuntu-xenial", BIN, &["passwd", "chage", "chpasswd", "useradd"]),
    PackageDef::new("sudo", "1.8.16-0ubuntu1.5", "ubuntu-xenial", USR_BIN, &["sudo"]),
    PackageDef::new("systemd", "229-4ubuntu21.4", "ubuntu-xenial", BIN, &["systemctl"]),
    PackageDef::new("hostname", "3.16ubuntu2", "ubuntu-xenial", BIN, &["hostname"]),
    PackageDef::new("apt", "1.2.27", "ubuntu-xenial", USR_BIN, &["apt", "apt-get", "apt-key", "apt-cache", "apt-mark"]),
    PackageDef::new("dpkg", "1.18.4ubuntu1.4", "ubuntu-xenial", USR_BIN, &["dpkg"]),
    PackageDef::new("debconf", "1.5.58ubuntu1", "ubuntu-xenial", USR_SBIN, &["dpkg-reconfigure"]),
    PackageDef::new("iproute2", "4.3.0-1ubuntu3.16.04.3", "ubuntu-xenial", SBIN, &["ip"]),
    PackageDef::new("iptables", "1.6.0-2ubuntu3", "ubuntu-xenial", SBIN, &["iptables"]),
    PackageDef::new("openssh-server", "1:7.2p2-4ubuntu2.6", "ubuntu-xenial", USR_SBIN, &["sshd"])
        .units(&["ssh"], true)
        .files(&[(
            "/etc/ssh/sshd_config",
            "# sshd_config (Ubuntu)\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM yes\n",
        )]),
    PackageDef::new("cloud-init", "18.3-9-g2e62cb8a-0ubuntu1~16.04.2", "ubuntu-xenial", USR_BIN, &["cloud-init"])
        .units(&["cloud-init"], true),
    PackageDef::new("resolvconf", "1.78ubuntu6", "ubuntu-xenial", SBIN, &["resolvconf"]).files(&[
        ("/etc/resolvconf/resolv.conf.d/head", "# Dynamic resolv.conf(5) file for glibc resolver(3) generated by resolvconf(8)\n"),
        ("/etc/resolvconf/resolv.conf.d/base", ""),
        ("/etc/resolvconf/resolv.conf.d/tail", ""),
    ]),
    PackageDef::new("lsb-release", "9.20160110ubuntu0.2", "ubuntu-xenial", USR_BIN, &["lsb_release"]),
    PackageDef::new("wget", "1.17.1-1ubuntu1.4", "ubuntu-xenial", USR_BIN, &["wget"]),
    PackageDef::new("cloud-guest-utils", "0.27-0ubuntu25.1", "ubuntu-xenial", USR_BIN, &["growpart"]),
    PackageDef::new("e2fsprogs", "1.42.13-1ubuntu1", "ubuntu-xenial", SBIN, &["resize2fs"]),
    PackageDef::new("ifupdown", "0.8.10ubuntu1.4", "ubuntu-xenial", SBIN, &["ifup"]).units(&["networking"], true),
    PackageDef::new("procps", "2:3.3.10-4ubuntu2.4", "ubuntu-xenial", SBIN, &["sysctl"]),
    PackageDef::new("open-vm-tools", "2:10.2.0-3~ubuntu0.16.04.1", "ubuntu-xenial", USR_BIN, &["vmtoolsd"])
        .units(&["open-vm-tools"], true),
    PackageDef::new("apt-transport-https", "1.2.27", "ubuntu-xenial", &["/usr/lib/apt/methods"], &["https"]),
    PackageDef::new("ca-certificates", "20170717~16.04.1", "ubuntu-xenial", &[], &[])
        .files(&[("/etc/ssl/certs/ca-certificates.crt", "# simulated CA bundle\n")]),
    PackageDef::new("curl", "7.47.0-1ubuntu2.11", "ubuntu-xenial", USR_BIN, &["curl"]),
    PackageDef::new("software-properties-common", "0.96.20.7", "ubuntu-xenial", USR_BIN, &["add-apt-repository"]),
    PackageDef::new("nfs-common", "1:1.2.8-9ubuntu12.1", "ubuntu-xenial", SBIN, &["showmount"]).units(&["rpcbind"], true),
    PackageDef::new("nfs-kernel-server", "1:1.2.8-9ubuntu12.1", "ubuntu-xenial", USR_SBIN, &["exportfs", "rpc.nfsd"])
        .units(&["nfs-kernel-server"], true)
        .depends(&["nfs-common"]),
    PackageDef::new("docker-ce", "18.06.1~ce~3-0~ubuntu", "docker-xenial-stable", USR_BIN, &["docker", "dockerd"])
        .units(&["docker"], true),
    PackageDef::new("docker-ce", "18.03.0~ce-0~ubuntu", "docker-xenial-stable", USR_BIN, &["docker", "dockerd"])
        .units(&["docker"], true),
    PackageDef::new("kubelet", "1.12.3-00", "kubernetes-xenial", USR_BIN, &["kubelet"]).units(&["kubelet"], true).depends(&["kubernetes-cni"]),
    PackageDef::new("kubelet", "1.10.11-00", "kubernetes-xenial", USR_BIN, &["kubelet"]).units(&["kubelet"], true).depends(&["kubernetes-cni"]),
    PackageDef::new("kubeadm", "1.12.3-00", "kubernetes-xenial", USR_BIN, &["kubeadm"]).depends(&["kubelet", "kubectl", "kubernetes-cni"]),
    PackageDef::new("kubeadm", "1.10.11-00", "kubernetes-xenial", USR_BIN, &["kubeadm"]).depends(&["kubelet", "kubectl", "kubernetes-cni"]),
    PackageDef::new("kubectl", "1.12.3-00", "kubernetes-xenial", USR_BIN, &["kubectl"]),
    PackageDef::new("kubectl", "1.10.11-00", "kubernetes-xenial", USR_BIN, &["kubectl"]),
    PackageDef::new("kubernetes-cni", "0.6.0-00", "kubernetes-xenial", &["/opt/cni/bin"], &["bridge", "loopback"]),
];

/// Packages installed on the Ubuntu base disk.
pub const UBUNTU_BASE: &[&str] = &[
    "bash",
    "coreutils",
    "sed",
    "grep",
    "mawk",
    "passwd",
    "sudo",
    "systemd",
    "hostname",
    "apt",
    "dpkg",
    "debconf",
    "iproute2",
    "iptables",
    "openssh-server",
    "cloud-init",
    "resolvconf",
    "lsb-release",
    "wget",
    "cloud-guest-utils",
    "e2fsprogs",
    "ifupdown",
    "procps",
    "open-vm-tools",
];

/// Every package version of a distribution.
pub fn universe(os: OsFamily) -> &'static [PackageDef] {
    match os {
        OsFamily::Photon => PHOTON,
        OsFamily::Ubuntu => UBUNTU,
    }
}

/// Packages installed on a distribution's base disk.
pub fn base_packages(os: OsFamily) -> &'static [&'static str] {
    match os {
        OsFamily::Photon => PHOTON_BASE,
        OsFamily::Ubuntu => UBUNTU_BASE,
    }
}

/// The newest version of `name` among `repos` (the universe lists newest first),
/// or the exact `version` when given.
pub fn find(
    os: OsFamily,
    name: &str,
    version: Option<&str>,
    repos: &[String],
) -> Option<&'static PackageDef> {
    universe(os).iter().find(|def| {
        def.name == name
            && version.is_none_or(|v| def.version == v)
            && repos.iter().any(|r| r == def.repo)
    })
}

/// The definition matching an installed package (any repository).
pub fn installed_def(os: OsFamily, name: &str) -> Option<&'static PackageDef> {
    universe(os).iter().find(|def| def.name == name)
}

/// Splits a tdnf spec `name-version-release` into a known name and version.
pub fn split_rpm_spec(os: OsFamily, spec: &str) -> (String, Option<String>) {
    for def in universe(os) {
        if spec == format!("{}-{}", def.name, def.version) {
            return (def.name.to_owned(), Some(def.version.to_owned()));
        }
    }
    (spec.to_owned(), None)
}
