//! Simulated programs. An installed executable names the program it runs;
//! `run` dispatches to its implementation. Sub-modules group programs by
//! package: coreutils, text filters, accounts, systemd, packages, docker,
//! kubeadm, kubectl, network, NFS and small system tools.

pub mod accounts;
pub mod coreutils;
pub mod dispatch;
pub mod docker;
pub mod kubeadm;
pub mod kubectl;
pub mod net;
pub mod nfs;
pub mod pkg;
pub mod system;
pub mod systemd;
pub mod text;

pub use dispatch::run;
