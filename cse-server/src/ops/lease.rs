//! Keeps an operation's lease alive: writes `cse.op.lease` now and every
//! third of `timeouts.lease_ttl` until the keeper is dropped, so another
//! replica (or this server after a restart) takes an operation over only when
//! its holder has really gone.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::journal::{Lease, read_lease, write_lease};
use crate::context::Context;
use crate::coordination::{HeldLeases, VappGates};
use cse_vcd::vcd::{Client, VcdError};

/// Renews a lease in the background; dropping it stops the renewals.
#[derive(Debug)]
pub struct LeaseKeeper {
    stop: CancellationToken,
    held: HeldLeases,
    vapp_href: String,
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.stop.cancel();
        self.held.remove(&self.vapp_href);
    }
}

/// What taking a lease needs from the server process.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// This process's identity in leases.
    pub owner: String,
    /// Life of a lease (`timeouts.lease_ttl`).
    pub ttl: Duration,
    /// Leases this process keeps.
    pub held: HeldLeases,
    /// One call at a time per vApp.
    pub gates: VappGates,
}

/// Why a lease could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// vCD refused or failed the metadata write or read.
    #[error(transparent)]
    Vcd(#[from] VcdError),
    /// Another server wrote its lease at the same time and kept it.
    #[error("another CSE server ({owner}) took the cluster's operation lease at the same time")]
    HeldElsewhere {
        /// The other server's owner id.
        owner: String,
    },
}

impl LeaseKeeper {
    /// Takes the lease on `vapp_href` and keeps renewing it (each write in the
    /// vApp's gate, so a renewal never overlaps the operation's own calls);
    /// `settings.held` knows about it until the keeper is dropped. The lease is
    /// read back after the first write: when another server wrote its own at the
    /// same moment and won, this one backs off with [`LeaseError::HeldElsewhere`].
    pub async fn start(
        admin: Client,
        vapp_href: String,
        settings: &LeaseSettings,
    ) -> Result<Self, LeaseError> {
        let LeaseSettings {
            owner,
            ttl,
            held,
            gates,
        } = settings.clone();
        held.add(&vapp_href);
        let keeper = LeaseKeeper {
            stop: CancellationToken::new(),
            held: held.clone(),
            vapp_href: vapp_href.clone(),
        };
        write_lease(&admin, &gates, &vapp_href, &Lease::new(&owner, ttl)).await?;
        match read_lease(&admin, &vapp_href).await? {
            Some(lease) if lease.owner != owner => {
                return Err(LeaseError::HeldElsewhere { owner: lease.owner });
            }
            _ => {}
        }
        let token = keeper.stop.clone();
        let every = (ttl / 3).max(Duration::from_millis(50));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = token.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
                let lease = Lease::new(&owner, ttl);
                let renewal = write_lease(&admin, &gates, &vapp_href, &lease);
                tokio::select! {
                    () = token.cancelled() => return,
                    result = renewal => if let Err(error) = result {
                        tracing::warn!(vapp = %vapp_href, "cannot renew the operation lease: {error}");
                    }
                }
            }
        });
        Ok(keeper)
    }
}

/// The lease settings of the server process `ctx`.
pub fn settings(ctx: &Context) -> LeaseSettings {
    LeaseSettings {
        owner: ctx.owner_id.clone(),
        ttl: ctx.config.timeouts.lease_ttl.duration(),
        held: ctx.held_leases.clone(),
        gates: ctx.vapp_gates.clone(),
    }
}
