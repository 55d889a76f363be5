//! `transport-server`: a real server process for the crash tests. It runs
//! the production listener pool (`cse_server::amqp`) over RabbitMQ with a
//! persistent reply journal, and a handler whose every execution is visible
//! to the test: it appends `start <query>` and `done <query>` lines (flushed
//! to disk) to a log file, sleeping in between.
//!
//! `--crash-before-reply` makes the process abort right before it publishes
//! its first reply (after the handler ran and the reply was journaled): the
//! case where the work is done but vCD never heard of it.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use clap::Parser;
use cse_bus::{
    Bus, BusError, ConsumeOptions, Consumer, ExchangeOptions, Message, QueueOptions, RabbitBus,
};
use cse_core::ext::{ExtReply, ExtRequest};
use cse_server::amqp::{Handler, ListenerConfig, ListenerPool, ReplyJournal};

#[derive(Parser)]
struct Args {
    /// Broker URL.
    #[arg(long)]
    url: String,
    #[arg(long)]
    exchange: String,
    #[arg(long)]
    routing_key: String,
    /// Directory of the reply journal.
    #[arg(long)]
    state_dir: PathBuf,
    /// Execution log.
    #[arg(long)]
    log: PathBuf,
    /// Handler duration in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Abort before publishing the first reply.
    #[arg(long)]
    crash_before_reply: bool,
}

struct LoggingHandler {
    log: PathBuf,
    delay: Duration,
}

impl LoggingHandler {
    fn append(&self, line: &str) {
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .and_then(|mut f| {
                f.write_all(format!("{line}\n").as_bytes())?;
                f.sync_data()
            });
        if let Err(e) = written {
            eprintln!("cannot write the execution log: {e}");
        }
    }
}

#[async_trait]
impl Handler for LoggingHandler {
    async fn handle(&self, request: ExtRequest) -> ExtReply {
        let key = request.query_string.clone().unwrap_or_default();
        self.append(&format!("start {key}"));
        tokio::time::sleep(self.delay).await;
        self.append(&format!("done {key}"));
        ExtReply::json(&request, 200, &serde_json::json!({ "echo": key })).expect("JSON reply")
    }
}

/// Aborts the process when the first reply is about to be published.
struct CrashBeforeReply {
    inner: RabbitBus,
    armed: AtomicBool,
    exchange: String,
}

#[async_trait]
impl Bus for CrashBeforeReply {
    async fn declare_exchange(&self, n: &str, o: ExchangeOptions) -> Result<(), BusError> {
        self.inner.declare_exchange(n, o).await
    }
    async fn declare_queue(&self, n: &str, o: QueueOptions) -> Result<(), BusError> {
        self.inner.declare_queue(n, o).await
    }
    async fn delete_queue(&self, n: &str) -> Result<(), BusError> {
        self.inner.delete_queue(n).await
    }
    async fn delete_exchange(&self, n: &str) -> Result<(), BusError> {
        self.inner.delete_exchange(n).await
    }
    async fn bind_queue(&self, q: &str, e: &str, k: &str) -> Result<(), BusError> {
        self.inner.bind_queue(q, e, k).await
    }
    async fn publish(&self, e: &str, k: &str, m: Message) -> Result<(), BusError> {
        if e != self.exchange && self.armed.swap(false, Ordering::SeqCst) {
            eprintln!("transport-server: crashing before publishing a reply");
            std::process::abort();
        }
        self.inner.publish(e, k, m).await
    }
    async fn consume(&self, q: &str, o: ConsumeOptions) -> Result<Box<dyn Consumer>, BusError> {
        self.inner.consume(q, o).await
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cse_bus::tls::install_crypto_provider();
    let args = Args::parse();
    let rabbit = RabbitBus::from_url(&args.url)?;
    let bus: Arc<dyn Bus> = if args.crash_before_reply {
        Arc::new(CrashBeforeReply {
            inner: rabbit,
            armed: AtomicBool::new(true),
            exchange: args.exchange.clone(),
        })
    } else {
        Arc::new(rabbit)
    };
    let journal = ReplyJournal::open(&args.state_dir, 1024)?;
    let config = ListenerConfig {
        listeners: 2,
        prefetch: 4,
        passive_exchange: true,
        reconnect_initial: Duration::from_millis(100),
        reconnect_max: Duration::from_secs(1),
        ..ListenerConfig::new(args.exchange.clone(), args.routing_key.clone())
    };
    let handler = Arc::new(LoggingHandler {
        log: args.log.clone(),
        delay: Duration::from_millis(args.delay_ms),
    });
    let pool = ListenerPool::start(bus, config, handler, journal);
    if !pool.wait_connected(Duration::from_secs(20)).await {
        anyhow::bail!("could not attach to the broker within 20 s");
    }
    println!("ready");
    tokio::signal::ctrl_c().await?;
    pool.stop(Duration::from_secs(10)).await;
    Ok(())
}
