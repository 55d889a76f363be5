//! Scale benchmarks over the whole path (tenant HTTPS → simulated vCD →
//! in-memory bus → the real CSE server → reply), on the embedded simulator at
//! time scale 0. Each prints a summary table with ratios measured in the same
//! run, plus the machine's load average:
//!
//! - `p2`: `GET /api/cse` p50/p99 from concurrent clients in orgs holding
//!   1,000 clusters (10 orgs), next to the same request in an empty org.
//! - `p3`: concurrent 3-node creates: clusters/s, failures, the process's RSS,
//!   with the tenants polling their tasks every 50 ms and with the harness
//!   watching the simulator's task records instead; then the calls one create costs.
//! - `growth`: per-create time with 1,000 existing clusters against an empty world.
//! - `soak`: create and delete clusters in waves; descriptors and RSS at start and end.
//! - `delete`: deleting 5 clusters at once, time per round.
//!
//! Run with `cargo bench --bench scale` (all) or `cargo bench --bench scale --
//! p2 growth` (some). Sizes can be scaled down with `CSE_BENCH_SCALE=0.1`
//! (for a quick look; the targets are for the full sizes). Without `--bench`
//! (as under `cargo test`) it does nothing.

use std::time::{Duration, Instant};

use benches::gauges::{self, Snapshot};
use benches::scale::{Accepted, Scale, ScaleSpec, names};
use benches::stats::{Samples, ms, ratio};
use futures::future::join_all;
use scenarios::format::Tenant;

/// The defaults of every part: leases (and the server's resume passes) at
/// their production cadence (`timeouts.lease_ttl`'s default). The scenario
/// runner divides them by 100 at time scale 0, which makes every running
/// operation renew its lease several times a second: load a production
/// server never sees. Each operation's start includes the lease claim's
/// settle time (an eighth of the lease), as in production.
fn spec() -> ScaleSpec {
    ScaleSpec {
        lease_ttl: Some(cse_core::config::Timeouts::default().lease_ttl.duration()),
        ..ScaleSpec::default()
    }
}

/// `n` scaled by `CSE_BENCH_SCALE` (at least 1).
fn sized(n: usize) -> usize {
    let factor: f64 = std::env::var("CSE_BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|f: &f64| *f > 0.0)
        .unwrap_or(1.0);
    ((n as f64 * factor).round() as usize).max(1)
}

/// The allocator the `cse` binary uses, so the server measured here allocates as
/// it does in production.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("scale: nothing to do outside `cargo bench --bench scale`");
        return;
    }
    let chosen: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let wanted = |name: &str| chosen.is_empty() || chosen.contains(&name);
    cse_bus::tls::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        for (name, bench) in BENCHES {
            if wanted(name) {
                println!("\n== {name} (load average {}) ==", gauges::load_average());
                if let Err(e) = bench().await {
                    println!("{name} could not run: {e}");
                }
            }
        }
    });
}

type Bench = fn() -> futures::future::LocalBoxFuture<'static, Result<(), String>>;

const BENCHES: [(&str, Bench); 5] = [
    ("p2", || Box::pin(p2())),
    ("p3", || Box::pin(p3())),
    ("growth", || Box::pin(growth())),
    ("soak", || Box::pin(soak())),
    ("delete", || Box::pin(delete())),
];

/// Creates `per_org` single-VM clusters in each of the orgs `orgs`, `wave`
/// at a time per org (all orgs at once); the failures.
async fn populate(
    scale: &Scale,
    orgs: std::ops::Range<usize>,
    per_org: usize,
    wave: usize,
) -> Vec<String> {
    let mut errors = Vec::new();
    let mut done = 0;
    while done < per_org {
        let n = wave.min(per_org - done);
        let waves = orgs.clone().map(|org| {
            let tenant = scale.tenant(org).clone();
            let names: Vec<String> = (done + 1..=done + n)
                .map(|i| format!("c{org}-{i}"))
                .collect();
            async move { scale.create_wave(&tenant, &names, 0).await }
        });
        for e in join_all(waves).await {
            errors.extend(e);
        }
        done += n;
    }
    errors
}

/// `requests` list calls from `clients` concurrent clients, each a tenant
/// and a session label picked by `client_of(client)`; the latencies and the
/// process's CPU time per request (server, simulator and clients together).
/// Every answer must list `expected` clusters.
async fn list_load(
    scale: &Scale,
    clients: usize,
    requests: usize,
    expected: usize,
    client_of: impl Fn(usize) -> (Tenant, String),
) -> Result<(Samples, Duration), String> {
    let per_client = requests.div_ceil(clients);
    // Sessions are opened before the clock starts.
    for c in 0..clients {
        let (tenant, session) = client_of(c);
        scale.open_session(&tenant, &session).await?;
    }
    let cpu_before = gauges::process_cpu();
    let runs = (0..clients).map(|c| {
        let (tenant, session) = client_of(c);
        async move {
            let mut times = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let (listed, took) = scale.list_in_session(&tenant, &session).await?;
                if listed != expected {
                    return Err(format!(
                        "a list named {listed} clusters, expected {expected}"
                    ));
                }
                times.push(took);
            }
            Ok::<_, String>(times)
        }
    });
    let mut all = Vec::new();
    for r in join_all(runs).await {
        all.extend(r?);
    }
    let cpu = gauges::process_cpu().saturating_sub(cpu_before);
    let per_request = cpu / u32::try_from(all.len().max(1)).unwrap_or(u32::MAX);
    Ok((Samples::new(all), per_request))
}

/// CPU time in milliseconds with two decimals.
fn cpu_ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn p2() -> Result<(), String> {
    let orgs = 10;
    let scale = Scale::start(&ScaleSpec {
        orgs: orgs + 1,
        ..spec()
    })
    .await?;
    let result = p2_run(&scale).await;
    scale.shutdown().await;
    result
}

async fn p2_run(scale: &Scale) -> Result<(), String> {
    scale.login_all().await?;
    let orgs = 10;
    let per_org = sized(100);
    let clients = 50;
    let requests = sized(1000).max(clients);
    let started = Instant::now();
    let errors = populate(scale, 0..orgs, per_org, 10).await;
    if !errors.is_empty() {
        return Err(format!(
            "{} creates failed, first: {}",
            errors.len(),
            errors[0]
        ));
    }
    println!(
        "seeded {} clusters in {orgs} orgs through the server in {:.1} s",
        orgs * per_org,
        started.elapsed().as_secs_f64()
    );
    let (reply, _) = scale.list(scale.tenant(0)).await?;
    let listed = reply.body.as_array().map_or(0, Vec::len);
    if listed != per_org {
        return Err(format!("org 1 lists {listed} clusters, expected {per_org}"));
    }
    let empty_tenant = scale.tenant(orgs).clone();
    let empty = list_load(scale, clients, requests, 0, |_| {
        (empty_tenant.clone(), String::new())
    })
    .await?;
    let full = list_load(scale, clients, requests, per_org, |c| {
        (scale.tenant(c % orgs).clone(), String::new())
    })
    .await?;
    // Every client in a session of its own: nothing to share.
    let distinct = list_load(scale, clients, requests, per_org, |c| {
        (scale.tenant(c % orgs).clone(), format!("client-{c}"))
    })
    .await?;
    let (empty, empty_cpu) = empty;
    let (full, full_cpu) = full;
    let (distinct, distinct_cpu) = distinct;
    println!(
        "GET /api/cse, {clients} concurrent clients, {} requests each case",
        full.len()
    );
    println!("| case | clusters in org | p50 | p99 | CPU per request |");
    println!("|---|---|---|---|---|");
    println!(
        "| empty org | 0 | {} | {} | {} |",
        ms(empty.percentile(50.0)),
        ms(empty.percentile(99.0)),
        cpu_ms(empty_cpu)
    );
    println!(
        "| 10 orgs x {per_org} | {per_org} | {} | {} | {} |",
        ms(full.percentile(50.0)),
        ms(full.percentile(99.0)),
        cpu_ms(full_cpu)
    );
    println!(
        "| ratio | | {} | {} | {} |",
        ratio(full.percentile(50.0), empty.percentile(50.0)),
        ratio(full.percentile(99.0), empty.percentile(99.0)),
        ratio(full_cpu, empty_cpu)
    );
    println!(
        "| 10 orgs x {per_org}, {clients} sessions (one per client) | {per_org} | {} | {} | {} |",
        ms(distinct.percentile(50.0)),
        ms(distinct.percentile(99.0)),
        cpu_ms(distinct_cpu)
    );
    println!(
        "| ratio, one session per client / empty org | | {} | {} | {} |",
        ratio(distinct.percentile(50.0), empty.percentile(50.0)),
        ratio(distinct.percentile(99.0), empty.percentile(99.0)),
        ratio(distinct_cpu, empty_cpu)
    );
    let verdict = |samples: &Samples| {
        if samples.percentile(99.0) < Duration::from_millis(100) {
            "met"
        } else {
            "NOT met"
        }
    };
    println!(
        "target p99 < 100 ms: {} (one session per org), {} (one session per client)",
        verdict(&full),
        verdict(&distinct)
    );
    Ok(())
}

async fn p3() -> Result<(), String> {
    let count = sized(200);
    println!("{count} concurrent 3-node creates in 4 orgs, each way in a world of its own");
    println!(
        "| tasks followed | accepted in | all ended in | succeeded | clusters/s | RSS before | RSS after |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut rates = Vec::new();
    for following in [Following::Polled, Following::Watched] {
        let scale = Scale::start(&ScaleSpec {
            orgs: 4,
            max_operations: u32::try_from(count).unwrap_or(u32::MAX).max(32),
            production_polling: true,
            ..spec()
        })
        .await?;
        let result = p3_run(&scale, count, following).await;
        scale.shutdown().await;
        rates.push(result?);
    }
    println!(
        "(the RSS is this process's: simulator, guests and server together; \"polled\": \
         every tenant reads its task every 50 ms over HTTPS, as earlier figures did; \
         \"watched\": the harness watches the simulator's task records and each tenant \
         reads its task once at the end, as a tenant polling every 5 s (pyvcloud's \
         default) costs the server next to nothing)"
    );
    if let [polled, watched] = rates[..] {
        println!("ratio watched / polled: {:.2}x", watched / polled);
    }
    p3_calls().await
}

/// How the harness learns that the creates' tasks ended.
#[derive(Clone, Copy, Debug)]
enum Following {
    /// Every tenant polls its task over HTTPS every 50 ms.
    Polled,
    /// The simulator's task records are watched; one read per task at the end.
    Watched,
}

/// One wave of `count` creates; its clusters/s.
async fn p3_run(scale: &Scale, count: usize, following: Following) -> Result<f64, String> {
    scale.login_all().await?;
    let before = Snapshot::now();
    let started = Instant::now();
    let shared = scale;
    let creates = (0..count).map(|i| {
        let tenant = shared.tenant(i % 4).clone();
        async move { shared.create(&tenant, &format!("p3-{i}"), 2).await }
    });
    let replies = join_all(creates).await;
    let accepted_in = started.elapsed();
    let mut ops: Vec<Accepted> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for reply in replies {
        match reply {
            Ok(op) => ops.push(op),
            Err(e) => errors.push(e),
        }
    }
    errors.extend(match following {
        Following::Polled => scale.finish_all(&ops).await,
        Following::Watched => scale.finish_all_watched(&ops).await,
    });
    let took = started.elapsed();
    let after = Snapshot::now();
    let succeeded = count - errors.len();
    let rate = succeeded as f64 / took.as_secs_f64();
    println!(
        "| {} | {:.2} s | {:.2} s | {succeeded}/{count} | {rate:.1} | {:.1} MiB | {:.1} MiB |",
        match following {
            Following::Polled => "polled",
            Following::Watched => "watched",
        },
        accepted_in.as_secs_f64(),
        took.as_secs_f64(),
        before.rss_kib as f64 / 1024.0,
        after.rss_kib as f64 / 1024.0
    );
    for e in errors.iter().take(5) {
        println!("  failed: {e}");
    }
    Ok(rate)
}

/// The vCD and vCenter calls one 3-node create costs, counted by the
/// simulator over a few concurrent creates in a world of their own (so the
/// timed run above carries no counting).
async fn p3_calls() -> Result<(), String> {
    let scale = Scale::start(&ScaleSpec {
        orgs: 2,
        production_polling: true,
        count_calls: true,
        ..spec()
    })
    .await?;
    let result = p3_calls_run(&scale).await;
    scale.shutdown().await;
    result
}

async fn p3_calls_run(scale: &Scale) -> Result<(), String> {
    let count = 10;
    scale.login_all().await?;
    scale.calls();
    let names = names("counted", count);
    let errors = scale.create_wave(scale.tenant(1), &names, 2).await;
    if let Some(e) = errors.first() {
        return Err(format!(
            "{} counted creates failed, first: {e}",
            errors.len()
        ));
    }
    let calls = scale.calls();
    let total: u64 = calls.iter().map(|op| op.calls).sum();
    let per = |n: u64| n as f64 / count as f64;
    println!(
        "calls per 3-node create ({count} concurrent, the tenant's task reads included): {:.1}",
        per(total)
    );
    println!("| surface | operation | per create |");
    println!("|---|---|---|");
    for op in &calls {
        println!(
            "| {} | {} | {:.1} |",
            op.surface,
            op.operation,
            per(op.calls)
        );
    }
    Ok(())
}

/// Mean time per create of `count` sequential single-VM creates in org `org`.
async fn per_create(
    scale: &Scale,
    org: usize,
    prefix: &str,
    count: usize,
) -> Result<Samples, String> {
    let tenant = scale.tenant(org).clone();
    let mut times = Vec::new();
    for name in names(prefix, count) {
        let started = Instant::now();
        let op = scale.create(&tenant, &name, 0).await?;
        scale.finish(&op).await?;
        times.push(started.elapsed());
    }
    Ok(Samples::new(times))
}

async fn growth() -> Result<(), String> {
    let orgs = 10;
    let scale = Scale::start(&ScaleSpec {
        orgs: orgs + 2,
        ..spec()
    })
    .await?;
    let result = growth_run(&scale).await;
    scale.shutdown().await;
    result
}

async fn growth_run(scale: &Scale) -> Result<(), String> {
    scale.login_all().await?;
    let orgs = 10;
    let per_org = sized(100);
    let probes = sized(20);
    let empty = per_create(scale, orgs, "empty", probes).await?;
    let errors = populate(scale, 0..orgs, per_org, 10).await;
    if !errors.is_empty() {
        return Err(format!(
            "{} creates failed, first: {}",
            errors.len(),
            errors[0]
        ));
    }
    let crowded = per_create(scale, orgs + 1, "crowded", probes).await?;
    let crowded_own = per_create(scale, 0, "own", probes).await?;
    println!("{probes} sequential single-VM creates (accept to task success) per case");
    println!("| world | mean | p50 | ratio of means |");
    println!("|---|---|---|---|");
    println!(
        "| empty | {} | {} | 1.00x |",
        ms(empty.mean()),
        ms(empty.percentile(50.0))
    );
    println!(
        "| {} clusters in other orgs | {} | {} | {} |",
        orgs * per_org,
        ms(crowded.mean()),
        ms(crowded.percentile(50.0)),
        ratio(crowded.mean(), empty.mean())
    );
    println!(
        "| same, in an org holding {per_org} | {} | {} | {} |",
        ms(crowded_own.mean()),
        ms(crowded_own.percentile(50.0)),
        ratio(crowded_own.mean(), empty.mean())
    );
    println!(
        "target <= 1.2x: {}",
        if crowded.mean().as_secs_f64() <= empty.mean().as_secs_f64() * 1.2 {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}

async fn soak() -> Result<(), String> {
    let orgs = 5;
    // vCD keeps a task until its expiry (90 days); here tasks live 10 s
    // (a few waves), so the simulator's memory does not grow with the task
    // history and the RSS shows what the server keeps.
    let scale = Scale::start(&ScaleSpec {
        orgs,
        task_lifetime: Some(Duration::from_secs(10)),
        ..spec()
    })
    .await?;
    let result = soak_run(&scale).await;
    scale.shutdown().await;
    result
}

async fn soak_run(scale: &Scale) -> Result<(), String> {
    scale.login_all().await?;
    let total = sized(1000);
    let wave = 100.min(total);
    let orgs = 5;
    let start = Snapshot::now();
    println!(
        "| after wave | created | deleted | failures | fds | sockets | RSS | vCD tasks kept |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| start | 0 | 0 | 0 | {} | {} | {:.1} MiB | {} |",
        start.fds,
        start.sockets,
        start.rss_kib as f64 / 1024.0,
        scale.tasks_kept()
    );
    let mut created = 0;
    let mut failures = 0;
    let mut round = 0;
    let started = Instant::now();
    while created < total {
        round += 1;
        let n = wave.min(total - created);
        let tenant = scale.tenant(round % orgs).clone();
        let names = names(&format!("soak{round}"), n);
        let errors = scale.create_wave(&tenant, &names, 0).await;
        failures += errors.len();
        let errors = scale.delete_wave(&tenant, &names).await;
        failures += errors.len();
        created += n;
        let now = Snapshot::now();
        println!(
            "| {round} | {created} | {created} | {failures} | {} | {} | {:.1} MiB | {} |",
            now.fds,
            now.sockets,
            now.rss_kib as f64 / 1024.0,
            scale.tasks_kept()
        );
    }
    let end = Snapshot::now();
    println!(
        "{total} clusters created and deleted in {:.1} s; fds {} -> {} ({}), RSS {:.1} -> {:.1} MiB ({})",
        started.elapsed().as_secs_f64(),
        start.fds,
        end.fds,
        ratio_count(end.fds, start.fds),
        start.rss_kib as f64 / 1024.0,
        end.rss_kib as f64 / 1024.0,
        ratio_count(end.rss_kib as usize, start.rss_kib as usize)
    );
    Ok(())
}

fn ratio_count(a: usize, b: usize) -> String {
    if b == 0 {
        "-".to_owned()
    } else {
        format!("{:.2}x", a as f64 / b as f64)
    }
}

async fn delete() -> Result<(), String> {
    // vCD's task durations at a tenth, and the server polling tasks as in
    // production (2 s, a tenth of it on this clock), so the polling shows;
    // next to the same deletes with a 10 ms poll interval (almost no time
    // lost between a task's end and the server seeing it) as the baseline.
    let time_scale = 0.1;
    let mut means = Vec::new();
    for (label, poll) in [
        ("production poll (2 s)", Duration::from_secs(2)),
        ("baseline poll (10 ms)", Duration::from_millis(10)),
    ] {
        let scale = Scale::start(&ScaleSpec {
            orgs: 1,
            time_scale,
            task_poll_interval: Some(poll),
            ..spec()
        })
        .await?;
        let result = delete_run(&scale, label).await;
        scale.shutdown().await;
        means.push((label, result?));
    }
    println!(
        "production / baseline: {:.2}x",
        means[0].1.as_secs_f64() / means[1].1.as_secs_f64().max(f64::EPSILON)
    );
    Ok(())
}

async fn delete_run(scale: &Scale, label: &str) -> Result<Duration, String> {
    scale.login_all().await?;
    let rounds = 3;
    let time_scale = 0.1;
    let tenant = scale.tenant(0).clone();
    let mut times = Vec::new();
    for round in 1..=rounds {
        let names = names(&format!("del{round}"), 5);
        let errors = scale.create_wave(&tenant, &names, 1).await;
        if !errors.is_empty() {
            return Err(format!("create failed: {}", errors[0]));
        }
        let started = Instant::now();
        let errors = scale.delete_wave(&tenant, &names).await;
        if !errors.is_empty() {
            return Err(format!("delete failed: {}", errors[0]));
        }
        times.push(started.elapsed());
    }
    let samples = Samples::new(times.clone());
    println!(
        "deleting 5 two-VM clusters at once, {rounds} rounds (time scale {time_scale}, {label})"
    );
    println!("| round | time | in vCD time |");
    println!("|---|---|---|");
    for (i, t) in times.iter().enumerate() {
        println!(
            "| {} | {} | {:.2} s |",
            i + 1,
            ms(*t),
            t.as_secs_f64() / time_scale
        );
    }
    println!(
        "| mean | {} | {:.2} s |",
        ms(samples.mean()),
        samples.mean().as_secs_f64() / time_scale
    );
    Ok(samples.mean())
}
