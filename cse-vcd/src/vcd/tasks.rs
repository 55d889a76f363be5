//! vCD tasks: the status state machine, reading a `Task` document (or the first
//! `Tasks/Task` of an entity returned by compose/instantiate), and waiting for a
//! task to end with a poll interval and a hard deadline (pyvcloud never timed out).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::{VcdError, VcdErrorDocument};
use super::xml::{self, Element};

/// `Task@status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    /// Waiting to start.
    Queued,
    /// About to run.
    PreRunning,
    /// Running.
    Running,
    /// Ended well.
    Success,
    /// Ended with an `Error` child.
    Error,
    /// Cancelled by a user.
    Canceled,
    /// Aborted by the system.
    Aborted,
    /// A value this client does not know (treated as still running).
    Other(String),
}

impl TaskStatus {
    /// Parses a status, case-insensitively (pyvcloud lower-cases before comparing).
    pub fn parse(text: &str) -> Self {
        match text.to_ascii_lowercase().as_str() {
            "queued" => Self::Queued,
            "prerunning" => Self::PreRunning,
            "running" => Self::Running,
            "success" => Self::Success,
            "error" => Self::Error,
            "canceled" | "cancelled" => Self::Canceled,
            "aborted" => Self::Aborted,
            _ => Self::Other(text.to_owned()),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queued => "queued",
            Self::PreRunning => "preRunning",
            Self::Running => "running",
            Self::Success => "success",
            Self::Error => "error",
            Self::Canceled => "canceled",
            Self::Aborted => "aborted",
            Self::Other(text) => text,
        }
    }

    /// True once the task has ended, well or not.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::Error | Self::Canceled | Self::Aborted
        )
    }
}

/// The parts of a `Task` document the client acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// Task href (polled).
    pub href: String,
    /// `id` (URN).
    pub id: String,
    /// Status.
    pub status: TaskStatus,
    /// `operation` (human text).
    pub operation: String,
    /// `operationName`.
    pub operation_name: String,
    /// `Owner@href`, when present.
    pub owner_href: Option<String>,
    /// The `Error` child of a failed task.
    pub error: Option<VcdErrorDocument>,
}

impl TaskInfo {
    /// Reads a `Task` element.
    pub fn from_element(url: &str, task: &Element) -> Result<Self, VcdError> {
        if task.name != "Task" {
            return Err(VcdError::Parse {
                url: url.to_owned(),
                reason: format!("expected a Task, got <{}>", task.name),
            });
        }
        let href = task.attr("href").ok_or_else(|| VcdError::Parse {
            url: url.to_owned(),
            reason: "the Task has no href".to_owned(),
        })?;
        let status = task.attr("status").ok_or_else(|| VcdError::Parse {
            url: url.to_owned(),
            reason: format!("the Task {href} has no status"),
        })?;
        Ok(Self {
            href: href.to_owned(),
            id: task.attr("id").unwrap_or_default().to_owned(),
            status: TaskStatus::parse(status),
            operation: task.attr("operation").unwrap_or_default().to_owned(),
            operation_name: task.attr("operationName").unwrap_or_default().to_owned(),
            owner_href: task
                .child("Owner")
                .and_then(|o| o.attr("href"))
                .map(str::to_owned),
            error: task.child("Error").map(VcdErrorDocument::from_element),
        })
    }

    /// Reads a `Task` document.
    pub fn parse(url: &str, body: &str) -> Result<Self, VcdError> {
        let root = xml::parse(body).map_err(|e| VcdError::parse(url, e))?;
        Self::from_element(url, &root)
    }

    /// The task an answer stands for: the root when it is a `Task`, else the first
    /// `Tasks/Task` of the returned entity (compose, instantiate, catalog create).
    /// `None` when the entity carries no task (nothing to wait for).
    pub fn from_answer(url: &str, root: &Element) -> Result<Option<Self>, VcdError> {
        if root.name == "Task" {
            return Self::from_element(url, root).map(Some);
        }
        root.descend(&["Tasks", "Task"])
            .map(|task| Self::from_element(url, task))
            .transpose()
    }

    /// `Ok` for success; the matching error for `error`, `canceled`, `aborted`.
    pub fn into_result(self) -> Result<Self, VcdError> {
        match self.status {
            TaskStatus::Error | TaskStatus::Canceled | TaskStatus::Aborted => {
                Err(VcdError::TaskFailed {
                    href: self.href,
                    operation: self.operation,
                    status: self.status.as_str().to_owned(),
                    error: self.error.map(Box::new),
                })
            }
            _ => Ok(self),
        }
    }
}

/// The pause before the second poll of a task.
pub const FIRST_POLL_PAUSE: Duration = Duration::from_millis(50);

/// The pause after the `polls`-th poll (1-based): [`FIRST_POLL_PAUSE`] doubled
/// each time, at most `poll_interval`.
pub fn poll_pause(polls: u32, poll_interval: Duration) -> Duration {
    FIRST_POLL_PAUSE
        .saturating_mul(1u32 << polls.saturating_sub(1).min(16))
        .min(poll_interval)
}

/// Polls `fetch` until the task ends or `deadline` passes.
///
/// The first poll happens at once (a task that already ended costs no sleep);
/// later pauses start at [`FIRST_POLL_PAUSE`] and double up to `poll_interval`
/// (see [`poll_pause`]), so a task that ends quickly ends the wait at once and a
/// long one costs few requests. No pause sleeps past the deadline.
/// Ends with the successful task, [`VcdError::TaskFailed`] or [`VcdError::TaskTimeout`].
pub async fn wait_until_done<F, Fut>(
    initial: TaskInfo,
    poll_interval: Duration,
    deadline: Instant,
    mut fetch: F,
) -> Result<TaskInfo, VcdError>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<TaskInfo, VcdError>>,
{
    let started = Instant::now();
    let mut last = initial;
    let mut polls = 0u32;
    loop {
        if last.status.is_terminal() {
            return last.into_result();
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(VcdError::TaskTimeout {
                href: last.href,
                operation: last.operation,
                status: last.status.as_str().to_owned(),
                waited: now - started,
            });
        }
        polls = polls.saturating_add(1);
        let current = match fetch(last.href.clone()).await {
            Ok(current) => current,
            // vCD restarting or a proxy hiccup: keep polling until the deadline.
            Err(error) if error.is_transient() && Instant::now() < deadline => {
                tracing::warn!(task = %last.href, "polling a vCD task failed; retrying: {error}");
                last.clone()
            }
            Err(error) => return Err(error),
        };
        if !current.status.is_terminal() {
            let pause = poll_pause(polls, poll_interval)
                .min(deadline.saturating_duration_since(Instant::now()));
            tokio::time::sleep(pause).await;
        }
        last = current;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(status: &str) -> TaskInfo {
        TaskInfo {
            href: "https://vcd/api/task/1".into(),
            id: "urn:vcloud:task:1".into(),
            status: TaskStatus::parse(status),
            operation: "Composing c1".into(),
            operation_name: "vdcComposeVapp".into(),
            owner_href: None,
            error: None,
        }
    }

    #[test]
    fn statuses_parse_case_insensitively_and_know_terminal_states() {
        for (text, terminal) in [
            ("queued", false),
            ("preRunning", false),
            ("RUNNING", false),
            ("success", true),
            ("error", true),
            ("canceled", true),
            ("aborted", true),
            ("weird", false),
        ] {
            assert_eq!(TaskStatus::parse(text).is_terminal(), terminal, "{text}");
        }
        assert_eq!(TaskStatus::parse("preRunning").as_str(), "preRunning");
        assert_eq!(TaskStatus::parse("weird").as_str(), "weird");
    }

    #[test]
    fn task_document_with_error_child() {
        let body = r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" href="https://vcd/api/task/9"
            id="urn:vcloud:task:9" status="error" operation="Creating cluster c1" operationName="create_cluster">
            <Owner href="urn:cse:cluster:1" name="c1" type="application/vcloud.cse.cluster+xml"/>
            <Error majorErrorCode="500" minorErrorCode="INTERNAL_SERVER_ERROR" message="boom &amp; bust"/>
        </Task>"#;
        let info = TaskInfo::parse("u", body).unwrap();
        assert_eq!(info.status, TaskStatus::Error);
        assert_eq!(info.owner_href.as_deref(), Some("urn:cse:cluster:1"));
        let err = info.into_result().unwrap_err();
        assert_eq!(
            err.to_string(),
            "vCD task 'Creating cluster c1' (https://vcd/api/task/9) ended error: boom & bust"
        );
        assert_eq!(err.minor_error_code(), Some("INTERNAL_SERVER_ERROR"));
    }

    #[test]
    fn entity_answers_yield_their_first_task() {
        let body = r#"<VApp xmlns="http://www.vmware.com/vcloud/v1.5" href="h" name="c1">
            <Tasks><Task href="https://vcd/api/task/2" status="running" operation="op"/></Tasks></VApp>"#;
        let root = xml::parse(body).unwrap();
        let info = TaskInfo::from_answer("u", &root).unwrap().unwrap();
        assert_eq!(info.href, "https://vcd/api/task/2");
        let bare = xml::parse(r#"<VApp href="h"/>"#).unwrap();
        assert_eq!(TaskInfo::from_answer("u", &bare).unwrap(), None);
        let wrong = xml::parse(r#"<Task status="running"/>"#).unwrap();
        assert!(TaskInfo::from_answer("u", &wrong).is_err());
    }

    #[tokio::test]
    async fn waiting_polls_until_success() {
        let mut polls = 0;
        let result = wait_until_done(
            task("queued"),
            Duration::ZERO,
            Instant::now() + Duration::from_secs(5),
            |_| {
                polls += 1;
                let status = if polls < 3 { "running" } else { "success" };
                async move { Ok(task(status)) }
            },
        )
        .await
        .unwrap();
        assert_eq!(result.status, TaskStatus::Success);
        assert_eq!(polls, 3);
    }

    #[test]
    fn poll_pauses_start_short_and_back_off_to_the_interval() {
        let interval = Duration::from_secs(2);
        let pauses: Vec<u128> = (1..=8)
            .map(|n| poll_pause(n, interval).as_millis())
            .collect();
        assert_eq!(pauses, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(poll_pause(u32::MAX, interval), interval);
        assert_eq!(poll_pause(1, Duration::from_millis(10)).as_millis(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_quick_task_ends_the_wait_after_the_first_short_pause() {
        let started = Instant::now();
        let mut polls = 0;
        wait_until_done(
            task("running"),
            Duration::from_secs(2),
            Instant::now() + Duration::from_secs(60),
            |_| {
                polls += 1;
                let status = if polls < 2 { "running" } else { "success" };
                async move { Ok(task(status)) }
            },
        )
        .await
        .unwrap();
        // Two polls: at once, then after the first 50 ms pause (the old code
        // slept the whole 2 s interval).
        assert_eq!(polls, 2);
        assert_eq!(started.elapsed(), FIRST_POLL_PAUSE);
    }

    #[tokio::test]
    async fn an_already_finished_task_is_not_polled() {
        let result = wait_until_done(
            task("success"),
            Duration::from_secs(60),
            Instant::now(),
            |_| async { panic!("must not poll") },
        )
        .await;
        assert!(result.is_ok());
    }

    #[tokio::test]
    async fn aborted_and_canceled_fail_instead_of_spinning() {
        for status in ["aborted", "canceled"] {
            let err = wait_until_done(
                task("running"),
                Duration::ZERO,
                Instant::now() + Duration::from_secs(5),
                |_| async move { Ok(task(status)) },
            )
            .await
            .unwrap_err();
            assert!(matches!(err, VcdError::TaskFailed { .. }), "{err}");
        }
    }

    #[tokio::test]
    async fn transient_poll_failures_are_polled_through_but_others_end_the_wait() {
        let mut polls = 0;
        let result = wait_until_done(
            task("running"),
            Duration::ZERO,
            Instant::now() + Duration::from_secs(5),
            |_| {
                polls += 1;
                let answer = match polls {
                    1 => Err(VcdError::Api {
                        method: "GET".into(),
                        url: "u".into(),
                        status: 503,
                        minor_error_code: None,
                        message: String::new(),
                        request_id: None,
                    }),
                    _ => Ok(task("success")),
                };
                async move { answer }
            },
        )
        .await;
        assert!(result.is_ok());
        assert_eq!(polls, 2);

        let err = wait_until_done(
            task("running"),
            Duration::ZERO,
            Instant::now() + Duration::from_secs(5),
            |_| async {
                Err(VcdError::Unauthorized {
                    method: "GET".into(),
                    url: "u".into(),
                    minor_error_code: None,
                })
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, VcdError::Unauthorized { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_task_times_out_at_the_deadline() {
        let start = Instant::now();
        let err = wait_until_done(
            task("running"),
            Duration::from_secs(2),
            start + Duration::from_secs(7),
            |_| async { Ok(task("running")) },
        )
        .await
        .unwrap_err();
        let VcdError::TaskTimeout { status, waited, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(status, "running");
        assert_eq!(*waited, Duration::from_secs(7));
        assert!(err.to_string().contains("still running after 7s"), "{err}");
    }
}
