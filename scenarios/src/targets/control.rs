//! The live target's hold on a `vcd-sim serve --control-api`: `fault:`,
//! `clock:` and `sim:` steps become control API calls (`/_sim/faults`,
//! `/_sim/clock`, `/_sim/reset`, `/_sim/snapshot`), and the
//! scenario's `simulator.time_scale` is applied to the simulator's clock for
//! the run. What the simulator looked like before (clock scale, guest
//! timings) is put back, and every fault cleared, when the run ends.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::format::{ClockStep, FaultStep, SimStep, SimulatorSpec};

/// Where the control API is and its token.
#[derive(Clone)]
pub struct ControlSettings {
    /// `scheme://host:port/_sim`.
    pub url: String,
    /// The bearer token.
    pub token: String,
}

impl std::fmt::Debug for ControlSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlSettings")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl ControlSettings {
    /// `control_url` and `control_token` of a `vcd-sim serve` info file.
    pub fn from_info_file(path: &Path) -> Result<ControlSettings, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read simulator info {}: {e}", path.display()))?;
        let info: Value = serde_json::from_str(&text)
            .map_err(|e| format!("simulator info {} is not JSON: {e}", path.display()))?;
        let field = |name: &str| {
            info.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    format!(
                        "simulator info {} has no `{name}`: start vcd-sim serve with --control-api",
                        path.display()
                    )
                })
        };
        Ok(ControlSettings {
            url: field("control_url")?,
            token: field("control_token")?,
        })
    }
}

/// A connected control API.
pub struct Control {
    settings: ControlSettings,
    http: reqwest::Client,
    /// Clock scale and guest timings found on connecting.
    before: Option<(Value, Value)>,
}

impl Control {
    /// A client of the control API (`verify`: check the certificate).
    pub fn new(settings: ControlSettings, verify: bool) -> Result<Control, String> {
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(!verify)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot make the control API client: {e}"))?;
        Ok(Control {
            settings,
            http,
            before: None,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let text = self
            .call_raw(method, path, body.map(|b| b.to_string().into_bytes()))
            .await?;
        Ok(serde_json::from_slice(&text).unwrap_or(Value::Null))
    }

    /// A call with a raw JSON body, answering the raw body.
    async fn call_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, String> {
        let url = format!("{}/{path}", self.settings.url.trim_end_matches('/'));
        let mut req = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.settings.token);
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b);
        }
        let reply = req
            .send()
            .await
            .map_err(|e| format!("control API {method} {url}: {e}"))?;
        let status = reply.status();
        let bytes = reply.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        if !status.is_success() {
            return Err(format!(
                "control API {method} {url} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        Ok(bytes)
    }

    /// Reads what to restore later and applies the scenario's time scale.
    pub async fn prepare(&mut self, spec: &SimulatorSpec) -> Result<(), String> {
        let clock = self.call(reqwest::Method::GET, "clock", None).await?;
        self.before = Some((clock["scale"].clone(), clock["guest_timings"].clone()));
        self.call(
            reqwest::Method::PUT,
            "clock",
            Some(json!({ "scale": spec.time_scale })),
        )
        .await?;
        Ok(())
    }

    async fn add(&self, rule: Value) -> Result<(), String> {
        self.call(reqwest::Method::POST, "faults", Some(rule))
            .await
            .map(drop)
    }

    async fn restore_timings(&self) -> Result<(), String> {
        if let Some((_, timings)) = &self.before {
            self.call(
                reqwest::Method::PUT,
                "clock",
                Some(json!({ "guest_timings": timings })),
            )
            .await?;
        }
        Ok(())
    }

    /// Switches a scenario fault on or off through the control API.
    pub async fn fault(&self, fault: &FaultStep) -> Result<String, String> {
        match fault {
            FaultStep::Vcd(f) => {
                let rule = crate::faults::rule_for(f)?;
                let mut body = serde_json::to_value(&rule).map_err(|e| e.to_string())?;
                body["surface"] = json!("vcd");
                self.add(body).await?;
                Ok(crate::faults::describe(&rule))
            }
            FaultStep::SlowTools { boot } => {
                self.restore_timings().await?;
                let ms = u64::try_from(boot.as_millis()).unwrap_or(u64::MAX);
                self.call(
                    reqwest::Method::PUT,
                    "clock",
                    Some(json!({ "guest_timings": { "boot_ms": ms } })),
                )
                .await?;
                Ok(format!("guests boot in {boot:?} (simulated)"))
            }
            FaultStep::ToolsNeverReady => {
                self.add(
                    json!({"surface": "guest", "match": "global", "effect": "tools_never_ready"}),
                )
                .await?;
                Ok("VMware Tools never start".into())
            }
            FaultStep::GuestOpsUnavailable { calls } => {
                self.add(json!({"surface": "guest", "match": "global", "effect": "ops_unavailable", "times": calls}))
                    .await?;
                Ok(format!("the next {calls} guest operations fail"))
            }
            FaultStep::BrokerRestart { down_for } => {
                // The broker of a live installation is not the simulator's to
                // restart: vCD's side of the outage is played instead, every
                // extension message failing to publish for `down_for`.
                let id = self
                    .call(
                        reqwest::Method::POST,
                        "faults",
                        Some(json!({"surface": "extension", "match": {}, "effect": "cannot_send"})),
                    )
                    .await?;
                tokio::time::sleep(*down_for).await;
                let id = id["id"].as_str().unwrap_or_default().to_owned();
                self.call(reqwest::Method::DELETE, &format!("faults/{id}"), None)
                    .await?;
                Ok(format!(
                    "vCD could not publish extension messages for {down_for:?} (the broker itself is not restarted on a live target)"
                ))
            }
            FaultStep::Clear => {
                self.call(reqwest::Method::DELETE, "faults", None).await?;
                self.restore_timings().await?;
                Ok("all faults cleared".into())
            }
        }
    }

    /// Changes the time scale and/or advances simulated time.
    pub async fn clock(&self, step: &ClockStep) -> Result<String, String> {
        step.check()?;
        if let Some(x) = step.time_scale {
            self.call(reqwest::Method::PUT, "clock", Some(json!({ "scale": x })))
                .await?;
        }
        if let Some(d) = step.advance {
            let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
            self.call(
                reqwest::Method::POST,
                "clock/advance",
                Some(json!({ "by_ms": ms })),
            )
            .await?;
        }
        Ok(step.describe())
    }

    /// Resets the simulator, or saves its state to or loads it from a file.
    pub async fn sim(&self, step: &SimStep) -> Result<String, String> {
        match step {
            SimStep::Reset => {
                self.call(reqwest::Method::POST, "reset", None).await?;
            }
            SimStep::Save(path) => {
                let bytes = self
                    .call_raw(reqwest::Method::GET, "snapshot", None)
                    .await?;
                vcd_sim::snapshot::from_bytes(&bytes)
                    .map_err(|e| format!("the simulator's snapshot: {e}"))?;
                cse_core::config::write_private_file(Path::new(path), &bytes)
                    .map_err(|e| format!("cannot write snapshot {path}: {e}"))?;
            }
            SimStep::Load(path) => {
                let snapshot =
                    vcd_sim::snapshot::load_file(Path::new(path)).map_err(|e| e.to_string())?;
                let bytes = vcd_sim::snapshot::to_bytes(&snapshot).map_err(|e| e.to_string())?;
                self.call_raw(reqwest::Method::PUT, "snapshot", Some(bytes))
                    .await
                    .map_err(|e| format!("snapshot {path}: {e}"))?;
            }
        }
        Ok(step.describe())
    }

    /// Clears every fault and puts the clock and guest timings back.
    pub async fn finish(&self) -> Result<(), String> {
        self.call(reqwest::Method::DELETE, "faults", None).await?;
        if let Some((scale, timings)) = &self.before {
            self.call(
                reqwest::Method::PUT,
                "clock",
                Some(json!({ "scale": scale, "guest_timings": timings })),
            )
            .await?;
        }
        Ok(())
    }
}
