//! Test double of `GuestOps` for the vCenter endpoint's tests (files in a
//! map, processes that finish at once, switchable power and tools state) and
//! an HTTPS harness. Not product code: the real guest model replaces it.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Utc;
use futures::future::BoxFuture;
use parking_lot::Mutex;
use vcd_sim::guest_api::{
    GuestCredentials, GuestFault, GuestFileAttributes, GuestFileKind, GuestFileStat, GuestOps,
    GuestProcessInfo, GuestVmInfo, PowerState, ProgramSpec, ToolsRunningStatus,
};
use vcd_sim::vsphere::{VCenterConfig, VCenterSim};

pub const ROOT_PASSWORD: &str = "guest-secret";
pub const VC_USER: &str = "administrator@vsphere.local";
pub const VC_PASSWORD: &str = "vc-secret";

/// One fake VM.
#[derive(Debug, Clone)]
pub struct FakeVm {
    pub info: GuestVmInfo,
    pub root_password: String,
    pub files: BTreeMap<String, (Vec<u8>, u32)>,
    pub dirs: BTreeSet<String>,
    pub processes: Vec<GuestProcessInfo>,
    pub next_pid: i64,
    /// Exit code per program path (default 0).
    pub exit_codes: BTreeMap<String, i32>,
    /// Programs that never finish.
    pub hanging: BTreeSet<String>,
    /// State reads left before VMware Tools come up (0: leave the state alone).
    pub tools_up_after_reads: usize,
}

/// VMs keyed by moref.
#[derive(Debug, Default)]
pub struct FakeGuests {
    pub vms: Mutex<BTreeMap<String, FakeVm>>,
}

impl FakeGuests {
    /// One powered-on, ready VM `vm-42` with `/tmp`, `/root` and `/bin/chmod`.
    pub fn with_ready_vm() -> Arc<FakeGuests> {
        let guests = FakeGuests::default();
        guests.add_vm("vm-42", "mstr-ab12", Some("10.150.0.11"));
        Arc::new(guests)
    }

    pub fn add_vm(&self, moref: &str, name: &str, ip: Option<&str>) {
        let vm = FakeVm {
            info: GuestVmInfo {
                moref: moref.into(),
                name: name.into(),
                power_state: PowerState::PoweredOn,
                tools_running_status: ToolsRunningStatus::Running,
                guest_operations_ready: true,
                ip_address: ip.map(str::to_owned),
                host_name: Some(name.into()),
            },
            root_password: ROOT_PASSWORD.into(),
            files: ["/bin/chmod", "/bin/rm", "/bin/echo"]
                .into_iter()
                .map(|p| (p.to_owned(), (b"\x7fELF".to_vec(), 0o755)))
                .collect(),
            dirs: ["/", "/bin", "/tmp", "/root"]
                .into_iter()
                .map(str::to_owned)
                .collect(),
            processes: Vec::new(),
            next_pid: 4711,
            exit_codes: BTreeMap::new(),
            hanging: BTreeSet::new(),
            tools_up_after_reads: 0,
        };
        self.vms.lock().insert(moref.into(), vm);
    }

    pub fn update(&self, moref: &str, f: impl FnOnce(&mut FakeVm)) {
        f(self.vms.lock().get_mut(moref).expect("known VM"));
    }

    pub fn file(&self, moref: &str, path: &str) -> Option<(Vec<u8>, u32)> {
        self.vms.lock().get(moref)?.files.get(path).cloned()
    }

    fn with_vm<T>(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        f: impl FnOnce(&mut FakeVm) -> Result<T, GuestFault>,
    ) -> Result<T, GuestFault> {
        let mut vms = self.vms.lock();
        let vm = vms
            .get_mut(moref)
            .ok_or_else(|| GuestFault::ManagedObjectNotFound {
                moref: moref.into(),
            })?;
        if vm.info.power_state != PowerState::PoweredOn {
            return Err(GuestFault::InvalidPowerState);
        }
        if !vm.info.guest_operations_ready {
            return Err(GuestFault::GuestOperationsUnavailable);
        }
        if creds.username != "root" || creds.password != vm.root_password {
            return Err(GuestFault::InvalidGuestLogin);
        }
        f(vm)
    }
}

/// `> file` and `2> file` in a program's arguments (fd, target).
fn redirections(arguments: &str) -> Vec<(u8, String)> {
    let tokens: Vec<&str> = arguments.split_whitespace().collect();
    tokens
        .windows(2)
        .filter_map(|pair| match pair[0] {
            ">" => Some((1, pair[1].to_owned())),
            "2>" => Some((2, pair[1].to_owned())),
            _ => None,
        })
        .collect()
}

/// The few programs the double knows: `chmod u+rx FILE`, `rm -rf PREFIX*`,
/// `echo`, and scripts, which need the execute bit and print the text of
/// their `echo '…'` lines (every other line is ignored).
/// Returns (stdout, stderr, exit code).
fn run_program(vm: &mut FakeVm, spec: &ProgramSpec) -> (String, String, i32) {
    let words: Vec<&str> = spec
        .arguments
        .split_whitespace()
        .take_while(|w| !w.starts_with('>') && !w.starts_with("2>"))
        .collect();
    match spec.program_path.as_str() {
        "/bin/chmod" => {
            if let Some((_, mode)) = words.last().and_then(|f| vm.files.get_mut(*f)) {
                *mode |= 0o500;
            }
            (String::new(), String::new(), 0)
        }
        "/bin/rm" => {
            for pattern in words.iter().filter(|w| !w.starts_with('-')) {
                let prefix = pattern.trim_end_matches('*');
                vm.files.retain(|path, _| !path.starts_with(prefix));
            }
            (String::new(), String::new(), 0)
        }
        "/bin/echo" => (format!("{}\n", words.join(" ")), String::new(), 0),
        path => match vm.files.get(path) {
            Some((_, mode)) if mode & 0o100 == 0 => (
                String::new(),
                format!("bash: {path}: Permission denied\n"),
                126,
            ),
            Some((script, _)) if script.starts_with(b"#!") => {
                let stdout = String::from_utf8_lossy(script)
                    .lines()
                    .filter_map(|line| line.strip_prefix("echo "))
                    .map(|text| format!("{}\n", text.trim_matches('\'')))
                    .collect();
                (stdout, String::new(), 0)
            }
            _ => (String::new(), String::new(), 0),
        },
    }
}

fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => path[..i].into(),
    }
}

impl GuestOps for FakeGuests {
    fn list_vms(&self) -> Vec<GuestVmInfo> {
        self.vms.lock().values().map(|vm| vm.info.clone()).collect()
    }

    fn vm_info(&self, moref: &str) -> Option<GuestVmInfo> {
        let mut vms = self.vms.lock();
        let vm = vms.get_mut(moref)?;
        let info = vm.info.clone();
        if vm.tools_up_after_reads > 0 {
            vm.tools_up_after_reads -= 1;
            if vm.tools_up_after_reads == 0 {
                vm.info.tools_running_status = ToolsRunningStatus::Running;
                vm.info.guest_operations_ready = true;
            }
        }
        Some(info)
    }

    fn check_access(&self, moref: &str, creds: &GuestCredentials) -> Result<(), GuestFault> {
        self.with_vm(moref, creds, |_| Ok(()))
    }

    fn start_program<'a>(
        &'a self,
        moref: &'a str,
        creds: &'a GuestCredentials,
        spec: ProgramSpec,
    ) -> BoxFuture<'a, Result<i64, GuestFault>> {
        Box::pin(async move {
            self.with_vm(moref, creds, |vm| {
                if !vm.files.contains_key(&spec.program_path) {
                    return Err(GuestFault::FileNotFound {
                        path: spec.program_path.clone(),
                    });
                }
                let pid = vm.next_pid;
                vm.next_pid += 1;
                let now = Utc::now();
                let hanging = vm.hanging.contains(&spec.program_path);
                let (stdout, stderr, exit_code) = run_program(vm, &spec);
                let exit_code = vm
                    .exit_codes
                    .get(&spec.program_path)
                    .copied()
                    .unwrap_or(exit_code);
                for (fd, target) in redirections(&spec.arguments) {
                    let text = if fd == 2 { &stderr } else { &stdout };
                    vm.files.insert(target, (text.clone().into_bytes(), 0o644));
                }
                vm.processes.push(GuestProcessInfo {
                    pid,
                    name: spec
                        .program_path
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .into(),
                    owner: creds.username.clone(),
                    cmd_line: format!("\"{}\"{}", spec.program_path, spec.arguments),
                    start_time: now,
                    end_time: (!hanging).then_some(now),
                    exit_code: (!hanging).then_some(exit_code),
                });
                Ok(pid)
            })
        })
    }

    fn list_processes(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        pids: Option<&[i64]>,
    ) -> Result<Vec<GuestProcessInfo>, GuestFault> {
        self.with_vm(moref, creds, |vm| {
            Ok(vm
                .processes
                .iter()
                .filter(|p| pids.is_none_or(|pids| pids.contains(&p.pid)))
                .cloned()
                .collect())
        })
    }

    fn terminate_process(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        pid: i64,
    ) -> Result<(), GuestFault> {
        self.with_vm(moref, creds, |vm| {
            let process = vm
                .processes
                .iter_mut()
                .find(|p| p.pid == pid)
                .ok_or(GuestFault::GuestProcessNotFound { pid })?;
            if process.exit_code.is_none() {
                process.exit_code = Some(137);
                process.end_time = Some(Utc::now());
            }
            Ok(())
        })
    }

    fn write_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
        data: &[u8],
        overwrite: bool,
    ) -> Result<(), GuestFault> {
        self.write_file_with_attributes(
            moref,
            creds,
            path,
            data,
            overwrite,
            &GuestFileAttributes::default(),
        )
    }

    fn write_file_with_attributes(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
        data: &[u8],
        overwrite: bool,
        attributes: &GuestFileAttributes,
    ) -> Result<(), GuestFault> {
        self.with_vm(moref, creds, |vm| {
            if vm.dirs.contains(path) {
                return Err(GuestFault::IsADirectory { path: path.into() });
            }
            if !vm.dirs.contains(&parent(path)) {
                return Err(GuestFault::FileNotFound { path: path.into() });
            }
            if vm.files.contains_key(path) && !overwrite {
                return Err(GuestFault::FileAlreadyExists { path: path.into() });
            }
            let mode = attributes.permissions.unwrap_or(0o644);
            vm.files.insert(path.into(), (data.to_vec(), mode));
            Ok(())
        })
    }

    fn read_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
    ) -> Result<Vec<u8>, GuestFault> {
        self.with_vm(moref, creds, |vm| {
            if vm.dirs.contains(path) {
                return Err(GuestFault::IsADirectory { path: path.into() });
            }
            vm.files
                .get(path)
                .map(|(data, _)| data.clone())
                .ok_or_else(|| GuestFault::FileNotFound { path: path.into() })
        })
    }

    fn stat_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
    ) -> Result<GuestFileStat, GuestFault> {
        self.with_vm(moref, creds, |vm| {
            let (kind, size, permissions) = if vm.dirs.contains(path) {
                (GuestFileKind::Directory, 4096, 0o040_755)
            } else if let Some((data, mode)) = vm.files.get(path) {
                (GuestFileKind::File, data.len() as u64, 0o100_000 | mode)
            } else {
                return Err(GuestFault::FileNotFound { path: path.into() });
            };
            let time = chrono::DateTime::parse_from_rfc3339("2018-11-05T10:21:33Z")
                .expect("fixed time")
                .with_timezone(&Utc);
            Ok(GuestFileStat {
                kind,
                size,
                owner_id: 0,
                group_id: 0,
                permissions,
                modification_time: time,
                access_time: time,
            })
        })
    }

    fn delete_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
    ) -> Result<(), GuestFault> {
        self.with_vm(moref, creds, |vm| {
            if vm.dirs.contains(path) {
                return Err(GuestFault::NotAFile { path: path.into() });
            }
            vm.files
                .remove(path)
                .map(|_| ())
                .ok_or_else(|| GuestFault::FileNotFound { path: path.into() })
        })
    }

    fn make_directory(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
        create_parents: bool,
    ) -> Result<(), GuestFault> {
        self.with_vm(moref, creds, |vm| {
            if vm.dirs.contains(path) || vm.files.contains_key(path) {
                return Err(GuestFault::FileAlreadyExists { path: path.into() });
            }
            let mut missing = Vec::new();
            let mut current = path.to_owned();
            while !vm.dirs.contains(&current) {
                missing.push(current.clone());
                current = parent(&current);
            }
            if missing.len() > 1 && !create_parents {
                return Err(GuestFault::FileNotFound { path: path.into() });
            }
            vm.dirs.extend(missing);
            Ok(())
        })
    }
}

/// A vCenter over the fake guests, with one login.
pub fn vcenter(guests: Arc<FakeGuests>) -> VCenterSim {
    let mut config = VCenterConfig::new("vc1").with_user(VC_USER, VC_PASSWORD);
    config.instance_uuid = "6a8f2d3e-5b1c-4f7a-9e2d-1c3b5a7f9e0d".into();
    VCenterSim::new(config, guests)
}

/// The router served over HTTPS on 127.0.0.1 with a self-signed certificate.
pub struct HttpsServer {
    pub addr: std::net::SocketAddr,
    handle: axum_server::Handle<std::net::SocketAddr>,
}

impl HttpsServer {
    pub async fn start(router: axum::Router) -> HttpsServer {
        cse_bus::tls::install_crypto_provider();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("self-signed certificate");
        let config = axum_server::tls_rustls::RustlsConfig::from_pem(
            cert.cert.pem().into_bytes(),
            cert.signing_key.serialize_pem().into_bytes(),
        )
        .await
        .expect("TLS config");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp_rustls(listener, config)
            .expect("TLS server")
            .handle(handle.clone());
        tokio::spawn(
            server.serve(router.into_make_service_with_connect_info::<std::net::SocketAddr>()),
        );
        let addr = handle.listening().await.expect("listening");
        HttpsServer { addr, handle }
    }

    pub async fn stop(self) {
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(1)));
    }
}
