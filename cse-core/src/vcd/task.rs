//! `Task` (vCD's long-running operations and the tasks CSE creates itself) and the `Tasks`
//! list embedded in entities (spec vcd-rest §8, cse-original §3.1).

use std::fmt;
use std::str::FromStr;

use instant_xml::{FromXml, ToXml};

use super::error::VcdErrorDocument;
use super::link::{Link, impl_has_links};
use super::media;
use super::ns::VCLOUD;
use super::reference::reference_type;
use super::scalar::xml_scalar_via_str;

reference_type!(
    /// `Owner` of a task: the entity it works on (CSE: `urn:cse:cluster:<uuid>`).
    TaskOwner, "Owner", VCLOUD
);
reference_type!(
    /// `User` who started a task.
    TaskUser, "User", VCLOUD
);
reference_type!(
    /// `Organization` the task belongs to.
    TaskOrganization, "Organization", VCLOUD
);

/// `Task@status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Waiting to start.
    Queued,
    /// About to run.
    PreRunning,
    /// Running.
    Running,
    /// Finished successfully.
    Success,
    /// Failed; the task carries an `Error`.
    Error,
    /// Cancelled.
    Canceled,
    /// Aborted.
    Aborted,
}

impl TaskStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::PreRunning => "preRunning",
            TaskStatus::Running => "running",
            TaskStatus::Success => "success",
            TaskStatus::Error => "error",
            TaskStatus::Canceled => "canceled",
            TaskStatus::Aborted => "aborted",
        }
    }

    /// Whether the task has finished (successfully or not).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Success | TaskStatus::Error | TaskStatus::Canceled | TaskStatus::Aborted
        )
    }
}

/// An unknown task status value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown task status '{0}'")]
pub struct UnknownTaskStatus(pub String);

impl FromStr for TaskStatus {
    type Err = UnknownTaskStatus;

    /// Case-insensitive, as pyvcloud lower-cases before comparing.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            TaskStatus::Queued,
            TaskStatus::PreRunning,
            TaskStatus::Running,
            TaskStatus::Success,
            TaskStatus::Error,
            TaskStatus::Canceled,
            TaskStatus::Aborted,
        ]
        .into_iter()
        .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| UnknownTaskStatus(s.to_owned()))
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

xml_scalar_via_str!(TaskStatus);

/// `Task`.
#[derive(Debug, Clone, PartialEq, Eq, FromXml, ToXml)]
#[xml(rename = "Task", ns(VCLOUD))]
pub struct Task {
    /// Task href (absent in the body CSE posts to create a task).
    #[xml(attribute)]
    pub href: Option<String>,
    /// `urn:vcloud:task:<uuid>`.
    #[xml(attribute)]
    pub id: Option<String>,
    /// Task name (`task`).
    #[xml(attribute)]
    pub name: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Status.
    #[xml(attribute)]
    pub status: TaskStatus,
    /// Human-readable operation.
    #[xml(attribute)]
    pub operation: Option<String>,
    /// Operation code (`vdcComposeVapp`, CSE: `create_cluster`, ...).
    #[xml(attribute, rename = "operationName")]
    pub operation_name: Option<String>,
    /// Namespace of the service that owns the task (`com.vmware.vcloud`, CSE: `vcloud.cse`).
    #[xml(attribute, rename = "serviceNamespace")]
    pub service_namespace: Option<String>,
    /// Start time (ISO 8601).
    #[xml(attribute, rename = "startTime")]
    pub start_time: Option<String>,
    /// End time, once finished.
    #[xml(attribute, rename = "endTime")]
    pub end_time: Option<String>,
    /// Expiry time.
    #[xml(attribute, rename = "expiryTime")]
    pub expiry_time: Option<String>,
    /// Links (`task:cancel`).
    pub links: Vec<Link>,
    /// Owner entity.
    pub owner: Option<TaskOwner>,
    /// The error of a failed task.
    pub error: Option<VcdErrorDocument>,
    /// The user who started the task.
    pub user: Option<TaskUser>,
    /// The org of the task.
    pub organization: Option<TaskOrganization>,
    /// Progress percentage.
    #[xml(rename = "Progress")]
    pub progress: Option<u32>,
    /// Free-form details.
    #[xml(rename = "Details")]
    pub details: Option<String>,
}

impl Task {
    /// The body CSE posts to an org's tasks list / puts to its task href (cse-original §3.1):
    /// `name="task"`, `serviceNamespace="vcloud.cse"`, owner of type
    /// `application/vcloud.cse.cluster+xml`, `User` = the caller, empty `Details`.
    pub fn cse_task(
        status: TaskStatus,
        operation: &str,
        operation_name: &str,
        owner: TaskOwner,
        user: TaskUser,
        error: Option<VcdErrorDocument>,
    ) -> Self {
        Task {
            href: None,
            id: None,
            name: Some("task".to_owned()),
            media_type: Some(media::TASK.to_owned()),
            status,
            operation: Some(operation.to_owned()),
            operation_name: Some(operation_name.to_owned()),
            service_namespace: Some("vcloud.cse".to_owned()),
            start_time: None,
            end_time: None,
            expiry_time: None,
            links: Vec::new(),
            owner: Some(owner),
            error,
            user: Some(user),
            organization: None,
            progress: None,
            details: Some(String::new()),
        }
    }

    /// A failed task's error message (empty when the task carries no `Error`).
    pub fn error_message(&self) -> &str {
        self.error
            .as_ref()
            .map_or("", VcdErrorDocument::message_or_empty)
    }
}

/// `Tasks`: running tasks embedded in an entity (compose / instantiate / capture answers).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Tasks", ns(VCLOUD))]
pub struct Tasks {
    /// The tasks.
    pub tasks: Vec<Task>,
}

impl Tasks {
    /// The first task (pyvcloud waits on `Tasks.Task[0]`).
    pub fn first(&self) -> Option<&Task> {
        self.tasks.first()
    }
}

impl_has_links!(Task);

super::vcd_document! {
    Task => "Task", media::TASK;
}
