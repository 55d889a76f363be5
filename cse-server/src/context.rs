//! What every handler and operation shares in one server process: the config,
//! the vCD endpoint, a system-administrator session (logged in once, renewed by
//! the client on 401), the pooled vCenter sessions, the run state and the
//! tracker of running operations.

use std::sync::atomic::{AtomicU64, Ordering};

use cse_core::api::{ApiError, SystemDetails};
use cse_core::config::{Config, TemplateConfig};
use tokio::sync::Mutex;
use tokio_util::task::TaskTracker;

use crate::auth::vcd_failure;
use crate::system::SystemState;
use cse_vcd::vcd::{Client, VcdConnector, VcdError, VcdSettings};
use cse_vcd::vsphere::VcenterPool;

/// Who a cluster list is for: the caller's [`crate::auth::Caller::key`] (a
/// SHA-256 digest of the session token and the API version it speaks).
pub type ListKey = crate::coordination::sessions::SessionKey;

/// A cluster list as vCD answered it, as the JSON text of the reply body,
/// shared by the calls that waited for it (written once, not once per call).
pub type ListAnswer = Result<std::sync::Arc<[u8]>, ApiError>;

/// Shared state of the handlers and operations.
pub struct Context {
    /// The validated configuration.
    pub config: Config,
    /// Where it was read from (shown to System-org callers).
    pub config_file: String,
    /// The vCD endpoint.
    pub connector: VcdConnector,
    /// vCenter sessions, one per vCenter.
    pub vcenters: VcenterPool,
    /// Enabled / stopping / in-flight.
    pub system: SystemState,
    /// Running operations (awaited by a graceful stop).
    pub tracker: TaskTracker,
    /// This process's identity in operation leases.
    pub owner_id: String,
    /// Leases this process keeps (never taken over by its own resume passes).
    pub held_leases: crate::coordination::HeldLeases,
    /// Tasks of the operations this process runs (never ended as orphans).
    pub local_tasks: crate::coordination::HeldLeases,
    /// Listeners started (system info).
    pub consumer_threads: AtomicU64,
    /// Clusters with an operation running or queued in this process.
    pub claims: crate::coordination::ClusterClaims,
    /// One call at a time per cluster vApp from this process.
    pub vapp_gates: crate::coordination::VappGates,
    /// Operation slots and the org-fair queue behind them.
    pub queue: crate::coordination::OperationQueue,
    /// Cluster lists in flight, by caller session: concurrent identical
    /// `GET /api/cse` calls share one vCD query.
    pub cluster_lists: crate::coordination::Flights<ListKey, ListAnswer>,
    /// Callers' sessions read from vCD, shared and remembered briefly.
    pub caller_sessions: crate::coordination::CallerSessions,
    admin: Mutex<Option<Client>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("config_file", &self.config_file)
            .field("owner_id", &self.owner_id)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context for `config` (read from `config_file`), enabled.
    pub fn new(config: Config, config_file: impl Into<String>) -> Result<Self, VcdError> {
        let settings = VcdSettings::from_config(&config)?;
        Self::with_settings(config, config_file, settings, VcenterPool::from_config)
    }

    /// A context with explicit vCD settings (tests trusting a simulator's
    /// certificate, for instance) and a vCenter pool made by `pool`.
    pub fn with_settings(
        config: Config,
        config_file: impl Into<String>,
        settings: VcdSettings,
        pool: impl FnOnce(&Config) -> VcenterPool,
    ) -> Result<Self, VcdError> {
        let connector = VcdConnector::new(settings)?;
        let vcenters = pool(&config);
        Ok(Context {
            config_file: config_file.into(),
            connector,
            vcenters,
            system: SystemState::enabled(),
            tracker: TaskTracker::new(),
            owner_id: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            held_leases: crate::coordination::HeldLeases::default(),
            local_tasks: crate::coordination::HeldLeases::default(),
            consumer_threads: AtomicU64::new(0),
            claims: crate::coordination::ClusterClaims::default(),
            vapp_gates: crate::coordination::VappGates::default(),
            queue: crate::coordination::OperationQueue::new(
                config.service.max_operations,
                config.service.max_queued_operations,
            ),
            cluster_lists: crate::coordination::Flights::default(),
            caller_sessions: crate::coordination::CallerSessions::default(),
            admin: Mutex::new(None),
            config,
        })
    }

    /// The system-administrator session, logged in on first use.
    pub async fn admin(&self) -> Result<Client, ApiError> {
        let mut admin = self.admin.lock().await;
        if let Some(client) = admin.as_ref() {
            return Ok(client.clone());
        }
        let client = self
            .connector
            .login_sysadmin(&self.config)
            .await
            .map_err(|e| vcd_failure(&e))?;
        tracing::info!(
            login = client.login_kind().label(),
            api_version = %client.api_version(),
            "logged in to vCD as the system administrator"
        );
        *admin = Some(client.clone());
        Ok(client)
    }

    /// A template by name, or the default one; unknown → `Template <t> not found`.
    pub fn template(&self, name: Option<&str>) -> Result<&TemplateConfig, ApiError> {
        self.config.broker.template_or_default(name).ok_or_else(|| {
            ApiError::TemplateNotFound(
                name.unwrap_or(&self.config.broker.default_template)
                    .to_owned(),
            )
        })
    }

    /// What System-org callers see in system info.
    pub fn system_details(&self) -> SystemDetails {
        SystemDetails {
            runtime: format!("rustc {}", env!("CARGO_PKG_RUST_VERSION")),
            consumer_threads: self.consumer_threads.load(Ordering::SeqCst),
            all_threads: tokio::runtime::Handle::try_current()
                .map(|h| h.metrics().num_workers() as u64)
                .unwrap_or(1),
            requests_in_progress: self.system.in_flight(),
            config_file: self.config_file.clone(),
            status: self.system.status(),
        }
    }
}
