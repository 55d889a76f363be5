//! Shared helpers of the guest-model tests: obtaining the original CSE 1.2.5
//! scripts (fixtures, never committed), the vsphere-guest-run script flow
//! (upload, chmod, run with redirected output, poll, download, clean up), and
//! building template and cluster VMs the way CSE does.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use vcd_sim::guest::{GuestConfig, GuestWorld};
use vcd_sim::guest_api::{
    Customization, DiskId, GuestCredentials, GuestFault, GuestLifecycle, GuestOps, ProgramSpec,
};

pub const TEMPLATES: &[&str] = &["photon-v2", "ubuntu-16.04"];

/// OVA file names CSE's sample config uses, as the OS hint.
pub fn ova_hint(template: &str) -> &'static str {
    if template.starts_with("photon") {
        "photon-custom-hw11-2.0-304b817.ova"
    } else {
        "ubuntu-16.04-server-cloudimg-amd64.ova"
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate has a parent")
        .to_path_buf()
}

fn has_scripts(dir: &Path) -> bool {
    ["init", "cust", "mstr", "node", "nfsd"].iter().all(|kind| {
        TEMPLATES
            .iter()
            .all(|t| dir.join(format!("{kind}-{t}.sh")).is_file())
    })
}

/// Directory holding the original CSE 1.2.5 scripts: `CSE_ORIGINAL_SCRIPTS_DIR`,
/// else the cache `target/cse-1.2.5-scripts` (filled by
/// `scripts/fetch-original-scripts.sh`). `None` (with a printed reason) when
/// unavailable outside CI; a panic under `CI=true`.
pub fn original_scripts_dir() -> Option<PathBuf> {
    static FETCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serialized = FETCH.lock().unwrap_or_else(|e| e.into_inner());
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let reason = if let Ok(dir) = std::env::var("CSE_ORIGINAL_SCRIPTS_DIR") {
        let dir = PathBuf::from(dir);
        if has_scripts(&dir) {
            return Some(dir);
        }
        format!(
            "CSE_ORIGINAL_SCRIPTS_DIR={} does not hold the CSE 1.2.5 scripts",
            dir.display()
        )
    } else {
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace_root().join("target"));
        let cache = target.join("cse-1.2.5-scripts");
        if has_scripts(&cache) {
            return Some(cache);
        }
        let status =
            std::process::Command::new(workspace_root().join("scripts/fetch-original-scripts.sh"))
                .arg(&cache)
                .status();
        match status {
            Ok(s) if s.success() && has_scripts(&cache) => return Some(cache),
            Ok(s) => format!("scripts/fetch-original-scripts.sh failed ({s})"),
            Err(e) => format!("could not run scripts/fetch-original-scripts.sh: {e}"),
        }
    };
    if ci {
        panic!("original CSE 1.2.5 scripts are required under CI=true: {reason}");
    }
    eprintln!("SKIPPED: original CSE 1.2.5 scripts unavailable: {reason}");
    None
}

/// A script kind (`init`, `cust`, ...) for a template.
pub trait ScriptSource {
    fn script(&self, kind: &str, template: &str) -> String;
}

/// The original CSE 1.2.5 scripts.
pub struct OriginalScripts(pub PathBuf);

impl ScriptSource for OriginalScripts {
    fn script(&self, kind: &str, template: &str) -> String {
        std::fs::read_to_string(self.0.join(format!("{kind}-{template}.sh")))
            .expect("script readable")
    }
}

/// This project's own scripts in `cse-server/scripts/templates`.
pub struct OwnScripts;

impl ScriptSource for OwnScripts {
    fn script(&self, kind: &str, template: &str) -> String {
        let path =
            workspace_root().join(format!("cse-server/scripts/templates/{template}/{kind}.sh"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

pub fn creds(password: &str) -> GuestCredentials {
    GuestCredentials {
        username: "root".into(),
        password: password.into(),
    }
}

pub fn world() -> GuestWorld {
    GuestWorld::new(GuestConfig::instant(42))
}

/// Output of one script run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRun {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn unique() -> String {
    format!(
        "6f1c2d4e-{:04x}-11e8-9c3a-005056a1b2c3",
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// Waits until the process has an exit code (bounded in real time).
pub async fn wait_for_exit(
    world: &GuestWorld,
    moref: &str,
    creds: &GuestCredentials,
    pid: i64,
) -> Result<i32, GuestFault> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = world.list_processes(moref, creds, Some(&[pid]))?;
        let process = list
            .first()
            .unwrap_or_else(|| panic!("process not found (pid={pid})"));
        if let Some(code) = process.exit_code {
            assert!(process.end_time.is_some(), "exit code without end time");
            return Ok(code);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "process {pid} did not finish: {process:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Runs `program arguments > out 2> err`, polls, downloads both files and
/// removes them, as vsphere-guest-run 0.0.7 does.
pub async fn run_with_output(
    world: &GuestWorld,
    moref: &str,
    creds: &GuestCredentials,
    program: &str,
    arguments: &str,
) -> Result<ScriptRun, GuestFault> {
    let id = unique();
    let spec = ProgramSpec {
        program_path: program.into(),
        arguments: format!("{arguments} > /tmp/{id}.out 2> /tmp/{id}.err"),
        working_directory: None,
        env: vec![],
    };
    let pid = world.start_program(moref, creds, spec).await?;
    let exit_code = wait_for_exit(world, moref, creds, pid).await?;
    let stdout =
        String::from_utf8(world.read_file(moref, creds, &format!("/tmp/{id}.out"))?).expect("utf8");
    let stderr =
        String::from_utf8(world.read_file(moref, creds, &format!("/tmp/{id}.err"))?).expect("utf8");
    let rm = ProgramSpec {
        program_path: "/bin/rm".into(),
        arguments: format!("-rf /tmp/{id}.*"),
        working_directory: None,
        env: vec![],
    };
    world.start_program(moref, creds, rm).await?;
    Ok(ScriptRun {
        exit_code,
        stdout,
        stderr,
    })
}

/// `execute_script_in_guest`: upload `/tmp/<uuid>.sh`, chmod, run with
/// redirected output, poll, download the outputs, delete the script.
pub async fn execute_script(
    world: &GuestWorld,
    moref: &str,
    password: &str,
    script: &str,
) -> Result<ScriptRun, GuestFault> {
    let creds = creds(password);
    let path = format!("/tmp/{}.sh", unique());
    world.write_file(moref, &creds, &path, script.as_bytes(), false)?;
    run_with_output(world, moref, &creds, "/bin/chmod", &format!(" u+rx {path}")).await?;
    let run = run_with_output(world, moref, &creds, &path, "").await?;
    world.delete_file(moref, &creds, &path)?;
    Ok(run)
}

/// A template as `cse install` builds it: temp VM from the OVA, customized
/// with `init`, `cust` run as root, then captured. Returns (disk, root password).
pub async fn build_template(
    world: &GuestWorld,
    scripts: &dyn ScriptSource,
    template: &str,
    ip: &str,
) -> (DiskId, String) {
    let ova = world.import_disk(ova_hint(template));
    let moref = format!("vm-temp-{template}");
    let password = format!("Auto-{template}-pw1");
    world
        .create_vm(&moref, &format!("{template}-temp"), ova)
        .unwrap();
    world.set_ip_address(&moref, Some(ip.into())).unwrap();
    world
        .power_on(
            &moref,
            Some(Customization {
                computer_name: format!("{template}-temp").replace('.', "-"),
                admin_password: Some(password.clone()),
                script: Some(scripts.script("init", template)),
            }),
        )
        .unwrap();
    let record = world.customization_record(&moref).expect("customized");
    assert_eq!(
        record.script_exit_codes,
        vec![0, 0],
        "init script failed:\n{}",
        record.log
    );
    let cust = execute_script(world, &moref, &password, &scripts.script("cust", template))
        .await
        .unwrap();
    assert_eq!(
        cust.exit_code, 0,
        "cust failed:\nstdout:\n{}\nstderr:\n{}",
        cust.stdout, cust.stderr
    );
    assert!(
        cust.stdout.contains("customization completed"),
        "{}",
        cust.stdout
    );
    world.shutdown(&moref).unwrap();
    let disk = world.snapshot_disk(&moref).unwrap();
    (disk, password)
}

/// A cluster VM as CSE adds it: created from the template, customized with
/// its computer name (no admin password), probed with `uname -a`, then root's
/// password is set with a fire-and-forget `chpasswd`.
pub async fn add_node(
    world: &GuestWorld,
    template_disk: DiskId,
    template_password: &str,
    name: &str,
    ip: &str,
    password: &str,
) -> String {
    let moref = format!("vm-{name}");
    world.create_vm(&moref, name, template_disk).unwrap();
    world.set_ip_address(&moref, Some(ip.into())).unwrap();
    world
        .power_on(
            &moref,
            Some(Customization {
                computer_name: name.into(),
                admin_password: None,
                script: None,
            }),
        )
        .unwrap();
    let probe = execute_script(
        world,
        &moref,
        template_password,
        "#!/usr/bin/env bash\nuname -a\n",
    )
    .await
    .unwrap();
    assert_eq!(probe.exit_code, 0, "{probe:?}");
    assert!(probe.stdout.starts_with("Linux "), "{probe:?}");
    let spec = ProgramSpec {
        program_path: "/bin/echo".into(),
        arguments: format!(" \"root:{password}\" | chpasswd"),
        working_directory: None,
        env: vec![],
    };
    world
        .start_program(&moref, &creds(template_password), spec)
        .await
        .unwrap();
    moref
}

/// CSE's `get_init_info`: token and master IP from the master.
pub async fn init_info(world: &GuestWorld, master: &str, password: &str) -> (String, String) {
    let run = execute_script(
        world,
        master,
        password,
        "#!/usr/bin/env bash\nkubeadm token create\nip route get 1 | awk '{print $NF;exit}'\n",
    )
    .await
    .unwrap();
    assert_eq!(run.exit_code, 0, "{run:?}");
    let words: Vec<&str> = run.stdout.split_whitespace().collect();
    assert_eq!(words.len(), 2, "{run:?}");
    (words[0].to_owned(), words[1].to_owned())
}

/// Formats a node script as CSE does (`{token}`, `{ip}`).
pub fn node_script(scripts: &dyn ScriptSource, template: &str, token: &str, ip: &str) -> String {
    scripts
        .script("node", template)
        .replace("{token}", token)
        .replace("{ip}", ip)
}

/// What a full bootstrap produced.
pub struct Cluster {
    pub world: GuestWorld,
    pub template_disk: DiskId,
    pub template_password: String,
    pub master: String,
    pub workers: Vec<String>,
    pub nfs: String,
    pub password: String,
    pub master_ip: String,
}

pub const ROOT_PASSWORD: &str = "Cluster-Root-pw9";

/// The whole CSE flow: template (init, cust), master (mstr), master IP,
/// two workers (node with a fresh token), one NFS node (nfsd). Asserts every
/// script succeeded and checks the end state every template must reach.
pub async fn bootstrap_cluster(scripts: &dyn ScriptSource, template: &str) -> Cluster {
    let world = world();
    let (template_disk, template_password) =
        build_template(&world, scripts, template, "10.0.0.9").await;
    check_template_state(&world, template);
    let password = ROOT_PASSWORD.to_owned();
    let master = add_node(
        &world,
        template_disk,
        &template_password,
        "mstr-k3x9",
        "10.0.0.10",
        &password,
    )
    .await;
    let mstr = execute_script(
        &world,
        &master,
        &password,
        &scripts.script("mstr", template),
    )
    .await
    .unwrap();
    assert_eq!(mstr.exit_code, 0, "mstr failed: {mstr:?}");
    let ip_run = execute_script(
        &world,
        &master,
        &password,
        "#!/usr/bin/env bash\nip route get 1 | awk '{print $NF;exit}'\n",
    )
    .await
    .unwrap();
    let master_ip = ip_run
        .stdout
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(master_ip, "10.0.0.10");
    let mut workers = Vec::new();
    for (name, ip) in [("node-a1b2", "10.0.0.11"), ("node-c3d4", "10.0.0.12")] {
        workers.push(
            add_node(
                &world,
                template_disk,
                &template_password,
                name,
                ip,
                &password,
            )
            .await,
        );
    }
    let (token, ip) = init_info(&world, &master, &password).await;
    assert_eq!(ip, master_ip);
    for worker in &workers {
        let run = execute_script(
            &world,
            worker,
            &password,
            &node_script(scripts, template, &token, &ip),
        )
        .await
        .unwrap();
        assert_eq!(run.exit_code, 0, "join failed on {worker}: {run:?}");
    }
    let nfs = add_node(
        &world,
        template_disk,
        &template_password,
        "nfsd-e5f6",
        "10.0.0.13",
        &password,
    )
    .await;
    let run = execute_script(&world, &nfs, &password, &scripts.script("nfsd", template))
        .await
        .unwrap();
    assert_eq!(run.exit_code, 0, "nfsd failed: {run:?}");
    Cluster {
        world,
        template_disk,
        template_password,
        master,
        workers,
        nfs,
        password,
        master_ip,
    }
}

/// End state of a customized template VM (before capture).
pub fn check_template_state(world: &GuestWorld, template: &str) {
    let moref = format!("vm-temp-{template}");
    let disk = world.disk_of(&moref).unwrap();
    let photon = template.starts_with("photon");
    for binary in [
        "/usr/bin/kubeadm",
        "/usr/bin/kubectl",
        "/usr/bin/kubelet",
        "/usr/bin/docker",
    ] {
        assert!(disk.fs.is_file(binary), "{template}: {binary} missing");
    }
    for image in [
        "kube-apiserver-amd64:v1.10.11",
        "kube-controller-manager-amd64:v1.10.11",
        "kube-scheduler-amd64:v1.10.11",
        "etcd-amd64:3.1.12",
        "pause-amd64:3.1",
    ] {
        assert!(
            disk.images.iter().any(|i| i.ends_with(image)),
            "{template}: image {image} not pulled: {:?}",
            disk.images
        );
    }
    assert!(
        disk.images
            .contains("docker.io/weaveworks/weave-kube:2.3.0")
    );
    let weave = disk
        .fs
        .read_text("/root/weave.yml")
        .expect("weave.yml in root's home");
    assert!(weave.contains("weave-kube:2.3.0"), "{weave}");
    assert!(weave.contains("\"k8s-minor\": \"10\""), "{weave}");
    assert_eq!(disk.fs.read_text("/etc/machine-id").as_deref(), Some(""));
    assert!(disk.services["docker"].enabled || !photon);
    let nfs_unit = if photon {
        "nfs-server"
    } else {
        "nfs-kernel-server"
    };
    assert!(
        !disk.services[nfs_unit].enabled,
        "{nfs_unit} must stay disabled in the template"
    );
    let sshd = disk.fs.read_text("/etc/ssh/sshd_config").unwrap();
    if photon {
        assert!(
            disk.packages
                .get("kubernetes")
                .is_some_and(|v| v == "1.10.11-1.ph2")
        );
        assert!(disk.packages.contains_key("wget") && disk.packages.contains_key("nfs-utils"));
        assert!(!sshd.contains("PermitRootLogin yes"), "{sshd}");
        assert!(disk.services["iptables-ports"].enabled);
        let root = disk.users.get("root").unwrap();
        assert_eq!(
            (
                root.aging.inactive_days,
                root.aging.max_days,
                root.aging.expire_date
            ),
            (-1, -1, -1)
        );
    } else {
        assert_eq!(
            disk.packages.get("docker-ce").map(String::as_str),
            Some("18.03.0~ce-0~ubuntu")
        );
        assert_eq!(
            disk.packages.get("kubeadm").map(String::as_str),
            Some("1.10.11-00")
        );
        assert_eq!(
            disk.packages.get("kubernetes-cni").map(String::as_str),
            Some("0.6.0-00")
        );
        assert!(!disk.packages.contains_key("cloud-init"));
        assert!(sshd.contains("PasswordAuthentication yes"), "{sshd}");
        assert!(disk.fs.is_file("/etc/ssh/ssh_host_rsa_key"));
        assert!(
            disk.fs
                .read_text("/etc/sysctl.conf")
                .unwrap()
                .contains("net.ipv6.conf.all.disable_ipv6 = 1")
        );
        assert!(
            disk.fs
                .read_text("/etc/resolv.conf")
                .unwrap()
                .contains("nameserver 8.8.8.8")
        );
        assert!(
            disk.fs
                .read_text("/usr/local/bin/weave")
                .unwrap()
                .starts_with("#!/bin/sh")
        );
        assert!(disk.fs.get("/usr/local/bin/weave").unwrap().mode & 0o111 == 0o111);
        assert!(
            disk.fs
                .read_text("/etc/apt/sources.list")
                .unwrap()
                .contains("https://download.docker.com/linux/ubuntu xenial stable")
        );
    }
}

/// End state of a bootstrapped cluster.
pub async fn check_cluster_state(cluster: &Cluster) {
    let world = &cluster.world;
    let nodes = world.cluster_nodes(&cluster.master);
    let names: Vec<(&str, bool)> = nodes.iter().map(|n| (n.name.as_str(), n.ready)).collect();
    assert_eq!(
        names,
        vec![
            ("mstr-k3x9", true),
            ("node-a1b2", true),
            ("node-c3d4", true)
        ]
    );
    let run = execute_script(
        world,
        &cluster.master,
        &cluster.password,
        "#!/usr/bin/env bash\nkubectl get nodes\n",
    )
    .await
    .unwrap();
    assert_eq!(run.exit_code, 0, "{run:?}");
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    for (row, (name, role)) in rows.iter().zip([
        ("mstr-k3x9", "master"),
        ("node-a1b2", "<none>"),
        ("node-c3d4", "<none>"),
    ]) {
        assert_eq!(&row[..3], &[name, "Ready", role], "{}", run.stdout);
    }
    let kubeconfig = world
        .read_file(
            &cluster.master,
            &creds(&cluster.password),
            "/root/.kube/config",
        )
        .unwrap();
    assert!(
        String::from_utf8(kubeconfig)
            .unwrap()
            .contains("server: https://10.0.0.10:6443")
    );
    let init_out = String::from_utf8(
        world
            .file(&cluster.master, "/root/kubeadm-init.out")
            .unwrap(),
    )
    .unwrap();
    assert!(
        init_out.contains("Your Kubernetes master has initialized successfully!"),
        "{init_out}"
    );
    let show = execute_script(
        world,
        &cluster.nfs,
        &cluster.password,
        "#!/usr/bin/env bash\nshowmount -e 10.0.0.13\n",
    )
    .await
    .unwrap();
    assert_eq!(show.exit_code, 0, "{show:?}");
    assert_eq!(show.stdout, "Export list for 10.0.0.13:\n/home *\n");
}

/// A powered-on VM straight from a base OVA, root password `password`.
pub fn base_vm(world: &GuestWorld, moref: &str, template: &str, ip: &str, password: &str) {
    let disk = world.import_disk(ova_hint(template));
    world.create_vm(moref, moref, disk).unwrap();
    world.set_ip_address(moref, Some(ip.into())).unwrap();
    world
        .power_on(
            moref,
            Some(Customization {
                computer_name: moref.into(),
                admin_password: Some(password.into()),
                script: None,
            }),
        )
        .unwrap();
}

/// Runs a script as root through the full guest-ops flow and returns it.
pub async fn sh(world: &GuestWorld, moref: &str, password: &str, body: &str) -> ScriptRun {
    execute_script(
        world,
        moref,
        password,
        &format!("#!/usr/bin/env bash\n{body}\n"),
    )
    .await
    .unwrap()
}
