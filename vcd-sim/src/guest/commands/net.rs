//! Network tools: `ip route get` / `ip addr` (the VM's address, 2018
//! iproute2 format ending with `src <ip>`), `wget` and `curl` against the
//! simulated internet.

use crate::guest::exec::context::{CmdResult, Control, Ctx, Io, err_exit};
use crate::guest::exec::text::fs_reason;
use crate::guest::internet::{self, HttpResponse, NetError};

pub fn ip(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let address = ctx.vm(|vm, _| vm.ip.clone().filter(|_| vm.network_up()))?;
    match words.as_slice() {
        ["route", "get", target, ..] | ["r", "g", target, ..] => {
            let Some(ip) = address else {
                return err_exit(ctx, io, "RTNETLINK answers: Network is unreachable", 2);
            };
            let gateway = match ip.rsplit_once('.') {
                Some((prefix, _)) => format!("{prefix}.1"),
                None => ip.clone(),
            };
            let destination = if target.contains('.') {
                target.to_string()
            } else {
                format!("{target}.0.0.0")
            };
            ctx.out(
                io,
                format!("{destination} via {gateway} dev eth0 src {ip} \n    cache \n"),
            );
            Ok(0)
        }
        ["addr", ..] | ["a", ..] | ["address", ..] => {
            let mut out = String::from(
                "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n",
            );
            if let Some(ip) = address {
                out.push_str(&format!(
                    "    inet {ip}/24 brd {} scope global eth0\n",
                    ip.rsplit_once('.')
                        .map(|(p, _)| format!("{p}.255"))
                        .unwrap_or_default()
                ));
            }
            ctx.out(io, out);
            Ok(0)
        }
        _ => err_exit(
            ctx,
            io,
            &format!(
                "Object \"{}\" is unknown or not supported by the simulated ip, try \"ip help\".",
                words.first().unwrap_or(&"")
            ),
            255,
        ),
    }
}

/// Follows redirects (up to 5) when asked.
fn fetch(url: &str, follow: bool) -> Result<(HttpResponse, String), NetError> {
    let mut current = internet::with_scheme(url);
    for _ in 0..5 {
        let response = internet::get(&current)?;
        match (&response.location, follow) {
            (Some(next), true) => current = next.clone(),
            _ => return Ok((response, current)),
        }
    }
    internet::get(&current).map(|r| (r, current))
}

fn write_output(ctx: &Ctx, path: &str, body: &[u8]) -> Result<Result<(), String>, Control> {
    let full = ctx.path(path);
    let actor = ctx.actor();
    let data = bytes::Bytes::copy_from_slice(body);
    Ok(ctx
        .vm(|vm, now| vm.disk.fs.write(&full, data, actor, 0o644, now))?
        .map_err(|e| format!("{path}: {}", fs_reason(&e))))
}

pub async fn wget(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let mut output: Option<String> = None;
    let mut quiet = false;
    let mut urls = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-O" => output = iter.next().cloned(),
            "-q" | "--quiet" => quiet = true,
            "--no-verbose" | "-nv" => {}
            a if a.starts_with("--output-document=") => {
                output = Some(a["--output-document=".len()..].to_owned())
            }
            a if a.starts_with('-') => {}
            a => urls.push(a.to_owned()),
        }
    }
    let Some(url) = urls.first().cloned() else {
        return err_exit(ctx, io, "wget: missing URL", 1);
    };
    ctx.sleep(ctx.world.timings().download).await?;
    let (response, final_url) = match fetch(&url, true) {
        Ok(r) => r,
        Err(NetError::UnknownHost(host)) => {
            return err_exit(
                ctx,
                io,
                &format!("wget: unable to resolve host address '{host}'"),
                4,
            );
        }
        Err(NetError::BadUrl(u)) => return err_exit(ctx, io, &format!("{u}: Invalid URL"), 1),
    };
    if response.status >= 400 {
        return err_exit(
            ctx,
            io,
            &format!(
                "{final_url}:\n{} ERROR {}: {}.",
                chrono::Utc::now().format("%Y-%m-%d %H:%M:%S"),
                response.status,
                response.reason
            ),
            8,
        );
    }
    let target = output.unwrap_or_else(|| {
        crate::guest::fs::base_name(url.split('?').next().unwrap_or(&url)).to_owned()
    });
    if target == "-" {
        ctx.out(io, &response.body);
    } else if let Err(m) = write_output(ctx, &target, &response.body)? {
        return err_exit(ctx, io, &m, 3);
    }
    if !quiet {
        ctx.err(
            io,
            format!(
                "{} URL:{final_url} [{}/{}] -> \"{target}\" [1]\n",
                chrono::Utc::now().format("%Y-%m-%d %H:%M:%S"),
                response.body.len(),
                response.body.len()
            ),
        );
    }
    Ok(0)
}

pub async fn curl(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let mut output: Option<String> = None;
    let mut fail = false;
    let mut silent = false;
    let mut show_error = false;
    let mut follow = false;
    let mut urls = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-o" | "--output" => output = iter.next().cloned(),
            "--fail" => fail = true,
            "--silent" => silent = true,
            "--location" => follow = true,
            "--show-error" => show_error = true,
            a if a.starts_with("--") => {}
            a if a.starts_with('-') => {
                for c in a[1..].chars() {
                    match c {
                        'f' => fail = true,
                        's' => silent = true,
                        'S' => show_error = true,
                        'L' => follow = true,
                        'o' => output = iter.next().cloned(),
                        _ => {}
                    }
                }
            }
            a => urls.push(a.to_owned()),
        }
    }
    let report = !silent || show_error;
    let Some(url) = urls.first().cloned() else {
        return err_exit(ctx, io, "curl: no URL specified!", 2);
    };
    ctx.sleep(ctx.world.timings().download).await?;
    let (response, _) = match fetch(&url, follow) {
        Ok(r) => r,
        Err(NetError::UnknownHost(host)) => {
            if report {
                ctx.err(io, format!("curl: (6) Could not resolve host: {host}\n"));
            }
            return Ok(6);
        }
        Err(NetError::BadUrl(_)) => {
            if report {
                ctx.err(
                    io,
                    "curl: (3) URL using bad/illegal format or missing URL\n",
                );
            }
            return Ok(3);
        }
    };
    if fail && response.status >= 400 {
        if report {
            ctx.err(
                io,
                format!(
                    "curl: (22) The requested URL returned error: {} {}\n",
                    response.status, response.reason
                ),
            );
        }
        return Ok(22);
    }
    match output {
        Some(path) if path != "-" => {
            if let Err(m) = write_output(ctx, &path, &response.body)? {
                ctx.err(io, format!("curl: (23) Failed writing body: {m}\n"));
                return Ok(23);
            }
        }
        _ => ctx.out(io, &response.body),
    }
    Ok(0)
}
