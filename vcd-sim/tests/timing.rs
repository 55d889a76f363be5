//! The time scale: on a non-instant clock tasks are seen queued/running
//! before they succeed, the entity is busy meanwhile (400 BUSY_ENTITY), and a
//! template import task lingers after the last byte.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use vcd_sim::SimBuilder;
use vcd_sim::clock::Clock;

#[tokio::test]
async fn tasks_progress_on_a_scaled_clock() {
    // compose: 0.5 s queued + 5 s running, scaled by 0.05 → 25 ms + 250 ms
    let sim = start_with(
        SimBuilder::new()
            .clock(Clock::scaled(0.05))
            .import_linger(Duration::from_millis(300)),
    )
    .await;
    let alice = sim.alice().await;
    let org = alice.doc(&alice.org_href()).await;
    let vdc = named_link(&org, "application/vnd.vmware.vcloud.vdc+xml", "vdc1");
    let r = alice
        .post(
            &format!("{vdc}/action/composeVApp"),
            "application/vnd.vmware.vcloud.composeVAppParams+xml",
            r#"<ComposeVAppParams name="slow"/>"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let vapp = r.dom();
    assert_eq!(vapp.attr("status"), Some("0"), "being created");
    let task = vapp.child("Tasks").unwrap().child("Task").unwrap();
    assert_eq!(task.attr("status"), Some("queued"));
    let task_href = task.attr("href").unwrap().to_string();
    let vapp_href = vapp.attr("href").unwrap().to_string();
    // busy while the task runs
    let r = alice.delete(&format!("{vapp_href}?force=True")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("BUSY_ENTITY"));
    let mut seen = vec![];
    for _ in 0..200 {
        let s = alice
            .doc(&task_href)
            .await
            .attr("status")
            .unwrap()
            .to_string();
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == "success" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen, vec!["queued", "running", "success"]);
    assert_eq!(
        alice.doc(&vapp_href).await.attr("status"),
        Some("1"),
        "an empty vApp is resolved"
    );

    // the import task is still listed right after the upload, then ends
    let cat = named_link(&org, "application/vnd.vmware.vcloud.catalog+xml", "cse");
    let item = upload_ova(&alice, &cat, "t", &make_ova(&[1u8; 64]), 64).await;
    let tpl_href = item
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let tpl = alice.doc(&tpl_href).await;
    assert_eq!(tpl.attr("status"), Some("8"));
    let import = tpl
        .child("Tasks")
        .expect("import task still listed")
        .child("Task")
        .unwrap();
    assert_eq!(import.attr("status"), Some("running"));
    alice.task_ok(import.attr("href").unwrap()).await;
    assert!(alice.doc(&tpl_href).await.child("Tasks").is_none());
}
