//! The contract between the three parts of the simulator that meet at a VM:
//!
//! - the vCD side (`state`/`rest`) creates, powers and destroys guests and
//!   captures their disks into templates, through [`GuestLifecycle`];
//! - the vCenter SOAP layer (`vsphere`) reads VM state and runs guest
//!   operations, through [`GuestOps`];
//! - the guest model (`guest`) implements both.
//!
//! VMs are identified by their vCenter managed-object id (moref, e.g. `vm-42`),
//! which vCD shows in each VM's `VCloudExtension`.

use std::fmt;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

/// Root (or other) credentials for a guest operation. Debug never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct GuestCredentials {
    /// The guest account (`root` for CSE).
    pub username: String,
    /// Its password (never shown by `Debug`).
    pub password: String,
}

impl fmt::Debug for GuestCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuestCredentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// `runtime.powerState` of a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PowerState {
    /// Off.
    PoweredOff,
    /// On (the guest may still be booting).
    PoweredOn,
    /// Suspended: memory kept, nothing runs.
    Suspended,
}

impl PowerState {
    /// The vim25 enum value (`poweredOff`, ...).
    pub fn as_vim(&self) -> &'static str {
        match self {
            PowerState::PoweredOff => "poweredOff",
            PowerState::PoweredOn => "poweredOn",
            PowerState::Suspended => "suspended",
        }
    }
}

/// `guest.toolsRunningStatus` of a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolsRunningStatus {
    /// `guestToolsNotRunning`: off, booting, or tools blocked.
    NotRunning,
    /// `guestToolsExecutingScripts`: tools starting; guest operations not accepted yet.
    ExecutingScripts,
    /// `guestToolsRunning`: guest operations work.
    Running,
}

impl ToolsRunningStatus {
    /// The vim25 value (`guestToolsNotRunning`, ...).
    pub fn as_vim(&self) -> &'static str {
        match self {
            ToolsRunningStatus::NotRunning => "guestToolsNotRunning",
            ToolsRunningStatus::ExecutingScripts => "guestToolsExecutingScripts",
            ToolsRunningStatus::Running => "guestToolsRunning",
        }
    }
}

/// What vCenter knows about a VM at this moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestVmInfo {
    /// Managed-object id, e.g. `vm-42`.
    pub moref: String,
    /// The VM's name in vCenter.
    pub name: String,
    /// `runtime.powerState`.
    pub power_state: PowerState,
    /// `guest.toolsRunningStatus`.
    pub tools_running_status: ToolsRunningStatus,
    /// `guest.guestOperationsReady`.
    pub guest_operations_ready: bool,
    /// `guest.ipAddress` once the guest network is up.
    pub ip_address: Option<String>,
    /// `guest.hostName` once the guest network is up.
    pub host_name: Option<String>,
}

/// `GuestProgramSpec` of `StartProgramInGuest`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgramSpec {
    /// Absolute path of the program in the guest.
    pub program_path: String,
    /// The arguments, as one string the guest's shell splits.
    pub arguments: String,
    /// `None`: the user's home directory.
    pub working_directory: Option<String>,
    /// `NAME=value` entries.
    pub env: Vec<String>,
}

/// One row of `ListProcessesInGuest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestProcessInfo {
    /// Process id in the guest.
    pub pid: i64,
    /// Program name.
    pub name: String,
    /// User the process runs as.
    pub owner: String,
    /// Full command line.
    pub cmd_line: String,
    /// Start time, in guest time.
    pub start_time: DateTime<Utc>,
    /// End time; `None` while running.
    pub end_time: Option<DateTime<Utc>>,
    /// Exit code; `None` while running.
    pub exit_code: Option<i32>,
}

/// What kind of filesystem object a guest path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestFileKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
}

/// A guest file's metadata (`InitiateFileTransferFromGuest` returns it as
/// `GuestPosixFileAttributes` with the size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestFileStat {
    /// File, directory or symlink.
    pub kind: GuestFileKind,
    /// Size in bytes (0 for a directory).
    pub size: u64,
    /// Owner user id.
    pub owner_id: u32,
    /// Owner group id.
    pub group_id: u32,
    /// `st_mode`, file type bits included (0o100644 for a plain file).
    pub permissions: u32,
    /// Last modification, in guest time.
    pub modification_time: DateTime<Utc>,
    /// Last access, in guest time.
    pub access_time: DateTime<Utc>,
}

/// `GuestPosixFileAttributes` given to `InitiateFileTransferToGuest`; unset
/// fields take the guest's defaults (owner of the authenticated user, 0644).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuestFileAttributes {
    /// Owner user id to set.
    pub owner_id: Option<u32>,
    /// Owner group id to set.
    pub group_id: Option<u32>,
    /// Mode bits (`0o700`); file type bits are ignored.
    pub permissions: Option<u32>,
    /// Modification time to set.
    pub modification_time: Option<DateTime<Utc>>,
    /// Access time to set.
    pub access_time: Option<DateTime<Utc>>,
}

/// Faults a guest operation can raise; the SOAP layer turns each into the
/// vim25 fault of the same name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuestFault {
    /// The VM is unknown to vCenter (vim25 `ManagedObjectNotFound`).
    #[error("The object '{moref}' has already been deleted or has not been completely created")]
    ManagedObjectNotFound {
        /// The moref asked for.
        moref: String,
    },
    /// The VM is not powered on.
    #[error("The attempted operation cannot be performed in the current state (Powered off).")]
    InvalidPowerState,
    /// Tools are not running yet, or the agent does not accept calls (a fault).
    #[error("The guest operations agent could not be contacted.")]
    GuestOperationsUnavailable,
    /// The user is unknown, locked, or the password is wrong.
    #[error(
        "Failed to authenticate with the guest operating system using the supplied credentials."
    )]
    InvalidGuestLogin,
    /// The path does not exist.
    #[error("File {path} was not found")]
    FileNotFound {
        /// The guest path.
        path: String,
    },
    /// The file exists and overwriting was not asked for.
    #[error("The file {path} already exists")]
    FileAlreadyExists {
        /// The guest path.
        path: String,
    },
    /// A file operation was given something that is not a regular file.
    #[error("{path} is not a file")]
    NotAFile {
        /// The guest path.
        path: String,
    },
    /// A file operation was given a directory.
    #[error("{path} is a directory")]
    IsADirectory {
        /// The guest path.
        path: String,
    },
    /// The guest user may not read or write the path.
    #[error("Insufficient permissions in guest operating system for {path}")]
    GuestPermissionDenied {
        /// The guest path.
        path: String,
    },
    /// No process with that id was started through guest operations.
    #[error("Could not find a process with id {pid}")]
    GuestProcessNotFound {
        /// The pid asked for.
        pid: i64,
    },
    /// A parameter of the call was invalid (vim25 `InvalidArgument`).
    #[error("A specified parameter was not correct: {name}")]
    InvalidArgument {
        /// The parameter's name.
        name: String,
    },
    /// Any other failure in the guest (vim25 `SystemError`).
    #[error("Operation failed in the guest: {message}")]
    SystemError {
        /// What failed.
        message: String,
    },
}

impl GuestFault {
    /// The vim25 fault type name (`InvalidGuestLogin`, ...).
    pub fn vim_fault_name(&self) -> &'static str {
        match self {
            GuestFault::ManagedObjectNotFound { .. } => "ManagedObjectNotFound",
            GuestFault::InvalidPowerState => "InvalidPowerState",
            GuestFault::GuestOperationsUnavailable => "GuestOperationsUnavailable",
            GuestFault::InvalidGuestLogin => "InvalidGuestLogin",
            GuestFault::FileNotFound { .. } => "FileNotFound",
            GuestFault::FileAlreadyExists { .. } => "FileAlreadyExists",
            GuestFault::NotAFile { .. } => "NotAFile",
            GuestFault::IsADirectory { .. } => "IsADirectory",
            GuestFault::GuestPermissionDenied { .. } => "GuestPermissionDenied",
            GuestFault::GuestProcessNotFound { .. } => "GuestProcessNotFound",
            GuestFault::InvalidArgument { .. } => "InvalidArgument",
            GuestFault::SystemError { .. } => "SystemError",
        }
    }
}

/// Guest operations as vCenter's GuestOperationsManager offers them. Every
/// call checks, in order: the VM exists, it is powered on, the guest agent is
/// ready, the credentials are valid; then the operation's own rules.
pub trait GuestOps: Send + Sync {
    /// Every VM vCenter knows.
    fn list_vms(&self) -> Vec<GuestVmInfo>;
    /// One VM's current state.
    fn vm_info(&self, moref: &str) -> Option<GuestVmInfo>;
    /// Checks that a guest operation with these credentials would be accepted
    /// now (used when a transfer URL is handed out).
    fn check_access(&self, moref: &str, creds: &GuestCredentials) -> Result<(), GuestFault>;
    /// Starts a program; returns its pid. On an instant clock a program that
    /// needs no simulated time has finished when this returns.
    fn start_program<'a>(
        &'a self,
        moref: &'a str,
        creds: &'a GuestCredentials,
        spec: ProgramSpec,
    ) -> BoxFuture<'a, Result<i64, GuestFault>>;
    /// Processes started through guest operations (`None`: all of them).
    fn list_processes(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        pids: Option<&[i64]>,
    ) -> Result<Vec<GuestProcessInfo>, GuestFault>;
    /// Terminates a process (`TerminateProcessInGuest`); `GuestProcessNotFound` for an unknown pid.
    fn terminate_process(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        pid: i64,
    ) -> Result<(), GuestFault>;
    /// Writes a file (the PUT of `InitiateFileTransferToGuest`).
    fn write_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
        data: &[u8],
        overwrite: bool,
    ) -> Result<(), GuestFault>;
    /// Reads a file (the GET of `InitiateFileTransferFromGuest`).
    fn read_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
    ) -> Result<Vec<u8>, GuestFault>;
    /// A file's metadata, checked like `read_file` (credentials, existence).
    /// The default derives it from `read_file`: plain files get owner 0,
    /// mode 0644 and the current time, and whatever `read_file` refuses as
    /// `IsADirectory`/`NotAFile` counts as a directory; a guest model should
    /// override it.
    fn stat_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
    ) -> Result<GuestFileStat, GuestFault> {
        let now = Utc::now();
        let (kind, size, permissions) = match self.read_file(moref, creds, path) {
            Ok(data) => (GuestFileKind::File, data.len() as u64, 0o100_644),
            Err(GuestFault::IsADirectory { .. } | GuestFault::NotAFile { .. }) => {
                (GuestFileKind::Directory, 4096, 0o040_755)
            }
            Err(fault) => return Err(fault),
        };
        Ok(GuestFileStat {
            kind,
            size,
            owner_id: 0,
            group_id: 0,
            permissions,
            modification_time: now,
            access_time: now,
        })
    }
    /// Writes a file with the attributes given at `InitiateFileTransferToGuest`
    /// (the PUT). The default ignores the attributes and calls `write_file`;
    /// a guest model should override it to honour `permissions` and owners.
    fn write_file_with_attributes(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
        data: &[u8],
        overwrite: bool,
        attributes: &GuestFileAttributes,
    ) -> Result<(), GuestFault> {
        let _ = attributes;
        self.write_file(moref, creds, path, data, overwrite)
    }
    /// Deletes a file (`DeleteFileInGuest`); directories are refused.
    fn delete_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
    ) -> Result<(), GuestFault>;
    /// Creates a directory (`MakeDirectoryInGuest`), with its parents when asked.
    fn make_directory(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
        create_parents: bool,
    ) -> Result<(), GuestFault>;
}

/// Identifies a disk image held by the guest model: what an uploaded OVA
/// contains, or what a captured VM's disk held at capture time.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct DiskId(pub u64);

/// vCD guest customization applied at power-on (see spec vcd-rest.md §6.5).
#[derive(Clone, PartialEq, Eq)]
pub struct Customization {
    /// Guest host name (`ComputerName`).
    pub computer_name: String,
    /// Root password to set, when vCD sets one (auto-generated or given).
    pub admin_password: Option<String>,
    /// `CustomizationScript`, run with `precustomization` then `postcustomization`.
    pub script: Option<String>,
}

impl fmt::Debug for Customization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Customization")
            .field("computer_name", &self.computer_name)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "***"),
            )
            .field("script", &self.script.as_ref().map(|s| s.len()))
            .finish()
    }
}

/// How the vCD side drives guests.
pub trait GuestLifecycle: Send + Sync {
    /// A disk image for an uploaded OVF/OVA, chosen from its OS hints (the
    /// OVF `OperatingSystemSection` osType and description, file names).
    fn import_disk(&self, os_hint: &str) -> DiskId;
    /// A copy of a VM's disk as it is now (vApp capture into a template).
    fn snapshot_disk(&self, moref: &str) -> Result<DiskId, GuestFault>;
    /// Registers a new powered-off VM whose disk is a copy of `disk`.
    fn create_vm(&self, moref: &str, name: &str, disk: DiskId) -> Result<(), GuestFault>;
    /// Sets (or clears) the VM's primary IP address as vCD allocated it.
    fn set_ip_address(&self, moref: &str, ip: Option<String>) -> Result<(), GuestFault>;
    /// Powers on; `customization` is applied when given (first boot or forced).
    fn power_on(&self, moref: &str, customization: Option<Customization>)
    -> Result<(), GuestFault>;
    /// Hard power-off.
    fn power_off(&self, moref: &str) -> Result<(), GuestFault>;
    /// Guest shutdown; fails when VMware Tools are not running.
    fn shutdown(&self, moref: &str) -> Result<(), GuestFault>;
    /// Suspend.
    fn suspend(&self, moref: &str) -> Result<(), GuestFault>;
    /// Removes the VM (after vCD deletes it).
    fn destroy(&self, moref: &str) -> Result<(), GuestFault>;
}
