//! The small simulated internet the bootstrap scripts reach: package
//! repositories, the Docker and Kubernetes apt keys, the Weave manifest
//! service and the `weave` script, and container image registries. Anything
//! else fails like a real network (unknown host, or 404 on a known one).

use base64::Engine as _;
use bytes::Bytes;

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: &'static str,
    pub body: Bytes,
    /// `Location` of a redirect.
    pub location: Option<String>,
}

impl HttpResponse {
    fn ok(body: impl Into<Bytes>) -> Self {
        HttpResponse {
            status: 200,
            reason: "OK",
            body: body.into(),
            location: None,
        }
    }

    fn not_found() -> Self {
        HttpResponse {
            status: 404,
            reason: "Not Found",
            body: Bytes::from_static(b"404 page not found\n"),
            location: None,
        }
    }

    fn bad_request(message: &str) -> Self {
        HttpResponse {
            status: 400,
            reason: "Bad Request",
            body: Bytes::from(format!("{message}\n")),
            location: None,
        }
    }

    fn redirect(to: &str) -> Self {
        HttpResponse {
            status: 302,
            reason: "Found",
            body: Bytes::from(format!("<a href=\"{to}\">Found</a>.\n")),
            location: Some(to.to_owned()),
        }
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("Could not resolve host: {0}")]
    UnknownHost(String),
    #[error("URL using bad/illegal format or missing URL: {0}")]
    BadUrl(String),
}

/// An apt repository the internet serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AptRepo {
    pub id: &'static str,
    /// Id of the key that signs it.
    pub key_id: &'static str,
}

/// Simulated armoured public key for `id` (what `apt-key add` accepts).
pub fn key_text(id: &str) -> String {
    let key_id = match id {
        "docker" => "0EBFCD88",
        "google-cloud-packages" => "BA07F4FB",
        _ => "C0B21F32",
    };
    format!(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: simulated key {id} {key_id}\n\nmQINBFit2ioBEADhWpZ8/wvZ6hUTiXOwQHXMAlaFHcPH9hAtr4F1y2+OYdbtMuth\n={key_id}\n-----END PGP PUBLIC KEY BLOCK-----\n"
    )
}

/// Key ids found in keyring text.
pub fn key_ids_in(keyring: &str) -> Vec<String> {
    keyring
        .lines()
        .filter_map(|l| l.strip_prefix("Comment: simulated key "))
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

const KNOWN_HOSTS: &[&str] = &[
    "download.docker.com",
    "packages.cloud.google.com",
    "apt.kubernetes.io",
    "cloud.weave.works",
    "git.io",
    "github.com",
    "mirror.ubuntu.sim.test",
    "packages.photon.sim.test",
    "gcr.io",
    "k8s.gcr.io",
    "registry-1.docker.io",
];

/// The apt repository at `url` for `suite`, when the internet has one.
pub fn apt_repo(url: &str, suite: &str) -> Option<AptRepo> {
    let url = url.trim_end_matches('/');
    match (url, suite) {
        ("http://mirror.ubuntu.sim.test/ubuntu", s) if s.starts_with("xenial") => Some(AptRepo {
            id: "ubuntu-xenial",
            key_id: "C0B21F32",
        }),
        ("https://download.docker.com/linux/ubuntu", "xenial") => Some(AptRepo {
            id: "docker-xenial-stable",
            key_id: "0EBFCD88",
        }),
        ("http://apt.kubernetes.io" | "https://apt.kubernetes.io", "kubernetes-xenial") => {
            Some(AptRepo {
                id: "kubernetes-xenial",
                key_id: "BA07F4FB",
            })
        }
        _ => None,
    }
}

/// Adds `http://` to a scheme-less URL, as curl and wget do.
pub fn with_scheme(url: &str) -> String {
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

/// Host part of a URL, when it parses.
pub fn host_of(url: &str) -> Option<String> {
    url::Url::parse(&with_scheme(url))
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
}

/// Performs one GET (no redirect following).
pub fn get(url: &str) -> Result<HttpResponse, NetError> {
    let parsed =
        url::Url::parse(&with_scheme(url)).map_err(|_| NetError::BadUrl(url.to_owned()))?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    if !KNOWN_HOSTS.contains(&host.as_str()) {
        return Err(NetError::UnknownHost(host));
    }
    let path = parsed.path();
    let response = match (host.as_str(), path) {
        ("download.docker.com", "/linux/ubuntu/gpg") => HttpResponse::ok(key_text("docker")),
        ("packages.cloud.google.com", "/apt/doc/apt-key.gpg") => {
            HttpResponse::ok(key_text("google-cloud-packages"))
        }
        ("cloud.weave.works", "/k8s/net") => weave_manifest_response(&parsed),
        ("git.io", "/weave") => HttpResponse::redirect(
            "https://github.com/weaveworks/weave/releases/download/latest_release/weave",
        ),
        ("github.com", "/weaveworks/weave/releases/download/latest_release/weave") => {
            HttpResponse::ok(WEAVE_SCRIPT)
        }
        (_, p) if p == "/" || p.is_empty() => HttpResponse::ok("<html>index</html>\n"),
        _ => HttpResponse::not_found(),
    };
    Ok(response)
}

const WEAVE_SCRIPT: &str =
    "#!/bin/sh\n# weave 2.5.0 command-line script (simulated)\necho \"weave script 2.5.0\"\n";

fn weave_manifest_response(url: &url::Url) -> HttpResponse {
    let mut k8s_version = None;
    let mut weave_version = "2.5.0".to_owned();
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "k8s-version" => k8s_version = Some(value.into_owned()),
            "v" => weave_version = value.into_owned(),
            _ => {}
        }
    }
    let Some(encoded) = k8s_version.filter(|v| !v.is_empty()) else {
        return HttpResponse::bad_request("missing or empty k8s-version");
    };
    // A '+' of the base64 text arrives as a space after query decoding.
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim().replace(' ', "+"))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .or_else(|| Some(encoded.clone()).filter(|v| v.starts_with('1') || v.starts_with('v')));
    let Some(text) = decoded else {
        return HttpResponse::bad_request("invalid k8s-version");
    };
    let Some(minor) = text
        .split("Minor:\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_owned)
        .or_else(|| {
            text.trim_start_matches('v')
                .split('.')
                .nth(1)
                .map(str::to_owned)
        })
    else {
        return HttpResponse::bad_request("invalid k8s-version");
    };
    HttpResponse::ok(weave_manifest(&weave_version, &minor))
}

/// The Weave Net manifest (a `List`) for a weave version and Kubernetes minor version.
pub fn weave_manifest(weave_version: &str, k8s_minor: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ServiceAccount
    metadata:
      name: weave-net
      namespace: kube-system
      annotations:
        cloud.weave.works/launcher-info: '{{"k8s-minor": "{k8s_minor}"}}'
  - apiVersion: rbac.authorization.k8s.io/v1beta1
    kind: ClusterRole
    metadata:
      name: weave-net
  - apiVersion: rbac.authorization.k8s.io/v1beta1
    kind: ClusterRoleBinding
    metadata:
      name: weave-net
  - apiVersion: rbac.authorization.k8s.io/v1beta1
    kind: Role
    metadata:
      name: weave-net
      namespace: kube-system
  - apiVersion: rbac.authorization.k8s.io/v1beta1
    kind: RoleBinding
    metadata:
      name: weave-net
      namespace: kube-system
  - apiVersion: extensions/v1beta1
    kind: DaemonSet
    metadata:
      name: weave-net
      namespace: kube-system
    spec:
      template:
        spec:
          containers:
            - name: weave
              image: 'docker.io/weaveworks/weave-kube:{weave_version}'
            - name: weave-npc
              image: 'docker.io/weaveworks/weave-npc:{weave_version}'
"#
    )
}

/// Canonical form of an image reference: registry/repository:tag.
pub fn canonical_image(reference: &str) -> String {
    let (name, tag) = match reference.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n.to_owned(), t.to_owned()),
        _ => (reference.to_owned(), "latest".to_owned()),
    };
    let first = name.split('/').next().unwrap_or_default();
    let name = if first.contains('.') || first.contains(':') {
        name
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    format!("{name}:{tag}")
}

const K8S_IMAGES: &[&str] = &[
    "kube-apiserver-amd64",
    "kube-controller-manager-amd64",
    "kube-scheduler-amd64",
    "kube-proxy-amd64",
];
const K8S_VERSIONS: &[&str] = &["v1.9.1", "v1.10.1", "v1.10.11", "v1.12.3"];
const K8S_REGISTRIES: &[&str] = &["gcr.io/google_containers", "k8s.gcr.io"];

/// Whether a registry serves this (canonical) image.
pub fn image_exists(canonical: &str) -> bool {
    let Some((name, tag)) = canonical.rsplit_once(':') else {
        return false;
    };
    for registry in K8S_REGISTRIES {
        if let Some(repo) = name
            .strip_prefix(registry)
            .and_then(|r| r.strip_prefix('/'))
        {
            return match repo {
                r if K8S_IMAGES.contains(&r) => K8S_VERSIONS.contains(&tag),
                "etcd-amd64" => ["3.1.11", "3.1.12", "3.2.24"].contains(&tag),
                "pause-amd64" => ["3.0", "3.1"].contains(&tag),
                "k8s-dns-sidecar-amd64"
                | "k8s-dns-kube-dns-amd64"
                | "k8s-dns-dnsmasq-nanny-amd64" => ["1.14.7", "1.14.8"].contains(&tag),
                _ => false,
            };
        }
    }
    matches!(
        name,
        "docker.io/weaveworks/weave-kube" | "docker.io/weaveworks/weave-npc"
    ) && ["2.3.0", "2.5.0", "latest"].contains(&tag)
        || name == "docker.io/library/busybox"
        || name == "docker.io/library/nginx"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_hosts_do_not_resolve() {
        assert_eq!(
            get("https://example.invalid/x"),
            Err(NetError::UnknownHost("example.invalid".into()))
        );
    }

    #[test]
    fn git_io_redirects_to_the_weave_script() {
        let first = get("git.io/weave").unwrap();
        assert_eq!(first.status, 302);
        let second = get(first.location.as_deref().unwrap()).unwrap();
        assert_eq!(second.status, 200);
        assert!(second.body.starts_with(b"#!/bin/sh"));
    }

    #[test]
    fn weave_needs_a_kubernetes_version() {
        assert_eq!(
            get("https://cloud.weave.works/k8s/net?k8s-version=&v=2.3.0")
                .unwrap()
                .status,
            400
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode(
            "Client Version: version.Info{Major:\"1\", Minor:\"10\", GitVersion:\"v1.10.11\"}\n",
        );
        let ok = get(&format!(
            "https://cloud.weave.works/k8s/net?k8s-version={b64}&v=2.3.0"
        ))
        .unwrap();
        assert_eq!(ok.status, 200);
        assert!(String::from_utf8_lossy(&ok.body).contains("weave-kube:2.3.0"));
    }

    #[test]
    fn images_are_canonicalised() {
        assert_eq!(
            canonical_image("weaveworks/weave-npc:2.3.0"),
            "docker.io/weaveworks/weave-npc:2.3.0"
        );
        assert_eq!(
            canonical_image("busybox"),
            "docker.io/library/busybox:latest"
        );
        assert!(image_exists(&canonical_image(
            "k8s.gcr.io/etcd-amd64:3.1.12"
        )));
        assert!(!image_exists(&canonical_image("k8s.gcr.io/etcd-amd64:9.9")));
    }
}
