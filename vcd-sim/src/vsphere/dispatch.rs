//! One SOAP call from body to reply: envelope parsing, fault injection,
//! session check, routing on the method and its `_this`, and the response
//! envelope (`<MethodResponse xmlns="urn:vim25">`).

use chrono::Utc;

use super::Inner;
use super::faults::VimFault;
use super::guest_ops::{TransferBase, moref_param, parse_bool, required_text};
use super::injection::{self, InjectedFault};
use super::properties::{user_session, vm_uuid};
use super::service_content::{ids, service_content};
use super::sessions::{Session, session_key_from_cookie, set_cookie_value};
use super::values::{MoRef, Value, write_declared};
use super::views::ContainerView;
use super::xml_out::SoapWriter;
use super::xml_tree::{Element, SOAPENV_NS, parse_document};

/// What the HTTP layer knows about a request.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// `Cookie` header.
    pub cookie: Option<String>,
    /// Where transfer URLs must point (from the request's host or config).
    pub transfer_base: String,
    pub client_ip: String,
    pub user_agent: String,
}

/// The HTTP answer to a SOAP call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapReply {
    /// `false`: a fault (HTTP 500).
    pub ok: bool,
    pub body: String,
    pub set_cookie: Option<String>,
}

impl SoapReply {
    fn fault(fault: &VimFault) -> SoapReply {
        SoapReply {
            ok: false,
            body: fault.to_envelope(),
            set_cookie: None,
        }
    }
}

/// A parsed call.
struct Call {
    method: String,
    this: MoRef,
    params: Element,
}

fn parse_call(body: &[u8]) -> Result<Call, VimFault> {
    let invalid = |reason: String| VimFault::InvalidRequest { reason };
    let text = std::str::from_utf8(body)
        .map_err(|e| invalid(format!("request body is not UTF-8: {e}")))?;
    let root = parse_document(text).map_err(|e| invalid(e.to_string()))?;
    if !root.is(SOAPENV_NS, "Envelope") {
        return Err(invalid(format!(
            "expected a SOAP 1.1 Envelope, found '{}'",
            root.name
        )));
    }
    let body = root
        .children
        .iter()
        .find(|c| c.is(SOAPENV_NS, "Body"))
        .ok_or_else(|| invalid("the SOAP envelope has no Body".into()))?;
    let params = body
        .children
        .first()
        .cloned()
        .ok_or_else(|| invalid("the SOAP Body holds no method".into()))?;
    let this = moref_param(&params, "_this")?;
    Ok(Call {
        method: params.name.clone(),
        this,
        params,
    })
}

/// Every SOAP method this vCenter serves: a call of any other method is
/// refused with `MethodNotFound` before routing. `GET /_sim/about` lists
/// these.
pub const SOAP_METHODS: &[&str] = &[
    "RetrieveServiceContent",
    "CurrentTime",
    "Login",
    "Logout",
    "SessionIsActive",
    "RetrievePropertiesEx",
    "RetrieveProperties",
    "Fetch",
    "CreateContainerView",
    "DestroyView",
    "FindByIp",
    "FindByDnsName",
    "FindByUuid",
    "StartProgramInGuest",
    "ListProcessesInGuest",
    "TerminateProcessInGuest",
    "InitiateFileTransferToGuest",
    "InitiateFileTransferFromGuest",
    "DeleteFileInGuest",
    "MakeDirectoryInGuest",
    "ValidateCredentialsInGuest",
];

/// Methods callable without a session (property reads decide per property).
fn session_exempt(method: &str) -> bool {
    matches!(
        method,
        "RetrieveServiceContent"
            | "Login"
            | "RetrievePropertiesEx"
            | "RetrieveProperties"
            | "Fetch"
    )
}

impl Inner {
    /// Handles one `POST /sdk` body.
    pub(super) async fn handle_soap(&self, ctx: &RequestContext, body: &[u8]) -> SoapReply {
        let call = match parse_call(body) {
            Ok(call) => call,
            Err(fault) => return SoapReply::fault(&fault),
        };
        self.record_call(&call.method);
        match injection::apply(&self.faults, &call.method).await {
            Some(InjectedFault::Stall) => std::future::pending::<()>().await,
            Some(InjectedFault::Fault(fault)) => return SoapReply::fault(&fault),
            None => {}
        }
        let session = ctx
            .cookie
            .as_deref()
            .and_then(session_key_from_cookie)
            .and_then(|key| self.sessions.touch(&key));
        if session.is_none() && !session_exempt(&call.method) {
            let fault = VimFault::NotAuthenticated {
                object: call.this.clone(),
            };
            return SoapReply::fault(&fault);
        }
        let mut w = SoapWriter::new();
        let response = format!("{}Response", call.method);
        w.start(&response, &[("xmlns", "urn:vim25")]);
        let mut set_cookie = None;
        let result = self
            .route(&call, session.as_ref(), ctx, &mut w, &mut set_cookie)
            .await;
        match result {
            Ok(()) => {
                w.end(&response);
                SoapReply {
                    ok: true,
                    body: w.finish(),
                    set_cookie,
                }
            }
            Err(fault) => {
                tracing::debug!(method = %call.method, fault = fault.type_name(), "vCenter SOAP fault");
                SoapReply::fault(&fault)
            }
        }
    }

    async fn route(
        &self,
        call: &Call,
        session: Option<&Session>,
        ctx: &RequestContext,
        w: &mut SoapWriter,
        set_cookie: &mut Option<String>,
    ) -> Result<(), VimFault> {
        if !SOAP_METHODS.contains(&call.method.as_str()) {
            return Err(method_not_found(call));
        }
        let params = &call.params;
        let expect = |known: (&str, &str)| expect_this(call, known);
        match call.method.as_str() {
            "RetrieveServiceContent" => {
                expect(ids::SERVICE_INSTANCE)?;
                write_declared(
                    w,
                    "returnval",
                    &Value::Data(service_content(&self.config)),
                    false,
                );
            }
            "CurrentTime" => {
                expect(ids::SERVICE_INSTANCE)?;
                write_declared(w, "returnval", &Value::DateTime(Utc::now()), false);
            }
            "Login" => {
                expect(ids::SESSION_MANAGER)?;
                let user = required_text(params, "userName")?;
                let password = params.child_text("password").unwrap_or_default();
                if self.config.users.get(user).map(String::as_str) != Some(password) {
                    return Err(VimFault::InvalidLogin);
                }
                let new = self.sessions.create(user, &ctx.client_ip, &ctx.user_agent);
                *set_cookie = Some(set_cookie_value(&new.key));
                write_declared(w, "returnval", &Value::Data(user_session(&new)), false);
            }
            "Logout" => {
                expect(ids::SESSION_MANAGER)?;
                if let Some(session) = session {
                    self.sessions.remove(&session.key);
                    self.views.destroy_session(&session.key);
                }
            }
            "SessionIsActive" => {
                expect(ids::SESSION_MANAGER)?;
                let key = required_text(params, "sessionID")?;
                let user = required_text(params, "userName")?;
                let active = self
                    .sessions
                    .touch(key)
                    .is_some_and(|s| s.user_name == user);
                write_declared(w, "returnval", &Value::Bool(active), false);
            }
            "RetrievePropertiesEx" => {
                expect(ids::PROPERTY_COLLECTOR)?;
                self.retrieve_properties_ex(session, params, w)?;
            }
            "RetrieveProperties" => {
                expect(ids::PROPERTY_COLLECTOR)?;
                self.retrieve_properties(session, params, w)?;
            }
            "Fetch" => self.fetch(session, &call.this, params, w)?,
            "CreateContainerView" => {
                expect(ids::VIEW_MANAGER)?;
                let container = moref_param(params, "container")?;
                if (container.kind.as_str(), container.id.as_str()) != ids::ROOT_FOLDER {
                    return Err(VimFault::ManagedObjectNotFound { obj: container });
                }
                let view = ContainerView {
                    session: session.map(|s| s.key.clone()).unwrap_or_default(),
                    container,
                    types: params
                        .children_named("type")
                        .map(|t| t.text.clone())
                        .collect(),
                    recursive: parse_bool("recursive", required_text(params, "recursive")?)?,
                };
                let id = self.views.create(view);
                write_declared(
                    w,
                    "returnval",
                    &Value::MoRef(MoRef::new("ContainerView", id)),
                    false,
                );
            }
            "DestroyView" => {
                if call.this.kind != "ContainerView" {
                    return Err(method_not_found(call));
                }
                if !self.views.destroy(&call.this.id) {
                    return Err(VimFault::ManagedObjectNotFound {
                        obj: call.this.clone(),
                    });
                }
            }
            "FindByIp" | "FindByDnsName" => {
                expect(ids::SEARCH_INDEX)?;
                let by_ip = call.method == "FindByIp";
                let wanted = required_text(params, if by_ip { "ip" } else { "dnsName" })?;
                let vm_search = parse_bool("vmSearch", required_text(params, "vmSearch")?)?;
                let found = self.guests.list_vms().into_iter().find(|vm| {
                    let field = if by_ip { &vm.ip_address } else { &vm.host_name };
                    vm_search && field.as_deref() == Some(wanted)
                });
                if let Some(vm) = found {
                    write_declared(w, "returnval", &Value::MoRef(MoRef::vm(vm.moref)), false);
                }
            }
            "FindByUuid" => {
                expect(ids::SEARCH_INDEX)?;
                let wanted = required_text(params, "uuid")?.to_ascii_lowercase();
                let vm_search = parse_bool("vmSearch", required_text(params, "vmSearch")?)?;
                let instance = match params.child_text("instanceUuid") {
                    Some(text) => parse_bool("instanceUuid", text)?,
                    None => false,
                };
                let kind = if instance { "instance" } else { "bios" };
                let found = self.guests.list_vms().into_iter().find(|vm| {
                    vm_search && vm_uuid(&self.config.instance_uuid, &vm.moref, kind) == wanted
                });
                if let Some(vm) = found {
                    write_declared(w, "returnval", &Value::MoRef(MoRef::vm(vm.moref)), false);
                }
            }
            "StartProgramInGuest" => {
                expect(ids::PROCESS_MANAGER)?;
                self.start_program(params, w).await?;
            }
            "ListProcessesInGuest" => {
                expect(ids::PROCESS_MANAGER)?;
                self.list_processes(params, w)?;
            }
            "TerminateProcessInGuest" => {
                expect(ids::PROCESS_MANAGER)?;
                self.terminate_process(params)?;
            }
            "InitiateFileTransferToGuest" => {
                expect(ids::FILE_MANAGER)?;
                self.initiate_to_guest(params, &TransferBase(ctx.transfer_base.clone()), w)?;
            }
            "InitiateFileTransferFromGuest" => {
                expect(ids::FILE_MANAGER)?;
                self.initiate_from_guest(params, &TransferBase(ctx.transfer_base.clone()), w)?;
            }
            "DeleteFileInGuest" => {
                expect(ids::FILE_MANAGER)?;
                self.delete_file(params)?;
            }
            "MakeDirectoryInGuest" => {
                expect(ids::FILE_MANAGER)?;
                self.make_directory(params)?;
            }
            "ValidateCredentialsInGuest" => {
                expect(ids::AUTH_MANAGER)?;
                self.validate_credentials(params)?;
            }
            _ => return Err(method_not_found(call)),
        }
        Ok(())
    }
}

fn method_not_found(call: &Call) -> VimFault {
    VimFault::MethodNotFound {
        receiver: call.this.clone(),
        method: call.method.clone(),
    }
}

/// The call must target this well-known object: another type has no such
/// method, another id of the right type does not exist.
fn expect_this(call: &Call, known: (&str, &str)) -> Result<(), VimFault> {
    if call.this.kind != known.0 {
        return Err(method_not_found(call));
    }
    if call.this.id != known.1 {
        return Err(VimFault::ManagedObjectNotFound {
            obj: call.this.clone(),
        });
    }
    Ok(())
}
