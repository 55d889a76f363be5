//! coreutils-like programs over the guest filesystem: cat, cp, mv, mkdir,
//! chmod, chown, rm, touch, ls, echo, printf, sleep, id, whoami, env, pwd,
//! head, tail, wc, tee, basename, dirname, date, true/false, test.

use std::time::Duration;

use crate::guest::exec::context::{CmdResult, Ctx, Io, err_exit};
use crate::guest::exec::test_expr;
use crate::guest::exec::text::{echo_text, fs_reason, parse_duration, printf_text, read_inputs};
use crate::guest::fs::{self, NodeKind};

fn flags_and_operands(args: &[String]) -> (String, Vec<String>) {
    let mut flags = String::new();
    let mut operands = Vec::new();
    let mut only_operands = false;
    for arg in args {
        if !only_operands && arg == "--" {
            only_operands = true;
        } else if !only_operands && arg.starts_with('-') && arg.len() > 1 {
            flags.push_str(arg.trim_start_matches('-'));
        } else {
            operands.push(arg.clone());
        }
    }
    (flags, operands)
}

pub fn cat(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (_, operands) = flags_and_operands(args);
    let (data, status) = read_inputs(ctx, "cat", &operands, io)?;
    ctx.out(io, data);
    Ok(status)
}

pub fn echo(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    ctx.out(io, echo_text(args));
    Ok(0)
}

pub fn printf(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    match printf_text(args) {
        Ok(t) => {
            ctx.out(io, t);
            Ok(0)
        }
        Err(m) => err_exit(ctx, io, &m, 1),
    }
}

pub fn test(ctx: &mut Ctx, name: &str, args: &[String], io: &Io) -> CmdResult {
    let mut args = args.to_vec();
    if name == "[" {
        if args.last().map(String::as_str) != Some("]") {
            return err_exit(ctx, io, "[: missing `]'", 2);
        }
        args.pop();
    }
    match test_expr::evaluate(ctx, &args) {
        Ok(v) => Ok(i32::from(!v)),
        Err(m) => err_exit(ctx, io, &format!("{name}: {m}"), 2),
    }
}

pub fn mkdir(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let mut parents = false;
    let mut mode = 0o755;
    let mut operands = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-p" | "--parents" => parents = true,
            "-m" => {
                mode = iter
                    .next()
                    .and_then(|m| u32::from_str_radix(m, 8).ok())
                    .unwrap_or(0o755)
            }
            a if a.starts_with('-') && a.contains('p') => parents = true,
            a => operands.push(a.to_owned()),
        }
    }
    if operands.is_empty() {
        return err_exit(ctx, io, "mkdir: missing operand", 1);
    }
    let mut status = 0;
    for operand in operands {
        let path = ctx.path(&operand);
        let actor = ctx.actor();
        if let Err(e) = ctx.vm(|vm, now| vm.disk.fs.mkdir(&path, parents, actor, mode, now))? {
            ctx.err(
                io,
                format!(
                    "mkdir: cannot create directory '{operand}': {}\n",
                    fs_reason(&e)
                ),
            );
            status = 1;
        }
    }
    Ok(status)
}

/// Applies a chmod mode spec (octal or symbolic like `u+rx`, `a+x`, `go-w`) to `mode`.
pub fn apply_mode(spec: &str, mode: u32) -> Option<u32> {
    if spec.chars().all(|c| c.is_digit(8)) {
        return u32::from_str_radix(spec, 8).ok();
    }
    let mut mode = mode;
    for clause in spec.split(',') {
        let op_at = clause.find(['+', '-', '='])?;
        let (who, rest) = clause.split_at(op_at);
        let op = rest.chars().next()?;
        let perms = &rest[1..];
        let who = if who.is_empty() { "a" } else { who };
        let mut mask = 0;
        for w in who.chars() {
            let shift = match w {
                'u' => vec![6],
                'g' => vec![3],
                'o' => vec![0],
                'a' => vec![6, 3, 0],
                _ => return None,
            };
            for s in shift {
                for p in perms.chars() {
                    mask |= match p {
                        'r' => 4,
                        'w' => 2,
                        'x' | 'X' => 1,
                        _ => return None,
                    } << s;
                }
            }
        }
        mode = match op {
            '+' => mode | mask,
            '-' => mode & !mask,
            _ => {
                let mut clear = 0;
                for w in who.chars() {
                    clear |= match w {
                        'u' => 0o700,
                        'g' => 0o070,
                        'o' => 0o007,
                        _ => 0o777,
                    };
                }
                (mode & !clear) | mask
            }
        };
    }
    Some(mode)
}

pub fn chmod(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let operands: Vec<&String> = args
        .iter()
        .filter(|a| {
            !(a.starts_with('-')
                && a.len() > 1
                && a[1..].chars().all(|c| c == 'R' || c == 'f' || c == 'v'))
        })
        .collect();
    let Some((spec, files)) = operands.split_first() else {
        return err_exit(ctx, io, "chmod: missing operand", 1);
    };
    if files.is_empty() {
        return err_exit(
            ctx,
            io,
            &format!("chmod: missing operand after '{spec}'"),
            1,
        );
    }
    let mut status = 0;
    for file in files {
        let path = ctx.path(file);
        let actor = ctx.actor();
        let spec = spec.to_string();
        let result = ctx.vm(|vm, _| {
            let current = vm.disk.fs.get(&path).map(|n| n.mode).ok_or(None)?;
            let new =
                apply_mode(&spec, current).ok_or(Some(format!("chmod: invalid mode: '{spec}'")))?;
            vm.disk.fs.chmod(&path, new, actor).map_err(|e| {
                Some(format!(
                    "chmod: changing permissions of '{file}': {}",
                    fs_reason(&e)
                ))
            })
        })?;
        match result {
            Ok(()) => {}
            Err(None) => {
                ctx.err(
                    io,
                    format!("chmod: cannot access '{file}': No such file or directory\n"),
                );
                status = 1;
            }
            Err(Some(m)) => {
                ctx.err(io, format!("{m}\n"));
                status = 1;
            }
        }
    }
    Ok(status)
}

pub fn chown(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (_, operands) = flags_and_operands(args);
    let Some((spec, files)) = operands.split_first() else {
        return err_exit(ctx, io, "chown: missing operand", 1);
    };
    let (user, group) = match spec.split_once([':', '.']) {
        Some((u, g)) => (u.to_owned(), Some(g.to_owned())),
        None => (spec.clone(), None),
    };
    let ids = ctx.vm(|vm, _| {
        let users = &vm.disk.users;
        let uid = if user.is_empty() {
            Ok(None)
        } else if let Ok(n) = user.parse::<u32>() {
            Ok(Some(n))
        } else {
            users
                .get(&user)
                .map(|u| Some(u.uid))
                .ok_or(format!("chown: invalid user: '{spec}'"))
        };
        let gid = match &group {
            None => Ok(None),
            Some(g) if g.is_empty() => Ok(None),
            Some(g) => g
                .parse::<u32>()
                .ok()
                .or_else(|| users.gid_of_group(g))
                .map(Some)
                .ok_or(format!("chown: invalid group: '{spec}'")),
        };
        uid.and_then(|u| gid.map(|g| (u, g)))
    })?;
    let (uid, gid) = match ids {
        Ok(ids) => ids,
        Err(m) => return err_exit(ctx, io, &m, 1),
    };
    let mut status = 0;
    for file in files {
        let path = ctx.path(file);
        let actor = ctx.actor();
        if let Err(e) = ctx.vm(|vm, _| vm.disk.fs.chown(&path, uid, gid, actor))? {
            ctx.err(
                io,
                format!("chown: cannot access '{file}': {}\n", fs_reason(&e)),
            );
            status = 1;
        }
    }
    Ok(status)
}

pub fn rm(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (flags, operands) = flags_and_operands(args);
    let recursive = flags.contains('r') || flags.contains('R');
    let force = flags.contains('f');
    if operands.is_empty() && !force {
        return err_exit(ctx, io, "rm: missing operand", 1);
    }
    let mut status = 0;
    for operand in operands {
        let path = ctx.path(&operand);
        let actor = ctx.actor();
        let result = ctx.vm(|vm, _| {
            if vm.disk.fs.is_dir(&path) && !recursive {
                return Err(format!("rm: cannot remove '{operand}': Is a directory"));
            }
            match vm.disk.fs.remove(&path, recursive, actor) {
                Ok(()) => Ok(()),
                Err(fs::FsError::NotFound(_)) if force => Ok(()),
                Err(e) => Err(format!("rm: cannot remove '{operand}': {}", fs_reason(&e))),
            }
        })?;
        if let Err(m) = result {
            ctx.err(io, format!("{m}\n"));
            status = 1;
        }
    }
    Ok(status)
}

pub fn cp_mv(ctx: &mut Ctx, name: &str, args: &[String], io: &Io) -> CmdResult {
    let (flags, operands) = flags_and_operands(args);
    let recursive = flags.contains('r') || flags.contains('R') || flags.contains('a');
    if operands.len() < 2 {
        return err_exit(ctx, io, &format!("{name}: missing file operand"), 1);
    }
    let (sources, target) = operands.split_at(operands.len() - 1);
    let target = ctx.path(&target[0]);
    let mut status = 0;
    for source in sources {
        let from = ctx.path(source);
        let actor = ctx.actor();
        let is_mv = name == "mv";
        let result = ctx.vm(|vm, now| {
            if is_mv {
                vm.disk.fs.rename(&from, &target, actor)
            } else {
                vm.disk.fs.copy(&from, &target, recursive, actor, now)
            }
        })?;
        if let Err(e) = result {
            let message = match e {
                fs::FsError::IsADirectory(_) if !is_mv => {
                    format!("cp: -r not specified; omitting directory '{source}'")
                }
                fs::FsError::NotFound(p) if p == from => {
                    format!("{name}: cannot stat '{source}': No such file or directory")
                }
                other => format!(
                    "{name}: cannot create regular file '{}': {}",
                    target,
                    fs_reason(&other)
                ),
            };
            ctx.err(io, format!("{message}\n"));
            status = 1;
        }
    }
    Ok(status)
}

pub fn touch(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (_, operands) = flags_and_operands(args);
    let mut status = 0;
    for operand in operands {
        let path = ctx.path(&operand);
        let actor = ctx.actor();
        let result = ctx.vm(|vm, now| match vm.disk.fs.get(&path) {
            Some(_) => Ok(()),
            None => vm
                .disk
                .fs
                .write(&path, bytes::Bytes::new(), actor, 0o644, now),
        })?;
        if let Err(e) = result {
            ctx.err(
                io,
                format!("touch: cannot touch '{operand}': {}\n", fs_reason(&e)),
            );
            status = 1;
        }
    }
    Ok(status)
}

pub fn ls(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (flags, operands) = flags_and_operands(args);
    let operands = if operands.is_empty() {
        vec![".".to_owned()]
    } else {
        operands
    };
    let mut status = 0;
    for operand in operands {
        let path = ctx.path(&operand);
        let listing = ctx.vm(|vm, _| match vm.disk.fs.get(&path) {
            None => None,
            Some(node) if node.is_dir() => Some(
                vm.disk
                    .fs
                    .children(&path)
                    .into_iter()
                    .filter(|c| flags.contains('a') || !c.starts_with('.'))
                    .collect::<Vec<_>>(),
            ),
            Some(_) => Some(vec![operand.clone()]),
        })?;
        match listing {
            Some(names) => {
                for n in names {
                    ctx.out(io, format!("{n}\n"));
                }
            }
            None => {
                ctx.err(
                    io,
                    format!("ls: cannot access '{operand}': No such file or directory\n"),
                );
                status = 2;
            }
        }
    }
    Ok(status)
}

pub async fn sleep(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    if args.is_empty() {
        return err_exit(ctx, io, "sleep: missing operand", 1);
    }
    let mut total = Duration::ZERO;
    for arg in args {
        match parse_duration(arg) {
            Some(d) => total += d,
            None => return err_exit(ctx, io, &format!("sleep: invalid time interval '{arg}'"), 1),
        }
    }
    ctx.sleep(total).await?;
    Ok(0)
}

pub fn id(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (flags, operands) = flags_and_operands(args);
    let who = operands
        .first()
        .cloned()
        .unwrap_or_else(|| ctx.user.clone());
    let info = ctx.vm(|vm, _| {
        vm.disk.users.get(&who).map(|u| {
            (
                u.uid,
                u.gid,
                u.name.clone(),
                vm.disk.users.group_name(u.gid).unwrap_or("").to_owned(),
            )
        })
    })?;
    let Some((uid, gid, name, group)) = info else {
        return err_exit(ctx, io, &format!("id: '{who}': no such user"), 1);
    };
    let names = flags.contains('n');
    let text = if flags.contains('u') {
        if names { name } else { uid.to_string() }
    } else if flags.contains('g') {
        if names { group } else { gid.to_string() }
    } else {
        format!("uid={uid}({name}) gid={gid}({group}) groups={gid}({group})")
    };
    ctx.out(io, format!("{text}\n"));
    Ok(0)
}

pub fn env(ctx: &mut Ctx, args: &[String], io: &Io) -> Option<CmdResult> {
    if args.is_empty() {
        let mut text = String::new();
        for key in &ctx.exported {
            if let Some(v) = ctx.vars.get(key) {
                text.push_str(&format!("{key}={v}\n"));
            }
        }
        ctx.out(io, text);
        return Some(Ok(0));
    }
    None
}

pub fn head_tail(ctx: &mut Ctx, name: &str, args: &[String], io: &Io) -> CmdResult {
    let mut count = 10usize;
    let mut operands = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "-n" {
            count = iter
                .next()
                .and_then(|n| n.trim_start_matches('+').parse().ok())
                .unwrap_or(10);
        } else if let Some(n) = arg
            .strip_prefix('-')
            .and_then(|n| n.trim_start_matches('n').parse().ok())
        {
            count = n;
        } else {
            operands.push(arg.clone());
        }
    }
    let (data, status) = read_inputs(ctx, name, &operands, io)?;
    let text = String::from_utf8_lossy(&data);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let selected = if name == "head" {
        &lines[..count.min(lines.len())]
    } else {
        &lines[lines.len().saturating_sub(count)..]
    };
    ctx.out(io, selected.concat());
    Ok(status)
}

pub fn wc(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (flags, operands) = flags_and_operands(args);
    let (data, status) = read_inputs(ctx, "wc", &operands, io)?;
    let text = String::from_utf8_lossy(&data);
    let lines = text.matches('\n').count();
    let words = text.split_whitespace().count();
    let out = if flags.contains('l') {
        format!("{lines}\n")
    } else if flags.contains('w') {
        format!("{words}\n")
    } else if flags.contains('c') {
        format!("{}\n", data.len())
    } else {
        format!("{lines} {words} {}\n", data.len())
    };
    ctx.out(io, out);
    Ok(status)
}

pub fn tee(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (flags, operands) = flags_and_operands(args);
    let data = io.stdin.clone();
    let mut status = 0;
    for operand in operands {
        let path = ctx.path(&operand);
        let actor = ctx.actor();
        let append = flags.contains('a');
        let d = data.clone();
        let r = ctx.vm(|vm, now| {
            if append {
                vm.disk.fs.append(&path, &d, actor, now)
            } else {
                vm.disk.fs.write(&path, d, actor, 0o644, now)
            }
        })?;
        if let Err(e) = r {
            ctx.err(io, format!("tee: {operand}: {}\n", fs_reason(&e)));
            status = 1;
        }
    }
    ctx.out(io, data);
    Ok(status)
}

pub fn basename_dirname(ctx: &mut Ctx, name: &str, args: &[String], io: &Io) -> CmdResult {
    let Some(path) = args.first() else {
        return err_exit(ctx, io, &format!("{name}: missing operand"), 1);
    };
    let text = if name == "basename" {
        let base = fs::base_name(path).to_owned();
        match args.get(1) {
            Some(suffix) => base
                .strip_suffix(suffix.as_str())
                .unwrap_or(&base)
                .to_owned(),
            None => base,
        }
    } else if !path.contains('/') {
        ".".to_owned()
    } else {
        fs::parent_of(path.trim_end_matches('/'))
    };
    ctx.out(io, format!("{text}\n"));
    Ok(0)
}

pub fn date(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let now = ctx.vm(|_, now| now)?;
    let text = match args.first().and_then(|a| a.strip_prefix('+')) {
        Some("%s") => now.timestamp().to_string(),
        Some(format) => now.format(format).to_string(),
        None => now.format("%a %b %e %H:%M:%S UTC %Y").to_string(),
    };
    ctx.out(io, format!("{text}\n"));
    Ok(0)
}

pub fn stat(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (_, operands) = flags_and_operands(args);
    let mut status = 0;
    for operand in operands {
        let path = ctx.path(&operand);
        let node = ctx.vm(|vm, _| vm.disk.fs.get(&path).cloned())?;
        match node {
            Some(n) => {
                let (kind, size) = match &n.kind {
                    NodeKind::Dir => ("directory", 4096),
                    NodeKind::File(d) => ("regular file", d.len()),
                };
                ctx.out(io, format!("  File: {operand}\n  Size: {size}\t{kind}\nAccess: ({:04o})  Uid: ({})  Gid: ({})\n", n.mode, n.uid, n.gid));
            }
            None => {
                ctx.err(
                    io,
                    format!("stat: cannot stat '{operand}': No such file or directory\n"),
                );
                status = 1;
            }
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chmod_modes() {
        assert_eq!(apply_mode("u+rx", 0o644), Some(0o744));
        assert_eq!(apply_mode("a+x", 0o644), Some(0o755));
        assert_eq!(apply_mode("go-rwx", 0o755), Some(0o700));
        assert_eq!(apply_mode("0600", 0o755), Some(0o600));
        assert_eq!(apply_mode("u=rw", 0o755), Some(0o655));
        assert_eq!(apply_mode("z+x", 0o644), None);
    }
}
