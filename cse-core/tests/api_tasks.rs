//! Task texts of the long operations (1.2.x wording) and the task attributes.

use cse_core::api::tasks::{TASK_OWNER_TYPE, TASK_SERVICE_NAMESPACE, task_owner_href};
use cse_core::api::{TaskMessage, TaskOperation};

#[test]
fn task_texts() {
    let messages = [
        TaskMessage::CreatingCluster,
        TaskMessage::CreatingClusterVapp,
        TaskMessage::CreatingMasterNode,
        TaskMessage::InitializingCluster,
        TaskMessage::CreatingNodes(2),
        TaskMessage::JoiningNodes(2),
        TaskMessage::CreatingNfsNode,
        TaskMessage::CreatedCluster,
        TaskMessage::DeletingCluster,
        TaskMessage::DeletedCluster,
        TaskMessage::AddingNodesToCluster(3),
        TaskMessage::CreatedNodes(1),
        TaskMessage::AddedNodes(3),
        TaskMessage::DeletingNodesFromCluster(2),
        TaskMessage::DeletingNodes(2),
        TaskMessage::UndeployingNodes(2),
        TaskMessage::DeletingVms(2),
        TaskMessage::DeletedNodes(2),
        TaskMessage::Queued(TaskOperation::CreateCluster),
        TaskMessage::Queued(TaskOperation::DeleteNodes),
    ];
    let rendered: Vec<String> = messages
        .iter()
        .map(|m| m.render("c1", "1f2e3d4c-0000-4000-8000-000000000003"))
        .collect();
    insta::assert_snapshot!("task_messages", rendered.join("\n"));
    assert_eq!(
        TaskMessage::CreatingClusterVapp.render("c1", "id"),
        "Creating cluster vApp c1(id)"
    );
}

#[test]
fn task_operations() {
    let table: Vec<(&str, &str)> = [
        TaskOperation::CreateCluster,
        TaskOperation::DeleteCluster,
        TaskOperation::CreateNodes,
        TaskOperation::DeleteNodes,
    ]
    .into_iter()
    .map(|op| (op.operation_name(), op.default_operation_text()))
    .collect();
    assert_eq!(
        table,
        vec![
            ("create_cluster", "create cluster"),
            ("delete_cluster", "delete cluster"),
            ("create_nodes", "create nodes in cluster"),
            ("delete_nodes", "delete nodes from cluster"),
        ]
    );
    assert_eq!(TASK_SERVICE_NAMESPACE, "vcloud.cse");
    assert_eq!(TASK_OWNER_TYPE, "application/vcloud.cse.cluster+xml");
    assert_eq!(task_owner_href("abc"), "urn:cse:cluster:abc");
}
