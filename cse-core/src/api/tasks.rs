//! Texts CSE writes into the vCD tasks of its long operations (1.2.x wording), the task
//! `operationName`s and the CSE-specific task attributes.
//!
//! Every progress text names the cluster as `<name>(<cluster id>)`, as 1.2.x did, so
//! `vcd task list` output stays familiar.

/// `serviceNamespace` of CSE's extension tasks.
pub const TASK_SERVICE_NAMESPACE: &str = "vcloud.cse";
/// `type` of the task `Owner` element.
pub const TASK_OWNER_TYPE: &str = "application/vcloud.cse.cluster+xml";

/// `href` of the task `Owner` element: `urn:cse:cluster:<cluster id>`.
pub fn task_owner_href(cluster_id: &str) -> String {
    format!("urn:cse:cluster:{cluster_id}")
}

/// The four long operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskOperation {
    /// `POST /api/cse`.
    CreateCluster,
    /// `DELETE /api/cse/{c}`.
    DeleteCluster,
    /// `POST /api/cse/{c}/node`.
    CreateNodes,
    /// `DELETE /api/cse/{c}/node`.
    DeleteNodes,
}

impl TaskOperation {
    /// The task's `operationName`.
    pub fn operation_name(self) -> &'static str {
        match self {
            TaskOperation::CreateCluster => "create_cluster",
            TaskOperation::DeleteCluster => "delete_cluster",
            TaskOperation::CreateNodes => "create_nodes",
            TaskOperation::DeleteNodes => "delete_nodes",
        }
    }

    /// The task's `operation` text when it ends in error without a progress text.
    pub fn default_operation_text(self) -> &'static str {
        match self {
            TaskOperation::CreateCluster => "create cluster",
            TaskOperation::DeleteCluster => "delete cluster",
            TaskOperation::CreateNodes => "create nodes in cluster",
            TaskOperation::DeleteNodes => "delete nodes from cluster",
        }
    }
}

/// One progress or completion text of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskMessage {
    /// First text of a cluster create (before the 202).
    CreatingCluster,
    /// Composing the empty vApp.
    CreatingClusterVapp,
    /// Adding the master VM.
    CreatingMasterNode,
    /// Running `kubeadm init`.
    InitializingCluster,
    /// Adding `n` VMs (workers at create, any type at add-nodes).
    CreatingNodes(u32),
    /// Joining `n` workers to Kubernetes.
    JoiningNodes(u32),
    /// Adding the NFS VM at create.
    CreatingNfsNode,
    /// Cluster create succeeded.
    CreatedCluster,
    /// First text of a cluster delete.
    DeletingCluster,
    /// Cluster delete succeeded.
    DeletedCluster,
    /// First text of an add-nodes (before the 202).
    AddingNodesToCluster(u32),
    /// Add-nodes of NFS VMs succeeded.
    CreatedNodes(u32),
    /// Add-nodes of workers succeeded.
    AddedNodes(u32),
    /// First text of a delete-nodes (before the 202).
    DeletingNodesFromCluster(u32),
    /// Removing `n` nodes from Kubernetes.
    DeletingNodes(u32),
    /// Undeploying `n` VMs.
    UndeployingNodes(u32),
    /// Deleting `n` VMs from the vApp.
    DeletingVms(u32),
    /// Delete-nodes succeeded (1.2.x wording, "to cluster" included).
    DeletedNodes(u32),
    /// Accepted, waiting for a free operation slot (CSE-RS).
    Queued(TaskOperation),
}

impl TaskMessage {
    /// The text for cluster `name` with id `cluster_id`.
    pub fn render(self, name: &str, cluster_id: &str) -> String {
        let c = format!("{name}({cluster_id})");
        match self {
            TaskMessage::CreatingCluster => format!("Creating cluster {c}"),
            TaskMessage::CreatingClusterVapp => format!("Creating cluster vApp {c}"),
            TaskMessage::CreatingMasterNode => format!("Creating master node for {c}"),
            TaskMessage::InitializingCluster => format!("Initializing cluster {c}"),
            TaskMessage::CreatingNodes(n) => format!("Creating {n} node(s) for {c}"),
            TaskMessage::JoiningNodes(n) => format!("Adding {n} node(s) to {c}"),
            TaskMessage::CreatingNfsNode => format!("Creating NFS node for {c}"),
            TaskMessage::CreatedCluster => format!("Created cluster {c}"),
            TaskMessage::DeletingCluster => format!("Deleting cluster {c}"),
            TaskMessage::DeletedCluster => format!("Deleted cluster {c}"),
            TaskMessage::AddingNodesToCluster(n) => format!("Adding {n} node(s) to cluster {c}"),
            TaskMessage::CreatedNodes(n) => format!("Created {n} node(s) for {c}"),
            TaskMessage::AddedNodes(n) => format!("Added {n} node(s) to cluster {c}"),
            TaskMessage::DeletingNodesFromCluster(n) => {
                format!("Deleting {n} node(s) from cluster {c}")
            }
            TaskMessage::DeletingNodes(n) => format!("Deleting {n} node(s) from {c}"),
            TaskMessage::UndeployingNodes(n) => format!("Undeploying {n} node(s) for {c}"),
            TaskMessage::DeletingVms(n) => format!("Deleting {n} VM(s) for {c}"),
            TaskMessage::DeletedNodes(n) => format!("Deleted {n} node(s) to cluster {c}"),
            TaskMessage::Queued(operation) => format!(
                "Queued: {} for {c} waits for a free operation slot",
                operation.operation_name()
            ),
        }
    }
}
