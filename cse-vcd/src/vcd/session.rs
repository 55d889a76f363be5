//! Who a vCD client is logged in as: the `Session` document's user, org, roles
//! and links, plus the `x-vcloud-authorization` token (a [`Secret`], never shown).

use cse_core::config::Secret;

use super::error::VcdError;
use super::links::{Link, find_link, links_of};
use super::version::media;
use super::xml::{self, Element};

/// Name of the header carrying the legacy session token.
pub const AUTH_HEADER: &str = "x-vcloud-authorization";
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
}
