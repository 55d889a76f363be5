//! Keeps an operation's lease alive: writes `cse.op.lease` now and every
//! third of `timeouts.lease_ttl` until the keeper is dropped, so another
//! replica (or this server after a restart) takes an operation over only when
//! its holder has really gone.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::journal::{Lease, write_lease};
use crate::vcd::{Client, VcdError};

/// Renews a lease in the background; dropping it stops the renewals.
#[derive(Debug)]
pub struct LeaseKeeper {
    stop: CancellationToken,
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl LeaseKeeper {
    /// Takes the lease on `vapp_href` for `owner` and keeps renewing it.
    pub async fn start(
        admin: Client,
        vapp_href: String,
        owner: String,
        ttl: Duration,
    ) -> Result<Self, VcdError> {
        write_lease(&admin, &vapp_href, &Lease::new(&owner, ttl)).await?;
        let stop = CancellationToken::new();
        let token = stop.clone();
        let every = (ttl / 3).max(Duration::from_millis(50));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = token.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
                if let Err(error) = write_lease(&admin, &vapp_href, &Lease::new(&owner, ttl)).await
                {
                    tracing::warn!(vapp = %vapp_href, "cannot renew the operation lease: {error}");
                }
            }
        });
        Ok(LeaseKeeper { stop })
    }
}
