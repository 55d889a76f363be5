//! An interrupted `cse install` (dropped at its first pause after a given step, as
//! a kill would stop it) followed by a re-run always ends with a working template,
//! a valid installation and no temp vApp left; a half-uploaded OVA is redone.

mod cli_support;

use cli_support::{Env, OVA_NAME, TEMPLATE_ITEM};
use cse_core::vcd::{Catalog, UploadVAppTemplateParams};

async fn assert_installed(env: &Env) {
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
    let state = env.vcd_state();
    assert!(
        state
            .iter()
            .any(|l| l.starts_with(&format!("template {TEMPLATE_ITEM} "))),
        "{state:#?}"
    );
    assert!(!state.iter().any(|l| l.starts_with("vapp ")), "{state:#?}");
}

#[tokio::test]
async fn killed_at_any_step_then_rerun_succeeds() {
    for marker in [
        "Registered CSE to vCD",
        "Created catalog",
        "Uploading '",
        "Creating temp vApp",
        "Created temp vApp",
        "Waiting for VM",
        "Customizing VM",
        "Customized VM",
        "Capturing temp vApp",
        "Created template",
    ] {
        let env = Env::start().await;
        let (killed, out) = env.cse_killed_after(&["install", "--yes"], marker).await;
        assert!(killed, "install ended before '{marker}':\n{out}");
        let (code, out) = env.cse(&["install", "--yes"]).await;
        assert_eq!(code, 0, "re-run after a kill at '{marker}':\n{out}");
        assert_installed(&env).await;
    }
}

#[tokio::test]
async fn a_half_built_temp_vapp_is_never_reused() {
    let env = Env::start().await;
    let (killed, _) = env
        .cse_killed_after(&["install", "--yes"], "Customizing VM")
        .await;
    assert!(killed);
    assert!(
        env.vcd_state()
            .iter()
            .any(|l| l.starts_with("vapp photon2-temp")),
        "the kill left the temp vApp behind"
    );
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "Deleted temp vApp 'photon2-temp' left by an interrupted install (not trusted)"
        ),
        "{out}"
    );
    assert!(out.contains("Customized VM 'photon2-temp'"), "{out}");
    assert_installed(&env).await;
}

#[tokio::test]
async fn a_customized_temp_vapp_kept_by_no_capture_is_captured_later() {
    let env = Env::start().await;
    let key = env.dir.path().join("id_rsa.pub");
    std::fs::write(&key, "ssh-rsa AAAAB3Nza test@example\n").unwrap();
    let key = key.to_str().unwrap().to_owned();
    let (code, out) = env.cse(&["install", "--yes", "-n", "-k", &key]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("kept customized and not captured (--no-capture)"),
        "{out}"
    );
    assert!(
        env.vcd_state()
            .iter()
            .any(|l| l.starts_with("vapp photon2-temp"))
    );
    let (code, _) = env.cse(&["check", "-i"]).await;
    assert_ne!(code, 0, "no template yet");

    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Reusing temp vApp 'photon2-temp' (customization finished earlier)"),
        "{out}"
    );
    assert_installed(&env).await;
}

#[tokio::test]
async fn no_capture_needs_an_ssh_key() {
    let env = Env::start().await;
    let (code, out) = env.cse(&["install", "--yes", "-n"]).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--ssh-key"), "{out}");
    assert!(!env.vcd_state().iter().any(|l| l.contains("k8s-templates")));
}

#[tokio::test]
async fn an_incomplete_ova_upload_is_deleted_and_redone() {
    let env = Env::start().await;
    let (killed, _) = env
        .cse_killed_after(&["install", "--yes"], "Published catalog")
        .await;
    assert!(killed);
    // What a crash between the upload request and the last chunk leaves: an item
    // whose template never received its files.
    let config = env.config();
    let connector =
        cse_vcd::vcd::VcdConnector::new(cse_vcd::vcd::VcdSettings::from_config(&config).unwrap())
            .unwrap();
    let client = connector.login_sysadmin(&config).await.unwrap();
    let catalog: Catalog =
        cse_server::cli::lookup::find_catalog(&client, "acme", cli_support::CATALOG)
            .await
            .unwrap()
            .unwrap();
    let upload = catalog
        .capture_href()
        .unwrap()
        .replace("captureVApp", "upload");
    client
        .post_doc(
            &upload,
            &UploadVAppTemplateParams {
                name: OVA_NAME.into(),
                description: Some(String::new()),
            },
        )
        .await
        .unwrap();

    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("Deleted incomplete upload of '{OVA_NAME}'")),
        "{out}"
    );
    assert_installed(&env).await;
}
