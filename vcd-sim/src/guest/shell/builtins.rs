//! Shell builtins: `:`/`true`/`false`, `echo`, `printf`, `cd`, `pwd`,
//! `export`/`local`/`readonly`/`unset`, `set`, `exit`/`return`/`break`/
//! `continue`, `test`/`[`, `shift`, `source`/`.`, `eval`, `type`/`command -v`.
//! Anything else a script calls must exist as a guest file.

use super::parse;
use super::support::{resolve, unsupported_exit};
use crate::guest::exec::context::{BoxFut, Control, Ctx, Flow, Io};
use crate::guest::exec::test_expr;
use crate::guest::exec::text::{echo_text, printf_text};

const NAMES: &[&str] = &[
    ":", "true", "false", "echo", "printf", "cd", "pwd", "export", "local", "readonly", "declare",
    "typeset", "unset", "set", "exit", "return", "break", "continue", "test", "[", "shift",
    "source", ".", "eval", "type", "command", "read", "trap", "wait", "umask",
];

/// Whether `name` is a builtin.
pub fn is_builtin(name: &str) -> bool {
    NAMES.contains(&name)
}

fn set_options(ctx: &mut Ctx, args: &[String], io: &Io) -> i32 {
    let mut index = 0;
    while let Some(arg) = args.get(index) {
        if arg == "--" {
            ctx.positional = args[index + 1..].to_vec();
            return 0;
        }
        let (enable, flags) = match (arg.strip_prefix('-'), arg.strip_prefix('+')) {
            (Some(f), _) => (true, f),
            (_, Some(f)) => (false, f),
            _ => {
                ctx.positional = args[index..].to_vec();
                return 0;
            }
        };
        for flag in flags.chars() {
            match flag {
                'e' => ctx.opts.errexit = enable,
                'u' => ctx.opts.nounset = enable,
                'x' => ctx.opts.xtrace = enable,
                'o' => {
                    index += 1;
                    match args.get(index).map(String::as_str) {
                        Some("pipefail") => ctx.opts.pipefail = enable,
                        Some("errexit") => ctx.opts.errexit = enable,
                        Some("nounset") => ctx.opts.nounset = enable,
                        Some("xtrace") => ctx.opts.xtrace = enable,
                        other => {
                            ctx.err(
                                io,
                                format!(
                                    "{}: set: {}: invalid option name\n",
                                    ctx.arg0,
                                    other.unwrap_or("")
                                ),
                            );
                            return 2;
                        }
                    }
                }
                other => {
                    ctx.err(io, format!("{}: set: -{other}: invalid option\n", ctx.arg0));
                    return 2;
                }
            }
        }
        index += 1;
    }
    0
}

fn loop_count(args: &[String]) -> u32 {
    args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1)
}

/// Runs `argv` when it names a builtin.
pub fn run<'a>(ctx: &'a mut Ctx, argv: &'a [String], io: &'a Io) -> BoxFut<'a, Option<Flow>> {
    Box::pin(async move {
        let name = argv[0].as_str();
        if !is_builtin(name) {
            return None;
        }
        let args = &argv[1..];
        let result: Flow = match name {
            ":" | "true" | "wait" | "umask" => Ok(0),
            "false" => Ok(1),
            "echo" => {
                ctx.out(io, echo_text(args));
                Ok(0)
            }
            "printf" => match printf_text(args) {
                Ok(text) => {
                    ctx.out(io, text);
                    Ok(0)
                }
                Err(message) => {
                    ctx.err(io, format!("{}: {message}\n", ctx.arg0));
                    Ok(1)
                }
            },
            "pwd" => {
                ctx.out(io, format!("{}\n", ctx.cwd));
                Ok(0)
            }
            "cd" => {
                let target = args
                    .first()
                    .cloned()
                    .unwrap_or_else(|| ctx.var("HOME").unwrap_or("/").to_owned());
                let path = ctx.path(&target);
                match ctx.vm(|vm, _| vm.disk.fs.is_dir(&path)) {
                    Ok(true) => {
                        ctx.cwd = path;
                        Ok(0)
                    }
                    Ok(false) => {
                        ctx.err(
                            io,
                            format!(
                                "{}: line {}: cd: {target}: No such file or directory\n",
                                ctx.arg0, ctx.line
                            ),
                        );
                        Ok(1)
                    }
                    Err(c) => Err(c),
                }
            }
            "export" | "local" | "readonly" | "declare" | "typeset" => {
                for arg in args.iter().filter(|a| !a.starts_with('-')) {
                    let (key, value) = match arg.split_once('=') {
                        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                        None => (arg.clone(), None),
                    };
                    if let Some(value) = value {
                        ctx.set_var(&key, value);
                    }
                    if name == "export" {
                        ctx.exported.insert(key);
                    }
                }
                Ok(0)
            }
            "unset" => {
                for arg in args.iter().filter(|a| !a.starts_with('-')) {
                    ctx.vars.remove(arg);
                    ctx.exported.remove(arg);
                    ctx.functions.remove(arg);
                }
                Ok(0)
            }
            "set" => Ok(set_options(ctx, args, io)),
            "exit" => Err(Control::Exit(
                args.first()
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(ctx.last_status),
            )),
            "return" => Err(Control::Return(
                args.first()
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(ctx.last_status),
            )),
            "break" => Err(Control::Break(loop_count(argv))),
            "continue" => Err(Control::Continue(loop_count(argv))),
            "test" | "[" => {
                let mut args = args.to_vec();
                if name == "[" {
                    if args.last().map(String::as_str) != Some("]") {
                        ctx.err(
                            io,
                            format!("{}: line {}: [: missing `]'\n", ctx.arg0, ctx.line),
                        );
                        return Some(Ok(2));
                    }
                    args.pop();
                }
                match test_expr::evaluate(ctx, &args) {
                    Ok(true) => Ok(0),
                    Ok(false) => Ok(1),
                    Err(message) => {
                        ctx.err(
                            io,
                            format!("{}: line {}: {name}: {message}\n", ctx.arg0, ctx.line),
                        );
                        Ok(2)
                    }
                }
            }
            "shift" => {
                let n = args.first().and_then(|a| a.parse().ok()).unwrap_or(1usize);
                if n > ctx.positional.len() {
                    Ok(1)
                } else {
                    ctx.positional.drain(..n);
                    Ok(0)
                }
            }
            "source" | "." => {
                let Some(file) = args.first() else {
                    ctx.err(
                        io,
                        format!("{}: {name}: filename argument required\n", ctx.arg0),
                    );
                    return Some(Ok(2));
                };
                let path = ctx.path(file);
                match ctx.vm(|vm, _| vm.disk.fs.read_text(&path)) {
                    Ok(Some(text)) => match parse::parse_program(&text) {
                        Ok(program) => ctx.run_program(&program, io).await,
                        Err(e) => {
                            ctx.err(io, format!("{file}: {e}\n"));
                            Ok(2)
                        }
                    },
                    Ok(None) => {
                        ctx.err(
                            io,
                            format!(
                                "{}: line {}: {file}: No such file or directory\n",
                                ctx.arg0, ctx.line
                            ),
                        );
                        Ok(1)
                    }
                    Err(c) => Err(c),
                }
            }
            "eval" => {
                let text = args.join(" ");
                match parse::parse_program(&text) {
                    Ok(program) => ctx.run_program(&program, io).await,
                    Err(e) => {
                        ctx.err(io, format!("{}: eval: {e}\n", ctx.arg0));
                        Ok(2)
                    }
                }
            }
            "type" | "command" => {
                let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
                if name == "command" && !args.first().is_some_and(|a| a == "-v" || a == "-V") {
                    if names.is_empty() {
                        return Some(Ok(0));
                    }
                    let rest: Vec<String> = args
                        .iter()
                        .skip_while(|a| a.starts_with('-'))
                        .cloned()
                        .collect();
                    let mut child = ctx.child();
                    return Some(child.run_external(rest, io).await);
                }
                let mut status = 0;
                for n in names {
                    if is_builtin(n) {
                        ctx.out(
                            io,
                            if name == "type" {
                                format!("{n} is a shell builtin\n")
                            } else {
                                format!("{n}\n")
                            },
                        );
                    } else if ctx.functions.contains_key(n.as_str()) {
                        ctx.out(io, format!("{n}\n"));
                    } else {
                        match resolve(ctx, n) {
                            Ok(path) => ctx.out(
                                io,
                                if name == "type" {
                                    format!("{n} is {path}\n")
                                } else {
                                    format!("{path}\n")
                                },
                            ),
                            Err(_) => {
                                if name == "type" {
                                    ctx.err(io, format!("{}: type: {n}: not found\n", ctx.arg0));
                                }
                                status = 1;
                            }
                        }
                    }
                }
                Ok(status)
            }
            "read" | "trap" => Err(unsupported_exit(ctx, io, name)),
            _ => return None,
        };
        Some(result)
    })
}
