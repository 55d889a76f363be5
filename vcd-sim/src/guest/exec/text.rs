//! Text helpers shared by the shell builtins and the simulated programs:
//! `echo` and `printf` formatting, reading operands or stdin, durations
//! (`sleep 5m`, `--ttl`), and the reason texts of filesystem errors.

use std::time::Duration;

use super::context::{Control, Ctx, Io};
use crate::guest::fs::FsError;

/// The text `echo` prints for `args` (bash and coreutils agree on `-n`, `-e`, `-E`).
pub fn echo_text(args: &[String]) -> String {
    let mut newline = true;
    let mut escapes = false;
    let mut index = 0;
    while let Some(arg) = args.get(index) {
        let Some(flags) = arg.strip_prefix('-') else {
            break;
        };
        if flags.is_empty() || !flags.chars().all(|c| matches!(c, 'n' | 'e' | 'E')) {
            break;
        }
        for c in flags.chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        index += 1;
    }
    let mut text = args[index..].join(" ");
    if escapes {
        let (unescaped, stop) = unescape_echo(&text);
        text = unescaped;
        if stop {
            return text;
        }
    }
    if newline {
        text.push('\n');
    }
    text
}

/// Interprets backslash escapes; the flag says `\c` stopped output.
pub fn unescape_echo(text: &str) -> (String, bool) {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('a') => out.push('\u{7}'),
            Some('e') => out.push('\u{1b}'),
            Some('c') => return (out, true),
            Some('0') => {
                let mut value = 0u32;
                for _ in 0..3 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(value).unwrap_or('\0'));
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    (out, false)
}

/// `printf FORMAT [ARGS]` with `%s`, `%d`, `%%` and backslash escapes.
pub fn printf_text(args: &[String]) -> Result<String, String> {
    let Some(format) = args.first() else {
        return Err("printf: usage: printf format [arguments]".into());
    };
    let mut values = args[1..].iter();
    let mut out = String::new();
    loop {
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '%' => match chars.next() {
                    Some('%') => out.push('%'),
                    Some('s') | Some('b') => {
                        out.push_str(values.next().map(String::as_str).unwrap_or(""))
                    }
                    Some('d') | Some('i') => {
                        let v = values.next().map(String::as_str).unwrap_or("0");
                        out.push_str(
                            &v.trim()
                                .parse::<i64>()
                                .map_err(|_| format!("printf: {v}: invalid number"))?
                                .to_string(),
                        );
                    }
                    Some(other) => return Err(format!("printf: %{other}: invalid directive")),
                    None => out.push('%'),
                },
                '\\' => {
                    let mut escape = String::from("\\");
                    if let Some(next) = chars.next() {
                        escape.push(next);
                    }
                    out.push_str(&unescape_echo(&escape).0);
                }
                other => out.push(other),
            }
        }
        if values.len() == 0 || !format.contains('%') {
            break;
        }
    }
    Ok(out)
}

/// Reads the operands (or stdin when none or `-`).
pub fn read_inputs(
    ctx: &Ctx,
    name: &str,
    operands: &[String],
    io: &Io,
) -> Result<(Vec<u8>, i32), Control> {
    if operands.is_empty() {
        return Ok((io.stdin.to_vec(), 0));
    }
    let mut data = Vec::new();
    let mut status = 0;
    for operand in operands {
        if operand == "-" {
            data.extend_from_slice(&io.stdin);
            continue;
        }
        let path = ctx.path(operand);
        let actor = ctx.actor();
        match ctx.vm(|vm, _| vm.disk.fs.read(&path, actor))? {
            Ok(d) => data.extend_from_slice(&d),
            Err(e) => {
                ctx.err(io, format!("{name}: {operand}: {}\n", fs_reason(&e)));
                status = 1;
            }
        }
    }
    Ok((data, status))
}

/// Parses `5`, `5s`, `2m`, `1h`, `0.5`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.chars().last()? {
        's' => (&text[..text.len() - 1], 1.0),
        'm' => (&text[..text.len() - 1], 60.0),
        'h' => (&text[..text.len() - 1], 3600.0),
        'd' => (&text[..text.len() - 1], 86400.0),
        _ => (text, 1.0),
    };
    let secs: f64 = number.parse().ok()?;
    (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs * unit))
}

/// The reason text of a filesystem error.
pub fn fs_reason(error: &FsError) -> &'static str {
    match error {
        FsError::NotFound(_) => "No such file or directory",
        FsError::NotADirectory(_) => "Not a directory",
        FsError::IsADirectory(_) => "Is a directory",
        FsError::AlreadyExists(_) => "File exists",
        FsError::PermissionDenied(_) => "Permission denied",
        FsError::NotEmpty(_) => "Directory not empty",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn echo_flags() {
        assert_eq!(echo_text(&s(&["-n"])), "");
        assert_eq!(echo_text(&s(&["-e", "a\\nb"])), "a\nb\n");
        assert_eq!(echo_text(&s(&["a\\nb"])), "a\\nb\n");
        assert_eq!(echo_text(&s(&["-x", "y"])), "-x y\n");
    }

    #[test]
    fn printf_formats() {
        assert_eq!(printf_text(&s(&["%s-%d\\n", "a", "7"])).unwrap(), "a-7\n");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("x"), None);
    }
}
