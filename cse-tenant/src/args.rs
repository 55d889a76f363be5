//! Command line of `vcd-cse`: the commands and flags of vcd-cli's `vcd cse ...` plugin
//! (CSE 1.2.x) plus `login`/`logout`, with the same names, short flags and defaults.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Default `--nodes` of `cluster create` (vcd-cli's).
pub const DEFAULT_CLUSTER_NODES: u32 = 2;
/// Help heading of the options every command takes.
const GLOBAL: &str = "Global options";
/// Default `--nodes` of `node create` (vcd-cli's).
pub const DEFAULT_ADDED_NODES: u32 = 1;

/// Work with Kubernetes clusters in vCloud Director (Container Service Extension).
///
/// Cluster names follow the syntax of host names and have at most 25 characters; `system`,
/// `template` and `swagger*` are reserved.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "vcd-cse",
    disable_version_flag = true,
    after_help = "Examples:\n  vcd-cse login vcd.example.com acme alice -i\n  vcd-cse cluster create dev-cluster --network net1 --wait\n  vcd-cse cluster list\n  vcd-cse cluster config dev-cluster > ~/.kube/config\n  vcd-cse node create dev-cluster --network net1 --nodes 2\n  vcd-cse node delete dev-cluster node-ab12 --yes\n  vcd-cse template list --json"
)]
pub struct Cli {
    /// Print results as JSON.
    #[arg(short = 'j', long = "json", global = true, help_heading = GLOBAL)]
    pub json: bool,
    /// Follow the vCD task of create/delete commands until it ends (progress on stderr);
    /// exit non-zero if the task fails.
    #[arg(long, global = true, overrides_with = "no_wait", help_heading = GLOBAL)]
    pub wait: bool,
    /// Do not follow the task, print its reference and return (the default).
    #[arg(long, global = true, overrides_with = "wait", help_heading = GLOBAL)]
    pub no_wait: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Log in to vCloud Director and store the session.
    Login(LoginArgs),
    /// Log out and forget the stored session token.
    Logout,
    /// Work with clusters.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Work with cluster nodes.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Work with templates.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Work with the CSE service (System administrators).
    #[command(subcommand)]
    System(SystemCommand),
    /// Show the version of this client.
    Version,
}

/// `login HOST ORG USER`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct LoginArgs {
    /// vCD host name or URL (`vcd.example.com`, `https://vcd.example.com:8443`).
    pub host: String,
    /// Organization (`System` for provider administrators).
    pub org: String,
    /// User name.
    pub user: String,
    /// Password (else $VCD_PASSWORD, else asked for).
    #[arg(
        short = 'p',
        long = "password",
        env = "VCD_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// API version (default: the highest one both sides support).
    #[arg(short = 'V', long = "version", value_name = "API_VERSION")]
    pub api_version: Option<String>,
    /// Verify the server's TLS certificate (the default).
    #[arg(short = 's', long = "verify-ssl-certs", overrides_with = "insecure")]
    pub verify_ssl_certs: bool,
    /// Do not verify the server's TLS certificate.
    #[arg(
        short = 'i',
        long = "no-verify-ssl-certs",
        visible_alias = "insecure",
        overrides_with = "verify_ssl_certs"
    )]
    pub insecure: bool,
    /// Do not warn about unverified TLS connections.
    #[arg(short = 'w', long = "disable-warnings")]
    pub disable_warnings: bool,
    /// Virtual datacenter to use (default: the organization's first).
    #[arg(short = 'v', long = "vdc")]
    pub vdc: Option<String>,
    /// Reuse an existing session token instead of a password.
    #[arg(short = 'd', long = "session-id")]
    pub session_id: Option<String>,
}

/// `cluster ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ClusterCommand {
    /// List clusters.
    List,
    /// Create a cluster.
    Create(ClusterCreateArgs),
    /// Show a cluster's details and nodes.
    Info {
        /// Cluster name.
        name: String,
    },
    /// Print the cluster's kubeconfig.
    Config {
        /// Cluster name.
        name: String,
    },
    /// Delete a cluster.
    Delete {
        /// Cluster name.
        name: String,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
}

/// Options shared by `cluster create` and `node create`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct VmArgs {
    /// Number of virtual CPUs on each node.
    #[arg(short = 'c', long = "cpu", value_parser = clap::value_parser!(u32).range(1..))]
    pub cpu: Option<u32>,
    /// Amount of memory (in MB) on each node.
    #[arg(short = 'm', long = "memory", value_parser = clap::value_parser!(u32).range(1..))]
    pub memory: Option<u32>,
    /// Org VDC network name.
    #[arg(short = 'n', long = "network", required = true)]
    pub network: String,
    /// Storage profile for the nodes.
    #[arg(short = 's', long = "storage-profile")]
    pub storage_profile: Option<String>,
    /// SSH public key file to put into root's authorized keys.
    #[arg(short = 'k', long = "ssh-key", value_name = "FILE")]
    pub ssh_key: Option<PathBuf>,
    /// Template to instantiate the nodes from (default: the server's default template).
    #[arg(short = 't', long = "template")]
    pub template: Option<String>,
    /// Virtual datacenter (default: the one of the login).
    #[arg(long = "vdc")]
    pub vdc: Option<String>,
    /// Keep what was built if the operation fails (no rollback).
    #[arg(long = "disable-rollback")]
    pub disable_rollback: bool,
}

/// `cluster create NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ClusterCreateArgs {
    /// Cluster name.
    pub name: String,
    /// Number of worker nodes (0 for a single-node cluster).
    #[arg(short = 'N', long = "nodes", default_value_t = DEFAULT_CLUSTER_NODES)]
    pub nodes: u32,
    /// Also create an NFS node.
    #[arg(long = "enable-nfs")]
    pub enable_nfs: bool,
    /// VM options.
    #[command(flatten)]
    pub vm: VmArgs,
}

/// `node ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum NodeCommand {
    /// List the master and worker nodes of a cluster.
    List {
        /// Cluster name.
        name: String,
    },
    /// Add nodes to a cluster.
    Create(NodeCreateArgs),
    /// Show a node's details.
    Info {
        /// Cluster name.
        cluster_name: String,
        /// Node (VM) name.
        node_name: String,
    },
    /// Delete nodes from a cluster.
    Delete(NodeDeleteArgs),
}

/// Kind of node `node create` adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NodeKind {
    /// Kubernetes worker.
    Node,
    /// NFS server.
    Nfsd,
}

impl NodeKind {
    /// The `node_type` value of the request body.
    pub fn api_name(self) -> &'static str {
        match self {
            NodeKind::Node => "node",
            NodeKind::Nfsd => "nfsd",
        }
    }
}

/// `node create NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct NodeCreateArgs {
    /// Cluster name.
    pub name: String,
    /// Number of nodes to add.
    #[arg(short = 'N', long = "nodes", default_value_t = DEFAULT_ADDED_NODES,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub nodes: u32,
    /// Type of node to add.
    #[arg(long = "type", value_enum, default_value_t = NodeKind::Node)]
    pub node_type: NodeKind,
    /// VM options.
    #[command(flatten)]
    pub vm: VmArgs,
}

/// `node delete NAME NODE...`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct NodeDeleteArgs {
    /// Cluster name.
    pub name: String,
    /// Node (VM) names.
    #[arg(required = true)]
    pub node_names: Vec<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Delete the VMs even if Kubernetes cannot remove the nodes.
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Virtual datacenter (default: the one of the login).
    #[arg(long = "vdc")]
    pub vdc: Option<String>,
}

/// `template ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum TemplateCommand {
    /// List the templates clusters can be created from.
    List,
}

/// `system ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum SystemCommand {
    /// Show CSE service information.
    Info,
    /// Enable the CSE service.
    Enable,
    /// Disable the CSE service (new requests are refused, running ones finish).
    Disable,
    /// Gracefully stop the (disabled) CSE service.
    Stop {
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
}

impl Cli {
    /// Whether create/delete commands should follow their task.
    pub fn follow_tasks(&self) -> bool {
        self.wait && !self.no_wait
    }
}
