//! The axum routes of the simulated vCenter: `POST /sdk` (SOAP),
//! `GET /sdk/vimServiceVersions.xml` and `PUT`/`GET /guestFile` (transfer
//! bodies; the URL token is the credential, no cookie).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::guest_api::{GuestFault, PowerState};

use super::Inner;
use super::dispatch::RequestContext;
use super::faults::VimFault;
use super::injection::{self, InjectedFault, TRANSFER_GET, TRANSFER_PUT};
use super::service_content::versions_document;
use super::transfers::{TRANSFER_PATH, TransferDirection, TransferError};

/// Largest SOAP request accepted.
const SOAP_BODY_LIMIT: usize = 8 * 1024 * 1024;
/// Largest file upload accepted.
const TRANSFER_BODY_LIMIT: usize = 512 * 1024 * 1024;

const XML_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route(
            "/sdk",
            post(soap).layer(DefaultBodyLimit::max(SOAP_BODY_LIMIT)),
        )
        .route("/sdk/vimServiceVersions.xml", get(versions))
        .route(
            TRANSFER_PATH,
            get(download)
                .put(upload)
                .layer(DefaultBodyLimit::max(TRANSFER_BODY_LIMIT)),
        )
        .with_state(inner)
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `scheme://host[:port]` transfer URLs start with.
fn transfer_base(inner: &Inner, uri: &Uri, headers: &HeaderMap) -> String {
    if let Some(base) = &inner.config.public_base_url {
        return base.as_str().trim_end_matches('/').to_owned();
    }
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| header_text(headers, header::HOST))
        .unwrap_or_else(|| "localhost".to_owned());
    if inner.config.star_transfer_host {
        let port = authority
            .rsplit_once(':')
            .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            .map(|(_, p)| format!(":{p}"))
            .unwrap_or_default();
        return format!("https://*{port}");
    }
    format!("https://{authority}")
}

/// The client's address: the peer when the server runs with
/// `into_make_service_with_connect_info::<SocketAddr>()`, else `X-Forwarded-For`.
async fn client_ip(parts: &mut Parts) -> String {
    match ConnectInfo::<SocketAddr>::from_request_parts(parts, &()).await {
        Ok(ConnectInfo(addr)) => addr.ip().to_string(),
        Err(_) => header_text(
            &parts.headers,
            header::HeaderName::from_static("x-forwarded-for"),
        )
        .unwrap_or_default(),
    }
}

async fn soap(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, SOAP_BODY_LIMIT).await {
        Ok(body) => body,
        Err(error) => {
            let fault = VimFault::InvalidRequest {
                reason: format!("the request body could not be read: {error}"),
            };
            return soap_response(StatusCode::INTERNAL_SERVER_ERROR, fault.to_envelope(), None);
        }
    };
    let ctx = RequestContext {
        cookie: header_text(&parts.headers, header::COOKIE),
        transfer_base: transfer_base(&inner, &parts.uri, &parts.headers),
        client_ip: client_ip(&mut parts).await,
        user_agent: header_text(&parts.headers, header::USER_AGENT).unwrap_or_default(),
    };
    let reply = inner.handle_soap(&ctx, &body).await;
    let status = if reply.ok {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    soap_response(status, reply.body, reply.set_cookie)
}

fn soap_response(status: StatusCode, body: String, set_cookie: Option<String>) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, XML_CONTENT_TYPE)], body).into_response();
    if let Some(cookie) = set_cookie
        && let Ok(value) = cookie.parse()
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn versions() -> Response {
    (
        [(header::CONTENT_TYPE, XML_CONTENT_TYPE)],
        versions_document(),
    )
        .into_response()
}

fn ticket_error(error: &TransferError) -> Response {
    (StatusCode::NOT_FOUND, error.to_string()).into_response()
}

/// HTTP status for a guest fault met while moving a file body.
fn fault_response(fault: &VimFault) -> Response {
    let status = match fault {
        VimFault::FileNotFound { .. } | VimFault::ManagedObjectNotFound { .. } => {
            StatusCode::NOT_FOUND
        }
        VimFault::FileAlreadyExists { .. } => StatusCode::CONFLICT,
        VimFault::NotAFile { .. } | VimFault::InvalidArgument { .. } => StatusCode::BAD_REQUEST,
        VimFault::GuestPermissionDenied => StatusCode::FORBIDDEN,
        VimFault::InvalidGuestLogin => StatusCode::UNAUTHORIZED,
        VimFault::GuestOperationsUnavailable | VimFault::InvalidPowerState { .. } => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, fault.to_string()).into_response()
}

async fn injected(inner: &Inner, key: &str) -> Option<Response> {
    match injection::apply(&inner.faults, key).await? {
        InjectedFault::Stall => std::future::pending().await,
        InjectedFault::Fault(fault) => {
            Some((StatusCode::INTERNAL_SERVER_ERROR, fault.to_string()).into_response())
        }
    }
}

fn map_fault(inner: &Inner, vm: &str, fault: GuestFault) -> VimFault {
    inner.guest_fault(vm, fault)
}

/// A VM that is gone or no longer powered on takes its transfer URLs with it
/// (power-off, suspend, unregister); the ticket is closed and answers 404.
fn closed_by_power_state(inner: &Inner, id: u64, vm: &str) -> Option<Response> {
    let powered_on = inner
        .guests
        .vm_info(vm)
        .is_some_and(|info| info.power_state == PowerState::PoweredOn);
    if powered_on {
        return None;
    }
    inner.transfers.invalidate_vm(vm);
    Some(ticket_error(&TransferError::UnknownTicket(id)))
}

async fn upload(
    State(inner): State<Arc<Inner>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (id, transfer) = match inner.transfers.lookup(query.as_deref(), true) {
        Ok(found) => found,
        Err(error) => return ticket_error(&error),
    };
    if let Some(response) = injected(&inner, TRANSFER_PUT).await {
        return response;
    }
    if let Some(response) = closed_by_power_state(&inner, id, &transfer.vm) {
        return response;
    }
    let TransferDirection::ToGuest {
        overwrite,
        attributes,
        declared_size,
    } = &transfer.direction
    else {
        return ticket_error(&TransferError::WrongMethod(id, "download"));
    };
    if usize::try_from(*declared_size).ok() != Some(body.len()) {
        tracing::warn!(
            path = %transfer.path,
            declared = declared_size,
            received = body.len(),
            "guest upload size differs from InitiateFileTransferToGuest's fileSize; storing the received bytes"
        );
    }
    let written = inner.guests.write_file_with_attributes(
        &transfer.vm,
        &transfer.credentials,
        &transfer.path,
        &body,
        *overwrite,
        attributes,
    );
    match written {
        Ok(()) => {
            inner.transfers.complete(id);
            StatusCode::OK.into_response()
        }
        Err(fault) => fault_response(&map_fault(&inner, &transfer.vm, fault)),
    }
}

async fn download(State(inner): State<Arc<Inner>>, RawQuery(query): RawQuery) -> Response {
    let (id, transfer) = match inner.transfers.lookup(query.as_deref(), false) {
        Ok(found) => found,
        Err(error) => return ticket_error(&error),
    };
    if let Some(response) = injected(&inner, TRANSFER_GET).await {
        return response;
    }
    if let Some(response) = closed_by_power_state(&inner, id, &transfer.vm) {
        return response;
    }
    match inner
        .guests
        .read_file(&transfer.vm, &transfer.credentials, &transfer.path)
    {
        Ok(data) => {
            inner.transfers.complete(id);
            ([(header::CONTENT_TYPE, "application/octet-stream")], data).into_response()
        }
        Err(fault) => fault_response(&map_fault(&inner, &transfer.vm, fault)),
    }
}
