//! `test` / `[ ... ]`: string, integer and file predicates over the guest filesystem.

use brush_parser::ast::{BinaryPredicate, TestExpr, UnaryPredicate};

use super::context::Ctx;

/// Evaluates `test` arguments (without the closing `]`): Ok(true/false) or a usage error.
pub fn evaluate(ctx: &Ctx, args: &[String]) -> Result<bool, String> {
    let expr = brush_parser::test_command::parse(args).map_err(|_| {
        let shown = args.first().map(String::as_str).unwrap_or_default();
        format!("{shown}: unary operator expected")
    })?;
    eval(ctx, &expr)
}

fn int(text: &str) -> Result<i64, String> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| format!("{text}: integer expression expected"))
}

fn eval(ctx: &Ctx, expr: &TestExpr) -> Result<bool, String> {
    Ok(match expr {
        TestExpr::False => false,
        TestExpr::Literal(s) => !s.is_empty(),
        TestExpr::And(a, b) => eval(ctx, a)? && eval(ctx, b)?,
        TestExpr::Or(a, b) => eval(ctx, a)? || eval(ctx, b)?,
        TestExpr::Not(a) => !eval(ctx, a)?,
        TestExpr::Parenthesized(a) => eval(ctx, a)?,
        TestExpr::UnaryTest(pred, operand) => unary(ctx, pred, operand)?,
        TestExpr::BinaryTest(pred, left, right) => match pred {
            BinaryPredicate::StringExactlyMatchesString
            | BinaryPredicate::StringExactlyMatchesPattern => left == right,
            BinaryPredicate::StringDoesNotExactlyMatchString
            | BinaryPredicate::StringDoesNotExactlyMatchPattern => left != right,
            BinaryPredicate::LeftSortsBeforeRight => left < right,
            BinaryPredicate::LeftSortsAfterRight => left > right,
            BinaryPredicate::ArithmeticEqualTo => int(left)? == int(right)?,
            BinaryPredicate::ArithmeticNotEqualTo => int(left)? != int(right)?,
            BinaryPredicate::ArithmeticLessThan => int(left)? < int(right)?,
            BinaryPredicate::ArithmeticLessThanOrEqualTo => int(left)? <= int(right)?,
            BinaryPredicate::ArithmeticGreaterThan => int(left)? > int(right)?,
            BinaryPredicate::ArithmeticGreaterThanOrEqualTo => int(left)? >= int(right)?,
            other => {
                return Err(format!(
                    "{other:?}: test operator not supported by the simulated shell"
                ));
            }
        },
    })
}

fn unary(ctx: &Ctx, pred: &UnaryPredicate, operand: &str) -> Result<bool, String> {
    let path = ctx.path(operand);
    let node = || {
        ctx.vm(|vm, _| vm.disk.fs.get(&path).cloned())
            .ok()
            .flatten()
    };
    Ok(match pred {
        UnaryPredicate::StringHasZeroLength => operand.is_empty(),
        UnaryPredicate::StringHasNonZeroLength => !operand.is_empty(),
        UnaryPredicate::FileExists => node().is_some(),
        UnaryPredicate::FileExistsAndIsDir => node().is_some_and(|n| n.is_dir()),
        UnaryPredicate::FileExistsAndIsRegularFile => node().is_some_and(|n| !n.is_dir()),
        UnaryPredicate::FileExistsAndIsNotZeroLength => {
            node().is_some_and(|n| n.data().is_none_or(|d| !d.is_empty()))
        }
        UnaryPredicate::FileExistsAndIsExecutable => {
            node().is_some_and(|n| n.is_executable_by(ctx.uid))
        }
        UnaryPredicate::FileExistsAndIsReadable | UnaryPredicate::FileExistsAndIsWritable => {
            node().is_some_and(|n| ctx.uid == 0 || n.uid == ctx.uid)
        }
        UnaryPredicate::FileExistsAndIsSymlink => false,
        UnaryPredicate::ShellVariableIsSetAndAssigned => ctx.var(operand).is_some(),
        other => {
            return Err(format!(
                "{other:?}: test operator not supported by the simulated shell"
            ));
        }
    })
}
