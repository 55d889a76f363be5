//! NFS tools: `showmount -e <host>` lists the exports of the VM owning that
//! address when its NFS server runs; `exportfs` lists or re-reads local ones.

use crate::guest::exec::context::{CmdResult, Ctx, Io, err_exit};
use crate::guest::vm::Vm;

/// Exports in `/etc/exports`: (path, clients).
pub fn exports(vm: &Vm) -> Vec<(String, String)> {
    vm.disk
        .fs
        .read_text("/etc/exports")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let path = parts.next()?.to_owned();
            let clients: Vec<String> = parts
                .map(|c| c.split('(').next().unwrap_or(c).to_owned())
                .collect();
            Some((
                path,
                if clients.is_empty() {
                    "*".into()
                } else {
                    clients.join(",")
                },
            ))
        })
        .collect()
}

fn nfs_active(vm: &Vm) -> bool {
    ["nfs-server", "nfs-kernel-server"]
        .iter()
        .any(|s| vm.disk.services.get(*s).is_some_and(|st| st.active))
}

pub fn showmount(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let host = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .cloned()
        .unwrap_or_else(|| "localhost".into());
    let me = ctx.moref.clone();
    let result = ctx.world(|state| {
        let vm = if host == "localhost" || host == "127.0.0.1" { state.vms.get(&me) } else { state.vm_by_ip(&host) };
        match vm {
            None => Err("clnt_create: RPC: Port mapper failure - Unable to receive: errno 113 (No route to host)".to_owned()),
            Some(vm) if !nfs_active(vm) => Err("clnt_create: RPC: Program not registered".to_owned()),
            Some(vm) => Ok(exports(vm)),
        }
    })?;
    match result {
        Ok(list) => {
            let mut out = format!("Export list for {host}:\n");
            for (path, clients) in list {
                out.push_str(&format!("{path} {clients}\n"));
            }
            ctx.out(io, out);
            Ok(0)
        }
        Err(m) => err_exit(ctx, io, &m, 1),
    }
}

pub fn exportfs(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    if ctx.uid != 0 {
        return err_exit(
            ctx,
            io,
            "exportfs: could not open /var/lib/nfs/.etab.lock for locking: errno 13 (Permission denied)",
            1,
        );
    }
    let list = ctx.vm(|vm, _| exports(vm))?;
    let flags: String = args.iter().filter_map(|a| a.strip_prefix('-')).collect();
    if !flags.is_empty() && !flags.contains('v') {
        return Ok(0);
    }
    for (path, clients) in list {
        ctx.out(
            io,
            format!(
                "{path:<15} <world>{}\n",
                if clients == "*" {
                    String::new()
                } else {
                    format!(" {clients}")
                }
            ),
        );
    }
    Ok(0)
}
