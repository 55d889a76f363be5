//! vim25 faults: the typed error of the SOAP layer and its wire form
//! (HTTP 500, `soapenv:Fault` with an unqualified `detail` holding
//! `<TypeFault xmlns="urn:vim25" xsi:type="Type">`).

use crate::guest_api::{GuestFault, PowerState};

use super::values::{MoRef, Value, write_declared};
use super::xml_out::SoapWriter;

/// Every fault the simulated vCenter raises. Only types pyVmomi 6.7.1 knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VimFault {
    /// `SessionManager.Login` with a wrong user name or password.
    #[error("Cannot complete login due to an incorrect user name or password.")]
    InvalidLogin,
    /// A call without a valid session cookie.
    #[error("The session is not authenticated.")]
    NotAuthenticated {
        /// The object the call was made on.
        object: MoRef,
    },
    /// The object of a call does not exist.
    #[error("The object 'vim.{}:{}' has already been deleted or has not been completely created", .obj.kind, .obj.id)]
    ManagedObjectNotFound {
        /// The object asked for.
        obj: MoRef,
    },
    /// A property path the object does not have.
    #[error("")]
    InvalidProperty {
        /// The property path.
        name: String,
    },
    /// The VM's power state does not allow the call.
    #[error("The attempted operation cannot be performed in the current state ({}).", power_state_words(*.existing))]
    InvalidPowerState {
        /// The VM's power state.
        existing: PowerState,
    },
    /// The object's state does not allow the call.
    #[error("The operation is not allowed in the current state.")]
    InvalidState,
    /// Tools are not running, or the guest agent does not accept calls yet.
    #[error("The guest operations agent could not be contacted.")]
    GuestOperationsUnavailable,
    /// The guest credentials were refused.
    #[error(
        "Failed to authenticate with the guest operating system using the supplied credentials."
    )]
    InvalidGuestLogin,
    /// The guest user may not access the file or process.
    #[error("Insufficient permissions in the guest operating system.")]
    GuestPermissionDenied,
    /// No process with that pid was started through guest operations.
    #[error("The specified process could not be found.")]
    GuestProcessNotFound {
        /// The pid asked for.
        pid: i64,
    },
    /// The guest path does not exist.
    #[error("File {file} was not found")]
    FileNotFound {
        /// The guest path.
        file: String,
    },
    /// The guest path exists and overwriting was not asked for.
    #[error("Cannot complete the operation because the file or folder {file} already exists")]
    FileAlreadyExists {
        /// The guest path.
        file: String,
    },
    /// The guest path is not a regular file.
    #[error("{file} is not a file")]
    NotAFile {
        /// The guest path.
        file: String,
    },
    /// Any other failure.
    #[error("A general system error occurred: {reason}")]
    SystemError {
        /// What failed.
        reason: String,
    },
    /// A parameter of the call was invalid.
    #[error("A specified parameter was not correct: {}", .invalid_property.as_deref().unwrap_or(""))]
    InvalidArgument {
        /// The parameter's name, when known.
        invalid_property: Option<String>,
    },
    /// The request itself is not acceptable (missing or malformed parameters).
    #[error("{reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
    /// The object has no such method.
    #[error("Method {method} is not supported by managed object {}", .receiver.kind)]
    MethodNotFound {
        /// The object the call was made on.
        receiver: MoRef,
        /// The method's name.
        method: String,
    },
    /// Another task runs on the object.
    #[error("Another task is already in progress.")]
    TaskInProgress {
        /// That task.
        task: MoRef,
    },
}

fn power_state_words(state: PowerState) -> &'static str {
    match state {
        PowerState::PoweredOff => "Powered off",
        PowerState::PoweredOn => "Powered on",
        PowerState::Suspended => "Suspended",
    }
}

fn power_state_value(state: PowerState) -> Value {
    Value::Enum {
        type_name: "VirtualMachinePowerState",
        value: state.as_vim(),
    }
}

impl VimFault {
    /// The WSDL type name (`xsi:type` of the detail element).
    pub fn type_name(&self) -> &'static str {
        match self {
            VimFault::InvalidLogin => "InvalidLogin",
            VimFault::NotAuthenticated { .. } => "NotAuthenticated",
            VimFault::ManagedObjectNotFound { .. } => "ManagedObjectNotFound",
            VimFault::InvalidProperty { .. } => "InvalidProperty",
            VimFault::InvalidPowerState { .. } => "InvalidPowerState",
            VimFault::InvalidState => "InvalidState",
            VimFault::GuestOperationsUnavailable => "GuestOperationsUnavailable",
            VimFault::InvalidGuestLogin => "InvalidGuestLogin",
            VimFault::GuestPermissionDenied => "GuestPermissionDenied",
            VimFault::GuestProcessNotFound { .. } => "GuestProcessNotFound",
            VimFault::FileNotFound { .. } => "FileNotFound",
            VimFault::FileAlreadyExists { .. } => "FileAlreadyExists",
            VimFault::NotAFile { .. } => "NotAFile",
            VimFault::SystemError { .. } => "SystemError",
            VimFault::InvalidArgument { .. } => "InvalidArgument",
            VimFault::InvalidRequest { .. } => "InvalidRequest",
            VimFault::MethodNotFound { .. } => "MethodNotFound",
            VimFault::TaskInProgress { .. } => "TaskInProgress",
        }
    }

    /// The fault's properties, in WSDL order (base type's first).
    fn detail_fields(&self) -> Vec<(&'static str, Value)> {
        match self {
            VimFault::NotAuthenticated { object } => vec![
                ("object", Value::MoRef(object.clone())),
                ("privilegeId", Value::string("System.View")),
            ],
            VimFault::ManagedObjectNotFound { obj } => vec![("obj", Value::MoRef(obj.clone()))],
            VimFault::InvalidProperty { name } => vec![("name", Value::string(name))],
            VimFault::InvalidPowerState { existing } => vec![
                ("requestedState", power_state_value(PowerState::PoweredOn)),
                ("existingState", power_state_value(*existing)),
            ],
            VimFault::GuestProcessNotFound { pid } => vec![("pid", Value::Long(*pid))],
            VimFault::FileNotFound { file }
            | VimFault::FileAlreadyExists { file }
            | VimFault::NotAFile { file } => vec![("file", Value::string(file))],
            VimFault::SystemError { reason } => vec![("reason", Value::string(reason))],
            VimFault::InvalidArgument { invalid_property } => invalid_property
                .iter()
                .map(|p| ("invalidProperty", Value::string(p)))
                .collect(),
            VimFault::MethodNotFound { receiver, method } => vec![
                ("receiver", Value::MoRef(receiver.clone())),
                ("method", Value::string(method)),
            ],
            VimFault::TaskInProgress { task } => vec![("task", Value::MoRef(task.clone()))],
            VimFault::InvalidLogin
            | VimFault::InvalidState
            | VimFault::GuestOperationsUnavailable
            | VimFault::InvalidGuestLogin
            | VimFault::GuestPermissionDenied
            | VimFault::InvalidRequest { .. } => Vec::new(),
        }
    }

    /// The whole fault envelope.
    pub fn to_envelope(&self) -> String {
        let mut w = SoapWriter::new();
        w.start("soapenv:Fault", &[]);
        w.text_element("faultcode", &[], "ServerFaultCode");
        w.text_element("faultstring", &[], &self.to_string());
        w.start("detail", &[]);
        let name = format!("{}Fault", self.type_name());
        w.start(
            &name,
            &[("xmlns", "urn:vim25"), ("xsi:type", self.type_name())],
        );
        for (field, value) in self.detail_fields() {
            write_declared(&mut w, field, &value, false);
        }
        w.end(&name);
        w.end("detail");
        w.end("soapenv:Fault");
        w.finish()
    }

    /// Maps a guest-model fault for an operation on `vm`.
    pub fn from_guest(fault: GuestFault, vm: &str) -> VimFault {
        match fault {
            GuestFault::ManagedObjectNotFound { moref } => VimFault::ManagedObjectNotFound {
                obj: MoRef::vm(if moref.is_empty() {
                    vm.to_owned()
                } else {
                    moref
                }),
            },
            GuestFault::InvalidPowerState => VimFault::InvalidPowerState {
                existing: PowerState::PoweredOff,
            },
            GuestFault::GuestOperationsUnavailable => VimFault::GuestOperationsUnavailable,
            GuestFault::InvalidGuestLogin => VimFault::InvalidGuestLogin,
            GuestFault::FileNotFound { path } => VimFault::FileNotFound { file: path },
            GuestFault::FileAlreadyExists { path } => VimFault::FileAlreadyExists { file: path },
            GuestFault::NotAFile { path } | GuestFault::IsADirectory { path } => {
                VimFault::NotAFile { file: path }
            }
            GuestFault::GuestPermissionDenied { .. } => VimFault::GuestPermissionDenied,
            GuestFault::GuestProcessNotFound { pid } => VimFault::GuestProcessNotFound { pid },
            GuestFault::InvalidArgument { name } => VimFault::InvalidArgument {
                invalid_property: Some(name),
            },
            GuestFault::SystemError { message } => VimFault::SystemError { reason: message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_faults_keep_their_names() {
        let cases = [
            GuestFault::InvalidGuestLogin,
            GuestFault::GuestOperationsUnavailable,
            GuestFault::FileNotFound { path: "/x".into() },
            GuestFault::FileAlreadyExists { path: "/x".into() },
            GuestFault::NotAFile { path: "/x".into() },
            GuestFault::GuestPermissionDenied { path: "/x".into() },
            GuestFault::GuestProcessNotFound { pid: 4 },
            GuestFault::SystemError {
                message: "m".into(),
            },
            GuestFault::InvalidArgument { name: "n".into() },
            GuestFault::InvalidPowerState,
            GuestFault::ManagedObjectNotFound {
                moref: "vm-1".into(),
            },
        ];
        for fault in cases {
            let name = fault.vim_fault_name();
            assert_eq!(VimFault::from_guest(fault, "vm-1").type_name(), name);
        }
        assert_eq!(
            VimFault::from_guest(GuestFault::IsADirectory { path: "/d".into() }, "vm-1"),
            VimFault::NotAFile { file: "/d".into() }
        );
    }

    #[test]
    fn messages_follow_vcenter() {
        let fault = VimFault::ManagedObjectNotFound {
            obj: MoRef::vm("vm-9"),
        };
        assert_eq!(
            fault.to_string(),
            "The object 'vim.VirtualMachine:vm-9' has already been deleted or has not been completely created"
        );
        assert_eq!(
            VimFault::InvalidPowerState {
                existing: PowerState::PoweredOff
            }
            .to_string(),
            "The attempted operation cannot be performed in the current state (Powered off)."
        );
    }
}
