//! `$(( ))` arithmetic over 64-bit integers with variable references and
//! assignments (arrays are not part of the subset).

use brush_parser::ast::{
    ArithmeticExpr, ArithmeticTarget, BinaryOperator, UnaryAssignmentOperator, UnaryOperator,
};

use crate::guest::exec::context::Ctx;

/// Evaluates an (already parameter-expanded) arithmetic expression.
pub fn evaluate(ctx: &mut Ctx, text: &str) -> Result<i64, String> {
    let expr = brush_parser::arithmetic::parse(text)
        .map_err(|_| format!("{text}: syntax error in expression"))?;
    eval(ctx, &expr)
}

fn target_name(target: &ArithmeticTarget) -> Result<&str, String> {
    match target {
        ArithmeticTarget::Variable(name) => Ok(name),
        ArithmeticTarget::ArrayElement(name, _) => Err(format!(
            "{name}: arrays are not supported by the simulated shell"
        )),
    }
}

fn read(ctx: &mut Ctx, name: &str) -> Result<i64, String> {
    let value = ctx.var(name).unwrap_or("0").trim().to_owned();
    if value.is_empty() {
        return Ok(0);
    }
    match value.parse::<i64>() {
        Ok(v) => Ok(v),
        Err(_) => evaluate(ctx, &value),
    }
}

fn binary(op: &BinaryOperator, a: i64, b: i64) -> Result<i64, String> {
    Ok(match op {
        BinaryOperator::Power => a
            .checked_pow(u32::try_from(b).map_err(|_| "exponent less than 0".to_owned())?)
            .unwrap_or(0),
        BinaryOperator::Multiply => a.wrapping_mul(b),
        BinaryOperator::Divide | BinaryOperator::Modulo if b == 0 => {
            return Err("division by 0 (error token is \"0\")".into());
        }
        BinaryOperator::Divide => a.wrapping_div(b),
        BinaryOperator::Modulo => a.wrapping_rem(b),
        BinaryOperator::Comma => b,
        BinaryOperator::Add => a.wrapping_add(b),
        BinaryOperator::Subtract => a.wrapping_sub(b),
        BinaryOperator::ShiftLeft => a.wrapping_shl(b as u32),
        BinaryOperator::ShiftRight => a.wrapping_shr(b as u32),
        BinaryOperator::LessThan => (a < b) as i64,
        BinaryOperator::LessThanOrEqualTo => (a <= b) as i64,
        BinaryOperator::GreaterThan => (a > b) as i64,
        BinaryOperator::GreaterThanOrEqualTo => (a >= b) as i64,
        BinaryOperator::Equals => (a == b) as i64,
        BinaryOperator::NotEquals => (a != b) as i64,
        BinaryOperator::BitwiseAnd => a & b,
        BinaryOperator::BitwiseXor => a ^ b,
        BinaryOperator::BitwiseOr => a | b,
        BinaryOperator::LogicalAnd => (a != 0 && b != 0) as i64,
        BinaryOperator::LogicalOr => (a != 0 || b != 0) as i64,
    })
}

fn eval(ctx: &mut Ctx, expr: &ArithmeticExpr) -> Result<i64, String> {
    match expr {
        ArithmeticExpr::Literal(v) => Ok(*v),
        ArithmeticExpr::Reference(target) => {
            let name = target_name(target)?.to_owned();
            read(ctx, &name)
        }
        ArithmeticExpr::UnaryOp(op, inner) => {
            let v = eval(ctx, inner)?;
            Ok(match op {
                UnaryOperator::UnaryPlus => v,
                UnaryOperator::UnaryMinus => v.wrapping_neg(),
                UnaryOperator::BitwiseNot => !v,
                UnaryOperator::LogicalNot => (v == 0) as i64,
            })
        }
        ArithmeticExpr::BinaryOp(BinaryOperator::LogicalAnd, a, b) => {
            Ok((eval(ctx, a)? != 0 && eval(ctx, b)? != 0) as i64)
        }
        ArithmeticExpr::BinaryOp(BinaryOperator::LogicalOr, a, b) => {
            Ok((eval(ctx, a)? != 0 || eval(ctx, b)? != 0) as i64)
        }
        ArithmeticExpr::BinaryOp(op, a, b) => {
            let a = eval(ctx, a)?;
            let b = eval(ctx, b)?;
            binary(op, a, b)
        }
        ArithmeticExpr::Conditional(c, a, b) => {
            if eval(ctx, c)? != 0 {
                eval(ctx, a)
            } else {
                eval(ctx, b)
            }
        }
        ArithmeticExpr::Assignment(target, value) => {
            let name = target_name(target)?.to_owned();
            let v = eval(ctx, value)?;
            ctx.set_var(&name, v.to_string());
            Ok(v)
        }
        ArithmeticExpr::BinaryAssignment(op, target, value) => {
            let name = target_name(target)?.to_owned();
            let current = read(ctx, &name)?;
            let rhs = eval(ctx, value)?;
            let v = binary(op, current, rhs)?;
            ctx.set_var(&name, v.to_string());
            Ok(v)
        }
        ArithmeticExpr::UnaryAssignment(op, target) => {
            let name = target_name(target)?.to_owned();
            let current = read(ctx, &name)?;
            let (new, result) = match op {
                UnaryAssignmentOperator::PrefixIncrement => (current + 1, current + 1),
                UnaryAssignmentOperator::PrefixDecrement => (current - 1, current - 1),
                UnaryAssignmentOperator::PostfixIncrement => (current + 1, current),
                UnaryAssignmentOperator::PostfixDecrement => (current - 1, current),
            };
            ctx.set_var(&name, new.to_string());
            Ok(result)
        }
    }
}
