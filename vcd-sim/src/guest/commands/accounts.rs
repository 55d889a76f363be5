//! Account tools: `passwd` (new password twice on stdin, as when piped),
//! `chpasswd` (`user:password` lines), `chage` (aging flags), `useradd`.

use crate::guest::exec::context::{CmdResult, Ctx, Io, err_exit};
use crate::guest::users::User;

pub fn passwd(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let user = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .cloned()
        .unwrap_or_else(|| ctx.user.clone());
    if ctx.uid != 0 && user != ctx.user {
        return err_exit(
            ctx,
            io,
            &format!("passwd: You may not view or modify password information for {user}."),
            1,
        );
    }
    let input = String::from_utf8_lossy(&io.stdin).into_owned();
    let mut lines = input.lines();
    ctx.out(io, "New password: ");
    let Some(first) = lines.next() else {
        return err_exit(
            ctx,
            io,
            "\npasswd: Authentication token manipulation error\npasswd: password unchanged",
            10,
        );
    };
    ctx.out(io, "Retype new password: ");
    if lines.next() != Some(first) {
        return err_exit(
            ctx,
            io,
            "Sorry, passwords do not match.\npasswd: Authentication token manipulation error\npasswd: password unchanged",
            10,
        );
    }
    let first = first.to_owned();
    let changed = ctx.vm(|vm, _| vm.disk.users.set_password(&user, &first))?;
    if !changed {
        return err_exit(ctx, io, &format!("passwd: user '{user}' does not exist"), 1);
    }
    ctx.out(io, "\npasswd: password updated successfully\n");
    Ok(0)
}

pub fn chpasswd(ctx: &mut Ctx, _args: &[String], io: &Io) -> CmdResult {
    if ctx.uid != 0 {
        return err_exit(ctx, io, "chpasswd: Permission denied.", 1);
    }
    let input = String::from_utf8_lossy(&io.stdin).into_owned();
    let mut status = 0;
    for (number, line) in input.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let Some((user, password)) = line.split_once(':') else {
            ctx.err(
                io,
                format!("chpasswd: line {}: missing new password\n", number + 1),
            );
            status = 1;
            continue;
        };
        let (user, password) = (user.to_owned(), password.to_owned());
        if !ctx.vm(|vm, _| vm.disk.users.set_password(&user, &password))? {
            ctx.err(
                io,
                format!(
                    "chpasswd: line {}: user '{user}' does not exist\n",
                    number + 1
                ),
            );
            status = 1;
        }
    }
    if status != 0 {
        ctx.err(io, "chpasswd: error detected, changes ignored\n");
    }
    Ok(status)
}

pub fn chage(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    if ctx.uid != 0 {
        return err_exit(ctx, io, "chage: Permission denied.", 1);
    }
    let mut changes: Vec<(char, i64)> = Vec::new();
    let mut user = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-I" | "-m" | "-M" | "-E" | "-W" | "-d" => {
                let Some(value) = iter.next().and_then(|v| v.parse::<i64>().ok()) else {
                    return err_exit(
                        ctx,
                        io,
                        &format!("chage: invalid numeric argument for {arg}"),
                        2,
                    );
                };
                changes.push((arg.chars().nth(1).unwrap_or('?'), value));
            }
            a if a.starts_with('-') => {
                return err_exit(
                    ctx,
                    io,
                    &format!("chage: invalid option -- '{}'", &a[1..]),
                    2,
                );
            }
            a => user = Some(a.to_owned()),
        }
    }
    let Some(user) = user else {
        return err_exit(ctx, io, "Usage: chage [options] LOGIN", 2);
    };
    let found = ctx.vm(|vm, _| match vm.disk.users.get_mut(&user) {
        Some(account) => {
            for (flag, value) in &changes {
                match flag {
                    'I' => account.aging.inactive_days = *value,
                    'm' => account.aging.min_days = *value,
                    'M' => account.aging.max_days = *value,
                    'E' => account.aging.expire_date = *value,
                    _ => {}
                }
            }
            true
        }
        None => false,
    })?;
    if !found {
        return err_exit(
            ctx,
            io,
            &format!("chage: user '{user}' does not exist in /etc/passwd"),
            1,
        );
    }
    Ok(0)
}

pub fn useradd(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    if ctx.uid != 0 {
        return err_exit(ctx, io, "useradd: Permission denied.", 1);
    }
    let create_home = args.iter().any(|a| a == "-m");
    let Some(name) = args.iter().rfind(|a| !a.starts_with('-')).cloned() else {
        return err_exit(ctx, io, "Usage: useradd [options] LOGIN", 2);
    };
    let result = ctx.vm(|vm, now| {
        if vm.disk.users.get(&name).is_some() {
            return Err(format!("useradd: user '{name}' already exists"));
        }
        let uid = 1000
            + (0..)
                .find(|n| vm.disk.users.by_uid(1000 + n).is_none())
                .unwrap_or(0);
        let home = format!("/home/{name}");
        vm.disk.users.add(User {
            name: name.clone(),
            uid,
            gid: uid,
            home: home.clone(),
            shell: "/bin/bash".into(),
            password: None,
            aging: Default::default(),
        });
        if create_home {
            let _ = vm.disk.fs.mkdir(
                &home,
                true,
                crate::guest::fs::Actor { uid, gid: uid },
                0o755,
                now,
            );
            let _ = vm
                .disk
                .fs
                .chown(&home, Some(uid), Some(uid), crate::guest::fs::Actor::ROOT);
        }
        Ok(())
    })?;
    match result {
        Ok(()) => Ok(0),
        Err(m) => err_exit(ctx, io, &m, 9),
    }
}
