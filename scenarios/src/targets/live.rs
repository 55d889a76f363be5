//! The live target: a vCD at a URL with a CSE server already serving it,
//! and the `cse` config of that server (system administrator, vCenters,
//! templates, broker). Only public surfaces are used; the server's process
//! is out of reach. When the vCD is a `vcd-sim serve --control-api`
//! (`--sim-info`), `fault:`, `clock:` and `sim:` steps go through its
//! control API.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cse_core::config::Config;
use cse_server::cli::RabbitConnector;
use cse_server::context::Context;

use super::{Target, TargetResult, run_cse};
use crate::api::VcdApi;
use crate::format::{ClockStep, FaultStep, ServerState, SimStep, TargetKind};

/// Settings of the live target.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    /// The `cse` config of the server behind the vCD.
    pub config: PathBuf,
    /// vCD URL (default: the config's `vcd.host`).
    pub vcd_url: Option<String>,
    /// Verify vCD's certificate (default: the config's `vcd.verify`).
    pub verify: Option<bool>,
    /// The control API, when the vCD is a `vcd-sim serve --control-api`
    /// (faults become possible).
    pub control: Option<super::control::ControlSettings>,
}

/// A live vCD and its CSE server.
pub struct LiveTarget {
    config_path: PathBuf,
    context: Arc<Context>,
    api: VcdApi,
    cache_dir: tempfile::TempDir,
    control: Option<super::control::Control>,
}

impl LiveTarget {
    /// Loads the CSE config named in `settings` and opens the vCD endpoint it names;
    /// the error says which file or setting was wrong.
    pub(crate) fn connect(settings: &LiveSettings) -> Result<LiveTarget, String> {
        let config = Config::load(&settings.config)
            .map_err(|e| format!("invalid cse config {}: {e}", settings.config.display()))?;
        let url = settings
            .vcd_url
            .clone()
            .unwrap_or_else(|| vcd_url_of(&config));
        let verify = settings.verify.unwrap_or(config.vcd.verify);
        let api = VcdApi::new(&url, verify).map_err(|e| e.to_string())?;
        let context = Context::new(config, settings.config.display().to_string())
            .map_err(|e| format!("cannot set up the vCD client: {e}"))?;
        let cache_dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let control = settings
            .control
            .clone()
            .map(|c| super::control::Control::new(c, verify))
            .transpose()?;
        Ok(LiveTarget {
            config_path: settings.config.clone(),
            context: Arc::new(context),
            api,
            cache_dir,
            control,
        })
    }

    /// Negotiates the API version before the first step (so a fault a step
    /// injects meets the step's own requests, as on the sim target) and, with a
    /// control API, applies the scenario's simulator settings (time scale).
    pub(crate) async fn prepare(
        &mut self,
        spec: &crate::format::SimulatorSpec,
    ) -> Result<(), String> {
        self.api.negotiate().await.map_err(|e| e.to_string())?;
        match &mut self.control {
            Some(c) => c.prepare(spec).await,
            None => Ok(()),
        }
    }
}

/// `vcd.host` as a URL (`https://` added to a bare host, with `vcd.port`).
pub fn vcd_url_of(config: &Config) -> String {
    let host = config.vcd.host.trim_end_matches('/');
    if host.contains("://") {
        host.to_owned()
    } else {
        format!("https://{host}:{}", config.vcd.port)
    }
}

#[async_trait::async_trait(?Send)]
impl Target for LiveTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::Live
    }

    fn api(&self) -> &VcdApi {
        &self.api
    }

    fn context(&self) -> &Arc<Context> {
        &self.context
    }

    async fn cse(&mut self, args: &[&str]) -> (i32, String) {
        run_cse(
            args,
            &self.config_path,
            &RabbitConnector,
            self.cache_dir.path().to_path_buf(),
        )
        .await
    }

    async fn installed(&mut self) -> TargetResult<()> {
        Ok(())
    }

    async fn fault(&mut self, fault: &FaultStep) -> TargetResult<String> {
        match &self.control {
            Some(c) => c.fault(fault).await,
            None => Err(
                "faults need the simulator: --target sim, or a vcd-sim serve --control-api named with --sim-info"
                    .into(),
            ),
        }
    }

    async fn clock(&mut self, step: &ClockStep) -> TargetResult<String> {
        match &self.control {
            Some(c) => c.clock(step).await,
            None => Err(
                "the clock needs the simulator: --target sim, or a vcd-sim serve --control-api named with --sim-info"
                    .into(),
            ),
        }
    }

    async fn sim(&mut self, step: &SimStep) -> TargetResult<String> {
        match &self.control {
            Some(c) => c.sim(step).await,
            None => Err(format!(
                "`sim: {}` needs the simulator: --target sim, or a vcd-sim serve --control-api named with --sim-info (this live vCD has no control API)",
                match step {
                    SimStep::Reset => "reset",
                    SimStep::Load(_) => "load",
                    SimStep::Save(_) => "save",
                }
            )),
        }
    }

    fn server_state(&mut self) -> Option<ServerState> {
        None
    }

    async fn wait_server_exit(&mut self, _within: Duration) -> TargetResult<String> {
        Err("a live server's process is not observable; use --target sim".into())
    }

    async fn shutdown(self: Box<Self>) {
        if let Some(c) = &self.control
            && let Err(e) = c.finish().await
        {
            tracing::warn!("cannot tidy the simulator after the run: {e}");
        }
    }
}
