//! GuestOperationsManager methods: parameter parsing, the precondition order
//! of vCenter (VM exists → powered on → agent ready → credentials → the
//! method's own checks) and the calls into the guest model.

use chrono::{DateTime, Utc};

use crate::guest_api::{
    GuestCredentials, GuestFault, GuestFileAttributes, GuestFileKind, GuestProcessInfo,
    GuestVmInfo, PowerState, ProgramSpec,
};

use super::Inner;
use super::faults::VimFault;
use super::transfers::{TRANSFER_PATH, TransferDirection};
use super::values::{DataObject, MoRef, Value, write_declared};
use super::xml_out::SoapWriter;
use super::xml_tree::Element;

/// Where transfer URLs point: `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferBase(pub String);

fn missing(name: &str) -> VimFault {
    VimFault::InvalidRequest {
        reason: format!("Required parameter '{name}' is missing"),
    }
}

fn bad_value(name: &str, text: &str) -> VimFault {
    VimFault::InvalidRequest {
        reason: format!("Parameter '{name}' has an invalid value '{text}'"),
    }
}

/// The text of a required parameter.
pub fn required_text<'a>(params: &'a Element, name: &str) -> Result<&'a str, VimFault> {
    params.child_text(name).ok_or_else(|| missing(name))
}

/// A boolean parameter (`true`/`false`/`1`/`0`).
pub fn parse_bool(name: &str, text: &str) -> Result<bool, VimFault> {
    match text.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(bad_value(name, other)),
    }
}

/// An integer parameter.
pub fn parse_number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, VimFault> {
    text.trim().parse().map_err(|_| bad_value(name, text))
}

fn parse_time(name: &str, text: &str) -> Result<DateTime<Utc>, VimFault> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad_value(name, text))
}

/// A `MoRef` parameter.
pub fn moref_param(params: &Element, name: &str) -> Result<MoRef, VimFault> {
    let element = params.child(name).ok_or_else(|| missing(name))?;
    let kind = element
        .attribute("type")
        .ok_or_else(|| bad_value(name, "reference without a type"))?;
    Ok(MoRef::new(kind, element.text.trim()))
}

/// How the caller authenticated to the guest.
enum GuestAuth {
    Password(GuestCredentials),
    Interactive,
    Unsupported,
}

fn parse_auth(params: &Element) -> Result<GuestAuth, VimFault> {
    let auth = params.child("auth").ok_or_else(|| missing("auth"))?;
    let kind = auth
        .xsi_type
        .as_deref()
        .unwrap_or("NamePasswordAuthentication");
    if kind != "NamePasswordAuthentication" {
        return Ok(GuestAuth::Unsupported);
    }
    if let Some(text) = auth.child_text("interactiveSession")
        && parse_bool("auth.interactiveSession", text)?
    {
        return Ok(GuestAuth::Interactive);
    }
    Ok(GuestAuth::Password(GuestCredentials {
        username: required_text(auth, "username")?.to_owned(),
        password: auth.child_text("password").unwrap_or_default().to_owned(),
    }))
}

impl Inner {
    /// Maps a guest-model fault, filling in the real power state.
    pub(super) fn guest_fault(&self, vm: &str, fault: GuestFault) -> VimFault {
        if fault == GuestFault::InvalidPowerState {
            let existing = self
                .guests
                .vm_info(vm)
                .map_or(PowerState::PoweredOff, |i| i.power_state);
            return VimFault::InvalidPowerState { existing };
        }
        VimFault::from_guest(fault, vm)
    }

    /// Checks VM existence, power and agent, then the credentials.
    fn guest_preconditions(
        &self,
        params: &Element,
    ) -> Result<(String, GuestCredentials), VimFault> {
        let vm = moref_param(params, "vm")?;
        let info: GuestVmInfo = self
            .guests
            .vm_info(&vm.id)
            .filter(|_| vm.kind == "VirtualMachine")
            .ok_or_else(|| VimFault::ManagedObjectNotFound { obj: vm.clone() })?;
        if info.power_state != PowerState::PoweredOn {
            return Err(VimFault::InvalidPowerState {
                existing: info.power_state,
            });
        }
        if !info.guest_operations_ready {
            return Err(VimFault::GuestOperationsUnavailable);
        }
        let creds = match parse_auth(params)? {
            GuestAuth::Password(creds) => creds,
            GuestAuth::Interactive => return Err(VimFault::GuestPermissionDenied),
            GuestAuth::Unsupported => return Err(VimFault::InvalidGuestLogin),
        };
        self.guests
            .check_access(&vm.id, &creds)
            .map_err(|f| self.guest_fault(&vm.id, f))?;
        Ok((vm.id, creds))
    }

    pub(super) async fn start_program(
        &self,
        params: &Element,
        w: &mut SoapWriter,
    ) -> Result<(), VimFault> {
        let (vm, creds) = self.guest_preconditions(params)?;
        let spec = params.child("spec").ok_or_else(|| missing("spec"))?;
        let program = ProgramSpec {
            program_path: required_text(spec, "programPath")?.to_owned(),
            arguments: spec.child_text("arguments").unwrap_or_default().to_owned(),
            working_directory: spec
                .child_text("workingDirectory")
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
            env: spec
                .children_named("envVariables")
                .map(|e| e.text.clone())
                .collect(),
        };
        let pid = self
            .guests
            .start_program(&vm, &creds, program)
            .await
            .map_err(|f| self.guest_fault(&vm, f))?;
        write_declared(w, "returnval", &Value::Long(pid), false);
        Ok(())
    }

    pub(super) fn list_processes(
        &self,
        params: &Element,
        w: &mut SoapWriter,
    ) -> Result<(), VimFault> {
        let (vm, creds) = self.guest_preconditions(params)?;
        let pids = params
            .children_named("pids")
            .map(|p| parse_number::<i64>("pids", &p.text))
            .collect::<Result<Vec<_>, _>>()?;
        let filter = (!pids.is_empty()).then_some(pids.as_slice());
        let processes = self
            .guests
            .list_processes(&vm, &creds, filter)
            .map_err(|f| self.guest_fault(&vm, f))?;
        let omit_zero = self
            .omit_zero_exit_codes
            .load(std::sync::atomic::Ordering::Relaxed);
        for process in processes {
            write_declared(
                w,
                "returnval",
                &Value::Data(process_info(&process, omit_zero)),
                false,
            );
        }
        Ok(())
    }

    pub(super) fn terminate_process(&self, params: &Element) -> Result<(), VimFault> {
        let (vm, creds) = self.guest_preconditions(params)?;
        let pid = parse_number::<i64>("pid", required_text(params, "pid")?)?;
        self.guests
            .terminate_process(&vm, &creds, pid)
            .map_err(|f| self.guest_fault(&vm, f))
    }

    pub(super) fn delete_file(&self, params: &Element) -> Result<(), VimFault> {
        let (vm, creds) = self.guest_preconditions(params)?;
        let path = required_text(params, "filePath")?;
        self.guests
            .delete_file(&vm, &creds, path)
            .map_err(|f| self.guest_fault(&vm, f))
    }

    pub(super) fn make_directory(&self, params: &Element) -> Result<(), VimFault> {
        let (vm, creds) = self.guest_preconditions(params)?;
        let path = required_text(params, "directoryPath")?;
        let parents = match params.child_text("createParentDirectories") {
            Some(text) => parse_bool("createParentDirectories", text)?,
            None => false,
        };
        self.guests
            .make_directory(&vm, &creds, path, parents)
            .map_err(|f| self.guest_fault(&vm, f))
    }

    pub(super) fn validate_credentials(&self, params: &Element) -> Result<(), VimFault> {
        self.guest_preconditions(params).map(|_| ())
    }

    pub(super) fn initiate_to_guest(
        &self,
        params: &Element,
        base: &TransferBase,
        w: &mut SoapWriter,
    ) -> Result<(), VimFault> {
        let (vm, creds) = self.guest_preconditions(params)?;
        let path = required_text(params, "guestFilePath")?.to_owned();
        let attributes = match params.child("fileAttributes") {
            Some(element) => parse_attributes(element)?,
            None => GuestFileAttributes::default(),
        };
        let declared_size = parse_number::<i64>("fileSize", required_text(params, "fileSize")?)?;
        let overwrite = parse_bool("overwrite", required_text(params, "overwrite")?)?;
        if !path.starts_with('/') {
            return Err(VimFault::InvalidArgument {
                invalid_property: Some("guestFilePath".into()),
            });
        }
        match self.guests.stat_file(&vm, &creds, &path) {
            Ok(stat) if stat.kind != GuestFileKind::File => {
                return Err(VimFault::NotAFile { file: path });
            }
            Ok(_) if !overwrite => return Err(VimFault::FileAlreadyExists { file: path }),
            Ok(_) => {}
            Err(GuestFault::FileNotFound { .. }) => {
                let parent = parent_dir(&path);
                match self.guests.stat_file(&vm, &creds, parent) {
                    Ok(stat) if stat.kind == GuestFileKind::Directory => {}
                    Ok(_) | Err(GuestFault::FileNotFound { .. }) => {
                        return Err(VimFault::FileNotFound { file: path });
                    }
                    Err(fault) => return Err(self.guest_fault(&vm, fault)),
                }
            }
            Err(fault) => return Err(self.guest_fault(&vm, fault)),
        }
        let direction = TransferDirection::ToGuest {
            overwrite,
            attributes,
            declared_size,
        };
        let query = self.transfers.open(&vm, creds, &path, direction);
        let url = format!("{}{TRANSFER_PATH}?{query}", base.0);
        write_declared(w, "returnval", &Value::String(url), false);
        Ok(())
    }

    pub(super) fn initiate_from_guest(
        &self,
        params: &Element,
        base: &TransferBase,
        w: &mut SoapWriter,
    ) -> Result<(), VimFault> {
        let (vm, creds) = self.guest_preconditions(params)?;
        let path = required_text(params, "guestFilePath")?.to_owned();
        let stat = self
            .guests
            .stat_file(&vm, &creds, &path)
            .map_err(|f| self.guest_fault(&vm, f))?;
        if stat.kind != GuestFileKind::File {
            return Err(VimFault::NotAFile { file: path });
        }
        let query = self
            .transfers
            .open(&vm, creds, &path, TransferDirection::FromGuest);
        let attributes = DataObject::new("GuestPosixFileAttributes")
            .field("modificationTime", Value::DateTime(stat.modification_time))
            .field("accessTime", Value::DateTime(stat.access_time))
            .field("symlinkTarget", None)
            .field("ownerId", Value::Int(stat.owner_id as i32))
            .field("groupId", Value::Int(stat.group_id as i32))
            .field("permissions", Value::Long(i64::from(stat.permissions)));
        let info = DataObject::new("FileTransferInformation")
            .subtype_field("attributes", Value::Data(attributes))
            .field("size", Value::Long(stat.size as i64))
            .field(
                "url",
                Value::String(format!("{}{TRANSFER_PATH}?{query}", base.0)),
            );
        write_declared(w, "returnval", &Value::Data(info), false);
        Ok(())
    }
}

fn parent_dir(path: &str) -> &str {
    match path.trim_end_matches('/').rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn parse_attributes(element: &Element) -> Result<GuestFileAttributes, VimFault> {
    let number = |name: &str| -> Result<Option<i64>, VimFault> {
        element
            .child_text(name)
            .map(|t| parse_number::<i64>(name, t))
            .transpose()
    };
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, VimFault> {
        element
            .child_text(name)
            .map(|t| parse_time(name, t))
            .transpose()
    };
    let id = |v: i64, name: &str| u32::try_from(v).map_err(|_| bad_value(name, &v.to_string()));
    Ok(GuestFileAttributes {
        owner_id: number("ownerId")?.map(|v| id(v, "ownerId")).transpose()?,
        group_id: number("groupId")?.map(|v| id(v, "groupId")).transpose()?,
        permissions: number("permissions")?
            .map(|v| id(v & 0o7777, "permissions"))
            .transpose()?,
        modification_time: time("modificationTime")?,
        access_time: time("accessTime")?,
    })
}

/// `GuestProcessInfo`; `exitCode` 0 is always sent unless the vcsim bug is injected.
fn process_info(process: &GuestProcessInfo, omit_zero_exit_code: bool) -> DataObject {
    let exit_code = process
        .exit_code
        .filter(|code| !(omit_zero_exit_code && *code == 0))
        .map(Value::Int);
    DataObject::new("GuestProcessInfo")
        .field("name", Value::string(&process.name))
        .field("pid", Value::Long(process.pid))
        .field("owner", Value::string(&process.owner))
        .field("cmdLine", Value::string(&process.cmd_line))
        .field("startTime", Value::DateTime(process.start_time))
        .field("endTime", process.end_time.map(Value::DateTime))
        .field("exitCode", exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_directories() {
        assert_eq!(parent_dir("/tmp/a.sh"), "/tmp");
        assert_eq!(parent_dir("/a"), "/");
        assert_eq!(parent_dir("/a/b/"), "/a");
    }

    #[test]
    fn posix_attributes_parse() {
        let doc = r#"<fileAttributes xmlns="urn:vim25"><ownerId>0</ownerId><permissions>448</permissions></fileAttributes>"#;
        let element = super::super::xml_tree::parse_document(doc).unwrap();
        let attributes = parse_attributes(&element).unwrap();
        assert_eq!(attributes.owner_id, Some(0));
        assert_eq!(attributes.permissions, Some(0o700));
        assert_eq!(attributes.group_id, None);
    }
}
