//! The optional `timeouts:` section (new in CSE-RS): a deadline for every wait the
//! server makes, in seconds. The original 1.2.x had none and hung forever
//! (issues #258/#284); each field below has a default, so the section and any of
//! its keys may be left out.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Largest accepted number of seconds (one year): keeps arithmetic on deadlines safe.
pub const MAX_SECONDS: u64 = 365 * 24 * 3600;

/// A duration written in the config file as a number of seconds (integer or
/// decimal; resolution one millisecond).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seconds(Duration);

impl Seconds {
    /// Whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// Milliseconds (the file's resolution).
    pub const fn from_millis(millis: u64) -> Self {
        Self(Duration::from_millis(millis))
    }

    /// Converts a number read from YAML, rounding to the millisecond. `None` when the
    /// number is negative, not finite or above [`MAX_SECONDS`].
    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        if !secs.is_finite() || secs < 0.0 || secs > MAX_SECONDS as f64 {
            return None;
        }
        // In range by the check above, so the cast cannot truncate.
        let millis = (secs * 1000.0).round() as u64;
        Some(Self::from_millis(millis))
    }

    /// The duration.
    pub const fn duration(self) -> Duration {
        self.0
    }

    /// The value as the YAML number it is written as (`30`, `0.25`).
    pub fn to_yaml_number(self) -> String {
        let millis = self.0.as_millis();
        if millis.is_multiple_of(1000) {
            format!("{}", millis / 1000)
        } else {
            let text = format!("{}.{:03}", millis / 1000, millis % 1000);
            text.trim_end_matches('0').to_owned()
        }
    }
}

impl From<Seconds> for Duration {
    fn from(value: Seconds) -> Self {
        value.0
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.to_yaml_number())
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let millis = self.0.as_millis();
        if millis.is_multiple_of(1000) {
            serializer.serialize_u64(self.0.as_secs())
        } else {
            serializer.serialize_f64(millis as f64 / 1000.0)
        }
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;
        impl Visitor<'_> for SecondsVisitor {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a number of seconds between 0 and {MAX_SECONDS}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                if v > MAX_SECONDS {
                    return Err(E::invalid_value(de::Unexpected::Unsigned(v), &self));
                }
                Ok(Seconds::from_secs(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                Seconds::from_secs_f64(v)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
        deserializer.deserialize_any(SecondsVisitor)
    }
}

/// One key of the `timeouts:` section: its name, default and meaning.
#[derive(Clone, Copy, Debug)]
pub struct TimeoutField {
    /// Key in the YAML section.
    pub key: &'static str,
    /// Default in milliseconds.
    pub default_millis: u64,
    /// One-line explanation (also written as a comment by `cse sample`).
    pub doc: &'static str,
}

/// Every key of the `timeouts:` section in the order `cse sample` writes them (sorted).
pub const TIMEOUT_FIELDS: &[TimeoutField] = &[
    TimeoutField {
        key: "broker_reconnect_max",
        default_millis: 30_000,
        doc: "longest pause between AMQP reconnect attempts (backoff doubles up to this)",
    },
    TimeoutField {
        key: "broker_reconnect_min",
        default_millis: 1_000,
        doc: "first pause before reconnecting to the AMQP broker (1.2.x: fixed 5 s)",
    },
    TimeoutField {
        key: "duplicate_request_window",
        default_millis: 600_000,
        doc: "how long a request id is remembered to drop redelivered duplicates",
    },
    TimeoutField {
        key: "extension_reply",
        default_millis: 8_000,
        doc: "budget for a synchronous reply; keep below vCD extensibility.timeout (10 s)",
    },
    TimeoutField {
        key: "guest_ops_poll_interval",
        default_millis: 2_000,
        doc: "pause between polls of a guest process (ListProcessesInGuest)",
    },
    TimeoutField {
        key: "http_connect",
        default_millis: 10_000,
        doc: "TCP/TLS connect to vCD or vCenter",
    },
    TimeoutField {
        key: "http_request",
        default_millis: 120_000,
        doc: "one HTTP request to vCD or vCenter, body included",
    },
    TimeoutField {
        key: "lease_claim_settle",
        default_millis: 2_000,
        doc: "wait between writing a lease claim and reading it back (at most lease_ttl/8); a claim's metadata write must end within 3/4 of it; same on every replica",
    },
    TimeoutField {
        key: "lease_ttl",
        default_millis: 36_000,
        doc: "life of an operation lease; renewed every third of it; takeover within 1.24 times it plus twice lease_claim_settle",
    },
    TimeoutField {
        key: "script",
        default_millis: 1_800_000,
        doc: "one guest script run (kubeadm init/join, template customization)",
    },
    TimeoutField {
        key: "shutdown_grace",
        default_millis: 600_000,
        doc: "wait for in-flight operations on stop before exiting (lease lets another replica resume)",
    },
    TimeoutField {
        key: "tools_ready",
        default_millis: 600_000,
        doc: "VMware Tools running and guest operations ready after power-on",
    },
    TimeoutField {
        key: "vcd_task",
        default_millis: 1_800_000,
        doc: "one vCD task (instantiate, power, capture, upload) to finish",
    },
    TimeoutField {
        key: "vcd_task_poll_interval",
        default_millis: 2_000,
        doc: "longest pause between polls of a vCD task (the first is 50 ms, doubling up to this)",
    },
];

fn default_of(key: &str) -> Seconds {
    let millis = TIMEOUT_FIELDS
        .iter()
        .find(|field| field.key == key)
        .map_or(0, |field| field.default_millis);
    Seconds::from_millis(millis)
}

/// Deadlines for every wait (section `timeouts:`). Each key is optional; see
/// [`TIMEOUT_FIELDS`] for defaults. All values are strictly positive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Longest pause between AMQP reconnect attempts.
    #[serde(default = "defaults::broker_reconnect_max")]
    pub broker_reconnect_max: Seconds,
    /// First pause before reconnecting to the broker; doubles up to the max.
    #[serde(default = "defaults::broker_reconnect_min")]
    pub broker_reconnect_min: Seconds,
    /// How long a request id is remembered to drop redelivered duplicates.
    #[serde(default = "defaults::duplicate_request_window")]
    pub duplicate_request_window: Seconds,
    /// Budget for a synchronous reply (below vCD's `extensibility.timeout`).
    #[serde(default = "defaults::extension_reply")]
    pub extension_reply: Seconds,
    /// Pause between polls of a guest process.
    #[serde(default = "defaults::guest_ops_poll_interval")]
    pub guest_ops_poll_interval: Seconds,
    /// TCP/TLS connect to vCD or vCenter.
    #[serde(default = "defaults::http_connect")]
    pub http_connect: Seconds,
    /// One HTTP request to vCD or vCenter.
    #[serde(default = "defaults::http_request")]
    pub http_request: Seconds,
    /// Wait between writing a lease claim and reading it back (capped at
    /// `lease_ttl / 8`).
    #[serde(default = "defaults::lease_claim_settle")]
    pub lease_claim_settle: Seconds,
    /// Life of an operation lease in vApp metadata.
    #[serde(default = "defaults::lease_ttl")]
    pub lease_ttl: Seconds,
    /// One guest script run.
    #[serde(default = "defaults::script")]
    pub script: Seconds,
    /// Wait for in-flight operations on stop.
    #[serde(default = "defaults::shutdown_grace")]
    pub shutdown_grace: Seconds,
    /// VMware Tools ready after power-on.
    #[serde(default = "defaults::tools_ready")]
    pub tools_ready: Seconds,
    /// One vCD task to finish.
    #[serde(default = "defaults::vcd_task")]
    pub vcd_task: Seconds,
    /// Longest pause between polls of a vCD task (the first is 50 ms).
    #[serde(default = "defaults::vcd_task_poll_interval")]
    pub vcd_task_poll_interval: Seconds,
}

mod defaults {
    use super::{Seconds, default_of};

    macro_rules! default_fns {
        ($($name:ident),* $(,)?) => {
            $(pub(super) fn $name() -> Seconds { default_of(stringify!($name)) })*
        };
    }

    default_fns!(
        broker_reconnect_max,
        broker_reconnect_min,
        duplicate_request_window,
        extension_reply,
        guest_ops_poll_interval,
        http_connect,
        http_request,
        lease_claim_settle,
        lease_ttl,
        script,
        shutdown_grace,
        tools_ready,
        vcd_task,
        vcd_task_poll_interval,
    );
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            broker_reconnect_max: defaults::broker_reconnect_max(),
            broker_reconnect_min: defaults::broker_reconnect_min(),
            duplicate_request_window: defaults::duplicate_request_window(),
            extension_reply: defaults::extension_reply(),
            guest_ops_poll_interval: defaults::guest_ops_poll_interval(),
            http_connect: defaults::http_connect(),
            http_request: defaults::http_request(),
            lease_claim_settle: defaults::lease_claim_settle(),
            lease_ttl: defaults::lease_ttl(),
            script: defaults::script(),
            shutdown_grace: defaults::shutdown_grace(),
            tools_ready: defaults::tools_ready(),
            vcd_task: defaults::vcd_task(),
            vcd_task_poll_interval: defaults::vcd_task_poll_interval(),
        }
    }
}

impl Timeouts {
    /// Every `(key, value)` pair, in [`TIMEOUT_FIELDS`] order.
    pub fn entries(&self) -> [(&'static str, Seconds); 14] {
        [
            ("broker_reconnect_max", self.broker_reconnect_max),
            ("broker_reconnect_min", self.broker_reconnect_min),
            ("duplicate_request_window", self.duplicate_request_window),
            ("extension_reply", self.extension_reply),
            ("guest_ops_poll_interval", self.guest_ops_poll_interval),
            ("http_connect", self.http_connect),
            ("http_request", self.http_request),
            ("lease_claim_settle", self.lease_claim_settle),
            ("lease_ttl", self.lease_ttl),
            ("script", self.script),
            ("shutdown_grace", self.shutdown_grace),
            ("tools_ready", self.tools_ready),
            ("vcd_task", self.vcd_task),
            ("vcd_task_poll_interval", self.vcd_task_poll_interval),
        ]
    }

    /// All deadlines divided by `factor` (at least 1 ms each): lets tests and demos run
    /// a realistic configuration on a faster clock. A factor of 0 is treated as 1.
    pub fn scaled_down(&self, factor: u32) -> Self {
        let factor = factor.max(1);
        let scale = |s: Seconds| {
            let millis = u64::try_from(s.duration().as_millis()).unwrap_or(u64::MAX);
            Seconds::from_millis((millis / u64::from(factor)).max(1))
        };
        Self {
            broker_reconnect_max: scale(self.broker_reconnect_max),
            broker_reconnect_min: scale(self.broker_reconnect_min),
            duplicate_request_window: scale(self.duplicate_request_window),
            extension_reply: scale(self.extension_reply),
            guest_ops_poll_interval: scale(self.guest_ops_poll_interval),
            http_connect: scale(self.http_connect),
            http_request: scale(self.http_request),
            lease_claim_settle: scale(self.lease_claim_settle),
            lease_ttl: scale(self.lease_ttl),
            script: scale(self.script),
            shutdown_grace: scale(self.shutdown_grace),
            tools_ready: scale(self.tools_ready),
            vcd_task: scale(self.vcd_task),
            vcd_task_poll_interval: scale(self.vcd_task_poll_interval),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_follow_the_field_table_and_defaults() {
        let defaults = Timeouts::default();
        let entries = defaults.entries();
        assert_eq!(entries.len(), TIMEOUT_FIELDS.len());
        for ((key, value), field) in entries.iter().zip(TIMEOUT_FIELDS) {
            assert_eq!(*key, field.key);
            assert_eq!(
                value.duration(),
                Duration::from_millis(field.default_millis)
            );
        }
        let mut sorted: Vec<_> = TIMEOUT_FIELDS.iter().map(|f| f.key).collect();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            TIMEOUT_FIELDS.iter().map(|f| f.key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn serialized_keys_match_the_field_table() {
        let value = serde_yaml::to_value(Timeouts::default()).unwrap();
        let keys: Vec<_> = value
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        let table: Vec<_> = TIMEOUT_FIELDS.iter().map(|f| f.key.to_owned()).collect();
        assert_eq!(keys, table);
    }

    #[test]
    fn seconds_accept_integers_and_decimals() {
        let s: Seconds = serde_yaml::from_str("0.25").unwrap();
        assert_eq!(s.duration(), Duration::from_millis(250));
        let s: Seconds = serde_yaml::from_str("30").unwrap();
        assert_eq!(s.duration(), Duration::from_secs(30));
        assert!(serde_yaml::from_str::<Seconds>("-1").is_err());
        assert!(serde_yaml::from_str::<Seconds>(".inf").is_err());
        assert_eq!(Seconds::from_millis(1500).to_yaml_number(), "1.5");
        assert_eq!(Seconds::from_millis(1005).to_yaml_number(), "1.005");
        assert_eq!(Seconds::from_secs(7).to_yaml_number(), "7");
    }

    #[test]
    fn missing_keys_take_defaults() {
        let t: Timeouts = serde_yaml::from_str("script: 60\n").unwrap();
        assert_eq!(t.script, Seconds::from_secs(60));
        assert_eq!(t.vcd_task, Timeouts::default().vcd_task);
    }

    #[test]
    fn scaled_down_divides_and_keeps_a_floor() {
        let t = Timeouts::default().scaled_down(1000);
        assert_eq!(t.script, Seconds::from_millis(1_800));
        assert_eq!(t.broker_reconnect_min, Seconds::from_millis(1));
        assert_eq!(Timeouts::default().scaled_down(0), Timeouts::default());
    }
}
