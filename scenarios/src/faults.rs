//! vCD REST faults of `fault: {vcd: ...}` steps, mapped onto the simulator's
//! run-time REST fault rules (`vcd_sim::rest::faults`).

use vcd_sim::assembly::FullSim;
use vcd_sim::faults::FaultRule;
use vcd_sim::rest::faults::{HttpMatch, HttpStatus, RestFaultRule};

use crate::format::VcdFault;

/// The simulator rule for a scenario's vCD fault.
pub fn rule_for(fault: &VcdFault) -> Result<RestFaultRule, String> {
    if fault.status.is_none() && fault.latency.is_none() {
        return Err("a vcd fault needs `status`, `latency` or both".into());
    }
    let method = fault
        .method
        .as_deref()
        .map(|m| {
            http::Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| format!("`{m}` is not an HTTP method"))
        })
        .transpose()?;
    if let Some(status) = fault.status
        && !(400..=599).contains(&status)
    {
        return Err(format!("status {status} is not an error status (400–599)"));
    }
    Ok(FaultRule {
        matcher: HttpMatch {
            method,
            path_contains: fault.path.clone(),
        },
        effect: fault.status.map(HttpStatus),
        delay: fault.latency,
        times: fault.times,
        probability: None,
    })
}

/// Switches on a vCD fault; a description for the report.
pub fn add_vcd_fault(sim: &FullSim, fault: &VcdFault) -> Result<String, String> {
    let rule = rule_for(fault)?;
    let description = describe(&rule);
    sim.http_faults().add(rule).map_err(|e| e.to_string())?;
    Ok(description)
}

/// Switches off every vCD fault.
pub fn clear_vcd_faults(sim: &FullSim) {
    sim.http_faults().clear();
}

/// The report's words for a vCD fault rule.
pub fn describe(rule: &RestFaultRule) -> String {
    let mut what = Vec::new();
    if let Some(HttpStatus(status)) = rule.effect {
        what.push(format!("HTTP {status}"));
    }
    if let Some(latency) = rule.delay {
        what.push(format!("{latency:?} late"));
    }
    let mut scope = String::from("vCD answers");
    if let Some(method) = &rule.matcher.method {
        scope.push_str(&format!(" {method}s"));
    }
    if let Some(path) = &rule.matcher.path_contains {
        scope.push_str(&format!(" on paths with `{path}`"));
    }
    let times = rule
        .times
        .map_or(" until cleared".to_owned(), |t| format!(" {t} time(s)"));
    format!("{scope} {}{times}", what.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fault(status: Option<u16>, latency: Option<u64>, method: Option<&str>) -> VcdFault {
        VcdFault {
            status,
            latency: latency.map(Duration::from_millis),
            method: method.map(str::to_owned),
            path: Some("/api/query".into()),
            times: Some(3),
        }
    }

    #[test]
    fn rules_carry_every_setting() {
        let rule = rule_for(&fault(Some(503), Some(50), Some("get"))).unwrap();
        assert_eq!(rule.matcher.method, Some(http::Method::GET));
        assert_eq!(rule.effect, Some(HttpStatus(503)));
        assert_eq!(rule.delay, Some(Duration::from_millis(50)));
        assert_eq!(rule.times, Some(3));
        assert_eq!(
            describe(&rule),
            "vCD answers GETs on paths with `/api/query` HTTP 503 and 50ms late 3 time(s)"
        );
    }

    #[test]
    fn pointless_or_wrong_faults_are_refused() {
        assert!(
            rule_for(&fault(None, None, None))
                .unwrap_err()
                .contains("needs")
        );
        assert!(
            rule_for(&fault(Some(200), None, None))
                .unwrap_err()
                .contains("not an error")
        );
        assert!(
            rule_for(&fault(Some(503), None, Some("GE T")))
                .unwrap_err()
                .contains("method")
        );
    }
}
