//! Every `/api/cse` route of the 1.2.x table and every routing quirk decision
//! (API-DECISIONS.md 1–10).

use cse_core::api::{ApiError, Request, SwaggerFormat};
use proptest::prelude::*;

fn parse(method: &str, path: &str) -> Request {
    Request::parse(method, path).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

fn cluster(name: &str) -> String {
    name.to_owned()
}

fn not_allowed(method: &str, path: &str, allowed: &[&'static str]) {
    let err = Request::parse(method, path).unwrap_err();
    assert_eq!(
        err,
        ApiError::MethodNotAllowed {
            method: method.to_owned(),
            path: path.to_owned(),
            allowed: allowed.to_vec(),
        },
        "{method} {path}"
    );
    assert_eq!(err.status(), 405);
}

fn not_found(method: &str, path: &str) {
    let err = Request::parse(method, path).unwrap_err();
    assert_eq!(
        err,
        ApiError::RouteNotFound {
            method: method.to_ascii_uppercase(),
            path: path.split('?').next().unwrap().to_owned(),
        },
        "{method} {path}"
    );
    assert_eq!(err.status(), 404);
}

#[test]
fn list_clusters() {
    assert_eq!(parse("GET", "/api/cse"), Request::ListClusters);
    assert_eq!(parse("GET", "/api/cse/"), Request::ListClusters);
}

#[test]
fn create_cluster() {
    assert_eq!(parse("POST", "/api/cse"), Request::CreateCluster);
    assert_eq!(parse("POST", "/api/cse/"), Request::CreateCluster);
}

#[test]
fn list_templates() {
    assert_eq!(parse("GET", "/api/cse/template"), Request::ListTemplates);
}

#[test]
fn system_info_and_update() {
    assert_eq!(parse("GET", "/api/cse/system"), Request::SystemInfo);
    assert_eq!(parse("PUT", "/api/cse/system"), Request::UpdateSystem);
}

#[test]
fn cluster_info() {
    assert_eq!(
        parse("GET", "/api/cse/c1/info"),
        Request::ClusterInfo {
            cluster: cluster("c1")
        }
    );
}

#[test]
fn cluster_config() {
    assert_eq!(
        parse("GET", "/api/cse/c1/config"),
        Request::ClusterConfig {
            cluster: cluster("c1")
        }
    );
}

#[test]
fn delete_cluster() {
    assert_eq!(
        parse("DELETE", "/api/cse/c1"),
        Request::DeleteCluster {
            cluster: cluster("c1")
        }
    );
}

#[test]
fn create_and_delete_nodes() {
    assert_eq!(
        parse("POST", "/api/cse/c1/node"),
        Request::CreateNodes {
            cluster: cluster("c1")
        }
    );
    assert_eq!(
        parse("DELETE", "/api/cse/c1/node"),
        Request::DeleteNodes {
            cluster: cluster("c1")
        }
    );
}

#[test]
fn node_info() {
    assert_eq!(
        parse("GET", "/api/cse/c1/node-ab12/info"),
        Request::NodeInfo {
            cluster: cluster("c1"),
            node: "node-ab12".to_owned()
        }
    );
}

#[test]
fn swagger_routes() {
    let json = Request::Swagger {
        format: SwaggerFormat::Json,
    };
    assert_eq!(parse("GET", "/api/cse/swagger"), json);
    assert_eq!(parse("GET", "/api/cse/swagger.json"), json);
    assert_eq!(
        parse("GET", "/api/cse/swagger.yaml"),
        Request::Swagger {
            format: SwaggerFormat::Yaml
        }
    );
    not_allowed("POST", "/api/cse/swagger", &["GET"]);
}

#[test]
fn delete_without_a_name_never_deletes() {
    not_allowed("DELETE", "/api/cse", &["GET", "POST"]);
    not_allowed("DELETE", "/api/cse/", &["GET", "POST"]);
    not_allowed("DELETE", "/api/cse/system", &["GET", "PUT"]);
    not_allowed("DELETE", "/api/cse/template", &["GET"]);
    assert_eq!(
        Request::parse("DELETE", "/api/cse")
            .unwrap_err()
            .to_string(),
        "Method DELETE is not allowed on /api/cse (allowed: GET, POST)"
    );
}

#[test]
fn post_to_system_or_template_does_not_create_a_cluster() {
    not_allowed("POST", "/api/cse/system", &["GET", "PUT"]);
    not_allowed("POST", "/api/cse/template", &["GET"]);
    not_allowed("POST", "/api/cse/c1", &["DELETE"]);
}

#[test]
fn delete_below_a_cluster_deletes_nothing_but_nodes() {
    not_allowed("DELETE", "/api/cse/c1/info", &["GET"]);
    not_allowed("DELETE", "/api/cse/c1/config", &["GET"]);
    not_found("DELETE", "/api/cse/c1/node-ab12");
    not_found("DELETE", "/api/cse/c1/anything");
}

#[test]
fn wrong_methods_on_known_paths_are_405() {
    not_allowed("PUT", "/api/cse", &["GET", "POST"]);
    not_allowed("PATCH", "/api/cse/system", &["GET", "PUT"]);
    not_allowed("GET", "/api/cse/c1", &["DELETE"]);
    not_allowed("POST", "/api/cse/c1/info", &["GET"]);
    not_allowed("PUT", "/api/cse/c1/config", &["GET"]);
    not_allowed("GET", "/api/cse/c1/node", &["POST", "DELETE"]);
    not_allowed("DELETE", "/api/cse/c1/node-ab12/info", &["GET"]);
    not_allowed("HEAD", "/api/cse/swagger.yaml", &["GET"]);
}

#[test]
fn unknown_paths_are_404_not_status_code_500() {
    let err = Request::parse("GET", "/api/cse/c1/node-ab12/info/extra").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Unknown request: GET /api/cse/c1/node-ab12/info/extra"
    );
    assert_eq!(
        err.to_json(),
        r#"{"message":"Unknown request: GET /api/cse/c1/node-ab12/info/extra"}"#
    );
    for path in [
        "/",
        "/api",
        "/api/csex",
        "/api/cse2/c1/info",
        "/api/cse//info",
        "/api/cse/c1//info",
        "/api/cse/c1/node-ab12",
        "/api/cse/c1/node/info",
        "/api/cse/c1/info/info",
        "/api/cse/c1/config/info",
        "/api/cse/system/x",
        "/api/cse/template/x",
        "/api/cse/swagger/x",
        "/api/cse/swagger.json/x",
        "/api/cse/a/b/c/d",
        "",
    ] {
        not_found("GET", path);
    }
}

#[test]
fn keywords_are_routes_not_clusters_but_near_misses_are_clusters() {
    assert_eq!(
        parse("DELETE", "/api/cse/swagger-ui"),
        Request::DeleteCluster {
            cluster: cluster("swagger-ui")
        }
    );
    assert_eq!(
        parse("GET", "/api/cse/System/info"),
        Request::ClusterInfo {
            cluster: cluster("System")
        }
    );
    assert_eq!(
        parse("GET", "/api/cse/info/info"),
        Request::ClusterInfo {
            cluster: cluster("info")
        }
    );
}

#[test]
fn lenient_forms() {
    assert_eq!(parse("get", "/api/cse"), Request::ListClusters);
    assert_eq!(
        parse("Delete", "/api/cse/c1/"),
        Request::DeleteCluster {
            cluster: cluster("c1")
        }
    );
    assert_eq!(
        parse("GET", "/api/cse/c1/info/"),
        Request::ClusterInfo {
            cluster: cluster("c1")
        }
    );
    assert_eq!(parse("GET", "/api/cse?format=json"), Request::ListClusters);
    assert_eq!(
        parse("GET", "/api/cse/c1/info?x=1"),
        Request::ClusterInfo {
            cluster: cluster("c1")
        }
    );
    assert_eq!(
        parse("GET", "/api/cse/my%20c/info"),
        Request::ClusterInfo {
            cluster: cluster("my%20c")
        }
    );
    not_found("GET", "/api/cse/c1/info//");
}

#[test]
fn node_routes_carry_the_url_cluster() {
    let request = parse("POST", "/api/cse/from-url/node");
    assert_eq!(request.cluster(), Some("from-url"));
}

#[test]
fn disabled_service_serves_only_system_routes() {
    for (method, path) in [("GET", "/api/cse/system"), ("PUT", "/api/cse/system")] {
        let request = parse(method, path);
        assert!(request.is_system());
        assert_eq!(request.check_enabled(false), Ok(()));
    }
    for (method, path) in [
        ("GET", "/api/cse"),
        ("POST", "/api/cse"),
        ("GET", "/api/cse/template"),
        ("GET", "/api/cse/swagger"),
        ("GET", "/api/cse/c1/info"),
        ("DELETE", "/api/cse/c1"),
    ] {
        let request = parse(method, path);
        assert_eq!(request.check_enabled(true), Ok(()));
        let err = request.check_enabled(false).unwrap_err();
        assert_eq!(err, ApiError::ServiceDisabled);
        assert_eq!(err.status(), 500);
    }
}

#[test]
fn request_properties() {
    let table = [
        ("GET", "/api/cse", "list_clusters", 200, false, None),
        ("POST", "/api/cse", "create_cluster", 202, true, None),
        (
            "GET",
            "/api/cse/template",
            "list_templates",
            200,
            false,
            None,
        ),
        ("GET", "/api/cse/system", "system_info", 200, false, None),
        ("PUT", "/api/cse/system", "update_system", 200, true, None),
        (
            "GET",
            "/api/cse/c/info",
            "cluster_info",
            200,
            false,
            Some("c"),
        ),
        (
            "GET",
            "/api/cse/c/config",
            "cluster_config",
            200,
            false,
            Some("c"),
        ),
        (
            "DELETE",
            "/api/cse/c",
            "delete_cluster",
            202,
            false,
            Some("c"),
        ),
        (
            "POST",
            "/api/cse/c/node",
            "create_nodes",
            202,
            true,
            Some("c"),
        ),
        (
            "DELETE",
            "/api/cse/c/node",
            "delete_nodes",
            202,
            true,
            Some("c"),
        ),
        (
            "GET",
            "/api/cse/c/n/info",
            "node_info",
            200,
            false,
            Some("c"),
        ),
        ("GET", "/api/cse/swagger", "swagger", 200, false, None),
    ];
    for (method, path, name, status, body, cluster) in table {
        let request = parse(method, path);
        assert_eq!(request.operation_name(), name, "{path}");
        assert_eq!(request.success_status(), status, "{path}");
        assert_eq!(request.is_async(), status == 202, "{path}");
        assert_eq!(request.has_body(), body, "{path}");
        assert_eq!(request.cluster(), cluster, "{path}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases(256)))]

    #[test]
    fn arbitrary_paths_never_panic(method in "[A-Za-z]{0,8}", path in "[/a-z.?%-]{0,40}") {
        match Request::parse(&method, &path) {
            Ok(_) => {}
            Err(e) => prop_assert!(matches!(e.status(), 404 | 405)),
        }
    }

    #[test]
    fn cluster_routes_round_trip(name in "[a-zA-Z0-9][a-zA-Z0-9-]{0,20}") {
        prop_assume!(!["system", "template", "swagger"].contains(&name.as_str()));
        let info = Request::parse("GET", &format!("/api/cse/{name}/info")).unwrap();
        prop_assert_eq!(info.cluster(), Some(name.as_str()));
        let delete = Request::parse("DELETE", &format!("/api/cse/{name}")).unwrap();
        prop_assert_eq!(delete, Request::DeleteCluster { cluster: name.clone() });
    }
}

/// Cases per property: this file's own number, or `CSE_FUZZ_CASES` when set (the
/// reliability suite's long form, `scripts/reliability.sh --long`).
fn fuzz_cases(default: u32) -> u32 {
    std::env::var("CSE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
