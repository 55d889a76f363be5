//! Finding a RabbitMQ broker for tests.
//!
//! Tests that need a broker read `CSE_TEST_AMQP_URL` (the project's test command,
//! `scripts/test.sh`, installs and starts RabbitMQ and sets it). With the
//! `testcontainers` feature and no URL, a RabbitMQ container is started instead.
//! When no broker can be had: under `CI=true` the test fails; elsewhere it is
//! skipped with a printed reason.

/// Environment variable naming the broker used by tests.
pub const TEST_AMQP_URL_VAR: &str = "CSE_TEST_AMQP_URL";

/// A broker a test may use. Keeps any container alive while held.
pub struct TestBroker {
    /// `amqp://user:pass@host:port/vhost` of the broker.
    pub url: String,
    #[cfg(feature = "testcontainers")]
    _container: Option<
        testcontainers_modules::testcontainers::ContainerAsync<
            testcontainers_modules::rabbitmq::RabbitMq,
        >,
    >,
}

/// Whether a missing broker must fail the run (CI) rather than skip the test.
pub fn broker_required() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// Returns the broker to test against, or `None` (after printing why) when the
/// test should be skipped.
///
/// # Panics
/// When no broker is available and `CI=true`: in CI a missing broker is a failure.
pub async fn test_broker() -> Option<TestBroker> {
    if let Ok(url) = std::env::var(TEST_AMQP_URL_VAR)
        && !url.trim().is_empty()
    {
        return Some(TestBroker {
            url,
            #[cfg(feature = "testcontainers")]
            _container: None,
        });
    }
    #[cfg(feature = "testcontainers")]
    {
        use testcontainers_modules::testcontainers::runners::AsyncRunner;
        match testcontainers_modules::rabbitmq::RabbitMq::default()
            .start()
            .await
        {
            Ok(container) => {
                let host = container.get_host().await.map(|h| h.to_string());
                let port = container.get_host_port_ipv4(5672).await;
                if let (Ok(host), Ok(port)) = (host, port) {
                    return Some(TestBroker {
                        url: format!("amqp://guest:guest@{host}:{port}/%2f"),
                        _container: Some(container),
                    });
                }
            }
            Err(e) => eprintln!("could not start RabbitMQ through testcontainers: {e}"),
        }
    }
    let reason = format!(
        "no RabbitMQ broker: set {TEST_AMQP_URL_VAR} (scripts/test.sh installs and starts one)"
    );
    if broker_required() {
        panic!("{reason}; CI=true, so a missing broker is a failure");
    }
    eprintln!("skipping broker test: {reason}");
    None
}

/// A lock on the shared test broker, held for the duration of a test.
///
/// Tests that stop or restart the broker take it exclusively
/// ([`broker_lock_exclusive`]); other broker tests take it shared
/// ([`broker_lock_shared`]) so they never run while the broker is being
/// restarted, even when test binaries run in parallel (e.g. under nextest).
pub struct BrokerLock {
    _file: std::fs::File,
}

fn broker_lock_file() -> std::io::Result<std::fs::File> {
    let path = std::env::temp_dir().join("cse-rs-test-broker.lock");
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// Takes the broker lock shared (blocks while a disruptive test runs).
pub fn broker_lock_shared() -> std::io::Result<BrokerLock> {
    let file = broker_lock_file()?;
    file.lock_shared()?;
    Ok(BrokerLock { _file: file })
}

/// Takes the broker lock exclusively (for tests that stop or restart the broker).
pub fn broker_lock_exclusive() -> std::io::Result<BrokerLock> {
    let file = broker_lock_file()?;
    file.lock()?;
    Ok(BrokerLock { _file: file })
}
