//! The vCD REST client (reqwest + rustls): API version negotiation, sessions made by
//! logging in (the system administrator, a tenant's CLI, the scenario runner),
//! re-hydrated from a tenant's forwarded token and `Accept` version or resumed from a
//! stored token; XML requests with retries for idempotent calls and renewal on 401,
//! `/api/cse` calls through vCD, task waiting with deadlines, paged queries, and the
//! vCenter lookup of a VM.
//!
//! Module map:
//! - `client`: [`VcdConnector`] (one per endpoint) and [`Client`] (one session).
//! - `session`: the `Session` document, credentials, header names.
//! - `version`: [`ApiVersion`], `Accept` parsing, media types.
//! - `error`: [`VcdError`] and vCD's `Error` document.
//! - `retry`: which failures are retried, and the backoff.
//! - `tasks`: task status, task documents, waiting with a deadline.
//! - `query`: query URLs, filters, result pages.
//! - `links`: `Link` selection by rel and type.
//! - `vim`: a VM's vCenter and moref; registered vCenters.
//! - `http`: the reqwest client builder shared with the vSphere client.
//! - `body`: answer bodies read with a size bound (vCD, vCenter, guest files).
//! - `xml`: a small namespace-aware element tree.

pub mod body;
pub mod client;
pub mod error;
pub mod http;
pub mod links;
pub mod query;
pub mod records;
pub mod retry;
pub mod session;
pub mod tasks;
pub mod version;
pub mod vim;
pub mod xml;

pub use client::{
    Answer, Client, CloudApiReply, Reply, VcdConnector, VcdSettings, sysadmin_secret,
};
pub use error::{VcdError, VcdErrorDocument};
pub use http::{HttpTimeouts, TlsOptions};
pub use links::{Link, find_link, links_of, require_link};
pub use query::{Filter, Query, QueryFormat, QueryPage, QueryRecord};
pub use retry::RetryPolicy;
pub use session::{
    ACCESS_TOKEN_HEADER, AUTH_HEADER, ApiTokenCredentials, AuthHeader, Credentials, LoginKind,
    LoginSecret, SessionInfo, SessionToken, TokenKind,
};
pub use tasks::{TaskInfo, TaskStatus};
pub use version::{
    ApiVersion, SUPPORTED_API_VERSIONS, VersionChoice, highest_common_version, media,
    supported_versions, version_from_accept,
};
pub use vim::{VimServer, VmPlacement, vm_moref_from_environment, vm_placement};
