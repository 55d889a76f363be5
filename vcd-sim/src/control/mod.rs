//! The control API of `vcd-sim serve --control-api`: a JSON API under
//! `/_sim/` (a path no vCD uses) for tests written in any language to inject
//! faults on every surface, set and advance the clock, reset the state, list
//! the operations served with their call counts, and export or import
//! snapshots. Every request carries `Authorization: Bearer <token>` (the
//! token is in the info file); without it the answer is 401. See
//! `vcd-sim/CONTROL.md` for the endpoints and bodies.
//!
//! Submodules: `observe` (per-operation call counts and the exchange
//! recorder behind every listener), `timings` (guest timings as JSON).

pub mod observe;
mod timings;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::assembly::FullSim;
use crate::clock::{Clock, MAX_SCALE};
use crate::ext_faults::{ExtEffect, ExtFaults, ExtMatch};
use crate::faults::{FaultRule, FaultSet, RuleId};
use crate::guest::{FaultScope, GuestFaultKind, GuestTimings, GuestWorld};
use crate::rest::faults::{HttpMatch, HttpStatus, RestFaults};
use crate::state::Sim;
use crate::vsphere::VCenterSim;
use crate::vsphere::injection::{InjectedFault, VimMatch};
use crate::world::World;

pub use observe::Observer;

/// The path every control route is under.
pub const PREFIX: &str = "/_sim";
/// The largest control request body.
pub const MAX_CONTROL_BODY: usize = 64 * 1024 * 1024;
/// The longest delay a fault rule may have.
pub const MAX_DELAY: Duration = Duration::from_secs(600);
/// The largest `times` of a fault rule.
pub const MAX_TIMES: u32 = 1_000_000;
/// The most simulated time one `advance` moves.
pub const MAX_ADVANCE: Duration = Duration::from_secs(30 * 24 * 3600);

/// What the control API acts on, known once the simulator runs.
pub struct Targets {
    /// The vCD state.
    pub sim: Arc<Sim>,
    /// The guest model.
    pub guests: GuestWorld,
    /// The simulated vCenter.
    pub vcenter: VCenterSim,
    /// vCD REST fault rules.
    pub rest: RestFaults,
    /// Extension delivery fault rules.
    pub ext: ExtFaults,
    /// The clock (controlled, for `PUT /_sim/clock` to take effect).
    pub clock: Clock,
    /// The world to go back to on reset.
    pub world: World,
    /// The vCD release played.
    pub release: crate::VcdRelease,
    /// The snapshot the simulator started from (`--load`), which reset goes back to.
    pub start_snapshot: Option<Vec<u8>>,
    /// CloudAPI sessions and API tokens (tokens are in snapshots; reset drops them).
    pub auth: Option<Arc<crate::auth::Auth>>,
}

impl Targets {
    /// The targets of a running full simulator.
    pub fn of(full: &FullSim, release: crate::VcdRelease) -> Self {
        Targets {
            sim: Arc::clone(full.handle.state()),
            guests: full.guests.clone(),
            vcenter: full.vcenter.clone(),
            rest: full.http_faults().clone(),
            ext: full.ext_faults.clone(),
            clock: full.handle.state().clock(),
            world: full.handle.world().clone(),
            release,
            start_snapshot: None,
            auth: Some(Arc::clone(full.handle.auth())),
        }
    }
}

impl Targets {
    /// Clears every fault rule of every surface.
    pub fn clear_all_faults(&self) {
        self.rest.clear();
        self.ext.clear();
        self.vcenter.faults().clear();
        self.guests.clear_faults();
    }

    /// Back to the starting state (what `POST /_sim/reset` does, but for the
    /// operation counts): the world, or the start snapshot, with the same
    /// ids; every fault rule cleared; guest timings set to `initial_timings`.
    /// The clock's scale is left as it is.
    pub fn reset(&self, initial_timings: Option<&GuestTimings>) -> Result<(), String> {
        self.clear_all_faults();
        self.guests.reset();
        if let Some(initial) = initial_timings {
            self.guests.set_timings(initial.clone());
        }
        self.sim.reset(&self.world);
        if let Some(auth) = &self.auth {
            auth.replace_tokens(Vec::new());
        }
        if let Some(bytes) = &self.start_snapshot {
            let snap = crate::snapshot::from_bytes(bytes).map_err(|e| e.to_string())?;
            self.import_snapshot(snap).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The whole state as a snapshot.
    pub fn export_snapshot(&self) -> crate::snapshot::Snapshot {
        match &self.auth {
            Some(auth) => crate::snapshot::export_with_tokens(&self.sim, &self.guests, auth),
            None => crate::snapshot::export(&self.sim, &self.guests),
        }
    }

    /// Replaces the whole state with `snapshot` (nothing changes on an error).
    pub fn import_snapshot(
        &self,
        snapshot: crate::snapshot::Snapshot,
    ) -> Result<(), crate::snapshot::SnapshotError> {
        match &self.auth {
            Some(auth) => {
                crate::snapshot::import_with_tokens(&self.sim, &self.guests, auth, snapshot)
            }
            None => crate::snapshot::import(&self.sim, &self.guests, snapshot),
        }
    }
}

struct Shared {
    token: String,
    targets: OnceLock<Targets>,
    observer: Arc<Observer>,
    initial_timings: OnceLock<GuestTimings>,
}

/// The control API: a token, the routes and (once attached) the simulator
/// they act on. Cheap to clone.
#[derive(Clone)]
pub struct ControlApi {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ControlApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlApi").finish_non_exhaustive()
    }
}

/// A refusal or failure of a control request: status and a message naming
/// what was wrong (JSON `{"error": ...}`).
#[derive(Debug)]
pub struct ControlError(pub StatusCode, pub String);

impl ControlError {
    /// 400 with this message.
    pub fn bad(message: impl Into<String>) -> Self {
        ControlError(StatusCode::BAD_REQUEST, message.into())
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

type Answer = Result<Response, ControlError>;

fn ok(value: impl Serialize) -> Answer {
    Ok(axum::Json(value).into_response())
}

/// Parses a JSON body, naming what was wrong.
pub fn parse<T: for<'de> Deserialize<'de>>(what: &str, body: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(body).map_err(|e| ControlError::bad(format!("invalid {what}: {e}")))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl ControlApi {
    /// A control API with a fresh random token and `observer` counting calls.
    pub fn new(observer: Arc<Observer>) -> Self {
        ControlApi {
            shared: Arc::new(Shared {
                token: crate::secret::token(),
                targets: OnceLock::new(),
                observer,
                initial_timings: OnceLock::new(),
            }),
        }
    }

    /// The bearer token requests must carry.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Points the routes at the running simulator (once; later calls are ignored).
    pub fn attach(&self, targets: Targets) {
        let _ = self.shared.initial_timings.set(targets.guests.timings());
        let _ = self.shared.targets.set(targets);
    }

    fn targets(&self) -> Result<&Targets, ControlError> {
        self.shared.targets.get().ok_or_else(|| {
            ControlError(
                StatusCode::SERVICE_UNAVAILABLE,
                "the simulator is still starting".into(),
            )
        })
    }

    /// The routes under [`PREFIX`], behind the token check.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/_sim/about", get(about))
            .route(
                "/_sim/faults",
                get(list_faults).post(add_fault).delete(clear_faults),
            )
            .route("/_sim/faults/{id}", delete(remove_fault))
            .route("/_sim/clock", get(get_clock).put(put_clock))
            .route("/_sim/clock/advance", post(advance_clock))
            .route("/_sim/reset", post(reset))
            .route("/_sim/snapshot", get(get_snapshot).put(put_snapshot))
            .route("/_sim/{*rest}", axum::routing::any(unknown))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_CONTROL_BODY))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                authorize,
            ))
            .with_state(self.clone())
    }

    /// Clears every fault rule of every surface.
    pub fn clear_all_faults(&self) -> Result<(), ControlError> {
        self.targets()?.clear_all_faults();
        Ok(())
    }
}

async fn authorize(State(api): State<ControlApi>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(t) if constant_time_eq(t.as_bytes(), api.shared.token.as_bytes()) => {
            next.run(request).await
        }
        _ => ControlError(
            StatusCode::UNAUTHORIZED,
            "the control API needs `Authorization: Bearer <token>` with the token of the info file"
                .into(),
        )
        .into_response(),
    }
}

async fn unknown(request: Request) -> Response {
    ControlError(
        StatusCode::NOT_FOUND,
        format!(
            "no control route {} {}; see vcd-sim/CONTROL.md",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

// ----- about -----

async fn about(State(api): State<ControlApi>) -> Answer {
    let t = api.targets()?;
    ok(json!({
        "simulator": "vcd-sim",
        "version": env!("CARGO_PKG_VERSION"),
        "vcd_release": t.release.to_string(),
        "api_versions": t.release.versions().iter().map(|v| v.version).collect::<Vec<_>>(),
        "operations": api.shared.observer.operations(),
    }))
}

// ----- faults -----

/// Surfaces fault rules apply to, as written in JSON.
pub const SURFACES: &[&str] = &["vcd", "vcenter", "guest", "extension"];

fn listed<M: Serialize + Clone + std::fmt::Debug, E: Serialize + crate::faults::Effect>(
    surface: &str,
    set: &FaultSet<M, E>,
) -> Vec<Value> {
    set.list()
        .into_iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut v {
                map.insert("id".into(), json!(format!("{surface}-{}", r.id.0)));
                map.insert("surface".into(), json!(surface));
            }
            v
        })
        .collect()
}

async fn list_faults(State(api): State<ControlApi>) -> Answer {
    let t = api.targets()?;
    let guest = t.guests.faults();
    let rules: Vec<Value> = [
        listed("vcd", &t.rest),
        listed("vcenter", t.vcenter.faults()),
        listed("guest", &guest),
        listed("extension", &t.ext),
    ]
    .concat();
    ok(json!({
        "rules": rules,
        "stats": {
            "vcd": t.rest.stats(),
            "vcenter": t.vcenter.faults().stats(),
            "guest": guest.stats(),
            "extension": t.ext.stats(),
        }
    }))
}

/// Checks the numbers of a rule from a request, naming the field.
fn check_bounds<M, E>(rule: &FaultRule<M, E>) -> Result<(), ControlError> {
    if let Some(d) = rule.delay
        && d > MAX_DELAY
    {
        return Err(ControlError::bad(format!(
            "delay_ms {} is above the most allowed, {}",
            d.as_millis(),
            MAX_DELAY.as_millis()
        )));
    }
    if let Some(t) = rule.times
        && t > MAX_TIMES
    {
        return Err(ControlError::bad(format!(
            "times {t} is above the most allowed, {MAX_TIMES}"
        )));
    }
    if let Some(p) = rule.probability
        && !(0.0..=1.0).contains(&p)
    {
        return Err(ControlError::bad(format!(
            "probability {p} is not between 0 and 1"
        )));
    }
    Ok(())
}

fn add_to<M, E>(
    surface: &str,
    body: Value,
    add: impl FnOnce(FaultRule<M, E>) -> Result<RuleId, crate::faults::FaultError>,
) -> Answer
where
    M: for<'de> Deserialize<'de>,
    E: for<'de> Deserialize<'de>,
{
    let rule: FaultRule<M, E> = serde_json::from_value(body)
        .map_err(|e| ControlError::bad(format!("invalid {surface} fault rule: {e}")))?;
    check_bounds(&rule)?;
    let id = add(rule).map_err(|e| ControlError::bad(e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "id": format!("{surface}-{}", id.0) })),
    )
        .into_response())
}

async fn add_fault(State(api): State<ControlApi>, body: Bytes) -> Answer {
    let t = api.targets()?;
    let mut body: Value = parse("fault rule", &body)?;
    let surface = match body.as_object_mut().and_then(|m| m.remove("surface")) {
        Some(Value::String(s)) => s,
        _ => {
            return Err(ControlError::bad(format!(
                "a fault rule needs `surface`: one of {}",
                SURFACES.join(", ")
            )));
        }
    };
    match surface.as_str() {
        "vcd" => add_to::<HttpMatch, HttpStatus>("vcd", body, |r| t.rest.add(r)),
        "vcenter" => {
            add_to::<VimMatch, InjectedFault>("vcenter", body, |r| t.vcenter.faults().add(r))
        }
        "guest" => add_to::<FaultScope, GuestFaultKind>("guest", body, |r| t.guests.add_fault(r)),
        "extension" => add_to::<ExtMatch, ExtEffect>("extension", body, |r| t.ext.add(r)),
        other => Err(ControlError::bad(format!(
            "surface `{other}` is not one of {}",
            SURFACES.join(", ")
        ))),
    }
}

async fn clear_faults(State(api): State<ControlApi>) -> Answer {
    api.clear_all_faults()?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_fault(State(api): State<ControlApi>, Path(id): Path<String>) -> Answer {
    let t = api.targets()?;
    let bad = || {
        ControlError::bad(format!(
            "fault rule id `{id}` is not <surface>-<number> (as POST /_sim/faults answers)"
        ))
    };
    let (surface, n) = id.rsplit_once('-').ok_or_else(bad)?;
    let n = RuleId(n.parse::<u64>().map_err(|_| bad())?);
    let removed = match surface {
        "vcd" => t.rest.remove(n),
        "vcenter" => t.vcenter.faults().remove(n),
        "guest" => t.guests.remove_fault(n),
        "extension" => t.ext.remove(n),
        _ => return Err(bad()),
    };
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ControlError(
            StatusCode::NOT_FOUND,
            format!("no fault rule {id}"),
        ))
    }
}

// ----- clock -----

fn clock_document(t: &Targets) -> Value {
    json!({
        "scale": t.clock.scale(),
        "controlled": t.clock.is_controlled(),
        "advanced_ms": u64::try_from(t.clock.advanced().as_millis()).unwrap_or(u64::MAX),
        "guest_time": t.guests.now().to_rfc3339(),
        "guest_timings": timings::to_json(&t.guests.timings()),
    })
}

async fn get_clock(State(api): State<ControlApi>) -> Answer {
    ok(clock_document(api.targets()?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    #[serde(default)]
    scale: Option<f64>,
    #[serde(default)]
    guest_timings: Option<serde_json::Map<String, Value>>,
}

async fn put_clock(State(api): State<ControlApi>, body: Bytes) -> Answer {
    let t = api.targets()?;
    let change: ClockChange = parse("clock change", &body)?;
    if let Some(scale) = change.scale {
        if !(scale.is_finite() && (0.0..=MAX_SCALE).contains(&scale)) {
            return Err(ControlError::bad(format!(
                "scale {scale} is not a number from 0 to {MAX_SCALE}"
            )));
        }
        if !t.clock.is_controlled() {
            return Err(ControlError(
                StatusCode::CONFLICT,
                "this simulator's clock is fixed; start it with --control-api".into(),
            ));
        }
    }
    let new_timings = match &change.guest_timings {
        Some(map) => Some(timings::apply(&t.guests.timings(), map).map_err(ControlError::bad)?),
        None => None,
    };
    if let Some(scale) = change.scale {
        t.clock.set_scale(scale);
    }
    if let Some(tm) = new_timings {
        t.guests.set_timings(tm);
    }
    ok(clock_document(t))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    by_ms: u64,
}

async fn advance_clock(State(api): State<ControlApi>, body: Bytes) -> Answer {
    let t = api.targets()?;
    let a: Advance = parse("clock advance (`{\"by_ms\": N}`)", &body)?;
    let by = Duration::from_millis(a.by_ms);
    if by > MAX_ADVANCE {
        return Err(ControlError::bad(format!(
            "by_ms {} is above the most allowed, {}",
            a.by_ms,
            MAX_ADVANCE.as_millis()
        )));
    }
    t.clock.advance(by);
    t.guests.advance_guest_time(by);
    ok(clock_document(t))
}

// ----- reset -----

async fn reset(State(api): State<ControlApi>) -> Answer {
    let t = api.targets()?;
    t.reset(api.shared.initial_timings.get())
        .map_err(|e| ControlError(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    api.shared.observer.reset_counts();
    tracing::info!("vcd-sim: state reset to the starting world");
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- snapshots -----

async fn get_snapshot(State(api): State<ControlApi>) -> Answer {
    let t = api.targets()?;
    let snap = t.export_snapshot();
    let bytes = crate::snapshot::to_bytes(&snap)
        .map_err(|e| ControlError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

async fn put_snapshot(State(api): State<ControlApi>, body: Bytes) -> Answer {
    let t = api.targets()?;
    let snap = crate::snapshot::from_bytes(&body).map_err(|e| ControlError::bad(e.to_string()))?;
    t.import_snapshot(snap)
        .map_err(|e| ControlError::bad(e.to_string()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
