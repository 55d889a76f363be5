//! Entry points into the interpreter for the layers above it (boot
//! customization, guest operations, test helpers): the [`INTERPRETER`] hooks
//! every context carries and [`login`], which builds a context that runs its
//! scripts here.

use super::eval;
use crate::guest::exec::context::{BoxFut, Ctx, Flow, Interpreter, Io};
use crate::guest::vm::Vm;
use crate::guest::world::GuestWorld;

fn run_source<'a>(ctx: &'a mut Ctx, source: &'a str, io: &'a Io) -> BoxFut<'a, i32> {
    Box::pin(eval::run_source(ctx, source, io))
}

fn run_external<'a>(ctx: &'a mut Ctx, argv: Vec<String>, io: &'a Io) -> BoxFut<'a, Flow> {
    eval::run_external(ctx, argv, io)
}

/// The hooks through which programs and word expansion re-enter this shell.
pub static INTERPRETER: Interpreter = Interpreter {
    run_source,
    run_program: eval::run_program,
    run_external,
};

/// A login-like context for `user` on `vm` whose scripts run in this shell
/// (`cwd` defaults to the home, `env` to the guest default environment);
/// `None` when the account does not exist.
pub fn login(
    world: GuestWorld,
    vm: &Vm,
    user: &str,
    cwd: Option<String>,
    env: Option<&[String]>,
) -> Option<Ctx> {
    Ctx::for_user(world, vm, user, cwd, env, &INTERPRETER)
}
