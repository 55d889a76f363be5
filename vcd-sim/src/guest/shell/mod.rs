//! The guest shell: a bash-subset interpreter over `brush-parser`'s AST.
//! `Ctx` is the state of one shell process (user, cwd, variables, options);
//! `Io` its standard streams. Evaluation is async so simulated time (sleep,
//! kubeadm) goes through the world's clock and termination can interrupt it.
//!
//! Sub-modules: `parse` (parser adapter), `expand` (word expansion), `eval`
//! (commands and control flow), `builtins`, `test_expr` (`[`/`test`),
//! `arith` (`$(( ))`).

mod arith;
pub mod builtins;
pub mod eval;
pub mod expand;
pub mod parse;
pub mod test_expr;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use super::faults::GuestFaultChecks as _;
use super::fs::{self, Actor};
use super::vm::Vm;
use super::world::{GuestWorld, WorldState};

/// Deepest nesting of function calls and child processes; deeper evaluation
/// fails as bash does when it runs out of stack (`FUNCNEST`).
pub const MAX_DEPTH: u32 = 32;

/// Default `PATH` of guest processes.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Non-local exits of shell evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Exit(i32),
    Return(i32),
    Break(u32),
    Continue(u32),
    /// The process was terminated or its guest went away.
    Killed,
}

/// Result of evaluating anything: a status, or a non-local exit.
pub type Flow = Result<i32, Control>;

/// `set` options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShellOpts {
    pub errexit: bool,
    pub nounset: bool,
    pub xtrace: bool,
    pub pipefail: bool,
}

/// Where an output stream goes.
#[derive(Debug, Clone)]
pub enum Sink {
    Buffer(Arc<Mutex<Vec<u8>>>),
    /// Appends to a guest file (truncated when the redirection opened it).
    File(String),
    Null,
}

/// Standard streams of a command.
#[derive(Debug, Clone)]
pub struct Io {
    pub stdin: Bytes,
    pub stdout: Sink,
    pub stderr: Sink,
}

impl Io {
    /// Empty stdin, stdout and stderr into fresh buffers.
    pub fn buffered() -> Self {
        Io {
            stdin: Bytes::new(),
            stdout: Sink::Buffer(Arc::default()),
            stderr: Sink::Buffer(Arc::default()),
        }
    }

    fn text(sink: &Sink) -> String {
        match sink {
            Sink::Buffer(b) => String::from_utf8_lossy(&b.lock()).into_owned(),
            _ => String::new(),
        }
    }

    pub fn stdout_text(&self) -> String {
        Self::text(&self.stdout)
    }

    pub fn stderr_text(&self) -> String {
        Self::text(&self.stderr)
    }
}

/// The state of one shell process.
#[derive(Clone)]
pub struct Ctx {
    pub world: GuestWorld,
    pub moref: String,
    /// Boot epoch the process belongs to.
    pub epoch: u64,
    pub pid: i64,
    pub cancel: CancellationToken,
    pub user: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub cwd: String,
    pub vars: BTreeMap<String, String>,
    pub exported: BTreeSet<String>,
    pub positional: Vec<String>,
    pub arg0: String,
    pub opts: ShellOpts,
    pub last_status: i32,
    pub functions: BTreeMap<String, Arc<brush_parser::ast::FunctionBody>>,
    /// Nesting of processes (child shells, scripts) and function calls.
    pub depth: u32,
    /// Inside an `if`/`while` condition, `!` or a non-final `&&`/`||` element.
    pub in_condition: bool,
    /// Current line in the script being run (for error messages).
    pub line: usize,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("moref", &self.moref)
            .field("pid", &self.pid)
            .field("user", &self.user)
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

impl Ctx {
    /// A login-like context for `user` on `vm` (`cwd` defaults to the home,
    /// `env` to the guest default environment).
    pub fn for_user(
        world: GuestWorld,
        vm: &Vm,
        user: &str,
        cwd: Option<String>,
        env: Option<&[String]>,
    ) -> Option<Ctx> {
        let account = vm.disk.users.get(user)?;
        let mut vars = BTreeMap::new();
        match env {
            Some(entries) if !entries.is_empty() => {
                for entry in entries {
                    if let Some((k, v)) = entry.split_once('=') {
                        vars.insert(k.to_owned(), v.to_owned());
                    }
                }
            }
            _ => {
                vars.insert("PATH".into(), DEFAULT_PATH.into());
                vars.insert("HOME".into(), account.home.clone());
                vars.insert("USER".into(), account.name.clone());
                vars.insert("LOGNAME".into(), account.name.clone());
                vars.insert("SHELL".into(), "/bin/bash".into());
                vars.insert("LANG".into(), "C.UTF-8".into());
            }
        }
        let cwd = cwd
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| account.home.clone());
        let exported = vars.keys().cloned().collect();
        Some(Ctx {
            world,
            moref: vm.moref.clone(),
            epoch: vm.epoch,
            pid: 0,
            cancel: CancellationToken::new(),
            user: account.name.clone(),
            uid: account.uid,
            gid: account.gid,
            home: account.home.clone(),
            cwd,
            vars,
            exported,
            positional: Vec::new(),
            arg0: "bash".into(),
            opts: ShellOpts::default(),
            last_status: 0,
            functions: BTreeMap::new(),
            depth: 0,
            in_condition: false,
            line: 0,
        })
    }

    /// A child process context: only exported variables survive.
    pub fn child(&self) -> Ctx {
        let mut child = self.clone();
        child.vars.retain(|k, _| self.exported.contains(k));
        child.functions.clear();
        child.opts = ShellOpts::default();
        child.positional.clear();
        child.in_condition = false;
        child.depth = self.depth + 1;
        child
    }

    pub fn actor(&self) -> Actor {
        Actor {
            uid: self.uid,
            gid: self.gid,
        }
    }

    /// Absolute path of `path` relative to the working directory.
    pub fn path(&self, path: &str) -> String {
        fs::normalize(&self.cwd, path)
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    pub fn set_var(&mut self, name: &str, value: impl Into<String>) {
        self.vars.insert(name.to_owned(), value.into());
    }

    /// Runs `f` on this process's VM; `Killed` when the VM went away or rebooted.
    pub fn vm<R>(&self, f: impl FnOnce(&mut Vm, DateTime<Utc>) -> R) -> Result<R, Control> {
        let mut state = self.world.lock();
        let now = state.now();
        match state.vms.get_mut(&self.moref) {
            Some(vm) if vm.epoch == self.epoch => Ok(f(vm, now)),
            _ => Err(Control::Killed),
        }
    }

    /// Runs `f` on the whole world (cross-VM work), after checking this process is alive.
    pub fn world<R>(&self, f: impl FnOnce(&mut WorldState) -> R) -> Result<R, Control> {
        let mut state = self.world.lock();
        match state.vms.get(&self.moref) {
            Some(vm) if vm.epoch == self.epoch => Ok(f(&mut state)),
            _ => Err(Control::Killed),
        }
    }

    /// Waits a simulated duration; interrupted by termination.
    pub async fn sleep(&self, simulated: Duration) -> Result<(), Control> {
        let clock = self.world.clock();
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(Control::Killed),
            _ = clock.sleep(simulated) => Ok(()),
        }
    }

    /// Blocks until the process is terminated (hang faults).
    pub async fn hang(&self) -> Control {
        self.cancel.cancelled().await;
        Control::Killed
    }

    /// Whether a hang fault applies to the command `name`.
    pub fn command_hangs(&self, name: &str) -> bool {
        self.world.lock().faults.command_hangs(&self.moref, name)
    }

    /// Writes to stdout.
    pub fn out(&self, io: &Io, data: impl AsRef<[u8]>) {
        self.write(&io.stdout, data.as_ref());
    }

    /// Writes to stderr.
    pub fn err(&self, io: &Io, data: impl AsRef<[u8]>) {
        self.write(&io.stderr, data.as_ref());
    }

    pub fn write(&self, sink: &Sink, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        match sink {
            Sink::Buffer(buffer) => buffer.lock().extend_from_slice(data),
            Sink::Null => {}
            Sink::File(path) => {
                let actor = self.actor();
                let _ = self.vm(|vm, now| vm.disk.fs.append(path, data, actor, now));
            }
        }
    }
}

/// Parses and runs a script source in `ctx` (like `bash -c`). Syntax errors
/// print to stderr and give status 2.
pub async fn run_source(ctx: &mut Ctx, source: &str, io: &Io) -> i32 {
    let program = match parse::parse_program(source) {
        Ok(program) => program,
        Err(message) => {
            ctx.err(io, format!("{}: {message}\n", ctx.arg0));
            return 2;
        }
    };
    match eval::run_program(ctx, &program, io).await {
        Ok(status) | Err(Control::Exit(status)) | Err(Control::Return(status)) => status,
        Err(Control::Break(_)) | Err(Control::Continue(_)) => ctx.last_status,
        Err(Control::Killed) => super::process::KILLED_EXIT_CODE,
    }
}
