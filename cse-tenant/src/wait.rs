//! `--wait`: follow a vCD task (`GET <task href>`) until it reaches a terminal status,
//! showing `<operationName>: <operation>, status: <status>` with a spinner on stderr
//! (indicatif; nothing is drawn when stderr is not a terminal). A task that ends in `error`,
//! `aborted` or `canceled` is an error, so the command exits non-zero.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::errors::TenantError;
use cse_vcd::vcd::xml::Element;

use super::http::VcdSession;

/// Consecutive connection failures tolerated while polling before giving up.
pub const MAX_POLL_CONNECTION_FAILURES: u32 = 3;

/// What the CLI knows about a task after one read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskState {
    /// Task id (the uuid of `urn:vcloud:task:<uuid>`).
    #[serde(rename = "task_id")]
    pub id: String,
    /// Task href.
    #[serde(rename = "task_href")]
    pub href: String,
    /// Status, lower case: `queued`, `preRunning`→`prerunning`, `running`, `success`, ...
    pub status: String,
    /// Human text of the current step.
    pub operation: String,
    /// Operation name (`create_cluster`, ...).
    pub operation_name: String,
    /// Percentage, when vCD reports one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<u32>,
    /// `Error@message` of a failed task.
    #[serde(rename = "error", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl TaskState {
    /// Read a `Task` document fetched from `href`.
    pub fn from_xml(href: &str, root: &Element) -> Result<TaskState, String> {
        if root.name != "Task" {
            return Err(format!("expected a Task document, got <{}>", root.name));
        }
        let status = root
            .attr("status")
            .ok_or("the Task has no status")?
            .to_ascii_lowercase();
        let id = root
            .attr("id")
            .and_then(|urn| urn.rsplit(':').next())
            .filter(|id| !id.is_empty())
            .or_else(|| href.trim_end_matches('/').rsplit('/').next())
            .unwrap_or_default()
            .to_owned();
        Ok(TaskState {
            id,
            href: href.to_owned(),
            status,
            operation: root.attr("operation").unwrap_or_default().to_owned(),
            operation_name: root.attr("operationName").unwrap_or_default().to_owned(),
            progress: root
                .child("Progress")
                .and_then(|p| p.text.trim().parse().ok()),
            error_message: root
                .child("Error")
                .map(|e| e.attr("message").unwrap_or("(no message)").to_owned()),
        })
    }

    /// `success`, `error`, `aborted` or `canceled`.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.status.as_str(),
            "success" | "error" | "aborted" | "canceled"
        )
    }

    /// The progress line: `<operationName>: <operation>, status: <status>[, progress: N%]`.
    pub fn progress_line(&self) -> String {
        let mut line = format!(
            "{}: {}, status: {}",
            self.operation_name, self.operation, self.status
        );
        if let Some(p) = self.progress {
            line.push_str(&format!(", progress: {p}%"));
        }
        crate::terminal::sanitize(&line).replace('\n', " ")
    }

    /// `Ok` for `success`, the matching error for the other terminal statuses.
    pub fn into_result(self) -> Result<TaskState, TenantError> {
        match self.status.as_str() {
            "error" => Err(TenantError::TaskFailed {
                task_id: self.id,
                message: self
                    .error_message
                    .unwrap_or_else(|| "(no message)".to_owned()),
            }),
            "aborted" | "canceled" => Err(TenantError::TaskEnded {
                task_id: self.id,
                status: self.status,
            }),
            _ => Ok(self),
        }
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A spinner on stderr (hidden automatically when stderr is not a terminal).
    Stderr,
    /// Nothing drawn (tests, `--json`).
    Hidden,
}

/// Poll `task_href` every `poll_interval` until the task ends; the final state on success.
pub async fn follow_task(
    http: &VcdSession,
    task_href: &str,
    poll_interval: Duration,
    mode: ProgressMode,
) -> Result<TaskState, TenantError> {
    let target = match mode {
        ProgressMode::Stderr => ProgressDrawTarget::stderr(),
        ProgressMode::Hidden => ProgressDrawTarget::hidden(),
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let result = poll(http, task_href, poll_interval, &bar).await;
    bar.finish_and_clear();
    result.and_then(TaskState::into_result)
}

async fn poll(
    http: &VcdSession,
    task_href: &str,
    poll_interval: Duration,
    bar: &ProgressBar,
) -> Result<TaskState, TenantError> {
    let mut last_operation: Option<String> = None;
    let mut failures = 0;
    loop {
        let document = match http.get_xml(task_href).await {
            Ok(document) => {
                failures = 0;
                document
            }
            Err(TenantError::Connection { .. }) if failures < MAX_POLL_CONNECTION_FAILURES => {
                failures += 1;
                tokio::time::sleep(poll_interval).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let state = TaskState::from_xml(task_href, &document).map_err(|detail| {
            TenantError::UnexpectedReply {
                url: task_href.to_owned(),
                status: 200,
                detail,
            }
        })?;
        // vcd-cli prints each finished step on its own line and keeps the current one on
        // the spinner.
        let step = format!("{}: {}", state.operation_name, state.operation);
        if let Some(previous) = &last_operation
            && *previous != step
        {
            bar.println(crate::terminal::sanitize(previous).replace('\n', " "));
        }
        last_operation = Some(step);
        bar.set_message(state.progress_line());
        if state.is_terminal() {
            return Ok(state);
        }
        tokio::time::sleep(poll_interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cse_vcd::vcd::xml::parse as parse_root;

    const RUNNING: &str = r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" href="https://h/api/task/7f0c" id="urn:vcloud:task:7f0c" status="running" operation="Creating cluster c1(abc)" operationName="create_cluster"><Progress>40</Progress></Task>"#;
    const FAILED: &str = r#"<Task href="https://h/api/task/7f0c" id="urn:vcloud:task:7f0c" status="error" operation="Creating master node for c1(abc)" operationName="create_cluster"><Error majorErrorCode="500" minorErrorCode="INTERNAL_SERVER_ERROR" message="Error while adding master node: no IP"/></Task>"#;

    #[test]
    fn reads_a_running_task() {
        let state =
            TaskState::from_xml("https://h/api/task/7f0c", &parse_root(RUNNING).unwrap()).unwrap();
        assert_eq!(state.id, "7f0c");
        assert!(!state.is_terminal());
        assert_eq!(
            state.progress_line(),
            "create_cluster: Creating cluster c1(abc), status: running, progress: 40%"
        );
    }

    #[test]
    fn a_failed_task_is_an_error_with_its_message() {
        let state =
            TaskState::from_xml("https://h/api/task/7f0c", &parse_root(FAILED).unwrap()).unwrap();
        assert!(state.is_terminal());
        let err = state.into_result().unwrap_err();
        assert_eq!(
            err.to_string(),
            "task: 7f0c, result: error, message: Error while adding master node: no IP"
        );
    }

    #[test]
    fn aborted_and_canceled_are_errors_too() {
        for status in ["aborted", "canceled"] {
            let doc = format!(r#"<Task id="urn:vcloud:task:1" status="{status}"/>"#);
            let state =
                TaskState::from_xml("https://h/api/task/1", &parse_root(&doc).unwrap()).unwrap();
            assert_eq!(
                state.into_result().unwrap_err().to_string(),
                format!("task: 1, result: {status}")
            );
        }
    }

    #[test]
    fn non_task_documents_are_refused() {
        let err = TaskState::from_xml("x", &parse_root("<Error message='m'/>").unwrap());
        assert_eq!(err.unwrap_err(), "expected a Task document, got <Error>");
        let no_status = TaskState::from_xml("x", &parse_root("<Task/>").unwrap());
        assert!(no_status.is_err());
    }
}
