//! The original CSE 1.2.5 template scripts run unchanged in the guest model,
//! in the order CSE uses them (init at customization, cust, then mstr, node,
//! nfsd), through the exact vsphere-guest-run flow, and leave the expected state.

mod guest_common;

use guest_common::{OriginalScripts, bootstrap_cluster, check_cluster_state, original_scripts_dir};

async fn run_template(template: &str) {
    let Some(dir) = original_scripts_dir() else {
        return;
    };
    let started = std::time::Instant::now();
    let cluster = bootstrap_cluster(&OriginalScripts(dir), template).await;
    check_cluster_state(&cluster).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "bootstrap too slow: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn original_photon_v2_scripts_bootstrap_a_cluster() {
    run_template("photon-v2").await;
}

#[tokio::test]
async fn original_ubuntu_16_04_scripts_bootstrap_a_cluster() {
    run_template("ubuntu-16.04").await;
}
