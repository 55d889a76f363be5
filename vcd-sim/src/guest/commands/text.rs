//! Text filters: `sed` (`s///`, `/re/d`, `-i`, `-e`, `-n`+`p`), `grep`
//! (`-q -v -i -E -c`), the tiny `awk` programs scripts use (`{print $N}`,
//! `$NF`, `exit`, `-F`), `tr` (`-d`, sets with ranges and escapes),
//! `base64` (wrapping at 76, `-d`, `-w`), `sort`, `cut`.

use base64::Engine as _;
use regex::Regex;

use crate::guest::exec::context::{CmdResult, Ctx, Io, err_exit};
use crate::guest::exec::text::{fs_reason, read_inputs};

/// Translates a POSIX basic regular expression into Rust regex syntax.
pub fn bre_to_regex(bre: &str) -> String {
    let mut out = String::new();
    let mut chars = bre.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('(' | ')' | '{' | '}' | '|' | '+' | '?')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push_str("\\\\"),
            },
            '(' | ')' | '{' | '}' | '|' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[derive(Debug)]
enum SedCommand {
    Substitute {
        address: Option<Regex>,
        regex: Regex,
        replacement: String,
        global: bool,
        print: bool,
    },
    Delete {
        address: Regex,
    },
    Print {
        address: Regex,
    },
}

fn split_delimited(text: &str, delimiter: char) -> Option<(Vec<String>, String)> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) if n == delimiter => current.push(n),
                Some(n) => {
                    current.push('\\');
                    current.push(n);
                }
                None => current.push('\\'),
            }
        } else if c == delimiter {
            parts.push(std::mem::take(&mut current));
            if parts.len() == 2 {
                return Some((parts, chars.collect()));
            }
        } else {
            current.push(c);
        }
    }
    None
}

fn compile(pattern: &str, extended: bool) -> Result<Regex, String> {
    let source = if extended {
        pattern.to_owned()
    } else {
        bre_to_regex(pattern)
    };
    Regex::new(&source)
        .map_err(|_| format!("-e expression #1, char 0: invalid regular expression '{pattern}'"))
}

fn parse_sed(script: &str, extended: bool) -> Result<Vec<SedCommand>, String> {
    let mut commands = Vec::new();
    for part in script
        .split(['\n', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (address, rest) = if let Some(stripped) = part.strip_prefix('/') {
            let end = stripped
                .find('/')
                .ok_or_else(|| format!("-e expression #1: unterminated address regex: {part}"))?;
            (
                Some(compile(&stripped[..end], extended)?),
                stripped[end + 1..].trim_start(),
            )
        } else {
            (None, part)
        };
        if let Some(body) = rest.strip_prefix('s') {
            let delimiter = body.chars().next().ok_or("unterminated `s' command")?;
            let (parts, flags) = split_delimited(&body[delimiter.len_utf8()..], delimiter)
                .ok_or("unterminated `s' command")?;
            let regex = compile(&parts[0], extended)?;
            let replacement = convert_replacement(&parts[1]);
            commands.push(SedCommand::Substitute {
                address,
                regex,
                replacement,
                global: flags.contains('g'),
                print: flags.contains('p'),
            });
        } else if rest == "d" {
            commands.push(SedCommand::Delete {
                address: address.ok_or("d needs an address in the simulated sed")?,
            });
        } else if rest == "p" {
            commands.push(SedCommand::Print {
                address: address.ok_or("p needs an address in the simulated sed")?,
            });
        } else {
            return Err(format!(
                "-e expression #1: unknown command: `{rest}' (simulated sed supports s, d, p)"
            ));
        }
    }
    Ok(commands)
}

fn convert_replacement(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(d) if d.is_ascii_digit() => out.push_str(&format!("${{{d}}}")),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            },
            '&' => out.push_str("${0}"),
            '$' => out.push_str("$$"),
            other => out.push(other),
        }
    }
    out
}

fn run_sed(commands: &[SedCommand], input: &str, quiet: bool) -> String {
    let mut out = String::new();
    for line in input.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b.to_owned(), "\n"),
            None => (line.to_owned(), ""),
        };
        let mut body = body;
        let mut deleted = false;
        let mut extra = String::new();
        for command in commands {
            match command {
                SedCommand::Delete { address } => {
                    if address.is_match(&body) {
                        deleted = true;
                        break;
                    }
                }
                SedCommand::Print { address } => {
                    if address.is_match(&body) {
                        extra.push_str(&format!("{body}\n"));
                    }
                }
                SedCommand::Substitute {
                    address,
                    regex,
                    replacement,
                    global,
                    print,
                } => {
                    if address.as_ref().is_some_and(|a| !a.is_match(&body))
                        || !regex.is_match(&body)
                    {
                        continue;
                    }
                    body = if *global {
                        regex.replace_all(&body, replacement.as_str()).into_owned()
                    } else {
                        regex.replace(&body, replacement.as_str()).into_owned()
                    };
                    if *print {
                        extra.push_str(&format!("{body}\n"));
                    }
                }
            }
        }
        out.push_str(&extra);
        if !deleted && !quiet {
            out.push_str(&body);
            out.push_str(newline);
        }
    }
    out
}

pub fn sed(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let mut in_place = false;
    let mut quiet = false;
    let mut extended = false;
    let mut scripts = Vec::new();
    let mut files = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-i" | "--in-place" => in_place = true,
            "-n" | "--quiet" => quiet = true,
            "-E" | "-r" => extended = true,
            "-e" => scripts.push(iter.next().cloned().unwrap_or_default()),
            a if a.starts_with("-i") => in_place = true,
            a if a.starts_with('-') && a.len() > 1 => {
                quiet |= a.contains('n');
                in_place |= a.contains('i');
                extended |= a.contains('E') || a.contains('r');
            }
            _ => files.push(arg.clone()),
        }
    }
    if scripts.is_empty() {
        if files.is_empty() {
            return err_exit(
                ctx,
                io,
                "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...",
                1,
            );
        }
        scripts.push(files.remove(0));
    }
    let commands = match parse_sed(&scripts.join("\n"), extended) {
        Ok(c) => c,
        Err(m) => return err_exit(ctx, io, &format!("sed: {m}"), 1),
    };
    if in_place {
        if files.is_empty() {
            return err_exit(ctx, io, "sed: no input files", 1);
        }
        let mut status = 0;
        for file in files {
            let path = ctx.path(&file);
            let actor = ctx.actor();
            let result = ctx.vm(|vm, now| {
                let data = vm.disk.fs.read(&path, actor)?;
                let edited = run_sed(&commands, &String::from_utf8_lossy(&data), quiet);
                vm.disk.fs.write(&path, edited, actor, 0o644, now)
            })?;
            if let Err(e) = result {
                ctx.err(io, format!("sed: can't read {file}: {}\n", fs_reason(&e)));
                status = 2;
            }
        }
        return Ok(status);
    }
    let (data, status) = read_inputs(ctx, "sed", &files, io)?;
    ctx.out(
        io,
        run_sed(&commands, &String::from_utf8_lossy(&data), quiet),
    );
    Ok(if status != 0 { 2 } else { 0 })
}

pub fn grep(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let mut flags = String::new();
    let mut operands = Vec::new();
    let mut pattern = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "-e" {
            pattern = iter.next().cloned();
        } else if arg.starts_with('-') && arg.len() > 1 {
            flags.push_str(&arg[1..]);
        } else if pattern.is_none() {
            pattern = Some(arg.clone());
        } else {
            operands.push(arg.clone());
        }
    }
    let Some(pattern) = pattern else {
        return err_exit(ctx, io, "Usage: grep [OPTION]... PATTERN [FILE]...", 2);
    };
    let source = if flags.contains('F') {
        regex::escape(&pattern)
    } else if flags.contains('E') {
        pattern.clone()
    } else {
        bre_to_regex(&pattern)
    };
    let source = if flags.contains('i') {
        format!("(?i){source}")
    } else {
        source
    };
    let Ok(regex) = Regex::new(&source) else {
        return err_exit(ctx, io, "grep: invalid regular expression", 2);
    };
    let (data, status) = read_inputs(ctx, "grep", &operands, io)?;
    let text = String::from_utf8_lossy(&data);
    let invert = flags.contains('v');
    let matched: Vec<&str> = text
        .lines()
        .filter(|l| regex.is_match(l) != invert)
        .collect();
    if flags.contains('c') {
        ctx.out(io, format!("{}\n", matched.len()));
    } else if !flags.contains('q') {
        for line in &matched {
            ctx.out(io, format!("{line}\n"));
        }
    }
    Ok(if status != 0 {
        2
    } else if matched.is_empty() {
        1
    } else {
        0
    })
}

#[derive(Debug, Clone, PartialEq)]
enum AwkItem {
    Field(usize),
    LastField,
    Literal(String),
}

#[derive(Debug, Clone, PartialEq)]
enum AwkStatement {
    Print(Vec<AwkItem>),
    Exit,
}

/// Parses the `{print ...; exit}` programs the scripts use.
fn parse_awk(program: &str) -> Result<(Option<Regex>, Vec<AwkStatement>), String> {
    let program = program.trim();
    let (pattern, body) = match program.find('{') {
        Some(i) => (program[..i].trim(), program[i..].trim()),
        None => {
            return Err(format!(
                "awk: program not supported by the simulated awk: {program}"
            ));
        }
    };
    let pattern = match pattern {
        "" => None,
        p if p.starts_with('/') && p.ends_with('/') && p.len() >= 2 => {
            Some(Regex::new(&p[1..p.len() - 1]).map_err(|_| format!("awk: bad regex {p}"))?)
        }
        p => {
            return Err(format!(
                "awk: pattern not supported by the simulated awk: {p}"
            ));
        }
    };
    let body = body
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or("awk: syntax error: unbalanced braces")?;
    let mut statements = Vec::new();
    for statement in body.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        if statement == "exit" {
            statements.push(AwkStatement::Exit);
        } else if let Some(rest) = statement.strip_prefix("print") {
            let mut items = Vec::new();
            for item in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                items.push(match item {
                    "$NF" => AwkItem::LastField,
                    s if s.starts_with('$') => AwkItem::Field(
                        s[1..]
                            .parse()
                            .map_err(|_| format!("awk: unsupported field {s}"))?,
                    ),
                    s if s.starts_with('"') && s.ends_with('"') && s.len() >= 2 => {
                        AwkItem::Literal(s[1..s.len() - 1].to_owned())
                    }
                    s => {
                        return Err(format!(
                            "awk: expression not supported by the simulated awk: {s}"
                        ));
                    }
                });
            }
            if items.is_empty() {
                items.push(AwkItem::Field(0));
            }
            statements.push(AwkStatement::Print(items));
        } else {
            return Err(format!(
                "awk: statement not supported by the simulated awk: {statement}"
            ));
        }
    }
    Ok((pattern, statements))
}

pub fn awk(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let mut separator: Option<String> = None;
    let mut rest = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "-F" {
            separator = iter.next().cloned();
        } else if let Some(s) = arg.strip_prefix("-F") {
            separator = Some(s.to_owned());
        } else {
            rest.push(arg.clone());
        }
    }
    let Some((program, files)) = rest.split_first() else {
        return err_exit(ctx, io, "usage: awk [-F fs] 'prog' [file ...]", 2);
    };
    let (pattern, statements) = match parse_awk(program) {
        Ok(p) => p,
        Err(m) => return err_exit(ctx, io, &m, 2),
    };
    let (data, status) = read_inputs(ctx, "awk", files, io)?;
    let text = String::from_utf8_lossy(&data);
    let mut out = String::new();
    'lines: for line in text.lines() {
        if pattern.as_ref().is_some_and(|p| !p.is_match(line)) {
            continue;
        }
        let fields: Vec<&str> = match &separator {
            Some(s) if !s.is_empty() && s != " " => line.split(s.as_str()).collect(),
            _ => line.split_whitespace().collect(),
        };
        for statement in &statements {
            match statement {
                AwkStatement::Exit => break 'lines,
                AwkStatement::Print(items) => {
                    let parts: Vec<String> = items
                        .iter()
                        .map(|item| match item {
                            AwkItem::Field(0) => line.to_owned(),
                            AwkItem::Field(n) => {
                                fields.get(n - 1).map(|s| s.to_string()).unwrap_or_default()
                            }
                            AwkItem::LastField => {
                                fields.last().map(|s| s.to_string()).unwrap_or_default()
                            }
                            AwkItem::Literal(s) => s.clone(),
                        })
                        .collect();
                    out.push_str(&parts.join(" "));
                    out.push('\n');
                }
            }
        }
    }
    ctx.out(io, out);
    Ok(if status != 0 { 2 } else { 0 })
}

/// Expands a `tr` set: escapes and `a-z` ranges.
pub fn tr_set(spec: &str) -> Vec<char> {
    let mut raw = Vec::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            raw.push(match chars.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some('r') => '\r',
                Some('\\') | None => '\\',
                Some(o) => o,
            });
        } else {
            raw.push(c);
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if i + 2 < raw.len() && raw[i + 1] == '-' && raw[i] <= raw[i + 2] {
            out.extend(raw[i]..=raw[i + 2]);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

pub fn tr(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (delete, sets): (bool, Vec<&String>) = match args.first().map(String::as_str) {
        Some("-d") => (true, args[1..].iter().collect()),
        _ => (false, args.iter().collect()),
    };
    let text = String::from_utf8_lossy(&io.stdin).into_owned();
    let out: String = if delete {
        let Some(set) = sets.first() else {
            return err_exit(ctx, io, "tr: missing operand", 1);
        };
        let set = tr_set(set);
        text.chars().filter(|c| !set.contains(c)).collect()
    } else {
        if sets.len() < 2 {
            return err_exit(ctx, io, "tr: missing operand", 1);
        }
        let from = tr_set(sets[0]);
        let to = tr_set(sets[1]);
        text.chars()
            .map(|c| match from.iter().position(|f| *f == c) {
                Some(i) => *to.get(i).or(to.last()).unwrap_or(&c),
                None => c,
            })
            .collect()
    };
    ctx.out(io, out);
    Ok(0)
}

pub fn base64(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let mut decode = false;
    let mut wrap = 76usize;
    let mut files = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-d" | "--decode" => decode = true,
            "-w" => wrap = iter.next().and_then(|w| w.parse().ok()).unwrap_or(76),
            a if a.starts_with("-w") => wrap = a[2..].parse().unwrap_or(76),
            a if a.starts_with("--wrap=") => wrap = a[7..].parse().unwrap_or(76),
            _ => files.push(arg.clone()),
        }
    }
    let (data, status) = read_inputs(ctx, "base64", &files, io)?;
    let engine = base64::engine::general_purpose::STANDARD;
    if decode {
        let compact: Vec<u8> = data
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        return match engine.decode(compact) {
            Ok(bytes) => {
                ctx.out(io, bytes);
                Ok(status)
            }
            Err(_) => err_exit(ctx, io, "base64: invalid input", 1),
        };
    }
    let encoded = engine.encode(&data);
    let mut out = String::new();
    if wrap == 0 {
        out.push_str(&encoded);
    } else {
        for chunk in encoded.as_bytes().chunks(wrap) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        if encoded.is_empty() {
            out.clear();
        }
    }
    if wrap == 0 {
        out.push('\n');
    }
    ctx.out(io, out);
    Ok(status)
}

pub fn sort(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let files: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    let (data, status) = read_inputs(ctx, "sort", &files, io)?;
    let text = String::from_utf8_lossy(&data);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    if args.iter().any(|a| a == "-u") {
        lines.dedup();
    }
    if args.iter().any(|a| a == "-r") {
        lines.reverse();
    }
    ctx.out(
        io,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    );
    Ok(status)
}

pub fn cut(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let mut delimiter = "\t".to_owned();
    let mut field = None;
    let mut files = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "-d" {
            delimiter = iter.next().cloned().unwrap_or_default();
        } else if let Some(d) = arg.strip_prefix("-d") {
            delimiter = d.to_owned();
        } else if arg == "-f" {
            field = iter.next().and_then(|f| f.parse::<usize>().ok());
        } else if let Some(f) = arg.strip_prefix("-f") {
            field = f.parse().ok();
        } else {
            files.push(arg.clone());
        }
    }
    let Some(field) = field.filter(|f| *f > 0) else {
        return err_exit(ctx, io, "cut: you must specify a list of fields", 1);
    };
    let (data, status) = read_inputs(ctx, "cut", &files, io)?;
    let text = String::from_utf8_lossy(&data);
    let out: String = text
        .lines()
        .map(|l| {
            format!(
                "{}\n",
                l.split(delimiter.as_str()).nth(field - 1).unwrap_or(
                    if l.contains(delimiter.as_str()) {
                        ""
                    } else {
                        l
                    }
                )
            )
        })
        .collect();
    ctx.out(io, out);
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sed_deletes_and_substitutes() {
        let commands = parse_sed("/^PermitRootLogin yes/d", false).unwrap();
        assert_eq!(
            run_sed(&commands, "a\nPermitRootLogin yes\nb\n", false),
            "a\nb\n"
        );
        let commands = parse_sed(
            "s/PasswordAuthentication no/PasswordAuthentication yes/",
            false,
        )
        .unwrap();
        assert_eq!(
            run_sed(&commands, "PasswordAuthentication no\n", false),
            "PasswordAuthentication yes\n"
        );
        let commands = parse_sed("s/\\(a\\)b/\\1\\1/g", false).unwrap();
        assert_eq!(run_sed(&commands, "abab", false), "aaaa");
        assert!(parse_sed("y/a/b/", false).is_err());
    }

    #[test]
    fn awk_last_field_and_exit() {
        let (pattern, statements) = parse_awk("{print $NF;exit}").unwrap();
        assert!(pattern.is_none());
        assert_eq!(
            statements,
            vec![
                AwkStatement::Print(vec![AwkItem::LastField]),
                AwkStatement::Exit
            ]
        );
        assert!(parse_awk("BEGIN { x = 1 }").is_err());
    }

    #[test]
    fn tr_sets() {
        assert_eq!(tr_set("\\n"), vec!['\n']);
        assert_eq!(tr_set("a-c"), vec!['a', 'b', 'c']);
    }
}
