//! The guest model: simulated Linux guests that run CSE's bootstrap scripts
//! for real (in a bash-subset interpreter over an in-memory filesystem, with
//! packages, services, accounts, processes, a small internet and cross-VM
//! Kubernetes state), driven by the vCD side (`GuestLifecycle`) and served to
//! the vCenter SOAP layer (`GuestOps`). Nothing runs on the host.
//!
//! Entry point: [`GuestWorld`] (`world`), built from a [`GuestConfig`].
//!
//! Model decisions (where the facts are silent):
//! - Guest customization order: script `precustomization`, computer name,
//!   script `postcustomization`, then the admin password. The original
//!   `init-photon-v2.sh` sets root's password with `passwd` in both phases, and
//!   CSE then logs in with vCD's generated password, so vCD's password must
//!   win. The script is stored at `/var/run/vmware-imc/customize.sh` and run
//!   as root from `/root`; its output is kept in the VM's customization record.
//! - Executables are files: a package install writes simulated binaries into
//!   the filesystem, and a command exists only when `PATH` finds one (so no
//!   `kubeadm` before its package is installed). Scripts run through their
//!   shebang.
//! - Pipelines run their stages one after the other with buffered pipes
//!   (scripts use finite producers); every stage is a subshell.
//! - On an instant clock, work that needs no simulated time completes inside
//!   `start_program`/`power_on`; anything else (hang faults, endless loops)
//!   continues on the tokio runtime until it ends or is terminated.
//! - `kubeadm init` needs root, an active docker, kubelet, and the
//!   control-plane images already pulled (1.10 behaviour with no image
//!   pulls); `kubeadm join` fails after the discovery timeout for a wrong or
//!   expired token or an unreachable master. Tokens come from the seeded RNG.
//! - Nodes are Ready when their VM is up, their kubelet runs and the Weave Net
//!   DaemonSet has been applied.

pub(crate) mod catalog;
pub(crate) mod commands;
pub mod config;
pub mod disk;
pub mod faults;
pub mod fs;
pub mod images;
pub(crate) mod internet;
pub mod k8s;
pub mod lifecycle;
pub mod ops;
pub mod process;
pub(crate) mod shell;
pub mod users;
pub mod vm;
pub mod world;

pub use config::{GuestConfig, GuestTimings};
pub use faults::{FaultScope, GuestFaultKind, GuestFaultRule, GuestFaults};
pub use world::{GuestWorld, NodeStatus};
