//! Scenario files and their runner: replay install, cluster lifecycle, scale,
//! shutdown and fault scenarios against the in-process simulator or a live vCD.
//!
//! | module | what it is for |
//! |---|---|
//! | [`format`](mod@format) | the YAML format (documented in `scenarios/FORMAT.md`) |
//! | [`runner`] | replays steps against a [`targets::Target`], records results |
//! | [`targets`] | the embedded simulator + server, or a live vCD |
//! | [`api`] | tenant and system-administrator calls to vCD and `/api/cse` |
//! | [`kube`] | `kubectl get nodes` inside a cluster through guest operations |
//! | [`faults`] | vCD REST faults on the simulator |
//! | [`report`] | the step table and the JSON report |
//! | [`cli`] | `cse-scenario run` and `serve` |

pub mod api;
pub mod cli;
pub mod faults;
pub mod format;
pub mod kube;
pub mod report;
pub mod runner;
pub mod targets;

/// The directory holding the scenario files shipped with the project.
pub fn scenario_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("files")
}
