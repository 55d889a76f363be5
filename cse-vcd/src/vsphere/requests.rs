//! The vim25 requests the client sends, as pure values (method, target object,
//! parameters in WSDL order, whether repeating it is harmless), so every request
//! body is a golden file and the session code only sends them.

use super::guest_spec::{
    AUTH_MANAGER, FILE_MANAGER, GuestCredentials, PROCESS_MANAGER, ProgramSpec,
};
use super::soap::{self, MoRef, Params};

/// Property paths read by [`retrieve_vm_state`].
pub const VM_STATE_PATHS: [&str; 4] = [
    "runtime.powerState",
    "guest.toolsRunningStatus",
    "guest.guestOperationsReady",
    "guest.ipAddress",
];

/// One SOAP request.
pub struct Request {
    /// Method name.
    pub method: &'static str,
    /// `_this`.
    pub this: MoRef,
    /// Parameters after `_this`.
    pub params: Params,
    /// True when sending it twice has the effect of sending it once.
    pub idempotent: bool,
}

impl Request {
    fn new(method: &'static str, this: MoRef, params: Params, idempotent: bool) -> Self {
        Self {
            method,
            this,
            params,
            idempotent,
        }
    }

    /// The whole envelope (contains passwords for login and guest calls: never log it).
    pub fn envelope(self) -> String {
        soap::envelope(self.method, &self.this, self.params)
    }
}

/// `ServiceInstance.RetrieveServiceContent`.
pub fn retrieve_service_content() -> Request {
    Request::new(
        "RetrieveServiceContent",
        MoRef::new("ServiceInstance", "ServiceInstance"),
        Params::new(),
        true,
    )
}

/// `SessionManager.Login`.
pub fn login(session_manager: &MoRef, user: &str, password: &str) -> Request {
    let params = Params::new()
        .text("userName", user)
        .text("password", password);
    Request::new("Login", session_manager.clone(), params, false)
}

/// `SessionManager.Logout`.
pub fn logout(session_manager: &MoRef) -> Request {
    Request::new("Logout", session_manager.clone(), Params::new(), false)
}

/// `PropertyCollector.RetrievePropertiesEx` of [`VM_STATE_PATHS`] for one VM.
pub fn retrieve_vm_state(property_collector: &MoRef, vm: &str) -> Request {
    let prop_set = VM_STATE_PATHS.iter().fold(
        Params::new()
            .text("type", "VirtualMachine")
            .boolean("all", false),
        |p, path| p.text("pathSet", path),
    );
    let object_set = Params::new()
        .moref("obj", &MoRef::vm(vm))
        .boolean("skip", false);
    let spec =
        Params::new()
            .object("propSet", None, prop_set)
            .object("objectSet", None, object_set);
    let params = Params::new()
        .object("specSet", None, spec)
        .object("options", None, Params::new());
    Request::new(
        "RetrievePropertiesEx",
        property_collector.clone(),
        params,
        true,
    )
}

fn guest(vm: &str, credentials: &GuestCredentials) -> Params {
    Params::new().moref("vm", &MoRef::vm(vm)).object(
        "auth",
        Some("NamePasswordAuthentication"),
        Params::new()
            .boolean("interactiveSession", false)
            .text("username", &credentials.username)
            .text("password", credentials.password.expose()),
    )
}

fn process_manager() -> MoRef {
    MoRef::new("GuestProcessManager", PROCESS_MANAGER)
}

fn file_manager() -> MoRef {
    MoRef::new("GuestFileManager", FILE_MANAGER)
}

/// `GuestAuthManager.ValidateCredentialsInGuest`.
pub fn validate_credentials(vm: &str, credentials: &GuestCredentials) -> Request {
    Request::new(
        "ValidateCredentialsInGuest",
        MoRef::new("GuestAuthManager", AUTH_MANAGER),
        guest(vm, credentials),
        true,
    )
}

/// `GuestProcessManager.StartProgramInGuest`.
pub fn start_program(vm: &str, credentials: &GuestCredentials, spec: &ProgramSpec) -> Request {
    let spec_params = spec.env.iter().fold(
        Params::new()
            .text("programPath", &spec.program_path)
            .text("arguments", &spec.arguments)
            .opt_text("workingDirectory", spec.working_directory.as_deref()),
        |p, var| p.text("envVariables", var),
    );
    let params = guest(vm, credentials).object("spec", None, spec_params);
    Request::new("StartProgramInGuest", process_manager(), params, false)
}

/// `GuestProcessManager.ListProcessesInGuest`.
pub fn list_processes(vm: &str, credentials: &GuestCredentials, pids: &[i64]) -> Request {
    let params = pids
        .iter()
        .fold(guest(vm, credentials), |p, pid| p.number("pids", *pid));
    Request::new("ListProcessesInGuest", process_manager(), params, true)
}

/// `GuestProcessManager.TerminateProcessInGuest`.
pub fn terminate_process(vm: &str, credentials: &GuestCredentials, pid: i64) -> Request {
    let params = guest(vm, credentials).number("pid", pid);
    Request::new("TerminateProcessInGuest", process_manager(), params, false)
}

/// `GuestFileManager.InitiateFileTransferToGuest` with POSIX permissions.
pub fn initiate_upload(
    vm: &str,
    credentials: &GuestCredentials,
    guest_path: &str,
    size: u64,
    permissions: u32,
    overwrite: bool,
) -> Request {
    let params = guest(vm, credentials)
        .text("guestFilePath", guest_path)
        .object(
            "fileAttributes",
            Some("GuestPosixFileAttributes"),
            Params::new().number("permissions", i64::from(permissions)),
        )
        .number("fileSize", i64::try_from(size).unwrap_or(i64::MAX))
        .boolean("overwrite", overwrite);
    Request::new("InitiateFileTransferToGuest", file_manager(), params, false)
}

/// `GuestFileManager.InitiateFileTransferFromGuest`.
pub fn initiate_download(vm: &str, credentials: &GuestCredentials, guest_path: &str) -> Request {
    let params = guest(vm, credentials).text("guestFilePath", guest_path);
    Request::new(
        "InitiateFileTransferFromGuest",
        file_manager(),
        params,
        true,
    )
}

/// `GuestFileManager.DeleteFileInGuest`.
pub fn delete_file(vm: &str, credentials: &GuestCredentials, guest_path: &str) -> Request {
    let params = guest(vm, credentials).text("filePath", guest_path);
    Request::new("DeleteFileInGuest", file_manager(), params, true)
}

/// `GuestFileManager.MakeDirectoryInGuest`.
pub fn make_directory(
    vm: &str,
    credentials: &GuestCredentials,
    guest_path: &str,
    create_parents: bool,
) -> Request {
    let params = guest(vm, credentials)
        .text("directoryPath", guest_path)
        .boolean("createParentDirectories", create_parents);
    Request::new("MakeDirectoryInGuest", file_manager(), params, false)
}

#[cfg(test)]
mod tests {
    use cse_core::config::Secret;

    use super::*;

    fn root() -> GuestCredentials {
        GuestCredentials::root(Secret::new("guest-pw"))
    }

    /// The exact envelope, one tag per line (text nodes never contain `><`:
    /// `>` in text is escaped), so untrimmed text such as `arguments` shows as sent.
    fn pretty(request: Request) -> String {
        let envelope = request.envelope();
        crate::vcd::xml::parse(&envelope).unwrap_or_else(|e| panic!("{e}: {envelope}"));
        envelope.replace("><", ">\n<")
    }

    #[test]
    fn golden_request_envelopes() {
        let session_manager = MoRef::new("SessionManager", "SessionManager");
        let collector = MoRef::new("PropertyCollector", "propertyCollector");
        let spec = ProgramSpec {
            program_path: "/tmp/cse-1.sh".into(),
            arguments: " > /tmp/cse-1.out 2> /tmp/cse-1.err".into(),
            working_directory: Some("/root".into()),
            env: vec!["PATH=/usr/bin:/bin".into()],
        };
        let cases = [
            ("retrieve_service_content", retrieve_service_content()),
            (
                "login",
                login(&session_manager, "administrator@vsphere.local", "vc-pw"),
            ),
            ("logout", logout(&session_manager)),
            ("retrieve_vm_state", retrieve_vm_state(&collector, "vm-42")),
            (
                "validate_credentials",
                validate_credentials("vm-42", &root()),
            ),
            ("start_program", start_program("vm-42", &root(), &spec)),
            (
                "list_processes",
                list_processes("vm-42", &root(), &[4711, 4712]),
            ),
            (
                "terminate_process",
                terminate_process("vm-42", &root(), 4711),
            ),
            (
                "initiate_upload",
                initiate_upload("vm-42", &root(), "/tmp/cse-1.sh", 412, 0o700, false),
            ),
            (
                "initiate_download",
                initiate_download("vm-42", &root(), "/tmp/cse-1.out"),
            ),
            (
                "delete_file",
                delete_file("vm-42", &root(), "/tmp/cse-1.sh"),
            ),
            (
                "make_directory",
                make_directory("vm-42", &root(), "/root/.kube", true),
            ),
        ];
        for (name, request) in cases {
            insta::assert_snapshot!(name, pretty(request));
        }
    }

    #[test]
    fn idempotence_marks_only_repeatable_calls() {
        assert!(list_processes("vm-1", &root(), &[]).idempotent);
        assert!(retrieve_vm_state(&MoRef::new("PropertyCollector", "p"), "vm-1").idempotent);
        assert!(!start_program("vm-1", &root(), &ProgramSpec::default()).idempotent);
        assert!(!terminate_process("vm-1", &root(), 1).idempotent);
        assert!(!initiate_upload("vm-1", &root(), "/x", 0, 0o600, true).idempotent);
    }
}
