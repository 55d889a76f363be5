//! What the shell interpreter and the simulated programs share, below both:
//! the execution context (`context`), text helpers (`text`) and `test`/`[`
//! evaluation (`test_expr`). Nothing here runs scripts; re-entry into the
//! interpreter goes through the `Interpreter` hooks a context carries.

pub mod context;
pub mod test_expr;
pub mod text;
