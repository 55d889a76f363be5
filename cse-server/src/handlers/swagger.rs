//! `GET /api/cse/swagger[.json|.yaml]`: a Swagger 2.0 description of the
//! routes this server answers, as JSON, or as YAML text sent as a JSON string
//! literal (the kubeconfig convention). 1.2.x shipped a stale, aspirational
//! file; this one is generated from the routes actually served.

use cse_core::api::{ApiError, SwaggerFormat, reply_json};
use cse_core::ext::{ExtReply, ExtRequest};
use serde_json::{Value, json};

fn operation(summary: &str, body: Option<&str>, success: u16) -> Value {
    let mut op = json!({
        "summary": summary,
        "produces": ["application/json"],
        "responses": {
            success.to_string(): {"description": "success"},
            "400": {"description": "invalid request body or envelope"},
            "401": {"description": "missing or refused vCD session, or not allowed"},
            "500": {"description": "operation error, `{\"message\": ...}`"}
        }
    });
    if let Some(body) = body {
        op["parameters"] = json!([{
            "in": "body", "name": "body", "required": true,
            "schema": {"type": "object", "description": body}
        }]);
    }
    op
}

/// The API description.
pub fn document() -> Value {
    let cluster = json!({"in": "path", "name": "cluster", "required": true, "type": "string"});
    let node = json!({"in": "path", "name": "node", "required": true, "type": "string"});
    json!({
        "swagger": "2.0",
        "info": {
            "title": "Container Service Extension",
            "description": cse_core::api::responses::PRODUCT_DESCRIPTION,
            "version": cse_core::CSE_VERSION
        },
        "basePath": "/api/cse",
        "paths": {
            "/": {
                "get": operation("List the clusters the caller can see", None, 200),
                "post": operation("Create a cluster (answers with its vCD task)",
                    Some("name, vdc, network, node_count, cpu, memory, storage_profile, ssh_key, template, enable_nfs, disable_rollback"), 202)
            },
            "/template": {"get": operation("List the templates", None, 200)},
            "/system": {
                "get": operation("Service information", None, 200),
                "put": operation("Enable, disable or stop the service (System org only)",
                    Some("{\"enabled\": bool} or {\"stopped\": true}"), 200)
            },
            "/{cluster}": {
                "parameters": [cluster],
                "delete": operation("Delete a cluster (answers with its vCD task)", None, 202)
            },
            "/{cluster}/info": {"parameters": [cluster], "get": operation("Cluster details with its nodes", None, 200)},
            "/{cluster}/config": {"parameters": [cluster], "get": operation("The master's kubeconfig (YAML text as a JSON string)", None, 200)},
            "/{cluster}/node": {
                "parameters": [cluster],
                "post": operation("Add nodes (answers with the vCD task)",
                    Some("network, node_count, node_type (node|nfsd), cpu, memory, storage_profile, ssh_key, template, disable_rollback"), 202),
                "delete": operation("Delete nodes (answers with the vCD task)", Some("nodes, force"), 202)
            },
            "/{cluster}/{node}/info": {"parameters": [cluster, node], "get": operation("Node details", None, 200)}
        }
    })
}

/// Answers a swagger request in `format`.
pub fn reply(request: &ExtRequest, format: SwaggerFormat) -> Result<ExtReply, ApiError> {
    let doc = document();
    match format {
        SwaggerFormat::Json => reply_json(request, 200, &doc),
        SwaggerFormat::Yaml => {
            let text = serde_yaml::to_string(&doc).map_err(|e| {
                ApiError::Internal(format!("Couldn't render the API description: {e}"))
            })?;
            reply_json(request, 200, &text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_route_is_described() {
        let doc = document();
        insta::assert_json_snapshot!("swagger", doc, {".info.version" => "[version]"});
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/",
            "/template",
            "/system",
            "/{cluster}",
            "/{cluster}/info",
            "/{cluster}/config",
            "/{cluster}/node",
            "/{cluster}/{node}/info",
        ] {
            let route = format!("/api/cse{}", path.trim_end_matches('/'))
                .replace("{cluster}", "c1")
                .replace("{node}", "node-abcd");
            for method in paths[path]
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
            {
                let parsed = cse_core::api::Request::parse(method, &route);
                assert!(
                    parsed.is_ok(),
                    "{method} {route} is documented but not routed: {parsed:?}"
                );
            }
        }
        let yaml: Value = serde_yaml::from_str(&serde_yaml::to_string(&doc).unwrap()).unwrap();
        assert_eq!(yaml, doc);
    }
}
