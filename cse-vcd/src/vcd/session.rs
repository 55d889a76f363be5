//! Who a vCD client is logged in as: the `Session` document's user, org, roles
//! and links; the session's credential ([`SessionToken`]: a legacy
//! `x-vcloud-authorization` token or a CloudAPI bearer JWT, never shown); and
//! what a session is opened with (a password or an API token) and how
//! ([`LoginKind`]).

use cse_core::config::Secret;

use super::error::VcdError;
use super::links::{Link, find_link, links_of};
use super::version::media;
use super::xml::{self, Element};

/// Name of the header carrying the legacy session token.
pub const AUTH_HEADER: &str = "x-vcloud-authorization";
/// Name of the header a CloudAPI login answers its JWT in.
pub const ACCESS_TOKEN_HEADER: &str = "x-vmware-vcloud-access-token";
/// Name of the standard header carrying `Basic` credentials and `Bearer` tokens.
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// Name of the header vCD puts its request id in.
pub const REQUEST_ID_HEADER: &str = "x-vmware-vcloud-request-id";
/// The system organization's name.
pub const SYSTEM_ORG: &str = "System";

/// What the `Session` document says about the logged-in user (empty for a session
/// resumed from a stored token, whose document was not read).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionInfo {
    /// `user` (login name).
    pub user: String,
    /// `userId` (URN), used as `User@href` in extension tasks.
    pub user_id: String,
    /// `org` (the logged-in organization's name).
    pub org: String,
    /// `roles` (the role name, CSE 1.2.6 authorisation).
    pub roles: String,
    /// Session href.
    pub href: String,
    /// Links of the session (org list, logged-in org, query list, admin, extension).
    pub links: Vec<Link>,
}

impl SessionInfo {
    /// Reads a `Session` document.
    pub fn parse(url: &str, body: &str) -> Result<Self, VcdError> {
        let root = xml::parse(body).map_err(|e| VcdError::parse(url, e))?;
        Self::from_element(url, &root)
    }

    /// Reads a `Session` element.
    pub fn from_element(url: &str, root: &Element) -> Result<Self, VcdError> {
        if root.name != "Session" {
            return Err(VcdError::Parse {
                url: url.to_owned(),
                reason: format!("expected a Session document, got <{}>", root.name),
            });
        }
        let attr = |name: &str| root.attr(name).unwrap_or_default().to_owned();
        let org = root.attr("org").ok_or_else(|| VcdError::Parse {
            url: url.to_owned(),
            reason: "the Session has no org attribute".to_owned(),
        })?;
        Ok(Self {
            user: attr("user"),
            user_id: attr("userId"),
            org: org.to_owned(),
            roles: attr("roles"),
            href: attr("href"),
            links: links_of(root),
        })
    }

    /// True for a system administrator (org `System`, case-insensitive as pyvcloud).
    pub fn is_sysadmin(&self) -> bool {
        self.org.eq_ignore_ascii_case(SYSTEM_ORG)
    }

    /// Href of the logged-in organization (the one `rel=down` org link).
    pub fn org_href(&self) -> Result<&str, VcdError> {
        self.link("down", media::ORG)
    }

    /// Href of the query list.
    pub fn query_list_href(&self) -> Result<&str, VcdError> {
        self.link("down", media::QUERY_LIST)
    }

    /// Href of the extension root (system administrators only).
    pub fn extension_href(&self) -> Result<&str, VcdError> {
        self.link("down", media::VMW_EXTENSION)
    }

    fn link(&self, rel: &str, media_type: &str) -> Result<&str, VcdError> {
        find_link(&self.links, rel, Some(media_type))
            .map(|l| l.href.as_str())
            .ok_or_else(|| VcdError::MissingLink {
                document: format!("the Session of '{}@{}'", self.user, self.org),
                rel: rel.to_owned(),
                media_type: Some(media_type.to_owned()),
            })
    }
}

/// User name, organization and password for `POST /api/sessions`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Organization name (`System` for the system administrator).
    pub org: String,
    /// Password (redacted in `Debug`).
    pub password: Secret,
}

impl Credentials {
    /// The `Authorization: Basic` value for a legacy login. It contains the password,
    /// so it is returned as a [`Secret`].
    pub fn basic_authorization(&self) -> Secret {
        use base64::Engine as _;
        let raw = format!("{}@{}:{}", self.user, self.org, self.password.expose());
        Secret::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    }
}

/// The credential of a vCD session, sent with every request. Either kind is a
/// secret: `Debug` shows only the kind.
#[derive(Clone, PartialEq, Eq)]
pub enum SessionToken {
    /// A legacy session token (`POST /api/sessions`), sent as `x-vcloud-authorization`.
    Legacy(Secret),
    /// A JWT (CloudAPI login, API token exchange), sent as `Authorization: Bearer`.
    Bearer(Secret),
}

/// Which of the two kinds a [`SessionToken`] is (for storing beside the token).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// `x-vcloud-authorization`.
    Legacy,
    /// `Authorization: Bearer`.
    Bearer,
}

impl TokenKind {
    /// `legacy` or `bearer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Bearer => "bearer",
        }
    }

    /// Reads [`Self::as_str`]'s spelling (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "legacy" => Some(Self::Legacy),
            "bearer" => Some(Self::Bearer),
            _ => None,
        }
    }
}

/// A request header carrying a credential: its name and its value (a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthHeader {
    /// Header name (lower case).
    pub name: &'static str,
    /// Header value.
    pub value: Secret,
}

impl SessionToken {
    /// A token of `kind`.
    pub fn new(kind: TokenKind, token: Secret) -> Self {
        match kind {
            TokenKind::Legacy => Self::Legacy(token),
            TokenKind::Bearer => Self::Bearer(token),
        }
    }

    /// A token given as text without its kind (a `--session-id` on a command
    /// line): a JWT (three non-empty base64url parts joined by dots) is a bearer
    /// token, anything else a legacy one.
    pub fn guess(text: &str) -> Self {
        let text = text.trim();
        let parts: Vec<&str> = text.split('.').collect();
        let jwt = parts.len() == 3
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if jwt {
            Self::Bearer(Secret::new(text))
        } else {
            Self::Legacy(Secret::new(text))
        }
    }

    /// Its kind.
    pub fn kind(&self) -> TokenKind {
        match self {
            Self::Legacy(_) => TokenKind::Legacy,
            Self::Bearer(_) => TokenKind::Bearer,
        }
    }

    /// The token itself (for storing or hashing; never log it).
    pub fn secret(&self) -> &Secret {
        match self {
            Self::Legacy(token) | Self::Bearer(token) => token,
        }
    }

    /// The header that presents this token to vCD.
    pub fn header(&self) -> AuthHeader {
        match self {
            Self::Legacy(token) => AuthHeader {
                name: AUTH_HEADER,
                value: token.clone(),
            },
            Self::Bearer(token) => AuthHeader {
                name: AUTHORIZATION_HEADER,
                value: Secret::new(format!("Bearer {}", token.expose())),
            },
        }
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Legacy(_) => f.write_str("SessionToken::Legacy(***)"),
            Self::Bearer(_) => f.write_str("SessionToken::Bearer(***)"),
        }
    }
}

/// How a session was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoginKind {
    /// `POST /api/sessions` with a password (API versions below 33.0).
    Legacy,
    /// `POST /cloudapi/1.0.0/sessions[/provider]` with a password (33.0 and later).
    CloudApi,
    /// An API token exchanged at `/oauth/{tenant/<org>|provider}/token`.
    ApiToken,
    /// Re-hydrated or resumed from a token someone else logged in for.
    Token,
}

impl LoginKind {
    /// How `cse check` and logs name it: `legacy`, `CloudAPI`, `API token`, `token`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::CloudApi => "CloudAPI",
            Self::ApiToken => "API token",
            Self::Token => "token",
        }
    }

    /// The request that opened a session of this kind for `org` (`None` for a
    /// session re-hydrated from a token).
    pub fn route(self, org: &str) -> Option<String> {
        let provider = org.eq_ignore_ascii_case(SYSTEM_ORG);
        match self {
            Self::Legacy => Some("POST /api/sessions".to_owned()),
            Self::CloudApi if provider => Some("POST /cloudapi/1.0.0/sessions/provider".to_owned()),
            Self::CloudApi => Some("POST /cloudapi/1.0.0/sessions".to_owned()),
            Self::ApiToken if provider => Some("POST /oauth/provider/token".to_owned()),
            Self::ApiToken => Some(format!("POST /oauth/tenant/{org}/token")),
            Self::Token => None,
        }
    }
}

pub use super::version::CLOUDAPI_LOGIN_SINCE;

/// An organization's API token (a refresh token) for
/// `POST /oauth/tenant/{org}/token` (`/oauth/provider/token` for `System`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiTokenCredentials {
    /// Organization name of the token's owner (`System` for a provider token).
    pub org: String,
    /// The refresh token (redacted in `Debug`).
    pub token: Secret,
}

/// What a session is opened (and re-opened on a 401) with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginSecret {
    /// User, org and password.
    Password(Credentials),
    /// An API token.
    ApiToken(ApiTokenCredentials),
}

impl LoginSecret {
    /// The organization logged in to.
    pub fn org(&self) -> &str {
        match self {
            Self::Password(c) => &c.org,
            Self::ApiToken(t) => &t.org,
        }
    }

    /// True for the System organization (provider endpoints).
    pub fn is_provider(&self) -> bool {
        self.org().eq_ignore_ascii_case(SYSTEM_ORG)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = r#"<Session xmlns="http://www.vmware.com/vcloud/v1.5"
         href="https://vcd/api/session" type="application/vnd.vmware.vcloud.session+xml"
         user="alice" userId="urn:vcloud:user:1" org="acme" roles="Organization Administrator">
      <Link rel="down" href="https://vcd/api/org/" type="application/vnd.vmware.vcloud.orgList+xml"/>
      <Link rel="remove" href="https://vcd/api/session"/>
      <Link rel="down" href="https://vcd/api/org/7" name="acme" type="application/vnd.vmware.vcloud.org+xml"/>
      <Link rel="down" href="https://vcd/api/query" type="application/vnd.vmware.vcloud.query.queryList+xml"/>
    </Session>"#;

    #[test]
    fn session_document_gives_user_org_and_links() {
        let session = SessionInfo::parse("u", SESSION).unwrap();
        assert_eq!(session.user, "alice");
        assert_eq!(session.user_id, "urn:vcloud:user:1");
        assert_eq!(session.roles, "Organization Administrator");
        assert!(!session.is_sysadmin());
        assert_eq!(session.org_href().unwrap(), "https://vcd/api/org/7");
        assert_eq!(session.query_list_href().unwrap(), "https://vcd/api/query");
        let err = session.extension_href().unwrap_err();
        assert!(
            err.to_string()
                .contains("rel='down' type='application/vnd.vmware.admin.vmwExtension+xml'"),
            "{err}"
        );
    }

    #[test]
    fn system_org_is_sysadmin_and_other_roots_are_refused() {
        let sys = SESSION.replace("org=\"acme\"", "org=\"SYSTEM\"");
        assert!(SessionInfo::parse("u", &sys).unwrap().is_sysadmin());
        assert!(SessionInfo::parse("u", "<Error message=\"x\"/>").is_err());
        assert!(SessionInfo::parse("u", "<Session user=\"a\"/>").is_err());
    }

    #[test]
    fn basic_authorization_encodes_user_at_org_and_debug_hides_the_password() {
        let credentials = Credentials {
            user: "administrator".into(),
            org: "System".into(),
            password: Secret::new("ca$hc0w"),
        };
        assert_eq!(
            credentials.basic_authorization().expose(),
            "Basic YWRtaW5pc3RyYXRvckBTeXN0ZW06Y2EkaGMwdw=="
        );
        let debug = format!("{credentials:?} {:?}", credentials.basic_authorization());
        assert!(
            !debug.contains("ca$hc0w") && !debug.contains("YWRt"),
            "{debug}"
        );
    }

    #[test]
    fn each_token_kind_goes_in_its_own_header_and_debug_hides_both() {
        let legacy = SessionToken::Legacy(Secret::new("abc123"));
        let bearer = SessionToken::Bearer(Secret::new("eyJ.x.y"));
        assert_eq!(legacy.header().name, "x-vcloud-authorization");
        assert_eq!(legacy.header().value.expose(), "abc123");
        assert_eq!(bearer.header().name, "authorization");
        assert_eq!(bearer.header().value.expose(), "Bearer eyJ.x.y");
        assert_eq!(bearer.kind(), TokenKind::Bearer);
        assert_eq!(
            SessionToken::new(TokenKind::Legacy, Secret::new("abc123")),
            legacy
        );
        let debug = format!("{legacy:?} {bearer:?} {:?}", bearer.header());
        assert!(
            !debug.contains("abc123") && !debug.contains("eyJ"),
            "{debug}"
        );
        assert_eq!(
            debug,
            "SessionToken::Legacy(***) SessionToken::Bearer(***) \
             AuthHeader { name: \"authorization\", value: *** }"
        );
    }

    #[test]
    fn a_token_without_its_kind_is_a_jwt_only_when_it_looks_like_one() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl-_";
        assert_eq!(SessionToken::guess(jwt).kind(), TokenKind::Bearer);
        assert_eq!(
            SessionToken::guess(&format!(" {jwt}\n")).secret().expose(),
            jwt
        );
        for legacy in [
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "a.b",
            "a..c",
            "a.b.c.d",
            "a b.c.d",
        ] {
            assert_eq!(
                SessionToken::guess(legacy).kind(),
                TokenKind::Legacy,
                "{legacy}"
            );
        }
    }

    #[test]
    fn login_kinds_name_their_route() {
        assert_eq!(
            LoginKind::Legacy.route("acme").unwrap(),
            "POST /api/sessions"
        );
        assert_eq!(
            LoginKind::CloudApi.route("system").unwrap(),
            "POST /cloudapi/1.0.0/sessions/provider"
        );
        assert_eq!(
            LoginKind::CloudApi.route("acme").unwrap(),
            "POST /cloudapi/1.0.0/sessions"
        );
        assert_eq!(
            LoginKind::ApiToken.route("System").unwrap(),
            "POST /oauth/provider/token"
        );
        assert_eq!(
            LoginKind::ApiToken.route("acme").unwrap(),
            "POST /oauth/tenant/acme/token"
        );
        assert_eq!(LoginKind::Token.route("acme"), None);
        assert_eq!(LoginKind::ApiToken.label(), "API token");
    }

    #[test]
    fn token_kinds_round_trip_and_secrets_name_their_org() {
        for kind in [TokenKind::Legacy, TokenKind::Bearer] {
            assert_eq!(TokenKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TokenKind::parse(" Bearer "), Some(TokenKind::Bearer));
        assert_eq!(TokenKind::parse("jwt"), None);
        let token = LoginSecret::ApiToken(ApiTokenCredentials {
            org: "system".into(),
            token: Secret::new("refresh-me"),
        });
        assert!(token.is_provider());
        assert!(!format!("{token:?}").contains("refresh-me"));
        let tenant = LoginSecret::Password(Credentials {
            user: "alice".into(),
            org: "acme".into(),
            password: Secret::new("pw"),
        });
        assert_eq!(tenant.org(), "acme");
        assert!(!tenant.is_provider());
    }
}
