//! `systemctl`: enable/disable/start/stop/restart/reload/is-active/is-enabled/
//! status/daemon-reload over the units installed on the disk. Starting a unit
//! written by a script runs its `ExecStartPre`/`ExecStart` lines and needs
//! its `Requires=` units.

use crate::guest::exec::context::{CmdResult, Control, Ctx, Io, Sink, err_exit};

fn unit_name(arg: &str) -> String {
    arg.trim_end_matches(".service").to_owned()
}

/// Reads `Key=value` lines of a unit file.
fn unit_values(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .flat_map(|v| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

fn exec_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("ExecStartPre=")
                .or_else(|| l.strip_prefix("ExecStart="))
        })
        .map(|l| l.trim_start_matches(['-', '@', '+']).to_owned())
        .collect()
}

async fn start_unit(
    ctx: &mut Ctx,
    unit: &str,
    io: &Io,
    depth: u32,
) -> Result<Result<(), String>, Control> {
    let (file, path, active) = ctx.vm(|vm, _| {
        let path = vm.disk.unit_file(unit);
        let text = path.as_ref().and_then(|p| vm.disk.fs.read_text(p));
        let active = vm.disk.services.get(unit).is_some_and(|s| s.active);
        (text, path, active)
    })?;
    let Some(text) = file else {
        return Ok(Err(format!(
            "Failed to start {unit}.service: Unit {unit}.service not found."
        )));
    };
    if active {
        return Ok(Ok(()));
    }
    if depth < 4 {
        for required in unit_values(&text, "Requires") {
            let required = unit_name(&required);
            if let Err(m) = Box::pin(start_unit(ctx, &required, io, depth + 1)).await? {
                return Ok(Err(format!(
                    "A dependency job for {unit}.service failed. See 'journalctl -xe' for details.\n{m}"
                )));
            }
        }
    }
    let custom = path
        .as_deref()
        .is_some_and(|p| p.starts_with("/etc/systemd/system"));
    if custom {
        for line in exec_lines(&text) {
            let mut child = ctx.child();
            child.cwd = "/".into();
            let quiet = Io {
                stdin: Default::default(),
                stdout: Sink::Null,
                stderr: Sink::Null,
            };
            let status = child.run_source(&line, &quiet).await;
            if status == crate::guest::process::KILLED_EXIT_CODE && ctx.cancel.is_cancelled() {
                return Err(Control::Killed);
            }
            if status != 0 {
                return Ok(Err(format!(
                    "Job for {unit}.service failed because the control process exited with error code.\nSee \"systemctl status {unit}.service\" and \"journalctl -xe\" for details."
                )));
            }
        }
    }
    ctx.vm(|vm, _| vm.disk.services.entry(unit.to_owned()).or_default().active = true)?;
    Ok(Ok(()))
}

pub async fn systemctl(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let args: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let Some(verb) = args.first().map(|s| s.as_str()) else {
        return err_exit(ctx, io, "systemctl: missing verb", 1);
    };
    let units: Vec<String> = args[1..].iter().map(|a| unit_name(a)).collect();
    if ctx.uid != 0 && !matches!(verb, "is-active" | "is-enabled" | "status") {
        return err_exit(ctx, io, "Failed to execute operation: Access denied", 1);
    }
    let mut status = 0;
    match verb {
        "daemon-reload" => {}
        "is-active" | "is-enabled" | "status" => {
            for unit in &units {
                let (exists, state) = ctx.vm(|vm, _| {
                    (
                        vm.disk.unit_file(unit).is_some(),
                        vm.disk.services.get(unit).copied().unwrap_or_default(),
                    )
                })?;
                let (text, ok) = match verb {
                    "is-active" => {
                        if exists && state.active {
                            ("active", true)
                        } else {
                            ("inactive", false)
                        }
                    }
                    "is-enabled" => {
                        if !exists {
                            ctx.err(io, format!("Failed to get unit file state for {unit}.service: No such file or directory\n"));
                            status = 1;
                            continue;
                        } else if state.enabled {
                            ("enabled", true)
                        } else {
                            ("disabled", false)
                        }
                    }
                    _ => {
                        if !exists {
                            ctx.err(io, format!("Unit {unit}.service could not be found.\n"));
                            status = 4;
                            continue;
                        }
                        let line = format!(
                            "● {unit}.service\n   Loaded: loaded ({}; vendor preset: enabled)\n   Active: {}\n",
                            if state.enabled { "enabled" } else { "disabled" },
                            if state.active {
                                "active (running)"
                            } else {
                                "inactive (dead)"
                            }
                        );
                        ctx.out(io, line);
                        if !state.active {
                            status = 3;
                        }
                        continue;
                    }
                };
                ctx.out(io, format!("{text}\n"));
                if !ok {
                    status = if verb == "is-active" { 3 } else { 1 };
                }
            }
        }
        "enable" | "disable" => {
            for unit in &units {
                let dir = ctx.vm(|vm, _| vm.disk.unit_file(unit))?;
                let Some(path) = dir else {
                    ctx.err(
                        io,
                        format!(
                            "Failed to {verb} unit: Unit file {unit}.service does not exist.\n"
                        ),
                    );
                    status = 1;
                    continue;
                };
                let enable = verb == "enable";
                let was = ctx.vm(|vm, _| {
                    let state = vm.disk.services.entry(unit.clone()).or_default();
                    let was = state.enabled;
                    state.enabled = enable;
                    was
                })?;
                if enable && !was {
                    ctx.err(io, format!("Created symlink /etc/systemd/system/multi-user.target.wants/{unit}.service → {path}.\n"));
                } else if !enable && was {
                    ctx.err(
                        io,
                        format!(
                            "Removed /etc/systemd/system/multi-user.target.wants/{unit}.service.\n"
                        ),
                    );
                }
            }
        }
        "start" | "restart" | "reload" | "try-restart" | "reload-or-restart" => {
            for unit in &units {
                if verb != "start" {
                    let exists = ctx.vm(|vm, _| vm.disk.unit_file(unit).is_some())?;
                    if !exists {
                        ctx.err(
                            io,
                            format!(
                                "Failed to {verb} {unit}.service: Unit {unit}.service not found.\n"
                            ),
                        );
                        status = 5;
                        continue;
                    }
                    if verb == "reload" {
                        let active =
                            ctx.vm(|vm, _| vm.disk.services.get(unit).is_some_and(|s| s.active))?;
                        if !active {
                            ctx.err(io, format!("Job for {unit}.service invalid.\n"));
                            status = 1;
                        }
                        continue;
                    }
                    ctx.vm(|vm, _| {
                        vm.disk.services.entry(unit.clone()).or_default().active = false
                    })?;
                }
                if let Err(m) = start_unit(ctx, unit, io, 0).await? {
                    ctx.err(io, format!("{m}\n"));
                    status = if m.contains("not found") { 5 } else { 1 };
                }
            }
        }
        "stop" => {
            for unit in &units {
                let exists = ctx.vm(|vm, _| {
                    let exists = vm.disk.unit_file(unit).is_some();
                    if let Some(s) = vm.disk.services.get_mut(unit) {
                        s.active = false;
                    }
                    exists
                })?;
                if !exists {
                    ctx.err(
                        io,
                        format!("Failed to stop {unit}.service: Unit {unit}.service not loaded.\n"),
                    );
                    status = 5;
                }
            }
        }
        other => return err_exit(ctx, io, &format!("Unknown operation '{other}'."), 1),
    }
    Ok(status)
}
