//! The execution context shared by the shell interpreter and the simulated
//! programs: `Ctx` (the state of one guest process: user, cwd, variables,
//! options), `Io` (its standard streams), the non-local exits (`Control`,
//! `Flow`, `CmdResult`) and the `Interpreter` hooks through which programs
//! (`sh`, `source`, `sudo`, systemd units) re-enter the shell without
//! importing it. Depends only on the world, the filesystem and the VM model.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use brush_parser::ast::Program;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::guest::faults::GuestFaultChecks as _;
use crate::guest::fs::{self, Actor};
use crate::guest::vm::Vm;
use crate::guest::world::{GuestWorld, WorldState};

/// A boxed, sendable future (recursive evaluation goes through these).
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Entry points of the shell interpreter, set by the shell when it builds a
/// context. Programs and word expansion call them through [`Ctx`] instead of
/// importing the interpreter.
#[derive(Debug, Clone, Copy)]
pub struct Interpreter {
    /// Parses and runs a script source in the context (like `bash -c`);
    /// returns its exit status.
    pub run_source: for<'a> fn(&'a mut Ctx, &'a str, &'a Io) -> BoxFut<'a, i32>,
    /// Runs a parsed program in the context.
    pub run_program: for<'a> fn(&'a mut Ctx, &'a Program, &'a Io) -> BoxFut<'a, Flow>,
    /// Runs a guest file found through `PATH` (a simulated binary or a script).
    pub run_external: for<'a> fn(&'a mut Ctx, Vec<String>, &'a Io) -> BoxFut<'a, Flow>,
}

/// Deepest nesting of function calls and child processes; deeper evaluation
/// fails as bash does when it runs out of stack (`FUNCNEST`).
pub const MAX_DEPTH: u32 = 32;

/// Default `PATH` of guest processes.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Non-local exits of shell evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// `exit N`: leaves the shell process with status N.
    Exit(i32),
    /// `return N`: leaves the current function or sourced file.
    Return(i32),
    /// `break N`: leaves N enclosing loops.
    Break(u32),
    /// `continue N`: next iteration of the Nth enclosing loop.
    Continue(u32),
    /// The process was terminated or its guest went away.
    Killed,
}

/// Result of evaluating anything: a status, or a non-local exit.
pub type Flow = Result<i32, Control>;

/// `set` options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShellOpts {
    /// `set -e`: exit on an unchecked failing command.
    pub errexit: bool,
    /// `set -u`: expanding an unset variable is an error.
    pub nounset: bool,
    /// `set -x`: trace commands on stderr.
    pub xtrace: bool,
    /// `set -o pipefail`: a pipeline fails when any stage fails.
    pub pipefail: bool,
}

/// Where an output stream goes.
#[derive(Debug, Clone)]
pub enum Sink {
    /// An in-memory buffer (pipes, captured output).
    Buffer(Arc<Mutex<Vec<u8>>>),
    /// Appends to a guest file (truncated when the redirection opened it).
    File(String),
    /// Discarded (`/dev/null`).
    Null,
}

/// Standard streams of a command.
#[derive(Debug, Clone)]
pub struct Io {
    /// The whole standard input.
    pub stdin: Bytes,
    /// Where standard output goes.
    pub stdout: Sink,
    /// Where standard error goes.
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

    /// What was written to a buffered stdout (empty for other sinks).
    pub fn stdout_text(&self) -> String {
        Self::text(&self.stdout)
    }

    /// What was written to a buffered stderr (empty for other sinks).
    pub fn stderr_text(&self) -> String {
        Self::text(&self.stderr)
    }
}

/// The state of one shell process.
#[derive(Clone)]
pub struct Ctx {
    /// The world the process runs in.
    pub world: GuestWorld,
    /// The VM the process runs on.
    pub moref: String,
    /// Boot epoch the process belongs to.
    pub epoch: u64,
    /// Guest process id (0 for processes not in the process table).
    pub pid: i64,
    /// Cancelled when the process is terminated.
    pub cancel: CancellationToken,
    /// User name the process runs as.
    pub user: String,
    /// User id the process runs as.
    pub uid: u32,
    /// Group id the process runs as.
    pub gid: u32,
    /// The user's home directory (tilde expansion).
    pub home: String,
    /// Working directory (absolute).
    pub cwd: String,
    /// Shell variables by name.
    pub vars: BTreeMap<String, String>,
    /// Names of the variables child processes inherit.
    pub exported: BTreeSet<String>,
    /// Positional parameters `$1`...
    pub positional: Vec<String>,
    /// `$0`: the shell or script name (prefix of error messages).
    pub arg0: String,
    /// `set` options.
    pub opts: ShellOpts,
    /// `$?`: status of the last command.
    pub last_status: i32,
    /// Defined shell functions by name.
    pub functions: BTreeMap<String, Arc<brush_parser::ast::FunctionBody>>,
    /// Nesting of processes (child shells, scripts) and function calls.
    pub depth: u32,
    /// Inside an `if`/`while` condition, `!` or a non-final `&&`/`||` element.
    pub in_condition: bool,
    /// Current line in the script being run (for error messages).
    pub line: usize,
    /// The interpreter that runs scripts for this process.
    pub interp: &'static Interpreter,
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
    /// `env` to the guest default environment) whose scripts run in `interp`.
    pub fn for_user(
        world: GuestWorld,
        vm: &Vm,
        user: &str,
        cwd: Option<String>,
        env: Option<&[String]>,
        interp: &'static Interpreter,
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
            interp,
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

    /// The identity filesystem permission checks use.
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

    /// The value of variable `name`, if set.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Sets variable `name` (not exported by itself).
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

    /// Writes `data` to `sink` (a file sink appends as this process).
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

    /// Parses and runs `source` in this context through the interpreter
    /// (like `bash -c`); returns the exit status.
    pub fn run_source<'a>(&'a mut self, source: &'a str, io: &'a Io) -> BoxFut<'a, i32> {
        let run = self.interp.run_source;
        run(self, source, io)
    }

    /// Runs a parsed program in this context through the interpreter.
    pub fn run_program<'a>(&'a mut self, program: &'a Program, io: &'a Io) -> BoxFut<'a, Flow> {
        let run = self.interp.run_program;
        run(self, program, io)
    }

    /// Runs the guest file `argv[0]` (found through `PATH`) in this context.
    pub fn run_external<'a>(&'a mut self, argv: Vec<String>, io: &'a Io) -> BoxFut<'a, Flow> {
        let run = self.interp.run_external;
        run(self, argv, io)
    }
}

/// Result of a program: exit status or a non-local exit (killed).
pub type CmdResult = Result<i32, Control>;

/// Prints `message` on stderr and returns `status`.
pub fn err_exit(ctx: &Ctx, io: &Io, message: &str, status: i32) -> CmdResult {
    ctx.err(io, format!("{message}\n"));
    Ok(status)
}
