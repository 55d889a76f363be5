//! What a replay found: one row per step (kind, label, result, time, what
//! happened), rendered as a table for people and as JSON for machines.

use std::time::Duration;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::format::TargetKind;

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Every expectation of the step held.
    Passed,
    /// The step's request or an expectation failed; `detail` says which.
    Failed,
    /// Not run because an earlier step failed.
    NotRun,
}

impl StepStatus {
    /// The word shown in the step table (`FAILED` in capitals so it stands out).
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "FAILED",
            StepStatus::NotRun => "not run",
        }
    }
}

/// One step's row.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// 1-based position in the file.
    pub number: usize,
    /// The step kind as written in the file (`create_cluster`, ...).
    pub kind: String,
    /// The step's `label` (empty when the file gives none).
    pub label: String,
    /// How the step ended.
    pub status: StepStatus,
    /// Wall time of the step in milliseconds.
    pub millis: u64,
    /// What happened, or why it failed.
    pub detail: String,
}

/// One scenario's replay.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// The scenario's `name`.
    pub scenario: String,
    /// Path of the scenario file, as given on the command line.
    pub file: String,
    /// Where it ran.
    pub target: TargetKind,
    /// Whether every step passed and the scenario could run.
    pub passed: bool,
    /// Wall time of the whole scenario in milliseconds.
    pub millis: u64,
    /// One row per step, in file order (steps after a failure are `not_run`).
    pub steps: Vec<StepReport>,
    /// Why the scenario could not run at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every replay of one `cse-scenario run`.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Whether every scenario passed.
    pub passed: bool,
    /// One report per scenario file, in command-line order.
    pub scenarios: Vec<ScenarioReport>,
}

/// `duration` in whole milliseconds, saturating at `u64::MAX`.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `1.234s` or `56ms`.
pub fn human(millis: u64) -> String {
    if millis >= 1000 {
        format!("{:.3}s", millis as f64 / 1000.0)
    } else {
        format!("{millis}ms")
    }
}

impl ScenarioReport {
    /// The step table.
    pub fn table(&self) -> String {
        let mut table = Table::new();
        table
            .load_style(UTF8_FULL_CONDENSED)
            .force_no_tty()
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(140)
            .set_header(vec!["#", "step", "label", "result", "time", "detail"]);
        for step in &self.steps {
            table.add_row(vec![
                step.number.to_string(),
                step.kind.clone(),
                step.label.clone(),
                step.status.as_str().to_owned(),
                if step.status == StepStatus::NotRun {
                    String::new()
                } else {
                    human(step.millis)
                },
                step.detail.clone(),
            ]);
        }
        table.to_string()
    }

    /// The heading and the table, as `run` prints them.
    pub fn render(&self) -> String {
        let mut text = format!(
            "scenario {} ({}) on {}: {} in {}\n",
            self.scenario,
            self.file,
            self.target,
            if self.passed { "PASSED" } else { "FAILED" },
            human(self.millis)
        );
        if let Some(error) = &self.error {
            text.push_str(&format!("error: {error}\n"));
        }
        if !self.steps.is_empty() {
            text.push_str(&self.table());
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ScenarioReport {
        let step = |number, kind: &str, status, millis, detail: &str| StepReport {
            number,
            kind: kind.into(),
            label: format!("label {number}"),
            status,
            millis,
            detail: detail.into(),
        };
        ScenarioReport {
            scenario: "demo".into(),
            file: "demo.yaml".into(),
            target: TargetKind::Sim,
            passed: false,
            millis: 4321,
            steps: vec![
                step(
                    1,
                    "create_cluster",
                    StepStatus::Passed,
                    1500,
                    "demo: task success",
                ),
                step(
                    2,
                    "expect",
                    StepStatus::Failed,
                    12,
                    "cluster demo: 2 workers, expected 3",
                ),
                step(3, "delete_cluster", StepStatus::NotRun, 0, ""),
            ],
            error: None,
        }
    }

    #[test]
    fn the_step_table_shows_every_step() {
        insta::assert_snapshot!(sample().render());
    }

    #[test]
    fn the_json_report_has_every_field() {
        insta::assert_json_snapshot!(sample());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(56), "56ms");
        assert_eq!(human(1234), "1.234s");
    }
}
