//! The embedded simulator and the real CSE server in this process (the
//! scenario runner's simulator target, `cse install` done), driven as
//! tenants drive it: `POST /api/cse` over HTTPS, vCD tasks followed to the
//! end, `GET /api/cse` for the list. Used by the scale benchmarks and by the
//! resource tests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cse_core::config::{Seconds, Timeouts};
use futures::future::join_all;
use scenarios::api::{Reply, TaskEnd, TaskState};
use scenarios::format::{SimulatorSpec, Tenant, WorldSpec};
use scenarios::targets::Target;
use scenarios::targets::sim::{SimSettings, SimTarget};
use serde_json::json;
use vcd_sim::control::{Observer, observe::Operation};

/// Longest wait for one operation's task.
pub const TASK_WAIT: Duration = Duration::from_secs(600);

/// How to start a [`Scale`] world.
#[derive(Debug, Clone)]
pub struct ScaleSpec {
    /// Tenant orgs (acme plus generated ones).
    pub orgs: usize,
    /// `service.max_operations`.
    pub max_operations: u32,
    /// `service.listeners`, when not the config's default.
    pub listeners: Option<u32>,
    /// Simulated durations × this (0: none).
    pub time_scale: f64,
    /// `timeouts.vcd_task_poll_interval` in vCD (unscaled) seconds, when not
    /// the scenario runner's fast polling: scaled by `time_scale`.
    pub task_poll_interval: Option<Duration>,
    /// `timeouts.lease_ttl` (also the resume cadence), when not the scenario
    /// runner's (the default divided by 100 at time scale 0).
    pub lease_ttl: Option<Duration>,
    /// Poll vCD tasks and guest programs as a production server does (the
    /// config's default maxima, with pauses growing from a short first one)
    /// instead of the scenario runner's fixed few-millisecond polling.
    pub production_polling: bool,
    /// Count every vCD and vCenter operation the simulator serves
    /// ([`Scale::calls`]).
    pub count_calls: bool,
    /// How long the simulator keeps tasks (vCD's default: 90 days), for
    /// long runs whose memory must not grow with the task history.
    pub task_lifetime: Option<Duration>,
}

impl Default for ScaleSpec {
    fn default() -> Self {
        Self {
            orgs: 10,
            max_operations: 256,
            listeners: None,
            time_scale: 0.0,
            task_poll_interval: None,
            lease_ttl: None,
            production_polling: false,
            count_calls: false,
            task_lifetime: None,
        }
    }
}

/// An accepted operation: whose it is and its task.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The tenant that asked.
    pub tenant: Tenant,
    /// The cluster.
    pub cluster: String,
    /// The task's href.
    pub task_href: String,
}

/// The simulator target with its server running.
pub struct Scale {
    /// The target (simulator, server, tenant API).
    pub target: SimTarget,
    tenants: Vec<Tenant>,
    observer: Option<Arc<Observer>>,
}

impl Scale {
    /// Starts the simulator with `spec.orgs` tenant orgs at time scale 0,
    /// installs CSE and starts the server.
    pub async fn start(spec: &ScaleSpec) -> Result<Self, String> {
        let simulator = SimulatorSpec {
            world: WorldSpec::Generated {
                seed: 13,
                orgs: spec.orgs,
            },
            max_operations: Some(spec.max_operations),
            listeners: spec.listeners,
            time_scale: spec.time_scale,
            ..SimulatorSpec::default()
        };
        let poll = spec
            .task_poll_interval
            .map(|p| p.mul_f64(spec.time_scale.max(0.0)));
        let lease_ttl = spec.lease_ttl;
        let production_polling = spec.production_polling;
        let observer = spec.count_calls.then(|| Arc::new(Observer::default()));
        let settings = SimSettings {
            observer: observer.clone(),
            ..SimSettings::default()
        };
        let target = SimTarget::start_with(&simulator, &settings, |config| {
            if let Some(ttl) = lease_ttl {
                config.timeouts.lease_ttl =
                    Seconds::from_millis(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1));
            }
            if production_polling {
                let defaults = Timeouts::default();
                config.timeouts.vcd_task_poll_interval = defaults.vcd_task_poll_interval;
                config.timeouts.guest_ops_poll_interval = defaults.guest_ops_poll_interval;
            }
            if let Some(poll) = poll {
                config.timeouts.vcd_task_poll_interval = Seconds::from_millis(
                    u64::try_from(poll.as_millis()).unwrap_or(u64::MAX).max(1),
                );
            }
        })
        .await?;
        if let Some(lifetime) = spec.task_lifetime {
            target.sim.handle.state().set_task_lifetime(lifetime);
        }
        let tenants = target.tenants().into_values().collect();
        Ok(Self {
            target,
            tenants,
            observer,
        })
    }

    /// The operations served since the last call, by surface and name, with
    /// their calls (most called first); empty unless `count_calls` was set.
    pub fn calls(&self) -> Vec<Operation> {
        let Some(observer) = &self.observer else {
            return Vec::new();
        };
        let mut served: Vec<Operation> = observer
            .operations()
            .into_iter()
            .filter(|op| op.calls > 0)
            .collect();
        observer.reset_counts();
        served.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.operation.cmp(&b.operation)));
        served
    }

    /// The tasks the simulator keeps (vCD's task history).
    pub fn tasks_kept(&self) -> usize {
        self.target.sim.handle.state().read().tasks.len()
    }

    /// The first user of the `index`-th tenant org (0 = acme).
    pub fn tenant(&self, index: usize) -> &Tenant {
        &self.tenants[index % self.tenants.len()]
    }

    /// How many tenant orgs there are.
    pub fn org_count(&self) -> usize {
        self.tenants.len()
    }

    /// Logs every tenant in (so later timings do not include logins).
    pub async fn login_all(&self) -> Result<(), String> {
        for tenant in &self.tenants {
            self.target
                .api()
                .token(tenant)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// `POST /api/cse` for a cluster of one master and `workers` workers.
    pub async fn create(
        &self,
        tenant: &Tenant,
        cluster: &str,
        workers: u32,
    ) -> Result<Accepted, String> {
        let body = json!({
            "name": cluster,
            "node_count": workers,
            "vdc": "vdc1",
            "network": "net1",
            "enable_nfs": false,
        });
        let reply = self
            .target
            .api()
            .cse(tenant, "POST", "", Some(&body))
            .await
            .map_err(|e| format!("create {cluster}: {e}"))?;
        accepted(tenant, cluster, &reply)
    }

    /// `DELETE /api/cse/<cluster>`.
    pub async fn delete(&self, tenant: &Tenant, cluster: &str) -> Result<Accepted, String> {
        let reply = self
            .target
            .api()
            .cse(tenant, "DELETE", &format!("/{cluster}"), None)
            .await
            .map_err(|e| format!("delete {cluster}: {e}"))?;
        accepted(tenant, cluster, &reply)
    }

    /// `GET /api/cse` as `tenant`: the reply and how long it took.
    pub async fn list(&self, tenant: &Tenant) -> Result<(Reply, Duration), String> {
        let ((status, text), took) = self.timed_list(tenant, "").await?;
        Ok((Reply::from_text(status, text), took))
    }

    /// Logs `tenant` in to its session labelled `session` (see
    /// `VcdApi::labelled_session`), unless it is open already.
    pub async fn open_session(&self, tenant: &Tenant, session: &str) -> Result<(), String> {
        self.target
            .api()
            .labelled_session(tenant, session)
            .await
            .map(drop)
            .map_err(|e| format!("login: {e}"))
    }

    /// `GET /api/cse` as `tenant` in its session labelled `session` (see
    /// `VcdApi::labelled_session`; logged in before the clock starts): how
    /// many clusters it listed and how long the answer took to arrive. The
    /// list is counted after the clock stops and without building it: the
    /// harness shares the machine with what it measures.
    pub async fn list_in_session(
        &self,
        tenant: &Tenant,
        session: &str,
    ) -> Result<(usize, Duration), String> {
        let ((status, text), took) = self.timed_list(tenant, session).await?;
        if status != 200 {
            return Err(format!("list answered {status}: {text}"));
        }
        let clusters: Vec<serde::de::IgnoredAny> = serde_json::from_str(&text)
            .map_err(|e| format!("list answered 200 without a JSON array: {e}"))?;
        Ok((clusters.len(), took))
    }

    /// `GET /api/cse` as `tenant` in its session labelled `session`: the
    /// status and body text, and how long they took to arrive (the login,
    /// when the session is not open yet, is not timed).
    async fn timed_list(
        &self,
        tenant: &Tenant,
        session: &str,
    ) -> Result<((u16, String), Duration), String> {
        let api = self.target.api();
        let client = api
            .labelled_session(tenant, session)
            .await
            .map_err(|e| format!("login: {e}"))?;
        let started = Instant::now();
        let answer = api
            .cse_text(&client, "GET", "", None)
            .await
            .map_err(|e| format!("list: {e}"))?;
        Ok((answer, started.elapsed()))
    }

    /// Follows one task to its end; an error unless it succeeded.
    pub async fn finish(&self, op: &Accepted) -> Result<TaskEnd, String> {
        let end = self
            .target
            .api()
            .follow(&op.tenant, &op.task_href, Instant::now(), TASK_WAIT)
            .await
            .map_err(|e| format!("{}: {e}", op.cluster))?;
        succeeded(op, &end.state).map(|()| end)
    }

    /// Waits for every task to end by watching the simulator's own task
    /// records (no HTTP: tenants that poll as pyvcloud does, every 5 s, cost
    /// the server next to nothing, and a harness polling 200 tasks every
    /// 50 ms would spend as much of this machine's CPU as the server), then
    /// reads each task once as its tenant; the failures' texts.
    pub async fn finish_all_watched(&self, ops: &[Accepted]) -> Vec<String> {
        let state = self.target.sim.handle.state();
        let id_of = |op: &Accepted| {
            op.task_href
                .rsplit('/')
                .next()
                .and_then(|id| id.parse::<vcd_sim::state::Id>().ok())
        };
        let mut errors: Vec<String> = ops
            .iter()
            .filter(|op| id_of(op).is_none())
            .map(|op| format!("{}: no task id in {}", op.cluster, op.task_href))
            .collect();
        let mut pending: Vec<vcd_sim::state::Id> = ops.iter().filter_map(id_of).collect();
        let deadline = Instant::now() + TASK_WAIT;
        while !pending.is_empty() {
            pending.retain(|id| !state.task_status(*id).is_some_and(|s| s.is_terminal()));
            if Instant::now() >= deadline {
                errors.push(format!(
                    "{} tasks still running after {TASK_WAIT:?}",
                    pending.len()
                ));
                return errors;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let reads = join_all(ops.iter().map(|op| async move {
            let state = self
                .target
                .api()
                .task(&op.tenant, &op.task_href)
                .await
                .map_err(|e| format!("{}: {e}", op.cluster))?;
            succeeded(op, &state)
        }));
        errors.extend(reads.await.into_iter().filter_map(Result::err));
        errors
    }

    /// Follows every task; the failures' texts.
    pub async fn finish_all(&self, ops: &[Accepted]) -> Vec<String> {
        join_all(ops.iter().map(|op| self.finish(op)))
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect()
    }

    /// Creates `names` (with `workers` workers each, as `tenant`) all at once
    /// and waits for them; the refusals and failures.
    pub async fn create_wave(
        &self,
        tenant: &Tenant,
        names: &[String],
        workers: u32,
    ) -> Vec<String> {
        let replies = join_all(names.iter().map(|n| self.create(tenant, n, workers))).await;
        let (ops, mut errors) = split(replies);
        errors.extend(self.finish_all(&ops).await);
        errors
    }

    /// Deletes `names` (as `tenant`) all at once and waits; the failures.
    pub async fn delete_wave(&self, tenant: &Tenant, names: &[String]) -> Vec<String> {
        let replies = join_all(names.iter().map(|n| self.delete(tenant, n))).await;
        let (ops, mut errors) = split(replies);
        errors.extend(self.finish_all(&ops).await);
        errors
    }

    /// Stops the server and the simulator.
    pub async fn shutdown(self) {
        Box::new(self.target).shutdown().await;
    }
}

fn split(replies: Vec<Result<Accepted, String>>) -> (Vec<Accepted>, Vec<String>) {
    let mut ops = Vec::new();
    let mut errors = Vec::new();
    for reply in replies {
        match reply {
            Ok(op) => ops.push(op),
            Err(e) => errors.push(e),
        }
    }
    (ops, errors)
}

fn accepted(tenant: &Tenant, cluster: &str, reply: &Reply) -> Result<Accepted, String> {
    if !reply.accepted() {
        return Err(format!(
            "{cluster}: HTTP {}: {}",
            reply.status,
            reply.message()
        ));
    }
    let task_href = reply
        .task_href()
        .ok_or_else(|| format!("{cluster}: no task_href in {}", reply.body))?;
    Ok(Accepted {
        tenant: tenant.clone(),
        cluster: cluster.to_owned(),
        task_href,
    })
}

/// `prefix-1` … `prefix-n`.
pub fn names(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}-{i}")).collect()
}

/// `Ok` when `op`'s task ended in success, else the text naming how it ended.
fn succeeded(op: &Accepted, state: &TaskState) -> Result<(), String> {
    if state.status == "success" {
        Ok(())
    } else {
        Err(format!(
            "{}: task ended {}: {}",
            op.cluster,
            state.status,
            state.error_message.clone().unwrap_or_default()
        ))
    }
}
