//! vCD's own answers on the extension path: the `Error` documents for a
//! time-out (504), for a message that cannot be sent (500), for a malformed
//! extension reply, and the fall-through when no enabled extension matches.

use bytes::Bytes;

use super::{ExtensionTarget, ForwardedRequest, ForwardedResponse};

/// Media type of vCD error documents.
pub const ERROR_MEDIA_TYPE: &str = "application/vnd.vmware.vcloud.error+xml";

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

/// The API version the client asked for in `Accept` (`…;version=29.0`).
pub fn requested_api_version(request: &ForwardedRequest) -> Option<String> {
    request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("accept"))
        .and_then(|(_, v)| cse_core::ext::api_version_from_accept(v).ok())
}

/// A vCD `Error` document response.
pub fn error_response(
    request: &ForwardedRequest,
    status: u16,
    minor_code: &str,
    message: &str,
) -> ForwardedResponse {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <Error xmlns=\"http://www.vmware.com/vcloud/v1.5\" majorErrorCode=\"{status}\" \
         minorErrorCode=\"{}\" message=\"{}\"/>\n",
        xml_escape(minor_code),
        xml_escape(message)
    );
    let content_type = match requested_api_version(request) {
        Some(v) => format!("{ERROR_MEDIA_TYPE};version={v}"),
        None => ERROR_MEDIA_TYPE.to_owned(),
    };
    ForwardedResponse {
        status,
        headers: vec![("Content-Type".into(), content_type)],
        body: Bytes::from(body),
    }
}

/// No reply within the extensibility timeout.
pub fn timeout_response(
    request: &ForwardedRequest,
    target: &ExtensionTarget,
    timeout_secs: u64,
) -> ForwardedResponse {
    error_response(
        request,
        504,
        "GATEWAY_TIMEOUT",
        &format!(
            "External service '{}' failed to respond in the specified timeout ({timeout_secs} SECONDS)",
            target.name
        ),
    )
}

/// The request could not be published to the extension's exchange.
pub fn cannot_send_response(
    request: &ForwardedRequest,
    target: &ExtensionTarget,
) -> ForwardedResponse {
    error_response(
        request,
        500,
        "INTERNAL_SERVER_ERROR",
        &format!(
            "Cannot send message to service with id: {}. Check your service configuration.",
            target.id
        ),
    )
}

/// The extension answered with something that is not a valid reply object.
pub fn invalid_reply_response(
    request: &ForwardedRequest,
    target: &ExtensionTarget,
    reason: &str,
) -> ForwardedResponse {
    error_response(
        request,
        500,
        "INTERNAL_SERVER_ERROR",
        &format!(
            "External service '{}' sent an invalid response: {reason}",
            target.name
        ),
    )
}

/// No enabled extension takes the path: vCD's own routing answers, 404
/// `RESOURCE_NOT_FOUND` for XML clients and 406 `NOT_ACCEPTABLE` (what CSE
/// issue #131 saw) for clients that accept only JSON.
pub fn not_routed_response(request: &ForwardedRequest) -> ForwardedResponse {
    let accept = request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("accept"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    if accept.contains("json") && !accept.contains("xml") {
        error_response(
            request,
            406,
            "NOT_ACCEPTABLE",
            "The request has an unsupported Accept header for this resource.",
        )
    } else {
        error_response(
            request,
            404,
            "RESOURCE_NOT_FOUND",
            &format!("Resource not found: {}", request.request_uri),
        )
    }
}
