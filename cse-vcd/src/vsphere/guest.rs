//! Guest flows on top of [`VcenterSession`]: waiting for VMware Tools and guest
//! operations (and, optionally, for the guest to accept credentials), and running
//! a script much as CSE always did — upload → run with output redirected to
//! files → poll until exit → download the outputs → clean up — except that
//! every wait has a deadline, a script past its deadline is terminated, and
//! round trips the original spent are saved: the script is uploaded already
//! executable (mode 0700, no `chmod` program), removes itself when it ends, and
//! an empty output file is not fetched.

use std::time::Duration;

use tokio::time::Instant;

use super::client::{GuestCredentials, ProgramSpec, VcenterSession, VmGuestState, next_poll_pause};
use super::error::VsphereError;
use super::soap::FaultKind;

/// First pause between polls; pauses double up to the configured interval.
/// Short, as for vCD tasks: a script that ends in a few milliseconds is seen
/// ending at once, and a long one costs only a few more polls (50, 100, 200,
/// 400 ms ... before the interval is reached).
pub const INITIAL_POLL_PAUSE: Duration = Duration::from_millis(50);

/// Polling cadence of guest waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollSettings {
    /// First pause.
    pub initial: Duration,
    /// Longest pause (config `timeouts.guest_ops_poll_interval`).
    pub max: Duration,
}

impl PollSettings {
    /// From the config: pauses grow up to `timeouts.guest_ops_poll_interval`.
    pub fn from_config(timeouts: &cse_core::config::Timeouts) -> Self {
        Self::up_to(timeouts.guest_ops_poll_interval.duration())
    }

    /// `initial` = min([`INITIAL_POLL_PAUSE`], `max`), doubling up to `max`.
    pub fn up_to(max: Duration) -> Self {
        Self {
            initial: INITIAL_POLL_PAUSE.min(max),
            max,
        }
    }
}

/// What a script produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptOutput {
    /// Exit code.
    pub exit_code: i32,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
}

impl ScriptOutput {
    /// True for exit code 0.
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

struct Poller {
    started: Instant,
    deadline: Instant,
    pause: Duration,
    max: Duration,
}

impl Poller {
    fn new(poll: PollSettings, deadline: Instant) -> Self {
        Self {
            started: Instant::now(),
            deadline,
            pause: poll.initial,
            max: poll.max,
        }
    }

    /// Sleeps before the next poll; `false` when the deadline has passed.
    async fn wait(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        tokio::time::sleep(self.pause.min(self.deadline - now)).await;
        self.pause = next_poll_pause(self.pause, self.max);
        true
    }

    fn waited(&self) -> Duration {
        Instant::now() - self.started
    }
}

impl VcenterSession {
    /// Waits until `vm` is powered on with tools running and guest operations ready.
    /// A bad moref or property fails at once; anything transient is polled again
    /// until `deadline`, then [`VsphereError::NotReady`].
    pub async fn wait_for_tools(
        &self,
        vm: &str,
        poll: PollSettings,
        deadline: Instant,
    ) -> Result<VmGuestState, VsphereError> {
        let mut poller = Poller::new(poll, deadline);
        loop {
            let last_state = match self.vm_state(vm).await {
                Ok(state) if state.is_ready() => return Ok(state),
                Ok(state) => state.describe(),
                Err(error) if error.is_transient() => error.to_string(),
                Err(error) => return Err(error),
            };
            if !poller.wait().await {
                return Err(VsphereError::NotReady {
                    vm: vm.to_owned(),
                    waited: poller.waited(),
                    last_state,
                });
            }
        }
    }

    /// [`Self::wait_for_tools`], then waits until the guest accepts `credentials`
    /// (`ValidateCredentialsInGuest`; a fresh VM refuses the new password until
    /// guest customization has run).
    pub async fn wait_until_ready(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        poll: PollSettings,
        deadline: Instant,
    ) -> Result<(), VsphereError> {
        self.wait_for_tools(vm, poll, deadline).await?;
        let mut poller = Poller::new(poll, deadline);
        loop {
            let last_state = match self.validate_credentials(vm, credentials).await {
                Ok(()) => return Ok(()),
                Err(error)
                    if error.is_transient()
                        || error.fault_kind() == Some(FaultKind::InvalidGuestLogin) =>
                {
                    error.to_string()
                }
                Err(error) => return Err(error),
            };
            if !poller.wait().await {
                return Err(VsphereError::NotReady {
                    vm: vm.to_owned(),
                    waited: poller.waited(),
                    last_state,
                });
            }
        }
    }

    /// Starts `spec` and polls until it exits; past `deadline` the process is
    /// terminated and [`VsphereError::ProgramTimeout`] returned.
    pub async fn run_program(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        spec: &ProgramSpec,
        poll: PollSettings,
        deadline: Instant,
    ) -> Result<i32, VsphereError> {
        let pid = self.start_program(vm, credentials, spec).await?;
        let mut poller = Poller::new(poll, deadline);
        loop {
            match self.list_processes(vm, credentials, &[pid]).await {
                Ok(processes) => {
                    let Some(process) = processes.iter().find(|p| p.pid == pid) else {
                        return Err(VsphereError::ProcessVanished {
                            vm: vm.to_owned(),
                            program: spec.program_path.clone(),
                            pid,
                        });
                    };
                    if let Some(code) = process.exit_code {
                        return Ok(code);
                    }
                }
                Err(error) if error.is_transient() => {
                    tracing::debug!(vm, pid, "polling a guest process failed; retrying: {error}");
                }
                Err(error) => return Err(error),
            }
            if !poller.wait().await {
                if let Err(error) = self.terminate_process(vm, credentials, pid).await {
                    tracing::warn!(
                        vm,
                        pid,
                        "cannot terminate the overdue guest process: {error}"
                    );
                }
                return Err(VsphereError::ProgramTimeout {
                    vm: vm.to_owned(),
                    program: spec.program_path.clone(),
                    pid,
                    waited: poller.waited(),
                });
            }
        }
    }

    /// Runs `script` (with its own shebang) in the guest as `credentials` and returns
    /// its exit code and outputs. A non-zero exit is a result, not an error.
    pub async fn run_script(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        script: &str,
        poll: PollSettings,
        deadline: Instant,
    ) -> Result<ScriptOutput, VsphereError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let script_path = format!("/tmp/cse-{id}.sh");
        let out_path = format!("/tmp/cse-{id}.out");
        let err_path = format!("/tmp/cse-{id}.err");
        self.upload(
            vm,
            credentials,
            &script_path,
            script.as_bytes().to_vec(),
            0o700,
            false,
        )
        .await?;
        let result = self
            .run_uploaded(
                vm,
                credentials,
                [&script_path, &out_path, &err_path],
                poll,
                deadline,
            )
            .await;
        // A script that ran to its end removed itself; one that did not (a
        // failed start, a time-out) is removed here.
        let leftovers = if result.is_ok() {
            vec![&out_path, &err_path]
        } else {
            vec![&script_path, &out_path, &err_path]
        };
        for path in leftovers {
            match self.delete_file(vm, credentials, path).await {
                Ok(()) => {}
                Err(error) if error.fault_kind() == Some(FaultKind::FileNotFound) => {}
                Err(error) => tracing::warn!(vm, path, "cannot delete a guest file: {error}"),
            }
        }
        result
    }

    async fn run_uploaded(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        [script_path, out_path, err_path]: [&String; 3],
        poll: PollSettings,
        deadline: Instant,
    ) -> Result<ScriptOutput, VsphereError> {
        let run = ProgramSpec {
            program_path: script_path.clone(),
            arguments: run_arguments(script_path, out_path, err_path),
            working_directory: Some(credentials.home()),
            env: Vec::new(),
        };
        let exit_code = self
            .run_program(vm, credentials, &run, poll, deadline)
            .await?;
        let stdout = self.read_output(vm, credentials, out_path).await?;
        let stderr = self.read_output(vm, credentials, err_path).await?;
        Ok(ScriptOutput {
            exit_code,
            stdout,
            stderr,
        })
    }

    async fn read_output(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        path: &str,
    ) -> Result<String, VsphereError> {
        match self.download(vm, credentials, path).await {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(error) if error.fault_kind() == Some(FaultKind::FileNotFound) => {
                tracing::warn!(
                    vm,
                    path,
                    "script output file is missing; treating it as empty"
                );
                Ok(String::new())
            }
            Err(error) => Err(error),
        }
    }
}

/// The arguments of a script's run (the guest's shell reads them after the
/// quoted program path): its outputs redirected to files, then the script
/// removed, with the script's own exit status kept as the program's.
fn run_arguments(script_path: &str, out_path: &str, err_path: &str) -> String {
    format!(" > {out_path} 2> {err_path}; status=$?; /bin/rm -f {script_path}; exit $status")
}
