//! Guest timings ([`GuestTimings`]) as JSON for the control API: every
//! duration as `<name>_ms`, and `customization_reboot` as a boolean; a
//! change names only the fields it changes.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::guest::GuestTimings;

/// The most a guest timing may be set to.
pub const MAX_TIMING: Duration = Duration::from_secs(24 * 3600);

macro_rules! durations {
    ($m:ident) => {
        $m!(
            boot,
            tools_starting,
            ops_warmup,
            customization_pending,
            process_retention,
            kubeadm_init,
            kubeadm_join,
            discovery_timeout,
            control_plane_timeout,
            package_install,
            package_index_update,
            image_pull,
            download
        )
    };
}

/// The timings as a JSON object.
pub fn to_json(t: &GuestTimings) -> Value {
    let mut map = Map::new();
    macro_rules! put {
        ($($f:ident),*) => {
            $(map.insert(
                concat!(stringify!($f), "_ms").to_owned(),
                json!(u64::try_from(t.$f.as_millis()).unwrap_or(u64::MAX)),
            );)*
        };
    }
    durations!(put);
    map.insert("customization_reboot".into(), json!(t.customization_reboot));
    Value::Object(map)
}

/// `current` with the fields of `change` applied; the error names a field
/// that is unknown, of the wrong type or out of bounds.
pub fn apply(current: &GuestTimings, change: &Map<String, Value>) -> Result<GuestTimings, String> {
    let mut t = current.clone();
    for (name, value) in change {
        if name == "customization_reboot" {
            t.customization_reboot = value
                .as_bool()
                .ok_or("guest_timings.customization_reboot must be true or false")?;
            continue;
        }
        let ms = value.as_u64().ok_or_else(|| {
            format!("guest_timings.{name} must be a whole number of milliseconds")
        })?;
        let d = Duration::from_millis(ms);
        if d > MAX_TIMING {
            return Err(format!(
                "guest_timings.{name} {ms} is above the most allowed, {}",
                MAX_TIMING.as_millis()
            ));
        }
        let mut known = false;
        macro_rules! set {
            ($($f:ident),*) => {
                $(if name == concat!(stringify!($f), "_ms") {
                    t.$f = d;
                    known = true;
                })*
            };
        }
        durations!(set);
        if !known {
            return Err(format!("guest_timings.{name} is not a guest timing"));
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_what_is_wrong() {
        let t = GuestTimings::default();
        let change = |v: Value| apply(&t, v.as_object().unwrap());
        let slow = change(json!({"boot_ms": 120000, "customization_reboot": false})).unwrap();
        assert_eq!(slow.boot, Duration::from_secs(120));
        assert!(!slow.customization_reboot);
        assert_eq!(to_json(&slow)["boot_ms"], 120000);
        assert!(
            change(json!({"boots_ms": 1}))
                .unwrap_err()
                .contains("boots_ms")
        );
        assert!(
            change(json!({"boot_ms": -1}))
                .unwrap_err()
                .contains("boot_ms")
        );
        assert!(
            change(json!({"boot_ms": 999999999999u64}))
                .unwrap_err()
                .contains("most allowed")
        );
    }
}
