//! Loading config files from disk (permissions, missing file, encoding) and the
//! golden outputs: `cse sample` text and a multi-problem error report.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use cse_core::config::{
    Config, ConfigError, ConfigProblem, PermissionClass, Seconds, sample_config, sample_model,
};

fn write(dir: &Path, name: &str, text: &str, mode: u32) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// The example file from the 1.2.x install guide (seed 001), comments included:
/// written for the original server, it must load unchanged.
const INSTALL_GUIDE_EXAMPLE: &str = r#"# Sample CSE configuration file.
amqp:
  exchange: cse-exchange
  host: bos1-vcd-sp-static-202-42.eng.vmware.com
  password: amqp_password
  port: 5672
  prefix: cse-prefix-vcd
  routing_key: cse-routing-key
  ssl: false
  ssl_accept_all: false
  username: amqp_user
  vhost: /

vcd:
  api_version: '31.0'
  host: 10.150.201.243
  log: true
  password: vc_admin_password
  port: 443
  username: administrator
  verify: false

vcs:
- name: vcenter1
  password: vc_admin_password
  username: administrator@vsphere.local
  verify: false

service:
  listeners: 5

broker:
  catalog: cse-cat # public shared catalog within org where the template will be published
  cse_msg_dir: /tmp/cse # not used
  default_template: ubuntu-16.04 # name of the default template to use if none is specified
  ip_allocation_mode: pool # dhcp or pool
  network: Outside # org network within @vdc that will be used during the install process to build the template
                          # Should have outbound access to the public internet
                          # CSE appliance doesn't need to be connected to this network
  org: cse_org_1 # vCD org that contains the shared catalog where the master templates will be stored
  storage_profile: '*' # name of the storage profile to use when creating the temporary vApp used to build the template
  templates:
  - admin_password: guest_os_admin_password
    catalog_item: ubuntu-16.04-server-cloudimg-amd64-k8s
    # Clean marked false to work around https://github.com/vmware/container-service-extension/issues/170
    cleanup: false
    cpu: 2
    description: 'Ubuntu 16.04

      Docker 18.03.0~ce

      Kubernetes 1.10.1

      weave 2.3.0'
    mem: 2048
    name: ubuntu-16.04
    sha256_ova: 3c1bec8e2770af5b9b0462e20b7b24633666feedff43c099a6fb1330fcc869a9
    source_ova: https://cloud-images.ubuntu.com/releases/xenial/release-20180418/ubuntu-16.04-server-cloudimg-amd64.ova
    source_ova_name: ubuntu-16.04-server-cloudimg-amd64.ova
    temp_vapp: ubuntu1604-temp
  - admin_password: guest_os_admin_password
    catalog_item: photon-custom-hw11-2.0-304b817-k8s
    cleanup: true
    cpu: 2
    description: 'PhotonOS v2

      Docker 17.06.0-4

      Kubernetes 1.9.1

      weave 2.3.0'
    mem: 2048
    name: photon-v2
    sha256_ova: cb51e4b6d899c3588f961e73282709a0d054bb421787e140a1d80c24d4fd89e1
    source_ova: http://dl.bintray.com/vmware/photon/2.0/GA/ova/photon-custom-hw11-2.0-304b817.ova
    source_ova_name: photon-custom-hw11-2.0-304b817.ova
    temp_vapp: photon2-temp
  type: default
  vdc: cse_vdc_1 # VDC within @org that will be used during the install process to build the template
"#;

#[test]
fn sample_output_is_golden() {
    insta::assert_snapshot!("sample_config", sample_config());
}

#[test]
fn sample_layout_matches_the_original() {
    let text = sample_config();
    let sections: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(
        sections.len(),
        7,
        "five 1.2.x sections, timeouts and limits"
    );
    for (block, name) in sections
        .iter()
        .zip(["amqp:", "vcd:", "vcs:", "service:", "broker:"])
    {
        assert!(block.starts_with(name), "{block}");
        // Keys sorted within the section (and within each list entry), as
        // yaml.safe_dump did.
        let mut groups: Vec<Vec<String>> = vec![Vec::new()];
        for line in block.lines().skip(1) {
            if let Some(item) = line.strip_prefix("- ") {
                groups.push(vec![item.split(':').next().unwrap().to_owned()]);
            } else if line.starts_with("  ") && !line.starts_with("   ") {
                let key = line.trim().split(':').next().unwrap().to_owned();
                if !key.starts_with('-') && !key.starts_with('#') {
                    groups.last_mut().unwrap().push(key);
                }
            }
        }
        for keys in groups {
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            assert_eq!(keys, sorted, "{name}");
        }
    }
    assert!(sections[5].contains("\ntimeouts:\n"), "{}", sections[5]);
    assert!(sections[6].contains("\nlimits:\n"), "{}", sections[6]);
    assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
    assert!(!text.contains('{'), "block style only");
}

#[test]
fn install_guide_example_loads_with_defaults_for_new_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "config.yaml", INSTALL_GUIDE_EXAMPLE, 0o600);
    let config = Config::load(&path).unwrap();
    assert_eq!(config.amqp.routing_key, "cse-routing-key");
    assert_eq!(config.vcd.api_version, "31.0");
    assert_eq!(
        config.broker.default_template().unwrap().name,
        "ubuntu-16.04"
    );
    assert_eq!(
        config.template("photon-v2").unwrap().description,
        "PhotonOS v2\nDocker 17.06.0-4\nKubernetes 1.9.1\nweave 2.3.0"
    );
    assert!(!config.service.enforce_authorization);
    assert_eq!(config.timeouts.script, Seconds::from_secs(1800));
    assert_eq!(config.limits, cse_core::config::Limits::default());
}

#[test]
fn load_of_the_sample_with_safe_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "config.yaml", &sample_config(), 0o600);
    assert_eq!(Config::load(&path).unwrap(), sample_model());
    let path = write(dir.path(), "readonly.yaml", &sample_config(), 0o400);
    assert!(Config::load(&path).is_ok());
}

#[test]
fn permission_and_content_problems_are_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let text = sample_config().replace("  listeners: 5\n", "  listeners: 0\n");
    let path = write(dir.path(), "config.yaml", &text, 0o777);
    let error = Config::load(&path).unwrap_err();
    let file = path.display().to_string();
    let classes: Vec<PermissionClass> = error
        .problems()
        .iter()
        .filter_map(|p| match p {
            ConfigProblem::Permission(p) => Some(p.class),
            _ => None,
        })
        .collect();
    assert_eq!(
        classes,
        [
            PermissionClass::OwnerExecute,
            PermissionClass::Others,
            PermissionClass::Group
        ]
    );
    let text = error.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            format!("Remove execute permission of the Owner for the file {file}"),
            format!("Remove read, write and execute permissions of Others for the file {file}"),
            format!("Remove read, write and execute permissions of Group for the file {file}"),
            format!(
                "config file '{file}', 'service' section key 'listeners': value should be between 1 and 1000"
            ),
            format!("Config file '{file}' is invalid"),
        ]
    );
}

#[test]
fn group_readable_file_alone_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "config.yaml", &sample_config(), 0o640);
    let error = Config::load(&path).unwrap_err();
    assert_eq!(error.problems().len(), 1);
    assert_eq!(
        error.problems()[0].to_string(),
        format!(
            "Remove read, write and execute permissions of Group for the file {}",
            path.display()
        )
    );
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.yaml");
    let error = Config::load(&path).unwrap_err();
    assert!(matches!(error, ConfigError::NotFound { .. }));
    assert_eq!(
        error.to_string(),
        format!("Config file '{}' not found", path.display())
    );
}

#[test]
fn a_directory_is_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    let error = Config::load(dir.path()).unwrap_err();
    assert!(matches!(error, ConfigError::Unreadable { .. }), "{error:?}");
    assert!(error.to_string().starts_with("Cannot read config file '"));
}

#[test]
fn non_utf8_file_is_a_syntax_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bin.yaml");
    fs::write(&path, [0xff, 0xfe, b'a']).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let error = Config::load(&path).unwrap_err();
    assert!(matches!(error, ConfigError::Syntax { .. }), "{error:?}");
    assert!(error.to_string().contains("not UTF-8"));
}

#[test]
fn syntax_error_in_a_file_names_the_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.yaml", "amqp:\n  host: a\n bad: [\n", 0o600);
    let error = Config::load(&path).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "Config file '{}' is not valid YAML",
            path.display()
        )),
        "{text}"
    );
    assert!(
        matches!(error, ConfigError::Syntax { line: Some(_), .. }),
        "{text}"
    );
}

#[test]
fn multi_problem_report_is_golden() {
    let text = sample_config()
        .replace("  host: amqp.vmware.com\n", "  hostname: amqp.vmware.com\n")
        .replace("  port: 5672\n", "  port: '5672'\n")
        .replace("  api_version: '29.0'\n", "  api_version: 29.0\n")
        .replace(
            "  verify: false\n- name: vc2",
            "  verify: 'no'\n- name: vc2",
        )
        .replace("  listeners: 5\n", "  listeners: 0\n")
        .replace(
            "  default_template: photon-v2\n",
            "  default_template: centos-7\n",
        )
        .replace("  name: ubuntu-16.04\n", "  name: photon-v2\n")
        .replace(
            "  ip_allocation_mode: pool\n",
            "  ip_allocation_mode: static\n",
        )
        .replace(
            "  sha256_ova: 3c1bec8e2770af5b9b0462e20b7b24633666feedff43c099a6fb1330fcc869a9\n",
            "  sha256_ova: 3c1bec8e\n",
        )
        .replace("  script: 1800\n", "  script: -1\n")
        .replace("  cpu: 2\n", "  cpus: 2\n");
    let error = Config::from_yaml_str(&text, "/etc/cse/config.yaml").unwrap_err();
    insta::assert_snapshot!("multi_problem_report", error.to_string());
}
