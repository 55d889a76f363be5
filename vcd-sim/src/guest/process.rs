//! The process table of one running guest: guest-ops processes (with owner,
//! command line, start/end time and exit code, kept a while after exit) and a
//! few simulated system processes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::guest_api::GuestProcessInfo;

/// Exit code reported for a process killed by `TerminateProcessInGuest`.
pub const KILLED_EXIT_CODE: i32 = 137;

/// One process.
#[derive(Debug, Clone)]
pub struct ProcessRecord {
    /// Process id, unique within the VM (sequential).
    pub pid: i64,
    /// Program name, as `ListProcessesInGuest` reports it.
    pub name: String,
    /// User the process runs as.
    pub owner: String,
    /// The whole command line as started.
    pub cmd_line: String,
    /// Start, in guest time.
    pub start_time: DateTime<Utc>,
    /// End, in guest time; `None` while running.
    pub end_time: Option<DateTime<Utc>>,
    /// Exit code; `None` while running.
    pub exit_code: Option<i32>,
    /// Cancels the running process.
    pub cancel: CancellationToken,
    /// Started through `StartProgramInGuest` (as opposed to a system process).
    pub via_guest_ops: bool,
}

impl ProcessRecord {
    /// The record as guest operations' `ListProcessesInGuest` reports it.
    pub fn info(&self) -> GuestProcessInfo {
        GuestProcessInfo {
            pid: self.pid,
            name: self.name.clone(),
            owner: self.owner.clone(),
            cmd_line: self.cmd_line.clone(),
            start_time: self.start_time,
            end_time: self.end_time,
            exit_code: self.exit_code,
        }
    }

    /// Whether the process has not exited yet.
    pub fn is_running(&self) -> bool {
        self.exit_code.is_none()
    }
}

/// Processes of one boot of a guest.
#[derive(Debug, Clone, Default)]
pub struct ProcessTable {
    next_pid: i64,
    records: BTreeMap<i64, ProcessRecord>,
}

impl ProcessTable {
    /// A table for a freshly booted guest with its system processes.
    pub fn booted(now: DateTime<Utc>) -> Self {
        let mut table = ProcessTable {
            next_pid: 1,
            records: BTreeMap::new(),
        };
        for (name, cmd) in [
            ("systemd", "/sbin/init"),
            ("vmtoolsd", "/usr/bin/vmtoolsd"),
            ("sshd", "/usr/sbin/sshd -D"),
        ] {
            let pid = table.allocate();
            table.records.insert(
                pid,
                ProcessRecord {
                    pid,
                    name: name.into(),
                    owner: "root".into(),
                    cmd_line: cmd.into(),
                    start_time: now,
                    end_time: None,
                    exit_code: None,
                    cancel: CancellationToken::new(),
                    via_guest_ops: false,
                },
            );
        }
        table.next_pid = 1000;
        table
    }

    fn allocate(&mut self) -> i64 {
        let pid = self.next_pid;
        self.next_pid += 1;
        pid
    }

    /// Registers a new running process and returns its pid.
    pub fn spawn(
        &mut self,
        name: String,
        owner: String,
        cmd_line: String,
        now: DateTime<Utc>,
        cancel: CancellationToken,
    ) -> i64 {
        let pid = self.allocate();
        self.records.insert(
            pid,
            ProcessRecord {
                pid,
                name,
                owner,
                cmd_line,
                start_time: now,
                end_time: None,
                exit_code: None,
                cancel,
                via_guest_ops: true,
            },
        );
        pid
    }

    /// Records an exit (ignored when the process already ended, e.g. killed).
    pub fn finish(&mut self, pid: i64, exit_code: i32, now: DateTime<Utc>) {
        if let Some(record) = self.records.get_mut(&pid)
            && record.exit_code.is_none()
        {
            record.exit_code = Some(exit_code);
            record.end_time = Some(now);
        }
    }

    /// The process with id `pid`, running or recently exited.
    pub fn get(&self, pid: i64) -> Option<&ProcessRecord> {
        self.records.get(&pid)
    }

    /// Kills a running process; false when the pid is unknown.
    pub fn terminate(&mut self, pid: i64, now: DateTime<Utc>) -> bool {
        match self.records.get_mut(&pid) {
            Some(record) => {
                record.cancel.cancel();
                if record.exit_code.is_none() {
                    record.exit_code = Some(KILLED_EXIT_CODE);
                    record.end_time = Some(now);
                }
                true
            }
            None => false,
        }
    }

    /// Drops exited guest-ops processes older than the retention.
    pub fn prune(&mut self, now: DateTime<Utc>, retention: chrono::Duration) {
        self.records
            .retain(|_, r| r.end_time.is_none_or(|end| now - end <= retention));
    }

    /// Every process still listed, by pid.
    pub fn all(&self) -> impl Iterator<Item = &ProcessRecord> {
        self.records.values()
    }

    /// The pid the next process gets.
    pub fn next_pid(&self) -> i64 {
        self.next_pid
    }

    /// A table holding `records` (from a snapshot), the next process
    /// getting `next_pid`; refused when pids repeat, are negative or not
    /// below `next_pid`, or a record is half exited. Running records get a
    /// new cancellation token: they run until terminated.
    pub fn restore(next_pid: i64, records: Vec<ProcessRecord>) -> Result<Self, String> {
        let mut table = ProcessTable {
            next_pid,
            records: BTreeMap::new(),
        };
        for record in records {
            let pid = record.pid;
            if pid < 0 || pid >= next_pid {
                return Err(format!(
                    "process {pid} is not between 0 and next_pid {next_pid}"
                ));
            }
            if record.end_time.is_some() != record.exit_code.is_some() {
                return Err(format!(
                    "process {pid} has an end time without an exit code or the other way round"
                ));
            }
            if table.records.insert(pid, record).is_some() {
                return Err(format!("process {pid} appears twice"));
            }
        }
        Ok(table)
    }

    /// Cancels every running process (power-off, reboot).
    pub fn kill_all(&mut self) {
        for record in self.records.values() {
            record.cancel.cancel();
        }
    }
}
