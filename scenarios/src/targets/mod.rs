//! What a scenario runs against. Both targets are driven through the same
//! public surfaces (vCD REST and `/api/cse`, the `cse` command, vCenter guest
//! operations for Kubernetes checks); the simulator target adds fault
//! injection and a view of the embedded server's life.

pub mod control;
pub mod live;
pub mod mqtt;
pub mod sim;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cse_server::cli::{self, BusConnector, CliContext, ScriptedAnswers};
use cse_server::context::Context;

use crate::api::VcdApi;
use crate::format::{ClockStep, FaultStep, ServerState, SimStep, TargetKind, Tenant};

/// A target's failure, in words for the report.
pub type TargetResult<T> = Result<T, String>;

/// A running target.
#[async_trait::async_trait(?Send)]
pub trait Target {
    /// Whether this is the embedded simulator or a live vCD.
    fn kind(&self) -> TargetKind;
    /// The vCD endpoint.
    fn api(&self) -> &VcdApi;
    /// The CSE server's configuration as a library context (system
    /// administrator, vCenters, template credentials).
    fn context(&self) -> &Arc<Context>;
    /// Tenants the target knows besides the scenario's (the simulator's
    /// `org<N>` accounts).
    fn tenants(&self) -> BTreeMap<String, Tenant> {
        BTreeMap::new()
    }
    /// Runs `cse <args> -c <config>`; (exit code, output).
    async fn cse(&mut self, args: &[&str]) -> (i32, String);
    /// After `cse install` succeeded (the simulator starts its server).
    async fn installed(&mut self) -> TargetResult<()>;
    /// Switches a fault on or off.
    async fn fault(&mut self, fault: &FaultStep) -> TargetResult<String>;
    /// Changes the simulator's time scale and/or moves simulated time on.
    async fn clock(&mut self, step: &ClockStep) -> TargetResult<String>;
    /// Resets the simulator's state, or saves or loads a snapshot.
    async fn sim(&mut self, step: &SimStep) -> TargetResult<String>;
    /// The embedded server's state (`None`: not observable here).
    fn server_state(&mut self) -> Option<ServerState>;
    /// Waits for the embedded server to exit.
    async fn wait_server_exit(&mut self, within: Duration) -> TargetResult<String>;
    /// Stops whatever the target started.
    async fn shutdown(self: Box<Self>);
}

/// The system administrator of a config, as a [`Tenant`].
pub fn sysadmin(context: &Context) -> Tenant {
    Tenant {
        org: "System".into(),
        user: context.config.vcd.username.clone(),
        password: context
            .config
            .vcd
            .password
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default(),
    }
}

/// Runs `cse <args> -c <config>` in this process with `bus`; (exit code, output).
pub async fn run_cse(
    args: &[&str],
    config_path: &std::path::Path,
    bus: &dyn BusConnector,
    cache_dir: std::path::PathBuf,
) -> (i32, String) {
    let mut argv: Vec<std::ffi::OsString> = vec!["cse".into()];
    argv.extend(args.iter().map(Into::into));
    argv.push("-c".into());
    argv.push(config_path.into());
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut prompter = ScriptedAnswers::default();
    let code = {
        let mut ctx = CliContext {
            out: &mut out,
            err: &mut err,
            prompter: &mut prompter,
            bus,
            progress: false,
            cache_dir,
        };
        cli::main_with(argv, &mut ctx).await
    };
    out.extend_from_slice(&err);
    (code, String::from_utf8_lossy(&out).into_owned())
}
