//! `kubeadm init|token create|token list|join|reset|version` (1.10-era
//! output) over the cross-VM cluster state: init needs root, an active
//! docker and the control-plane images; join needs a live token on the
//! master that owns the given address.

use std::collections::BTreeMap;

use crate::guest::exec::context::{CmdResult, Ctx, Io, err_exit};
use crate::guest::exec::text::parse_duration;
use crate::guest::fs::Actor;
use crate::guest::internet;
use crate::guest::k8s::{self, Cluster, NodeRecord, NodeRole};

const PREFLIGHT_EXIT: i32 = 2;

/// The kubeconfig `kubeadm init` writes.
pub fn admin_conf(ip: &str) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PQ==\n    server: https://{ip}:6443\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: kubernetes-admin\n  name: kubernetes-admin@kubernetes\ncurrent-context: kubernetes-admin@kubernetes\nkind: Config\npreferences: {{}}\nusers:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PQ==\n    client-key-data: TFMwdExTMUNSVWRKVGlCU1UwRWdVRkpKVmtGVVJTQkxSVmt0TFMwdExRbz0=\n"
    )
}

fn options(args: &[String]) -> (Vec<String>, BTreeMap<String, String>) {
    let mut words = Vec::new();
    let mut opts = BTreeMap::new();
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        if let Some(flag) = arg.strip_prefix("--") {
            match flag.split_once('=') {
                Some((k, v)) => {
                    opts.insert(k.to_owned(), v.to_owned());
                }
                None if [
                    "token",
                    "kubernetes-version",
                    "ttl",
                    "discovery-token-ca-cert-hash",
                    "apiserver-advertise-address",
                    "pod-network-cidr",
                ]
                .contains(&flag) =>
                {
                    opts.insert(flag.to_owned(), iter.next().cloned().unwrap_or_default());
                }
                None => {
                    opts.insert(flag.to_owned(), String::new());
                }
            }
        } else {
            words.push(arg.clone());
        }
    }
    (words, opts)
}

fn preflight(ctx: &Ctx, checks: &[String]) -> Option<String> {
    if checks.is_empty() {
        return None;
    }
    let _ = ctx;
    let mut text = String::from("[preflight] Some fatal errors occurred:\n");
    for check in checks {
        text.push_str(&format!("\t[ERROR {check}\n"));
    }
    text.push_str("[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`");
    Some(text)
}

/// Version `v1.10.11` of a package version like `1.10.11-1.ph2` or `1.10.11-00`.
fn git_version(package_version: &str) -> String {
    format!(
        "v{}",
        package_version.split('-').next().unwrap_or(package_version)
    )
}

fn control_plane_images(version: &str) -> Vec<String> {
    let mut images: Vec<String> = [
        "kube-apiserver-amd64",
        "kube-controller-manager-amd64",
        "kube-scheduler-amd64",
    ]
    .iter()
    .map(|i| format!("{i}:{version}"))
    .collect();
    images.push("etcd-amd64:3.1.12".into());
    images.push("pause-amd64:3.1".into());
    images
}

pub async fn kubeadm(ctx: &mut Ctx, package_version: &str, args: &[String], io: &Io) -> CmdResult {
    let (words, opts) = options(args);
    let own_version = git_version(package_version);
    match words.first().map(String::as_str) {
        Some("version") => {
            ctx.out(io, format!("kubeadm version: &version.Info{{Major:\"1\", Minor:\"10\", GitVersion:\"{own_version}\", GitTreeState:\"clean\", Platform:\"linux/amd64\"}}\n"));
            Ok(0)
        }
        Some("init") => init(ctx, &own_version, &opts, io).await,
        Some("join") => join(ctx, &words, &opts, io).await,
        Some("token") => token(ctx, &words, &opts, io),
        Some("reset") => reset(ctx, io),
        other => err_exit(
            ctx,
            io,
            &format!(
                "Error: unknown command \"{}\" for \"kubeadm\"\nRun 'kubeadm --help' for usage.",
                other.unwrap_or("")
            ),
            1,
        ),
    }
}

async fn init(
    ctx: &mut Ctx,
    own_version: &str,
    opts: &BTreeMap<String, String>,
    io: &Io,
) -> CmdResult {
    let version = opts
        .get("kubernetes-version")
        .cloned()
        .unwrap_or_else(|| own_version.to_owned());
    if !version.starts_with('v') || version.split('.').count() != 3 {
        return err_exit(
            ctx,
            io,
            &format!("[init] error: couldn't parse Kubernetes version \"{version}\""),
            1,
        );
    }
    ctx.out(io, format!("[init] Using Kubernetes version: {version}\n[init] Using Authorization modes: [Node RBAC]\n[preflight] Running pre-flight checks.\n"));
    let uid = ctx.uid;
    let (checks, ip, hostname, images_missing) = ctx.vm(|vm, _| {
        let mut checks = Vec::new();
        if uid != 0 {
            checks.push("IsPrivilegedUser]: user is not running as root".to_owned());
        }
        if !vm.disk.services.get("docker").is_some_and(|s| s.active) {
            checks.push("Service-Docker]: docker service is not active, please run 'systemctl start docker.service'".to_owned());
        }
        if !vm.disk.fs.exists("/usr/bin/kubelet") {
            checks.push("KubeletVersion]: couldn't get kubelet version: executable file not found in $PATH".to_owned());
        }
        if vm.disk.fs.exists("/etc/kubernetes/manifests/kube-apiserver.yaml") {
            checks.push("FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: /etc/kubernetes/manifests/kube-apiserver.yaml already exists".to_owned());
        }
        let missing: Vec<String> = control_plane_images(&version)
            .into_iter()
            .filter(|image| !["k8s.gcr.io", "gcr.io/google_containers"].iter().any(|r| vm.disk.images.contains(&internet::canonical_image(&format!("{r}/{image}")))))
            .map(|image| format!("k8s.gcr.io/{image}"))
            .collect();
        (checks, vm.ip.clone(), vm.disk.hostname(), missing)
    })?;
    if let Some(text) = preflight(ctx, &checks) {
        return err_exit(ctx, io, &text, PREFLIGHT_EXIT);
    }
    let Some(ip) = ip else {
        return err_exit(
            ctx,
            io,
            "[init] error: unable to select an IP from default routes.",
            1,
        );
    };
    ctx.out(io, format!("[certificates] Generated ca certificate and key.\n[certificates] apiserver serving cert is signed for DNS names [{hostname} kubernetes kubernetes.default] and IPs [10.96.0.1 {ip}]\n[kubeconfig] Wrote KubeConfig file to disk: \"/etc/kubernetes/admin.conf\"\n[controlplane] Wrote Static Pod manifest for component kube-apiserver to \"/etc/kubernetes/manifests/kube-apiserver.yaml\"\n[init] Waiting for the kubelet to boot up the control plane as Static Pods from directory \"/etc/kubernetes/manifests\".\n[init] This might take a minute or longer if the control plane images have to be pulled.\n"));
    let timings = ctx.world.timings();
    ctx.vm(|vm, now| {
        for dir in ["/etc/kubernetes", "/etc/kubernetes/manifests", "/etc/kubernetes/pki"] {
            let _ = vm.disk.fs.mkdir(dir, true, Actor::ROOT, 0o755, now);
        }
        for component in ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"] {
            let _ = vm.disk.fs.write(&format!("/etc/kubernetes/manifests/{component}.yaml"), format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {component}\n  namespace: kube-system\n"), Actor::ROOT, 0o600, now);
        }
        let state = vm.disk.services.entry("kubelet".into()).or_default();
        state.enabled = true;
        state.active = true;
    })?;
    if !images_missing.is_empty() {
        ctx.sleep(timings.control_plane_timeout).await?;
        let mut text = String::from(
            "\nUnfortunately, an error has occurred:\n\ttimed out waiting for the condition\n\nThis error is likely caused by:\n\t- The kubelet is not running\n\t- The kubelet is unhealthy due to a misconfiguration of the node in some way (required cgroups disabled)\n\t- Either there is no internet connection, or imagePullPolicy is set to \"Never\",\n\t  so the kubelet cannot pull or find the following control plane images:\n",
        );
        for image in &images_missing {
            text.push_str(&format!("\t\t- {image}\n"));
        }
        text.push_str("couldn't initialize a Kubernetes cluster");
        return err_exit(ctx, io, &text, 1);
    }
    ctx.sleep(timings.kubeadm_init).await?;
    let moref = ctx.moref.clone();
    let conf = admin_conf(&ip);
    let token = ctx.world(|state| {
        let now = state.now();
        let token = k8s::new_token(now, Some(chrono::Duration::hours(24)));
        let mut nodes = BTreeMap::new();
        nodes.insert(
            hostname.clone(),
            NodeRecord {
                name: hostname.clone(),
                moref: moref.clone(),
                role: NodeRole::Master,
                joined: now,
                kubelet_version: version.clone(),
            },
        );
        state.clusters.by_master.insert(
            moref.clone(),
            Cluster {
                master_moref: moref.clone(),
                master_ip: ip.clone(),
                version: version.clone(),
                tokens: vec![token.clone()],
                nodes,
                resources: Default::default(),
                created: now,
            },
        );
        if let Some(vm) = state.vms.get_mut(&moref) {
            let _ = vm.disk.fs.write(
                "/etc/kubernetes/admin.conf",
                conf.clone(),
                Actor::ROOT,
                0o600,
                now,
            );
            let _ = vm.disk.fs.write(
                "/etc/kubernetes/kubelet.conf",
                conf.clone(),
                Actor::ROOT,
                0o600,
                now,
            );
        }
        token.text()
    })?;
    ctx.out(io, format!("[apiclient] All control plane components are healthy after 45.501916 seconds\n[markmaster] Will mark node {hostname} as master by adding a label and a taint\n[bootstraptoken] Using token: {token}\n[addons] Applied essential addon: kube-dns\n[addons] Applied essential addon: kube-proxy\n\nYour Kubernetes master has initialized successfully!\n\nTo start using your cluster, you need to run the following as a regular user:\n\n  mkdir -p $HOME/.kube\n  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n  sudo chown $(id -u):$(id -g) $HOME/.kube/config\n\nYou should now deploy a pod network to the cluster.\n\nYou can now join any number of machines by running the following on each node\nas root:\n\n  kubeadm join {ip}:6443 --token {token} --discovery-token-ca-cert-hash sha256:7d1bc3a2b2ee7c0f5d0e2c7c3a1e9f0a7b9e2f8c3d4a5b6c7d8e9f0a1b2c3d4e\n\n"));
    Ok(0)
}

fn token(ctx: &mut Ctx, words: &[String], opts: &BTreeMap<String, String>, io: &Io) -> CmdResult {
    let moref = ctx.moref.clone();
    match words.get(1).map(String::as_str) {
        Some("create") => {
            let ttl = match opts.get("ttl").map(String::as_str) {
                None => Some(chrono::Duration::hours(24)),
                Some("0") => None,
                Some(text) => match parse_duration(text) {
                    Some(d) => {
                        Some(chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(24)))
                    }
                    None => {
                        return err_exit(
                            ctx,
                            io,
                            &format!("invalid argument \"{text}\" for \"--ttl\" flag"),
                            1,
                        );
                    }
                },
            };
            let created = ctx.world(|state| {
                let now = state.now();
                let token = k8s::new_token(now, ttl);
                let cluster = state.clusters.by_master.get_mut(&moref)?;
                cluster.tokens.push(token.clone());
                Some(token.text())
            })?;
            match created {
                Some(text) => {
                    ctx.out(io, format!("{text}\n"));
                    Ok(0)
                }
                None => err_exit(
                    ctx,
                    io,
                    "failed to load admin kubeconfig [open /etc/kubernetes/admin.conf: no such file or directory]",
                    1,
                ),
            }
        }
        Some("list") => {
            let tokens = ctx.world(|state| {
                state
                    .clusters
                    .by_master
                    .get(&moref)
                    .map(|c| c.tokens.clone())
            })?;
            let Some(tokens) = tokens else {
                return err_exit(
                    ctx,
                    io,
                    "failed to load admin kubeconfig [open /etc/kubernetes/admin.conf: no such file or directory]",
                    1,
                );
            };
            let mut out =
                String::from("TOKEN                     TTL       EXPIRES                USAGES\n");
            for t in tokens {
                out.push_str(&format!(
                    "{:<25} {:<9} {:<22} authentication,signing\n",
                    t.text(),
                    if t.expires.is_some() {
                        "23h"
                    } else {
                        "<forever>"
                    },
                    t.expires
                        .map(|e| e.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                        .unwrap_or_else(|| "<never>".into())
                ));
            }
            ctx.out(io, out);
            Ok(0)
        }
        _ => err_exit(ctx, io, "Error: unknown token command (create, list)", 1),
    }
}

async fn join(
    ctx: &mut Ctx,
    words: &[String],
    opts: &BTreeMap<String, String>,
    io: &Io,
) -> CmdResult {
    let token = opts.get("token").cloned().unwrap_or_default();
    let Some(endpoint) = words.get(1).cloned() else {
        return err_exit(
            ctx,
            io,
            "discovery: Invalid value: \"\": using token-based discovery without discoveryTokenAPIServers",
            1,
        );
    };
    if !k8s::token_well_formed(&token) {
        return err_exit(
            ctx,
            io,
            &format!(
                "[discovery: Invalid value: \"\": token \"{token}\" was not of form \"^([a-z0-9]{{6}})\\\\.([a-z0-9]{{16}})$\"]"
            ),
            1,
        );
    }
    if !opts.contains_key("discovery-token-unsafe-skip-ca-verification")
        && !opts.contains_key("discovery-token-ca-cert-hash")
    {
        return err_exit(
            ctx,
            io,
            "discovery: Invalid value: \"\": using token-based discovery without DiscoveryTokenCACertHashes can be unsafe. set --discovery-token-unsafe-skip-ca-verification to continue",
            1,
        );
    }
    let uid = ctx.uid;
    let (checks, hostname) = ctx.vm(|vm, _| {
        let mut checks = Vec::new();
        if uid != 0 {
            checks.push("IsPrivilegedUser]: user is not running as root".to_owned());
        }
        if !vm.disk.services.get("docker").is_some_and(|s| s.active) {
            checks.push("Service-Docker]: docker service is not active, please run 'systemctl start docker.service'".to_owned());
        }
        if !vm.disk.fs.exists("/usr/bin/kubelet") {
            checks.push("KubeletVersion]: couldn't get kubelet version: executable file not found in $PATH".to_owned());
        }
        if vm.disk.fs.exists("/etc/kubernetes/kubelet.conf") {
            checks.push("FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists".to_owned());
        }
        (checks, vm.disk.hostname())
    })?;
    ctx.out(io, "[preflight] Running pre-flight checks.\n");
    if let Some(text) = preflight(ctx, &checks) {
        return err_exit(ctx, io, &text, PREFLIGHT_EXIT);
    }
    let ip = endpoint
        .rsplit_once(':')
        .map(|(h, _)| h.to_owned())
        .unwrap_or(endpoint.clone());
    ctx.out(io, format!("[discovery] Trying to connect to API Server \"{endpoint}\"\n[discovery] Created cluster-info discovery client, requesting info from \"https://{endpoint}\"\n"));
    enum Outcome {
        Unreachable(&'static str),
        BadToken,
        Joined(String),
    }
    let moref = ctx.moref.clone();
    let outcome = ctx.world(|state| {
        let now = state.now();
        let Some(master) = state.vm_by_ip(&ip) else {
            return Outcome::Unreachable("no route to host");
        };
        let master_moref = master.moref.clone();
        let Some(cluster) = state.clusters.by_master.get_mut(&master_moref) else {
            return Outcome::Unreachable("connection refused");
        };
        if !cluster.token_valid(&token, now) {
            return Outcome::BadToken;
        }
        let version = cluster.version.clone();
        cluster.nodes.insert(
            hostname.clone(),
            NodeRecord {
                name: hostname.clone(),
                moref: moref.clone(),
                role: NodeRole::Worker,
                joined: now,
                kubelet_version: version,
            },
        );
        Outcome::Joined(admin_conf(&ip))
    })?;
    let timings = ctx.world.timings();
    match outcome {
        Outcome::Unreachable(reason) => {
            ctx.err(io, format!("[discovery] Failed to request cluster info, will try again: [Get https://{endpoint}/api/v1/namespaces/kube-public/configmaps/cluster-info: dial tcp {endpoint}: getsockopt: {reason}]\n"));
            ctx.sleep(timings.discovery_timeout).await?;
            err_exit(
                ctx,
                io,
                "[discovery] abort connecting to API servers after timeout of 5m0s\ncouldn't validate the identity of the API Server: abort connecting to API servers after timeout of 5m0s",
                1,
            )
        }
        Outcome::BadToken => {
            let id = token.split('.').next().unwrap_or_default();
            ctx.err(io, format!("[discovery] Failed to connect to API Server \"{endpoint}\": token id \"{id}\" is invalid for this cluster or it has expired. Use \"kubeadm token create\" on the master node to creating a new valid token\n"));
            ctx.sleep(timings.discovery_timeout).await?;
            err_exit(
                ctx,
                io,
                "[discovery] abort connecting to API servers after timeout of 5m0s\ncouldn't validate the identity of the API Server: abort connecting to API servers after timeout of 5m0s",
                1,
            )
        }
        Outcome::Joined(conf) => {
            ctx.sleep(timings.kubeadm_join).await?;
            ctx.vm(|vm, now| {
                let _ = vm
                    .disk
                    .fs
                    .mkdir("/etc/kubernetes", true, Actor::ROOT, 0o755, now);
                let _ = vm.disk.fs.write(
                    "/etc/kubernetes/kubelet.conf",
                    conf,
                    Actor::ROOT,
                    0o600,
                    now,
                );
                let state = vm.disk.services.entry("kubelet".into()).or_default();
                state.enabled = true;
                state.active = true;
            })?;
            ctx.out(io, format!("[discovery] Cluster info signature and contents are valid and no TLS pinning was specified, will use API Server \"{endpoint}\"\n[discovery] Successfully established connection with API Server \"{endpoint}\"\n\nThis node has joined the cluster:\n* Certificate signing request was sent to master and a response\n  was received.\n* The Kubelet was informed of the new secure connection details.\n\nRun 'kubectl get nodes' on the master to see this node join the cluster.\n"));
            Ok(0)
        }
    }
}

fn reset(ctx: &mut Ctx, io: &Io) -> CmdResult {
    if ctx.uid != 0 {
        return err_exit(
            ctx,
            io,
            "[preflight] Some fatal errors occurred:\n\t[ERROR IsPrivilegedUser]: user is not running as root",
            PREFLIGHT_EXIT,
        );
    }
    let moref = ctx.moref.clone();
    ctx.world(|state| {
        state.clusters.forget_master(&moref);
        if let Some(vm) = state.vms.get_mut(&moref) {
            let _ = vm.disk.fs.remove("/etc/kubernetes", true, Actor::ROOT);
            let _ = vm
                .disk
                .fs
                .mkdir("/etc/kubernetes", true, Actor::ROOT, 0o755, state_now());
            if let Some(s) = vm.disk.services.get_mut("kubelet") {
                s.active = false;
            }
        }
    })?;
    fn state_now() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
    ctx.out(io, "[preflight] Running pre-flight checks.\n[reset] Stopping the kubelet service.\n[reset] Removing kubernetes-managed containers.\n[reset] Deleting contents of stateful directories: [/var/lib/kubelet /etc/cni/net.d /var/lib/dockershim /var/run/kubernetes /var/lib/etcd]\n[reset] Deleting contents of config directories: [/etc/kubernetes/manifests /etc/kubernetes/pki]\n[reset] Deleting files: [/etc/kubernetes/admin.conf /etc/kubernetes/kubelet.conf /etc/kubernetes/controller-manager.conf /etc/kubernetes/scheduler.conf]\n");
    Ok(0)
}
