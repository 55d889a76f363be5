//! What every listener of a served simulator sees: the [`Observer`] layer
//! counts each vCD and vCenter operation (for `GET /_sim/about`) and, with a
//! [`Recorder`], writes each exchange to the recording.
//!
//! An operation is named by its surface and, for vCD, the method and the
//! path template of the route table that serves it (`GET /api/vApp/{id}`;
//! a path no route serves, such as an extension's `/api/cse/...`, by its
//! path with ids replaced by `{id}`); for vCenter, the SOAP method
//! (`StartProgramInGuest`), the transfer (`guestFile.PUT`) or `GET
//! /sdk/vimServiceVersions.xml`. Every operation the route table, the SOAP
//! dispatcher and the transfers serve is listed from the start, with 0 calls.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Body as _;
use parking_lot::Mutex;
use regex::Regex;
use serde::Serialize;

use crate::record::{Exchange, Recorder};

/// Bodies up to this size are read to name the operation and recorded;
/// larger ones (uploads, downloads) pass through and are noted by size.
pub const BODY_LIMIT: u64 = 1024 * 1024;

static ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});
static SOAP_METHOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?([A-Za-z_][\w]*)")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// One operation with its call count, as `GET /_sim/about` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operation {
    /// `vcd` or `vcenter`.
    pub surface: String,
    /// The operation's name.
    pub operation: String,
    /// Calls since the start (or the last reset).
    pub calls: u64,
}

/// Counts operations and, when recording, writes exchanges.
#[derive(Debug)]
pub struct Observer {
    counts: Mutex<BTreeMap<(String, String), u64>>,
    recorder: Option<Arc<Recorder>>,
}

/// Every operation served, by surface and name: the vCD route table, the
/// vCenter's SOAP methods, its service versions document and guest file
/// transfers.
pub fn served_operations() -> Vec<(&'static str, String)> {
    let vcd = crate::rest::operations()
        .iter()
        .map(|op| ("vcd", format!("{} {}", op.method, op.path)));
    let vcenter = crate::vsphere::SOAP_METHODS
        .iter()
        .map(|m| (*m).to_owned())
        .chain([
            "GET /sdk/vimServiceVersions.xml".to_owned(),
            crate::vsphere::TRANSFER_GET.to_owned(),
            crate::vsphere::TRANSFER_PUT.to_owned(),
        ])
        .map(|name| ("vcenter", name));
    vcd.chain(vcenter).collect()
}

/// The route table's template for a vCD path: the one matching segment by
/// segment (`{name}` matching any one segment) with the most literal
/// segments, as axum prefers literals over captures.
fn template_of(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    crate::rest::operations()
        .iter()
        .filter(|op| op.method == method)
        .filter_map(|op| {
            let template: Vec<&str> = op.path.split('/').collect();
            if template.len() != segments.len() {
                return None;
            }
            let mut literals = 0;
            for (t, s) in template.iter().zip(&segments) {
                if t.starts_with('{') && t.ends_with('}') {
                    if s.is_empty() {
                        return None;
                    }
                } else if t == s {
                    literals += 1;
                } else {
                    return None;
                }
            }
            Some((literals, op.path.as_str()))
        })
        .fold(
            None,
            |best: Option<(usize, &'static str)>, (n, p)| match best {
                Some((m, _)) if m >= n => best,
                _ => Some((n, p)),
            },
        )
        .map(|(_, p)| p)
}

/// The surface and operation name of a request (`None`: the control API's own).
pub fn operation_of(method: &str, path: &str, body: &[u8]) -> Option<(&'static str, String)> {
    if path.starts_with(super::PREFIX) {
        return None;
    }
    if path.starts_with("/sdk") {
        let text = String::from_utf8_lossy(body);
        let name = SOAP_METHOD
            .captures(&text)
            .and_then(|c| c.get(1))
            .map_or_else(|| format!("{method} {path}"), |m| m.as_str().to_owned());
        return Some(("vcenter", name));
    }
    if path.starts_with("/guestFile") {
        return Some(("vcenter", format!("guestFile.{method}")));
    }
    if let Some(template) = template_of(method, path) {
        return Some(("vcd", format!("{method} {template}")));
    }
    Some(("vcd", format!("{method} {}", ID.replace_all(path, "{id}"))))
}

impl Observer {
    /// An observer that counts, and records when given a recorder.
    pub fn new(recorder: Option<Arc<Recorder>>) -> Self {
        Observer {
            counts: Mutex::new(zero_counts()),
            recorder,
        }
    }

    /// The recorder, when recording.
    pub fn recorder(&self) -> Option<&Arc<Recorder>> {
        self.recorder.as_ref()
    }

    /// Every operation served (see [`served_operations`]) and every other
    /// one seen, by surface and name, with its calls.
    pub fn operations(&self) -> Vec<Operation> {
        self.counts
            .lock()
            .iter()
            .map(|((surface, operation), calls)| Operation {
                surface: surface.clone(),
                operation: operation.clone(),
                calls: *calls,
            })
            .collect()
    }

    /// Forgets the counts (on reset): every operation served back to 0.
    pub fn reset_counts(&self) {
        *self.counts.lock() = zero_counts();
    }

    fn count(&self, surface: &str, operation: &str) {
        *self
            .counts
            .lock()
            .entry((surface.to_owned(), operation.to_owned()))
            .or_default() += 1;
    }

    /// The layer function: wraps a listener's router.
    pub fn wrap(self: &Arc<Self>) -> crate::serve::ListenerWrap {
        let me = Arc::clone(self);
        Arc::new(move |router: axum::Router| {
            router.layer(axum::middleware::from_fn_with_state(
                Arc::clone(&me),
                observe,
            ))
        })
    }
}

impl Default for Observer {
    fn default() -> Self {
        Observer::new(None)
    }
}

fn zero_counts() -> BTreeMap<(String, String), u64> {
    served_operations()
        .into_iter()
        .map(|(surface, name)| ((surface.to_owned(), name), 0))
        .collect()
}

fn small(body: &Body) -> bool {
    body.size_hint().upper().is_some_and(|n| n <= BODY_LIMIT)
}

async fn observe(State(obs): State<Arc<Observer>>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    if path.starts_with(super::PREFIX) {
        return next.run(request).await;
    }
    let query = request.uri().query().map(str::to_owned);
    let (parts, body) = request.into_parts();
    // The body is read only to name a SOAP call or to record it.
    let read = obs.recorder.is_some() || path.starts_with("/sdk");
    let (body, request_body) = if read && small(&body) {
        match axum::body::to_bytes(body, BODY_LIMIT as usize).await {
            Ok(b) => (Body::from(b.clone()), Some(b)),
            Err(_) => (Body::empty(), None),
        }
    } else {
        (body, None)
    };
    let Some((surface, operation)) =
        operation_of(&method, &path, request_body.as_deref().unwrap_or_default())
    else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    obs.count(surface, &operation);
    let request_headers = parts.headers.clone();
    let response = next.run(Request::from_parts(parts, body)).await;
    let Some(recorder) = &obs.recorder else {
        return response;
    };
    let (rparts, rbody) = response.into_parts();
    let (rbody, response_body): (Body, Option<Bytes>) = if small(&rbody) {
        match axum::body::to_bytes(rbody, BODY_LIMIT as usize).await {
            Ok(b) => (Body::from(b.clone()), Some(b)),
            Err(_) => (Body::empty(), None),
        }
    } else {
        (rbody, None)
    };
    recorder.write(&Exchange::http(
        surface,
        &operation,
        &method,
        &path,
        query.as_deref(),
        &request_headers,
        request_body.as_deref(),
        rparts.status.as_u16(),
        &rparts.headers,
        response_body.as_deref(),
    ));
    Response::from_parts(rparts, rbody)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_without_ids() {
        assert_eq!(
            operation_of(
                "GET",
                "/api/vApp/vapp-0f6b3a52-8d1c-4c1e-9a0e-123456789abc",
                b""
            ),
            Some(("vcd", "GET /api/vApp/{id}".to_owned()))
        );
        assert_eq!(
            operation_of("GET", "/cloudapi/1.0.0/sessions/current", b""),
            Some(("vcd", "GET /cloudapi/1.0.0/sessions/current".to_owned()))
        );
        assert_eq!(
            operation_of("DELETE", "/cloudapi/1.0.0/sessions/abc", b""),
            Some(("vcd", "DELETE /cloudapi/1.0.0/sessions/{id}".to_owned()))
        );
        assert_eq!(
            operation_of("PUT", "/api/vApp/vapp-1/metadata/GENERAL/k", b""),
            Some((
                "vcd",
                "PUT /api/vApp/{id}/metadata/{domain}/{key}".to_owned()
            ))
        );
        assert_eq!(
            operation_of(
                "POST",
                "/api/cse/cluster/0f6b3a52-8d1c-4c1e-9a0e-123456789abc",
                b""
            ),
            Some(("vcd", "POST /api/cse/cluster/{id}".to_owned())),
            "paths no route serves keep their own name"
        );
        let soap = br#"<soapenv:Envelope><soapenv:Body> <StartProgramInGuest xmlns="urn:vim25">"#;
        assert_eq!(
            operation_of("POST", "/sdk", soap),
            Some(("vcenter", "StartProgramInGuest".to_owned()))
        );
        assert_eq!(
            operation_of("PUT", "/guestFile", b""),
            Some(("vcenter", "guestFile.PUT".to_owned()))
        );
        assert_eq!(operation_of("GET", "/_sim/about", b""), None);
    }

    #[test]
    fn every_operation_served_is_listed_before_any_call() {
        let observer = Observer::new(None);
        let listed = observer.operations();
        assert_eq!(listed.len(), served_operations().len());
        assert!(listed.iter().all(|op| op.calls == 0));
        for (surface, name) in [
            ("vcd", "POST /api/sessions"),
            ("vcd", "DELETE /api/admin/extension/service/{id}"),
            ("vcenter", "StartProgramInGuest"),
            ("vcenter", "guestFile.PUT"),
        ] {
            assert!(
                listed
                    .iter()
                    .any(|op| op.surface == surface && op.operation == name),
                "{surface} {name}"
            );
        }
        observer.count("vcd", "POST /api/sessions");
        observer.count("vcd", "GET /api/cse");
        let calls = |name: &str| {
            observer
                .operations()
                .into_iter()
                .find(|op| op.operation == name)
                .map(|op| op.calls)
        };
        assert_eq!(calls("POST /api/sessions"), Some(1));
        assert_eq!(calls("GET /api/cse"), Some(1));
        assert_eq!(calls("GET /api/versions"), Some(0));
        observer.reset_counts();
        assert_eq!(calls("POST /api/sessions"), Some(0));
        assert_eq!(calls("GET /api/cse"), None);
    }
}
