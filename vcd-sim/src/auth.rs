//! Modern vCD authentication: CloudAPI sessions answered with a JWT
//! (HMAC-SHA256 over a per-simulator random key, with `exp`), and API
//! tokens (refresh tokens exchanged at `/oauth/.../token` for a JWT).
//!
//! A JWT session stands on a plain session of the state (`Sim::login`), so
//! every route that knows a caller from a session token knows one from a
//! JWT too: [`Auth::resolve`] turns a valid, unexpired JWT into that
//! session token. Both tables are bounded: expired sessions are swept on
//! every insert, and past [`MAX_SESSIONS`] the oldest session goes; API
//! tokens stop at [`MAX_TOKENS`].

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::state::{Caller, EntityRef, Id};

/// Most JWT sessions held at once.
pub const MAX_SESSIONS: usize = 10_000;
/// Most API tokens held at once.
pub const MAX_TOKENS: usize = 1_000;
/// Default lifetime of a JWT (`exp - iat`).
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(24 * 3600);

type HmacSha256 = Hmac<Sha256>;

/// Why a bearer token was refused (all answered 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts with JSON inside.
    #[error("the bearer token is not a well-formed JWT")]
    Malformed,
    /// The signature does not match (forged or from another simulator).
    #[error("the bearer token's signature is invalid")]
    BadSignature,
    /// `exp` has passed.
    #[error("the bearer token has expired")]
    Expired,
    /// Signed by us, but its session was logged out or swept.
    #[error("the session of the bearer token has ended")]
    NoSession,
}

/// The claims of a simulator JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// `<user uuid>@<org uuid>`.
    pub iss: String,
    /// User name.
    pub sub: String,
    /// Org name.
    pub org: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Session id (the uuid of `urn:vcloud:session:`).
    pub jti: String,
}

/// A CloudAPI session as the routes see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedSession {
    /// Session uuid (`urn:vcloud:session:<id>`).
    pub id: Uuid,
    /// The signed JWT.
    pub jwt: String,
    /// The plain session token it stands on.
    pub session_token: String,
    /// Expiry (Unix seconds).
    pub exp: i64,
}

#[derive(Debug, Clone)]
struct JwtSession {
    session_token: String,
    user: Id,
    exp: i64,
    seq: u64,
}

/// Kind of an API token (`type` in the CloudAPI token document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A user's API token, exchanged at `/oauth/.../token`.
    Refresh,
    /// An extension's token (kept for the MQTT extension transport).
    Extension,
}

impl TokenKind {
    /// The CloudAPI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Refresh => "REFRESH",
            TokenKind::Extension => "EXTENSION",
        }
    }

    /// Parses the CloudAPI spelling (case-insensitive).
    pub fn parse(s: &str) -> Option<TokenKind> {
        match s.to_ascii_uppercase().as_str() {
            "REFRESH" => Some(TokenKind::Refresh),
            "EXTENSION" => Some(TokenKind::Extension),
            _ => None,
        }
    }
}

/// An API token as stored: its secret only as a SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Token uuid (`urn:vcloud:token:<id>`).
    pub id: Uuid,
    /// The name its owner gave it.
    pub name: String,
    /// REFRESH or EXTENSION.
    pub kind: TokenKind,
    /// Owner user id.
    pub owner: Id,
    /// Owner user name.
    pub owner_name: String,
    /// Owner's org id.
    pub org: Id,
    /// Owner's org name.
    pub org_name: String,
    digest: [u8; 32],
}

impl ApiToken {
    /// The CloudAPI `Token` document (never holds the secret).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": format!("urn:vcloud:token:{}", self.id),
            "name": self.name,
            "type": self.kind.as_str(),
            "owner": {"name": self.owner_name, "id": EntityRef::User(self.owner).urn()},
            "org": {"name": self.org_name, "id": EntityRef::Org(self.org).urn()},
        })
    }
}

/// Why an API token could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// [`MAX_TOKENS`] reached.
    #[error("the simulator holds {MAX_TOKENS} API tokens already; delete some first")]
    TooMany,
}

/// An API token as a snapshot holds it: the secret only as its SHA-256
/// digest (hex), so a loaded token is used with the secret it was shown with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredToken {
    /// Token uuid.
    pub id: Uuid,
    /// The name its owner gave it.
    pub name: String,
    /// `REFRESH` or `EXTENSION`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Owner user id.
    pub owner: Id,
    /// Owner name (`vendor/name/version` for an extension's token).
    pub owner_name: String,
    /// Owner's org id.
    pub org: Id,
    /// Owner's org name.
    pub org_name: String,
    /// SHA-256 of the secret, 64 hex digits.
    pub secret_sha256: String,
}

#[derive(Default)]
struct Tables {
    sessions: HashMap<Uuid, JwtSession>,
    tokens: HashMap<Uuid, ApiToken>,
    seq: u64,
}

/// JWT signing key, JWT sessions and API tokens of one simulator.
pub struct Auth {
    key: [u8; 32],
    lifetime: Duration,
    tables: Mutex<Tables>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl Auth {
    /// A fresh random key; JWTs live `lifetime`.
    pub fn new(lifetime: Duration) -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Auth {
            key,
            lifetime,
            tables: Mutex::new(Tables::default()),
        }
    }

    /// How long a JWT lives.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    fn sign(&self, signing_input: &str) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(signing_input.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    fn encode(&self, claims: &Claims) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let input = format!("{header}.{body}");
        let sig = URL_SAFE_NO_PAD.encode(self.sign(&input));
        format!("{input}.{sig}")
    }

    /// Checks a JWT's form, signature and `exp`, and returns its claims.
    pub fn verify(&self, jwt: &str) -> Result<Claims, JwtError> {
        let mut parts = jwt.trim().split('.');
        let (Some(h), Some(b), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header: serde_json::Value = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .ok_or(JwtError::Malformed)?;
        if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
            return Err(JwtError::BadSignature);
        }
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)?;
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(format!("{h}.{b}").as_bytes());
        mac.verify_slice(&sig).map_err(|_| JwtError::BadSignature)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(b)
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .ok_or(JwtError::Malformed)?;
        if claims.exp <= now() {
            return Err(JwtError::Expired);
        }
        Ok(claims)
    }

    /// A new JWT session on a plain session token. Returns the session and
    /// the plain session tokens of sessions swept or evicted to make room
    /// (the caller logs those out of the state).
    pub fn issue(&self, session_token: String, caller: &Caller) -> (IssuedSession, Vec<String>) {
        let id = Uuid::new_v4();
        let iat = now();
        let exp = iat.saturating_add(i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX));
        let claims = Claims {
            iss: format!("{}@{}", caller.user, caller.org),
            sub: caller.user_name.clone(),
            org: caller.org_name.clone(),
            iat,
            exp,
            jti: id.to_string(),
        };
        let jwt = self.encode(&claims);
        let mut ended = Vec::new();
        let mut t = self.tables.lock();
        let at = now();
        let expired: Vec<Uuid> = t
            .sessions
            .iter()
            .filter(|(_, s)| s.exp <= at)
            .map(|(k, _)| *k)
            .collect();
        for k in expired {
            if let Some(s) = t.sessions.remove(&k) {
                ended.push(s.session_token);
            }
        }
        while t.sessions.len() >= MAX_SESSIONS {
            let oldest = t
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.seq)
                .map(|(k, _)| *k);
            match oldest.and_then(|k| t.sessions.remove(&k)) {
                Some(s) => ended.push(s.session_token),
                None => break,
            }
        }
        t.seq += 1;
        let seq = t.seq;
        t.sessions.insert(
            id,
            JwtSession {
                session_token: session_token.clone(),
                user: caller.user,
                exp,
                seq,
            },
        );
        (
            IssuedSession {
                id,
                jwt,
                session_token,
                exp,
            },
            ended,
        )
    }

    /// The plain session token behind a valid JWT, with the session id.
    pub fn resolve(&self, jwt: &str) -> Result<(Uuid, String), JwtError> {
        let claims = self.verify(jwt)?;
        let id = Uuid::parse_str(&claims.jti).map_err(|_| JwtError::Malformed)?;
        self.tables
            .lock()
            .sessions
            .get(&id)
            .map(|s| (id, s.session_token.clone()))
            .ok_or(JwtError::NoSession)
    }

    /// Ends a JWT session if `user` owns it; returns its plain session token.
    pub fn end_session(&self, id: Uuid, user: Id) -> Option<String> {
        let mut t = self.tables.lock();
        match t.sessions.get(&id) {
            Some(s) if s.user == user => t.sessions.remove(&id).map(|s| s.session_token),
            _ => None,
        }
    }

    /// Ends every JWT session standing on a plain session token (logout
    /// through `DELETE /api/session`).
    pub fn end_sessions_on(&self, session_token: &str) {
        self.tables
            .lock()
            .sessions
            .retain(|_, s| s.session_token != session_token);
    }

    /// The JWT session id standing on a plain session token, if any.
    pub fn session_id_of(&self, session_token: &str) -> Option<Uuid> {
        self.tables
            .lock()
            .sessions
            .iter()
            .find(|(_, s)| s.session_token == session_token)
            .map(|(k, _)| *k)
    }

    /// Number of JWT sessions held.
    pub fn session_count(&self) -> usize {
        self.tables.lock().sessions.len()
    }

    /// Creates an API token for a caller; returns it and its secret (shown once).
    pub fn create_token(
        &self,
        caller: &Caller,
        name: &str,
        kind: TokenKind,
    ) -> Result<(ApiToken, String), TokenError> {
        let mut t = self.tables.lock();
        if t.tokens.len() >= MAX_TOKENS {
            return Err(TokenError::TooMany);
        }
        let secret = crate::secret::token();
        let token = ApiToken {
            id: crate::secret::uuid(),
            name: name.to_string(),
            kind,
            owner: caller.user,
            owner_name: caller.user_name.clone(),
            org: caller.org,
            org_name: caller.org_name.clone(),
            digest: digest(&secret),
        };
        t.tokens.insert(token.id, token.clone());
        Ok((token, secret))
    }

    /// A user's tokens (every token for a system administrator), by name.
    pub fn list_tokens(&self, caller: &Caller) -> Vec<ApiToken> {
        let mut v: Vec<ApiToken> = self
            .tables
            .lock()
            .tokens
            .values()
            .filter(|k| caller.is_sysadmin() || k.owner == caller.user)
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        v
    }

    /// Revokes a token the caller owns (any token for a system administrator).
    pub fn delete_token(&self, caller: &Caller, id: Uuid) -> bool {
        let mut t = self.tables.lock();
        match t.tokens.get(&id) {
            Some(k) if caller.is_sysadmin() || k.owner == caller.user => {
                t.tokens.remove(&id);
                true
            }
            _ => false,
        }
    }

    /// Every API token, in id order, as a snapshot holds them.
    pub fn export_tokens(&self) -> Vec<StoredToken> {
        let mut v: Vec<StoredToken> = self
            .tables
            .lock()
            .tokens
            .values()
            .map(|k| StoredToken {
                id: k.id,
                name: k.name.clone(),
                kind: k.kind.as_str().to_owned(),
                owner: k.owner,
                owner_name: k.owner_name.clone(),
                org: k.org,
                org_name: k.org_name.clone(),
                secret_sha256: hex::encode(k.digest),
            })
            .collect();
        v.sort_by_key(|k| k.id);
        v
    }

    /// Checks tokens from a snapshot: a known type, a 64-hex-digit digest,
    /// ids once, at most [`MAX_TOKENS`]; the parsed tokens.
    pub fn check_tokens(tokens: &[StoredToken]) -> Result<Vec<ApiToken>, String> {
        if tokens.len() > MAX_TOKENS {
            return Err(format!(
                "{} API tokens, more than the {MAX_TOKENS} allowed",
                tokens.len()
            ));
        }
        let mut seen = std::collections::HashSet::new();
        tokens
            .iter()
            .map(|k| {
                let kind = TokenKind::parse(&k.kind).ok_or_else(|| {
                    format!(
                        "API token {}: type `{}` is not REFRESH or EXTENSION",
                        k.id, k.kind
                    )
                })?;
                let digest: [u8; 32] = hex::decode(&k.secret_sha256)
                    .ok()
                    .and_then(|d| d.try_into().ok())
                    .ok_or_else(|| {
                        format!("API token {}: secret_sha256 is not 64 hex digits", k.id)
                    })?;
                if !seen.insert(k.id) {
                    return Err(format!("API token {} appears twice", k.id));
                }
                Ok(ApiToken {
                    id: k.id,
                    name: k.name.clone(),
                    kind,
                    owner: k.owner,
                    owner_name: k.owner_name.clone(),
                    org: k.org,
                    org_name: k.org_name.clone(),
                    digest,
                })
            })
            .collect()
    }

    /// Replaces every API token (a snapshot's, checked by [`Auth::check_tokens`]).
    pub fn replace_tokens(&self, tokens: Vec<ApiToken>) {
        self.tables.lock().tokens = tokens.into_iter().map(|k| (k.id, k)).collect();
    }

    /// Creates an `EXTENSION` token owned by an MQTT extension: its owner
    /// name is the extension's `vendor/name/version`, as vCD shows it.
    pub fn create_extension_token(
        &self,
        caller: &Caller,
        name: &str,
        extension_owner: &str,
    ) -> Result<(ApiToken, String), TokenError> {
        let mut owner = caller.clone();
        owner.user_name = extension_owner.to_string();
        self.create_token(&owner, name, TokenKind::Extension)
    }

    /// Revokes every token of an extension (it was deleted).
    pub fn delete_extension_tokens(&self, extension_owner: &str) {
        self.tables
            .lock()
            .tokens
            .retain(|_, k| !(k.kind == TokenKind::Extension && k.owner_name == extension_owner));
    }

    /// Whether `secret` is an `EXTENSION` token owned by the extension
    /// `vendor/name/version` (the MQTT broker's login check).
    pub fn check_extension_token(&self, secret: &str, extension_owner: &str) -> bool {
        let d = digest(secret);
        self.tables.lock().tokens.values().any(|k| {
            k.kind == TokenKind::Extension && k.digest == d && k.owner_name == extension_owner
        })
    }

    /// The REFRESH token with this secret, if its owner is in `org`
    /// (case-insensitive org name).
    pub fn find_refresh_token(&self, secret: &str, org: &str) -> Option<ApiToken> {
        let d = digest(secret);
        self.tables
            .lock()
            .tokens
            .values()
            .find(|k| {
                k.kind == TokenKind::Refresh
                    && k.digest == d
                    && k.org_name.eq_ignore_ascii_case(org)
            })
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::RoleName;

    fn alice() -> Caller {
        Caller {
            user: Uuid::new_v4(),
            user_name: "alice".into(),
            org: Uuid::new_v4(),
            org_name: "acme".into(),
            role: RoleName::OrgAdministrator,
            role_name: "Organization Administrator".into(),
            rights: vec![],
        }
    }

    #[test]
    fn a_jwt_resolves_to_its_session_until_it_ends() {
        let auth = Auth::new(DEFAULT_SESSION_LIFETIME);
        let a = alice();
        let (s, ended) = auth.issue("tok-1".into(), &a);
        assert!(ended.is_empty());
        assert_eq!(auth.resolve(&s.jwt), Ok((s.id, "tok-1".to_string())));
        let claims = auth.verify(&s.jwt).unwrap();
        assert_eq!(claims.sub, "alice");
        assert!(claims.exp > claims.iat);
        assert_eq!(
            auth.end_session(s.id, Uuid::new_v4()),
            None,
            "not the owner"
        );
        assert_eq!(auth.end_session(s.id, a.user), Some("tok-1".to_string()));
        assert_eq!(auth.resolve(&s.jwt), Err(JwtError::NoSession));
    }

    #[test]
    fn forged_and_expired_jwts_are_refused() {
        let auth = Auth::new(DEFAULT_SESSION_LIFETIME);
        let (s, _) = auth.issue("tok".into(), &alice());
        let other = Auth::new(DEFAULT_SESSION_LIFETIME);
        assert_eq!(other.verify(&s.jwt), Err(JwtError::BadSignature));
        // a changed claim breaks the signature
        let mut parts: Vec<String> = s.jwt.split('.').map(str::to_string).collect();
        let mut claims = auth.verify(&s.jwt).unwrap();
        claims.sub = "administrator".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert_eq!(auth.verify(&parts.join(".")), Err(JwtError::BadSignature));
        // alg none is not accepted
        parts[0] = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        assert_eq!(auth.verify(&parts.join(".")), Err(JwtError::BadSignature));
        assert_eq!(auth.verify("abc"), Err(JwtError::Malformed));
        assert_eq!(auth.verify("a.b.c"), Err(JwtError::Malformed));
        let short = Auth::new(Duration::ZERO);
        let (s, _) = short.issue("tok".into(), &alice());
        assert_eq!(short.verify(&s.jwt), Err(JwtError::Expired));
    }

    #[test]
    fn expired_sessions_are_swept_and_the_table_is_capped() {
        let short = Auth::new(Duration::ZERO);
        let a = alice();
        short.issue("t1".into(), &a);
        let (_, ended) = short.issue("t2".into(), &a);
        assert_eq!(ended, vec!["t1".to_string()]);
        assert_eq!(short.session_count(), 1);

        let auth = Auth::new(DEFAULT_SESSION_LIFETIME);
        let (first, _) = auth.issue("first".into(), &a);
        for i in 1..MAX_SESSIONS {
            auth.issue(format!("t{i}"), &a);
        }
        assert_eq!(auth.session_count(), MAX_SESSIONS);
        let (_, ended) = auth.issue("one-more".into(), &a);
        assert_eq!(ended, vec!["first".to_string()]);
        assert_eq!(auth.session_count(), MAX_SESSIONS);
        assert_eq!(auth.resolve(&first.jwt), Err(JwtError::NoSession));
    }

    #[test]
    fn api_tokens_keep_only_a_digest_and_are_capped() {
        let auth = Auth::new(DEFAULT_SESSION_LIFETIME);
        let a = alice();
        let (t, secret) = auth.create_token(&a, "ci", TokenKind::Refresh).unwrap();
        assert!(!format!("{t:?}").contains(&secret));
        assert!(!t.to_json().to_string().contains(&secret));
        assert_eq!(
            auth.find_refresh_token(&secret, "ACME").map(|k| k.id),
            Some(t.id)
        );
        assert!(auth.find_refresh_token(&secret, "beta").is_none());
        assert!(auth.find_refresh_token("wrong", "acme").is_none());
        let (e, esecret) = auth.create_token(&a, "mqtt", TokenKind::Extension).unwrap();
        assert!(
            auth.find_refresh_token(&esecret, "acme").is_none(),
            "not a refresh token"
        );
        assert_eq!(auth.list_tokens(&a).len(), 2);
        assert!(auth.delete_token(&a, e.id));
        assert!(auth.delete_token(&a, t.id));
        assert!(
            auth.find_refresh_token(&secret, "acme").is_none(),
            "revoked"
        );
        for i in 0..MAX_TOKENS {
            auth.create_token(&a, &format!("t{i}"), TokenKind::Refresh)
                .unwrap();
        }
        assert_eq!(
            auth.create_token(&a, "over", TokenKind::Refresh).err(),
            Some(TokenError::TooMany)
        );
    }
}
