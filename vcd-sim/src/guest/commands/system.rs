//! Small system tools: `uname`, `hostname`, `lsb_release`, `resolvconf`,
//! `growpart`, `resize2fs`, `sysctl`, `iptables`, and `bash`/`sh` itself.

use crate::guest::disk::OsFamily;
use crate::guest::exec::context::{CmdResult, Ctx, Flow, Io, err_exit};
use crate::guest::fs::Actor;

pub fn uname(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (os, host) = ctx.vm(|vm, _| (vm.disk.os, vm.disk.hostname()))?;
    let (release, version) = match os {
        OsFamily::Photon => (
            "4.9.124-1.ph2-esx",
            "#1-photon SMP Mon Aug 27 21:04:26 UTC 2018",
        ),
        OsFamily::Ubuntu => (
            "4.4.0-138-generic",
            "#164-Ubuntu SMP Tue Oct 2 17:16:02 UTC 2018",
        ),
    };
    let flags: String = args.iter().map(|a| a.trim_start_matches('-')).collect();
    let text = if flags.contains('a') {
        format!("Linux {host} {release} {version} x86_64 x86_64 x86_64 GNU/Linux")
    } else {
        let mut parts = Vec::new();
        if flags.is_empty() || flags.contains('s') {
            parts.push("Linux".to_owned());
        }
        if flags.contains('n') {
            parts.push(host);
        }
        if flags.contains('r') {
            parts.push(release.to_owned());
        }
        if flags.contains('m') {
            parts.push("x86_64".to_owned());
        }
        parts.join(" ")
    };
    ctx.out(io, format!("{text}\n"));
    Ok(0)
}

pub fn hostname(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    match args.iter().find(|a| !a.starts_with('-')) {
        Some(name) => {
            if ctx.uid != 0 {
                return err_exit(
                    ctx,
                    io,
                    "hostname: you must be root to change the host name",
                    1,
                );
            }
            let name = name.clone();
            ctx.vm(|vm, now| {
                vm.disk.fs.write(
                    "/etc/hostname",
                    format!("{name}\n"),
                    Actor::ROOT,
                    0o644,
                    now,
                )
            })?
            .ok();
            Ok(0)
        }
        None => {
            let (host, ip) = ctx.vm(|vm, _| (vm.disk.hostname(), vm.ip.clone()))?;
            let text = if args.iter().any(|a| a == "-I" || a == "-i") {
                ip.unwrap_or_default()
            } else {
                host
            };
            ctx.out(io, format!("{text}\n"));
            Ok(0)
        }
    }
}

pub fn lsb_release(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let flags: String = args.iter().map(|a| a.trim_start_matches('-')).collect();
    let short = flags.contains('s');
    let mut lines = Vec::new();
    if flags.contains('i') || flags.contains('a') {
        lines.push(if short {
            "Ubuntu".to_owned()
        } else {
            "Distributor ID:\tUbuntu".to_owned()
        });
    }
    if flags.contains('d') || flags.contains('a') {
        lines.push(if short {
            "Ubuntu 16.04.5 LTS".to_owned()
        } else {
            "Description:\tUbuntu 16.04.5 LTS".to_owned()
        });
    }
    if flags.contains('r') || flags.contains('a') {
        lines.push(if short {
            "16.04".to_owned()
        } else {
            "Release:\t16.04".to_owned()
        });
    }
    if flags.contains('c') || flags.contains('a') {
        lines.push(if short {
            "xenial".to_owned()
        } else {
            "Codename:\txenial".to_owned()
        });
    }
    if lines.is_empty() {
        lines.push("No LSB modules are available.".into());
    }
    ctx.out(
        io,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    );
    Ok(0)
}

pub fn resolvconf(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    if ctx.uid != 0 {
        return err_exit(ctx, io, "resolvconf: Error: Must be run as root", 1);
    }
    if args.iter().any(|a| a == "-u") {
        ctx.vm(|vm, now| {
            let mut text = String::new();
            for part in ["head", "base", "tail"] {
                text.push_str(
                    &vm.disk
                        .fs
                        .read_text(&format!("/etc/resolvconf/resolv.conf.d/{part}"))
                        .unwrap_or_default(),
                );
            }
            text.push_str("nameserver 127.0.0.53\n");
            vm.disk
                .fs
                .write("/etc/resolv.conf", text, Actor::ROOT, 0o644, now)
        })?
        .ok();
    }
    Ok(0)
}

pub fn growpart(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    if args.len() < 2 {
        return err_exit(
            ctx,
            io,
            "growpart disk partition\n   rewrite partition table so that partition takes up all the space it can",
            2,
        );
    }
    ctx.out(
        io,
        format!(
            "NOCHANGE: partition {} is size 20969439. it cannot be grown\n",
            args[1]
        ),
    );
    Ok(1)
}

pub fn resize2fs(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let Some(device) = args.iter().find(|a| !a.starts_with('-')) else {
        return err_exit(
            ctx,
            io,
            "Usage: resize2fs [-d debug_flags] [-f] [-F] [-M] [-P] [-p] device [-b|-s|new_size]",
            1,
        );
    };
    ctx.err(io, "resize2fs 1.42.13 (17-May-2015)\n");
    ctx.err(
        io,
        "The filesystem is already 2621179 (4k) blocks long.  Nothing to do!

",
    );
    let _ = device;
    Ok(0)
}

pub fn sysctl(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    for arg in args.iter().filter(|a| a.contains('=')) {
        ctx.out(io, format!("{}\n", arg.replace('=', " = ")));
    }
    Ok(0)
}

pub fn iptables(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    if ctx.uid != 0 {
        return err_exit(
            ctx,
            io,
            "iptables v1.6.1: can't initialize iptables table `filter': Permission denied (you must be root)",
            3,
        );
    }
    match args.first().map(String::as_str) {
        Some("-P")
            if args.len() == 3
                && ["INPUT", "OUTPUT", "FORWARD"].contains(&args[1].as_str())
                && ["ACCEPT", "DROP"].contains(&args[2].as_str()) =>
        {
            Ok(0)
        }
        Some("-L") | Some("-S") => {
            ctx.out(io, "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n");
            Ok(0)
        }
        _ => err_exit(
            ctx,
            io,
            &format!("iptables v1.6.1: bad argument '{}'", args.join(" ")),
            2,
        ),
    }
}

/// `bash -c 'cmd'` or `bash script args...`.
pub async fn bash(ctx: &mut Ctx, args: &[String], io: &Io) -> Flow {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "-c" {
            let Some(source) = iter.next() else {
                return err_exit(ctx, io, "bash: -c: option requires an argument", 2);
            };
            let source = source.clone();
            ctx.positional = iter.cloned().collect();
            return Ok(ctx.run_source(&source, io).await);
        }
        if arg == "-e" {
            continue;
        }
        let path = ctx.path(arg);
        let text = ctx.vm(|vm, _| vm.disk.fs.read_text(&path))?;
        let Some(text) = text else {
            return err_exit(
                ctx,
                io,
                &format!("bash: {arg}: No such file or directory"),
                127,
            );
        };
        ctx.arg0 = arg.clone();
        ctx.positional = iter.cloned().collect();
        return Ok(ctx.run_source(&text, io).await);
    }
    let source = String::from_utf8_lossy(&io.stdin).into_owned();
    Ok(ctx.run_source(&source, io).await)
}
