//! Evaluation of the parsed AST: lists, `&&`/`||`, pipelines (stages run in
//! order with buffered pipes), compound commands, simple commands with
//! assignments and redirections, `set -e`, functions, and execution of guest
//! files (simulated binaries or shebang scripts) found through `PATH`.

use std::sync::Arc;

use brush_parser::ast::{
    AndOr, AndOrList, Assignment, AssignmentName, AssignmentValue, CaseItemPostAction, Command,
    CommandPrefixOrSuffixItem, CompoundCommand, CompoundList, IoFileRedirectKind,
    IoFileRedirectTarget, IoRedirect, Pipeline, Program, SeparatorOperator, SimpleCommand,
};
use bytes::Bytes;
use parking_lot::Mutex;

use super::support::{resolve, unsupported, unsupported_exit};
use super::{arith, builtins, expand, parse};
use crate::guest::commands;
use crate::guest::disk;
use crate::guest::exec::context::{BoxFut, Control, Ctx, Flow, Io, MAX_DEPTH, Sink};
use crate::guest::fs::{self, FsError};
use crate::guest::process::KILLED_EXIT_CODE;

/// Loop iterations after which a loop starts yielding (a loop waiting for
/// something that never happens must not spin a thread on an instant clock).
const BUSY_LOOP_LIMIT: u32 = 2_000;

/// Parses and runs a script source in `ctx` (like `bash -c`). Syntax errors
/// print to stderr and give status 2.
pub async fn run_source(ctx: &mut Ctx, source: &str, io: &Io) -> i32 {
    let program = match parse::parse_program(source) {
        Ok(program) => program,
        Err(message) => {
            ctx.err(io, format!("{}: {message}\n", ctx.arg0));
            return 2;
        }
    };
    match run_program(ctx, &program, io).await {
        Ok(status) | Err(Control::Exit(status)) | Err(Control::Return(status)) => status,
        Err(Control::Break(_)) | Err(Control::Continue(_)) => ctx.last_status,
        Err(Control::Killed) => KILLED_EXIT_CODE,
    }
}

/// Runs a whole program.
pub fn run_program<'a>(ctx: &'a mut Ctx, program: &'a Program, io: &'a Io) -> BoxFut<'a, Flow> {
    Box::pin(async move {
        let mut status = 0;
        for list in &program.complete_commands {
            status = run_list(ctx, list, io).await?;
        }
        Ok(status)
    })
}

/// Runs a compound list (`cmd; cmd; ...`).
pub fn run_list<'a>(ctx: &'a mut Ctx, list: &'a CompoundList, io: &'a Io) -> BoxFut<'a, Flow> {
    Box::pin(async move {
        let mut status = 0;
        for item in &list.0 {
            if matches!(item.1, SeparatorOperator::Async) {
                return unsupported(ctx, io, "background job (&)");
            }
            status = run_and_or(ctx, &item.0, io).await?;
        }
        Ok(status)
    })
}

async fn run_and_or(ctx: &mut Ctx, list: &AndOrList, io: &Io) -> Flow {
    let saved = ctx.in_condition;
    let total = 1 + list.additional.len();
    ctx.in_condition = saved || total > 1;
    let mut status = run_pipeline(ctx, &list.first, io).await?;
    let mut last_run = 0;
    let mut last_bang = list.first.bang;
    for (index, item) in list.additional.iter().enumerate() {
        let (is_and, pipeline) = match item {
            AndOr::And(p) => (true, p),
            AndOr::Or(p) => (false, p),
        };
        if (is_and && status != 0) || (!is_and && status == 0) {
            continue;
        }
        ctx.in_condition = saved || index + 2 < total;
        status = run_pipeline(ctx, pipeline, io).await?;
        last_run = index + 1;
        last_bang = pipeline.bang;
    }
    ctx.in_condition = saved;
    ctx.last_status = status;
    if status != 0 && ctx.opts.errexit && !saved && last_run == total - 1 && !last_bang {
        return Err(Control::Exit(status));
    }
    Ok(status)
}

async fn run_pipeline(ctx: &mut Ctx, pipeline: &Pipeline, io: &Io) -> Flow {
    let saved = ctx.in_condition;
    if pipeline.bang {
        ctx.in_condition = true;
    }
    let result = if pipeline.seq.len() == 1 {
        run_command(ctx, &pipeline.seq[0], io).await
    } else {
        let mut input = io.stdin.clone();
        let mut statuses = Vec::new();
        let stages = pipeline.seq.len();
        for (index, command) in pipeline.seq.iter().enumerate() {
            let buffer: Arc<Mutex<Vec<u8>>> = Arc::default();
            let stage_io = Io {
                stdin: input.clone(),
                stdout: if index + 1 == stages {
                    io.stdout.clone()
                } else {
                    Sink::Buffer(buffer.clone())
                },
                stderr: io.stderr.clone(),
            };
            let mut sub = ctx.clone();
            let status = match run_command(&mut sub, command, &stage_io).await {
                Ok(s) | Err(Control::Exit(s)) | Err(Control::Return(s)) => s,
                Err(Control::Break(_)) | Err(Control::Continue(_)) => sub.last_status,
                Err(Control::Killed) => return Err(Control::Killed),
            };
            statuses.push(status);
            input = Bytes::from(std::mem::take(&mut *buffer.lock()));
        }
        let last = *statuses.last().unwrap_or(&0);
        Ok(if ctx.opts.pipefail {
            statuses
                .iter()
                .rev()
                .copied()
                .find(|s| *s != 0)
                .unwrap_or(0)
        } else {
            last
        })
    };
    ctx.in_condition = saved;
    let status = result?;
    let status = if pipeline.bang {
        i32::from(status == 0)
    } else {
        status
    };
    ctx.last_status = status;
    Ok(status)
}

/// Runs one command of a pipeline.
pub fn run_command<'a>(ctx: &'a mut Ctx, command: &'a Command, io: &'a Io) -> BoxFut<'a, Flow> {
    Box::pin(async move {
        match command {
            Command::Simple(simple) => run_simple(ctx, simple, io).await,
            Command::Compound(compound, redirects) => {
                let io = match redirects {
                    Some(list) => {
                        let items: Vec<&IoRedirect> = list.0.iter().collect();
                        match apply_redirects(ctx, &items, io).await? {
                            Ok(io) => io,
                            Err(message) => {
                                ctx.err(io, format!("{}: {message}\n", ctx.arg0));
                                return Ok(1);
                            }
                        }
                    }
                    None => io.clone(),
                };
                run_compound(ctx, compound, &io).await
            }
            Command::Function(def) => {
                ctx.functions
                    .insert(def.fname.value.clone(), Arc::new(def.body.clone()));
                Ok(0)
            }
            Command::ExtendedTest(..) => unsupported(ctx, io, "[[ ... ]]"),
        }
    })
}

async fn loop_tick(ctx: &Ctx, iterations: &mut u32) -> Result<(), Control> {
    *iterations += 1;
    if *iterations > BUSY_LOOP_LIMIT {
        if ctx.cancel.is_cancelled() {
            return Err(Control::Killed);
        }
        if tokio::runtime::Handle::try_current().is_err() {
            // Nothing can ever wake this loop up without a runtime: stop it
            // rather than spin a thread forever.
            tracing::warn!(moref = %ctx.moref, pid = ctx.pid, "endless shell loop without a runtime; process stopped");
            return Err(Control::Killed);
        }
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => return Err(Control::Killed),
            _ = tokio::time::sleep(std::time::Duration::from_millis(5)) => {}
        }
    }
    Ok(())
}

async fn run_compound(ctx: &mut Ctx, compound: &CompoundCommand, io: &Io) -> Flow {
    match compound {
        CompoundCommand::BraceGroup(group) => run_list(ctx, &group.list, io).await,
        CompoundCommand::Subshell(sub) => {
            let mut child = ctx.clone();
            match run_list(&mut child, &sub.list, io).await {
                Ok(s) | Err(Control::Exit(s)) | Err(Control::Return(s)) => Ok(s),
                Err(Control::Break(_)) | Err(Control::Continue(_)) => Ok(child.last_status),
                Err(Control::Killed) => Err(Control::Killed),
            }
        }
        CompoundCommand::IfClause(clause) => {
            if condition(ctx, &clause.condition, io).await? == 0 {
                return run_list(ctx, &clause.then, io).await;
            }
            for branch in clause.elses.iter().flatten() {
                match &branch.condition {
                    Some(cond) => {
                        if condition(ctx, cond, io).await? == 0 {
                            return run_list(ctx, &branch.body, io).await;
                        }
                    }
                    None => return run_list(ctx, &branch.body, io).await,
                }
            }
            Ok(0)
        }
        CompoundCommand::WhileClause(clause) | CompoundCommand::UntilClause(clause) => {
            let until = matches!(compound, CompoundCommand::UntilClause(_));
            let mut status = 0;
            let mut iterations = 0;
            loop {
                loop_tick(ctx, &mut iterations).await?;
                let cond = condition(ctx, &clause.0, io).await?;
                if (cond == 0) == until {
                    break;
                }
                match run_list(ctx, &clause.1.list, io).await {
                    Ok(s) => status = s,
                    Err(Control::Break(n)) if n <= 1 => break,
                    Err(Control::Break(n)) => return Err(Control::Break(n - 1)),
                    Err(Control::Continue(n)) if n <= 1 => continue,
                    Err(Control::Continue(n)) => return Err(Control::Continue(n - 1)),
                    Err(other) => return Err(other),
                }
            }
            Ok(status)
        }
        CompoundCommand::ForClause(clause) => {
            let values = match &clause.values {
                Some(words) => {
                    let mut values = Vec::new();
                    for word in words {
                        values.extend(expand::fields(ctx, &word.value, io).await?);
                    }
                    values
                }
                None => ctx.positional.clone(),
            };
            let mut status = 0;
            for value in values {
                ctx.set_var(&clause.variable_name, value);
                match run_list(ctx, &clause.body.list, io).await {
                    Ok(s) => status = s,
                    Err(Control::Break(n)) if n <= 1 => break,
                    Err(Control::Break(n)) => return Err(Control::Break(n - 1)),
                    Err(Control::Continue(n)) if n <= 1 => continue,
                    Err(Control::Continue(n)) => return Err(Control::Continue(n - 1)),
                    Err(other) => return Err(other),
                }
            }
            Ok(status)
        }
        CompoundCommand::CaseClause(clause) => {
            let subject = expand::single(ctx, &clause.value.value, io).await?;
            let mut matched = false;
            for item in &clause.cases {
                if !matched {
                    for pattern in &item.patterns {
                        let pattern = expand::single(ctx, &pattern.value, io).await?;
                        if fs::glob_to_regex(&pattern).is_some_and(|r| r.is_match(&subject)) {
                            matched = true;
                            break;
                        }
                    }
                }
                if matched {
                    let status = match &item.cmd {
                        Some(list) => run_list(ctx, list, io).await?,
                        None => 0,
                    };
                    match item.post_action {
                        CaseItemPostAction::ExitCase => return Ok(status),
                        CaseItemPostAction::UnconditionallyExecuteNextCaseItem => continue,
                        CaseItemPostAction::ContinueEvaluatingCases => matched = false,
                    }
                }
            }
            Ok(0)
        }
        CompoundCommand::Arithmetic(arith) => {
            let text = expand::single(ctx, &arith.expr.value, io).await?;
            match arith::evaluate(ctx, &text) {
                Ok(v) => Ok(i32::from(v == 0)),
                Err(message) => {
                    ctx.err(io, format!("{}: {message}\n", ctx.arg0));
                    Ok(1)
                }
            }
        }
        CompoundCommand::ArithmeticForClause(_) => unsupported(ctx, io, "for (( ... ))"),
        CompoundCommand::Coprocess(_) => unsupported(ctx, io, "coproc"),
    }
}

async fn condition(ctx: &mut Ctx, list: &CompoundList, io: &Io) -> Flow {
    let saved = ctx.in_condition;
    ctx.in_condition = true;
    let result = run_list(ctx, list, io).await;
    ctx.in_condition = saved;
    result
}

/// Expands an assignment's value.
async fn assignment_value(
    ctx: &mut Ctx,
    assignment: &Assignment,
    io: &Io,
) -> Result<(String, String), Control> {
    let name = match &assignment.name {
        AssignmentName::VariableName(name) => name.clone(),
        AssignmentName::ArrayElementName(name, _) => {
            return Err(unsupported_exit(
                ctx,
                io,
                &format!("array element {name}[...]"),
            ));
        }
    };
    let value = match &assignment.value {
        AssignmentValue::Scalar(word) => expand::single(ctx, &word.value, io).await?,
        AssignmentValue::Array(_) => {
            return Err(unsupported_exit(
                ctx,
                io,
                &format!("array assignment {name}=(...)"),
            ));
        }
    };
    let value = if assignment.append {
        format!("{}{value}", ctx.var(&name).unwrap_or_default())
    } else {
        value
    };
    Ok((name, value))
}

const DECLARATION_BUILTINS: &[&str] = &["export", "local", "readonly", "declare", "typeset"];

async fn run_simple(ctx: &mut Ctx, simple: &SimpleCommand, io: &Io) -> Flow {
    if let Some(loc) = simple.word_or_name.as_ref().and_then(|w| w.loc.as_ref()) {
        ctx.line = loc.start.line;
    }
    let mut assignments: Vec<(String, String)> = Vec::new();
    let mut redirects: Vec<&IoRedirect> = Vec::new();
    for item in simple.prefix.iter().flat_map(|p| p.0.iter()) {
        match item {
            CommandPrefixOrSuffixItem::AssignmentWord(assignment, _) => {
                assignments.push(assignment_value(ctx, assignment, io).await?);
            }
            CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(r),
            CommandPrefixOrSuffixItem::Word(_)
            | CommandPrefixOrSuffixItem::ProcessSubstitution(..) => {
                return unsupported(ctx, io, "command prefix");
            }
        }
    }
    ctx.last_status = 0;
    let mut argv: Vec<String> = Vec::new();
    if let Some(word) = &simple.word_or_name {
        argv.extend(expand::fields(ctx, &word.value, io).await?);
    }
    let declaration = argv
        .first()
        .is_some_and(|a| DECLARATION_BUILTINS.contains(&a.as_str()));
    for item in simple.suffix.iter().flat_map(|s| s.0.iter()) {
        match item {
            CommandPrefixOrSuffixItem::Word(w) => {
                argv.extend(expand::fields(ctx, &w.value, io).await?)
            }
            CommandPrefixOrSuffixItem::AssignmentWord(assignment, word) => {
                if declaration {
                    let (name, value) = assignment_value(ctx, assignment, io).await?;
                    argv.push(format!("{name}={value}"));
                } else {
                    argv.extend(expand::fields(ctx, &word.value, io).await?);
                }
            }
            CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(r),
            CommandPrefixOrSuffixItem::ProcessSubstitution(..) => {
                return unsupported(ctx, io, "process substitution");
            }
        }
    }
    let substitution_status = ctx.last_status;
    let io = match apply_redirects(ctx, &redirects, io).await? {
        Ok(io) => io,
        Err(message) => {
            ctx.err(io, format!("{}: line {}: {message}\n", ctx.arg0, ctx.line));
            return Ok(1);
        }
    };
    if argv.is_empty() {
        for (name, value) in assignments {
            ctx.set_var(&name, value);
        }
        return Ok(substitution_status);
    }
    if ctx.opts.xtrace {
        ctx.err(&io, format!("+ {}\n", argv.join(" ")));
    }
    execute(ctx, argv, assignments, &io).await
}

/// Runs a command by name: function, builtin, or a file found through `PATH`.
pub fn execute<'a>(
    ctx: &'a mut Ctx,
    argv: Vec<String>,
    assignments: Vec<(String, String)>,
    io: &'a Io,
) -> BoxFut<'a, Flow> {
    Box::pin(async move {
        let name = argv[0].clone();
        if ctx.command_hangs(&name) {
            return Err(ctx.hang().await);
        }
        if ctx.depth >= MAX_DEPTH {
            ctx.err(
                io,
                format!(
                    "{}: {name}: maximum nesting level exceeded ({})\n",
                    ctx.arg0, MAX_DEPTH
                ),
            );
            return Err(Control::Exit(1));
        }
        if let Some(body) = ctx.functions.get(&name).cloned() {
            ctx.depth += 1;
            let saved = std::mem::replace(&mut ctx.positional, argv[1..].to_vec());
            for (k, v) in &assignments {
                ctx.set_var(k, v.clone());
            }
            let result = run_compound(ctx, &body.0, io).await;
            ctx.depth -= 1;
            ctx.positional = saved;
            return match result {
                Err(Control::Return(s)) => Ok(s),
                other => other,
            };
        }
        if let Some(result) = builtins::run(ctx, &argv, io).await {
            return result;
        }
        let mut child = ctx.child();
        for (k, v) in assignments {
            child.set_var(&k, v);
            child.exported.insert(k);
        }
        run_external(&mut child, argv, io).await
    })
}

/// Runs a guest file: a simulated binary or an interpreted script.
pub fn run_external<'a>(ctx: &'a mut Ctx, argv: Vec<String>, io: &'a Io) -> BoxFut<'a, Flow> {
    Box::pin(async move {
        let name = argv[0].clone();
        let path = match resolve(ctx, &name) {
            Ok(path) => path,
            Err((137, _)) => return Err(Control::Killed),
            Err((status, message)) => {
                let prefix = if ctx.depth > 0 || ctx.line > 0 {
                    format!("{}: line {}", ctx.arg0, ctx.line)
                } else {
                    ctx.arg0.clone()
                };
                ctx.err(io, format!("{prefix}: {message}\n"));
                return Ok(status);
            }
        };
        let data = ctx.vm(|vm, _| vm.disk.fs.read(&path, fs::Actor::ROOT))?;
        let data = match data {
            Ok(d) => d,
            Err(e) => {
                ctx.err(io, format!("{}: {e}\n", ctx.arg0));
                return Ok(126);
            }
        };
        if let Some((program, version)) = disk::binary_program(&data) {
            return commands::run(ctx, &program, &version, argv, io).await;
        }
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some(first) = text.lines().next().and_then(|l| l.strip_prefix("#!")) {
            let mut parts = first.split_whitespace();
            let interpreter = parts.next().unwrap_or_default();
            let interpreter = if fs::base_name(interpreter) == "env" {
                parts.next().unwrap_or_default()
            } else {
                interpreter
            };
            let base = fs::base_name(interpreter);
            if !matches!(base, "bash" | "sh") {
                let resolved = if interpreter.contains('/') {
                    resolve(ctx, interpreter)
                } else {
                    resolve(ctx, base)
                };
                let message = match resolved {
                    Ok(_) => format!(
                        "{name}: /usr/bin/env: '{base}': interpreter not supported by the simulated guest\n"
                    ),
                    Err(_) => format!("/usr/bin/env: '{base}': No such file or directory\n"),
                };
                ctx.err(io, message);
                return Ok(127);
            }
            if resolve(ctx, base).is_err() && resolve(ctx, interpreter).is_err() {
                ctx.err(
                    io,
                    format!("{name}: {interpreter}: bad interpreter: No such file or directory\n"),
                );
                return Ok(126);
            }
        }
        ctx.arg0 = name.clone();
        ctx.positional = argv[1..].to_vec();
        ctx.line = 0;
        Ok(run_source(ctx, &text, io).await)
    })
}

/// Opens the redirections of a command; the inner error is a bash-like message.
pub async fn apply_redirects(
    ctx: &mut Ctx,
    redirects: &[&IoRedirect],
    io: &Io,
) -> Result<Result<Io, String>, Control> {
    let mut io = io.clone();
    for redirect in redirects {
        match redirect {
            IoRedirect::File(fd, kind, target) => {
                let fd = fd.unwrap_or(match kind {
                    IoFileRedirectKind::Read | IoFileRedirectKind::DuplicateInput => 0,
                    _ => 1,
                });
                match kind {
                    IoFileRedirectKind::DuplicateOutput | IoFileRedirectKind::DuplicateInput => {
                        let source = match target {
                            IoFileRedirectTarget::Fd(n) => *n,
                            IoFileRedirectTarget::Duplicate(word)
                            | IoFileRedirectTarget::Filename(word) => {
                                let text = expand::single(ctx, &word.value, io_ref(&io)).await?;
                                match text.parse::<i32>() {
                                    Ok(n) => n,
                                    Err(_) => {
                                        return Ok(Err(format!("{text}: ambiguous redirect")));
                                    }
                                }
                            }
                            IoFileRedirectTarget::ProcessSubstitution(..) => {
                                return Ok(Err(
                                    "process substitution: not supported by the simulated shell"
                                        .into(),
                                ));
                            }
                        };
                        let sink = match source {
                            1 => io.stdout.clone(),
                            2 => io.stderr.clone(),
                            0 if fd == 0 => continue,
                            n => return Ok(Err(format!("{n}: Bad file descriptor"))),
                        };
                        set_fd(&mut io, fd, sink)?;
                    }
                    IoFileRedirectKind::Read => {
                        let IoFileRedirectTarget::Filename(word) = target else {
                            return Ok(Err("unsupported input redirection".into()));
                        };
                        let path_text = expand::single(ctx, &word.value, io_ref(&io)).await?;
                        let path = ctx.path(&path_text);
                        if path == "/dev/null" {
                            io.stdin = Bytes::new();
                            continue;
                        }
                        let actor = ctx.actor();
                        match ctx.vm(|vm, _| vm.disk.fs.read(&path, actor))? {
                            Ok(data) => io.stdin = data,
                            Err(e) => return Ok(Err(fs_message(&path_text, &e))),
                        }
                    }
                    IoFileRedirectKind::Write
                    | IoFileRedirectKind::Clobber
                    | IoFileRedirectKind::Append => {
                        let IoFileRedirectTarget::Filename(word) = target else {
                            return Ok(Err("unsupported output redirection".into()));
                        };
                        let path_text = expand::single(ctx, &word.value, io_ref(&io)).await?;
                        let sink = match open_output(
                            ctx,
                            &path_text,
                            matches!(kind, IoFileRedirectKind::Append),
                        )? {
                            Ok(sink) => sink,
                            Err(message) => return Ok(Err(message)),
                        };
                        set_fd(&mut io, fd, sink)?;
                    }
                    IoFileRedirectKind::ReadAndWrite => {
                        return Ok(Err(
                            "<> redirection: not supported by the simulated shell".into()
                        ));
                    }
                }
            }
            IoRedirect::HereDocument(_, doc) => {
                let mut body = if doc.requires_expansion {
                    expand::heredoc(ctx, &doc.doc.value, io_ref(&io)).await?
                } else {
                    doc.doc.value.clone()
                };
                if doc.remove_tabs {
                    body = body
                        .lines()
                        .map(|l| l.trim_start_matches('\t'))
                        .collect::<Vec<_>>()
                        .join("\n")
                        + "\n";
                }
                io.stdin = Bytes::from(body);
            }
            IoRedirect::HereString(_, word) => {
                let text = expand::single(ctx, &word.value, io_ref(&io)).await?;
                io.stdin = Bytes::from(format!("{text}\n"));
            }
            IoRedirect::OutputAndError(word, append) => {
                let path_text = expand::single(ctx, &word.value, io_ref(&io)).await?;
                let sink = match open_output(ctx, &path_text, *append)? {
                    Ok(sink) => sink,
                    Err(message) => return Ok(Err(message)),
                };
                io.stdout = sink.clone();
                io.stderr = sink;
            }
        }
    }
    Ok(Ok(io))
}

fn io_ref(io: &Io) -> &Io {
    io
}

fn set_fd(io: &mut Io, fd: i32, sink: Sink) -> Result<(), Control> {
    match fd {
        1 => io.stdout = sink,
        2 => io.stderr = sink,
        _ => {}
    }
    Ok(())
}

fn fs_message(shown: &str, error: &FsError) -> String {
    let reason = match error {
        FsError::NotFound(_) => "No such file or directory",
        FsError::NotADirectory(_) => "Not a directory",
        FsError::IsADirectory(_) => "Is a directory",
        FsError::AlreadyExists(_) => "File exists",
        FsError::PermissionDenied(_) => "Permission denied",
        FsError::NotEmpty(_) => "Directory not empty",
    };
    format!("{shown}: {reason}")
}

/// Opens a file for output (truncating unless `append`).
fn open_output(ctx: &Ctx, shown: &str, append: bool) -> Result<Result<Sink, String>, Control> {
    if shown == "/dev/null" {
        return Ok(Ok(Sink::Null));
    }
    let path = ctx.path(shown);
    let actor = ctx.actor();
    let result = ctx.vm(|vm, now| {
        if append {
            vm.disk.fs.append(&path, b"", actor, now)
        } else {
            vm.disk.fs.write(&path, Bytes::new(), actor, 0o644, now)
        }
    })?;
    Ok(match result {
        Ok(()) => Ok(Sink::File(path)),
        Err(e) => Err(fs_message(shown, &e)),
    })
}
