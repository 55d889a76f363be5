//! The guest shell: a bash-subset interpreter over `brush-parser`'s AST.
//! The state of a shell process (`Ctx`) and its streams (`Io`) live in
//! `guest::exec`, shared with the simulated programs. Evaluation is async so
//! simulated time (sleep, kubeadm) goes through the world's clock and
//! termination can interrupt it.
//!
//! Sub-modules, bottom-up: `parse` (parser adapter), `arith` (`$(( ))`),
//! `support` (`PATH` lookup, unsupported constructs), `expand` (word
//! expansion), `builtins`, `eval` (commands and control flow; runs programs
//! through `guest::commands`) and `entry` (the interpreter hooks and login
//! contexts). Word expansion and builtins reach `eval` only through the
//! hooks a context carries.

mod arith;
pub mod builtins;
pub mod entry;
pub mod eval;
pub mod expand;
pub mod parse;
pub mod support;

pub use entry::login;
pub use eval::run_source;
