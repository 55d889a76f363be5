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
    pub username: String,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    PoweredOff,
    PoweredOn,
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
    NotRunning,
    ExecutingScripts,
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
    pub power_state: PowerState,
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
    pub program_path: String,
    pub arguments: String,
    /// `None`: the user's home directory.
    pub working_directory: Option<String>,
    /// `NAME=value` entries.
    pub env: Vec<String>,
}

/// One row of `ListProcessesInGuest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestProcessInfo {
    pub pid: i64,
    pub name: String,
    pub owner: String,
    pub cmd_line: String,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
}

/// What kind of filesystem object a guest path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestFileKind {
    File,
    Directory,
    Symlink,
}

/// A guest file's metadata (`InitiateFileTransferFromGuest` returns it as
/// `GuestPosixFileAttributes` with the size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestFileStat {
    pub kind: GuestFileKind,
    pub size: u64,
    pub owner_id: u32,
    pub group_id: u32,
    /// `st_mode`, file type bits included (0o100644 for a plain file).
    pub permissions: u32,
    pub modification_time: DateTime<Utc>,
    pub access_time: DateTime<Utc>,
}

/// `GuestPosixFileAttributes` given to `InitiateFileTransferToGuest`; unset
/// fields take the guest's defaults (owner of the authenticated user, 0644).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuestFileAttributes {
    pub owner_id: Option<u32>,
    pub group_id: Option<u32>,
    /// Mode bits (`0o700`); file type bits are ignored.
    pub permissions: Option<u32>,
    pub modification_time: Option<DateTime<Utc>>,
    pub access_time: Option<DateTime<Utc>>,
}

/// Faults a guest operation can raise; the SOAP layer turns each into the
/// vim25 fault of the same name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuestFault {
    #[error("The object '{moref}' has already been deleted or has not been completely created")]
    ManagedObjectNotFound { moref: String },
    #[error("The attempted operation cannot be performed in the current state (Powered off).")]
    InvalidPowerState,
    #[error("The guest operations agent could not be contacted.")]
    GuestOperationsUnavailable,
    #[error(
        "Failed to authenticate with the guest operating system using the supplied credentials."
    )]
    InvalidGuestLogin,
    #[error("File {path} was not found")]
    FileNotFound { path: String },
    #[error("The file {path} already exists")]
    FileAlreadyExists { path: String },
    #[error("{path} is not a file")]
    NotAFile { path: String },
    #[error("{path} is a directory")]
    IsADirectory { path: String },
    #[error("Insufficient permissions in guest operating system for {path}")]
    GuestPermissionDenied { path: String },
    #[error("Could not find a process with id {pid}")]
    GuestProcessNotFound { pid: i64 },
    #[error("A specified parameter was not correct: {name}")]
    InvalidArgument { name: String },
    #[error("Operation failed in the guest: {message}")]
    SystemError { message: String },
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
    fn delete_file(
        &self,
        moref: &str,
        creds: &GuestCredentials,
        path: &str,
    ) -> Result<(), GuestFault>;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
