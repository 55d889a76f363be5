//! Endpoints derived from the config: vCD's base and `/api` URLs from `vcd.host`
//! (`https://` added when no scheme is given, as pyvcloud did) and the AMQP URI
//! from the `amqp` section (`amqp`/`amqps`, credentials and vhost percent-encoded).
//! The URI carries the password, so it is returned as a [`Secret`]; use
//! [`AmqpConfig::display_uri`] for logs.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::error::EndpointError;
use super::model::{AmqpConfig, VcdConfig};
use super::secret::{REDACTED, Secret};

/// Everything except RFC 3986 unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Parses `vcd.host` into a URL: adds `https://` when there is no scheme, applies
/// `port` when the host names none and `port` is not 443, rejects anything that is
/// not an http(s) URL with a host and without query or fragment.
pub(crate) fn parse_vcd_host(host: &str, port: u16) -> Result<url::Url, String> {
    let host = host.trim();
    if host.is_empty() {
        return Err("it is empty".to_owned());
    }
    let text = if host.contains("://") {
        host.to_owned()
    } else {
        format!("https://{host}")
    };
    let mut url = url::Url::parse(&text).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("scheme '{}' is not https or http", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it names no host".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("it has a query or fragment".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it must not carry credentials".to_owned());
    }
    if url.port().is_none() && port != 443 && Some(port) != url.port_or_known_default() {
        url.set_port(Some(port))
            .map_err(|()| "the port cannot be applied".to_owned())?;
    }
    Ok(url)
}

/// True for a DNS name or an IP address (IPv6 bare or in brackets).
pub(crate) fn is_valid_host(host: &str) -> bool {
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_whitespace() || "/@?#".contains(c))
    {
        return false;
    }
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    url::Host::parse(host).is_ok()
}

impl VcdConfig {
    /// vCD's base URL without trailing slash, e.g. `https://vcd.example.com`.
    pub fn base_url(&self) -> Result<String, EndpointError> {
        let url = parse_vcd_host(&self.host, self.port).map_err(|reason| {
            EndpointError::InvalidVcdHost {
                host: self.host.clone(),
                reason,
            }
        })?;
        Ok(url.as_str().trim_end_matches('/').to_owned())
    }

    /// vCD's API root, `<base>/api`.
    pub fn api_url(&self) -> Result<String, EndpointError> {
        Ok(format!("{}/api", self.base_url()?))
    }
}

impl AmqpConfig {
    /// `amqp` or `amqps` depending on `ssl`.
    pub fn scheme(&self) -> &'static str {
        if self.ssl { "amqps" } else { "amqp" }
    }

    /// The broker URI with credentials, e.g. `amqp://guest:guest@host:5672/%2F`.
    /// Never log it: it is a [`Secret`] for that reason.
    pub fn uri(&self) -> Result<Secret, EndpointError> {
        if !is_valid_host(&self.host) {
            return Err(EndpointError::InvalidAmqpHost {
                host: self.host.clone(),
            });
        }
        Ok(Secret::new(
            self.format_uri(&encode(self.password.expose())),
        ))
    }

    /// The broker URI with the password replaced by `***`, for logs and messages.
    pub fn display_uri(&self) -> String {
        self.format_uri(REDACTED)
    }

    fn format_uri(&self, encoded_password: &str) -> String {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "{}://{}:{}@{}:{}/{}",
            self.scheme(),
            encode(&self.username),
            encoded_password,
            host,
            self.port,
            encode(&self.vhost)
        )
    }
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vcd(host: &str, port: u16) -> VcdConfig {
        VcdConfig {
            api_token: None,
            api_version: "29.0".into(),
            host: host.into(),
            log: true,
            max_concurrent_requests: 32,
            password: Some(Secret::new("pw")),
            port,
            username: "administrator".into(),
            verify: false,
        }
    }

    fn amqp(host: &str, ssl: bool, vhost: &str) -> AmqpConfig {
        AmqpConfig {
            exchange: "vcdext".into(),
            heartbeat: super::super::model::DEFAULT_AMQP_HEARTBEAT,
            host: host.into(),
            password: Secret::new("p@ss/w:rd"),
            port: 5672,
            prefix: "vcd".into(),
            routing_key: "cse".into(),
            ssl,
            ssl_accept_all: false,
            username: "guest".into(),
            vhost: vhost.into(),
        }
    }

    #[test]
    fn vcd_host_without_scheme_gets_https() {
        assert_eq!(
            vcd("vcd.example.com", 443).base_url().unwrap(),
            "https://vcd.example.com"
        );
        assert_eq!(
            vcd("vcd.example.com", 443).api_url().unwrap(),
            "https://vcd.example.com/api"
        );
        assert_eq!(
            vcd("10.150.201.243", 443).api_url().unwrap(),
            "https://10.150.201.243/api"
        );
    }

    #[test]
    fn vcd_host_with_scheme_and_trailing_slash() {
        assert_eq!(
            vcd("https://vcd.example.com/", 443).api_url().unwrap(),
            "https://vcd.example.com/api"
        );
        assert_eq!(
            vcd("http://127.0.0.1:8080", 443).api_url().unwrap(),
            "http://127.0.0.1:8080/api"
        );
    }

    #[test]
    fn vcd_port_applies_only_when_the_host_has_none() {
        assert_eq!(
            vcd("vcd.example.com", 8443).base_url().unwrap(),
            "https://vcd.example.com:8443"
        );
        assert_eq!(
            vcd("vcd.example.com:9443", 8443).base_url().unwrap(),
            "https://vcd.example.com:9443"
        );
    }

    #[test]
    fn bad_vcd_hosts_are_errors() {
        for host in [
            "",
            "ftp://vcd",
            "https://",
            "https://vcd?x=1",
            "https://u:p@vcd",
        ] {
            assert!(vcd(host, 443).base_url().is_err(), "{host:?}");
        }
    }

    #[test]
    fn amqp_uri_encodes_vhost_and_credentials() {
        let uri = amqp("rabbit.example.com", false, "/").uri().unwrap();
        assert_eq!(
            uri.expose(),
            "amqp://guest:p%40ss%2Fw%3Ard@rabbit.example.com:5672/%2F"
        );
        let uri = amqp("::1", true, "cse").uri().unwrap();
        assert_eq!(uri.expose(), "amqps://guest:p%40ss%2Fw%3Ard@[::1]:5672/cse");
    }

    #[test]
    fn amqp_display_uri_hides_the_password() {
        let config = amqp("rabbit", false, "/");
        assert_eq!(config.display_uri(), "amqp://guest:***@rabbit:5672/%2F");
        assert_eq!(format!("{:?}", config.uri().unwrap()), "***");
    }

    #[test]
    fn amqp_bad_host_is_an_error() {
        assert!(amqp("", false, "/").uri().is_err());
        assert!(amqp("a b", false, "/").uri().is_err());
    }
}
