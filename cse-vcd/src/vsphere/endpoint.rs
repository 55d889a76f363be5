//! Where to reach a vCenter: the SOAP URL built from the `Url` vCD stores for the
//! vCenter (host **and port**, default 443 — the original ignored the port), and
//! guest-file transfer URLs with the `*` host (ESXi's "the host you called")
//! replaced by the vCenter's host and port.

use url::Url;

use super::error::VsphereError;

/// The vCenter's SOAP endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VcenterEndpoint {
    /// `https://host:port/sdk`.
    pub sdk_url: Url,
}

impl VcenterEndpoint {
    /// From vCD's `VimServer/Url` (`https://vc.example.com`, `https://10.0.0.5:8989`,
    /// `vc.example.com:443`, with or without `/sdk`).
    pub fn from_vim_server_url(url: &str) -> Result<Self, VsphereError> {
        let trimmed = url.trim();
        let text = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let invalid = |reason: String| VsphereError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let mut sdk_url = Url::parse(&text).map_err(|e| invalid(e.to_string()))?;
        if !matches!(sdk_url.scheme(), "https" | "http") {
            return Err(invalid(format!(
                "scheme '{}' is not https",
                sdk_url.scheme()
            )));
        }
        if sdk_url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it names no host".to_owned()));
        }
        if sdk_url.port().is_none() && sdk_url.scheme() == "https" {
            sdk_url
                .set_port(Some(443))
                .map_err(|()| invalid("the port cannot be set".to_owned()))?;
        }
        sdk_url.set_path("/sdk");
        sdk_url.set_query(None);
        sdk_url.set_fragment(None);
        Ok(Self { sdk_url })
    }

    /// `host:port` of the vCenter (IPv6 hosts in brackets).
    pub fn authority(&self) -> String {
        let host = match self.sdk_url.host() {
            Some(url::Host::Ipv6(addr)) => format!("[{addr}]"),
            Some(host) => host.to_string(),
            None => String::new(),
        };
        match self.sdk_url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }
    }

    /// A transfer URL as usable: `*` as host replaced by this vCenter's host and port.
    pub fn transfer_url(&self, raw: &str) -> Result<Url, VsphereError> {
        let fixed = match raw.split_once("://") {
            Some((scheme, rest)) if rest.starts_with('*') => {
                let rest = &rest[1..];
                // `*:443/…` keeps its own port; `*/…` takes the vCenter's.
                if rest.starts_with(':') {
                    let host = self.sdk_url.host_str().unwrap_or_default();
                    format!("{scheme}://{host}{rest}")
                } else {
                    format!("{scheme}://{}{rest}", self.authority())
                }
            }
            _ => raw.to_owned(),
        };
        Url::parse(&fixed).map_err(|e| VsphereError::InvalidUrl {
            url: raw.to_owned(),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_url_keeps_the_registered_port_and_defaults_to_443() {
        for (registered, expected) in [
            ("https://127.0.0.1:8989", "https://127.0.0.1:8989/sdk"),
            ("https://vc.example.com", "https://vc.example.com/sdk"),
            ("https://vc.example.com/sdk", "https://vc.example.com/sdk"),
            ("vc.example.com:9443", "https://vc.example.com:9443/sdk"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/sdk"),
        ] {
            let endpoint = VcenterEndpoint::from_vim_server_url(registered).unwrap();
            assert_eq!(endpoint.sdk_url.as_str(), expected, "{registered}");
        }
        for bad in ["ftp://vc", "https://", ""] {
            assert!(VcenterEndpoint::from_vim_server_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn star_hosts_in_transfer_urls_are_replaced() {
        let endpoint = VcenterEndpoint::from_vim_server_url("https://10.0.0.5:8989").unwrap();
        assert_eq!(
            endpoint
                .transfer_url("https://*/guestFile?id=1&token=t")
                .unwrap()
                .as_str(),
            "https://10.0.0.5:8989/guestFile?id=1&token=t"
        );
        assert_eq!(
            endpoint
                .transfer_url("https://*:443/guestFile?id=1")
                .unwrap()
                .as_str(),
            "https://10.0.0.5/guestFile?id=1"
        );
        assert_eq!(
            endpoint
                .transfer_url("https://esx-01:443/guestFile?id=2")
                .unwrap()
                .as_str(),
            "https://esx-01/guestFile?id=2"
        );
        assert!(endpoint.transfer_url("::").is_err());
        let v6 = VcenterEndpoint::from_vim_server_url("https://[::1]:8989").unwrap();
        assert_eq!(v6.authority(), "[::1]:8989");
    }
}
