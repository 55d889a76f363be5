//! Recording a served simulator's exchanges (`vcd-sim serve --record DIR`)
//! and checking a new run against a recording (`vcd-sim replay-check`).
//!
//! [`Recorder`] appends one JSON object per line to `DIR/exchanges.jsonl`
//! (file 0600, directory 0700): vCD REST and vCenter (SOAP guest
//! operations, file transfers) requests with their responses, and the
//! extension messages vCD sends and receives. Secrets are redacted before
//! anything is written ([`redact_headers`], [`redact_body`]):
//! `Authorization`, `x-vcloud-authorization`, cookies and access-token
//! headers, password elements, attributes and JSON fields, tokens and JWTs.
//!
//! [`replay_check`] compares two recordings after [`normalize`] (ids,
//! timestamps, tokens, addresses and ports replaced by placeholders) and
//! with runs of identical exchanges collapsed (how often a client polls a
//! task depends on timing), and lists where they differ.

use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use axum::http::HeaderMap;
use parking_lot::Mutex;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// The recording file in a recording directory.
pub const FILE: &str = "exchanges.jsonl";
/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("constant regex {pattern}: {e}"))
}

/// Headers whose values are secrets.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-vcloud-authorization",
    "x-vmware-vcloud-access-token",
    "cookie",
    "set-cookie",
];

static XML_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)(<(?:[\w-]+:)?[\w-]*(?:password|secret|token)[\w-]*(?:\s[^>]*)?>)[^<]*(</)")
});
static ATTR_SECRET: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)([\w:-]*(?:password|secret|token)[\w-]*\s*=\s*")[^"]*(")"#));
static JSON_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?i)("[^"]*(?:password|secret|token)[^"]*"\s*:\s*")(?:[^"\\]|\\.)*(")"#)
});
static JWT: LazyLock<Regex> =
    LazyLock::new(|| re(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"));
static HEX_TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"\b[0-9a-f]{32}\b"));

/// Header names (lower case) to values, secrets replaced by [`REDACTED`].
pub fn redact_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        let value = if SECRET_HEADERS.contains(&name.as_str()) {
            REDACTED.to_owned()
        } else {
            redact_body(value)
        };
        out.entry(name)
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

/// A body with password elements, attributes and JSON fields, JWTs and
/// 128-bit hex tokens replaced by [`REDACTED`].
pub fn redact_body(body: &str) -> String {
    let s = XML_SECRET.replace_all(body, format!("${{1}}{REDACTED}${{2}}").as_str());
    let s = ATTR_SECRET.replace_all(&s, format!("${{1}}{REDACTED}${{2}}").as_str());
    let s = JSON_SECRET.replace_all(&s, format!("${{1}}{REDACTED}${{2}}").as_str());
    let s = JWT.replace_all(&s, REDACTED);
    HEX_TOKEN.replace_all(&s, REDACTED).into_owned()
}

/// A body as recorded: text (redacted), or the size of what was not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedBody {
    /// UTF-8 text, redacted.
    Text(String),
    /// Binary content of this many bytes (not kept).
    Binary(usize),
    /// Too large to keep, or streamed.
    Omitted,
}

impl RecordedBody {
    fn of(body: Option<&[u8]>) -> Option<Self> {
        match body {
            None => Some(RecordedBody::Omitted),
            Some([]) => None,
            Some(b) => Some(match std::str::from_utf8(b) {
                Ok(text) => RecordedBody::Text(redact_body(text)),
                Err(_) => RecordedBody::Binary(b.len()),
            }),
        }
    }
}

/// One side of an exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The HTTP status (responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Headers, lower-case names, secrets redacted.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RecordedBody>,
}

/// One recorded exchange (one line of the recording).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// Order in the recording, from 1.
    #[serde(default)]
    pub seq: u64,
    /// `vcd`, `vcenter` or `extension`.
    pub surface: String,
    /// The operation's name (see `control::observe`).
    pub operation: String,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The request.
    pub request: Message,
    /// The response.
    pub response: Message,
}

fn header_pairs(h: &HeaderMap) -> BTreeMap<String, String> {
    redact_headers(
        h.iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))),
    )
}

impl Exchange {
    /// An HTTP exchange of a listener.
    #[allow(clippy::too_many_arguments)]
    pub fn http(
        surface: &str,
        operation: &str,
        method: &str,
        path: &str,
        query: Option<&str>,
        request_headers: &HeaderMap,
        request_body: Option<&[u8]>,
        status: u16,
        response_headers: &HeaderMap,
        response_body: Option<&[u8]>,
    ) -> Self {
        Exchange {
            seq: 0,
            surface: surface.to_owned(),
            operation: operation.to_owned(),
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.map(redact_body),
            request: Message {
                status: None,
                headers: header_pairs(request_headers),
                body: RecordedBody::of(request_body),
            },
            response: Message {
                status: Some(status),
                headers: header_pairs(response_headers),
                body: RecordedBody::of(response_body),
            },
        }
    }

    /// An extension message vCD sent, with the reply it got.
    pub fn extension(
        target: &crate::ext::ExtensionTarget,
        request: &crate::ext::ForwardedRequest,
        response: &crate::ext::ForwardedResponse,
    ) -> Self {
        Exchange {
            seq: 0,
            surface: "extension".into(),
            operation: format!("{} {}", target.exchange, target.routing_key),
            method: request.method.clone(),
            path: request.request_uri.clone(),
            query: request.query_string.as_deref().map(redact_body),
            request: Message {
                status: None,
                headers: redact_headers(
                    request
                        .headers
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                ),
                body: RecordedBody::of(Some(&request.body)),
            },
            response: Message {
                status: Some(response.status),
                headers: redact_headers(
                    response
                        .headers
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                ),
                body: RecordedBody::of(Some(&response.body)),
            },
        }
    }
}

/// Why a recording could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The directory or file could not be created or opened.
    #[error("cannot open recording {path}: {source}")]
    Open {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not a recorded exchange.
    #[error("{path} line {line}: not a recorded exchange: {reason}")]
    Line {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What was wrong.
        reason: String,
    },
}

/// Appends exchanges to `DIR/exchanges.jsonl`, one JSON object a line.
#[derive(Debug)]
pub struct Recorder {
    out: Mutex<(u64, std::fs::File)>,
    path: PathBuf,
}

impl Recorder {
    /// Creates `dir` (0700) if needed and starts `dir/exchanges.jsonl` (0600) afresh.
    pub fn create(dir: &Path) -> Result<Recorder, RecordError> {
        let path = dir.join(FILE);
        let open = |source| RecordError::Open {
            path: path.clone(),
            source,
        };
        cse_core::config::create_private_dir(dir)
            .map_err(|e| open(std::io::Error::other(e.to_string())))?;
        cse_core::config::write_private_file(&path, b"")
            .map_err(|e| open(std::io::Error::other(e.to_string())))?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(open)?;
        Ok(Recorder {
            out: Mutex::new((0, file)),
            path,
        })
    }

    /// The recording file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one exchange (numbered in order); a write failure is logged.
    pub fn write(&self, exchange: &Exchange) {
        let mut out = self.out.lock();
        out.0 += 1;
        let mut e = exchange.clone();
        e.seq = out.0;
        let line = match serde_json::to_string(&e) {
            Ok(l) => l,
            Err(err) => {
                tracing::warn!("vcd-sim: cannot encode a recorded exchange: {err}");
                return;
            }
        };
        if let Err(err) = writeln!(out.1, "{line}") {
            tracing::warn!("vcd-sim: cannot write {}: {err}", self.path.display());
        }
    }
}

/// Reads a recording: a directory holding `exchanges.jsonl`, or the file.
pub fn read(path: &Path) -> Result<Vec<Exchange>, RecordError> {
    let file = if path.is_dir() {
        path.join(FILE)
    } else {
        path.to_path_buf()
    };
    let f = std::fs::File::open(&file).map_err(|source| RecordError::Open {
        path: file.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|source| RecordError::Open {
            path: file.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(|e| RecordError::Line {
            path: file.clone(),
            line: i + 1,
            reason: e.to_string(),
        })?);
    }
    Ok(out)
}

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    re(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
});
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
});
static HOST_PORT: LazyLock<Regex> = LazyLock::new(|| re(r"(?:127\.0\.0\.1|localhost|\[::1\]):\d+"));
static B64: LazyLock<Regex> = LazyLock::new(|| re(r"[A-Za-z0-9+/]{40,}={0,2}"));
static DATE_HEADER: LazyLock<Regex> =
    LazyLock::new(|| re(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT"));

/// Text with ids, timestamps, addresses with ports, secrets and long
/// base64 runs replaced by placeholders, for comparing runs.
pub fn normalize(text: &str) -> String {
    let s = UUID.replace_all(text, "{id}");
    let s = TIME.replace_all(&s, "{time}");
    let s = DATE_HEADER.replace_all(&s, "{time}");
    let s = HOST_PORT.replace_all(&s, "{host}");
    let s = B64.replace_all(&s, "{base64}");
    redact_body(&s)
}

/// Headers that differ between runs by nature and are not compared.
const UNCOMPARED_HEADERS: &[&str] = &["date", "content-length", "location", "etag"];

/// What is compared of an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    surface: String,
    operation: String,
    status: Option<u16>,
    request: String,
    response: String,
}

fn body_text(b: &Option<RecordedBody>) -> String {
    match b {
        Some(RecordedBody::Text(t)) => normalize(t),
        Some(RecordedBody::Binary(n)) => format!("<{n} bytes>"),
        Some(RecordedBody::Omitted) => "<omitted>".into(),
        None => String::new(),
    }
}

fn shape(e: &Exchange) -> Shape {
    let headers = |m: &Message| {
        m.headers
            .iter()
            .filter(|(k, _)| !UNCOMPARED_HEADERS.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}: {}", normalize(v)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Shape {
        surface: e.surface.clone(),
        operation: normalize(&e.operation),
        status: e.response.status,
        request: format!(
            "{}\n{}\n{}",
            normalize(e.query.as_deref().unwrap_or_default()),
            headers(&e.request),
            body_text(&e.request.body)
        ),
        response: format!("{}\n{}", headers(&e.response), body_text(&e.response.body)),
    }
}

/// One difference between a recording and a new run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// Position in the collapsed sequence, from 1.
    pub position: usize,
    /// `seq` of the recorded exchange (0: none, the new run has more).
    pub recorded_seq: u64,
    /// `seq` of the new exchange (0: none, the recording has more).
    pub new_seq: u64,
    /// What differs, in words.
    pub what: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "#{} (recorded seq {}, new seq {}): {}",
            self.position, self.recorded_seq, self.new_seq, self.what
        )
    }
}

fn collapse(exchanges: &[Exchange]) -> Vec<(u64, Shape)> {
    let mut out: Vec<(u64, Shape)> = Vec::new();
    for e in exchanges {
        let s = shape(e);
        if out.last().is_some_and(|(_, last)| *last == s) {
            continue;
        }
        out.push((e.seq, s));
    }
    out
}

fn first_line_difference(a: &str, b: &str) -> String {
    for (x, y) in a.lines().zip(b.lines()) {
        if x != y {
            return format!("`{}` became `{}`", clip(x), clip(y));
        }
    }
    format!("{} lines became {}", a.lines().count(), b.lines().count())
}

fn clip(s: &str) -> String {
    const MAX: usize = 200;
    if s.len() <= MAX {
        s.to_owned()
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    }
}

/// Where `new` differs from `recorded` (both as [`read`] gives them), at
/// most `limit` differences; empty when the runs agree.
pub fn compare(recorded: &[Exchange], new: &[Exchange], limit: usize) -> Vec<Difference> {
    let (a, b) = (collapse(recorded), collapse(new));
    let mut out = Vec::new();
    for i in 0..a.len().max(b.len()) {
        if out.len() >= limit {
            break;
        }
        let position = i + 1;
        match (a.get(i), b.get(i)) {
            (Some((sa, x)), Some((sb, y))) => {
                let what = if (&x.surface, &x.operation) != (&y.surface, &y.operation) {
                    Some(format!(
                        "{} {} became {} {}",
                        x.surface, x.operation, y.surface, y.operation
                    ))
                } else if x.status != y.status {
                    Some(format!(
                        "{}: status {:?} became {:?}",
                        x.operation, x.status, y.status
                    ))
                } else if x.request != y.request {
                    Some(format!(
                        "{}: request {}",
                        x.operation,
                        first_line_difference(&x.request, &y.request)
                    ))
                } else if x.response != y.response {
                    Some(format!(
                        "{}: response {}",
                        x.operation,
                        first_line_difference(&x.response, &y.response)
                    ))
                } else {
                    None
                };
                if let Some(what) = what {
                    out.push(Difference {
                        position,
                        recorded_seq: *sa,
                        new_seq: *sb,
                        what,
                    });
                }
            }
            (Some((sa, x)), None) => out.push(Difference {
                position,
                recorded_seq: *sa,
                new_seq: 0,
                what: format!("{} {} is missing from the new run", x.surface, x.operation),
            }),
            (None, Some((sb, y))) => out.push(Difference {
                position,
                recorded_seq: 0,
                new_seq: *sb,
                what: format!("{} {} is new", y.surface, y.operation),
            }),
            (None, None) => {}
        }
    }
    out
}

/// [`compare`] of two recordings on disk.
pub fn replay_check(
    recorded: &Path,
    new: &Path,
    limit: usize,
) -> Result<Vec<Difference>, RecordError> {
    Ok(compare(&read(recorded)?, &read(new)?, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_recording() {
        let headers = redact_headers([
            ("Authorization", "Basic YWRtaW5AU3lzdGVtOnNlY3JldA=="),
            ("x-vcloud-authorization", "0123456789abcdef0123456789abcdef"),
            ("Accept", "application/*+xml;version=32.0"),
        ]);
        assert_eq!(headers["authorization"], REDACTED);
        assert_eq!(headers["x-vcloud-authorization"], REDACTED);
        assert_eq!(headers["accept"], "application/*+xml;version=32.0");
        let xml = r#"<AdminPassword>hunter2</AdminPassword><Login><vim:password xsi:type="xsd:string">pw1</vim:password></Login><User password="pw2"/>"#;
        let out = redact_body(xml);
        for secret in ["hunter2", "pw1", "pw2"] {
            assert!(!out.contains(secret), "{out}");
        }
        let json = r#"{"password": "a\"b", "name": "x", "access_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}"#;
        let out = redact_body(json);
        assert!(!out.contains("a\\\"b") && !out.contains("eyJ"), "{out}");
        assert!(out.contains(r#""name": "x""#));
        assert!(!redact_body("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln").contains("eyJ"));
    }

    fn ex(op: &str, status: u16, body: &str) -> Exchange {
        Exchange {
            seq: 0,
            surface: "vcd".into(),
            operation: op.into(),
            method: "GET".into(),
            path: "/api".into(),
            query: None,
            request: Message {
                status: None,
                headers: BTreeMap::new(),
                body: None,
            },
            response: Message {
                status: Some(status),
                headers: BTreeMap::new(),
                body: Some(RecordedBody::Text(body.into())),
            },
        }
    }

    #[test]
    fn runs_that_differ_only_in_ids_times_and_polls_agree() {
        let a = vec![
            ex(
                "GET /api/task/{id}",
                200,
                "id=0f6b3a52-8d1c-4c1e-9a0e-123456789abc at 2026-01-01T00:00:00Z",
            ),
            ex(
                "GET /api/task/{id}",
                200,
                "id=0f6b3a52-8d1c-4c1e-9a0e-123456789abc at 2026-01-01T00:00:01Z",
            ),
            ex("GET /api/org", 200, "http://127.0.0.1:4431/api/org"),
        ];
        let b = vec![
            ex(
                "GET /api/task/{id}",
                200,
                "id=11111111-8d1c-4c1e-9a0e-123456789abc at 2027-05-01T10:00:00.5+01:00",
            ),
            ex("GET /api/org", 200, "http://127.0.0.1:9999/api/org"),
        ];
        assert_eq!(compare(&a, &b, 10), vec![]);
    }

    #[test]
    fn a_different_status_body_or_extra_call_is_reported() {
        let a = vec![ex("GET /api/org", 200, "<OrgList/>")];
        let b = vec![
            ex("GET /api/org", 503, "<Error/>"),
            ex("GET /api/versions", 200, ""),
        ];
        let d = compare(&a, &b, 10);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(
            d[0].what.contains("status Some(200) became Some(503)"),
            "{}",
            d[0]
        );
        assert!(d[1].what.contains("is new"), "{}", d[1]);
        let c = vec![ex("GET /api/org", 200, "<OrgList><Org/></OrgList>")];
        let d = compare(&a, &c, 10);
        assert!(d[0].what.contains("response"), "{}", d[0]);
    }
}
