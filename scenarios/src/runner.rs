//! Replays a scenario's steps against a target, one after the other, and
//! records each step's result and time. A failed step ends the replay (later
//! steps build on it); the steps after it are reported as not run.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use cse_core::api::{CreateClusterBody, CreateNodesBody, DeleteNodesBody};
use cse_core::naming::NodeType;
use serde_json::{Value, json};

use crate::api::{Reply, TaskEnd};
use crate::format::{
    Action, AddNodesStep, ClusterCheck, ClustersCheck, CreateClusterStep, DeleteClusterStep,
    DeleteNodesStep, ExpectStep, Outcome, Scenario, SystemAction, SystemStep, TaskCheck,
    TaskResult, Tenant, WaitStep,
};
use crate::report::{ScenarioReport, StepReport, StepStatus, millis};
use crate::targets::{Target, sysadmin};

/// A task a step started.
#[derive(Debug, Clone)]
struct Tracked {
    /// What it is for (cluster name).
    subject: String,
    href: String,
    tenant: Tenant,
    started: Instant,
    end: Option<TaskEnd>,
}

/// Replays one scenario.
pub struct Runner<'a> {
    scenario: &'a Scenario,
    tenants: BTreeMap<String, Tenant>,
    target: &'a mut dyn Target,
    tasks: HashMap<String, Vec<usize>>,
    tracked: Vec<Tracked>,
}

type StepResult = Result<String, String>;

impl<'a> Runner<'a> {
    /// `tenants` overrides the scenario's (live credentials).
    pub fn new(
        scenario: &'a Scenario,
        target: &'a mut dyn Target,
        tenants: &BTreeMap<String, Tenant>,
    ) -> Runner<'a> {
        let mut all = target.tenants();
        all.extend(scenario.tenants.iter().map(|(k, v)| (k.clone(), v.clone())));
        all.extend(tenants.iter().map(|(k, v)| (k.clone(), v.clone())));
        Runner {
            scenario,
            tenants: all,
            target,
            tasks: HashMap::new(),
            tracked: Vec::new(),
        }
    }

    /// Runs every step; the report says what passed.
    pub async fn run(mut self, file: &str) -> ScenarioReport {
        let started = Instant::now();
        // With faults ahead, the default tenant logs in now: on vCD 10.x a
        // login reads `GET /api/session`, and a fault meant for the steps'
        // own requests (`{vcd: {status: 503, method: GET}}`) must not meet
        // the runner's login instead. A failure here is left to the step.
        if self
            .scenario
            .steps
            .iter()
            .any(|s| matches!(s.action, Action::Fault(_)))
            && let Ok(tenant) = self.tenant(&None)
        {
            let _ = self.target.api().session(&tenant).await;
        }
        let mut steps = Vec::new();
        let mut failed = false;
        for (index, step) in self.scenario.steps.iter().enumerate() {
            let number = index + 1;
            let kind = step.action.kind().to_owned();
            let label = step.label.clone().unwrap_or_default();
            if failed {
                steps.push(StepReport {
                    number,
                    kind,
                    label,
                    status: StepStatus::NotRun,
                    millis: 0,
                    detail: String::new(),
                });
                continue;
            }
            let step_started = Instant::now();
            tracing::info!(step = number, %kind, %label, "step starts");
            let result = self.step(&step.action).await;
            let elapsed = millis(step_started.elapsed());
            let (status, detail) = match result {
                Ok(detail) => (StepStatus::Passed, detail),
                Err(detail) => {
                    failed = true;
                    (StepStatus::Failed, detail)
                }
            };
            tracing::info!(step = number, %kind, status = status.as_str(), %detail, "step ends");
            steps.push(StepReport {
                number,
                kind,
                label,
                status,
                millis: elapsed,
                detail,
            });
        }
        ScenarioReport {
            scenario: self.scenario.name.clone(),
            file: file.to_owned(),
            target: self.target.kind(),
            passed: !failed,
            millis: millis(started.elapsed()),
            steps,
            error: None,
        }
    }

    async fn step(&mut self, action: &Action) -> StepResult {
        match action {
            Action::Install(step) => {
                self.install(step.update, step.template.as_deref(), step.check)
                    .await
            }
            Action::CreateCluster(step) => self.create_cluster(step).await,
            Action::AddNodes(step) => self.add_nodes(step).await,
            Action::DeleteNodes(step) => self.delete_nodes(step).await,
            Action::DeleteCluster(step) => self.delete_cluster(step).await,
            Action::ClusterConfig(step) => {
                let tenant = self.tenant(&step.tenant)?;
                let reply = self
                    .call(&tenant, "GET", &format!("/{}/config", step.cluster), None)
                    .await?;
                if step.expect.status.is_some() || !reply.accepted() {
                    return check_refusal(&reply, &step.expect).map(|()| refusal_text(&reply));
                }
                let text = match &reply.body {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let missing: Vec<&String> = step
                    .contains
                    .iter()
                    .filter(|t| !text.contains(t.as_str()))
                    .collect();
                if missing.is_empty() {
                    Ok(format!(
                        "kubeconfig of {}: {} bytes",
                        step.cluster,
                        text.len()
                    ))
                } else {
                    Err(format!("the kubeconfig lacks {missing:?}"))
                }
            }
            Action::System(step) => self.system(step).await,
            Action::Fault(fault) => self.target.fault(fault).await,
            Action::Clock(clock) => self.target.clock(clock).await,
            Action::Sim(step) => self.target.sim(step).await,
            Action::Wait(step) => self.wait(step).await,
            Action::Expect(step) => self.expect(step).await,
        }
    }

    fn tenant(&self, name: &Option<String>) -> Result<Tenant, String> {
        let name = name.as_deref().unwrap_or(&self.scenario.defaults.tenant);
        self.tenants
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no credentials for tenant `{name}`"))
    }

    async fn call(
        &self,
        tenant: &Tenant,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        self.target
            .api()
            .cse(tenant, method, path, body)
            .await
            .map_err(|e| e.to_string())
    }

    async fn install(&mut self, update: bool, template: Option<&str>, check: bool) -> StepResult {
        let mut args = vec!["install", "--yes"];
        if update {
            args.push("--update");
        }
        if let Some(template) = template {
            args.extend(["--template", template]);
        }
        let (code, output) = self.target.cse(&args).await;
        if code != 0 {
            return Err(format!(
                "cse install exited with {code}: {}",
                last_lines(&output)
            ));
        }
        if check {
            let (code, output) = self.target.cse(&["check", "-i"]).await;
            if code != 0 {
                return Err(format!(
                    "cse check -i after install: {}",
                    last_lines(&output)
                ));
            }
        }
        self.target.installed().await?;
        Ok(last_lines(&output))
    }

    fn vdc(&self, vdc: &Option<String>) -> Option<String> {
        vdc.clone().or_else(|| self.scenario.defaults.vdc.clone())
    }

    fn network(&self, network: &Option<String>) -> Option<String> {
        network
            .clone()
            .or_else(|| self.scenario.defaults.network.clone())
    }

    async fn create_cluster(&mut self, step: &CreateClusterStep) -> StepResult {
        let tenant = self.tenant(&step.tenant)?;
        let vdc = self
            .vdc(&step.vdc)
            .ok_or("create_cluster needs `vdc` (or defaults.vdc)")?;
        let network = self
            .network(&step.network)
            .ok_or("create_cluster needs `network` (or defaults.network)")?;
        let ssh_key = read_key(&step.ssh_key)?;
        let mut requests = Vec::new();
        for i in 1..=step.count {
            let name = step.name.replace("{i}", &i.to_string());
            let body = CreateClusterBody {
                name: Some(name.clone()),
                node_count: Some(i64::from(step.nodes)),
                vdc: Some(vdc.clone()),
                cpu: step.cpu.map(i64::from),
                memory: step.memory.map(i64::from),
                network: Some(network.clone()),
                storage_profile: step.storage_profile.clone(),
                ssh_key: ssh_key.clone(),
                template: step.template.clone(),
                enable_nfs: Some(step.nfs),
                disable_rollback: Some(step.disable_rollback),
            };
            requests.push((name, "POST", String::new(), to_json(&body)));
        }
        self.operations(&tenant, requests, step.wait, &step.id, &step.expect)
            .await
    }

    async fn add_nodes(&mut self, step: &AddNodesStep) -> StepResult {
        let tenant = self.tenant(&step.tenant)?;
        let network = self
            .network(&step.network)
            .ok_or("add_nodes needs `network` (or defaults.network)")?;
        let body = CreateNodesBody {
            name: Some(step.cluster.clone()),
            node_count: Some(i64::from(step.count)),
            vdc: self.vdc(&step.vdc),
            cpu: step.cpu.map(i64::from),
            memory: step.memory.map(i64::from),
            network: Some(network),
            storage_profile: step.storage_profile.clone(),
            ssh_key: read_key(&step.ssh_key)?,
            template: step.template.clone(),
            node_type: Some(step.node_type.clone()),
            disable_rollback: Some(step.disable_rollback),
        };
        let path = format!("/{}/node", step.cluster);
        let requests = vec![(step.cluster.clone(), "POST", path, to_json(&body))];
        self.operations(&tenant, requests, step.wait, &step.id, &step.expect)
            .await
    }

    async fn delete_nodes(&mut self, step: &DeleteNodesStep) -> StepResult {
        let tenant = self.tenant(&step.tenant)?;
        let names = match step.count {
            Some(count) => {
                let info = self.info(&tenant, &step.cluster).await?;
                let workers = node_names(&info, "nodes");
                if workers.len() < count as usize {
                    return Err(format!(
                        "cluster {} has {} workers, cannot delete {count}",
                        step.cluster,
                        workers.len()
                    ));
                }
                workers[workers.len() - count as usize..].to_vec()
            }
            None => step.nodes.clone(),
        };
        let body = DeleteNodesBody {
            name: Some(step.cluster.clone()),
            vdc: self.vdc(&step.vdc),
            nodes: Some(names.clone()),
            force: Some(step.force),
        };
        let path = format!("/{}/node", step.cluster);
        let requests = vec![(step.cluster.clone(), "DELETE", path, to_json(&body))];
        let detail = self
            .operations(&tenant, requests, step.wait, &step.id, &step.expect)
            .await?;
        Ok(format!("{} ({})", detail, names.join(", ")))
    }

    async fn delete_cluster(&mut self, step: &DeleteClusterStep) -> StepResult {
        let tenant = self.tenant(&step.tenant)?;
        let requests = (1..=step.count)
            .map(|i| {
                let name = step.cluster.replace("{i}", &i.to_string());
                let path = format!("/{name}");
                (name, "DELETE", path, Value::Null)
            })
            .collect();
        self.operations(&tenant, requests, step.wait, &step.id, &step.expect)
            .await
    }

    /// Sends the requests at once, checks their replies against `expect`,
    /// tracks the tasks under `id` and, with `wait`, follows them to the end.
    async fn operations(
        &mut self,
        tenant: &Tenant,
        requests: Vec<(String, &'static str, String, Value)>,
        wait: bool,
        id: &Option<String>,
        expect: &Outcome,
    ) -> StepResult {
        let started = Instant::now();
        let api = self.target.api();
        let sends = requests.iter().map(|(_, method, path, body)| {
            let body = (!body.is_null()).then_some(body);
            api.cse(tenant, method, path, body)
        });
        let replies = futures::future::join_all(sends).await;
        let mut new_tasks = Vec::new();
        let mut refusals = Vec::new();
        for ((subject, ..), reply) in requests.iter().zip(replies) {
            let reply = reply.map_err(|e| format!("{subject}: {e}"))?;
            if expect.accepted.is_some() {
                if !reply.accepted() {
                    check_split_refusal(&reply, expect).map_err(|e| format!("{subject}: {e}"))?;
                    refusals.push(format!("{subject}: {}", refusal_text(&reply)));
                    continue;
                }
            } else if expect.status.is_some_and(|s| !(200..300).contains(&s)) || !reply.accepted() {
                check_refusal(&reply, expect).map_err(|e| format!("{subject}: {e}"))?;
                refusals.push(format!("{subject}: {}", refusal_text(&reply)));
                continue;
            }
            if let Some(status) = expect.status.filter(|_| expect.accepted.is_none())
                && status != reply.status
            {
                return Err(format!(
                    "{subject}: HTTP {}, expected {status}",
                    reply.status
                ));
            }
            let href = reply
                .task_href()
                .ok_or_else(|| format!("{subject}: no task_href in {}", reply.body))?;
            self.tracked.push(Tracked {
                subject: subject.clone(),
                href,
                tenant: tenant.clone(),
                started,
                end: None,
            });
            new_tasks.push(self.tracked.len() - 1);
        }
        if let Some(id) = id {
            self.tasks.insert(id.clone(), new_tasks.clone());
        }
        if let Some(accepted) = expect.accepted {
            if new_tasks.len() != accepted as usize {
                return Err(format!(
                    "{} request(s) accepted, expected {accepted}; refused: {}",
                    new_tasks.len(),
                    refusals.join("; ")
                ));
            }
        } else if !refusals.is_empty() {
            return Ok(refusals.join("; "));
        }
        let refused = if refusals.is_empty() {
            String::new()
        } else {
            format!(" ({} refused: {})", refusals.len(), refusals[0])
        };
        if !wait {
            return Ok(format!("{} task(s) started{refused}", new_tasks.len()));
        }
        let within = expect.within.unwrap_or(self.scenario.defaults.task_timeout);
        self.follow(&new_tasks, within).await?;
        let check = TaskCheck {
            id: String::new(),
            result: Some(expect.task.unwrap_or(TaskResult::Success)),
            error_contains: expect.task_error_contains.clone(),
            within: expect.within,
        };
        let mut lines = Vec::new();
        for index in new_tasks {
            lines.push(check_task(&self.tracked[index], &check)?);
        }
        Ok(format!("{}{refused}", lines.join("; ")))
    }

    /// Follows tracked tasks to their end, all at once.
    async fn follow(&mut self, indexes: &[usize], within: Duration) -> Result<(), String> {
        let api = self.target.api();
        let pending: Vec<usize> = indexes
            .iter()
            .copied()
            .filter(|i| self.tracked[*i].end.is_none())
            .collect();
        let follows = pending.iter().map(|i| {
            let t = &self.tracked[*i];
            api.follow(&t.tenant, &t.href, t.started, within)
        });
        let ends = futures::future::join_all(follows).await;
        for (index, end) in pending.into_iter().zip(ends) {
            let end = end.map_err(|e| format!("{}: {e}", self.tracked[index].subject))?;
            self.tracked[index].end = Some(end);
        }
        Ok(())
    }

    fn task_indexes(&self, ids: &[String]) -> Vec<usize> {
        if ids.iter().any(|id| id == "all") {
            return (0..self.tracked.len()).collect();
        }
        ids.iter()
            .flat_map(|id| self.tasks.get(id).cloned().unwrap_or_default())
            .collect()
    }

    async fn system(&mut self, step: &SystemStep) -> StepResult {
        let tenant = match &step.tenant {
            Some(_) => self.tenant(&step.tenant)?,
            None => sysadmin(self.target.context()),
        };
        let (method, body) = match step.action {
            SystemAction::Info => ("GET", None),
            SystemAction::Enable => ("PUT", Some(json!({"enabled": true}))),
            SystemAction::Disable => ("PUT", Some(json!({"enabled": false}))),
            SystemAction::Stop => ("PUT", Some(json!({"stopped": true}))),
        };
        let reply = self.call(&tenant, method, "/system", body.as_ref()).await?;
        if step.expect.status.is_some_and(|s| !(200..300).contains(&s)) || !reply.accepted() {
            return check_refusal(&reply, &step.expect).map(|()| refusal_text(&reply));
        }
        if let Some(status) = &step.status {
            let actual = reply
                .body
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("");
            if actual != status {
                return Err(format!("system status is `{actual}`, expected `{status}`"));
            }
        }
        Ok(match step.action {
            SystemAction::Info => format!(
                "status {}, requests in progress {}",
                reply
                    .body
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("?"),
                reply
                    .body
                    .get("requests_in_progress")
                    .map(Value::to_string)
                    .unwrap_or_default()
            ),
            _ => reply.message(),
        })
    }

    async fn wait(&mut self, step: &WaitStep) -> StepResult {
        let mut done = Vec::new();
        if let Some(pause) = step.pause {
            tokio::time::sleep(pause).await;
            done.push(format!("paused {pause:?}"));
        }
        let within = step.within.unwrap_or(self.scenario.defaults.task_timeout);
        if !step.tasks.is_empty() {
            let indexes = self.task_indexes(&step.tasks);
            self.follow(&indexes, within).await?;
            let summary: Vec<String> = indexes
                .iter()
                .map(|i| {
                    let t = &self.tracked[*i];
                    format!(
                        "{}: {}",
                        t.subject,
                        t.end.as_ref().map_or("?", |e| e.state.status.as_str())
                    )
                })
                .collect();
            done.push(summary.join(", "));
        }
        if step.server_exit {
            done.push(self.target.wait_server_exit(within).await?);
        }
        Ok(done.join("; "))
    }

    async fn expect(&mut self, step: &ExpectStep) -> StepResult {
        let Some(within) = step.within else {
            return self.expect_once(step).await;
        };
        let deadline = Instant::now() + within;
        let mut attempts = 1;
        loop {
            match self.expect_once(step).await {
                Ok(passed) => return Ok(format!("{passed} (attempt {attempts})")),
                Err(failure) if Instant::now() >= deadline => {
                    return Err(format!("still after {within:?}: {failure}"));
                }
                Err(_) => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    async fn expect_once(&mut self, step: &ExpectStep) -> StepResult {
        let mut passed = Vec::new();
        if let Some(check) = &step.clusters {
            passed.push(self.expect_clusters(check).await?);
        }
        if let Some(check) = &step.cluster {
            passed.push(self.expect_cluster(check).await?);
        }
        for check in &step.tasks {
            let indexes = self.task_indexes(std::slice::from_ref(&check.id));
            if indexes.is_empty() {
                return Err(format!("no task was started under id `{}`", check.id));
            }
            for index in indexes {
                if self.tracked[index].end.is_none() {
                    return Err(format!(
                        "task of {} has not been waited for; add a `wait` step",
                        self.tracked[index].subject
                    ));
                }
                passed.push(check_task(&self.tracked[index], check)?);
            }
        }
        if let Some(wanted) = step.server {
            match self.target.server_state() {
                Some(state) if state == wanted => passed.push(format!("server {wanted:?}")),
                Some(state) => return Err(format!("server is {state:?}, expected {wanted:?}")),
                None => return Err("the server's state is not observable on this target".into()),
            }
        }
        if let Some(valid) = step.installation_valid {
            let (code, output) = self.target.cse(&["check", "-i"]).await;
            if (code == 0) != valid {
                return Err(format!(
                    "cse check -i exited with {code}, expected the installation to be {}: {}",
                    if valid { "valid" } else { "invalid" },
                    last_lines(&output)
                ));
            }
            passed.push(format!(
                "installation {}",
                if valid { "valid" } else { "invalid" }
            ));
        }
        Ok(passed.join("; "))
    }

    async fn expect_clusters(&self, check: &ClustersCheck) -> StepResult {
        let tenant = self.tenant(&check.tenant)?;
        let reply = self.call(&tenant, "GET", "", None).await?;
        if !reply.accepted() {
            return Err(format!("cluster list refused: {}", refusal_text(&reply)));
        }
        let mut names: Vec<String> = reply
            .body
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        if let Some(count) = check.count
            && names.len() != count
        {
            return Err(format!(
                "{} sees {} clusters {names:?}, expected {count}",
                tenant.user,
                names.len()
            ));
        }
        if let Some(expected) = &check.names {
            let mut expected = expected.clone();
            expected.sort();
            if names != expected {
                return Err(format!(
                    "{} sees clusters {names:?}, expected {expected:?}",
                    tenant.user
                ));
            }
        }
        Ok(format!("{} sees {} cluster(s)", tenant.user, names.len()))
    }

    async fn info(&self, tenant: &Tenant, cluster: &str) -> Result<Value, String> {
        let reply = self
            .call(tenant, "GET", &format!("/{cluster}/info"), None)
            .await?;
        if reply.accepted() {
            Ok(reply.body)
        } else {
            Err(format!("cluster info {cluster}: {}", refusal_text(&reply)))
        }
    }

    async fn expect_cluster(&self, check: &ClusterCheck) -> StepResult {
        let tenant = self.tenant(&check.tenant)?;
        if check.absent {
            let reply = self
                .call(&tenant, "GET", &format!("/{}/info", check.name), None)
                .await?;
            // CSE 1.2.x answers an unknown cluster with 500 `Cluster '<name>' not found.`
            return if !reply.accepted() && reply.message().contains("not found") {
                Ok(format!("{} absent", check.name))
            } else {
                Err(format!(
                    "cluster {} should not exist; info answered HTTP {} {}",
                    check.name,
                    reply.status,
                    reply.message()
                ))
            };
        }
        let info = self.info(&tenant, &check.name).await?;
        let masters = node_names(&info, "master_nodes");
        let workers = node_names(&info, "nodes");
        let nfs = node_names(&info, "nfs_nodes");
        for (what, wanted, actual) in [
            ("masters", check.masters, &masters),
            ("workers", check.workers, &workers),
            ("NFS servers", check.nfs, &nfs),
        ] {
            if let Some(wanted) = wanted
                && wanted != actual.len()
            {
                return Err(format!(
                    "cluster {} has {} {what} {actual:?}, expected {wanted}",
                    check.name,
                    actual.len()
                ));
            }
        }
        if check.addresses {
            for list in ["master_nodes", "nodes", "nfs_nodes"] {
                for node in info
                    .get(list)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let ip = node.get("ipAddress").and_then(Value::as_str).unwrap_or("");
                    if ip.parse::<std::net::IpAddr>().is_err() {
                        return Err(format!("node {node} has no IP address"));
                    }
                }
            }
        }
        let mut detail = format!(
            "{}: {} master(s), {} worker(s), {} NFS",
            check.name,
            masters.len(),
            workers.len(),
            nfs.len()
        );
        if let Some(kube) = &check.kubernetes {
            let nodes = crate::kube::nodes(self.target.context(), &check.name).await?;
            if let Some(count) = kube.nodes
                && nodes.len() != count
            {
                return Err(format!(
                    "kubectl get nodes shows {} nodes {:?}, expected {count}",
                    nodes.len(),
                    nodes.iter().map(|n| &n.name).collect::<Vec<_>>()
                ));
            }
            if kube.all_ready
                && let Some(node) = nodes.iter().find(|n| !n.ready)
            {
                return Err(format!("Kubernetes node {} is not Ready", node.name));
            }
            if kube.matches_vms {
                let mut expected: Vec<&String> = masters.iter().chain(&workers).collect();
                expected.sort();
                let mut registered: Vec<&String> = nodes.iter().map(|n| &n.name).collect();
                registered.sort();
                if expected != registered {
                    return Err(format!(
                        "Kubernetes nodes {registered:?} differ from the cluster's VMs {expected:?}"
                    ));
                }
            }
            detail.push_str(&format!("; Kubernetes: {} node(s) Ready", nodes.len()));
        }
        Ok(detail)
    }
}

fn check_task(task: &Tracked, check: &TaskCheck) -> Result<String, String> {
    let Some(end) = &task.end else {
        return Err(format!("task of {} has not ended", task.subject));
    };
    let state = &end.state;
    let result = if state.status == "success" {
        TaskResult::Success
    } else {
        TaskResult::Error
    };
    let message = state.error_message.clone().unwrap_or_default();
    if let Some(wanted) = check.result
        && wanted != result
    {
        return Err(format!(
            "task of {} ended {} ({}), expected {wanted}",
            task.subject,
            state.status,
            if message.is_empty() {
                "no message"
            } else {
                &message
            }
        ));
    }
    if let Some(text) = &check.error_contains
        && !message.contains(text.as_str())
    {
        return Err(format!(
            "task of {}: error `{message}` does not contain `{text}`",
            task.subject
        ));
    }
    if let Some(within) = check.within
        && end.took > within
    {
        return Err(format!(
            "task of {} took {:?}, more than {within:?}",
            task.subject, end.took
        ));
    }
    Ok(format!(
        "{}: task {} in {}",
        task.subject,
        state.status,
        crate::report::human(millis(end.took))
    ))
}

/// A refused request against `expect`: the status if given (else any
/// non-2xx is a failure unless a status was expected) and the message.
fn check_refusal(reply: &Reply, expect: &Outcome) -> Result<(), String> {
    match expect.status {
        Some(status) if status != reply.status => {
            return Err(format!(
                "HTTP {} ({}), expected {status}",
                reply.status,
                reply.message()
            ));
        }
        None if !reply.accepted() => {
            return Err(format!(
                "refused: HTTP {} {}",
                reply.status,
                reply.message()
            ));
        }
        _ => {}
    }
    check_message(reply, expect)
}

/// A refused request of a step with `expect.accepted`: `status` and
/// `error_contains`, when given, describe the refusals.
fn check_split_refusal(reply: &Reply, expect: &Outcome) -> Result<(), String> {
    if let Some(status) = expect.status
        && status != reply.status
    {
        return Err(format!(
            "refused with HTTP {} ({}), expected {status}",
            reply.status,
            reply.message()
        ));
    }
    check_message(reply, expect)
}

/// The refusal's message contains `expect.error_contains` (when given).
fn check_message(reply: &Reply, expect: &Outcome) -> Result<(), String> {
    match &expect.error_contains {
        Some(text) if !reply.message().contains(text.as_str()) => Err(format!(
            "message `{}` does not contain `{text}`",
            reply.message()
        )),
        _ => Ok(()),
    }
}

fn refusal_text(reply: &Reply) -> String {
    format!("HTTP {} {}", reply.status, reply.message())
}

fn node_names(info: &Value, list: &str) -> Vec<String> {
    let mut names: Vec<String> = info
        .get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|n| n.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    // Keep the API's order, but make sure only this kind of node is there.
    names.retain(|n| {
        NodeType::classify(n).is_some_and(|t| match list {
            "master_nodes" => t == NodeType::Master,
            "nodes" => t == NodeType::Worker,
            _ => t == NodeType::Nfs,
        })
    });
    names
}

fn to_json<T: serde::Serialize>(body: &T) -> Value {
    serde_json::to_value(body).unwrap_or(Value::Null)
}

fn read_key(path: &Option<String>) -> Result<Option<String>, String> {
    path.as_ref()
        .map(|p| {
            std::fs::read_to_string(p)
                .map(|k| k.trim_end().to_owned())
                .map_err(|e| format!("cannot read ssh key {p}: {e}"))
        })
        .transpose()
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// Whether a scenario can run on `target`, with the reason when not.
pub fn runnable(scenario: &Scenario, target: crate::format::TargetKind) -> Result<(), String> {
    runnable_with(scenario, target, false)
}

/// [`runnable`], where `sim_control` says whether a live target is a
/// `vcd-sim serve` with its control API (which takes `fault:` steps).
pub fn runnable_with(
    scenario: &Scenario,
    target: crate::format::TargetKind,
    sim_control: bool,
) -> Result<(), String> {
    if !scenario.targets.contains(&target) {
        return Err(format!(
            "scenario `{}` runs on {:?} only, not on {target}",
            scenario.name, scenario.targets
        ));
    }
    let live = target == crate::format::TargetKind::Live;
    if live && scenario.watches_server_process() {
        return Err(format!(
            "scenario `{}` watches the server process; it needs --target sim",
            scenario.name
        ));
    }
    if live && !sim_control && scenario.needs_simulator() {
        return Err(format!(
            "scenario `{}` injects faults or drives the simulator; it needs --target sim, or --target live against a vcd-sim serve --control-api (--sim-info)",
            scenario.name
        ));
    }
    Ok(())
}
