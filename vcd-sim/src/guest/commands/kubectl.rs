//! `kubectl version|get nodes|delete node|apply -f` against the cluster
//! named by the kubeconfig (`$KUBECONFIG`, else `~/.kube/config`).

use serde::Deserialize as _;

use crate::guest::exec::context::{CmdResult, Ctx, Io, err_exit};
use crate::guest::k8s::{NodeRole, ResourceKey};
use crate::guest::world::node_ready;

fn client_version(package_version: &str) -> String {
    let v = package_version.split('-').next().unwrap_or(package_version);
    let minor = v.split('.').nth(1).unwrap_or("10");
    format!(
        "Client Version: version.Info{{Major:\"1\", Minor:\"{minor}\", GitVersion:\"v{v}\", GitCommit:\"637c7e288581ee40ab4ca210618a89a555b6e7e9\", GitTreeState:\"clean\", BuildDate:\"2018-11-26T14:38:32Z\", GoVersion:\"go1.9.3\", Compiler:\"gc\", Platform:\"linux/amd64\"}}\n"
    )
}

/// API server address from the kubeconfig, or the error kubectl prints.
fn server_ip(ctx: &Ctx) -> Result<Result<String, String>, crate::guest::exec::context::Control> {
    let path = ctx
        .var("KUBECONFIG")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}/.kube/config", ctx.var("HOME").unwrap_or(&ctx.home)));
    let path = ctx.path(&path);
    let text = ctx.vm(|vm, _| vm.disk.fs.read_text(&path))?;
    let refused = "The connection to the server localhost:8080 was refused - did you specify the right host or port?".to_owned();
    let Some(text) = text else {
        return Ok(Err(refused));
    };
    let server = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: https://"))
        .map(|s| s.trim().to_owned());
    Ok(server
        .map(|s| s.rsplit_once(':').map(|(h, _)| h.to_owned()).unwrap_or(s))
        .ok_or(refused))
}

fn age(seconds: i64) -> String {
    if seconds < 120 {
        format!("{}s", seconds.max(0))
    } else if seconds < 7200 {
        format!("{}m", seconds / 60)
    } else if seconds < 172_800 {
        format!("{}h", seconds / 3600)
    } else {
        format!("{}d", seconds / 86400)
    }
}

pub fn kubectl(ctx: &mut Ctx, package_version: &str, args: &[String], io: &Io) -> CmdResult {
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if words.first() == Some(&"version") {
        ctx.out(io, client_version(package_version));
        if args.iter().any(|a| a == "--client" || a == "-c") {
            return Ok(0);
        }
    }
    let ip = match server_ip(ctx)? {
        Ok(ip) => ip,
        Err(m) => return err_exit(ctx, io, &m, 1),
    };
    let refused = format!(
        "The connection to the server {ip}:6443 was refused - did you specify the right host or port?"
    );
    match words.as_slice() {
        ["version", ..] => {
            let version =
                ctx.world(|state| state.clusters.by_ip(&ip).map(|c| c.version.clone()))?;
            match version {
                Some(v) => {
                    ctx.out(io, format!("Server Version: version.Info{{Major:\"1\", Minor:\"10\", GitVersion:\"{v}\"}}\n"));
                    Ok(0)
                }
                None => err_exit(ctx, io, &refused, 1),
            }
        }
        ["get", "nodes" | "node" | "no", names @ ..] => {
            let rows = ctx.world(|state| {
                let master = state.vm_by_ip(&ip)?.moref.clone();
                let cluster = state.clusters.by_master.get(&master)?;
                let now = state.now();
                Some(
                    cluster
                        .nodes
                        .values()
                        .map(|n| {
                            (
                                n.name.clone(),
                                node_ready(state, cluster, &n.moref),
                                n.role,
                                age((now - n.joined).num_seconds()),
                                n.kubelet_version.clone(),
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            })?;
            let Some(rows) = rows else {
                return err_exit(ctx, io, &refused, 1);
            };
            let mut out = String::from("NAME          STATUS     ROLES     AGE       VERSION\n");
            let mut status = 0;
            for name in names {
                if !rows.iter().any(|r| r.0 == *name) {
                    ctx.err(
                        io,
                        format!("Error from server (NotFound): nodes \"{name}\" not found\n"),
                    );
                    status = 1;
                }
            }
            for (name, ready, role, age, version) in rows
                .iter()
                .filter(|r| names.is_empty() || names.contains(&r.0.as_str()))
            {
                out.push_str(&format!(
                    "{name:<13} {:<10} {:<9} {age:<9} {version}\n",
                    if *ready { "Ready" } else { "NotReady" },
                    if *role == NodeRole::Master {
                        "master"
                    } else {
                        "<none>"
                    }
                ));
            }
            if rows.is_empty() || (status != 0 && names.len() == 1) {
                if rows.is_empty() {
                    ctx.err(io, "No resources found.\n");
                }
                return Ok(status);
            }
            ctx.out(io, out);
            Ok(status)
        }
        ["delete", "node" | "nodes" | "no", names @ ..] => {
            if names.is_empty() {
                return err_exit(
                    ctx,
                    io,
                    "error: resource(s) were provided, but no name, label selector, or --all flag specified",
                    1,
                );
            }
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            let result = ctx.world(|state| {
                let master = state.vm_by_ip(&ip)?.moref.clone();
                let cluster = state.clusters.by_master.get_mut(&master)?;
                Some(
                    names
                        .iter()
                        .map(|n| (n.clone(), cluster.nodes.remove(n).is_some()))
                        .collect::<Vec<_>>(),
                )
            })?;
            let Some(result) = result else {
                return err_exit(ctx, io, &refused, 1);
            };
            let mut status = 0;
            for (name, deleted) in result {
                if deleted {
                    ctx.out(io, format!("node \"{name}\" deleted\n"));
                } else {
                    ctx.err(
                        io,
                        format!("Error from server (NotFound): nodes \"{name}\" not found\n"),
                    );
                    status = 1;
                }
            }
            Ok(status)
        }
        ["apply", ..] | ["create", ..] => {
            let mut file = None;
            let mut iter = args.iter();
            while let Some(a) = iter.next() {
                if a == "-f" || a == "--filename" {
                    file = iter.next().cloned();
                } else if let Some(f) = a.strip_prefix("--filename=") {
                    file = Some(f.to_owned());
                }
            }
            let Some(file) = file else {
                return err_exit(ctx, io, "error: must specify -f", 1);
            };
            let path = ctx.path(&file);
            let text = ctx.vm(|vm, _| vm.disk.fs.read_text(&path))?;
            let Some(text) = text else {
                return err_exit(
                    ctx,
                    io,
                    &format!("error: the path \"{file}\" does not exist"),
                    1,
                );
            };
            let resources = match parse_manifest(&text) {
                Ok(r) if !r.is_empty() => r,
                Ok(_) => return err_exit(ctx, io, "error: no objects passed to apply", 1),
                Err(m) => {
                    return err_exit(ctx, io, &format!("error: error parsing {file}: {m}"), 1);
                }
            };
            let applied = ctx.world(|state| {
                let master = state.vm_by_ip(&ip)?.moref.clone();
                let cluster = state.clusters.by_master.get_mut(&master)?;
                Some(
                    resources
                        .iter()
                        .map(|(key, api)| {
                            (
                                key.clone(),
                                api.clone(),
                                cluster.resources.insert(key.clone(), api.clone()).is_some(),
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            })?;
            let Some(applied) = applied else {
                return err_exit(ctx, io, &refused, 1);
            };
            for (key, api, existed) in applied {
                let group = api
                    .split('/')
                    .next()
                    .filter(|g| api.contains('/') && *g != "v1")
                    .map(|g| format!(".{g}"))
                    .unwrap_or_default();
                ctx.out(
                    io,
                    format!(
                        "{}{group} \"{}\" {}\n",
                        key.kind.to_lowercase(),
                        key.name,
                        if existed { "configured" } else { "created" }
                    ),
                );
            }
            Ok(0)
        }
        other => err_exit(
            ctx,
            io,
            &format!(
                "error: the simulated kubectl does not support \"{}\"",
                other.join(" ")
            ),
            1,
        ),
    }
}

/// (resource, apiVersion) of every object in a YAML manifest (lists flattened).
pub fn parse_manifest(text: &str) -> Result<Vec<(ResourceKey, String)>, String> {
    let mut out = Vec::new();
    fn visit(
        value: &serde_json::Value,
        out: &mut Vec<(ResourceKey, String)>,
    ) -> Result<(), String> {
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .ok_or("object has no kind")?;
        if kind == "List" {
            for item in value
                .get("items")
                .and_then(|i| i.as_array())
                .into_iter()
                .flatten()
            {
                visit(item, out)?;
            }
            return Ok(());
        }
        let api = value
            .get("apiVersion")
            .and_then(|a| a.as_str())
            .ok_or("object has no apiVersion")?;
        let metadata = value.get("metadata").ok_or("object has no metadata")?;
        let name = metadata
            .get("name")
            .and_then(|n| n.as_str())
            .ok_or("object has no name")?;
        let namespace = metadata
            .get("namespace")
            .and_then(|n| n.as_str())
            .map(str::to_owned);
        out.push((
            ResourceKey {
                kind: kind.to_owned(),
                namespace,
                name: name.to_owned(),
            },
            api.to_owned(),
        ));
        Ok(())
    }
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = serde_json::Value::deserialize(document).map_err(|e| e.to_string())?;
        if value.is_null() {
            continue;
        }
        visit(&value, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_flatten_lists() {
        let text = crate::guest::internet::weave_manifest("2.3.0", "10");
        let resources = parse_manifest(&text).unwrap();
        assert_eq!(resources.len(), 6);
        assert!(
            resources
                .iter()
                .any(|(k, _)| k.kind == "DaemonSet" && k.name == "weave-net")
        );
        assert!(parse_manifest("kind: x\n").is_err());
    }
}
