//! Operation leases in vApp metadata (`cse.op.lease`), taken with a
//! conditional write and kept alive while the operation runs, so that one
//! server at a time works on a cluster and another replica (or this server
//! after a restart) takes an operation over only when its holder has gone.
//!
//! vCD's metadata API has no compare-and-set (no `ETag`/`If-Match` on the
//! metadata operations, and every write is an asynchronous vApp task), so a
//! lease is *claimed* with Fischer's timed mutual exclusion:
//!
//! 1. read the lease; another server's live lease means "busy", stop;
//! 2. write our own lease; if read and write together took longer than
//!    [`LeaseTiming::write_bound`], back off (a late write may have landed
//!    after a competitor's check, so it proves nothing);
//! 3. wait [`LeaseTiming::settle`] (longer than the write bound), then read
//!    the lease back: ours means every competitor that saw the lease free
//!    has written by now and been overwritten by us, so it reads back ours
//!    and backs off. Another owner means we lost.
//!
//! The holder renews the lease every third of `lease_ttl`. A renewal that
//! comes so late that the lease may already look lapsed to others goes
//! through the same claim; when the lease turned out to be another
//! server's, this process marks the vApp as lost: the operation stops
//! journaling and leaves the vApp and the task to the new holder.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::metadata::{Lease, read_lease};
use crate::context::Context;
use crate::coordination::{HeldLeases, VappGates};
use cse_vcd::vcd::{Client, VcdError};

/// The clock of the lease protocol, derived from `timeouts.lease_ttl` and
/// `timeouts.lease_claim_settle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTiming {
    /// Life of a lease.
    pub ttl: Duration,
    /// Pause between renewals (a third of the life).
    pub renew_every: Duration,
    /// Wait between writing a claim and reading it back
    /// (`lease_claim_settle`, at most an eighth of the life).
    pub settle: Duration,
    /// Longest read-then-write of a claim that still counts (three quarters of `settle`).
    pub write_bound: Duration,
}

impl LeaseTiming {
    /// The timing for a lease life of `ttl` and a claim settle of at most
    /// `settle_cap`. Fischer's claim needs only `settle` longer than the
    /// write bound, which is what vCD needs to write metadata, not a share
    /// of the lease's life: the cap keeps a long lease from making every
    /// operation wait long.
    pub fn of(ttl: Duration, settle_cap: Duration) -> Self {
        let settle = (ttl / 8).min(settle_cap).max(Duration::from_millis(20));
        LeaseTiming {
            ttl,
            renew_every: (ttl / 3).max(Duration::from_millis(50)),
            settle,
            write_bound: settle * 3 / 4,
        }
    }
}

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
    /// Longest claim settle (`timeouts.lease_claim_settle`).
    pub settle_cap: Duration,
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
    /// Another server holds the lease, or took it at the same time and kept it.
    #[error("another CSE server ({owner}) holds the cluster's operation lease")]
    HeldElsewhere {
        /// The other server's owner id.
        owner: String,
    },
    /// vCD refused the claim's write because another write on the vApp
    /// was running (`BUSY_ENTITY`): someone else claims at the same moment.
    #[error("another CSE server is writing the cluster's operation lease at the same time")]
    Contended,
    /// The claim's write came back too late to prove anything; the lease is
    /// left to lapse.
    #[error(
        "writing the operation lease took {took:?}, longer than {bound:?}; backing off (raise timeouts.lease_claim_settle on a slow vCD)"
    )]
    Slow {
        /// How long the read and the write took.
        took: Duration,
        /// The bound (¾ of the claim settle).
        bound: Duration,
    },
}

/// What a claim is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// A new operation on a cluster without a journal. A late write is
    /// checked once more after twice the settle time: a competitor that
    /// claimed before it landed has written its journal by then.
    Fresh,
    /// Taking over (or renewing) an operation with a journal: a late write
    /// backs off and the lease is left to lapse.
    Journaled,
    /// The first lease of a vApp this operation has just composed, written
    /// before the vApp carries its `cse.cluster.id`. Until then no query of
    /// another server finds it as a cluster (cluster lookups and resume
    /// passes filter on that entry), so nobody can be claiming it: the lease
    /// is written without the read and the settle.
    New,
}

/// Claims the lease on `vapp_href` for `owner` (see the module documentation).
/// A lapsed lease of anyone, or a lease of `owner` itself, may be replaced.
pub async fn claim(
    admin: &Client,
    gates: &VappGates,
    vapp_href: &str,
    owner: &str,
    timing: LeaseTiming,
    kind: ClaimKind,
) -> Result<(), LeaseError> {
    if kind == ClaimKind::New {
        let _turn = gates.enter(vapp_href).await;
        let answer = admin
            .put_doc(
                &super::metadata::key_href(vapp_href, cse_core::naming::METADATA_OP_LEASE),
                &cse_core::vcd::MetadataValue::string(&Lease::new(owner, timing.ttl).render()),
            )
            .await?;
        admin.wait_for_answer(&answer).await?;
        return Ok(());
    }
    let started = Instant::now();
    if let Some(lease) = read_lease(admin, vapp_href).await?
        && lease.owner != owner
        && !lease.expired()
    {
        return Err(LeaseError::HeldElsewhere { owner: lease.owner });
    }
    // Sent once: a write retried after a BUSY_ENTITY would land late and
    // overwrite a competitor that has already won.
    {
        let _turn = gates.enter(vapp_href).await;
        let answer = admin
            .put_doc_once(
                &super::metadata::key_href(vapp_href, cse_core::naming::METADATA_OP_LEASE),
                &cse_core::vcd::MetadataValue::string(&Lease::new(owner, timing.ttl).render()),
            )
            .await
            .map_err(|error| {
                if error.is_busy() {
                    LeaseError::Contended
                } else {
                    LeaseError::Vcd(error)
                }
            })?;
        admin.wait_for_answer(&answer).await?;
    }
    let took = started.elapsed();
    if took > timing.write_bound {
        if kind == ClaimKind::Journaled {
            return Err(LeaseError::Slow {
                took,
                bound: timing.write_bound,
            });
        }
        tokio::time::sleep(timing.settle * 2).await;
        return match super::metadata::read_metadata(admin, vapp_href).await? {
            (None, Some(lease)) if lease.owner == owner => Ok(()),
            (None, _) => Err(LeaseError::Slow {
                took,
                bound: timing.write_bound,
            }),
            (Some(_), lease) => Err(LeaseError::HeldElsewhere {
                owner: lease.map_or_else(|| "unknown".to_owned(), |l| l.owner),
            }),
        };
    }
    tokio::time::sleep(timing.settle).await;
    match read_lease(admin, vapp_href).await? {
        Some(lease) if lease.owner == owner => Ok(()),
        Some(lease) => Err(LeaseError::HeldElsewhere { owner: lease.owner }),
        None => Err(LeaseError::HeldElsewhere {
            owner: "none: the lease was removed".to_owned(),
        }),
    }
}

impl LeaseKeeper {
    /// Claims the lease on `vapp_href` ([`claim`], `kind`) and keeps renewing it
    /// (each write in the vApp's gate, so a renewal never overlaps the
    /// operation's own calls); `settings.held` knows about it until the
    /// keeper is dropped.
    pub async fn start(
        admin: Client,
        vapp_href: String,
        settings: &LeaseSettings,
        kind: ClaimKind,
    ) -> Result<Self, LeaseError> {
        let LeaseSettings {
            owner,
            ttl,
            settle_cap,
            held,
            gates,
        } = settings.clone();
        let timing = LeaseTiming::of(ttl, settle_cap);
        held.add(&vapp_href);
        let keeper = LeaseKeeper {
            stop: CancellationToken::new(),
            held: held.clone(),
            vapp_href: vapp_href.clone(),
        };
        // A new operation tries again while the vApp is busy with another
        // write (each try reads first, so it is a claim of its own).
        let mut pause = Duration::from_millis(100);
        for attempt in 1.. {
            match claim(&admin, &gates, &vapp_href, &owner, timing, kind).await {
                Err(LeaseError::Contended) if kind == ClaimKind::Fresh && attempt < 8 => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                result => {
                    result?;
                    break;
                }
            }
        }
        let token = keeper.stop.clone();
        held.add_renewals(&vapp_href, token.clone());
        // Until this instant others see the lease as live.
        let mut live_until = Instant::now() + timing.ttl - timing.settle;
        held.set_live_until(&vapp_href, live_until);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = token.cancelled() => return,
                    () = tokio::time::sleep(timing.renew_every) => {}
                }
                // Not abandoned half-way: a renewal that has started holds
                // the vApp's gate until vCD has written it, and one that
                // enters the gate after the keeper stopped writes nothing, so
                // removing the lease (in the gate) is never undone.
                match renew(
                    &admin, &gates, &vapp_href, &owner, timing, live_until, &token,
                )
                .await
                {
                    Ok(until) => {
                        live_until = until;
                        held.set_live_until(&vapp_href, until);
                    }
                    Err(LeaseError::HeldElsewhere { owner: other }) => {
                        tracing::error!(vapp = %vapp_href, other = %other, "the operation lease was taken over by another server; this server stops working on the cluster");
                        held.mark_lost(&vapp_href);
                        return;
                    }
                    // The vApp is gone (a rollback or a delete removed it).
                    Err(LeaseError::Vcd(error)) if error.is_not_found() => return,
                    Err(error) => {
                        tracing::warn!(vapp = %vapp_href, "cannot renew the operation lease: {error}");
                    }
                }
            }
        });
        Ok(keeper)
    }
}

/// Writes a renewal in the vApp's gate unless the keeper stopped meanwhile.
async fn write_renewal(
    admin: &Client,
    gates: &VappGates,
    vapp_href: &str,
    owner: &str,
    ttl: Duration,
    stop: &CancellationToken,
) -> Result<bool, VcdError> {
    let _turn = gates.enter(vapp_href).await;
    if stop.is_cancelled() {
        return Ok(false);
    }
    let answer = admin
        .put_doc(
            &super::metadata::key_href(vapp_href, cse_core::naming::METADATA_OP_LEASE),
            &cse_core::vcd::MetadataValue::string(&Lease::new(owner, ttl).render()),
        )
        .await?;
    admin.wait_for_answer(&answer).await?;
    Ok(true)
}

/// One renewal: a plain write while the lease is surely live, a claim when
/// it may already look lapsed to others. Returns until when it is live.
async fn renew(
    admin: &Client,
    gates: &VappGates,
    vapp_href: &str,
    owner: &str,
    timing: LeaseTiming,
    live_until: Instant,
    stop: &CancellationToken,
) -> Result<Instant, LeaseError> {
    let started = Instant::now();
    if started + timing.write_bound < live_until {
        if !write_renewal(admin, gates, vapp_href, owner, timing.ttl, stop).await? {
            return Ok(live_until);
        }
        if Instant::now() < live_until {
            return Ok(started + timing.ttl - timing.settle);
        }
        // The write came late: make sure nobody took the lease meanwhile.
        return match read_lease(admin, vapp_href).await? {
            Some(lease) if lease.owner == owner => Ok(started + timing.ttl - timing.settle),
            Some(lease) => Err(LeaseError::HeldElsewhere { owner: lease.owner }),
            None => Err(LeaseError::HeldElsewhere {
                owner: "none: the lease was removed".to_owned(),
            }),
        };
    }
    if stop.is_cancelled() {
        return Ok(live_until);
    }
    claim(admin, gates, vapp_href, owner, timing, ClaimKind::Journaled).await?;
    Ok(started + timing.ttl - timing.settle)
}

/// Before a step with effects on vCD or a guest: makes sure this process
/// still holds the lease on `vapp_href`. A process frozen (SIGSTOP, a paused
/// VM) or starved past its lease's life may have been taken over while it
/// slept, and its renewals notice only when they next run. While the lease
/// surely looks live to others this costs nothing; past that, vApp metadata
/// is read ([`still_ours`]): an operation taken over is marked lost; one
/// still ours claims its lease again (write, settle, read back), so a resume
/// pass that found it lapsed and claims at the same moment loses before the
/// step starts. A claim whose write came back later than the bound looks
/// again after twice the settle and keeps going when the lease is still its
/// own. A request already sent before the freeze is not recalled: vCD runs
/// it, and the server that took over finds its effect (a VM, a busy vApp)
/// as after a crash.
///
/// `own_journal` is the href of this operation's task once its journal is
/// written, `None` before.
pub async fn fence(
    admin: &Client,
    settings: &LeaseSettings,
    vapp_href: &str,
    own_journal: Option<&str>,
) -> Result<(), LeaseError> {
    let held = &settings.held;
    let lost = |owner: String| {
        held.mark_lost(vapp_href);
        Err(LeaseError::HeldElsewhere { owner })
    };
    if held.is_lost(vapp_href) {
        return lost("another server".to_owned());
    }
    let Some(until) = held.live_until(vapp_href) else {
        return Ok(());
    };
    let timing = LeaseTiming::of(settings.ttl, settings.settle_cap);
    let started = Instant::now();
    if started + timing.write_bound < until {
        return Ok(());
    }
    let (journal, lease) = super::metadata::read_metadata(admin, vapp_href).await?;
    if let Err(owner) = still_ours(&settings.owner, own_journal, journal.as_deref(), lease) {
        return lost(owner);
    }
    match claim(
        admin,
        &settings.gates,
        vapp_href,
        &settings.owner,
        timing,
        ClaimKind::Journaled,
    )
    .await
    {
        Ok(()) => {}
        Err(LeaseError::HeldElsewhere { owner }) => return lost(owner),
        // A write slower than the bound proves nothing either way: as for a
        // new operation, look once more when a competitor that won would
        // have written its own lease over it.
        Err(LeaseError::Slow { .. }) => {
            tokio::time::sleep(timing.settle * 2).await;
            let (journal, lease) = super::metadata::read_metadata(admin, vapp_href).await?;
            if let Err(owner) = still_ours(&settings.owner, own_journal, journal.as_deref(), lease)
            {
                return lost(owner);
            }
        }
        Err(other) => return Err(other),
    }
    held.set_live_until(vapp_href, started + timing.ttl - timing.settle);
    Ok(())
}

/// Whether vApp metadata (`journal` text, `lease`) still shows the operation
/// of `owner` whose journal names the task `own_journal` (`None`: not
/// written yet); otherwise the owner to report. A lease of another server
/// means a takeover. No lease means one of two things: a resume pass removed
/// it as stale (it had lapsed and no journal was there yet, or the journal
/// is still ours): nobody else acts, and the operation claims it again; or
/// another server took over and finished (its journal gone or another's).
fn still_ours(
    owner: &str,
    own_journal: Option<&str>,
    journal: Option<&str>,
    lease: Option<Lease>,
) -> Result<(), String> {
    match lease {
        Some(lease) if lease.owner == owner => Ok(()),
        Some(lease) => Err(lease.owner),
        None => {
            let journal_task = journal
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
                .and_then(|value| value["task"]["href"].as_str().map(str::to_owned));
            let ours = match (own_journal, journal) {
                (None, None) => true,
                (Some(task), Some(_)) => journal_task.as_deref() == Some(task),
                _ => false,
            };
            if ours {
                Ok(())
            } else {
                Err("none: the lease was removed".to_owned())
            }
        }
    }
}

/// The lease timing of the configuration `timeouts`.
pub fn timing(timeouts: &cse_core::config::Timeouts) -> LeaseTiming {
    LeaseTiming::of(
        timeouts.lease_ttl.duration(),
        timeouts.lease_claim_settle.duration(),
    )
}

/// The lease settings of the server process `ctx`.
pub fn settings(ctx: &Context) -> LeaseSettings {
    LeaseSettings {
        owner: ctx.owner_id.clone(),
        ttl: ctx.config.timeouts.lease_ttl.duration(),
        settle_cap: ctx.config.timeouts.lease_claim_settle.duration(),
        held: ctx.held_leases.clone(),
        gates: ctx.vapp_gates.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_follows_the_lease_life() {
        let t = LeaseTiming::of(Duration::from_secs(40), Duration::from_secs(60));
        assert_eq!(t.renew_every, Duration::from_secs(40) / 3);
        assert_eq!(t.settle, Duration::from_secs(5));
        assert_eq!(t.write_bound, Duration::from_millis(3_750));
        assert!(t.write_bound < t.settle);
        let tiny = LeaseTiming::of(Duration::from_millis(80), Duration::from_secs(2));
        assert_eq!(tiny.settle, Duration::from_millis(20));
        assert_eq!(tiny.renew_every, Duration::from_millis(50));
    }

    #[test]
    fn a_removed_lease_is_still_ours_only_while_our_journal_stands() {
        let journal = r#"{"task":{"href":"https://vcd/api/task/1"}}"#;
        let other = r#"{"task":{"href":"https://vcd/api/task/2"}}"#;
        let ours = Some(Lease::new("me", Duration::from_secs(5)));
        let theirs = Some(Lease::new("them", Duration::from_secs(5)));
        let task = Some("https://vcd/api/task/1");
        assert_eq!(still_ours("me", task, Some(journal), ours.clone()), Ok(()));
        assert_eq!(
            still_ours("me", task, Some(journal), theirs),
            Err("them".to_owned())
        );
        // Removed as stale: before our first journal, or with ours standing.
        assert_eq!(still_ours("me", None, None, None), Ok(()));
        assert_eq!(still_ours("me", task, Some(journal), None), Ok(()));
        // Taken over and finished: the journal gone or another's.
        assert!(still_ours("me", task, None, None).is_err());
        assert!(still_ours("me", task, Some(other), None).is_err());
        assert!(still_ours("me", None, Some(other), None).is_err());
    }

    #[test]
    fn the_claim_settle_is_capped_by_its_own_key_not_the_lease_life() {
        let defaults = timing(&cse_core::config::Timeouts::default());
        assert_eq!(defaults.ttl, Duration::from_secs(36));
        assert_eq!(defaults.settle, Duration::from_secs(2));
        assert_eq!(defaults.write_bound, Duration::from_millis(1_500));
        let long = LeaseTiming::of(Duration::from_secs(600), Duration::from_secs(2));
        assert_eq!(long.settle, Duration::from_secs(2));
        assert_eq!(long.renew_every, Duration::from_secs(200));
    }
}
