//! Word expansion: tilde, parameters (with the common `${...}` operators),
//! command substitution (`$( )` and backticks), arithmetic, quote removal,
//! field splitting of unquoted expansions and pathname globbing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use brush_parser::word::{
    Parameter, ParameterExpr, ParameterTestType, SpecialParameter, TildeExpr, WordPiece,
    WordPieceWithSource,
};
use parking_lot::Mutex;

use super::{arith, parse};
use crate::guest::exec::context::{Control, Ctx, Io, Sink};
use crate::guest::fs;

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = Result<T, Control>> + Send + 'a>>;

/// A run of expanded text.
#[derive(Debug, Clone)]
struct Seg {
    text: String,
    quoted: bool,
    /// Result of an unquoted expansion: subject to field splitting.
    split: bool,
    /// Ends the current field before this segment (`"$@"`).
    field_break: bool,
}

/// Whether pieces are exactly `"$@"`.
fn is_quoted_all_positional(inner: &[WordPieceWithSource]) -> bool {
    matches!(
        inner,
        [WordPieceWithSource {
            piece: WordPiece::ParameterExpansion(ParameterExpr::Parameter {
                parameter: Parameter::Special(SpecialParameter::AllPositionalParameters {
                    concatenate: false
                }),
                indirect: false,
            }),
            ..
        }]
    )
}

/// Expands a word into fields (splitting and globbing), as for command arguments.
pub async fn fields(ctx: &mut Ctx, word: &str, io: &Io) -> Result<Vec<String>, Control> {
    let segs = segments(ctx, word, io).await?;
    Ok(build_fields(ctx, segs))
}

/// Expands a word into one string (no splitting, no globbing), as for
/// assignments, redirection targets and `case` subjects.
pub async fn single(ctx: &mut Ctx, word: &str, io: &Io) -> Result<String, Control> {
    let segs = segments(ctx, word, io).await?;
    Ok(joined(segs))
}

fn joined(segs: Vec<Seg>) -> String {
    let mut out = String::new();
    for seg in segs {
        if seg.field_break {
            out.push(' ');
        }
        out.push_str(&seg.text);
    }
    out
}

/// Expands a here-document body (parameters, substitutions; quotes stay).
pub async fn heredoc(ctx: &mut Ctx, body: &str, io: &Io) -> Result<String, Control> {
    let pieces = match parse::parse_heredoc(body) {
        Ok(p) => p,
        Err(e) => return fail(ctx, io, &format!("here-document: {e}"), 1),
    };
    let mut segs = Vec::new();
    expand_pieces(ctx, pieces, true, io, &mut segs).await?;
    Ok(segs.into_iter().map(|s| s.text).collect())
}

fn fail<T>(ctx: &Ctx, io: &Io, message: &str, status: i32) -> Result<T, Control> {
    ctx.err(io, format!("{}: {message}\n", ctx.arg0));
    Err(Control::Exit(status))
}

async fn segments(ctx: &mut Ctx, word: &str, io: &Io) -> Result<Vec<Seg>, Control> {
    let pieces = match parse::parse_word(word) {
        Ok(p) => p,
        Err(_) => return fail(ctx, io, &format!("{word}: bad substitution"), 1),
    };
    let mut segs = Vec::new();
    expand_pieces(ctx, pieces, false, io, &mut segs).await?;
    Ok(segs)
}

fn expand_pieces<'a>(
    ctx: &'a mut Ctx,
    pieces: Vec<WordPieceWithSource>,
    quoted: bool,
    io: &'a Io,
    segs: &'a mut Vec<Seg>,
) -> BoxFut<'a, ()> {
    Box::pin(async move {
        for piece in pieces {
            match piece.piece {
                WordPiece::Text(text) => segs.push(Seg {
                    text,
                    quoted,
                    split: false,
                    field_break: false,
                }),
                WordPiece::SingleQuotedText(text) => segs.push(Seg {
                    text,
                    quoted: true,
                    split: false,
                    field_break: false,
                }),
                WordPiece::AnsiCQuotedText(text) => segs.push(Seg {
                    text: ansi_c_unescape(&text),
                    quoted: true,
                    split: false,
                    field_break: false,
                }),
                WordPiece::DoubleQuotedSequence(inner)
                | WordPiece::GettextDoubleQuotedSequence(inner) => {
                    if is_quoted_all_positional(&inner) {
                        for (index, value) in ctx.positional.clone().into_iter().enumerate() {
                            segs.push(Seg {
                                text: value,
                                quoted: true,
                                split: false,
                                field_break: index > 0,
                            });
                        }
                        continue;
                    }
                    let before = segs.len();
                    expand_pieces(ctx, inner, true, io, segs).await?;
                    if segs.len() == before {
                        segs.push(Seg {
                            text: String::new(),
                            quoted: true,
                            split: false,
                            field_break: false,
                        });
                    }
                }
                WordPiece::TildeExpansion(tilde) => {
                    let text = match tilde {
                        TildeExpr::Home => ctx.var("HOME").unwrap_or(&ctx.home).to_owned(),
                        TildeExpr::UserHome(user) => ctx
                            .vm(|vm, _| vm.disk.users.get(&user).map(|u| u.home.clone()))?
                            .unwrap_or_else(|| format!("~{user}")),
                        TildeExpr::WorkingDir => ctx.cwd.clone(),
                        _ => {
                            return fail(
                                ctx,
                                io,
                                "directory-stack tilde expansion: not supported by the simulated shell",
                                2,
                            );
                        }
                    };
                    segs.push(Seg {
                        text,
                        quoted: true,
                        split: false,
                        field_break: false,
                    });
                }
                WordPiece::EscapeSequence(escape) => {
                    let ch = escape.strip_prefix('\\').unwrap_or(&escape);
                    let text = if quoted && !matches!(ch, "$" | "`" | "\"" | "\\" | "\n") {
                        escape.clone()
                    } else if ch == "\n" {
                        String::new()
                    } else {
                        ch.to_owned()
                    };
                    segs.push(Seg {
                        text,
                        quoted: true,
                        split: false,
                        field_break: false,
                    });
                }
                WordPiece::ParameterExpansion(expr) => {
                    let value = parameter_expr(ctx, expr, io).await?;
                    segs.push(Seg {
                        text: value,
                        quoted,
                        split: !quoted,
                        field_break: false,
                    });
                }
                WordPiece::CommandSubstitution(source)
                | WordPiece::BackquotedCommandSubstitution(source) => {
                    let output = command_substitution(ctx, &source, io).await?;
                    segs.push(Seg {
                        text: output,
                        quoted,
                        split: !quoted,
                        field_break: false,
                    });
                }
                WordPiece::ArithmeticExpression(expr) => {
                    let text = single(ctx, &expr.value, io).await?;
                    let value = match arith::evaluate(ctx, &text) {
                        Ok(v) => v,
                        Err(message) => return fail(ctx, io, &message, 1),
                    };
                    segs.push(Seg {
                        text: value.to_string(),
                        quoted,
                        split: !quoted,
                        field_break: false,
                    });
                }
            }
        }
        Ok(())
    })
}

/// Runs `source` in a subshell and returns its stdout without trailing newlines.
pub async fn command_substitution(ctx: &mut Ctx, source: &str, io: &Io) -> Result<String, Control> {
    let program = match parse::parse_program(source) {
        Ok(p) => p,
        Err(e) => return fail(ctx, io, &format!("command substitution: {e}"), 2),
    };
    let buffer: Arc<Mutex<Vec<u8>>> = Arc::default();
    let sub_io = Io {
        stdin: io.stdin.clone(),
        stdout: Sink::Buffer(buffer.clone()),
        stderr: io.stderr.clone(),
    };
    let mut sub = ctx.clone();
    sub.in_condition = false;
    let status = match sub.run_program(&program, &sub_io).await {
        Ok(s) | Err(Control::Exit(s)) | Err(Control::Return(s)) => s,
        Err(Control::Break(_)) | Err(Control::Continue(_)) => sub.last_status,
        Err(Control::Killed) => return Err(Control::Killed),
    };
    ctx.last_status = status;
    let text = String::from_utf8_lossy(&buffer.lock()).into_owned();
    Ok(text.trim_end_matches('\n').to_owned())
}

fn ansi_c_unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('e') => out.push('\u{1b}'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The value of a parameter, `None` when unset.
pub fn parameter_value(ctx: &Ctx, parameter: &Parameter) -> Option<String> {
    match parameter {
        Parameter::Positional(0) => Some(ctx.arg0.clone()),
        Parameter::Positional(n) => ctx.positional.get(*n as usize - 1).cloned(),
        Parameter::Named(name) => ctx.var(name).map(str::to_owned),
        Parameter::Special(special) => Some(match special {
            SpecialParameter::AllPositionalParameters { .. } => ctx.positional.join(" "),
            SpecialParameter::PositionalParameterCount => ctx.positional.len().to_string(),
            SpecialParameter::LastExitStatus => ctx.last_status.to_string(),
            SpecialParameter::CurrentOptionFlags => {
                let mut flags = String::from("h");
                if ctx.opts.errexit {
                    flags.push('e');
                }
                if ctx.opts.nounset {
                    flags.push('u');
                }
                if ctx.opts.xtrace {
                    flags.push('x');
                }
                flags
            }
            SpecialParameter::ProcessId => ctx.pid.to_string(),
            SpecialParameter::LastBackgroundProcessId => String::new(),
            SpecialParameter::ShellName => ctx.arg0.clone(),
        }),
        Parameter::NamedWithIndex { .. } | Parameter::NamedWithAllIndices { .. } => None,
    }
}

fn param_name(parameter: &Parameter) -> String {
    parameter
        .to_string()
        .trim_start_matches("${")
        .trim_start_matches('$')
        .trim_end_matches('}')
        .to_owned()
}

async fn lookup(
    ctx: &mut Ctx,
    parameter: &Parameter,
    indirect: bool,
    io: &Io,
) -> Result<Option<String>, Control> {
    if indirect
        || matches!(
            parameter,
            Parameter::NamedWithIndex { .. } | Parameter::NamedWithAllIndices { .. }
        )
    {
        return fail(
            ctx,
            io,
            &format!(
                "{parameter}: arrays and indirection are not supported by the simulated shell"
            ),
            2,
        );
    }
    Ok(parameter_value(ctx, parameter))
}

fn is_null(value: &Option<String>, test: &ParameterTestType) -> bool {
    match test {
        ParameterTestType::UnsetOrNull => value.as_deref().is_none_or(str::is_empty),
        ParameterTestType::Unset => value.is_none(),
    }
}

async fn parameter_expr(ctx: &mut Ctx, expr: ParameterExpr, io: &Io) -> Result<String, Control> {
    match expr {
        ParameterExpr::Parameter {
            parameter,
            indirect,
        } => {
            let value = lookup(ctx, &parameter, indirect, io).await?;
            match value {
                Some(v) => Ok(v),
                None if ctx.opts.nounset => fail(
                    ctx,
                    io,
                    &format!("{}: unbound variable", param_name(&parameter)),
                    1,
                ),
                None => Ok(String::new()),
            }
        }
        ParameterExpr::UseDefaultValues {
            parameter,
            indirect,
            test_type,
            default_value,
        } => {
            let value = lookup(ctx, &parameter, indirect, io).await?;
            if is_null(&value, &test_type) {
                single(ctx, default_value.as_deref().unwrap_or(""), io).await
            } else {
                Ok(value.unwrap_or_default())
            }
        }
        ParameterExpr::AssignDefaultValues {
            parameter,
            indirect,
            test_type,
            default_value,
        } => {
            let value = lookup(ctx, &parameter, indirect, io).await?;
            if is_null(&value, &test_type) {
                let new = single(ctx, default_value.as_deref().unwrap_or(""), io).await?;
                if let Parameter::Named(name) = &parameter {
                    ctx.set_var(name, new.clone());
                }
                Ok(new)
            } else {
                Ok(value.unwrap_or_default())
            }
        }
        ParameterExpr::UseAlternativeValue {
            parameter,
            indirect,
            test_type,
            alternative_value,
        } => {
            let value = lookup(ctx, &parameter, indirect, io).await?;
            if is_null(&value, &test_type) {
                Ok(String::new())
            } else {
                single(ctx, alternative_value.as_deref().unwrap_or(""), io).await
            }
        }
        ParameterExpr::IndicateErrorIfNullOrUnset {
            parameter,
            indirect,
            test_type,
            error_message,
        } => {
            let value = lookup(ctx, &parameter, indirect, io).await?;
            if is_null(&value, &test_type) {
                let message = match error_message {
                    Some(m) => single(ctx, &m, io).await?,
                    None => "parameter null or not set".into(),
                };
                fail(
                    ctx,
                    io,
                    &format!("{}: {message}", param_name(&parameter)),
                    1,
                )
            } else {
                Ok(value.unwrap_or_default())
            }
        }
        ParameterExpr::ParameterLength {
            parameter,
            indirect,
        } => {
            let value = lookup(ctx, &parameter, indirect, io).await?;
            Ok(value.unwrap_or_default().chars().count().to_string())
        }
        ParameterExpr::RemoveSmallestSuffixPattern {
            parameter,
            indirect,
            pattern,
        } => trim(ctx, &parameter, indirect, pattern, Trim::SmallestSuffix, io).await,
        ParameterExpr::RemoveLargestSuffixPattern {
            parameter,
            indirect,
            pattern,
        } => trim(ctx, &parameter, indirect, pattern, Trim::LargestSuffix, io).await,
        ParameterExpr::RemoveSmallestPrefixPattern {
            parameter,
            indirect,
            pattern,
        } => trim(ctx, &parameter, indirect, pattern, Trim::SmallestPrefix, io).await,
        ParameterExpr::RemoveLargestPrefixPattern {
            parameter,
            indirect,
            pattern,
        } => trim(ctx, &parameter, indirect, pattern, Trim::LargestPrefix, io).await,
        other => fail(
            ctx,
            io,
            &format!("{other:?}: parameter operator not supported by the simulated shell"),
            2,
        ),
    }
}

async fn trim(
    ctx: &mut Ctx,
    parameter: &Parameter,
    indirect: bool,
    pattern: Option<String>,
    how: Trim,
    io: &Io,
) -> Result<String, Control> {
    let value = lookup(ctx, parameter, indirect, io)
        .await?
        .unwrap_or_default();
    let pattern = single(ctx, pattern.as_deref().unwrap_or(""), io).await?;
    Ok(remove_pattern(&value, &pattern, how))
}

/// Which end and how much `${x%...}`-style operators remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    SmallestSuffix,
    LargestSuffix,
    SmallestPrefix,
    LargestPrefix,
}

/// Removes a glob pattern from one end of `value`.
pub fn remove_pattern(value: &str, pattern: &str, trim: Trim) -> String {
    let Some(regex) = fs::glob_to_regex(pattern) else {
        return value.to_owned();
    };
    let boundaries: Vec<usize> = value
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(value.len()))
        .collect();
    match trim {
        Trim::SmallestSuffix => boundaries
            .iter()
            .rev()
            .find(|&&i| regex.is_match(&value[i..]))
            .map(|&i| value[..i].to_owned()),
        Trim::LargestSuffix => boundaries
            .iter()
            .find(|&&i| regex.is_match(&value[i..]))
            .map(|&i| value[..i].to_owned()),
        Trim::SmallestPrefix => boundaries
            .iter()
            .find(|&&i| regex.is_match(&value[..i]))
            .map(|&i| value[i..].to_owned()),
        Trim::LargestPrefix => boundaries
            .iter()
            .rev()
            .find(|&&i| regex.is_match(&value[..i]))
            .map(|&i| value[i..].to_owned()),
    }
    .unwrap_or_else(|| value.to_owned())
}

fn build_fields(ctx: &Ctx, segs: Vec<Seg>) -> Vec<String> {
    #[derive(Default)]
    struct Field {
        text: String,
        pattern: String,
        glob: bool,
        started: bool,
    }
    let mut fields: Vec<Field> = Vec::new();
    let mut current = Field::default();
    let ifs = ctx.var("IFS").unwrap_or(" \t\n").to_owned();
    for seg in segs {
        if seg.field_break && current.started {
            fields.push(std::mem::take(&mut current));
        }
        if seg.split {
            for c in seg.text.chars() {
                if ifs.contains(c) {
                    if current.started {
                        fields.push(std::mem::take(&mut current));
                    }
                } else {
                    push_char(
                        &mut current.text,
                        &mut current.pattern,
                        &mut current.glob,
                        c,
                        false,
                    );
                    current.started = true;
                }
            }
        } else {
            for c in seg.text.chars() {
                push_char(
                    &mut current.text,
                    &mut current.pattern,
                    &mut current.glob,
                    c,
                    seg.quoted,
                );
            }
            current.started = true;
        }
    }
    if current.started {
        fields.push(current);
    }
    fn push_char(text: &mut String, pattern: &mut String, glob: &mut bool, c: char, quoted: bool) {
        text.push(c);
        if matches!(c, '*' | '?' | '[' | '\\') {
            if quoted || c == '\\' {
                pattern.push('\\');
            } else {
                *glob = true;
            }
        }
        pattern.push(c);
    }
    let mut out = Vec::new();
    for field in fields {
        if field.glob {
            let absolute = ctx.path(&field.pattern);
            let prefix = if field.pattern.starts_with('/') {
                None
            } else {
                Some(format!("{}/", ctx.cwd.trim_end_matches('/')))
            };
            let matches = ctx
                .vm(|vm, _| vm.disk.fs.glob(&absolute))
                .unwrap_or_default();
            if !matches.is_empty() {
                for m in matches {
                    match &prefix {
                        Some(p) => out.push(m.strip_prefix(p.as_str()).unwrap_or(&m).to_owned()),
                        None => out.push(m),
                    }
                }
                continue;
            }
        }
        out.push(field.text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_removal() {
        assert_eq!(
            remove_pattern("/tmp/a.b.sh", ".*", Trim::SmallestSuffix),
            "/tmp/a.b"
        );
        assert_eq!(
            remove_pattern("/tmp/a.b.sh", ".*", Trim::LargestSuffix),
            "/tmp/a"
        );
        assert_eq!(
            remove_pattern("/tmp/a.b.sh", "*/", Trim::LargestPrefix),
            "a.b.sh"
        );
        assert_eq!(remove_pattern("abc", "x*", Trim::SmallestPrefix), "abc");
    }

    #[test]
    fn ansi_c_quotes() {
        assert_eq!(ansi_c_unescape("a\\nb\\t"), "a\nb\t");
    }
}
