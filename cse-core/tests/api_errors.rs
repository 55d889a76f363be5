//! Every error text of the original (§2.4, §3, §4.3) and of the new checks, with its HTTP
//! status and its `{"message": ...}` JSON body.

use cse_core::api::{ApiError, MessageBody, OperationStage};
use cse_core::ext::EnvelopeError;
use cse_core::naming::ClusterNameError;

fn check(error: ApiError, text: &str, status: u16) {
    assert_eq!(error.to_string(), text, "{error:?}");
    assert_eq!(error.status(), status, "{error:?}");
    assert_eq!(error.body(), MessageBody::new(text));
    let parsed: serde_json::Value = serde_json::from_str(&error.to_json()).unwrap();
    assert_eq!(parsed, serde_json::json!({ "message": text }));
}

#[test]
fn service_disabled() {
    check(
        ApiError::ServiceDisabled,
        "CSE service is disabled. Contact the System Administrator.",
        500,
    );
}

#[test]
fn cluster_already_exists() {
    check(
        ApiError::ClusterAlreadyExists,
        "Cluster already exists.",
        500,
    );
}

#[test]
fn cluster_not_found_is_one_text_for_every_operation() {
    check(
        ApiError::ClusterNotFound("c1".into()),
        "Cluster 'c1' not found.",
        500,
    );
}

#[test]
fn cluster_config_unavailable() {
    check(
        ApiError::ClusterConfigUnavailable,
        "Couldn't get cluster configuration",
        500,
    );
}

#[test]
fn node_not_found() {
    check(
        ApiError::NodeNotFound {
            node: "node-ab12".into(),
            cluster: "c1".into(),
        },
        "Node 'node-ab12' not found in cluster 'c1'",
        500,
    );
}

#[test]
fn template_not_found() {
    check(
        ApiError::TemplateNotFound("photon-v9".into()),
        "Template photon-v9 not found",
        500,
    );
}

#[test]
fn network_not_found() {
    check(
        ApiError::NetworkNotFound("net1".into()),
        "Network 'net1' not found in the Virtual Datacenter.",
        500,
    );
}

#[test]
fn system_update_errors() {
    check(
        ApiError::CannotEnableWhileStopping,
        "Cannot enable while being stopped.",
        500,
    );
    check(
        ApiError::CannotStopWhileEnabled,
        "Cannot stop CSE while is enabled. Disable the service first.",
        500,
    );
    check(ApiError::UnknownStatus, "Unknown status", 500);
    check(ApiError::Unauthorized, "Unauthorized", 401);
    check(
        ApiError::ConflictingSystemUpdate,
        "Specify either 'enabled' or 'stopped', not both.",
        400,
    );
    check(
        ApiError::StopFalse,
        "Nothing to do: only {\"stopped\": true} stops the service.",
        400,
    );
}

#[test]
fn system_update_success_messages() {
    assert_eq!(MessageBody::updated().to_json(), r#"{"message":"Updated"}"#);
    assert_eq!(
        MessageBody::shutdown_started(0).message,
        "CSE graceful shutdown started."
    );
    assert_eq!(
        MessageBody::shutdown_started(3).message,
        "CSE graceful shutdown started. CSE will finish processing 3 requests."
    );
}

#[test]
fn node_validation_texts() {
    check(ApiError::InvalidNodeCount(0), "Invalid node count: 0.", 500);
    check(
        ApiError::InvalidNodeCount(-3),
        "Invalid node count: -3.",
        500,
    );
    check(
        ApiError::InvalidNodeList(vec![]),
        "Invalid list of nodes: [].",
        500,
    );
    check(
        ApiError::InvalidNodeList(vec!["".into(), "it's".into()]),
        "Invalid list of nodes: ['', \"it's\"].",
        500,
    );
    check(
        ApiError::CannotDeleteMaster("mstr-ab12".into()),
        "Can't delete a master node: 'mstr-ab12'.",
        500,
    );
    check(
        ApiError::InvalidNodeType("gpu".into()),
        "Invalid node type: 'gpu'. Expected 'node' or 'nfsd'.",
        400,
    );
    check(ApiError::InvalidCpu(0), "Invalid number of CPUs: 0.", 400);
    check(
        ApiError::InvalidMemory(-1),
        "Invalid memory size: -1 MB.",
        400,
    );
}

#[test]
fn cluster_name_texts() {
    check(
        ApiError::from(ClusterNameError::InvalidLabel {
            name: "-x".into(),
            label: "-x".into(),
        }),
        "Invalid cluster name",
        500,
    );
    check(
        ApiError::from(ClusterNameError::TooLong {
            name: "x".repeat(26),
        }),
        "Invalid cluster name",
        500,
    );
    check(
        ApiError::from(ClusterNameError::Empty),
        "Invalid cluster name: the name is empty",
        500,
    );
    check(
        ApiError::from(ClusterNameError::Reserved {
            name: "system".into(),
        }),
        "Invalid cluster name: 'system' is reserved (system, template and swagger* cannot be used as cluster names)",
        500,
    );
}

#[test]
fn task_error_texts() {
    check(
        ApiError::ClusterInitFailed {
            stderr: "kubeadm: error".into(),
        },
        "Couldn't initialize cluster:\nkubeadm: error",
        500,
    );
    check(
        ApiError::JoinFailed {
            stderr: "bad token".into(),
        },
        "Couldn't join cluster:\nbad token",
        500,
    );
    check(
        ApiError::NodeDeleteFailed {
            stderr: "Error from server (NotFound): nodes \"node-ab12\" not found".into(),
        },
        "Couldn't delete node(s):\nError from server (NotFound): nodes \"node-ab12\" not found",
        500,
    );
    check(
        ApiError::VmNotReady,
        "VM is not ready to execute scripts",
        500,
    );
    let stages = [
        (
            OperationStage::CreatingVapp,
            "Error while creating vApp: boom",
        ),
        (
            OperationStage::AddingMaster,
            "Error while adding master node: boom",
        ),
        (
            OperationStage::CreatingWorkers,
            "Error while creating worker node: boom",
        ),
        (
            OperationStage::CreatingNfs,
            "Error while creating NFS node: boom",
        ),
    ];
    for (stage, text) in stages {
        check(
            ApiError::StageFailed {
                stage,
                cause: "boom".into(),
            },
            text,
            500,
        );
    }
    check(ApiError::Internal("vCD said no".into()), "vCD said no", 500);
}

#[test]
fn new_request_errors() {
    check(
        ApiError::RouteNotFound {
            method: "GET".into(),
            path: "/api/cse/a/b/c/d".into(),
        },
        "Unknown request: GET /api/cse/a/b/c/d",
        404,
    );
    check(
        ApiError::MethodNotAllowed {
            method: "DELETE".into(),
            path: "/api/cse".into(),
            allowed: vec!["GET", "POST"],
        },
        "Method DELETE is not allowed on /api/cse (allowed: GET, POST)",
        405,
    );
    check(
        ApiError::MissingBody,
        "A JSON request body is required",
        400,
    );
    check(
        ApiError::InvalidBody("expected value at line 1 column 1".into()),
        "Invalid request body: expected value at line 1 column 1",
        400,
    );
    check(
        ApiError::MissingField("network"),
        "Missing required field 'network' in the request body",
        400,
    );
    check(
        ApiError::ClusterNameMismatch {
            body: "b".into(),
            url: "u".into(),
        },
        "Cluster name in the request body ('b') does not match the cluster in the URL ('u').",
        400,
    );
    check(
        ApiError::MissingToken,
        "Missing x-vcloud-authorization header",
        401,
    );
}

#[test]
fn envelope_errors_map_to_400() {
    check(
        ApiError::from(EnvelopeError::MissingApiVersion("application/json".into())),
        "Accept header 'application/json' has no API version (expected e.g. 'application/*+json;version=29.0')",
        400,
    );
    check(
        ApiError::from(EnvelopeError::MissingAccept),
        "request has no Accept header (expected e.g. 'application/*+json;version=29.0')",
        400,
    );
    check(
        ApiError::from(EnvelopeError::EmptyArray),
        "Malformed extension request: extension request array is empty",
        400,
    );
}

#[test]
fn messages_with_quotes_and_newlines_stay_valid_json() {
    let error = ApiError::Internal("line1\n\"quoted\" \\ tab\t".into());
    let parsed: serde_json::Value = serde_json::from_str(&error.to_json()).unwrap();
    assert_eq!(parsed["message"], "line1\n\"quoted\" \\ tab\t");
}

#[test]
fn error_replies_through_the_envelope() {
    use cse_core::api::{Request, reply_json};
    use cse_core::ext::{ExtReply, ExtRequestBuilder};
    let request = ExtRequestBuilder::new("id-1", "DELETE", "/api/cse")
        .header("Accept", "application/*+json;version=29.0")
        .build();
    let error = Request::from_ext(&request).unwrap_err();
    let reply = error.reply_to(&request);
    assert_eq!(reply.status_code, 405);
    assert_eq!(reply.id, "id-1");
    assert_eq!(reply.content_type, "application/*+json;version=29.0");
    assert_eq!(
        reply.body_text(),
        r#"{"message":"Method DELETE is not allowed on /api/cse (allowed: GET, POST)"}"#
    );
    let parsed = ExtReply::from_json(reply.to_json().as_bytes()).unwrap();
    assert_eq!(parsed, reply);
    let ok = reply_json(&request, 200, &MessageBody::updated()).unwrap();
    assert_eq!(ok.body_text(), r#"{"message":"Updated"}"#);
    assert_eq!(ok.status_code, 200);
}

#[test]
fn conflict_and_queue_texts() {
    check(
        ApiError::ClusterBeingCreated("c1".into()),
        "Cluster 'c1' already exists: another request is creating it.",
        409,
    );
    check(
        ApiError::ClusterBusy {
            cluster: "c1".into(),
            operation: "delete_cluster".into(),
            state: "is in progress",
        },
        "Cluster 'c1' is busy: another operation (delete_cluster) is in progress. Try again when its task has finished.",
        409,
    );
    check(
        ApiError::OperationQueueFull {
            running: 32,
            queued: 512,
        },
        "The server is busy: 32 operations are running and 512 are queued, the most it accepts. Try again later.",
        503,
    );
}
