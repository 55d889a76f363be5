//! Route parsing: `(method, path)` of a request forwarded by vCD → typed [`Request`].
//!
//! The route table (1.2.x paths, see `cse-core/API-DECISIONS.md` for every deviation):
//!
//! | method | path | request |
//! |---|---|---|
//! | GET | `/api/cse`, `/api/cse/` | [`Request::ListClusters`] |
//! | POST | `/api/cse` | [`Request::CreateCluster`] |
//! | GET | `/api/cse/template` | [`Request::ListTemplates`] |
//! | GET | `/api/cse/system` | [`Request::SystemInfo`] |
//! | PUT | `/api/cse/system` | [`Request::UpdateSystem`] |
//! | GET | `/api/cse/swagger`, `/swagger.json`, `/swagger.yaml` | [`Request::Swagger`] |
//! | GET | `/api/cse/{c}/info` | [`Request::ClusterInfo`] |
//! | GET | `/api/cse/{c}/config` | [`Request::ClusterConfig`] |
//! | DELETE | `/api/cse/{c}` | [`Request::DeleteCluster`] |
//! | POST | `/api/cse/{c}/node` | [`Request::CreateNodes`] |
//! | DELETE | `/api/cse/{c}/node` | [`Request::DeleteNodes`] |
//! | GET | `/api/cse/{c}/{n}/info` | [`Request::NodeInfo`] |
//!
//! A known path with another method is 405 with the allowed methods; any other path is 404.
//! Methods match case-insensitively; one trailing `/` is ignored; a query string (`?...`) is
//! ignored as in 1.x; path segments are taken verbatim (valid cluster and node names never need
//! percent-encoding).

use super::errors::ApiError;

/// Path prefix of every CSE route.
pub const API_PREFIX: &str = "/api/cse";

/// Representation of the bundled API description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwaggerFormat {
    /// `swagger` and `swagger.json`: the document as JSON.
    Json,
    /// `swagger.yaml`: the document as YAML text, sent as a JSON string literal like the
    /// kubeconfig (1.2.x failed with 500 here).
    Yaml,
}

/// A parsed `/api/cse` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `GET /api/cse`.
    ListClusters,
    /// `POST /api/cse` (body [`super::CreateClusterBody`]).
    CreateCluster,
    /// `GET /api/cse/template`.
    ListTemplates,
    /// `GET /api/cse/system`.
    SystemInfo,
    /// `PUT /api/cse/system` (body [`super::SystemUpdateBody`]).
    UpdateSystem,
    /// `GET /api/cse/{cluster}/info`.
    ClusterInfo {
        /// Cluster name from the URL.
        cluster: String,
    },
    /// `GET /api/cse/{cluster}/config`.
    ClusterConfig {
        /// Cluster name from the URL.
        cluster: String,
    },
    /// `DELETE /api/cse/{cluster}`.
    DeleteCluster {
        /// Cluster name from the URL.
        cluster: String,
    },
    /// `POST /api/cse/{cluster}/node` (body [`super::CreateNodesBody`]).
    CreateNodes {
        /// Cluster name from the URL (authoritative).
        cluster: String,
    },
    /// `DELETE /api/cse/{cluster}/node` (body [`super::DeleteNodesBody`]).
    DeleteNodes {
        /// Cluster name from the URL (authoritative).
        cluster: String,
    },
    /// `GET /api/cse/{cluster}/{node}/info`.
    NodeInfo {
        /// Cluster name from the URL.
        cluster: String,
        /// Node (VM) name from the URL.
        node: String,
    },
    /// `GET /api/cse/swagger[.json|.yaml]`.
    Swagger {
        /// Requested representation.
        format: SwaggerFormat,
    },
}

/// Second-level words that are never node names.
const CLUSTER_ACTIONS: [&str; 3] = ["info", "config", "node"];

impl Request {
    /// Parse a method and a request path (a `?query` suffix is ignored).
    pub fn parse(method: &str, path: &str) -> Result<Request, ApiError> {
        let method_upper = method.trim().to_ascii_uppercase();
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let not_found = || ApiError::RouteNotFound {
            method: method_upper.clone(),
            path: path.to_owned(),
        };
        let rest = path.strip_prefix(API_PREFIX).ok_or_else(not_found)?;
        let segments: Vec<&str> = if rest.is_empty() || rest == "/" {
            Vec::new()
        } else {
            let inner = rest.strip_prefix('/').ok_or_else(not_found)?;
            let inner = inner.strip_suffix('/').unwrap_or(inner);
            inner.split('/').collect()
        };
        if segments.iter().any(|s| s.is_empty()) {
            return Err(not_found());
        }
        let m = method_upper.as_str();
        let choose = |allowed: &[(&'static str, Request)]| -> Result<Request, ApiError> {
            allowed
                .iter()
                .find(|(verb, _)| *verb == m)
                .map(|(_, request)| request.clone())
                .ok_or_else(|| ApiError::MethodNotAllowed {
                    method: method_upper.clone(),
                    path: path.to_owned(),
                    allowed: allowed.iter().map(|(verb, _)| *verb).collect(),
                })
        };
        let owned = |s: &str| s.to_owned();
        match segments.as_slice() {
            [] => choose(&[
                ("GET", Request::ListClusters),
                ("POST", Request::CreateCluster),
            ]),
            ["swagger" | "swagger.json"] => choose(&[(
                "GET",
                Request::Swagger {
                    format: SwaggerFormat::Json,
                },
            )]),
            ["swagger.yaml"] => choose(&[(
                "GET",
                Request::Swagger {
                    format: SwaggerFormat::Yaml,
                },
            )]),
            ["template"] => choose(&[("GET", Request::ListTemplates)]),
            ["system"] => choose(&[("GET", Request::SystemInfo), ("PUT", Request::UpdateSystem)]),
            [
                "system" | "template" | "swagger" | "swagger.json" | "swagger.yaml",
                ..,
            ] => Err(not_found()),
            [cluster] => choose(&[(
                "DELETE",
                Request::DeleteCluster {
                    cluster: owned(cluster),
                },
            )]),
            [cluster, "info"] => choose(&[(
                "GET",
                Request::ClusterInfo {
                    cluster: owned(cluster),
                },
            )]),
            [cluster, "config"] => choose(&[(
                "GET",
                Request::ClusterConfig {
                    cluster: owned(cluster),
                },
            )]),
            [cluster, "node"] => choose(&[
                (
                    "POST",
                    Request::CreateNodes {
                        cluster: owned(cluster),
                    },
                ),
                (
                    "DELETE",
                    Request::DeleteNodes {
                        cluster: owned(cluster),
                    },
                ),
            ]),
            [cluster, node, "info"] if !CLUSTER_ACTIONS.contains(node) => choose(&[(
                "GET",
                Request::NodeInfo {
                    cluster: owned(cluster),
                    node: owned(node),
                },
            )]),
            _ => Err(not_found()),
        }
    }

    /// `GET`/`PUT /api/cse/system`: the only requests served while the service is disabled.
    pub fn is_system(&self) -> bool {
        matches!(self, Request::SystemInfo | Request::UpdateSystem)
    }

    /// `Err(ServiceDisabled)` for a non-system request while the service is disabled.
    pub fn check_enabled(&self, enabled: bool) -> Result<(), ApiError> {
        if enabled || self.is_system() {
            Ok(())
        } else {
            Err(ApiError::ServiceDisabled)
        }
    }

    /// Whether the request starts a long operation answered with 202 and a task href.
    pub fn is_async(&self) -> bool {
        matches!(
            self,
            Request::CreateCluster
                | Request::DeleteCluster { .. }
                | Request::CreateNodes { .. }
                | Request::DeleteNodes { .. }
        )
    }

    /// HTTP status of a successful reply (202 for async operations, else 200).
    pub fn success_status(&self) -> u16 {
        if self.is_async() { 202 } else { 200 }
    }

    /// Whether the request carries a JSON body the handler must parse.
    pub fn has_body(&self) -> bool {
        matches!(
            self,
            Request::CreateCluster
                | Request::UpdateSystem
                | Request::CreateNodes { .. }
                | Request::DeleteNodes { .. }
        )
    }

    /// The cluster named in the URL, if any.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Request::ClusterInfo { cluster }
            | Request::ClusterConfig { cluster }
            | Request::DeleteCluster { cluster }
            | Request::CreateNodes { cluster }
            | Request::DeleteNodes { cluster }
            | Request::NodeInfo { cluster, .. } => Some(cluster),
            _ => None,
        }
    }

    /// A stable snake_case name for logs and metrics (`create_cluster`, ...; the four async
    /// ones equal the 1.2.x vCD task `operationName`s).
    pub fn operation_name(&self) -> &'static str {
        match self {
            Request::ListClusters => "list_clusters",
            Request::CreateCluster => "create_cluster",
            Request::ListTemplates => "list_templates",
            Request::SystemInfo => "system_info",
            Request::UpdateSystem => "update_system",
            Request::ClusterInfo { .. } => "cluster_info",
            Request::ClusterConfig { .. } => "cluster_config",
            Request::DeleteCluster { .. } => "delete_cluster",
            Request::CreateNodes { .. } => "create_nodes",
            Request::DeleteNodes { .. } => "delete_nodes",
            Request::NodeInfo { .. } => "node_info",
            Request::Swagger { .. } => "swagger",
        }
    }
}
