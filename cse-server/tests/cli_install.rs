//! `cse install`, `check -i` and `uninstall` against a fresh full simulator:
//! install from zero, a valid installation, idempotent re-runs, `--update`,
//! a wrong sha256, an interrupted install, and an uninstall that leaves vCD as
//! it was.

mod cli_support;

use cli_support::{CATALOG, Env, TEMPLATE_ITEM};

#[tokio::test]
async fn install_from_zero_then_check_then_second_install_changes_nothing() {
    let env = Env::start().await;
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_ne!(code, 0, "{out}");
    insta::assert_snapshot!("check_before_install", out);

    let (code, out) = env.cse(&["install", "-a", "config", "-e", "config"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("install_from_zero", out);

    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("check_after_install", out);

    let state = env.vcd_state();
    assert!(
        state
            .iter()
            .any(|l| l.starts_with(&format!("template {TEMPLATE_ITEM} ")))
    );
    assert!(
        !state.iter().any(|l| l.starts_with("vapp ")),
        "temp vApp cleaned up: {state:#?}"
    );

    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("install_again", out);
    assert_eq!(env.vcd_state(), state, "a second install changes nothing");
}

#[tokio::test]
async fn update_rebuilds_the_template() {
    let env = Env::installed().await;
    let before = env.vcd_state();
    let (code, out) = env.cse(&["install", "--update", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("install_update", out);
    let after = env.vcd_state();
    let templates = |s: &[String]| -> Vec<String> {
        s.iter()
            .filter(|l| l.starts_with(&format!("template {TEMPLATE_ITEM} ")))
            .cloned()
            .collect()
    };
    assert_eq!(templates(&after).len(), 1);
    assert_ne!(
        templates(&before),
        templates(&after),
        "a new template was captured"
    );
    assert!(!after.iter().any(|l| l.starts_with("vapp ")));
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
}

#[tokio::test]
async fn uninstall_leaves_vcd_as_before_install() {
    let env = Env::start().await;
    let before = env.vcd_state();
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert_ne!(env.vcd_state(), before);

    let (code, out) = env.cse(&["uninstall"]).await;
    assert_ne!(code, 0, "no terminal and no --yes: nothing is removed");
    assert!(out.contains("pass --yes to confirm"), "{out}");
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "still installed: {out}");

    let (code, out) = env.cse(&["uninstall", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("uninstall", out);
    assert_eq!(env.vcd_state(), before);
    let (code, _) = env.cse(&["check", "-i"]).await;
    assert_ne!(code, 0);
}

#[tokio::test]
async fn uninstall_keeps_a_catalog_install_did_not_create() {
    let env = Env::start().await;
    let mut config = env.config();
    config.broker.catalog = "cse".into(); // exists in the default world
    env.set_config(&config);
    let before = env.vcd_state();
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Found catalog 'cse'"), "{out}");
    let (code, out) = env.cse(&["uninstall", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Kept catalog 'cse' (not created by cse install)"),
        "{out}"
    );
    assert_eq!(env.vcd_state(), before);
}

#[tokio::test]
async fn the_built_template_is_visible_to_other_orgs_with_its_password() {
    use cse_core::vcd::VAppTemplate;
    use cse_vcd::vcd::{Credentials, Filter, Query, QueryFormat, VcdConnector, VcdSettings};

    let env = Env::installed().await;
    let config = env.config();
    let connector = VcdConnector::new(VcdSettings::from_config(&config).unwrap()).unwrap();
    // carol is in org `beta`; the catalog is in `acme` and published.
    let carol = connector
        .login(Credentials {
            user: "carol".into(),
            org: "beta".into(),
            password: cse_core::config::Secret::new("carol-pw"),
        })
        .await
        .unwrap();
    let records = carol
        .query(
            &Query::new("catalogItem", QueryFormat::Records)
                .filter(Filter::eq("name", TEMPLATE_ITEM).and_eq("catalogName", CATALOG)),
        )
        .await
        .unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    let template_href = records[0].attr("entity").unwrap();
    let template: VAppTemplate = carol.get_doc(template_href).await.unwrap();
    let vm = &template.vms()[0];
    assert!(
        vm.admin_password().is_some_and(|p| !p.is_empty()),
        "nodes get the template's root password"
    );
}

#[tokio::test]
async fn both_original_templates_build() {
    let env = Env::start().await;
    let ova = cli_support::make_ubuntu_ova(4000);
    let path = env
        .dir
        .path()
        .join("ubuntu-16.04-server-cloudimg-amd64.ova");
    std::fs::write(&path, &ova).unwrap();
    let mut config = env.config();
    let ubuntu = cse_core::config::sample_model()
        .template("ubuntu-16.04")
        .unwrap()
        .clone();
    config
        .broker
        .templates
        .push(cse_core::config::TemplateConfig {
            source_ova: format!("file://{}", path.display()),
            sha256_ova: cli_support::sha256_hex(&ova),
            ..ubuntu
        });
    env.set_config(&config);
    let (code, out) = env.cse(&["install", "--yes", "-t", "ubuntu-16.04"]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = env.cse(&["check", "-i", "-t", "ubuntu-16.04"]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_ne!(code, 0, "photon-v2 is not built yet: {out}");
    assert!(
        out.contains("Template 'photon-custom-hw11-2.0-304b817-k8s' not found in catalog"),
        "{out}"
    );
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Found template 'ubuntu-16.04-server-cloudimg-amd64-k8s'"),
        "{out}"
    );
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");

    let (code, out) = env.cse(&["uninstall", "--yes", "-t", "ubuntu-16.04"]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = env.cse(&["check", "-i", "-t", "photon-v2"]).await;
    assert_eq!(code, 0, "photon-v2 kept: {out}");
}

#[tokio::test]
async fn cleanup_false_keeps_the_temp_vapp_running() {
    let env = Env::start().await;
    let mut config = env.config();
    config.broker.templates[0].cleanup = false;
    config.broker.templates[0].cpu = 3;
    config.broker.templates[0].mem = 3072;
    env.set_config(&config);
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Temp vApp 'photon2-temp' kept (cleanup: false)"),
        "{out}"
    );
    let vms = env.sim.handle.state().vms();
    let temp = vms
        .iter()
        .find(|vm| vm.vapp == "photon2-temp")
        .expect("temp VM kept");
    assert_eq!(
        temp.status, 4,
        "powered on again after the capture: {temp:?}"
    );
    assert_eq!(
        (temp.cpus, temp.memory_mb),
        (3, 3072),
        "cpu and mem from the template"
    );
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("Deleted temp vApp"), "{out}");
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
}

#[tokio::test]
async fn install_follows_the_capture_task_and_reports_its_failure() {
    let env = Env::start().await;
    env.sim
        .handle
        .state()
        .fail_tasks("vdcCaptureTemplate", "Datastore ds1 is full.", 1);
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_ne!(code, 0, "a failed capture fails the install:\n{out}");
    assert!(
        out.contains(&format!(
            "Capturing temp vApp 'photon2-temp' as '{TEMPLATE_ITEM}' failed: "
        )) && out.contains("Datastore ds1 is full."),
        "{out}"
    );
    assert!(
        !out.contains("Created template"),
        "no template is reported after a failed capture:\n{out}"
    );
    // the failed template is not mistaken for a finished one: a re-run rebuilds it
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
}
