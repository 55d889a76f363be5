//! Kubernetes cluster state shared between VMs: each cluster lives on its
//! master VM (bootstrap tokens with expiry, registered nodes and roles,
//! applied resources such as the pod network), so `kubeadm join` on a worker
//! looks its master up by IP and `kubectl get nodes` on the master shows the
//! workers.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// A bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BootstrapToken {
    /// Public part, 6 characters `[a-z0-9]`.
    pub id: String,
    /// Secret part, 16 characters `[a-z0-9]` (never logged; `Debug` hides it).
    pub secret: String,
    /// When the token stops being accepted (`None`: never, `--ttl 0`).
    pub expires: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for BootstrapToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapToken")
            .field("id", &self.id)
            .field("expires", &self.expires)
            .finish()
    }
}

impl BootstrapToken {
    /// `id.secret`, as `kubeadm join --token` takes it.
    pub fn text(&self) -> String {
        format!("{}.{}", self.id, self.secret)
    }
}

/// Role of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NodeRole {
    /// Runs the control plane (`kubeadm init`).
    Master,
    /// Joined with `kubeadm join`.
    Worker,
}

/// A registered node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeRecord {
    /// Node name (the VM's host name).
    pub name: String,
    /// VM the kubelet runs on.
    pub moref: String,
    /// Master or worker.
    pub role: NodeRole,
    /// When `kubeadm init`/`join` registered it, in guest time.
    pub joined: DateTime<Utc>,
    /// Kubelet version, `vX.Y.Z`.
    pub kubelet_version: String,
}

/// A resource created by `kubectl apply`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ResourceKey {
    /// Kubernetes kind (`DaemonSet`, `Deployment`, ...).
    pub kind: String,
    /// Namespace, `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

/// One cluster, owned by its master VM.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cluster {
    /// The VM running the control plane; the cluster's key.
    pub master_moref: String,
    /// The master's IP address (the API server's `https://ip:6443`).
    pub master_ip: String,
    /// Kubernetes version, `vX.Y.Z` (from the kubeadm package).
    pub version: String,
    /// Bootstrap tokens `kubeadm join` accepts.
    pub tokens: Vec<BootstrapToken>,
    /// Registered nodes by name.
    pub nodes: BTreeMap<String, NodeRecord>,
    /// Applied resources, with the manifest they came from.
    #[serde(with = "crate::snapshot::map_as_pairs")]
    pub resources: BTreeMap<ResourceKey, String>,
    /// When `kubeadm init` finished, in guest time.
    pub created: DateTime<Utc>,
}

impl Cluster {
    /// Whether a pod network (Weave Net's DaemonSet) has been applied.
    pub fn has_pod_network(&self) -> bool {
        self.resources
            .keys()
            .any(|k| k.kind == "DaemonSet" && k.name.starts_with("weave-net"))
    }

    /// A live token with this text.
    pub fn token_valid(&self, text: &str, now: DateTime<Utc>) -> bool {
        self.tokens
            .iter()
            .any(|t| t.text() == text && t.expires.is_none_or(|e| e > now))
    }
}

/// Matches `[a-z0-9]{6}.[a-z0-9]{16}`.
pub fn token_well_formed(text: &str) -> bool {
    let Some((id, secret)) = text.split_once('.') else {
        return false;
    };
    let ok = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    ok(id, 6) && ok(secret, 16)
}

/// A fresh random token expiring after `ttl`. It is a credential (it joins
/// nodes to the cluster), so it comes from the CSPRNG, never the world seed.
pub fn new_token(now: DateTime<Utc>, ttl: Option<chrono::Duration>) -> BootstrapToken {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    BootstrapToken {
        id: crate::secret::string(ALPHABET, 6),
        secret: crate::secret::string(ALPHABET, 16),
        expires: ttl.map(|t| now + t),
    }
}

/// Every cluster of a world, keyed by master moref.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Clusters {
    /// Clusters by their master VM's moref.
    pub by_master: BTreeMap<String, Cluster>,
}

impl Clusters {
    /// The cluster whose API server listens on `ip`.
    pub fn by_ip(&self, ip: &str) -> Option<&Cluster> {
        self.by_master.values().find(|c| c.master_ip == ip)
    }

    /// The cluster whose master has address `ip`, for changes.
    pub fn by_ip_mut(&mut self, ip: &str) -> Option<&mut Cluster> {
        self.by_master.values_mut().find(|c| c.master_ip == ip)
    }

    /// Drops a VM: its cluster if it was a master, its node records otherwise
    /// are kept (Kubernetes keeps NotReady nodes until deleted).
    pub fn forget_master(&mut self, moref: &str) {
        self.by_master.remove(moref);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_well_formed_and_unpredictable() {
        let now = Utc::now();
        let a = new_token(now, None);
        let b = new_token(now, None);
        assert_ne!(a, b);
        assert!(token_well_formed(&a.text()), "{}", a.text());
        assert!(!token_well_formed("abc.def"));
        assert!(!token_well_formed("ABCDEF.0123456789abcdef"));
    }
}
