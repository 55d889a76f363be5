//! Tasks: every long operation creates one that moves queued → running →
//! success/error on the simulator's clock (all at once on an instant clock,
//! before the response is sent). Extensions create and update their own tasks
//! through an org's tasks list (spec §8.3).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::*;

/// vCD's task lifetime: `expiryTime` is the start plus 90 days.
pub(crate) const DEFAULT_TASK_LIFETIME: chrono::Duration = chrono::Duration::days(90);

/// Ended tasks past their expiry are looked for once per this many new tasks
/// (a pass reads every task, so it is not made at every creation).
const TASKS_PER_EXPIRY_PASS: u32 = 256;

/// What starts a task.
pub(crate) struct TaskSpec {
    pub org: Id,
    pub user: Id,
    pub operation: String,
    pub operation_name: &'static str,
    pub owner: EntityRef,
    pub owner_name: String,
}

/// The effect a task applies when its simulated duration has passed.
pub(crate) type Work = Box<dyn FnOnce(&Sim) -> SimResult<()> + Send + 'static>;

/// An injected failure: the next `times` tasks with this `operationName`
/// end in `error` with `message` instead of doing their work (a template
/// they were creating is left with status -1, as vCD leaves a failed one).
#[derive(Debug, Clone)]
pub(crate) struct TaskFault {
    pub operation_name: String,
    pub message: String,
    pub times: usize,
}

/// An injected hold: the next `times` tasks with this `operationName` stay
/// `running` without doing their work until they are canceled, so a client's
/// cancel can be exercised on any clock.
#[derive(Debug, Clone)]
pub(crate) struct TaskHold {
    pub operation_name: String,
    pub times: usize,
}

/// A created task and what it still has to do.
pub(crate) struct PendingTask {
    pub id: Id,
    pub work: Work,
    pub duration: Duration,
}

/// A task as an extension writes it (POST to a tasks list, PUT to the task).
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    /// New status (`None`: queued on create, unchanged on update).
    pub status: Option<TaskStatus>,
    /// Human-readable description of the operation.
    pub operation: Option<String>,
    /// Operation name (`clusterCreate`, ...).
    pub operation_name: Option<String>,
    /// Namespace of the operation (the extension's).
    pub service_namespace: Option<String>,
    /// Task name (default `task`).
    pub name: Option<String>,
    /// Owner (href, name, type) written verbatim.
    pub owner: Option<(String, String, String)>,
    /// User (href, name) the task runs as (default: the caller).
    pub user: Option<(String, String)>,
    /// The error of a failed task.
    pub error: Option<ErrorInfo>,
    /// Free text (`Task/Details`).
    pub details: Option<String>,
    /// Progress 0..=100.
    pub progress: Option<u32>,
}

impl Inner {
    pub(crate) fn new_task(&mut self, spec: TaskSpec, instant: bool) -> Id {
        let id = self.new_id();
        let now = Utc::now();
        let user_name = self.user_name(spec.user);
        self.tasks.insert(
            id,
            Task {
                id,
                org: spec.org,
                name: "task".into(),
                operation: spec.operation,
                operation_name: spec.operation_name.into(),
                service_namespace: "com.vmware.vcloud".into(),
                status: if instant {
                    TaskStatus::Running
                } else {
                    TaskStatus::Queued
                },
                owner: TaskOwner::Entity {
                    entity: spec.owner,
                    name: spec.owner_name,
                },
                user_ref: EntityRef::User(spec.user).urn(),
                user_name,
                start: now,
                end: None,
                expiry: now + self.task_lifetime,
                error: None,
                progress: None,
                details: String::new(),
                cancel_requested: false,
                external: false,
                terminal_updates: 0,
            },
        );
        self.task_order.push(id);
        self.index.task_started(spec.owner, id);
        self.task_created(now);
        id
    }

    /// Counts a new task; every [`TASKS_PER_EXPIRY_PASS`] tasks, destroys the
    /// ended tasks past their `expiryTime`, as vCD does: reading one then
    /// answers 403 like any task that does not exist. Running tasks stay.
    pub(crate) fn task_created(&mut self, now: chrono::DateTime<Utc>) {
        self.tasks_since_expiry += 1;
        if self.tasks_since_expiry < TASKS_PER_EXPIRY_PASS {
            return;
        }
        self.tasks_since_expiry = 0;
        let before = self.tasks.len();
        self.tasks
            .retain(|_, task| !(task.status.is_terminal() && task.expiry <= now));
        if self.tasks.len() < before {
            let tasks = &self.tasks;
            self.task_order.retain(|id| tasks.contains_key(id));
        }
    }

    /// The tasks still running on `entity`, oldest first.
    fn running_on(&self, entity: EntityRef) -> impl Iterator<Item = &Task> {
        let candidates = self.index.tasks_of(entity);
        self.work.tasks(candidates.len());
        candidates
            .iter()
            .filter_map(|id| self.tasks.get(id))
            .filter(move |t| {
                !t.status.is_terminal()
                    && matches!(&t.owner, TaskOwner::Entity { entity: e, .. } if *e == entity)
            })
    }

    /// Whether a running task is working on this entity.
    pub fn is_busy(&self, entity: EntityRef) -> bool {
        self.running_on(entity).next().is_some()
    }

    /// Running tasks of an entity (its `Tasks` element).
    pub fn running_tasks(&self, entity: EntityRef) -> Vec<Task> {
        self.running_on(entity).cloned().collect()
    }

    /// The message of a fault that fails task `id` now (and uses it up); a
    /// template the task was creating is marked failed (status -1).
    fn take_task_fault(&mut self, id: Id) -> Option<String> {
        let (operation_name, owner) = {
            let t = self.tasks.get(&id)?;
            (t.operation_name.clone(), t.owner.clone())
        };
        let i = self
            .task_faults
            .iter()
            .position(|f| f.operation_name == operation_name && f.times > 0)?;
        let fault = &mut self.task_faults[i];
        fault.times -= 1;
        let message = fault.message.clone();
        if fault.times == 0 {
            self.task_faults.remove(i);
        }
        if let TaskOwner::Entity {
            entity: EntityRef::Template(t),
            ..
        } = owner
            && let Some(t) = self.templates.get_mut(&t)
        {
            t.status = -1;
        }
        Some(message)
    }

    /// Whether task `id` is held (and uses the hold up): it is marked
    /// running and its work is dropped.
    fn take_task_hold(&mut self, id: Id) -> bool {
        let Some(operation_name) = self.tasks.get(&id).map(|t| t.operation_name.clone()) else {
            return false;
        };
        let Some(i) = self
            .task_holds
            .iter()
            .position(|h| h.operation_name == operation_name && h.times > 0)
        else {
            return false;
        };
        self.task_holds[i].times -= 1;
        if self.task_holds[i].times == 0 {
            self.task_holds.remove(i);
        }
        if let Some(t) = self.tasks.get_mut(&id) {
            t.status = TaskStatus::Running;
        }
        true
    }

    pub(crate) fn finish_task(&mut self, id: Id, result: SimResult<()>) {
        if let Some(TaskOwner::Entity { entity, .. }) = self.tasks.get(&id).map(|t| &t.owner) {
            let entity = *entity;
            self.index.task_ended(entity, id);
        }
        if let Some(t) = self.tasks.get_mut(&id) {
            match result {
                Ok(()) => {
                    t.status = TaskStatus::Success;
                    t.progress = Some(100);
                }
                Err(e) => {
                    t.status = TaskStatus::Error;
                    t.error = Some(e.to_info());
                }
            }
            t.end = Some(Utc::now());
        }
    }

    pub(crate) fn ensure_not_busy(&self, entity: EntityRef, name: &str) -> SimResult<()> {
        if self.is_busy(entity) {
            return Err(SimError::Busy(format!(
                "The requested operation could not be executed since {} \"{name}\" is busy.",
                match entity {
                    EntityRef::VApp(_) => "vApp",
                    EntityRef::Vm(_) => "VM",
                    _ => "entity",
                }
            )));
        }
        Ok(())
    }
}

impl Sim {
    /// Runs a task's work: inline on an instant clock, else on the runtime
    /// after the task's simulated duration.
    /// Makes the next `times` tasks whose `operationName` is `operation_name`
    /// (e.g. `vdcCaptureTemplate`) end in `error` with `message`, without doing
    /// their work. A fault injection for clients' error paths.
    pub fn fail_tasks(&self, operation_name: &str, message: &str, times: usize) {
        self.inner.write().task_faults.push(TaskFault {
            operation_name: operation_name.to_owned(),
            message: message.to_owned(),
            times,
        });
    }

    /// Makes the next `times` tasks whose `operationName` is `operation_name`
    /// stay `running` until they are canceled (`POST /api/task/{id}/action/cancel`);
    /// their work is never done. A fault injection for clients' cancel paths.
    pub fn hold_tasks(&self, operation_name: &str, times: usize) {
        self.inner.write().task_holds.push(TaskHold {
            operation_name: operation_name.to_owned(),
            times,
        });
    }

    /// Runs a task's work, unless it was canceled meanwhile, is held, or a
    /// [`TaskFault`] fails it first.
    fn finish_pending(&self, id: Id, work: Work) {
        {
            let mut g = self.inner.write();
            let ended = g.tasks.get(&id).is_none_or(|t| t.status.is_terminal());
            if ended || g.take_task_hold(id) {
                return;
            }
        }
        let fault = self.inner.write().take_task_fault(id);
        let result = match fault {
            Some(message) => Err(SimError::Internal(message)),
            None => work(self),
        };
        self.inner.write().finish_task(id, result);
    }

    pub(crate) fn run_task(self: &Arc<Self>, pending: PendingTask) {
        let clock = self.config.clock.clone();
        if clock.is_instant() || tokio::runtime::Handle::try_current().is_err() {
            self.finish_pending(pending.id, pending.work);
            return;
        }
        let sim = Arc::clone(self);
        tokio::spawn(async move {
            clock.sleep(Duration::from_millis(500)).await;
            if let Some(t) = sim.inner.write().tasks.get_mut(&pending.id) {
                t.status = TaskStatus::Running;
            }
            clock.sleep(pending.duration).await;
            sim.finish_pending(pending.id, pending.work);
        });
    }

    /// `GET /api/task/{id}`: tasks of the caller's org (or any, for system administrators).
    pub fn task(&self, caller: &Caller, id: Id) -> SimResult<Task> {
        let g = self.inner.read();
        match g.tasks.get(&id) {
            Some(t) if caller.can_see_org(t.org) => Ok(t.clone()),
            _ => Err(SimError::no_access(&EntityRef::Task(id))),
        }
    }

    /// Tasks of an org, newest last.
    pub fn org_tasks(&self, caller: &Caller, org: Id) -> SimResult<Vec<Task>> {
        let g = self.inner.read();
        if !caller.can_see_org(org) || !g.orgs.contains_key(&org) {
            return Err(SimError::no_access(&EntityRef::Org(org)));
        }
        Ok(g.task_order
            .iter()
            .filter_map(|i| g.tasks.get(i))
            .filter(|t| t.org == org)
            .cloned()
            .collect())
    }

    /// `POST /api/tasksList/{org}`: an extension (system administrator) creates a task.
    pub fn create_external_task(
        &self,
        caller: &Caller,
        org: Id,
        input: TaskInput,
    ) -> SimResult<Task> {
        if !caller.is_sysadmin() {
            return Err(SimError::Forbidden(
                "Either you need some or all of the following rights [TASK_UPDATE] to perform operations [TASK_CREATE] or the target entity is invalid.".into(),
            ));
        }
        let ns = input.service_namespace.clone().unwrap_or_default();
        if ns.trim().is_empty() || ns.starts_with("com.vmware.vcloud") {
            return Err(SimError::BadRequest(format!(
                "Task service namespace '{ns}' is not allowed: it must be set and must not start with com.vmware.vcloud"
            )));
        }
        let mut g = self.inner.write();
        if !g.orgs.contains_key(&org) {
            return Err(SimError::no_access(&EntityRef::Org(org)));
        }
        let id = g.new_id();
        let now = Utc::now();
        let (owner_href, owner_name, owner_type) = input.owner.clone().unwrap_or_default();
        let (user_ref, mut user_name) = input
            .user
            .clone()
            .unwrap_or_else(|| (EntityRef::User(caller.user).urn(), caller.user_name.clone()));
        if user_name.is_empty()
            && let Some(u) = uuid_of(&user_ref)
        {
            user_name = g.user_name(u);
        }
        let status = input.status.unwrap_or(TaskStatus::Running);
        let task = Task {
            id,
            org,
            name: input.name.clone().unwrap_or_else(|| "task".into()),
            operation: input.operation.clone().unwrap_or_default(),
            operation_name: input.operation_name.clone().unwrap_or_default(),
            service_namespace: ns,
            status,
            owner: TaskOwner::Raw {
                href: owner_href,
                name: owner_name,
                media_type: owner_type,
            },
            user_ref,
            user_name,
            start: now,
            end: status.is_terminal().then_some(now),
            expiry: now + g.task_lifetime,
            error: if status == TaskStatus::Error {
                Some(error_or_default(input.error))
            } else {
                None
            },
            progress: input.progress,
            details: input.details.unwrap_or_default(),
            cancel_requested: false,
            external: true,
            terminal_updates: 0,
        };
        g.tasks.insert(id, task.clone());
        g.task_order.push(id);
        g.task_created(now);
        Ok(task)
    }

    /// `PUT /api/task/{id}`: the extension updates its task.
    pub fn update_task(&self, caller: &Caller, id: Id, input: TaskInput) -> SimResult<Task> {
        if !caller.is_sysadmin() {
            return Err(SimError::Forbidden(
                "Either you need some or all of the following rights [TASK_UPDATE] to perform operations [TASK_UPDATE] or the target entity is invalid.".into(),
            ));
        }
        let strict = self.config.strict_tasks;
        let mut guard = self.inner.write();
        let g = &mut *guard;
        let t = g
            .tasks
            .get_mut(&id)
            .ok_or_else(|| SimError::no_access(&EntityRef::Task(id)))?;
        if strict && t.status.is_terminal() {
            return Err(SimError::BadRequest(format!(
                "Task {id} has already finished ({}).",
                t.status.as_str()
            )));
        }
        if let Some(s) = input.status {
            t.status = s;
            if let TaskOwner::Entity { entity, .. } = &t.owner {
                if s.is_terminal() {
                    g.index.task_ended(*entity, id);
                } else {
                    g.index.task_started(*entity, id);
                }
            }
            if s.is_terminal() {
                t.end = Some(Utc::now());
                t.terminal_updates += 1;
            }
            if s == TaskStatus::Error {
                t.error = Some(error_or_default(input.error.clone()));
            } else {
                t.error = None;
            }
        }
        if let Some(op) = input.operation {
            t.operation = op;
        }
        if let Some(op) = input.operation_name {
            t.operation_name = op;
        }
        if let Some(d) = input.details {
            t.details = d;
        }
        if let Some(p) = input.progress {
            t.progress = Some(p);
        }
        if let Some((href, name, ty)) = input.owner {
            t.owner = TaskOwner::Raw {
                href,
                name,
                media_type: ty,
            };
        }
        Ok(t.clone())
    }

    /// `POST /api/task/{id}/action/cancel`: a finished task is refused (400);
    /// an extension's task gets `cancelRequested="true"` and the extension ends
    /// it; a task of the simulator's own ends `canceled` at once and its work
    /// is not done (a template it was creating is left failed, status -1).
    pub fn cancel_task(&self, caller: &Caller, id: Id) -> SimResult<()> {
        let mut guard = self.inner.write();
        let g = &mut *guard;
        let t = match g.tasks.get_mut(&id) {
            Some(t) if caller.can_see_org(t.org) => t,
            _ => return Err(SimError::no_access(&EntityRef::Task(id))),
        };
        if t.status.is_terminal() {
            return Err(SimError::BadRequest(format!(
                "Task {} has already finished ({}) and cannot be canceled.",
                EntityRef::Task(id).urn(),
                t.status.as_str()
            )));
        }
        t.cancel_requested = true;
        if t.external {
            return Ok(());
        }
        t.status = TaskStatus::Canceled;
        t.end = Some(Utc::now());
        let owner = t.owner.clone();
        if let TaskOwner::Entity { entity, .. } = owner {
            g.index.task_ended(entity, id);
            if let EntityRef::Template(tpl) = entity
                && let Some(tpl) = g.templates.get_mut(&tpl)
                && tpl.status == 0
            {
                tpl.status = -1;
            }
        }
        Ok(())
    }
}

fn error_or_default(e: Option<ErrorInfo>) -> ErrorInfo {
    e.unwrap_or(ErrorInfo {
        major: 500,
        minor: "INTERNAL_SERVER_ERROR".into(),
        message: "The task failed.".into(),
        stack_trace: String::new(),
    })
}
