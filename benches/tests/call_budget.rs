//! What one 3-node create costs vCD and vCenter, counted by the simulator:
//! each VM is read once per operation (its guest and root password are
//! remembered), a script is uploaded executable and removes itself (no
//! `chmod` program, one run per script), an empty output file is not
//! fetched, a step's metadata goes with its journal entry, the template's VM
//! is looked up once. A step that
//! starts reading or calling again fails here.

use benches::scale::{Scale, ScaleSpec, names};
use vcd_sim::control::observe::Operation;

fn calls(served: &[Operation], surface: &str, operation: &str) -> u64 {
    served
        .iter()
        .filter(|op| op.surface == surface && op.operation == operation)
        .map(|op| op.calls)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_create_stays_within_its_call_budget() {
    cse_bus::tls::install_crypto_provider();
    let scale = Scale::start(&ScaleSpec {
        orgs: 2,
        count_calls: true,
        production_polling: true,
        // Leases (and resume passes) at their production cadence: none
        // renewed during the create.
        lease_ttl: Some(cse_core::config::Timeouts::default().lease_ttl.duration()),
        ..ScaleSpec::default()
    })
    .await
    .unwrap();
    scale.login_all().await.unwrap();
    scale.calls();
    let count = 2;
    let errors = scale
        .create_wave(scale.tenant(1), &names("budget", count), 2)
        .await;
    assert!(errors.is_empty(), "{errors:?}");
    let served = scale.calls();
    let per_create =
        |surface: &str, operation: &str| calls(&served, surface, operation) as f64 / count as f64;
    // Five scripts per 3-node create: kubeadm init and the master's address
    // on the master, the join token there, one join on each worker.
    let scripts = 5.0;
    assert_eq!(
        per_create("vcenter", "InitiateFileTransferToGuest"),
        scripts,
        "{served:?}"
    );
    assert_eq!(
        per_create("vcenter", "StartProgramInGuest"),
        scripts,
        "one program per script (no chmod): {served:?}"
    );
    assert_eq!(
        per_create("vcenter", "DeleteFileInGuest"),
        2.0 * scripts,
        "the two output files per script (the script removes itself): {served:?}"
    );
    assert!(
        per_create("vcenter", "guestFile.GET") < 2.0 * scripts,
        "empty outputs are not fetched: {served:?}"
    );
    // Three VMs read once each, the vApp twice per VM batch (before and
    // after its recompose).
    assert_eq!(
        per_create("vcd", "GET /api/vApp/{id}"),
        3.0 + 4.0,
        "{served:?}"
    );
    // The template's VM looked up once per create (query, item, template).
    for lookup in ["GET /api/catalogItem/{id}", "GET /api/vAppTemplate/{id}"] {
        assert_eq!(per_create("vcd", lookup), 1.0, "{lookup}: {served:?}");
    }
    // The cluster's keys with the journal's first entry, the master's
    // address with its `init` entry: one POST each. Single entries: the
    // lease claim and the journal's five other writes.
    assert_eq!(
        per_create("vcd", "POST /api/vApp/{id}/metadata"),
        2.0,
        "{served:?}"
    );
    assert_eq!(
        per_create("vcd", "PUT /api/vApp/{id}/metadata/{key}"),
        6.0,
        "{served:?}"
    );
    // Everything else, but the polls (their number follows the machine's
    // speed): tasks read by the server and the tenant, guest processes,
    // readiness and credentials. 79.5 measured, of which a few are the
    // run's first lookups (vCenter registration and login), which two
    // creates starting together may both make; the step counts above hold
    // the rest exactly.
    let polls = [
        "GET /api/task/{id}",
        "ListProcessesInGuest",
        "RetrievePropertiesEx",
        "ValidateCredentialsInGuest",
    ];
    let rest: u64 = served
        .iter()
        .filter(|op| !polls.contains(&op.operation.as_str()))
        .map(|op| op.calls)
        .sum();
    let rest = rest as f64 / count as f64;
    assert!(rest <= 83.0, "{rest} calls per create: {served:?}");
    scale.shutdown().await;
}
