//! Who is calling: the tenant's vCD session re-hydrated from the forwarded
//! token — `Authorization: Bearer <jwt>` (vCD 10.x CloudAPI sessions; it wins
//! when both are present) or `x-vcloud-authorization` — at the version of its
//! `Accept` header, and
//! the authorization rules on top of it — system operations for the System
//! org only; with `service.enforce_authorization`, cluster operations need the
//! `CSE NATIVE DEPLOY RIGHT` (System-org callers always pass).

use cse_core::api::{ApiError, is_system_org};
use cse_core::config::Secret;
use cse_core::ext::{CallerToken, ExtRequest};

use std::sync::Arc;

use cse_vcd::vcd::{ApiVersion, Client, SessionInfo, SessionToken, VcdConnector, VcdError};
use sha2::{Digest, Sha256};

use crate::coordination::CallerSessions;
use crate::coordination::sessions::SessionKey;

/// Name of the right checked when `enforce_authorization` is on.
pub const CSE_RIGHT: &str = "CSE NATIVE DEPLOY RIGHT";

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The caller's own vCD session: every lookup made with it sees only what
    /// the caller may see.
    pub client: Client,
    /// User, org and links of the session.
    pub session: SessionInfo,
    /// The SHA-256 digest of the caller's token with its API version: who
    /// lookups shared between calls are for (never the token itself).
    pub key: SessionKey,
}

impl Caller {
    /// True for callers in the System org.
    pub fn is_system(&self) -> bool {
        is_system_org(&self.session.org)
    }

    /// System operations: System org only (401 `Unauthorized` otherwise).
    pub fn require_system(&self) -> Result<(), ApiError> {
        if self.is_system() {
            Ok(())
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

/// Re-hydrates the caller's session; a refused token is 401 `Unauthorized`.
/// The session's document is read once per token and remembered briefly
/// (`sessions`, see [`crate::coordination::sessions`]).
pub async fn authenticate(
    connector: &VcdConnector,
    sessions: &CallerSessions,
    request: &ExtRequest,
) -> Result<Caller, ApiError> {
    let token = match request.caller_token().ok_or(ApiError::MissingToken)? {
        CallerToken::Bearer(jwt) => SessionToken::Bearer(Secret::new(jwt)),
        CallerToken::Legacy(token) => SessionToken::Legacy(Secret::new(token)),
    };
    let version_text = request
        .api_version()
        .map_err(|e| ApiError::MissingApiVersion(e.to_string()))?;
    let version = ApiVersion::parse(&version_text).ok_or_else(|| {
        ApiError::MissingApiVersion(format!(
            "API version '{version_text}' is not of the form NN.N"
        ))
    })?;
    let key: SessionKey = (
        Sha256::digest(token.secret().expose().as_bytes()).into(),
        version.as_str().to_owned(),
    );
    let read = {
        let (connector, token, version) = (connector.clone(), token.clone(), version.clone());
        async move {
            connector
                .rehydrate(token, version)
                .await
                .map(|client| Arc::new(client.session()))
                .map_err(|e| match e.status() {
                    Some(401 | 403) => ApiError::Unauthorized,
                    _ => vcd_failure(&e),
                })
        }
    };
    let session = sessions.get(key.clone(), read).await?;
    let client = connector.with_session(token, version, (*session).clone());
    Ok(Caller {
        client,
        session: (*session).clone(),
        key,
    })
}

/// With `enforce_authorization`, non-System callers need [`CSE_RIGHT`] among
/// the rights vCD forwarded in the request's security context.
pub fn check_rights(enforce: bool, caller: &Caller, request: &ExtRequest) -> Result<(), ApiError> {
    if !enforce || caller.is_system() {
        return Ok(());
    }
    let has_right = request.security_context.as_ref().is_some_and(|context| {
        context
            .rights
            .iter()
            .any(|right| right.ends_with(CSE_RIGHT))
    });
    if has_right {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// A vCD failure as a 500 whose text says what failed (no secrets: vCD errors
/// carry none).
pub fn vcd_failure(error: &VcdError) -> ApiError {
    ApiError::Internal(error.to_string())
}
