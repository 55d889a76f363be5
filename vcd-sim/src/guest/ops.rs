//! `GuestOps` for the vCenter SOAP layer: VM info, credential and readiness
//! checks in vCenter's order, programs run through the guest shell, the
//! process table, and file transfers into and out of the guest filesystem.

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::guest_api::{
    GuestCredentials, GuestFault, GuestFileAttributes, GuestFileKind, GuestFileStat, GuestOps,
    GuestProcessInfo, GuestVmInfo, PowerState, ProgramSpec,
};

use super::exec::context::{Io, Sink};
use super::faults::GuestFaultChecks as _;
use super::fs::{self, Actor, FsError};
use super::lifecycle::drive;
use super::process::KILLED_EXIT_CODE;
use super::shell;
use super::vm::{BootPhase, Vm};
use super::world::{GuestWorld, WorldState};

fn info(vm: &Vm) -> GuestVmInfo {
    let up = vm.network_up();
    GuestVmInfo {
        moref: vm.moref.clone(),
        name: vm.name.clone(),
        power_state: vm.power,
        tools_running_status: vm.phase.tools_status(),
        guest_operations_ready: vm.phase == BootPhase::Ready,
        ip_address: vm.ip.clone().filter(|_| up),
        host_name: up.then(|| vm.disk.hostname()),
    }
}

/// vCenter's precondition order: VM exists, powered on, agent ready, credentials.
fn authorize(
    state: &mut WorldState,
    moref: &str,
    creds: &GuestCredentials,
) -> Result<Actor, GuestFault> {
    let vm = state.vm(moref)?;
    if vm.power != PowerState::PoweredOn {
        return Err(GuestFault::InvalidPowerState);
    }
    let ready = vm.phase == BootPhase::Ready;
    if !ready || state.faults.ops_unavailable(moref) {
        return Err(GuestFault::GuestOperationsUnavailable);
    }
    let vm = state.vm(moref)?;
    if state.faults.credentials_refused(moref)
        || !vm.disk.users.verify(&creds.username, &creds.password)
    {
        return Err(GuestFault::InvalidGuestLogin);
    }
    let user = vm
        .disk
        .users
        .get(&creds.username)
        .ok_or(GuestFault::InvalidGuestLogin)?;
    Ok(Actor {
        uid: user.uid,
        gid: user.gid,
    })
}

fn file_fault(path: &str, error: FsError) -> GuestFault {
    match error {
        FsError::NotFound(_) | FsError::NotADirectory(_) => GuestFault::FileNotFound {
            path: path.to_owned(),
        },
        FsError::IsADirectory(_) => GuestFault::NotAFile {
            path: path.to_owned(),
        },
        FsError::AlreadyExists(_) => GuestFault::FileAlreadyExists {
            path: path.to_owned(),
        },
        FsError::PermissionDenied(_) => GuestFault::GuestPermissionDenied {
            path: path.to_owned(),
        },
        FsError::NotEmpty(_) => GuestFault::SystemError {
            message: format!("{path}: directory not empty"),
        },
    }
}

fn absolute(path: &str, name: &str) -> Result<String, GuestFault> {
    if path.starts_with('/') {
        Ok(fs::normalize("/", path))
    } else {
        Err(GuestFault::InvalidArgument {
            name: name.to_owned(),
        })
    }
}

impl GuestWorld {
    /// Runs a shell script as root on a powered-on VM, bypassing guest
    /// operations (no credential or readiness checks). Returns (exit code,
    /// stdout, stderr). A test and debugging helper.
    pub async fn run_as_root(
        &self,
        moref: &str,
        script: &str,
    ) -> Result<(i32, String, String), GuestFault> {
        let (ctx, io) = {
            let state = self.lock();
            let vm = state.vm(moref)?;
            if vm.phase == BootPhase::Off {
                return Err(GuestFault::InvalidPowerState);
            }
            let ctx = shell::login(self.clone(), vm, "root", None, None).ok_or_else(|| {
                GuestFault::SystemError {
                    message: "no root user".into(),
                }
            })?;
            (ctx, Io::buffered())
        };
        let mut ctx = ctx;
        let code = shell::run_source(&mut ctx, script, &io).await;
        Ok((code, io.stdout_text(), io.stderr_text()))
    }
}

impl GuestOps for GuestWorld {
    fn list_vms(&self) -> Vec<GuestVmInfo> {
        self.lock().vms.values().map(info).collect()
    }

    fn vm_info(&self, moref: &str) -> Option<GuestVmInfo> {
        self.lock().vms.get(moref).map(info)
    }

    fn check_access(&self, moref: &str, creds: &GuestCredentials) -> Result<(), GuestFault> {
        authorize(&mut self.lock(), moref, creds).map(|_| ())
    }

    fn start_program<'a>(
        &'a self,
        moref: &'a str,
        creds: &'a GuestCredentials,
        spec: ProgramSpec,
    ) -> BoxFuture<'a, Result<i64, GuestFault>> {
        Box::pin(async move {
            // vCenter answers a relative path with "File ls was not found".
            let program = absolute(&spec.program_path, "programPath").map_err(|_| {
                GuestFault::FileNotFound {
                    path: spec.program_path.clone(),
                }
            })?;
            let cmd_line = format!("\"{}\" {}", spec.program_path, spec.arguments);
            let (mut ctx, pid, hangs, epoch) = {
                let mut state = self.lock();
                authorize(&mut state, moref, creds)?;
                let hangs = state.faults.process_hangs(moref, &cmd_line);
                let now = state.now();
                let vm = state.vm_mut(moref)?;
                if !vm.disk.fs.exists(&program) {
                    return Err(GuestFault::FileNotFound {
                        path: spec.program_path.clone(),
                    });
                }
                let cwd = match spec.working_directory.as_deref().filter(|d| !d.is_empty()) {
                    Some(dir) => {
                        let dir = absolute(dir, "workingDirectory")?;
                        if !vm.disk.fs.is_dir(&dir) {
                            return Err(GuestFault::FileNotFound { path: dir });
                        }
                        Some(dir)
                    }
                    None => None,
                };
                let mut ctx = shell::login(self.clone(), vm, &creds.username, cwd, Some(&spec.env))
                    .ok_or(GuestFault::InvalidGuestLogin)?;
                let cancel = CancellationToken::new();
                ctx.cancel = cancel.clone();
                let pid = vm.processes.spawn(
                    fs::base_name(&spec.program_path).to_owned(),
                    creds.username.clone(),
                    cmd_line.clone(),
                    now,
                    cancel,
                );
                ctx.pid = pid;
                (ctx, pid, hangs, vm.epoch)
            };
            let world = self.clone();
            let moref_owned = moref.to_owned();
            drive(self, async move {
                let cancel = ctx.cancel.clone();
                let code = if hangs {
                    cancel.cancelled().await;
                    KILLED_EXIT_CODE
                } else {
                    let io = Io {
                        stdin: Default::default(),
                        stdout: Sink::Null,
                        stderr: Sink::Null,
                    };
                    tokio::select! {
                        biased;
                        _ = cancel.cancelled() => KILLED_EXIT_CODE,
                        code = shell::run_source(&mut ctx, &cmd_line, &io) => code,
                    }
                };
                let mut state = world.lock();
                let now = state.now();
                if let Some(vm) = state
                    .vms
                    .get_mut(&moref_owned)
                    .filter(|vm| vm.epoch == epoch)
                {
                    vm.processes.finish(pid, code, now);
                }
            });
            Ok(pid)
        })
    }

    fn list_processes(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        pids: Option<&[i64]>,
    ) -> Result<Vec<GuestProcessInfo>, GuestFault> {
        let mut state = self.lock();
        authorize(&mut state, moref, creds)?;
        let now = state.now();
        let retention = chrono::Duration::from_std(self.timings().process_retention)
            .unwrap_or_else(|_| chrono::Duration::minutes(5));
        let vm = state.vm_mut(moref)?;
        vm.processes.prune(now, retention);
        Ok(vm
            .processes
            .all()
            .filter(|p| pids.is_none_or(|list| list.is_empty() || list.contains(&p.pid)))
            .map(|p| p.info())
            .collect())
    }

    fn terminate_process(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        pid: i64,
    ) -> Result<(), GuestFault> {
        let mut state = self.lock();
        authorize(&mut state, moref, creds)?;
        let now = state.now();
        let vm = state.vm_mut(moref)?;
        if vm.processes.terminate(pid, now) {
            Ok(())
        } else {
            Err(GuestFault::GuestProcessNotFound { pid })
        }
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

    /// The file is written as `creds`' user with mode 0644, then given the
    /// attributes' mode and owners, as vCenter does for
    /// `GuestPosixFileAttributes` (times are not modelled).
    fn write_file_with_attributes(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
        data: &[u8],
        overwrite: bool,
        attributes: &GuestFileAttributes,
    ) -> Result<(), GuestFault> {
        let full = absolute(path, "guestFilePath")?;
        let mut state = self.lock();
        let actor = authorize(&mut state, moref, creds)?;
        let now = state.now();
        let vm = state.vm_mut(moref)?;
        match vm.disk.fs.get(&full) {
            Some(node) if node.is_dir() => {
                return Err(GuestFault::NotAFile {
                    path: path.to_owned(),
                });
            }
            Some(_) if !overwrite => {
                return Err(GuestFault::FileAlreadyExists {
                    path: path.to_owned(),
                });
            }
            _ => {}
        }
        vm.disk
            .fs
            .write(
                &full,
                bytes::Bytes::copy_from_slice(data),
                actor,
                0o644,
                now,
            )
            .map_err(|e| file_fault(path, e))?;
        if let Some(mode) = attributes.permissions {
            vm.disk
                .fs
                .chmod(&full, mode, actor)
                .map_err(|e| file_fault(path, e))?;
        }
        if attributes.owner_id.is_some() || attributes.group_id.is_some() {
            vm.disk
                .fs
                .chown(&full, attributes.owner_id, attributes.group_id, actor)
                .map_err(|e| file_fault(path, e))?;
        }
        Ok(())
    }

    fn read_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
    ) -> Result<Vec<u8>, GuestFault> {
        let full = absolute(path, "guestFilePath")?;
        let mut state = self.lock();
        let actor = authorize(&mut state, moref, creds)?;
        let vm = state.vm(moref)?;
        vm.disk
            .fs
            .read(&full, actor)
            .map(|d| d.to_vec())
            .map_err(|e| file_fault(path, e))
    }

    /// The entry's own mode, owners and modification time (read access
    /// checked as for `read_file`), without copying a file's content.
    fn stat_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
    ) -> Result<GuestFileStat, GuestFault> {
        let full = absolute(path, "guestFilePath")?;
        let mut state = self.lock();
        let actor = authorize(&mut state, moref, creds)?;
        let vm = state.vm(moref)?;
        let (kind, size, type_bits) = match vm.disk.fs.read(&full, actor) {
            Ok(data) => (GuestFileKind::File, data.len() as u64, 0o100_000),
            Err(FsError::IsADirectory(_)) => (GuestFileKind::Directory, 4096, 0o040_000),
            Err(e) => return Err(file_fault(path, e)),
        };
        let node = vm
            .disk
            .fs
            .get(&full)
            .ok_or_else(|| file_fault(path, FsError::NotFound(full.clone())))?;
        Ok(GuestFileStat {
            kind,
            size,
            owner_id: node.uid,
            group_id: node.gid,
            permissions: type_bits | node.mode,
            modification_time: node.mtime,
            access_time: node.mtime,
        })
    }

    fn delete_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
    ) -> Result<(), GuestFault> {
        let full = absolute(path, "filePath")?;
        let mut state = self.lock();
        let actor = authorize(&mut state, moref, creds)?;
        let vm = state.vm_mut(moref)?;
        match vm.disk.fs.get(&full) {
            None => Err(GuestFault::FileNotFound {
                path: path.to_owned(),
            }),
            Some(node) if node.is_dir() => Err(GuestFault::NotAFile {
                path: path.to_owned(),
            }),
            Some(_) => vm
                .disk
                .fs
                .remove(&full, false, actor)
                .map_err(|e| file_fault(path, e)),
        }
    }

    fn make_directory(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
        create_parents: bool,
    ) -> Result<(), GuestFault> {
        let full = absolute(path, "directoryPath")?;
        let mut state = self.lock();
        let actor = authorize(&mut state, moref, creds)?;
        let now = state.now();
        let vm = state.vm_mut(moref)?;
        if vm.disk.fs.exists(&full) {
            return Err(GuestFault::FileAlreadyExists {
                path: path.to_owned(),
            });
        }
        vm.disk
            .fs
            .mkdir(&full, create_parents, actor, 0o755, now)
            .map_err(|e| file_fault(path, e))
    }
}
