//! `cse sample`, `version`, `check` (config problems, vCenter mismatches, exit
//! codes) and the questions of `install` (AMQP settings, registration) with and
//! without a terminal; also the real binary for sample/version/usage errors.

mod cli_support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use cli_support::Env;
use cse_core::config::{Secret, VcenterConfig};
use cse_server::cli::ScriptedAnswers;

/// Runs the binary: (exit code, stdout, stderr).
fn binary3(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cse"))
        .args(args)
        .env_remove("CSE_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn binary(args: &[&str]) -> (i32, String) {
    let (code, out, _) = binary3(args);
    (code, out)
}

#[test]
fn sample_is_the_deployed_sample_and_version_is_one_line() {
    let (code, sample) = binary(&["sample"]);
    assert_eq!(code, 0);
    assert_eq!(sample, cse_core::config::sample_config());
    let deployed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/config.sample.yaml"
    ))
    .unwrap();
    let body: String = deployed
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        body, sample,
        "deploy/config.sample.yaml is `cse sample` with a comment"
    );
    let (code, version) = binary(&["version"]);
    assert_eq!(code, 0);
    assert_eq!(
        version,
        format!(
            "CSE, Container Service Extension for VMware vCloud Director, version {}\n",
            cse_core::CSE_VERSION
        )
    );
}

#[test]
fn binary_usage_and_missing_config_fail() {
    let (code, _) = binary(&["frobnicate"]);
    assert_eq!(code, 2);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    let (code, out, err) = binary3(&["check", "-c", missing.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out, "", "errors go to stderr");
    assert!(err.starts_with("Error: "), "{err}");
    assert!(err.contains("nope.yaml"), "{err}");
    let (code, out, err) = binary3(&["install", "-a", "sometimes"]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("sometimes"), "{err}");
}

#[tokio::test]
async fn check_reports_config_problems_and_exits_non_zero() {
    let env = Env::start().await;
    std::fs::set_permissions(&env.config_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out) = env.cse(&["check"]).await;
    assert_eq!(code, 1);
    insta::assert_snapshot!("check_permissions", out);

    std::fs::set_permissions(&env.config_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, out) = env.cse(&["check", "-i", "-t", "centos"]).await;
    assert_eq!(code, 1);
    assert!(
        out.ends_with("Error: Template 'centos' not found in config file (templates: photon-v2)\n"),
        "{out}"
    );
}

#[tokio::test]
async fn every_vcenter_must_be_registered_and_configured() {
    let env = Env::start().await;
    let mut config = env.config();
    let vc1 = config.vcs[0].clone();
    config.vcs.push(VcenterConfig {
        name: "vc2".into(),
        ..vc1.clone()
    });
    env.set_config(&config);
    let (code, out) = env.cse(&["check"]).await;
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    let tail = lines[lines.len() - 2..].join("\n");
    insta::assert_snapshot!("check_vcenter_not_registered", tail);

    config.vcs = vec![VcenterConfig {
        name: "vc9".into(),
        ..vc1.clone()
    }];
    env.set_config(&config);
    let (code, out) = env.cse(&["check"]).await;
    assert_eq!(code, 1);
    assert!(
        out.contains("vCenter 'vc1' registered in vCD but not found in config file"),
        "{out}"
    );

    config.vcs = vec![VcenterConfig {
        password: Secret::new("wrong"),
        ..vc1
    }];
    env.set_config(&config);
    let (code, out) = env.cse(&["check"]).await;
    assert_eq!(code, 1);
    assert!(!out.contains("Connected to vCenter"), "{out}");
    assert!(out.contains("is invalid"), "{out}");
}

#[tokio::test]
async fn vcd_global_amqp_settings_change_only_when_asked() {
    let env = Env::start().await;
    let mut config = env.config();
    config.amqp.prefix = "cse-test".into();
    env.set_config(&config);
    let amqp = |env: &Env| env.sim.handle.state().read().amqp.prefix.clone();
    let original = amqp(&env);

    // No terminal, no flag: the question cannot be asked; nothing changes.
    let (code, out) = env.cse(&["install", "-e", "config"]).await;
    assert_eq!(code, 1);
    insta::assert_snapshot!("amqp_prompt_without_terminal", out.lines().last().unwrap());
    assert_eq!(amqp(&env), original);

    // Answered no: left alone, the install goes on.
    let mut no = ScriptedAnswers {
        answers: [false].into(),
        asked: vec![],
    };
    let (code, out) = env.cse_with(&["install", "-e", "config"], &mut no).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("vCD AMQP settings left unchanged"), "{out}");
    assert_eq!(no.asked.len(), 1);
    assert_eq!(amqp(&env), original);

    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("left unchanged (--yes does not change them; use --amqp config)"),
        "{out}"
    );
    assert_eq!(amqp(&env), original);

    let (code, out) = env.cse(&["install", "-a", "skip", "-e", "skip"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Skipping AMQP configuration (--amqp skip)"),
        "{out}"
    );
    assert_eq!(amqp(&env), original);

    let (code, out) = env.cse(&["install", "-a", "config", "-e", "skip"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Updated vCD AMQP configuration (AmqpPrefix)"),
        "{out}"
    );
    assert_eq!(amqp(&env), "cse-test");
}

#[tokio::test]
async fn registration_asks_first_and_can_be_skipped() {
    let env = Env::start().await;
    let (code, out) = env.cse(&["install", "-a", "skip"]).await;
    assert_eq!(code, 1);
    assert!(
        out.ends_with(
            "Error: Register CSE as the 'cse' API extension of vCD? — cannot ask without a \
             terminal; pass --ext config to register it, --ext skip to leave it, or --yes\n"
        ),
        "{out}"
    );
    assert!(env.sim.handle.state().extension_services().is_empty());

    // A stale registration is updated with --ext config.
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    let mut config = env.config();
    config.amqp.routing_key = "cse2".into();
    env.set_config(&config);
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 1);
    assert!(
        out.contains("config file says 'vcdext' and 'cse2'"),
        "{out}"
    );
    let (code, out) = env.cse(&["install", "-a", "skip", "-e", "config"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Updated the 'cse' extension registration"),
        "{out}"
    );
    let services = env.sim.handle.state().extension_services();
    assert_eq!(services[0].routing_key, "cse2");
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
}
