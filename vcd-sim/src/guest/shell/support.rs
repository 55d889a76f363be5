//! What the evaluator and the builtins share below both: finding a command
//! through `PATH` (`resolve`, also used by `type`/`command -v`) and the error
//! for constructs outside the supported subset.

use crate::guest::exec::context::{Control, Ctx, Flow, Io};
use crate::guest::fs;

/// Reports a construct outside the supported subset and stops the script.
pub fn unsupported_exit(ctx: &Ctx, io: &Io, what: &str) -> Control {
    ctx.err(
        io,
        format!(
            "{}: line {}: {what}: not supported by the simulated shell\n",
            ctx.arg0, ctx.line
        ),
    );
    Control::Exit(2)
}

/// [`unsupported_exit`] as a `Flow`.
pub fn unsupported(ctx: &Ctx, io: &Io, what: &str) -> Flow {
    Err(unsupported_exit(ctx, io, what))
}

/// Finds `name` through `PATH` (or as a path when it holds a slash).
pub fn resolve(ctx: &Ctx, name: &str) -> Result<String, (i32, String)> {
    if name.contains('/') {
        let path = ctx.path(name);
        return ctx
            .vm(|vm, _| match vm.disk.fs.get(&path) {
                None => Err((127, format!("{name}: No such file or directory"))),
                Some(node) if node.is_dir() => Err((126, format!("{name}: Is a directory"))),
                Some(node) if !node.is_executable_by(ctx.uid) => {
                    Err((126, format!("{name}: Permission denied")))
                }
                Some(_) => Ok(path.clone()),
            })
            .unwrap_or_else(|_| Err((137, String::new())));
    }
    let path_var = ctx.var("PATH").unwrap_or("").to_owned();
    ctx.vm(|vm, _| {
        for dir in path_var.split(':').filter(|d| !d.is_empty()) {
            let candidate = fs::normalize(dir, name);
            if let Some(node) = vm.disk.fs.get(&candidate)
                && !node.is_dir()
                && node.is_executable_by(ctx.uid)
            {
                return Ok(candidate);
            }
        }
        Err((127, format!("{name}: command not found")))
    })
    .unwrap_or_else(|_| Err((137, String::new())))
}
